#include "event/history.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "event/step_name_index.h"

namespace chorus {
namespace {

using history_internal::FoldAids;

// Every check below runs before the first write to the state, so that a rejected event leaves
// the state exactly as it was.

// DataLoss "workflow 'order-42', seq 7: <what...>".
template <typename... Pieces>
absl::Status ViolationAt(const WorkflowState& state, int64_t seq, const Pieces&... what) {
  return absl::DataLossError(
      absl::StrCat("workflow '", state.workflow_id, "', seq ", seq, ": ", what...));
}
template <typename... Pieces>
absl::Status Violation(const WorkflowState& state, const Event& event, const Pieces&... what) {
  return ViolationAt(state, event.seq(), what...);
}

absl::Status CheckSeq(int64_t seq, const WorkflowState& state) {
  if (seq == state.last_seq + 1) return absl::OkStatus();
  return ViolationAt(state, seq, "expected seq ", state.last_seq + 1,
                     " (seq is contiguous from 1)");
}

// The event that moved the workflow to terminal `status`.
absl::string_view TerminalEventName(WorkflowStatus status) {
  switch (status) {
    case WORKFLOW_STATUS_COMPLETED:
    case WORKFLOW_STATUS_COMPLETED_WITH_FAILURES:
      return "workflow_completed";
    case WORKFLOW_STATUS_FAILED:
      return "workflow_failed";
    case WORKFLOW_STATUS_CANCELLED:
      return "workflow_cancelled";
    default:
      return "a terminal workflow event";
  }
}

// Any event but workflow_started needs a started workflow that has not ended.
absl::Status CheckWorkflowRunning(const Event& event, const WorkflowState& state) {
  if (state.status == WORKFLOW_STATUS_RUNNING) return absl::OkStatus();
  if (state.status == WORKFLOW_STATUS_UNSPECIFIED) {
    return Violation(state, event, KindName(event), " before workflow_started");
  }
  return Violation(state, event, KindName(event), " after ", TerminalEventName(state.status));
}

// The index of the step named `name`, or -1. Names are unique (InitSteps and an expansion
// refuse a name that is taken), so a guess whose name matches is right.
int IndexOf(absl::string_view name, const WorkflowState& state, FoldAids* aids) {
  const int steps = static_cast<int>(state.steps.size());
  for (int guess : {aids->last_step, aids->last_step + 1}) {
    if (guess >= 0 && guess < steps && state.steps[guess].name == name) {
      return aids->last_step = guess;
    }
  }
  const int index = state.IndexOf(name);
  if (index >= 0) aids->last_step = index;
  return index;
}

// The step a step event names, in a running workflow.
absl::StatusOr<StepState*> FindStep(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_RETURN_IF_ERROR(CheckWorkflowRunning(event, *state));
  const int index = IndexOf(StepName(event), *state, aids);
  if (index < 0) {
    return Violation(*state, event, KindName(event), " names step '", StepName(event),
                     "', which the definition does not have");
  }
  return &state->steps[index];
}

// The step whose running attempt a step completed/failed/cancelled event ends.
absl::StatusOr<StepState*> FindRunningAttempt(const Event& event, WorkflowState* state,
                                              FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindStep(event, state, aids));
  const absl::string_view outcome = absl::StripPrefix(KindName(event), "step_");
  const int attempt = Attempt(event);
  if (step->attempts == 0) {
    return Violation(*state, event, "step '", step->name, "' ", outcome, " attempt ", attempt,
                     " but it was never started");
  }
  if (attempt != step->attempts) {
    return Violation(*state, event, "step '", step->name, "' ", outcome, " attempt ", attempt,
                     " but its latest start is attempt ", step->attempts);
  }
  if (step->status != StepStatus::kRunning) {
    return Violation(*state, event, "step '", step->name, "' ", outcome, " attempt ", attempt,
                     " but that attempt already ended (", StepStatusName(step->status), ")");
  }
  if (Visit(event) != VisitOf(*step)) {
    return Violation(*state, event, "step '", step->name, "' ", outcome, " visit ", Visit(event),
                     " but its current visit is ", VisitOf(*step));
  }
  return step;
}

// Whether the definition has an edge from step `from` to step `to` (by definition index): `to`
// depends on `from`, an edge of WorkflowDefinition.edges joins them, or `to` is a sync step
// (which waits for steps defined before it).
bool HasEdge(const WorkflowDefinition& definition, int from, int to) {
  const StepDefinition& target = definition.steps(to);
  const std::string& source = definition.steps(from).name();
  if (target.kind() == STEP_KIND_SYNC && from < to) return true;
  if (std::find(target.depends_on().begin(), target.depends_on().end(), source) !=
      target.depends_on().end()) {
    return true;
  }
  return std::any_of(definition.edges().begin(), definition.edges().end(),
                     [&](const Edge& edge) { return edge.from() == source && edge.to() == target.name(); });
}

// The steps a completed or failed visit of `step` (an index) says it took edges to: each a step
// of the definition joined to it by an edge, listed once.
absl::StatusOr<std::vector<int>> TakenEdges(const Event& event, int step,
                                            const WorkflowState& state) {
  std::vector<int> taken;
  for (const std::string& name : Taken(event)) {
    const int to = state.IndexOf(name);
    const int defined = state.definition().steps_size();
    if (step >= defined || to < 0 || to >= defined || !HasEdge(state.definition(), step, to)) {
      return Violation(state, event, "step '", state.steps[step].name, "' took an edge to '", name,
                       "', which the definition does not have");
    }
    if (std::find(taken.begin(), taken.end(), to) != taken.end()) {
      return Violation(state, event, "step '", state.steps[step].name, "' took its edge to '",
                       name, "' twice");
    }
    taken.push_back(to);
  }
  return taken;
}

// Records that `step`'s ended visit took the edges to `taken`: each of those steps was entered.
void FoldTaken(int step, std::vector<int> taken, WorkflowState* state) {
  for (int to : taken) {
    std::vector<int>& entered_by = state->steps[to].mutable_details().entered_by;
    if (std::find(entered_by.begin(), entered_by.end(), step) == entered_by.end()) {
      entered_by.push_back(step);
    }
  }
  if (!taken.empty() || !state->steps[step].details().taken.empty()) {
    state->steps[step].mutable_details().taken = std::move(taken);
  }
}

// Gives `state` `steps`, the definition's in definition order, named and otherwise pending,
// and indexes them by name. A violation of the workflow_started event at `seq` (leaving `state`
// as it was) if two steps share a name, since steps are keyed by name.
absl::Status InitSteps(int64_t seq, std::vector<StepState> steps, WorkflowState* state) {
  const int count = static_cast<int>(steps.size());
  StepNameIndex step_index;
  step_index.Reserve(count);
  auto name_of = [&steps](int i) -> absl::string_view { return steps[i].name; };
  for (int i = 0; i < count; ++i) {
    if (i + StepNameIndex::kPrefetchAhead < count) {
      step_index.Prefetch(steps[i + StepNameIndex::kPrefetchAhead].name);
    }
    if (!step_index.Add(i, name_of)) {
      return ViolationAt(*state, seq, "the definition has two steps named '", steps[i].name, "'");
    }
  }
  state->steps = std::move(steps);
  state->step_index = std::move(step_index);
  return absl::OkStatus();
}

absl::Status CheckFirstStarted(int64_t seq, const WorkflowState& state) {
  if (state.status == WORKFLOW_STATUS_UNSPECIFIED) return absl::OkStatus();
  return ViolationAt(state, seq, "workflow_started again (the workflow started at seq 1)");
}

// The rest of workflow_started: what InitSteps does not fold. Shares the definition with
// `shared` (the same event) when it is not null.
void FoldStartedRest(const Event& event, const std::shared_ptr<const Event>& shared,
                     WorkflowState* state) {
  const WorkflowStarted& started = event.workflow_started();
  state->set_definition(
      shared != nullptr ? std::shared_ptr<const WorkflowDefinition>(shared, &started.definition())
                        : std::make_shared<const WorkflowDefinition>(started.definition()));
  state->fingerprint = started.fingerprint();
  state->input = started.input();
  state->created_at = RecordedAt(event);
}

absl::Status FoldWorkflowStarted(const Event& event, const std::shared_ptr<const Event>& shared,
                                 WorkflowState* state, FoldAids* aids) {
  CHORUS_RETURN_IF_ERROR(CheckFirstStarted(event.seq(), *state));
  const WorkflowDefinition& definition = event.workflow_started().definition();
  std::vector<StepState> steps(definition.steps_size());
  bool has_map_steps = false;
  for (int i = 0; i < definition.steps_size(); ++i) {
    steps[i].name = definition.steps(i).name();
    has_map_steps = has_map_steps || !definition.steps(i).map_over().empty();
  }
  CHORUS_RETURN_IF_ERROR(InitSteps(event.seq(), std::move(steps), state));
  state->status = WORKFLOW_STATUS_RUNNING;
  aids->may_have_map_steps = has_map_steps;
  FoldStartedRest(event, shared, state);
  return absl::OkStatus();
}

// A step's next visit starts once its current one ended (completed, or failed for good) and an
// edge into it was taken since the current one started.
absl::Status CheckNextVisit(const Event& event, const StepState& step, const WorkflowState& state) {
  const int visit = Visit(event);
  if (!VisitEnded(step)) {
    return Violation(state, event, "step '", step.name, "' started visit ", visit,
                     " but visit ", visit - 1, " is ", StepStatusName(step.status));
  }
  if (step.details().entered_by.empty()) {
    return Violation(state, event, "step '", step.name, "' started visit ", visit,
                     " but no edge into it was taken since visit ", visit - 1, " started");
  }
  if (event.step_started().attempt() != 1) {
    return Violation(state, event, "step '", step.name, "' started visit ", visit, " with attempt ",
                     event.step_started().attempt(), " (a visit starts with attempt 1)");
  }
  return absl::OkStatus();
}

absl::Status FoldStepStarted(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindStep(event, state, aids));
  const int attempt = event.step_started().attempt();
  const int visit = Visit(event);
  const int current = std::max(VisitOf(*step), 1);
  const bool next_visit = step->attempts > 0 && visit == current + 1;
  if (next_visit) {
    CHORUS_RETURN_IF_ERROR(CheckNextVisit(event, *step, *state));
  } else if (visit != current) {
    return Violation(*state, event, "step '", step->name, "' started visit ", visit,
                     " but its current visit is ", VisitOf(*step), " (visits increase by one)");
  } else if (step->status == StepStatus::kCompleted || step->status == StepStatus::kSkipped) {
    return Violation(*state, event, "step '", step->name, "' started attempt ", attempt,
                     " but it is already ", StepStatusName(step->status));
  } else if (attempt != step->attempts + 1) {
    return Violation(*state, event, "step '", step->name, "' started attempt ", attempt,
                     " but its next attempt is ", step->attempts + 1);
  }
  if (next_visit) {
    step->mutable_details().visit = visit;
    step->output.clear();  // the new visit's, once it completes
  }
  // A visit's start takes the edges that entered it.
  if (attempt == 1 && !step->details().entered_by.empty()) {
    step->mutable_details().entered_by.clear();
  }
  if (!step->details().taken.empty()) step->mutable_details().taken.clear();
  // A new attempt forgets the outcome of the previous one (a failure or cancellation).
  step->status = StepStatus::kRunning;
  step->attempts = attempt;
  step->error = absl::OkStatus();
  step->retryable = false;
  step->started_at = RecordedAt(event);
  step->finished_at = absl::InfinitePast();
  step->timed_out = false;
  const std::string& log_path = event.step_started().log_path();
  const StepDetails& details = step->details();
  if (details.log_path != log_path || details.retry_at != absl::InfinitePast() ||
      !details.blocked_on.empty()) {
    StepDetails& changed = step->mutable_details();
    changed.log_path = log_path;
    changed.retry_at = absl::InfinitePast();
    changed.blocked_on.clear();
  }
  return absl::OkStatus();
}

