// WorkflowState: what a workflow's history says, folded into one value.
//
// Built by History (event/history.h) from events; read by the replayer, the Engine's
// GetState and the CLI. A plain value: thread-compatible.
#ifndef CHORUS_EVENT_WORKFLOW_STATE_H_
#define CHORUS_EVENT_WORKFLOW_STATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "event/state.h"
#include "event/step_name_index.h"
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

struct StepState;
// The step's current visit: 0 if it never started, else from 1.
int VisitOf(const StepState& step);
// Whether the step failed and an edge took its failure (it was routed, not fatal).
bool FailureRouted(const StepState& step);
// Whether the step failed and its retry policy runs it again (StepDetails::retry_at).
bool RetryScheduled(const StepState& step);
// Whether the step's current visit ended: it completed, or failed for good. Its next visit may
// then start.
bool VisitEnded(const StepState& step);

// What a step's history records that most steps never have. StepState keeps it apart, and only
// once something sets it, so that a 500,000-step workflow's state stays small.
struct StepDetails {
  // The latest attempt's log file, if the engine gave it one.
  std::string log_path;
  // When completed: the updates it made to the workflow state (event/state.h).
  std::vector<StateUpdate> state_updates;
  // What its attempts reported they spent, added up.
  double cost = 0;
  // When failed and its retry policy runs it again: not before this time; else InfinitePast.
  absl::Time retry_at = absl::InfinitePast();
  // The resource a ready step waits for (StepBlocked); empty once it starts.
  std::string blocked_on;
  // For an instance of a map step ("resize[3]"): its own index and item.
  int map_index = -1;
  std::string map_item;
  // For a map step once expanded: its instances' indices in WorkflowState::steps, in index
  // order.
  std::vector<int> instances;
  // In a graph with loops a step may run more than once, each run a visit with its own
  // attempts (DESIGN.md, "Graphs"). The current visit once it is past the first; 0 before
  // (VisitOf reads it).
  int visit = 0;
  // The steps whose edges from this step its latest ended visit took, by index in
  // WorkflowState::steps; empty while a visit runs. A failed step that took an edge was routed.
  std::vector<int> taken;
  // The steps whose edges into this step were taken since its current visit started (or the
  // run did), by index, each once.
  std::vector<int> entered_by;
};

// One step as its history says. The outcome fields describe the latest attempt: starting a new
// attempt clears the previous one's error, retryable, timed_out and finished_at, and its
// details' retry_at and blocked_on; its details' log_path becomes the new attempt's.
struct StepState {
  std::string name;
  StepStatus status = StepStatus::kPending;
  int attempts = 0;        // the latest attempt started; 0 if never started
  std::string output;      // when completed
  absl::Status error;      // when failed; kCancelled with the reason when cancelled
  bool retryable = false;  // when failed: whether the step marked its error retryable
  bool timed_out = false;  // the latest attempt ran past the step's timeout
  bool expanded = false;   // a map step whose instances are in the state
  // For an instance of a map step: the map step's index in WorkflowState::steps; else -1.
  int map_of = -1;
  // Of the latest attempt; InfinitePast if never started.
  absl::Time started_at = absl::InfinitePast();
  // Of the latest attempt's outcome, or of the skip; InfinitePast while running or pending.
  absl::Time finished_at = absl::InfinitePast();

  // The rarely set fields: all defaults until mutable_details() is first called.
  const StepDetails& details() const {
    return details_.details != nullptr ? *details_.details : NoDetails();
  }
  StepDetails& mutable_details();

 private:
  static const StepDetails& NoDetails() {
    static const StepDetails* const kNoDetails = new StepDetails();
    return *kNoDetails;
  }

  // Null until something sets a detail; copies with its step.
  class DetailsBox {
   public:
    DetailsBox() = default;
    DetailsBox(const DetailsBox& other);
    DetailsBox& operator=(const DetailsBox& other);
    DetailsBox(DetailsBox&&) = default;
    DetailsBox& operator=(DetailsBox&&) = default;

    std::unique_ptr<StepDetails> details;
  };
  DetailsBox details_;
};

struct WorkflowState {
  std::string workflow_id;
  // UNSPECIFIED until the workflow-started event; RUNNING until a terminal workflow event.
  WorkflowStatus status = WORKFLOW_STATUS_UNSPECIFIED;
  std::string fingerprint;
  std::string input;
  int64_t last_seq = 0;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  // One entry per step of definition(), in definition order, then one per instance of each
  // expanded map step, in the order they were expanded.
  std::vector<StepState> steps;
  // Finds `steps` by name; AddStep keeps it up to date.
  StepNameIndex step_index;
  // What the steps reported they spent (for the definition's budget).
  double cost_spent = 0;
  // When COMPLETED_WITH_FAILURES: the non-critical steps that failed.
  std::vector<std::string> failed_steps;
  // Why the workflow failed or was cancelled; OK otherwise.
  absl::Status error;
  std::string failed_step;  // the step whose failure failed the workflow, if any

  // The index in `steps` of the step named `name`, or -1.
  int IndexOf(absl::string_view name) const;
  // The step named `name`, or nullptr.
  const StepState* FindStep(absl::string_view name) const;
  // Appends `step` to `steps` and indexes it by its name. False, adding nothing, if a step
  // has that name already.
  bool AddStep(StepState step);

  // The definition recorded at the workflow's start; empty before it.
  const WorkflowDefinition& definition() const {
    return definition_ != nullptr ? *definition_ : WorkflowDefinition::default_instance();
  }
  // Sets the definition. A recorded definition never changes, so it is shared rather than
  // copied: by copies of the state, and with whatever else owns it (the event it was read in).
  void set_definition(std::shared_ptr<const WorkflowDefinition> definition) {
    definition_ = std::move(definition);
  }

 private:
  std::shared_ptr<const WorkflowDefinition> definition_;
};

}  // namespace chorus

#endif  // CHORUS_EVENT_WORKFLOW_STATE_H_
