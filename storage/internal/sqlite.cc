#include "storage/internal/sqlite.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_format.h"

namespace chorus {
namespace {

absl::StatusCode CodeFor(int sqlite_code) {
  switch (sqlite_code & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status ErrorOn(sqlite3* db, int code, absl::string_view path) {
  return absl::Status(CodeFor(code), absl::StrFormat("%s: %s", path, sqlite3_errmsg(db)));
}

}  // namespace

SqliteStatement::SqliteStatement(sqlite3_stmt* statement, std::string path)
    : statement_(statement), path_(std::move(path)) {}

void SqliteStatement::Finalizer::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

absl::StatusOr<bool> SqliteStatement::Step() {
  const int code = sqlite3_step(statement_.get());
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return Error(code);
}

absl::Status SqliteStatement::ForEachRow(
    absl::FunctionRef<void(const SqliteStatement& row)> on_row) {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok() || !*row) {
      Reset();
      return row.status();
    }
    on_row(*this);
  }
}

absl::Status SqliteStatement::Run() {
  return ForEachRow([](const SqliteStatement&) {});
}

void SqliteStatement::Reset() {
  // sqlite3_reset repeats the last step's error, which Step has already reported.
  sqlite3_reset(statement_.get());
}

int64_t SqliteStatement::Int(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

absl::string_view SqliteStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(statement_.get(), column);
  if (text == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(text),
                           sqlite3_column_bytes(statement_.get(), column));
}

absl::string_view SqliteStatement::Blob(int column) const {
  const void* blob = sqlite3_column_blob(statement_.get(), column);
  if (blob == nullptr) return {};  // an empty blob
  return absl::string_view(static_cast<const char*>(blob),
                           sqlite3_column_bytes(statement_.get(), column));
}

absl::Status SqliteStatement::BindAt(int index, int64_t value) {
  const int code = sqlite3_bind_int64(statement_.get(), index, value);
  return code == SQLITE_OK ? absl::OkStatus() : Error(code);
}

absl::Status SqliteStatement::BindAt(int index, absl::string_view value) {
  const int code = sqlite3_bind_text64(statement_.get(), index, value.data(), value.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
  return code == SQLITE_OK ? absl::OkStatus() : Error(code);
}

absl::Status SqliteStatement::BindAt(int index, SqliteBlob value) {
  const int code = sqlite3_bind_blob64(statement_.get(), index, value.bytes.data(),
                                       value.bytes.size(), SQLITE_TRANSIENT);
  return code == SQLITE_OK ? absl::OkStatus() : Error(code);
}

absl::Status SqliteStatement::Error(int code) const {
  return ErrorOn(sqlite3_db_handle(statement_.get()), code, path_);
}

void SqliteConnection::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

SqliteConnection::SqliteConnection(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)) {}

absl::StatusOr<SqliteConnection> SqliteConnection::Open(const std::string& path, SqliteMode mode,
                                                        absl::Duration busy_timeout) {
  const int flags = SQLITE_OPEN_NOMUTEX | (mode == SqliteMode::kReadOnly
                                               ? SQLITE_OPEN_READONLY
                                               : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // Even a failed open may allocate a handle, which the connection then closes.
  SqliteConnection connection(db, path);
  if (code != SQLITE_OK) {
    if (db == nullptr) {
      return absl::ResourceExhaustedError(absl::StrFormat("%s: out of memory", path));
    }
    return ErrorOn(db, code, path);
  }
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  return connection;
}

absl::StatusOr<SqliteStatement> SqliteConnection::Prepare(absl::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  const int code = sqlite3_prepare_v3(db_.get(), sql.data(), sql.size(), SQLITE_PREPARE_PERSISTENT,
                                      &statement, nullptr);
  if (code != SQLITE_OK) return ErrorOn(db_.get(), code, path_);
  return SqliteStatement(statement, path_);
}

absl::Status SqliteConnection::Exec(const char* sql) {
  const int code = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  return code == SQLITE_OK ? absl::OkStatus() : ErrorOn(db_.get(), code, path_);
}

bool SqliteConnection::InTransaction() const { return !sqlite3_get_autocommit(db_.get()); }

std::optional<uint32_t> SqliteConnection::DataVersion() const {
  unsigned int version = 0;
  if (sqlite3_file_control(db_.get(), "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK) {
    return std::nullopt;
  }
  return version;
}

}  // namespace chorus
