#include "workflow/internal/scheduler.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "event/events.h"
#include "google/protobuf/util/time_util.h"
#include "workflow/step_registry.h"

namespace chorus {
namespace {

// A map step's items: the non-empty lines of the output it maps over.
std::vector<std::string> OutputLines(absl::string_view output) {
  return absl::StrSplit(output, '\n', absl::SkipEmpty());
}

// Events of a visit past the step's first say which.
void SetVisit(const StepState& step, Event& event) {
  const int visit = VisitOf(step);
  if (visit <= 1) return;
  if (event.has_step_completed()) event.mutable_step_completed()->set_visit(visit);
  if (event.has_step_failed()) event.mutable_step_failed()->set_visit(visit);
  if (event.has_step_cancelled()) event.mutable_step_cancelled()->set_visit(visit);
}

// The edges a defined step's ended visit takes, by their targets' names, into `taken`.
void AddTaken(const RoutingGraph& routing, const WorkflowState& state, int step, bool succeeded,
              const std::vector<StateUpdate>& updates,
              google::protobuf::RepeatedPtrField<std::string>& taken) {
  for (int to : TakenEdges(routing, state, step, succeeded, updates)) {
    taken.Add(std::string(state.steps[to].name));
  }
}

std::vector<int> UnmetDependencies(const WorkflowState& state,
                                   const std::vector<std::vector<int>>& dependencies) {
  std::vector<int> unmet;
  unmet.reserve(state.steps.size());
  for (const std::vector<int>& of_step : dependencies) {
    unmet.push_back(static_cast<int>(std::count_if(of_step.begin(), of_step.end(), [&](int d) {
      return state.steps[d].status != StepStatus::kCompleted;
    })));
  }
  // Instances of map steps expanded before a crash: no dependencies of their own.
  unmet.resize(state.steps.size(), 0);
  return unmet;
}

}  // namespace

Scheduler::Scheduler(const WorkflowState& state, std::vector<std::vector<int>> dependencies,
                     SchedulerLimits limits, SchedulerHooks hooks)
    : state_(state),
      limits_(limits),
      hooks_(std::move(hooks)),
      graph_(dependencies),
      routing_(HasRouting(state.definition())
                   ? std::make_optional<RoutingGraph>(state.definition(), dependencies, nullptr)
                   : std::nullopt),
      pending_start_(graph_.defined(), false),
      unmet_dependencies_(UnmetDependencies(state, dependencies)),
      resources_(state.definition()) {
  RecordedDecisions recorded = DecideFromRecorded(state, dependencies);
  for (const auto& [step, at] : recorded.retries) retries_.emplace(at, step);
  for (int step : recorded.tolerated) tolerated_failures_.push_back(state.steps[step].name);
  failure_ = std::move(recorded.failure);
  cancel_reason_ = std::move(recorded.cancel_reason);
  stopping_ = recorded.stopping;
  for (int step : recorded.ready) {
    // With routing, Route starts visits (within their bounds); attempts cut off run again.
    if (!routing_ || state.steps[step].status == StepStatus::kRunning) MakeReady(step);
  }
  Route();
}

void Scheduler::MakeReady(int step) {
  ready_.insert(OrderKeyOf(state_, step));
  if (step < graph_.defined()) pending_start_[step] = true;
}

std::optional<absl::Time> Scheduler::NextRetryAt() const {
  if (stopping_ || retries_.empty()) return std::nullopt;
  return retries_.begin()->first;
}

void Scheduler::ReadyDueRetries(absl::Time now) {
  if (stopping_) return;
  while (!retries_.empty() && retries_.begin()->first <= now) {
    MakeReady(retries_.begin()->second);
    retries_.erase(retries_.begin());
  }
}

std::vector<int> Scheduler::StartReady() {
  std::vector<int> started;
  if (stopping_) return started;
  for (int step : blocked_) MakeReady(step);
  blocked_.clear();
  const size_t running_before = running_.size();
  auto it = ready_.begin();
  while (it != ready_.end() && static_cast<int>(running_.size()) < limits_.max_concurrency) {
    if (!HasRoomForAnotherStep(running_before)) {
      StopForFailure(-1, absl::ResourceExhaustedError(absl::StrCat(
                             "the history of workflow '", state_.workflow_id,
                             "' reached its limit of ", limits_.max_history_events, " events")));
      break;
    }
    const int step = std::get<2>(*it);
    it = ready_.erase(it);
    if (!DefinitionOf(step).map_over().empty() && state_.steps[step].map_of < 0) {
      StartMapStep(step);
      it = ready_.begin();  // its instances take its place in the order
      continue;
    }
    const int map_of = state_.steps[step].map_of;
    const int map_limit = DefinitionOf(step).map_concurrency();
    if (map_of >= 0 && map_limit > 0 && running_instances_[map_of] >= map_limit) {
      blocked_.push_back(step);
      continue;
    }
    if (!TakeResources(step)) {
      blocked_.push_back(step);
      continue;
    }
    if (map_of >= 0) ++running_instances_[map_of];
    // A step whose visit ended starts its next visit; otherwise its visit's next attempt.
    const StepState& s = state_.steps[step];
    const bool next_visit = VisitEnded(s);
    const int visit = next_visit ? VisitOf(s) + 1 : std::max(VisitOf(s), 1);
    Event event;
    StepStarted* start = event.mutable_step_started();
    start->set_step(s.name);
    start->set_attempt(next_visit ? 1 : s.attempts + 1);
    if (visit > 1) start->set_visit(visit);
    start->set_log_path(hooks_.log_path(step, visit, start->attempt()));
    hooks_.record(std::move(event));
    if (step < graph_.defined()) pending_start_[step] = false;
    running_.insert(step);
    started.push_back(step);
  }
  return started;
}

// Whether history can take another step's start and outcome and still end the workflow: a
// cancellation for each step that was running before this batch, the run's last events.
bool Scheduler::HasRoomForAnotherStep(size_t running_before) const {
  constexpr int kEventsToEnd = 3;
  const int64_t needed = state_.last_seq + 2 + static_cast<int64_t>(running_before) + kEventsToEnd;
  return needed <= limits_.max_history_events;
}

// Takes every resource `step` names, or none: then records, once, which one it waits for.
bool Scheduler::TakeResources(int step) {
  const std::optional<std::string> full = resources_.TakeAll(DefinitionOf(step).locks());
  if (!full) return true;
  if (state_.steps[step].details().blocked_on != *full) {
    Event event;
    event.mutable_step_blocked()->set_step(state_.steps[step].name);
    event.mutable_step_blocked()->set_resource(*full);
    hooks_.record(std::move(event));
  }
  return false;
}

// A map step starts by recording its items; its instances are then ready in its place.
void Scheduler::StartMapStep(int step) {
  pending_start_[step] = false;
  const StepState* source = state_.FindStep(DefinitionOf(step).map_over());
  std::vector<std::string> items = OutputLines(source->output);
  const int attempt = state_.steps[step].attempts + 1;
  Event start;
  start.mutable_step_started()->set_step(state_.steps[step].name);
  start.mutable_step_started()->set_attempt(attempt);
  hooks_.record(std::move(start));
  Event expand;
  expand.mutable_step_expanded()->set_step(state_.steps[step].name);
  SetMapItems(std::move(items), expand.mutable_step_expanded());
  hooks_.record(std::move(expand));
  for (int instance : state_.steps[step].details().instances) {
    unmet_dependencies_.push_back(0);
    MakeReady(instance);
  }
  if (state_.steps[step].details().instances.empty()) RecordCompleted(step, attempt, "", {}, 0);
}

void Scheduler::Ended(int step) {
  running_.erase(step);
  resources_.Release(DefinitionOf(step).locks());
  const int map_of = state_.steps[step].map_of;
  if (map_of >= 0) --running_instances_[map_of];
}

void Scheduler::Completed(int step, int attempt, std::string output,
                          std::vector<StateUpdate> updates, double cost) {
  RecordCompleted(step, attempt, std::move(output), std::move(updates), cost);
  CheckBudget(step);
}

void Scheduler::RecordCompleted(int step, int attempt, std::string output,
                                std::vector<StateUpdate> updates, double cost) {
  Event event;
  StepCompleted* completed = event.mutable_step_completed();
  completed->set_step(state_.steps[step].name);
  completed->set_attempt(attempt);
  completed->set_output(std::move(output));
  if (routing_ && step < graph_.defined()) {
    AddTaken(*routing_, state_, step, /*succeeded=*/true, updates, *completed->mutable_taken());
  }
  for (StateUpdate& update : updates) *completed->add_state_updates() = std::move(update);
  completed->set_cost(cost);
  SetVisit(state_.steps[step], event);
  hooks_.record(std::move(event));
  const int map_of = state_.steps[step].map_of;
  if (map_of >= 0) {
    MaybeFinishMap(map_of);
  } else if (routing_) {
    Route();
  } else {
    MarkCompleted(step);
  }
}

// Starts what the joins say starts, and records the skips they decide, until nothing changes:
// a skip may resolve the edges into other steps. A visit past its step's bound fails the run.
void Scheduler::Route() {
  if (!routing_) return;
  for (bool changed = true; changed && !stopping_;) {
    changed = false;
    for (int step = 0; step < routing_->defined() && !stopping_; ++step) {
      if (running_.contains(step)) continue;
      const JoinDecision join = DecideJoin(*routing_, state_, step, pending_start_);
      if (join.kind == JoinDecision::kStart) {
        absl::Status bound = CheckVisitBound(*routing_, state_, step, join.visit);
        if (!bound.ok()) {
          StopForFailure(-1, std::move(bound));
          return;
        }
        MakeReady(step);
        changed = true;
      } else if (join.kind == JoinDecision::kSkip) {
        Event event;
        event.mutable_step_skipped()->set_step(state_.steps[step].name);
        event.mutable_step_skipped()->set_reason(join.reason);
        hooks_.record(std::move(event));
        changed = true;
      }
    }
  }
}

void Scheduler::MarkCompleted(int step) {
  for (int d : graph_.DependentsOf(step)) {
    if (--unmet_dependencies_[d] == 0 && state_.steps[d].status == StepStatus::kPending) {
      MakeReady(d);
    }
  }
}

void Scheduler::Failed(int step, int attempt, const absl::Status& error, bool timed_out,
                       double cost, absl::Time now) {
  const std::optional<absl::Time> next =
      stopping_ ? std::nullopt : NextAttemptAt(DefinitionOf(step).retry(), attempt, error, now);
  Event event;
  StepFailed* failed = event.mutable_step_failed();
  failed->set_step(state_.steps[step].name);
  failed->set_attempt(attempt);
  *failed->mutable_error() = ToError(error);
  failed->set_retryable(IsRetryable(error));
  failed->set_timed_out(timed_out);
  failed->set_cost(cost);
  if (next) {
    *failed->mutable_next_attempt_at() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(*next));
    retries_.emplace(*next, step);
  } else if (routing_ && !stopping_ && step < graph_.defined()) {
    AddTaken(*routing_, state_, step, /*succeeded=*/false, {}, *failed->mutable_taken());
  }
  SetVisit(state_.steps[step], event);
  const bool routed = !failed->taken().empty();
  hooks_.record(std::move(event));
  if (routed) {
    Route();  // handled: the run goes on along the edges the failure took
  } else if (!next) {
    FailFinally(step, error);
  }
  CheckBudget(step);
}

