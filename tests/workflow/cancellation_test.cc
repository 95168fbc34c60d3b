#include "workflow/cancellation.h"

#include <thread>

#include "gtest/gtest.h"

namespace chorus {
namespace {

TEST(CancellationToken, StartsUncancelled) {
  CancellationToken token;
  EXPECT_FALSE(token.IsCancelled());
  EXPECT_EQ(token.reason(), "");
  EXPECT_FALSE(token.WaitFor(absl::ZeroDuration()));
}

TEST(CancellationToken, KeepsTheFirstReason) {
  CancellationToken token;
  token.Cancel("first");
  token.Cancel("second");
  EXPECT_TRUE(token.IsCancelled());
  EXPECT_EQ(token.reason(), "first");
}

TEST(CancellationToken, CopiesShareState) {
  CancellationToken token;
  CancellationToken copy = token;
  copy.Cancel("stop");
  EXPECT_TRUE(token.IsCancelled());
}

TEST(CancellationToken, CancellingAParentCancelsItsDescendants) {
  CancellationToken parent;
  CancellationToken child = CancellationToken::ChildOf(parent);
  CancellationToken grandchild = CancellationToken::ChildOf(child);
  parent.Cancel("shutdown");
  EXPECT_EQ(child.reason(), "shutdown");
  EXPECT_EQ(grandchild.reason(), "shutdown");
}

TEST(CancellationToken, CancellingAChildLeavesItsParentAndSiblings) {
  CancellationToken parent;
  CancellationToken child = CancellationToken::ChildOf(parent);
  CancellationToken sibling = CancellationToken::ChildOf(parent);
  child.Cancel("sibling failed");
  EXPECT_FALSE(parent.IsCancelled());
  EXPECT_FALSE(sibling.IsCancelled());
}

TEST(CancellationToken, ChildOfACancelledParentIsBornCancelled) {
  CancellationToken parent;
  parent.Cancel("too late");
  EXPECT_EQ(CancellationToken::ChildOf(parent).reason(), "too late");
}

TEST(CancellationToken, ManyShortLivedChildrenStillCascade) {
  CancellationToken parent;
  for (int i = 0; i < 1000; ++i) CancellationToken::ChildOf(parent);  // dropped at once
  CancellationToken kept = CancellationToken::ChildOf(parent);
  parent.Cancel("done");
  EXPECT_TRUE(kept.IsCancelled());
}

TEST(CancellationToken, WaitReturnsWhenCancelledFromAnotherThread) {
  CancellationToken token;
  std::thread canceller([token] { token.Cancel("now"); });
  // Generous bound: only a broken wait takes this long.
  EXPECT_TRUE(token.WaitFor(absl::Minutes(5)));
  canceller.join();
}

}  // namespace
}  // namespace chorus
