#include "workflow/internal/scheduling_rules.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "workflow/definition.h"
#include "workflow/internal/routing.h"

namespace chorus {
namespace {

// The step whose cost went over the budget: the last one, by finishing time, that reported a
// cost; -1 if none did.
int LastCostlyStep(const WorkflowState& state) {
  int last = -1;
  for (int i = 0; i < static_cast<int>(state.steps.size()); ++i) {
    const StepState& step = state.steps[i];
    if (step.details().cost > 0 && (last < 0 || step.finished_at > state.steps[last].finished_at)) {
      last = i;
    }
  }
  return last;
}

}  // namespace

const StepDefinition& DefinitionOfStep(const WorkflowState& state, int step) {
  const int map_of = state.steps[step].map_of;
  return state.definition().steps(map_of >= 0 ? map_of : step);
}

OrderKey OrderKeyOf(const WorkflowState& state, int step) {
  const StepState& s = state.steps[step];
  return s.map_of >= 0 ? OrderKey{s.map_of, s.details().map_index, step} : OrderKey{step, -1, step};
}

FinalFailure EffectOfFinalFailure(const WorkflowDefinition& definition,
                                  const StepDefinition& step) {
  if (step.non_critical()) return FinalFailure::kTolerated;
  if (definition.failure_policy() == FAILURE_POLICY_CONTINUE) return FinalFailure::kFailsAtTheEnd;
  return FinalFailure::kStopsTheRun;
}

absl::Time DeadlineOf(const StepDefinition& step, absl::Time started) {
  return step.has_timeout() ? started + TimeoutOf(step) : absl::InfiniteFuture();
}

absl::Duration TimeoutOf(const StepDefinition& step) { return DurationOf(step.timeout()); }

bool OverBudget(const WorkflowState& state) {
  const double budget = state.definition().budget();
  return budget > 0 && state.cost_spent > budget;
}

absl::Status BudgetExceeded(const WorkflowState& state) {
  return absl::ResourceExhaustedError(absl::StrFormat(
      "budget exceeded: spent %g of %g", state.cost_spent, state.definition().budget()));
}

RecordedDecisions DecideFromRecorded(const WorkflowState& state,
                                     const std::vector<std::vector<int>>& dependencies) {
  RecordedDecisions decisions;
  const int defined = state.definition().steps_size();
  for (int i = 0; i < static_cast<int>(state.steps.size()); ++i) {
    const StepState& step = state.steps[i];
    if (RetryScheduled(step)) {
      decisions.retries.emplace_back(i, step.details().retry_at);
    } else if (step.status == StepStatus::kFailed && !FailureRouted(step)) {
      switch (EffectOfFinalFailure(state.definition(), DefinitionOfStep(state, i))) {
        case FinalFailure::kTolerated:
          if (step.map_of < 0) decisions.tolerated.push_back(i);
          break;
        case FinalFailure::kStopsTheRun:
          decisions.stopping = true;
          [[fallthrough]];
        case FinalFailure::kFailsAtTheEnd:
          if (!decisions.failure) decisions.failure.emplace(i, step.error);
          break;
      }
    } else if (step.status == StepStatus::kCancelled) {
      if (!decisions.cancel_reason) decisions.cancel_reason = std::string(step.error.message());
      decisions.stopping = true;
    }
  }
  if (!decisions.stopping && OverBudget(state)) {
    decisions.stopping = true;
    if (!decisions.failure) decisions.failure.emplace(LastCostlyStep(state), BudgetExceeded(state));
  }
  if (HasRouting(state.definition())) {
    // Attempts cut off run again; the joins say which visits start.
    const RoutingGraph routing(state.definition(), dependencies, /*problems=*/nullptr);
    const std::vector<bool> none_pending(routing.defined(), false);
    for (int i = 0; i < static_cast<int>(state.steps.size()); ++i) {
      const StepState& step = state.steps[i];
      if (step.status == StepStatus::kRunning && !step.expanded) {
        decisions.ready.push_back(i);
      } else if (i < routing.defined() &&
                 DecideJoin(routing, state, i, none_pending).kind == JoinDecision::kStart) {
        decisions.ready.push_back(i);
      }
    }
    return decisions;
  }
  for (int i = 0; i < static_cast<int>(state.steps.size()); ++i) {
    const StepState& step = state.steps[i];
    const bool startable =
        step.status == StepStatus::kPending || step.status == StepStatus::kRunning;
    if (!startable || step.expanded) continue;
    // An instance waits for nothing more: its map step started once its dependencies completed.
    const bool dependencies_completed =
        i >= defined || std::all_of(dependencies[i].begin(), dependencies[i].end(), [&](int d) {
          return state.steps[d].status == StepStatus::kCompleted;
        });
    if (dependencies_completed) decisions.ready.push_back(i);
  }
  return decisions;
}

}  // namespace chorus