// A map step completes only once all of its instances have. `index`: the step's in state.steps.
absl::Status CheckInstancesCompleted(const Event& event, int index, const WorkflowState& state,
                                     const FoldAids& aids) {
  const StepState& step = state.steps[index];
  if (aids.may_have_map_steps && !step.expanded && index < state.definition().steps_size() &&
      !state.definition().steps(index).map_over().empty()) {
    return Violation(state, event, "map step '", step.name, "' completed before its expansion");
  }
  for (int instance : step.details().instances) {
    if (state.steps[instance].status != StepStatus::kCompleted) {
      return Violation(state, event, "map step '", step.name, "' completed while its instance '",
                       state.steps[instance].name, "' is ",
                       StepStatusName(state.steps[instance].status));
    }
  }
  return absl::OkStatus();
}

// What an attempt reported it spent, added to its step's and to the workflow's.
void AddCost(double cost, StepState* step, WorkflowState* state) {
  if (cost == 0) return;
  step->mutable_details().cost += cost;
  state->cost_spent += cost;
}

absl::Status FoldStepCompleted(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindRunningAttempt(event, state, aids));
  const int index = static_cast<int>(step - state->steps.data());
  if (step->map_of < 0) {
    CHORUS_RETURN_IF_ERROR(CheckInstancesCompleted(event, index, *state, *aids));
  }
  CHORUS_ASSIGN_OR_RETURN(std::vector<int> taken, TakenEdges(event, index, *state));
  const StepCompleted& completed = event.step_completed();
  step->status = StepStatus::kCompleted;
  step->output = completed.output();
  // A later visit's updates add to the earlier visits': they merge in visit order.
  if (VisitOf(*step) > 1) {
    auto& updates = step->mutable_details().state_updates;
    updates.insert(updates.end(), completed.state_updates().begin(),
                   completed.state_updates().end());
  } else if (!completed.state_updates().empty() || !step->details().state_updates.empty()) {
    step->mutable_details().state_updates.assign(completed.state_updates().begin(),
                                                 completed.state_updates().end());
  }
  FoldTaken(index, std::move(taken), state);
  AddCost(completed.cost(), step, state);
  step->finished_at = RecordedAt(event);
  return absl::OkStatus();
}

