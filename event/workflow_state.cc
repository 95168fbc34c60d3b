#include "event/workflow_state.h"

#include <memory>
#include <utility>

namespace chorus {
namespace {

// For StepNameIndex: the name at a position of `steps`.
auto NamesOf(const std::vector<StepState>& steps) {
  return [&steps](int i) -> absl::string_view { return steps[i].name; };
}

}  // namespace

absl::string_view StepStatusName(StepStatus status) {
  switch (status) {
    case StepStatus::kPending:
      return "pending";
    case StepStatus::kRunning:
      return "running";
    case StepStatus::kCompleted:
      return "completed";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kCancelled:
      return "cancelled";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "unknown";
}

bool IsTerminal(StepStatus status) {
  return status == StepStatus::kCompleted || status == StepStatus::kFailed ||
         status == StepStatus::kCancelled || status == StepStatus::kSkipped;
}

int VisitOf(const StepState& step) {
  if (step.details().visit > 0) return step.details().visit;
  return step.attempts > 0 ? 1 : 0;
}

bool FailureRouted(const StepState& step) {
  return step.status == StepStatus::kFailed && !step.details().taken.empty();
}

bool RetryScheduled(const StepState& step) {
  return step.status == StepStatus::kFailed && step.details().retry_at != absl::InfinitePast();
}

bool VisitEnded(const StepState& step) {
  return VisitOf(step) > 0 && (step.status == StepStatus::kCompleted ||
                               (step.status == StepStatus::kFailed && !RetryScheduled(step)));
}

StepDetails& StepState::mutable_details() {
  if (details_.details == nullptr) details_.details = std::make_unique<StepDetails>();
  return *details_.details;
}

StepState::DetailsBox::DetailsBox(const DetailsBox& other)
    : details(other.details != nullptr ? std::make_unique<StepDetails>(*other.details) : nullptr) {}

StepState::DetailsBox& StepState::DetailsBox::operator=(const DetailsBox& other) {
  if (this != &other) DetailsBox(other).details.swap(details);
  return *this;
}

int WorkflowState::IndexOf(absl::string_view name) const {
  return step_index.Find(name, NamesOf(steps));
}

const StepState* WorkflowState::FindStep(absl::string_view name) const {
  const int index = IndexOf(name);
  return index < 0 ? nullptr : &steps[index];
}

bool WorkflowState::AddStep(StepState step) {
  steps.push_back(std::move(step));
  const int index = static_cast<int>(steps.size()) - 1;
  if (step_index.Add(index, NamesOf(steps))) return true;
  steps.pop_back();
  return false;
}

}  // namespace chorus
