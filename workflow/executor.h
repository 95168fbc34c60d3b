// Executor: a fixed pool of threads that runs step attempts.
//
// Tasks run in the order they were scheduled, each on one of the pool's threads. The
// destructor runs every task already scheduled and joins the threads, so no thread outlives
// its Executor. Limiting how many steps of one workflow run at once is the coordinator's job,
// not the pool's.
//
//   Executor executor(4);
//   executor.Schedule({[] { Work(); }, [] { MoreWork(); }});
//
// Thread-safe.
#ifndef CHORUS_WORKFLOW_EXECUTOR_H_
#define CHORUS_WORKFLOW_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "event/internal/mutex.h"

namespace chorus {

class Executor {
 public:
  // Starts `threads` threads. REQUIRES: threads >= 1.
  explicit Executor(int threads);
  // Runs the tasks still queued, then joins every thread.
  ~Executor() ABSL_LOCKS_EXCLUDED(mu_);

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `tasks` to run on pool threads, in order. Scheduling many tasks at once takes the
  // lock once, and wakes one idle thread, which wakes the next if tasks are left.
  // REQUIRES: not called during destruction.
  void Schedule(std::vector<std::function<void()>> tasks) ABSL_LOCKS_EXCLUDED(mu_);

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  std::vector<std::thread> threads_;

  Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_EXECUTOR_H_