absl::Status FoldStepFailed(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindRunningAttempt(event, state, aids));
  const int index = static_cast<int>(step - state->steps.data());
  CHORUS_ASSIGN_OR_RETURN(std::vector<int> taken, TakenEdges(event, index, *state));
  const StepFailed& failed = event.step_failed();
  if (!taken.empty() && failed.has_next_attempt_at()) {
    return Violation(*state, event, "step '", step->name,
                     "' failed with a retry scheduled and took edges (only a failure for good "
                     "is routed)");
  }
  FoldTaken(index, std::move(taken), state);
  step->status = StepStatus::kFailed;
  step->error = FromError(failed.error());
  step->retryable = failed.retryable();
  step->timed_out = failed.timed_out();
  if (failed.has_next_attempt_at()) {
    step->mutable_details().retry_at = absl::FromUnixSeconds(failed.next_attempt_at().seconds()) +
                                       absl::Nanoseconds(failed.next_attempt_at().nanos());
  } else if (step->details().retry_at != absl::InfinitePast()) {
    step->mutable_details().retry_at = absl::InfinitePast();
  }
  AddCost(failed.cost(), step, state);
  step->finished_at = RecordedAt(event);
  return absl::OkStatus();
}

// Adds one step per item, "name[index]", after every step there is.
absl::Status FoldStepExpanded(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindStep(event, state, aids));
  const int map_step = static_cast<int>(step - state->steps.data());
  if (map_step >= state->definition().steps_size() ||
      state->definition().steps(map_step).map_over().empty()) {
    return Violation(*state, event, "step '", step->name, "' expanded but it is not a map step");
  }
  if (step->status != StepStatus::kRunning || step->expanded) {
    return Violation(*state, event, "map step '", step->name, "' expanded while ",
                     step->expanded ? "already expanded" : StepStatusName(step->status));
  }
  const StepExpanded& expanded = event.step_expanded();
  if (!expanded.items().empty() && !expanded.item_bytes().empty()) {
    return Violation(*state, event, "map step '", step->name,
                     "' expanded with items both as text and as bytes");
  }
  const auto& items = MapItems(expanded);
  for (int i = 0; i < items.size(); ++i) {
    const std::string instance = absl::StrCat(step->name, "[", i, "]");
    if (state->IndexOf(instance) >= 0) {
      return Violation(*state, event, "map step '", step->name, "' expanded into '", instance,
                       "', the name of another step");
    }
  }
  step->expanded = true;
  const std::string name = step->name;  // `step` dangles once `steps` grows
  for (int i = 0; i < items.size(); ++i) {
    StepState instance;
    instance.name = absl::StrCat(name, "[", i, "]");
    instance.map_of = map_step;
    instance.mutable_details().map_index = i;
    instance.mutable_details().map_item = items[i];
    state->steps[map_step].mutable_details().instances.push_back(
        static_cast<int>(state->steps.size()));
    state->AddStep(std::move(instance));  // its name is free: checked above
  }
  return absl::OkStatus();
}

