#include "workflow/step_registry.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

// A function that returns `output`, to tell registered functions apart.
StepFunction Returning(std::string output) {
  return [output](const StepContext&) -> absl::StatusOr<std::string> { return output; };
}

std::string Call(const StepFunction& function) {
  StepContext context{StepAttempt()};
  absl::StatusOr<std::string> output = function(context);
  return output.ok() ? *output : output.status().ToString();
}

TEST(StepRegistry, FindsEachFunctionByItsNameAndNothingElse) {
  StepRegistry registry;
  ASSERT_TRUE(registry.Register("fetch", Returning("fetched")).ok());
  ASSERT_TRUE(registry.Register("store", Returning("stored")).ok());
  ASSERT_NE(registry.Find("fetch"), nullptr);
  ASSERT_NE(registry.Find("store"), nullptr);
  EXPECT_EQ(Call(*registry.Find("fetch")), "fetched");
  EXPECT_EQ(Call(*registry.Find("store")), "stored");
  EXPECT_EQ(registry.Find("fetc"), nullptr);
  EXPECT_EQ(registry.Find(""), nullptr);
}

TEST(StepRegistry, RefusesATakenNameAndKeepsTheFirstFunction) {
  StepRegistry registry;
  ASSERT_TRUE(registry.Register("fetch", Returning("first")).ok());
  const absl::Status again = registry.Register("fetch", Returning("second"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "step 'fetch' is already registered");
  EXPECT_EQ(Call(*registry.Find("fetch")), "first");
  // The refused name leaves no trace: the next registration is found as usual.
  ASSERT_TRUE(registry.Register("store", Returning("stored")).ok());
  EXPECT_EQ(Call(*registry.Find("store")), "stored");
}

TEST(StepRegistry, RefusesAnEmptyNameOrFunction) {
  StepRegistry registry;
  EXPECT_EQ(registry.Register("", Returning("x")).code(), absl::StatusCode::kInvalidArgument);
  const absl::Status empty = registry.Register("fetch", StepFunction());
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "step 'fetch': the function is empty");
  EXPECT_EQ(registry.Find("fetch"), nullptr);
}

// Find's pointers live as long as the registry, however many functions come after.
TEST(StepRegistry, PointersStayValidAsMoreFunctionsAreRegistered) {
  constexpr int kSteps = 10000;
  StepRegistry registry;
  std::vector<const StepFunction*> found;
  for (int i = 0; i < kSteps; ++i) {
    const std::string name = absl::StrCat("step", i);
    ASSERT_TRUE(registry.Register(name, Returning(name)).ok());
    found.push_back(registry.Find(name));
  }
  for (int i = 0; i < kSteps; ++i) {
    const std::string name = absl::StrCat("step", i);
    ASSERT_EQ(registry.Find(name), found[i]) << name;
    ASSERT_EQ(Call(*found[i]), name);
  }
}

TEST(StepRegistry, MarksAnErrorRetryable) {
  const absl::Status error = absl::UnavailableError("down");
  EXPECT_FALSE(IsRetryable(error));
  const absl::Status marked = MarkRetryable(error);
  EXPECT_TRUE(IsRetryable(marked));
  EXPECT_EQ(marked.code(), error.code());
  EXPECT_EQ(marked.message(), error.message());
  EXPECT_FALSE(IsRetryable(MarkRetryable(absl::OkStatus())));
}

TEST(StepRegistry, MarksAnErrorAsTheDriversFault) {
  const absl::Status error = absl::ResourceExhaustedError("writing x.log: No space left on device");
  EXPECT_FALSE(IsDriverFault(error));
  const absl::Status marked = MarkDriverFault(error);
  EXPECT_TRUE(IsDriverFault(marked));
  EXPECT_FALSE(IsRetryable(marked));
  EXPECT_EQ(marked.code(), error.code());
  EXPECT_EQ(marked.message(), error.message());
  EXPECT_FALSE(IsDriverFault(MarkDriverFault(absl::OkStatus())));
}

}  // namespace
}  // namespace chorus
