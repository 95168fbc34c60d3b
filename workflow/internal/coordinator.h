// Coordinator: drives one run of one workflow, as DESIGN.md's "The replayer" describes. It
// carries out what its Scheduler (scheduler.h) decides and holds no scheduling rule itself.
//
// Its loop: ask the scheduler which steps start (it records their started events), commit
// what was recorded in one transaction, run the started attempts on the Executor (a step that
// would run alone, on its own thread instead: see Dispatch), collect their outcomes (the
// attempt runner, attempt_runner.h), order them (definition order, then attempt) and give them
// to the scheduler, which records them with what they lead to (retries scheduled, dependents
// skipped, map steps expanded or ended); then again, until the run ends. It also enforces
// timeouts, saves snapshots, and gives events their sequence numbers and times. Only the
// coordinator's thread creates events; step threads only post outcomes.
//
// A Coordinator is used for one Start or Resume, from one thread. The store, the executor
// and the registry the graph's functions belong to must outlive it. Internal to the engine.
#ifndef CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_
#define CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/history.h"
#include "event/workflow_state.h"
#include "storage/event_store.h"
#include "workflow/cancellation.h"
#include "workflow/definition.h"
#include "workflow/engine_options.h"
#include "workflow/executor.h"
#include "workflow/internal/attempt_runner.h"
#include "workflow/internal/scheduler.h"
#include "workflow/internal/state_views.h"
#include "workflow/step_context.h"
#include "workflow/step_registry.h"

namespace chorus {

class Coordinator {
 public:
  // `cancellation` cancels the whole run: running steps are cancelled and the workflow is
  // recorded as cancelled.
  Coordinator(EventStore& store, Executor& executor, const EngineOptions& options,
              CancellationToken cancellation);

  // Records workflow `workflow_id` as started with `definition` and `input`, then drives it
  // to its end; InvalidArgument, recording nothing, if the id is not a name CheckName
  // (event/text.h) accepts or the input is over the payload limit.
  // REQUIRES: the store has no such workflow; `graph` is ValidateDefinitionGraph's for the
  // definition, with a function for every task step.
  absl::StatusOr<WorkflowState> Start(absl::string_view workflow_id,
                                      const WorkflowDefinition& definition, absl::string_view input,
                                      DefinitionGraph graph);

  // Drives a workflow from its recorded state (which must include every stored event) to
  // its end. A finished workflow returns its recorded result without running anything.
  // REQUIRES: `graph` is ValidateRecordedDefinitionGraph's for the recorded definition, with a
  // function for every task step the run may start (none, if it starts cancelled).
  absl::StatusOr<WorkflowState> Resume(WorkflowState recorded, DefinitionGraph graph);

  // Both return the final state when the workflow completes (also with failures of
  // non-critical steps), the failing step's error when it failed, Cancelled when it was
  // cancelled, or the store's error if an append failed (then the running steps are
  // cancelled and waited for, and nothing more is recorded). When a step's error is marked as
  // the driver's fault (MarkDriverFault), the run stops without recording that attempt's
  // outcome, nor those of the attempts it cancels, and returns the fault, marked, naming the
  // step: the workflow stays unfinished, to be resumed.

 private:
  // An attempt on the executor.
  struct Running {
    CancellationToken token;
    absl::Time deadline;  // of its timeout; InfiniteFuture if none
    bool timed_out = false;
  };

  absl::StatusOr<WorkflowState> Drive(DefinitionGraph graph);
  // The function a step runs (an instance: its map step's); null for a structural step.
  const StepFunction* FunctionOf(int step) const {
    const int map_of = state().steps[step].map_of;
    return functions_[map_of >= 0 ? map_of : step];
  }
  std::string LogPathOf(int step, int visit, int attempt) const;
  absl::Time NextWakeUp() const;
  void CancelTimedOutSteps();
  absl::Status Commit();
  // Saves a snapshot of the committed state if one is due (EngineOptions::snapshot_min_events).
  // REQUIRES: everything recorded is committed.
  absl::Status MaybeSaveSnapshot();
  void Dispatch(const std::vector<int>& started);
  // The executor's task for the attempt of `step` just started, which it records as running.
  std::function<void()> AttemptTask(int step);
  // The outcomes to record now: in wave mode, the whole wave's, unless a failure in it stops the
  // run (then at once, to cancel the others); otherwise whatever came.
  std::vector<Outcome> AwaitOutcomes();
  // Gives the scheduler an attempt's outcome.
  void RecordOutcome(Outcome& outcome);
  void CancelRunning(absl::string_view reason);
  // Stops the run for `fault`, marked by the step as the driver's own (MarkDriverFault).
  void StopForDriverFault(int step, int attempt, const absl::Status& fault);
  void AbandonRunningSteps(absl::string_view reason);
  // The run's result. Moves the state out (no copy of a large state): the run's last call.
  absl::StatusOr<WorkflowState> RecordedResult();
  // Gives `event` the next seq and the time, folds it into the state and adds it to the batch.
  void Record(Event event);
  const WorkflowState& state() const { return history_.state(); }

  // Constant after construction.
  EventStore& store_;
  Executor& executor_;
  const EngineOptions& options_;
  const int max_concurrency_;
  const CancellationToken cancellation_;

  // Used by the coordinator's thread only.
  History history_;               // every event recorded so far, folded
  int64_t committed_seq_ = 0;     // the store's last seq for this workflow
  int64_t snapshot_seq_ = 0;      // of the last snapshot saved, or of the state the run began with
  std::vector<Event> batch_;      // recorded, not yet committed
  std::vector<Event> committed_;  // the batch last committed, until Drive destroys it
  // How long the store took to append the last batch.
  absl::Duration last_commit_time_;
  absl::Status record_error_;  // set if recording an event broke an invariant (a bug)
  // By definition index: each task step's function; null for structural steps.
  std::vector<const StepFunction*> functions_;
  std::optional<Scheduler> scheduler_;         // from Drive on
  std::optional<StateViews> views_;            // from Drive on
  absl::flat_hash_map<int, Running> running_;  // step index -> its attempt
  std::vector<Outcome> wave_;  // wave mode: outcomes of the running wave, not recorded yet
  absl::Status driver_fault_;  // OK unless the run stops for a fault of the driver's own

  OutcomeQueue outcomes_;  // shared with step threads
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_