bool Scheduler::FailureStopsTheRun(int step, int attempt, const absl::Status& error) const {
  if (stopping_) return false;  // nothing more starts anyway
  const absl::Time any_time = absl::UnixEpoch();  // only whether a retry comes matters
  if (NextAttemptAt(DefinitionOf(step).retry(), attempt, error, any_time)) return false;
  if (routing_ && step < graph_.defined() &&
      !TakenEdges(*routing_, state_, step, /*succeeded=*/false, {}).empty()) {
    return false;
  }
  return EffectOfFinalFailure(state_.definition(), DefinitionOf(step)) ==
         FinalFailure::kStopsTheRun;
}

// `step` failed for good. A non-critical step's dependents are skipped; under the continue
// policy so are a critical step's, and the run fails at its end; otherwise the run stops now.
void Scheduler::FailFinally(int step, const absl::Status& error) {
  const int map_of = state_.steps[step].map_of;
  switch (EffectOfFinalFailure(state_.definition(), DefinitionOf(step))) {
    case FinalFailure::kTolerated:
      if (map_of < 0) tolerated_failures_.push_back(state_.steps[step].name);
      break;
    case FinalFailure::kFailsAtTheEnd:
      if (!failure_) failure_.emplace(step, error);
      break;
    case FinalFailure::kStopsTheRun:
      if (!stopping_) StopForFailure(step, error);
      if (map_of >= 0) MaybeFinishMap(map_of);
      return;
  }
  if (map_of >= 0) {
    MaybeFinishMap(map_of);
  } else {
    SkipDependents(step);
  }
}

