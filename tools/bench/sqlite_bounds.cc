#include "tools/bench/sqlite_bounds.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/internal/status_macros.h"
#include "tools/bench/history_file.h"
#include "tools/bench/report.h"

namespace chorus::bench {
namespace {

// The events table exactly as storage/sqlite_event_store.cc creates it.
constexpr char kCreateEvents[] = R"sql(
CREATE TABLE events (
  workflow_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq >= 1),
  kind INTEGER NOT NULL,
  recorded_at_ns INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (workflow_id, seq)
) STRICT, WITHOUT ROWID;
)sql";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

absl::Status Check(sqlite3* db, int code, absl::string_view what) {
  if (code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW) return absl::OkStatus();
  return absl::InternalError(absl::StrFormat("%s: %s", what, sqlite3_errmsg(db)));
}

// In SQLite's multi-thread mode, as the store opens its connections.
absl::StatusOr<Db> Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  CHORUS_RETURN_IF_ERROR(Check(db.get(), code, absl::StrCat("opening ", path)));
  return db;
}

absl::StatusOr<Statement> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int code = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Statement statement(raw);
  CHORUS_RETURN_IF_ERROR(Check(db, code, sql));
  return statement;
}

// Runs a statement that returns no rows, then resets it.
absl::Status Run(sqlite3* db, sqlite3_stmt* statement) {
  const int code = sqlite3_step(statement);
  sqlite3_reset(statement);
  return Check(db, code, sqlite3_sql(statement));
}

// The serialized events the engine would write, made before any clock starts and reused
// round-robin.
std::vector<std::string> RowBodies() {
  std::vector<std::string> bodies;
  const absl::Time now = absl::Now();
  for (int64_t seq = 2; seq < 2 + 1024; ++seq) {
    bodies.push_back(HistoryStepEvent(seq, now).SerializeAsString());
  }
  return bodies;
}

absl::Status MeasureAppends(const BenchConfig& config, absl::string_view id,
                            int64_t rows_per_transaction) {
  constexpr int kMinTransactions = 10;
  const absl::Duration duration = config.smoke ? absl::Milliseconds(200) : absl::Seconds(3);
  CHORUS_ASSIGN_OR_RETURN(const std::string path, config.FreshDatabase(absl::StrCat(id, ".db")));
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<RawAppender> appender, RawAppender::Create(path));
  while (appender->elapsed() < duration || appender->transactions() < kMinTransactions) {
    CHORUS_RETURN_IF_ERROR(appender->AppendTransaction(rows_per_transaction));
  }
  JsonLine line(id);
  line.AddString("workload", absl::StrCat("raw append, ", rows_per_transaction, " rows/txn"));
  line.AddInt("rows_per_transaction", rows_per_transaction);
  line.AddInt("transactions", appender->transactions());
  line.AddNumber("seconds", absl::ToDoubleSeconds(appender->elapsed()));
  line.AddNumber("rows_per_s", appender->RowsPerSecond()).AddString("metric", "rows_per_s");
  Emit(line);
  return absl::OkStatus();
}

// Reads every row of `workflow_id`; returns how many there were, or DataLoss if they are not
// numbered 1, 2, ... in order.
absl::StatusOr<int64_t> ScanWorkflow(const std::string& path, absl::string_view workflow_id) {
  CHORUS_ASSIGN_OR_RETURN(Db db, Open(path, SQLITE_OPEN_READONLY));
  CHORUS_ASSIGN_OR_RETURN(
      Statement select,
      Prepare(db.get(), "SELECT seq, body FROM events WHERE workflow_id = ?1 ORDER BY seq"));
  sqlite3_bind_text(select.get(), 1, workflow_id.data(), static_cast<int>(workflow_id.size()),
                    SQLITE_STATIC);
  int64_t rows = 0;
  int64_t body_bytes = 0;
  int code;
  while ((code = sqlite3_step(select.get())) == SQLITE_ROW) {
    if (sqlite3_column_int64(select.get(), 0) != ++rows) {
      return absl::DataLossError(absl::StrFormat("%s: row %d is out of order", path, rows));
    }
    if (sqlite3_column_blob(select.get(), 1) != nullptr) {
      body_bytes += sqlite3_column_bytes(select.get(), 1);
    }
  }
  CHORUS_RETURN_IF_ERROR(Check(db.get(), code, "scanning the events"));
  if (body_bytes == 0) return absl::DataLossError(absl::StrCat(path, ": the events are empty"));
  return rows;
}

}  // namespace

