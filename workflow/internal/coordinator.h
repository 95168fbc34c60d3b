// Coordinator: drives one run of one workflow, as DESIGN.md's "The replayer" describes.
//
// It starts from the folded history, finds the ready steps in definition order, starts up
// to the concurrency limit of them on the Executor (a step that would run alone, on its own
// thread instead: see Dispatch), collects their outcomes, orders them (definition order, then
// attempt), gives them sequence numbers and appends them, together with the events they lead
// to (retries scheduled, dependents skipped, map steps expanded or completed) and the started
// events of the steps they made ready, in one transaction. Only the coordinator's thread
// creates events; step threads only post outcomes.
//
// A Coordinator is used for one Start or Resume, from one thread. The store, the executor
// and the registry the graph's functions belong to must outlive it. Internal to the engine.
#ifndef CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_
#define CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/history.h"
#include "event/workflow_state.h"
#include "storage/event_store.h"
#include "workflow/cancellation.h"
#include "workflow/definition.h"
#include "workflow/engine_options.h"
#include "workflow/executor.h"
#include "workflow/internal/attempt_runner.h"
#include "workflow/internal/resource_pool.h"
#include "workflow/internal/scheduler.h"
#include "workflow/internal/state_views.h"
#include "workflow/internal/step_graph.h"
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

  // The graph.
  void BuildGraph(DefinitionGraph graph);
  const StepDefinition& DefinitionOf(int step) const { return DefinitionOfStep(state(), step); }
  void MakeReady(int step) { ready_.insert(OrderKeyOf(state(), step)); }
  void MarkCompleted(int step);

  // Scheduling.
  void ContinueRecorded(const RecordedDecisions& recorded);
  std::vector<std::pair<int, CancellationToken>> StartReadySteps();
  bool HasRoomForAnotherStep() const;
  bool TakeResources(int step);
  void StartMapStep(int step);
  void ScheduleDueRetries();
  absl::Time NextWakeUp() const;
  void CancelTimedOutSteps();
  absl::Status Commit();
  // Saves a snapshot of the committed state if one is due (EngineOptions::snapshot_min_events).
  // REQUIRES: everything recorded is committed.
  absl::Status MaybeSaveSnapshot();
  void Dispatch(std::vector<std::pair<int, CancellationToken>> started);
  // The executor's task for one attempt of `step`, which it records as running.
  std::function<void()> AttemptTask(int step, CancellationToken token);

  // Outcomes.
  void RecordOutcome(Outcome& outcome);
  void RecordCompleted(int step, int attempt, std::string output, std::vector<StateUpdate> updates,
                       double cost);
  void RecordFailed(int step, int attempt, const absl::Status& error, bool timed_out, double cost);
  void FailFinally(int step, const absl::Status& error);
  void SkipDependents(int step);
  void MaybeFinishMap(int map_step);
  void CheckBudget(int step);
  void StopForFailure(int step, absl::Status error);
  std::string FailureReason() const;
  void StopForCancellation(std::string reason);
  // Stops the run for `fault`, marked by the step as the driver's own (MarkDriverFault).
  void StopForDriverFault(int step, int attempt, const absl::Status& fault);
  void AbandonRunningSteps(absl::string_view reason);
  void CancelCutOffAttempts(absl::string_view reason);
  absl::StatusOr<WorkflowState> Finish();
  // The run's result. Moves the state out (no copy of a large state): the run's last call.
  absl::StatusOr<WorkflowState> RecordedResult();
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
  // By step index (instances of map steps included, appended as they are expanded).
  std::vector<const StepFunction*> functions_;  // null for steps that run no function
  std::vector<int> unmet_dependencies_;         // of each step, those not completed
  StepGraph graph_;
  std::optional<StateViews> views_;        // from BuildGraph on
  std::optional<ResourcePool> resources_;  // from BuildGraph on
  std::set<OrderKey> ready_;
  std::vector<int> blocked_;  // ready, waiting for a resource or their map's concurrency
  std::multimap<absl::Time, int> retries_;           // when each failed step runs again
  absl::flat_hash_map<int, Running> running_;        // step index -> its attempt
  absl::flat_hash_map<int, int> running_instances_;  // map step -> instances running
  // How far MaybeFinishMap has found a map step's instances finished for good, in index order
  // (an instance, once finished, stays so), so that each instance is looked at once.
  struct MapProgress {
    size_t finished = 0;    // instances[0, finished) are finished
    int unsuccessful = -1;  // the first of them that did not complete, if any
  };
  absl::flat_hash_map<int, MapProgress> map_progress_;  // map step -> its progress
  bool stopping_ = false;  // fail-fast, budget or cancellation: start nothing more
  // What failed the run: the step (-1 when no step did, e.g. a limit) and its error.
  std::optional<RunFailure> failure_;
  std::optional<std::string> cancel_reason_;  // why the run was cancelled
  absl::Status driver_fault_;  // OK unless the run stops for a fault of the driver's own
  std::vector<std::string> tolerated_failures_;  // non-critical steps that failed

  OutcomeQueue outcomes_;  // shared with step threads
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_
