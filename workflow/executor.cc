#include "workflow/executor.h"

#include <chrono>
#include <utility>

namespace chorus {

Executor::Executor(int threads, absl::Duration idle_poll)
    : idle_poll_(absl::ToChronoNanoseconds(idle_poll)) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Executor::~Executor() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

void Executor::Schedule(std::vector<std::function<void()>> tasks) {
  MutexLock lock(&mu_);
  for (std::function<void()>& task : tasks) tasks_.push_back(std::move(task));
  queued_ = tasks_.size();
}

void Executor::WorkerLoop() {
  bool poll = false;
  while (true) {
    if (poll) PollForTask();
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      if (poll) polling_ = false;
      // A sleeping thread leaves to the polling one the task that it would take.
      mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return tasks_.size() > (polling_ ? 1u : 0u) || stopping_;
      });
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
      queued_ = tasks_.size();
      ++busy_;
    }
    task();
    MutexLock lock(&mu_);
    --busy_;
    poll = busy_ == 0 && tasks_.empty() && !polling_ && idle_poll_.count() > 0;
    if (poll) polling_ = true;
  }
}

void Executor::PollForTask() {
  // The steady clock: absl::Now() at times takes a lock that every thread reading it shares.
  const auto until = std::chrono::steady_clock::now() + idle_poll_;
  while (queued_.load(std::memory_order_relaxed) == 0 && !stopping_.load() &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
}

}  // namespace chorus
