#include "workflow/step_registry.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace chorus {
namespace {

constexpr absl::string_view kRetryablePayload = "chorus.dev/retryable";
constexpr absl::string_view kDriverFaultPayload = "chorus.dev/driver-fault";

// For StepNameIndex: the name at a position of `names`.
auto NamesOf(const std::deque<std::string>& names) {
  return [&names](int i) -> absl::string_view { return names[i]; };
}

}  // namespace

absl::Status StepRegistry::Register(absl::string_view name, StepFunction function) {
  if (name.empty()) return absl::InvalidArgumentError("a step function needs a step name");
  if (!function) {
    return absl::InvalidArgumentError(absl::StrCat("step '", name, "': the function is empty"));
  }
  names_.emplace_back(name);
  if (!index_.Add(static_cast<int>(names_.size()) - 1, NamesOf(names_))) {
    names_.pop_back();
    return absl::AlreadyExistsError(absl::StrCat("step '", name, "' is already registered"));
  }
  functions_.push_back(std::move(function));
  return absl::OkStatus();
}

const StepFunction* StepRegistry::Find(absl::string_view name) const {
  const int index = index_.Find(name, NamesOf(names_));
  return index < 0 ? nullptr : &functions_[index];
}

absl::Status MarkRetryable(absl::Status error) {
  if (!error.ok()) error.SetPayload(kRetryablePayload, absl::Cord("1"));
  return error;
}

bool IsRetryable(const absl::Status& error) {
  return error.GetPayload(kRetryablePayload).has_value();
}

absl::Status MarkDriverFault(absl::Status error) {
  if (!error.ok()) error.SetPayload(kDriverFaultPayload, absl::Cord("1"));
  return error;
}

bool IsDriverFault(const absl::Status& error) {
  return error.GetPayload(kDriverFaultPayload).has_value();
}

}  // namespace chorus