void Scheduler::Cancelled(int step, int attempt, std::string reason) {
  Event event;
  StepCancelled* cancelled = event.mutable_step_cancelled();
  cancelled->set_step(state_.steps[step].name);
  cancelled->set_attempt(attempt);
  cancelled->set_reason(std::move(reason));
  SetVisit(state_.steps[step], event);
  hooks_.record(std::move(event));
  const int map_of = state_.steps[step].map_of;
  if (map_of >= 0) MaybeFinishMap(map_of);
  CheckBudget(step);
}

void Scheduler::SkipDependents(int step) {
  if (routing_) {
    Route();  // the joins skip what the failure's edges lead to
    return;
  }
  const absl::Span<const int> dependents = graph_.DependentsOf(step);
  std::vector<int> pending(dependents.begin(), dependents.end());
  const std::string reason = absl::StrCat("depends on failed step '", state_.steps[step].name, "'");
  while (!pending.empty()) {
    const int next = pending.back();
    pending.pop_back();
    if (state_.steps[next].status != StepStatus::kPending) continue;
    Event event;
    event.mutable_step_skipped()->set_step(state_.steps[next].name);
    event.mutable_step_skipped()->set_reason(reason);
    hooks_.record(std::move(event));
    const absl::Span<const int> next_dependents = graph_.DependentsOf(next);
    pending.insert(pending.end(), next_dependents.begin(), next_dependents.end());
  }
}

