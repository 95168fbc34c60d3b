// The scheduling rules (DESIGN.md, "The scheduler: one pure function of state"), as functions
// of a workflow's definition, its folded state and a time given to them, with no threads, no
// store and no clock of their own. The Scheduler (scheduler.h) applies them to one run;
// `chorus replay` and `chorus status` ask DecideFromRecorded what a run would do next, so that
// no rule is written twice.
//
//   const RecordedDecisions next =
//       DecideFromRecorded(state, EffectiveDependencies(state.definition()));
//   if (!next.stopping) for (int step : next.ready) ...;
//
// Internal to the engine and its tools. Thread-safe.
#ifndef CHORUS_WORKFLOW_INTERNAL_SCHEDULING_RULES_H_
#define CHORUS_WORKFLOW_INTERNAL_SCHEDULING_RULES_H_

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "event/workflow_state.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

// The definition step `step` (an index into state.steps) runs by: its own, or for an instance
// of a map step, its map step's.
const StepDefinition& DefinitionOfStep(const WorkflowState& state, int step);

// Where step `step` comes in definition order: the order in which ready steps start, outcomes
// are recorded and states merge. An instance of a map step sits at its map step's place, in
// index order.
using OrderKey = std::tuple<int, int, int>;  // definition index, map index, step
OrderKey OrderKeyOf(const WorkflowState& state, int step);

// What a step's failing for good (no retry left) does to the run.
enum class FinalFailure {
  kTolerated,      // a non-critical step: its dependents are skipped; the run completes
  kFailsAtTheEnd,  // the continue policy: its dependents are skipped; the run fails at its end
  kStopsTheRun,    // fail-fast: the running steps are cancelled and nothing more starts
};
FinalFailure EffectOfFinalFailure(const WorkflowDefinition& definition, const StepDefinition& step);

// When an attempt of `step` that started at `started` times out: InfiniteFuture when the step
// has no timeout.
absl::Time DeadlineOf(const StepDefinition& step, absl::Time started);
// The step's timeout, as its error says it.
absl::Duration TimeoutOf(const StepDefinition& step);

// Whether the run has spent more than its budget (a budget of 0 is none), and the error that
// then fails it.
bool OverBudget(const WorkflowState& state);
absl::Status BudgetExceeded(const WorkflowState& state);

// The run's failure: the step that caused it (-1 when none did, e.g. a limit) and its error.
using RunFailure = std::pair<int, absl::Status>;

// What a run that continues from `state` (a running workflow's fold) does first: what history
// shows in progress continues. A step cut off by a crash runs again as its next attempt, a
// scheduled retry keeps its time, and a recorded failure for good, a cancellation or a spent
// budget means the run was stopping when it was cut off, and it finishes stopping.
struct RecordedDecisions {
  // Steps whose dependencies have all completed and that have not ended, by index: pending,
  // or cut off (running). Not an expanded map step: it ends with its instances. With routing
  // (HasRouting), the steps cut off and those whose join starts a visit (routing.h).
  std::vector<int> ready;
  // Failed steps with a next attempt scheduled, by index, with its time.
  std::vector<std::pair<int, absl::Time>> retries;
  // Non-critical steps (not instances) that failed for good, by index. A failure that took an
  // edge is handled and counts nowhere here.
  std::vector<int> tolerated;
  // Start nothing more: a step failed for good under fail-fast, a step was cancelled, or the
  // budget is spent.
  bool stopping = false;
  // What fails the run at its end, if anything does: the first step by index that failed
  // for good under fail-fast or the continue policy, else the step whose cost went over the
  // budget.
  std::optional<RunFailure> failure;
  // Why the run is cancelled: the first cancelled step's reason.
  std::optional<std::string> cancel_reason;
};
// `dependencies`: EffectiveDependencies of the state's definition.
RecordedDecisions DecideFromRecorded(const WorkflowState& state,
                                     const std::vector<std::vector<int>>& dependencies);

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_SCHEDULING_RULES_H_
