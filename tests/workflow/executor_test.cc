#include "workflow/executor.h"

#include <atomic>
#include <functional>
#include <utility>
#include <vector>

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

}  // namespace
}  // namespace chorus