absl::Status FoldStepBlocked(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindStep(event, state, aids));
  // Pending, failed (a retry) or running (an attempt cut off by a crash): about to start.
  if (IsTerminal(step->status) && step->status != StepStatus::kFailed) {
    return Violation(*state, event, "step '", step->name, "' blocked but it is ",
                     StepStatusName(step->status), " (only a step about to start can wait)");
  }
  step->mutable_details().blocked_on = event.step_blocked().resource();
  return absl::OkStatus();
}

absl::Status FoldStepCancelled(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindRunningAttempt(event, state, aids));
  step->status = StepStatus::kCancelled;
  step->error = absl::CancelledError(event.step_cancelled().reason());
  step->finished_at = RecordedAt(event);
  return absl::OkStatus();
}

absl::Status FoldStepSkipped(const Event& event, WorkflowState* state, FoldAids* aids) {
  CHORUS_ASSIGN_OR_RETURN(StepState * step, FindStep(event, state, aids));
  if (step->status != StepStatus::kPending) {
    return Violation(*state, event, "step '", step->name, "' skipped but it is already ",
                     StepStatusName(step->status), " (only a step never started can be skipped)");
  }
  step->status = StepStatus::kSkipped;
  step->finished_at = RecordedAt(event);
  return absl::OkStatus();
}

