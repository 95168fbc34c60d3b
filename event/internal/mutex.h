// Mutex: an exclusive lock with absl-style conditions, built on std::mutex.
//
// Why not absl::Mutex: Debian's Abseil is compiled without ThreadSanitizer annotations, so
// TSan cannot see the happens-before edges of absl::Mutex and reports false races on every
// field it guards. std::mutex is intercepted by TSan. This class keeps absl::Mutex's shape
// (annotated for -Wthread-safety, `Await` on a condition re-checked whenever the lock is
// released) so that call sites read the same.
//
//   Mutex mu_;
//   int pending_ ABSL_GUARDED_BY(mu_) = 0;
//   ...
//   MutexLock lock(&mu_);
//   mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_ == 0; });
//
// Thread-safe.
#ifndef CHORUS_EVENT_INTERNAL_MUTEX_H_
#define CHORUS_EVENT_INTERNAL_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace chorus {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }

  // Releases the lock, first waking the threads in Await so they re-check their conditions.
  // (Waking before unlocking keeps a woken thread from destroying this Mutex under us.)
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    if (waiters_ > 0) changed_.notify_all();
    mu_.unlock();
  }

  // Releases the lock until `condition()` holds, then returns with the lock held.
  // REQUIRES: the lock is held; `condition` only reads state guarded by this Mutex.
  template <typename Condition>
  void Await(Condition condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    AwaitUntil(condition, absl::InfiniteFuture());
  }

  // Like Await, but gives up at `deadline`. Returns whether `condition()` holds.
  template <typename Condition>
  bool AwaitWithDeadline(Condition condition, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    return AwaitUntil(condition, deadline);
  }

 private:
  // Not analysed: `condition` requires this Mutex under the caller's name for it (`mu_`),
  // which the analysis cannot match to `this`.
  template <typename Condition>
  bool AwaitUntil(Condition& condition, absl::Time deadline) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    ++waiters_;
    while (!condition()) {
      if (deadline == absl::InfiniteFuture()) {
        changed_.wait(lock);
      } else if (changed_.wait_until(lock, absl::ToChronoTime(deadline)) ==
                 std::cv_status::timeout) {
        break;
      }
    }
    --waiters_;
    lock.release();  // The caller still holds the lock.
    return condition();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  int waiters_ = 0;  // Guarded by mu_: threads blocked in AwaitUntil.
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
