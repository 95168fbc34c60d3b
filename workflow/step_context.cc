#include "workflow/step_context.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace chorus {

absl::StatusOr<absl::string_view> StepContext::DependencyOutputOf(absl::string_view step) const {
  for (const DependencyOutput& dependency : dependencies_) {
    if (dependency.step == step) return dependency.output;
  }
  return absl::NotFoundError(absl::StrCat("step '", step_, "' does not depend on '", step, "'"));
}

}  // namespace chorus
