#include "workflow/step_context.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

// A context whose dependencies are d0 .. d{count - 1}, with outputs o0 .. o{count - 1}.
class Dependencies {
 public:
  explicit Dependencies(int count) {
    for (int i = 0; i < count; ++i) {
      names_.push_back(absl::StrCat("d", i));
      outputs_.push_back(absl::StrCat("o", i));
    }
  }
  StepAttempt Attempt() const {
    StepAttempt attempt;
    attempt.step = "join";
    for (size_t i = 0; i < names_.size(); ++i) {
      attempt.dependencies.push_back({names_[i], outputs_[i]});
    }
    return attempt;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> outputs_;
};

// Below and above the count from which the context indexes its dependencies.
TEST(StepContext, FindsEveryDependencysOutputByNameAndNothingElse) {
  for (const int count : {0, 1, 16, 17, 5000}) {
    SCOPED_TRACE(count);
    const Dependencies dependencies(count);
    const StepContext context(dependencies.Attempt());
    for (int i = 0; i < count; ++i) {
      const absl::StatusOr<absl::string_view> output =
          context.DependencyOutputOf(absl::StrCat("d", i));
      ASSERT_TRUE(output.ok()) << output.status();
      ASSERT_EQ(*output, absl::StrCat("o", i));
    }
    const absl::Status missing = context.DependencyOutputOf("d-1").status();
    EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(missing.message(), "step 'join' does not depend on 'd-1'");
    EXPECT_EQ(context.DependencyOutputOf(absl::StrCat("d", count)).status().code(),
              absl::StatusCode::kNotFound);
  }
}

// Const lookups from several threads at once, as a step that shares its context may make,
// while the first of them builds the index.
TEST(StepContext, ConcurrentLookupsAgree) {
  constexpr int kDependencies = 2000;
  const Dependencies dependencies(kDependencies);
  const StepContext context(dependencies.Attempt());
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&context, &wrong, t] {
      for (int i = t; i < kDependencies; i += 3) {
        const absl::StatusOr<absl::string_view> output =
            context.DependencyOutputOf(absl::StrCat("d", i));
        if (!output.ok() || *output != absl::StrCat("o", i)) ++wrong[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace chorus
