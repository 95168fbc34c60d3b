// Latch: a test barrier that opens only when `count` threads are inside it at once, so a test
// proves overlap without sleeping or timing anything. A bound on the wait keeps a broken
// engine from hanging the suite; it is a failure, never a pass.
#ifndef CHORUS_TESTS_WORKFLOW_LATCH_H_
#define CHORUS_TESTS_WORKFLOW_LATCH_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/internal/mutex.h"

namespace chorus {

class Latch {
 public:
  explicit Latch(int count) : count_(count) {}

  // Arrives and waits for `count` arrivals. Returns false if they did not all arrive within
  // a minute (the overlap the test expects did not happen).
  bool ArriveAndWait() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    ++arrived_;
    return mu_.AwaitWithDeadline(
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return arrived_ >= count_; },
        absl::Now() + absl::Minutes(1));
  }

 private:
  const int count_;
  Mutex mu_;
  int arrived_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace chorus

#endif  // CHORUS_TESTS_WORKFLOW_LATCH_H_
