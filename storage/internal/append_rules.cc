#include "storage/internal/append_rules.h"

#include "absl/strings/str_format.h"
#include "event/events.h"

namespace chorus {

absl::Status CheckBatchNotEmpty(absl::string_view workflow_id, absl::Span<const Event> events) {
  if (!events.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("workflow '%s': cannot append an empty batch", workflow_id));
}

absl::Status CheckExpectedLastSeq(absl::string_view workflow_id, int64_t expected_last_seq,
                                  int64_t last_seq) {
  if (expected_last_seq == last_seq) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrFormat("workflow '%s': expected last seq %d, but it is %d (another writer won)",
                      workflow_id, expected_last_seq, last_seq));
}

absl::Status CheckAppendedEvent(absl::string_view workflow_id, int64_t seq, const Event& event) {
  if (event.seq() != seq) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "workflow '%s': event numbered %d where seq %d comes next", workflow_id, event.seq(), seq));
  }
  if (event.kind_case() == Event::KIND_NOT_SET) {
    return absl::InvalidArgumentError(
        absl::StrFormat("workflow '%s': event at seq %d has no kind", workflow_id, seq));
  }
  if (event.has_workflow_started() != (seq == 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("workflow '%s': event at seq %d is %s; workflow_started comes first and "
                        "only first",
                        workflow_id, seq, KindName(event)));
  }
  return absl::OkStatus();
}

void ProjectOntoSummary(const Event& event, WorkflowSummary& summary) {
  summary.last_seq = event.seq();
  summary.updated_at = RecordedAt(event);
  switch (event.kind_case()) {
    case Event::kWorkflowStarted:
      summary.definition_name = event.workflow_started().definition().name();
      summary.status = WORKFLOW_STATUS_RUNNING;
      summary.created_at = RecordedAt(event);
      break;
    case Event::kWorkflowCompleted:
      summary.status = event.workflow_completed().failed_steps().empty()
                           ? WORKFLOW_STATUS_COMPLETED
                           : WORKFLOW_STATUS_COMPLETED_WITH_FAILURES;
      break;
    case Event::kWorkflowFailed:
      summary.status = WORKFLOW_STATUS_FAILED;
      break;
    case Event::kWorkflowCancelled:
      summary.status = WORKFLOW_STATUS_CANCELLED;
      break;
    default:
      break;
  }
}

absl::Status WorkflowNotFound(absl::string_view workflow_id) {
  return absl::NotFoundError(absl::StrFormat("workflow '%s' not found", workflow_id));
}

}  // namespace chorus
