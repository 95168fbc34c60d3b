// Mutex: an exclusive lock with absl-style conditions, built on std::mutex.
//
// Why not absl::Mutex: Debian's Abseil is compiled without ThreadSanitizer annotations, so
// TSan cannot see the happens-before edges of absl::Mutex and reports false races on every
// field it guards. std::mutex is intercepted by TSan. This class keeps absl::Mutex's shape
// (annotated for -Wthread-safety, `Await` on a condition) so that call sites read the same.
//
//   Mutex mu_;
//   int pending_ ABSL_GUARDED_BY(mu_) = 0;
//   ...
//   MutexLock lock(&mu_);
//   mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_ == 0; });
//
// The thread that releases the lock evaluates the conditions of the threads waiting in Await
// and wakes the longest waiting one whose condition holds, and no other: a thread wakes only
// when it can go on, and of several idle workers waiting for a task, one wakes per task. When
// the woken thread releases the lock in turn (or waits again), the next one whose condition
// holds is woken. The woken thread is signalled after the lock is released, so that it does
// not wake only to block on the lock.
//
// Thread-safe.
#ifndef CHORUS_EVENT_INTERNAL_MUTEX_H_
#define CHORUS_EVENT_INTERNAL_MUTEX_H_

#include <semaphore.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace chorus {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }

  // Releases the lock, then wakes one thread in Await whose condition held at the release.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    Waiter* const ready = PickReady();
    mu_.unlock();
    if (ready != nullptr) sem_post(&ready->wake);
  }

  // Releases the lock until `condition()` holds, then returns with the lock held.
  // REQUIRES: the lock is held; `condition` only reads state guarded by this Mutex, and
  // takes no lock (any thread releasing this Mutex may evaluate it).
  template <typename Condition>
  void Await(Condition condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    AwaitUntil(condition, absl::InfiniteFuture(), absl::ZeroDuration());
  }

  // Like Await, but gives up at `deadline`. Returns whether `condition()` holds. Each time it
  // waits, it first polls for a wake-up for up to `spin` without sleeping: a thread that
  // expects to be woken within microseconds saves the sleep and wake-up (several µs each).
  template <typename Condition>
  bool AwaitWithDeadline(Condition condition, absl::Time deadline,
                         absl::Duration spin = absl::ZeroDuration())
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    return AwaitUntil(condition, deadline, spin);
  }

 private:
  // A thread blocked in AwaitUntil, on its stack. It is in `waiters_` until a releasing thread
  // picks it (sets `picked` and, once it has released the lock, posts `wake`) or it gives up
  // at its deadline. The post is the picker's last access to the Waiter, and a picked waiter
  // returns only after taking the post.
  struct Waiter {
    explicit Waiter(absl::FunctionRef<bool()> condition) : condition(condition) {
      sem_init(&wake, /*pshared=*/0, /*value=*/0);
    }
    ~Waiter() { sem_destroy(&wake); }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    const absl::FunctionRef<bool()> condition;
    sem_t wake;
    bool picked = false;  // guarded by mu_
  };

  // Not analysed: `condition` requires this Mutex under the caller's name for it (`mu_`),
  // which the analysis cannot match to `this`.
  bool AwaitUntil(absl::FunctionRef<bool()> condition, absl::Time deadline,
                  absl::Duration spin) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (condition()) return true;
    Waiter self(condition);
    do {
      // This thread releases the lock while it waits: another may be able to go on.
      Waiter* const ready = PickReady();
      self.picked = false;
      waiters_.push_back(&self);
      mu_.unlock();
      if (ready != nullptr) sem_post(&ready->wake);
      const bool posted = WaitForPost(self.wake, deadline, spin);
      mu_.lock();
      if (!posted && !self.picked) {  // gave up at the deadline
        waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
        return condition();
      }
      if (!posted) {  // picked as it gave up: the post is on its way
        mu_.unlock();
        WaitForPost(self.wake, absl::InfiniteFuture(), absl::ZeroDuration());
        mu_.lock();
      }
      // Picked when the condition held; a thread that took the lock first may have changed it.
    } while (!condition());
    return true;
  }

  // Removes from `waiters_` the longest waiting thread whose condition holds, and returns it
  // (null if there is none).
  Waiter* PickReady() ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      Waiter* const waiter = *it;
      if (!waiter->condition()) continue;
      waiters_.erase(it);
      waiter->picked = true;
      return waiter;
    }
    return nullptr;
  }

  // Takes a post of `semaphore`, polling for up to `spin`, then waiting for one until
  // `deadline`. Returns whether it took one.
  static bool WaitForPost(sem_t& semaphore, absl::Time deadline, absl::Duration spin) {
    if (spin > absl::ZeroDuration()) {
      // The steady clock: absl::Now() at times takes a lock that every thread reading it shares.
      const auto start = std::chrono::steady_clock::now();
      const auto spin_for = absl::ToChronoNanoseconds(
          std::min(spin, std::max(deadline - absl::Now(), absl::ZeroDuration())));
      do {
        if (sem_trywait(&semaphore) == 0) return true;
      } while (std::chrono::steady_clock::now() - start < spin_for);
    }
    const timespec until = absl::ToTimespec(deadline);
    while (true) {
      const int waited = deadline == absl::InfiniteFuture() ? sem_wait(&semaphore)
                                                            : sem_timedwait(&semaphore, &until);
      if (waited == 0) return true;
      if (errno != EINTR) return false;  // ETIMEDOUT
    }
  }

  std::mutex mu_;
  std::vector<Waiter*> waiters_;  // Guarded by mu_: in the order they began to wait.
};

// Holds a Mutex for the lifetime of a scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace chorus

#endif  // CHORUS_EVENT_INTERNAL_MUTEX_H_