// Once every instance of a map step has ended for good, the map step ends: completed when
// they all completed, else failed (or cancelled) like its first unsuccessful instance.
void Scheduler::MaybeFinishMap(int map_step) {
  if (state_.steps[map_step].status != StepStatus::kRunning) return;
  const std::vector<int>& instances = state_.steps[map_step].details().instances;
  MapProgress& progress = map_progress_[map_step];
  for (; progress.finished < instances.size(); ++progress.finished) {
    const int instance = instances[progress.finished];
    const StepState& s = state_.steps[instance];
    if (!IsTerminal(s.status) || RetryScheduled(s) || running_.contains(instance)) return;
    if (s.status != StepStatus::kCompleted && progress.unsuccessful < 0) {
      progress.unsuccessful = instance;
    }
  }
  const int unsuccessful = progress.unsuccessful;
  const int attempt = state_.steps[map_step].attempts;
  if (unsuccessful < 0) {
    RecordCompleted(map_step, attempt, "", {}, 0);
    return;
  }
  const StepState& instance = state_.steps[unsuccessful];
  const std::string name = state_.steps[map_step].name;
  const absl::Status error(instance.error.code(), absl::StrCat("instance '", instance.name,
                                                               "': ", instance.error.message()));
  Event event;
  if (instance.status == StepStatus::kCancelled) {
    event.mutable_step_cancelled()->set_step(name);
    event.mutable_step_cancelled()->set_attempt(attempt);
    event.mutable_step_cancelled()->set_reason(std::string(error.message()));
    hooks_.record(std::move(event));
    return;
  }
  StepFailed* failed = event.mutable_step_failed();
  failed->set_step(name);
  failed->set_attempt(attempt);
  *failed->mutable_error() = ToError(error);
  hooks_.record(std::move(event));
  switch (EffectOfFinalFailure(state_.definition(), DefinitionOf(map_step))) {
    case FinalFailure::kTolerated:
      tolerated_failures_.push_back(name);
      SkipDependents(map_step);
      break;
    case FinalFailure::kFailsAtTheEnd:
      SkipDependents(map_step);
      break;
    case FinalFailure::kStopsTheRun:
      break;
  }
}

