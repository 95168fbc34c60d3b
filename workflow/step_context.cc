#include "workflow/step_context.h"

#include "absl/strings/str_cat.h"
#include "event/internal/status_macros.h"

namespace chorus {

absl::StatusOr<absl::string_view> StepContext::DependencyOutputOf(absl::string_view step) const {
  for (const DependencyOutput& dependency : attempt_.dependencies) {
    if (dependency.step == step) return dependency.output;
  }
  return absl::NotFoundError(
      absl::StrCat("step '", attempt_.step, "' does not depend on '", step, "'"));
}

absl::Status StepContext::UpdateState(absl::string_view key, Value value) {
  CHORUS_RETURN_IF_ERROR(CheckUpdate(ReducerOf(*attempt_.definition, key), key, value));
  StateUpdate& update = updates_.emplace_back();
  update.set_key(std::string(key));
  *update.mutable_value() = std::move(value);
  return absl::OkStatus();
}

}  // namespace chorus