// Whether `step` failing leaves the workflow able to complete: a non-critical step, or an
// instance of one.
bool IsNonCritical(const StepState& step, const WorkflowState& state) {
  const int definition_index = step.map_of >= 0 ? step.map_of : state.IndexOf(step.name);
  return state.definition().steps(definition_index).non_critical();
}

absl::Status FoldWorkflowCompleted(const Event& event, WorkflowState* state) {
  CHORUS_RETURN_IF_ERROR(CheckWorkflowRunning(event, *state));
  for (const StepState& step : state->steps) {
    const bool tolerated =
        step.status == StepStatus::kFailed && (FailureRouted(step) || IsNonCritical(step, *state));
    if (step.status != StepStatus::kCompleted && step.status != StepStatus::kSkipped &&
        !tolerated) {
      return Violation(*state, event, "workflow_completed but step '", step.name, "' is ",
                       StepStatusName(step.status));
    }
  }
  const auto& failed = event.workflow_completed().failed_steps();
  state->failed_steps.assign(failed.begin(), failed.end());
  state->status =
      failed.empty() ? WORKFLOW_STATUS_COMPLETED : WORKFLOW_STATUS_COMPLETED_WITH_FAILURES;
  return absl::OkStatus();
}

absl::Status FoldWorkflowFailed(const Event& event, WorkflowState* state) {
  CHORUS_RETURN_IF_ERROR(CheckWorkflowRunning(event, *state));
  state->status = WORKFLOW_STATUS_FAILED;
  state->error = FromError(event.workflow_failed().error());
  state->failed_step = event.workflow_failed().step();
  return absl::OkStatus();
}

absl::Status FoldWorkflowCancelled(const Event& event, WorkflowState* state) {
  CHORUS_RETURN_IF_ERROR(CheckWorkflowRunning(event, *state));
  state->status = WORKFLOW_STATUS_CANCELLED;
  state->error = absl::CancelledError(event.workflow_cancelled().reason());
  return absl::OkStatus();
}

absl::Status FoldKind(const Event& event, const std::shared_ptr<const Event>& shared,
                      WorkflowState* state, FoldAids* aids) {
  switch (event.kind_case()) {
    case Event::kWorkflowStarted:
      return FoldWorkflowStarted(event, shared, state, aids);
    case Event::kStepStarted:
      return FoldStepStarted(event, state, aids);
    case Event::kStepCompleted:
      return FoldStepCompleted(event, state, aids);
    case Event::kStepFailed:
      return FoldStepFailed(event, state, aids);
    case Event::kStepCancelled:
      return FoldStepCancelled(event, state, aids);
    case Event::kStepSkipped:
      return FoldStepSkipped(event, state, aids);
    case Event::kWorkflowCompleted:
      return FoldWorkflowCompleted(event, state);
    case Event::kWorkflowFailed:
      return FoldWorkflowFailed(event, state);
    case Event::kWorkflowCancelled:
      return FoldWorkflowCancelled(event, state);
    case Event::kStepExpanded:
      return FoldStepExpanded(event, state, aids);
    case Event::kStepBlocked:
      return FoldStepBlocked(event, state, aids);
    case Event::KIND_NOT_SET:
      break;
  }
  return Violation(*state, event, "the event has no kind");
}

