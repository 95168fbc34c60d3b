// WorkflowState: what a workflow's history says, folded into one value.
//
// Built by History (event/history.h) from events; read by the replayer, the Engine's
// GetState and the CLI. A plain value: thread-compatible.
#ifndef CHORUS_EVENT_WORKFLOW_STATE_H_
#define CHORUS_EVENT_WORKFLOW_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/event.pb.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

enum class StepStatus {
  kPending,  // not started yet
  kRunning,  // started, no outcome recorded (after a crash: cut off)
  kCompleted,
  kFailed,
  kCancelled,
  kSkipped,
};

// "pending", "running", "completed", ...
absl::string_view StepStatusName(StepStatus status);

// True for completed, failed, cancelled and skipped.
bool IsTerminal(StepStatus status);

// One step as its history says. The outcome fields describe the latest attempt: starting a new
// attempt clears the previous one's error, retryable and finished_at.
struct StepState {
  std::string name;
  StepStatus status = StepStatus::kPending;
  int attempts = 0;        // the latest attempt started; 0 if never started
  std::string output;      // when completed
  absl::Status error;      // when failed; kCancelled with the reason when cancelled
  bool retryable = false;  // when failed: whether the step marked its error retryable
  // Of the latest attempt; InfinitePast if never started.
  absl::Time started_at = absl::InfinitePast();
  // Of the latest attempt's outcome, or of the skip; InfinitePast while running or pending.
  absl::Time finished_at = absl::InfinitePast();
  // The latest attempt's log file, if the engine gave it one.
  std::string log_path;
};

struct WorkflowState {
  std::string workflow_id;
  // UNSPECIFIED until the workflow-started event; RUNNING until a terminal workflow event.
  WorkflowStatus status = WORKFLOW_STATUS_UNSPECIFIED;
  WorkflowDefinition definition;
  std::string fingerprint;
  std::string input;
  int64_t last_seq = 0;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  // One entry per step of `definition`, in definition order.
  std::vector<StepState> steps;
  absl::flat_hash_map<std::string, int> step_index;  // step name -> index in `steps`
  // Why the workflow failed or was cancelled; OK otherwise.
  absl::Status error;
  std::string failed_step;  // the step whose failure failed the workflow, if any

  // The step named `name`, or nullptr.
  const StepState* FindStep(absl::string_view name) const;
};

}  // namespace chorus

#endif  // CHORUS_EVENT_WORKFLOW_STATE_H_
