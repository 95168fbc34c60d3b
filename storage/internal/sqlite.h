// Thin RAII wrappers over the SQLite C API, for the SQLite EventStore: a connection and the
// statements prepared on it. Every failure is an absl::Status whose message names the file
// and quotes SQLite.
//
//   CHORUS_ASSIGN_OR_RETURN(SqliteConnection db,
//                           SqliteConnection::Open(path, SqliteMode::kReadOnly, timeout));
//   CHORUS_ASSIGN_OR_RETURN(SqliteStatement select,
//                           db.Prepare("SELECT seq FROM events WHERE workflow_id = ?1"));
//   CHORUS_RETURN_IF_ERROR(select.Bind(workflow_id));
//   CHORUS_RETURN_IF_ERROR(
//       select.ForEachRow([&](const SqliteStatement& row) { seqs.push_back(row.Int(0)); }));
//
// Thread-compatible, and so is the SQLite connection underneath: it is opened in SQLite's
// multi-thread mode (SQLITE_OPEN_NOMUTEX), which spares every call SQLite's own lock on the
// connection. A statement's bindings and position are state shared by its users, so guard a
// connection and its statements with one lock, or hand them from thread to thread.
#ifndef CHORUS_STORAGE_INTERNAL_SQLITE_H_
#define CHORUS_STORAGE_INTERNAL_SQLITE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace chorus {

// Bytes to bind as a BLOB (an absl::string_view binds as TEXT).
struct SqliteBlob {
  absl::string_view bytes;
};

class SqliteStatement {
 public:
  // Holds no statement: only to be assigned a prepared one.
  SqliteStatement() = default;

  // Ends the current execution, if any, and binds `args` to ?1, ?2, ... in order: int64_t as
  // INTEGER, absl::string_view as TEXT, SqliteBlob as BLOB. SQLite copies the values.
  template <typename... Args>
  absl::Status Bind(const Args&... args) {
    Reset();
    absl::Status status;
    int index = 0;
    (status.Update(BindAt(++index, args)), ...);
    return status;
  }

  // Advances the execution: true when a row is ready, false when the statement is done.
  // REQUIRES: the last Step, if any, returned true (stepping a done statement reruns it).
  absl::StatusOr<bool> Step();

  // Runs the statement to completion with `on_row` called on each row, then resets it.
  absl::Status ForEachRow(absl::FunctionRef<void(const SqliteStatement& row)> on_row);

  // Runs the statement to completion, ignoring any rows, then resets it.
  absl::Status Run();

  // Ends the current execution, releasing the read snapshot it holds. Bindings stay.
  void Reset();

  // Columns of the current row, counted from 0. A view stays valid until the next Step or
  // Reset.
  int64_t Int(int column) const;
  absl::string_view Text(int column) const;
  absl::string_view Blob(int column) const;

 private:
  friend class SqliteConnection;
  struct Finalizer {
    void operator()(sqlite3_stmt* statement) const;
  };

  SqliteStatement(sqlite3_stmt* statement, std::string path);

  absl::Status BindAt(int index, int64_t value);
  absl::Status BindAt(int index, absl::string_view value);
  absl::Status BindAt(int index, SqliteBlob value);
  // The status for SQLite result `code` on this statement's connection.
  absl::Status Error(int code) const;

  std::unique_ptr<sqlite3_stmt, Finalizer> statement_;
  std::string path_;
};

enum class SqliteMode {
  kReadOnly,
  kReadWrite,  // creates the file if it is missing
};

class SqliteConnection {
 public:
  // Opens the database file at `path`. Statements wait up to `busy_timeout` for the locks
  // of other connections.
  static absl::StatusOr<SqliteConnection> Open(const std::string& path, SqliteMode mode,
                                               absl::Duration busy_timeout);

  // Prepares one SQL statement. The statement may outlive this object (the connection closes
  // once its last statement is gone).
  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);

  // Runs `sql`, one or more statements, ignoring their rows.
  absl::Status Exec(const char* sql);

  // Whether a transaction begun with BEGIN is still open.
  bool InTransaction() const;

  // A number that changes whenever the database changes, through this connection or another
  // (SQLITE_FCNTL_DATA_VERSION); nullopt if SQLite cannot tell. Another connection's commit
  // shows once this one begins a transaction.
  std::optional<uint32_t> DataVersion() const;

  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };

  SqliteConnection(sqlite3* db, std::string path);

  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
};

}  // namespace chorus

#endif  // CHORUS_STORAGE_INTERNAL_SQLITE_H_
