#include "event/step_name_index.h"

#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

// Every name has the same hash: every name but the first is kept aside.
struct CollidingHash {
  size_t operator()(absl::string_view) const { return 7; }
};

// Hashes that differ only above the 32 bits the index keeps: every name but the first is kept
// aside, as with CollidingHash, though no two full hashes are equal.
struct HighBitsHash {
  size_t operator()(absl::string_view name) const {
    return (absl::Hash<absl::string_view>()(name) << 32) | 7;
  }
};

template <typename Index>
class StepNameIndexTest : public testing::Test {};
using Indexes = testing::Types<StepNameIndex, BasicStepNameIndex<CollidingHash>,
                               BasicStepNameIndex<HighBitsHash>>;
TYPED_TEST_SUITE(StepNameIndexTest, Indexes);

TYPED_TEST(StepNameIndexTest, FindsEachNameAtItsPosition) {
  const std::vector<std::string> names = {"fetch", "resize", "resize[0]", "notify"};
  auto name_of = [&](int i) -> absl::string_view { return names[i]; };
  TypeParam index;
  index.Reserve(names.size());
  for (int i = 0; i < static_cast<int>(names.size()); ++i) EXPECT_TRUE(index.Add(i, name_of));
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    EXPECT_EQ(index.Find(names[i], name_of), i) << names[i];
  }
  EXPECT_EQ(index.Find("resize[1]", name_of), -1);
  EXPECT_EQ(index.Find("", name_of), -1);
}

TYPED_TEST(StepNameIndexTest, RefusesASecondStepOfAName) {
  const std::vector<std::string> names = {"a", "b", "b", "a"};
  auto name_of = [&](int i) -> absl::string_view { return names[i]; };
  TypeParam index;
  EXPECT_TRUE(index.Add(0, name_of));
  EXPECT_TRUE(index.Add(1, name_of));
  EXPECT_FALSE(index.Add(2, name_of));
  EXPECT_FALSE(index.Add(3, name_of));
  EXPECT_EQ(index.Find("a", name_of), 0);
  EXPECT_EQ(index.Find("b", name_of), 1);
}

}  // namespace
}  // namespace chorus
