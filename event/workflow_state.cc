#include "event/workflow_state.h"

namespace chorus {

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

const StepState* WorkflowState::FindStep(absl::string_view name) const {
  auto it = step_index.find(name);
  return it == step_index.end() ? nullptr : &steps[it->second];
}

}  // namespace chorus
