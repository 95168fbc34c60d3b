#include "event/internal/mutex.h"

#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

// A gate threads wait at, opened once.
class Gate {
 public:
  // Returns whether the gate opened within a minute.
  bool AwaitOpen() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    ++waiting_;
    return mu_.AwaitWithDeadline([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return open_; },
                                 absl::Now() + absl::Minutes(1));
  }
  // Opens the gate once `waiters` threads wait at it (or after a minute).
  void OpenWhenWaiting(int waiters) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    mu_.AwaitWithDeadline([this, waiters]()
                              ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_ == waiters; },
                          absl::Now() + absl::Minutes(1));
    open_ = true;
  }

 private:
  Mutex mu_;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

// One release wakes one waiter; each woken waiter's release wakes the next.
TEST(Mutex, WakesEveryWaiterWhoseConditionHolds) {
  for (int waiters : {1, 2, 8}) {
    SCOPED_TRACE(waiters);
    Gate gate;
    std::vector<int> opened(waiters, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < waiters; ++i) {
      threads.emplace_back([&gate, &opened, i] { opened[i] = gate.AwaitOpen(); });
    }
    gate.OpenWhenWaiting(waiters);
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(opened, std::vector<int>(waiters, 1));
  }
}

// Waiters take one token each once there is one; takers take tokens without waiting. A waiter
// woken for a token that a taker got first must wait again, never return without one; also
// when it polls for its wake-up before sleeping.
class MutexSpinTest : public testing::TestWithParam<absl::Duration> {};
INSTANTIATE_TEST_SUITE_P(SleepingAndSpinning, MutexSpinTest,
                         testing::Values(absl::ZeroDuration(), absl::Microseconds(50)));

TEST_P(MutexSpinTest, AwaitReturnsOnlyWhenItsConditionHolds) {
  const absl::Duration spin = GetParam();
  constexpr int kWaiters = 4;
  constexpr int kTakers = 2;
  constexpr int kTokens = 2000;
  Mutex mu;
  // Guarded by mu.
  int tokens = 0;
  int taken = 0;
  bool done = false;
  int early = 0;  // returns from Await with the condition false
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      MutexLock lock(&mu);
      while (true) {
        mu.AwaitWithDeadline([&]() { return tokens > 0 || done; }, absl::InfiniteFuture(), spin);
        if (tokens == 0 && !done) ++early;
        if (tokens == 0) break;
        --tokens;
        ++taken;
      }
    });
  }
  for (int i = 0; i < kTakers; ++i) {
    threads.emplace_back([&] {
      while (true) {
        MutexLock lock(&mu);
        if (done) break;
        if (tokens > 0) {
          --tokens;
          ++taken;
        }
      }
    });
  }
  for (int i = 0; i < kTokens; ++i) {
    MutexLock lock(&mu);
    ++tokens;
  }
  {
    MutexLock lock(&mu);
    mu.Await([&]() { return taken == kTokens; });
    done = true;
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(early, 0);
}

TEST(Mutex, AwaitWithDeadlineGivesUpAtTheDeadline) {
  Mutex mu;
  bool never = false;
  MutexLock lock(&mu);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(20);
  EXPECT_FALSE(mu.AwaitWithDeadline([&]() { return never; }, deadline));
  EXPECT_GE(absl::Now(), deadline);
  EXPECT_TRUE(mu.AwaitWithDeadline([&]() { return !never; }, deadline));
}

// The poll before sleeping ends at the deadline too; a wake-up after the poll still wakes.
TEST(Mutex, SpinningStopsAtTheDeadlineAndThenSleeps) {
  Mutex mu;
  bool set = false;  // guarded by mu
  {
    MutexLock lock(&mu);
    const absl::Time deadline = absl::Now() + absl::Milliseconds(5);
    EXPECT_FALSE(mu.AwaitWithDeadline([&]() { return set; }, deadline, absl::Seconds(10)));
    const absl::Time returned = absl::Now();
    EXPECT_GE(returned, deadline);
    EXPECT_LT(returned, deadline + absl::Seconds(5));
  }
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(20));  // long after the waiter's poll ended
    MutexLock lock(&mu);
    set = true;
  });
  {
    MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithDeadline([&]() { return set; }, absl::Now() + absl::Minutes(1),
                                     absl::Microseconds(50)));
  }
  setter.join();
}

// A woken thread that waits again releases the lock: the waiter its changes let go on wakes.
TEST(Mutex, WaitingAgainWakesTheWaiterThatCanGoOn) {
  Mutex mu;
  // Guarded by mu.
  int waiting = 0;
  int stage = 0;  // 1 lets `first` go on, 2 `second`, 3 `first` again
  bool first_done = false;
  bool second_done = false;
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  std::thread first([&] {
    MutexLock lock(&mu);
    ++waiting;
    if (!mu.AwaitWithDeadline([&]() { return stage == 1; }, deadline)) return;
    stage = 2;
    first_done = mu.AwaitWithDeadline([&]() { return stage == 3; }, deadline);
  });
  std::thread second([&] {
    MutexLock lock(&mu);
    ++waiting;
    if (!mu.AwaitWithDeadline([&]() { return stage == 2; }, deadline)) return;
    stage = 3;
    second_done = true;
  });
  {
    MutexLock lock(&mu);
    // Both wait once they let go of the lock.
    if (mu.AwaitWithDeadline([&]() { return waiting == 2; }, deadline)) stage = 1;
  }
  first.join();
  second.join();
  EXPECT_TRUE(first_done);
  EXPECT_TRUE(second_done);
}

}  // namespace
}  // namespace chorus