void Scheduler::CheckBudget(int step) {
  if (!stopping_ && OverBudget(state_)) StopForFailure(step, BudgetExceeded(state_));
}

void Scheduler::StopForFailure(int step, absl::Status error) {
  stopping_ = true;
  if (!failure_) failure_.emplace(step, std::move(error));
  hooks_.cancel_running(FailureReason());
}

// Why steps are cancelled when the run fails: "step 'x' failed", or the failure itself when no
// step caused it (a limit).
std::string Scheduler::FailureReason() const {
  if (failure_->first < 0) return std::string(failure_->second.message());
  return absl::StrCat("step '", state_.steps[failure_->first].name, "' failed");
}

// The running steps are cancelled already: the run's token is their parent.
void Scheduler::StopForCancellation(std::string reason) {
  stopping_ = true;
  cancel_reason_ = std::move(reason);
}

absl::Status Scheduler::End() {
  if (failure_) {
    CancelCutOffAttempts(FailureReason());
  } else if (cancel_reason_) {
    CancelCutOffAttempts(*cancel_reason_);
  }
  Event event;
  if (failure_) {
    WorkflowFailed* failed = event.mutable_workflow_failed();
    if (failure_->first >= 0) failed->set_step(state_.steps[failure_->first].name);
    *failed->mutable_error() = ToError(failure_->second);
  } else if (cancel_reason_) {
    event.mutable_workflow_cancelled()->set_reason(*cancel_reason_);
  } else {
    for (const StepState& step : state_.steps) {
      const bool ended = step.status == StepStatus::kCompleted ||
                         step.status == StepStatus::kSkipped ||
                         (step.status == StepStatus::kFailed && !RetryScheduled(step));
      if (!ended) {
        return absl::InternalError(absl::StrCat("workflow '", state_.workflow_id, "': step '",
                                                step.name, "' can never run"));
      }
    }
    std::vector<std::string> failed = tolerated_failures_;
    std::sort(failed.begin(), failed.end(), [this](const std::string& a, const std::string& b) {
      return OrderKeyOf(state_, state_.IndexOf(a)) < OrderKeyOf(state_, state_.IndexOf(b));
    });
    WorkflowCompleted* completed = event.mutable_workflow_completed();
    for (const std::string& name : failed) completed->add_failed_steps(name);
    for (auto& [key, value] : CompletedState(state_)) {
      StateUpdate* entry = completed->add_final_state();
      entry->set_key(key);
      *entry->mutable_value() = std::move(value);
    }
  }
  hooks_.record(std::move(event));
  return absl::OkStatus();
}

// Nothing runs at the end of a run, so a step still recorded as running is an attempt cut off
// by an earlier crash, which a stopping run does not start again.
void Scheduler::CancelCutOffAttempts(absl::string_view reason) {
  for (const StepState& step : state_.steps) {
    if (step.status != StepStatus::kRunning) continue;
    Event event;
    StepCancelled* cancelled = event.mutable_step_cancelled();
    cancelled->set_step(step.name);
    cancelled->set_attempt(step.attempts);
    cancelled->set_reason(std::string(reason));
    SetVisit(step, event);
    hooks_.record(std::move(event));
  }
}

}  // namespace chorus
