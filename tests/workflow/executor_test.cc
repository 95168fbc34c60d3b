#include "workflow/executor.h"

#include <atomic>

#include "gtest/gtest.h"
#include "tests/workflow/latch.h"

namespace chorus {
namespace {

TEST(Executor, RunsEveryScheduledTaskBeforeItIsDestroyed) {
  std::atomic<int> ran{0};
  {
    Executor executor(3);
    for (int i = 0; i < 100; ++i) executor.Schedule([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(Executor, RunsTasksOnAllItsThreadsAtOnce) {
  for (int threads : {1, 2, 4, 8}) {
    SCOPED_TRACE(threads);
    Latch all_running(threads);
    std::atomic<int> met{0};
    {
      Executor executor(threads);
      EXPECT_EQ(executor.threads(), threads);
      for (int i = 0; i < threads; ++i) {
        executor.Schedule([&] {
          if (all_running.ArriveAndWait()) met.fetch_add(1);
        });
      }
    }
    // Only tasks running at the same time can all pass the latch.
    EXPECT_EQ(met.load(), threads);
  }
}

}  // namespace
}  // namespace chorus
