// RowPrefetcher: reads the rows of a `SELECT seq, body ...` statement on a thread of its own,
// a few batches ahead of its reader, so that SQLite's stepping overlaps with the reader's
// parsing and folding. A long history then reads in about the time of the slower of the two
// rather than their sum.
//
//   RowPrefetcher rows(select);  // select has been bound, and stepped or not
//   while (rows.Next()) Parse(rows.seq(), rows.body());
//   CHORUS_RETURN_IF_ERROR(rows.status());
//
// Next, seq, body and status are for one reader thread. Internal to the SQLite store.
#ifndef CHORUS_STORAGE_INTERNAL_ROW_PREFETCHER_H_
#define CHORUS_STORAGE_INTERNAL_ROW_PREFETCHER_H_

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "event/internal/mutex.h"
#include "storage/internal/sqlite.h"

namespace chorus {

class RowPrefetcher {
 public:
  // Starts stepping `select`, whose columns 0 and 1 are seq and body. The prefetcher has the
  // statement to itself until it is destroyed. REQUIRES: `select` outlives it, and its last
  // Step, if any, returned true.
  explicit RowPrefetcher(SqliteStatement& select);
  // Stops reading (the statement is left where it stopped) and joins the thread.
  ~RowPrefetcher() ABSL_LOCKS_EXCLUDED(mu_);

  RowPrefetcher(const RowPrefetcher&) = delete;
  RowPrefetcher& operator=(const RowPrefetcher&) = delete;

  // Moves to the next row: false after the last one, or on an error (see status()).
  bool Next() ABSL_LOCKS_EXCLUDED(mu_);
  // The current row; body() stays valid until the next call to Next.
  int64_t seq() const { return current_.rows[next_row_ - 1].seq; }
  absl::string_view body() const {
    const Row& row = current_.rows[next_row_ - 1];
    return absl::string_view(current_.bytes).substr(row.offset, row.size);
  }
  // OK, or why reading stopped early. Meaningful once Next returned false.
  absl::Status status() const { return status_; }

 private:
  struct Row {
    int64_t seq;
    size_t offset;  // of its body in Batch::bytes
    size_t size;
  };
  struct Batch {
    std::string bytes;
    std::vector<Row> rows;
  };

  // The thread: fills batches until the rows end, reading fails or the destructor stops it.
  void Read() ABSL_LOCKS_EXCLUDED(mu_);
  // Steps `select_` for up to a batch's worth of rows into `batch`; false once they ended.
  absl::StatusOr<bool> Fill(Batch& batch);

  SqliteStatement& select_;  // the thread's alone

  // The reader's.
  Batch current_;
  size_t next_row_ = 0;  // of current_.rows
  absl::Status status_;

  Mutex mu_;
  std::vector<Batch> full_ ABSL_GUARDED_BY(mu_);   // read, in order, not yet taken
  std::vector<Batch> spare_ ABSL_GUARDED_BY(mu_);  // taken and done with, to refill
  bool ended_ ABSL_GUARDED_BY(mu_) = false;        // the thread has put its last batch
  absl::Status read_status_ ABSL_GUARDED_BY(mu_);  // why it ended early, if it did
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;     // the destructor asks it to end

  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace chorus

#endif  // CHORUS_STORAGE_INTERNAL_ROW_PREFETCHER_H_