struct RawAppender::Connection {
  Db db;
  Statement begin;
  Statement insert;
  Statement commit;
  std::vector<std::string> bodies;
};

RawAppender::RawAppender(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}

RawAppender::~RawAppender() = default;

absl::StatusOr<std::unique_ptr<RawAppender>> RawAppender::Create(const std::string& path) {
  auto connection = std::make_unique<Connection>();
  CHORUS_ASSIGN_OR_RETURN(connection->db, Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3* db = connection->db.get();
  const std::string setup =
      absl::StrCat("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", kCreateEvents);
  CHORUS_RETURN_IF_ERROR(
      Check(db, sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr), path));
  CHORUS_ASSIGN_OR_RETURN(connection->begin, Prepare(db, "BEGIN IMMEDIATE"));
  CHORUS_ASSIGN_OR_RETURN(connection->commit, Prepare(db, "COMMIT"));
  CHORUS_ASSIGN_OR_RETURN(connection->insert,
                          Prepare(db,
                                  "INSERT INTO events (workflow_id, seq, kind, recorded_at_ns, "
                                  "body) VALUES (?1, ?2, ?3, ?4, ?5)"));
  connection->bodies = RowBodies();
  return std::unique_ptr<RawAppender>(new RawAppender(std::move(connection)));
}

absl::Status RawAppender::AppendTransaction(int64_t rows) {
  sqlite3* db = connection_->db.get();
  sqlite3_stmt* insert = connection_->insert.get();
  const absl::Time start = absl::Now();
  CHORUS_RETURN_IF_ERROR(Run(db, connection_->begin.get()));
  for (int64_t seq = rows_ + 1; seq <= rows_ + rows; ++seq) {
    const std::string& body = connection_->bodies[seq % connection_->bodies.size()];
    sqlite3_bind_text(insert, 1, "bound", -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, seq);
    sqlite3_bind_int64(insert, 3, seq % 2 == 0 ? 11 : 12);  // step started / completed
    sqlite3_bind_int64(insert, 4, absl::ToUnixNanos(absl::Now()));
    sqlite3_bind_blob64(insert, 5, body.data(), body.size(), SQLITE_TRANSIENT);
    CHORUS_RETURN_IF_ERROR(Run(db, insert));
  }
  CHORUS_RETURN_IF_ERROR(Run(db, connection_->commit.get()));
  elapsed_ += absl::Now() - start;
  rows_ += rows;
  ++transactions_;
  return absl::OkStatus();
}

absl::StatusOr<double> RawScanRate(const std::string& path, absl::string_view workflow_id,
                                   int64_t expected_rows, int scans) {
  absl::Duration best = absl::InfiniteDuration();
  for (int i = 0; i < scans; ++i) {
    const absl::Time start = absl::Now();
    CHORUS_ASSIGN_OR_RETURN(const int64_t rows, ScanWorkflow(path, workflow_id));
    best = std::min(best, absl::Now() - start);
    if (rows != expected_rows) {
      return absl::DataLossError(
          absl::StrFormat("%s: scanned %d rows, expected %d", path, rows, expected_rows));
    }
  }
  return expected_rows / absl::ToDoubleSeconds(best);
}

absl::Status MeasureR1(const BenchConfig& config) {
  return MeasureAppends(config, "R1", kR1RowsPerTransaction);
}

absl::Status MeasureR2(const BenchConfig& config) {
  return MeasureAppends(config, "R2", kR2RowsPerTransaction);
}

absl::Status MeasureR3(const BenchConfig& config) {
  constexpr int kScans = 3;
  const int64_t events = config.SizeOr(kHistoryEvents, kSmokeHistoryEvents);
  CHORUS_ASSIGN_OR_RETURN(const std::string path, EnsureHistoryFile(config.dir, events));
  CHORUS_ASSIGN_OR_RETURN(const double rows_per_s,
                          RawScanRate(path, kHistoryWorkflowId, events, kScans));
  JsonLine line("R3");
  line.AddString("workload", "raw scan of one workflow").AddInt("rows", events);
  line.AddInt("best_of", kScans).AddNumber("seconds", events / rows_per_s);
  line.AddNumber("rows_per_s", rows_per_s).AddString("metric", "rows_per_s");
  Emit(line);
  return absl::OkStatus();
}

}  // namespace chorus::bench
