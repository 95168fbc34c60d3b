#include "event/workflow_state.h"

#include <utility>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StepStateTest, DetailsAreDefaultsUntilSet) {
  const StepState step;
  EXPECT_EQ(step.details().log_path, "");
  EXPECT_THAT(step.details().state_updates, IsEmpty());
  EXPECT_EQ(step.details().cost, 0);
  EXPECT_EQ(step.details().retry_at, absl::InfinitePast());
  EXPECT_EQ(step.details().blocked_on, "");
  EXPECT_EQ(step.details().map_index, -1);
  EXPECT_EQ(step.details().map_item, "");
  EXPECT_THAT(step.details().instances, IsEmpty());
}

TEST(StepStateTest, ACopyHasDetailsOfItsOwn) {
  StepState original;
  original.name = "resize";
  original.mutable_details().instances = {3, 4};
  StepState copy = original;
  copy.mutable_details().instances.push_back(5);
  copy.mutable_details().log_path = "logs/resize.1.log";
  EXPECT_EQ(copy.name, "resize");
  EXPECT_THAT(copy.details().instances, ElementsAre(3, 4, 5));
  EXPECT_THAT(original.details().instances, ElementsAre(3, 4));
  EXPECT_EQ(original.details().log_path, "");
}

TEST(StepStateTest, AssigningCopiesOrClearsDetails) {
  StepState with_details;
  with_details.mutable_details().blocked_on = "db";
  StepState target;
  target.mutable_details().cost = 2;
  target = with_details;
  EXPECT_EQ(target.details().blocked_on, "db");
  EXPECT_EQ(target.details().cost, 0);

  const StepState without_details;
  target = without_details;
  EXPECT_EQ(target.details().blocked_on, "");

  StepState& self = with_details;
  with_details = self;
  EXPECT_EQ(with_details.details().blocked_on, "db");
}

TEST(StepStateTest, MovingTakesTheDetails) {
  StepState original;
  original.mutable_details().map_item = "x.png";
  const StepState moved = std::move(original);
  EXPECT_EQ(moved.details().map_item, "x.png");
}

}  // namespace
}  // namespace chorus
