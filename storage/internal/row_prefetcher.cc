#include "storage/internal/row_prefetcher.h"

#include <utility>

namespace chorus {
namespace {

// A batch ends once it holds this many rows or bytes (a row larger than that ends the batch
// it joins), and the thread waits while this many batches wait for the reader: a few hundred
// KiB in flight, more only with rows that large.
constexpr size_t kBatchRows = 1024;
constexpr size_t kBatchBytes = 128 << 10;
constexpr size_t kMaxFullBatches = 2;

}  // namespace

RowPrefetcher::RowPrefetcher(SqliteStatement& select)
    : select_(select), thread_([this] { Read(); }) {}

RowPrefetcher::~RowPrefetcher() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool RowPrefetcher::Next() {
  if (next_row_ < current_.rows.size()) {
    ++next_row_;
    return true;
  }
  MutexLock lock(&mu_);
  current_.bytes.clear();
  current_.rows.clear();
  spare_.push_back(std::move(current_));
  mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !full_.empty() || ended_; });
  if (full_.empty()) {
    status_ = read_status_;
    return false;
  }
  current_ = std::move(full_.front());
  full_.erase(full_.begin());
  next_row_ = 1;
  return true;
}

void RowPrefetcher::Read() {
  while (true) {
    Batch batch;
    {
      MutexLock lock(&mu_);
      mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return full_.size() < kMaxFullBatches || stopping_;
      });
      if (stopping_) return;
      if (!spare_.empty()) {
        batch = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    absl::StatusOr<bool> more = Fill(batch);
    MutexLock lock(&mu_);
    if (!batch.rows.empty()) full_.push_back(std::move(batch));
    if (!more.ok() || !*more) {
      read_status_ = more.status();
      ended_ = true;
      return;
    }
  }
}

absl::StatusOr<bool> RowPrefetcher::Fill(Batch& batch) {
  while (batch.rows.size() < kBatchRows && batch.bytes.size() < kBatchBytes) {
    absl::StatusOr<bool> has_row = select_.Step();
    if (!has_row.ok() || !*has_row) return has_row;
    const absl::string_view body = select_.Blob(1);
    batch.rows.push_back(Row{select_.Int(0), batch.bytes.size(), body.size()});
    batch.bytes.append(body.data(), body.size());
  }
  return true;
}

}  // namespace chorus