// Whether `event` folds with no more of the definition than its steps' names.
bool FoldsWithNamesAlone(const Event& event, const FoldAids& aids) {
  switch (event.kind_case()) {
    case Event::kStepCompleted:  // a map step's completion checks its expansion; edges taken
      return !aids.may_have_map_steps && event.step_completed().taken().empty();
    case Event::kStepFailed:  // edges taken are checked against the definition's
      return event.step_failed().taken().empty();
    case Event::kStepStarted:
    case Event::kStepCancelled:
    case Event::kStepSkipped:
    case Event::kStepBlocked:
    case Event::kWorkflowFailed:
    case Event::kWorkflowCancelled:
      return true;
    default:  // workflow_completed checks which failed steps are critical; an expansion, the map
      return false;
  }
}

}  // namespace

History::History(std::string workflow_id) { state_.workflow_id = std::move(workflow_id); }

absl::Status History::Apply(const Event& event) { return Fold(event, /*shared=*/nullptr); }

absl::Status History::Apply(std::shared_ptr<const Event> event) { return Fold(*event, event); }

absl::Status History::ApplyOutline(const StartedOutline& outline, StartedParse parsed) {
  CHORUS_RETURN_IF_ERROR(CheckSeq(outline.seq, state_));
  CHORUS_RETURN_IF_ERROR(CheckFirstStarted(outline.seq, state_));
  std::vector<StepState> steps(outline.steps);
  int next = 0;
  outline.ForEachStepName([&](absl::string_view name) { steps[next++].name = std::string(name); });
  CHORUS_RETURN_IF_ERROR(InitSteps(outline.seq, std::move(steps), &state_));
  state_.status = WORKFLOW_STATUS_RUNNING;
  state_.last_seq = outline.seq;
  aids_.may_have_map_steps = outline.has_map_steps;
  awaited_ = std::move(parsed);
  return absl::OkStatus();
}

absl::Status History::AwaitStarted() {
  if (!awaited_) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const Event>> started = awaited_();
  awaited_ = nullptr;
  CHORUS_RETURN_IF_ERROR(started.status());
  const Event& event = **started;
  // The outline's promise (event/started_outline.h), checked rather than trusted.
  const auto& steps = event.workflow_started().definition().steps();
  bool as_outlined = event.has_workflow_started() && event.seq() == 1 &&
                     steps.size() == static_cast<int>(state_.steps.size());
  for (int i = 0; as_outlined && i < steps.size(); ++i) {
    as_outlined = steps[i].name() == state_.steps[i].name;
  }
  if (!as_outlined) {
    return absl::InternalError(absl::StrCat("workflow '", state_.workflow_id, "', seq ",
                                            event.seq(),
                                            ": the event does not parse into the "
                                            "workflow_started event its bytes outlined"));
  }
  FoldStartedRest(event, *started, &state_);
  if (state_.last_seq == event.seq()) state_.updated_at = RecordedAt(event);
  return absl::OkStatus();
}

absl::Status History::Fold(const Event& event, const std::shared_ptr<const Event>& shared) {
  CHORUS_RETURN_IF_ERROR(CheckSeq(event.seq(), state_));
  if (awaited_ && !FoldsWithNamesAlone(event, aids_)) CHORUS_RETURN_IF_ERROR(AwaitStarted());
  CHORUS_RETURN_IF_ERROR(FoldKind(event, shared, &state_, &aids_));
  state_.last_seq = event.seq();
  state_.updated_at = RecordedAt(event);
  return absl::OkStatus();
}

absl::StatusOr<WorkflowState> FoldHistory(std::string workflow_id, absl::Span<const Event> events) {
  History history(std::move(workflow_id));
  for (const Event& event : events) CHORUS_RETURN_IF_ERROR(history.Apply(event));
  return std::move(history).TakeState();
}

}  // namespace chorus
