// Executor: a fixed pool of threads that runs step attempts.
//
// Tasks run in the order they were scheduled, each on one of the pool's threads. The
// destructor runs every task already scheduled and joins the threads, so no thread outlives
// its Executor. Limiting how many steps of one workflow run at once is the coordinator's job,
// not the pool's.
//
// A thread that finishes a task while no other is queued or running polls for the next one
// for a while (`idle_poll`) before it sleeps: a chain's next step, scheduled once the
// finished step's outcome is committed, then starts without waking a thread.
//
//   Executor executor(4);
//   executor.Schedule({[] { Work(); }, [] { MoreWork(); }});
//
// Thread-safe.
#ifndef CHORUS_WORKFLOW_EXECUTOR_H_
#define CHORUS_WORKFLOW_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "event/internal/mutex.h"

namespace chorus {

class Executor {
 public:
  // How long the last busy thread polls for a task by default: about a durable commit.
  static constexpr absl::Duration kDefaultIdlePoll = absl::Microseconds(300);

  // Starts `threads` threads; `idle_poll` zero never polls. REQUIRES: threads >= 1.
  explicit Executor(int threads, absl::Duration idle_poll = kDefaultIdlePoll);
  // Runs the tasks still queued, then joins every thread.
  ~Executor() ABSL_LOCKS_EXCLUDED(mu_);

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `tasks` to run on pool threads, in order. Scheduling many tasks at once takes the
  // lock once, and wakes one idle thread (unless one is polling), which wakes the next if
  // tasks are left.
  // REQUIRES: not called during destruction.
  void Schedule(std::vector<std::function<void()>> tasks) ABSL_LOCKS_EXCLUDED(mu_);

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Returns once a task is queued, the executor is stopping, or idle_poll_ has passed.
  void PollForTask() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const std::chrono::nanoseconds idle_poll_;
  std::vector<std::thread> threads_;

  Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int busy_ ABSL_GUARDED_BY(mu_) = 0;          // threads running a task
  bool polling_ ABSL_GUARDED_BY(mu_) = false;  // a thread is in PollForTask
  // Written under mu_ (so that Await sees them), read by the polling thread without it.
  std::atomic<size_t> queued_{0};  // tasks_.size()
  std::atomic<bool> stopping_{false};
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_EXECUTOR_H_
