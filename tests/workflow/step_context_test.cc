#include "workflow/step_context.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
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

TEST(StepContext, StateUpdatesMustBeTextHistoryCanHold) {
  struct Row {
    const char* label;
    std::string key;
    Value value;
    absl::string_view error;  // empty: recorded
  };
  auto text = [](std::string t) {
    Value value;
    value.set_text(std::move(t));
    return value;
  };
  auto list = [](std::vector<std::string> items) {
    Value value;
    for (std::string& item : items) value.mutable_list()->add_items(std::move(item));
    return value;
  };
  const Row kRows[] = {
      {"unicode", "r\xc3\xa9sum\xc3\xa9", text("\xe2\x82\xac 5"), ""},
      {"latin-1 value", "files", text("caf\xe9"), "the value is not valid UTF-8"},
      {"value cut mid-character", "files", text("\xe2\x82"), "the value is not valid UTF-8"},
      {"list item", "files", list({"ok", "\xff"}), "the value is not valid UTF-8"},
      {"key not UTF-8", "k\xff", text("v"), "state key \"k\\xFF\" is not valid UTF-8"},
      {"key with an escape", "k\x1b[2J", text("v"), "contains a control character (\\x1B)"},
      {"empty key", "", text("v"), "state key \"\" is empty"},
  };
  const WorkflowDefinition definition;
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.label);
    StepAttempt attempt;
    attempt.definition = &definition;
    StepContext context(std::move(attempt));
    const absl::Status status = context.UpdateState(row.key, row.value);
    if (row.error.empty()) {
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_EQ(context.TakeStateUpdates().size(), 1u);
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(status.message()), testing::HasSubstr(std::string(row.error)));
      EXPECT_TRUE(context.TakeStateUpdates().empty());
    }
  }
}

}  // namespace
}  // namespace chorus
