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

std::optional<WorkflowStatus> StatusSetBy(const Event& event) {
  switch (event.kind_case()) {
    case Event::kWorkflowStarted:
      return WORKFLOW_STATUS_RUNNING;
    case Event::kWorkflowCompleted:
      return event.workflow_completed().failed_steps().empty()
                 ? WORKFLOW_STATUS_COMPLETED
                 : WORKFLOW_STATUS_COMPLETED_WITH_FAILURES;
    case Event::kWorkflowFailed:
      return WORKFLOW_STATUS_FAILED;
    case Event::kWorkflowCancelled:
      return WORKFLOW_STATUS_CANCELLED;
    default:
      return std::nullopt;
  }
}

void ProjectOntoSummary(const Event& event, WorkflowSummary& summary) {
  summary.last_seq = event.seq();
  summary.updated_at = RecordedAt(event);
  if (event.has_workflow_started()) {
    summary.definition_name = event.workflow_started().definition().name();
    summary.created_at = RecordedAt(event);
  }
  if (const std::optional<WorkflowStatus> status = StatusSetBy(event)) summary.status = *status;
}

absl::Status CheckSnapshotSeq(absl::string_view workflow_id, int64_t seq, int64_t last_seq) {
  if (seq >= 1 && seq <= last_seq) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("workflow '%s': a snapshot at seq %d, but its history has %d events",
                      workflow_id, seq, last_seq));
}

absl::Status WorkflowNotFound(absl::string_view workflow_id) {
  return absl::NotFoundError(absl::StrFormat("workflow '%s' not found", workflow_id));
}

}  // namespace chorus
