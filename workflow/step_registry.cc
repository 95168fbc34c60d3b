#include "workflow/step_registry.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace chorus {
namespace {

constexpr absl::string_view kRetryablePayload = "chorus.dev/retryable";

}  // namespace

absl::Status StepRegistry::Register(absl::string_view name, StepFunction function) {
  if (name.empty()) return absl::InvalidArgumentError("a step function needs a step name");
  if (!function) {
    return absl::InvalidArgumentError(absl::StrCat("step '", name, "': the function is empty"));
  }
  if (!functions_.emplace(name, std::move(function)).second) {
    return absl::AlreadyExistsError(absl::StrCat("step '", name, "' is already registered"));
  }
  return absl::OkStatus();
}

const StepFunction* StepRegistry::Find(absl::string_view name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

absl::Status MarkRetryable(absl::Status error) {
  if (!error.ok()) error.SetPayload(kRetryablePayload, absl::Cord("1"));
  return error;
}

bool IsRetryable(const absl::Status& error) {
  return error.GetPayload(kRetryablePayload).has_value();
}

}  // namespace chorus
