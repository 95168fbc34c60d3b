#include "workflow/executor.h"

#include <atomic>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/workflow/latch.h"

namespace chorus {
namespace {

TEST(Executor, RunsEveryScheduledTaskBeforeItIsDestroyed) {
  std::atomic<int> ran{0};
  {
    Executor executor(3);
    for (int i = 0; i < 10; ++i) {
      executor.Schedule(std::vector<std::function<void()>>(10, [&ran] { ran.fetch_add(1); }));
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(Executor, RunsTasksInTheOrderTheyWereScheduled) {
  std::vector<int> order;  // written by the executor's one thread, read after it is joined
  {
    Executor executor(1);
    for (int batch = 0; batch < 2; ++batch) {
      std::vector<std::function<void()>> tasks;
      for (int i = 0; i < 3; ++i)
        tasks.push_back([&order, batch, i] { order.push_back(3 * batch + i); });
      executor.Schedule(std::move(tasks));
    }
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Executor, RunsTasksOnAllItsThreadsAtOnce) {
  for (int threads : {1, 2, 4, 8}) {
    SCOPED_TRACE(threads);
    Latch all_running(threads);
    std::atomic<int> met{0};
    {
      Executor executor(threads);
      EXPECT_EQ(executor.threads(), threads);
      // Scheduled at once: one thread is woken, and wakes the next.
      executor.Schedule(std::vector<std::function<void()>>(threads, [&] {
        if (all_running.ArriveAndWait()) met.fetch_add(1);
      }));
    }
    // Only tasks running at the same time can all pass the latch.
    EXPECT_EQ(met.load(), threads);
  }
}

// The id of the thread that runs a task scheduled on `executor`, once it has run.
std::thread::id RunOne(Executor& executor) {
  std::promise<std::thread::id> ran;
  executor.Schedule({[&ran] { ran.set_value(std::this_thread::get_id()); }});
  return ran.get_future().get();
}

TEST(Executor, TheLastBusyThreadPollsForTheNextTaskAndTakesIt) {
  std::optional<Executor> executor;
  executor.emplace(2, /*idle_poll=*/absl::Minutes(1));
  const std::thread::id first = RunOne(*executor);
  // Long past the moment its thread began to poll. Without polling, the task would go to the
  // thread that has slept longest: the other one.
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(RunOne(*executor), first);
  // That thread polls again, for a minute, but the destructor does not wait for it.
  const absl::Time destroying = absl::Now();
  executor.reset();
  EXPECT_LT(absl::Now() - destroying, absl::Seconds(30));
}

TEST(Executor, AThreadThatGaveUpPollingIsWokenForTheNextTasks) {
  Executor executor(2, /*idle_poll=*/absl::Milliseconds(1));
  RunOne(executor);
  absl::SleepFor(absl::Milliseconds(100));  // both threads sleep now
  std::atomic<int> ran{0};
  executor.Schedule(std::vector<std::function<void()>>(3, [&ran] { ran.fetch_add(1); }));
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  while (ran.load() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace chorus
