// The bounds: what raw SQLite does with the store's events table and pragmas (WAL,
// synchronous=FULL), through the C API with no Chorus code in the timed loop.
//
//   R1  rows/s appending one row per transaction;
//   R2  rows/s appending in transactions of 64 rows;
//   R3  rows/s scanning the rows of one workflow in seq order (seq and body of each row).
//
// Appends write the bytes the engine would (serialized step events) to a new file, for a
// fixed time rather than a fixed count. R3 scans the history file that B3 folds
// (tools/bench/history_file.h). MeasureR1..R3 print one measurement line each, with
// "rows_per_s". The B measures take their bound again alongside themselves, with RawAppender
// and RawScanRate.
#ifndef CHORUS_TOOLS_BENCH_SQLITE_BOUNDS_H_
#define CHORUS_TOOLS_BENCH_SQLITE_BOUNDS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/bench/bench_config.h"

namespace chorus::bench {

inline constexpr int64_t kR1RowsPerTransaction = 1;
inline constexpr int64_t kR2RowsPerTransaction = 64;

// Appends rows to the events table of a database of its own, and times the appends.
// Thread-compatible.
//
//   CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<RawAppender> appender, RawAppender::Create(path));
//   CHORUS_RETURN_IF_ERROR(appender->AppendTransaction(64));
//   double rows_per_s = appender->RowsPerSecond();
class RawAppender {
 public:
  // Creates the database at `path` (REQUIRES: nothing is there) with the store's pragmas.
  static absl::StatusOr<std::unique_ptr<RawAppender>> Create(const std::string& path);
  ~RawAppender();

  // Appends `rows` rows in one transaction (BEGIN IMMEDIATE ... COMMIT), adding its time to
  // elapsed().
  absl::Status AppendTransaction(int64_t rows);

  int64_t transactions() const { return transactions_; }
  // The time spent in AppendTransaction.
  absl::Duration elapsed() const { return elapsed_; }
  double RowsPerSecond() const { return rows_ / absl::ToDoubleSeconds(elapsed_); }

 private:
  struct Connection;
  explicit RawAppender(std::unique_ptr<Connection> connection);

  std::unique_ptr<Connection> connection_;
  int64_t rows_ = 0;
  int64_t transactions_ = 0;
  absl::Duration elapsed_;
};

// Rows per second reading seq and body of the `expected_rows` rows of workflow
// `workflow_id` in the database at `path`, in seq order, on a new read-only connection as the
// store's streams do; the fastest of `scans` scans. DataLoss if the rows are not 1, 2, ...,
// expected_rows.
absl::StatusOr<double> RawScanRate(const std::string& path, absl::string_view workflow_id,
                                   int64_t expected_rows, int scans);

absl::Status MeasureR1(const BenchConfig& config);
absl::Status MeasureR2(const BenchConfig& config);
absl::Status MeasureR3(const BenchConfig& config);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_SQLITE_BOUNDS_H_
