#include "workflow/step_context.h"

#include "absl/strings/str_cat.h"
#include "event/internal/status_macros.h"
#include "event/text.h"

namespace chorus {
namespace {

// Up to this many dependencies, DependencyOutputOf looks through them rather than index them.
constexpr size_t kScannedDependencies = 16;

}  // namespace

absl::StatusOr<absl::string_view> StepContext::DependencyOutputOf(absl::string_view step) const {
  const std::vector<DependencyOutput>& dependencies = attempt_.dependencies;
  if (dependencies.size() <= kScannedDependencies) {
    for (const DependencyOutput& dependency : dependencies) {
      if (dependency.step == step) return dependency.output;
    }
  } else {
    auto name_of = [&dependencies](int i) { return dependencies[i].step; };
    std::call_once(dependency_index_built_, [&] {
      dependency_index_.Reserve(dependencies.size());
      for (size_t i = 0; i < dependencies.size(); ++i) {
        dependency_index_.Add(static_cast<int>(i), name_of);
      }
    });
    const int found = dependency_index_.Find(step, name_of);
    if (found >= 0) return dependencies[found].output;
  }
  return absl::NotFoundError(
      absl::StrCat("step '", attempt_.step, "' does not depend on '", step, "'"));
}

absl::Status StepContext::UpdateState(absl::string_view key, Value value) {
  CHORUS_RETURN_IF_ERROR(CheckName("state key", key));
  CHORUS_RETURN_IF_ERROR(CheckValueText(key, value));
  CHORUS_RETURN_IF_ERROR(CheckUpdate(ReducerOf(*attempt_.definition, key), key, value));
  StateUpdate& update = updates_.emplace_back();
  update.set_key(std::string(key));
  *update.mutable_value() = std::move(value);
  return absl::OkStatus();
}

}  // namespace chorus
