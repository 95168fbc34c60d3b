#include "workflow/internal/coordinator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "event/snapshot.h"
#include "event/text.h"
#include "google/protobuf/util/time_util.h"
#include "workflow/definition.h"
#include "workflow/file_name.h"
#include "workflow/internal/scheduler.h"
#include "workflow/step_context.h"

namespace chorus {
namespace {

// How often the coordinator looks at its run's token while it waits with no step running (for
// a retry, say): the token is cancelled from other threads (Engine::Cancel, the lease keeper).
constexpr absl::Duration kCancellationCheck = absl::Milliseconds(250);

std::string LogPath(absl::string_view directory, absl::string_view workflow_id,
                    absl::string_view step, int attempt) {
  return absl::StrCat(directory, "/", FileNameFor(workflow_id), "/", FileNameFor(step), ".",
                      attempt, ".log");
}

// What an attempt would add to history: its output and its state updates.
size_t PayloadBytes(const absl::StatusOr<std::string>& result,
                    const std::vector<StateUpdate>& updates) {
  size_t bytes = result.ok() ? result->size() : 0;
  for (const StateUpdate& update : updates) bytes += update.ByteSizeLong();
  return bytes;
}

// Why `token` was cancelled, as history records it: the reason may come from outside (a
// caller's token, a cancellation request stored by another program), so it is made recordable.
std::string RecordedReason(const CancellationToken& token) {
  return RecordableText(token.reason());
}

}  // namespace

Coordinator::Coordinator(EventStore& store, Executor& executor, const EngineOptions& options,
                         CancellationToken cancellation)
    : store_(store),
      executor_(executor),
      options_(options),
      max_concurrency_(options.max_concurrency > 0 ? options.max_concurrency : executor.threads()),
      cancellation_(std::move(cancellation)),
      history_("") {}

absl::StatusOr<WorkflowState> Coordinator::Start(absl::string_view workflow_id,
                                                 const WorkflowDefinition& definition,
                                                 absl::string_view input, DefinitionGraph graph) {
  CHORUS_RETURN_IF_ERROR(CheckName("workflow id", workflow_id));
  if (input.size() > options_.max_payload_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("workflow '", workflow_id, "': the input of ", input.size(),
                     " bytes is more than the limit of ", options_.max_payload_bytes));
  }
  history_ = History(std::string(workflow_id));
  Event event;
  WorkflowStarted* started = event.mutable_workflow_started();
  *started->mutable_definition() = definition;
  started->set_fingerprint(Fingerprint(definition));
  started->set_input(std::string(input));
  Record(std::move(event));
  return Drive(std::move(graph));
}

absl::StatusOr<WorkflowState> Coordinator::Resume(WorkflowState recorded, DefinitionGraph graph) {
  committed_seq_ = recorded.last_seq;
  snapshot_seq_ = recorded.last_seq;
  history_ = History(std::move(recorded));
  if (state().status != WORKFLOW_STATUS_RUNNING) return RecordedResult();
  return Drive(std::move(graph));
}

absl::StatusOr<WorkflowState> Coordinator::Drive(DefinitionGraph graph) {
  const RecordedDecisions recorded = DecideFromRecorded(state(), graph.dependencies);
  BuildGraph(std::move(graph));
  ContinueRecorded(recorded);
  while (true) {
    if (!stopping_ && cancellation_.IsCancelled()) {
      StopForCancellation(RecordedReason(cancellation_));
    }
    ScheduleDueRetries();
    std::vector<std::pair<int, CancellationToken>> started;
    if (!stopping_) started = StartReadySteps();
    if (absl::Status committed = Commit(); !committed.ok()) {
      AbandonRunningSteps("the workflow's history could not be written");
      return committed;
    }
    Dispatch(std::move(started));
    committed_.clear();  // while the started steps run, not before they start
    // Saved while the started steps run (unless one ran on this thread).
    if (absl::Status saved = MaybeSaveSnapshot(); !saved.ok()) {
      AbandonRunningSteps("a snapshot of the workflow could not be saved");
      return saved;
    }
    if (running_.empty() && (stopping_ || retries_.empty())) break;
    std::vector<Outcome> outcomes = outcomes_.Await(
        running_.size(), options_.mode == ScheduleMode::kWave, NextWakeUp(), last_commit_time_);
    CancelTimedOutSteps();
    std::sort(outcomes.begin(), outcomes.end(), [this](const Outcome& a, const Outcome& b) {
      return std::make_pair(OrderKeyOf(state(), a.step), a.attempt) <
             std::make_pair(OrderKeyOf(state(), b.step), b.attempt);
    });
    for (Outcome& outcome : outcomes) RecordOutcome(outcome);
  }
  // What was recorded is committed; the workflow stays unfinished, to be resumed.
  if (!driver_fault_.ok()) return driver_fault_;
  return Finish();
}

// What the history shows in progress continues, as the scheduler decided.
void Coordinator::ContinueRecorded(const RecordedDecisions& recorded) {
  for (const auto& [step, at] : recorded.retries) retries_.emplace(at, step);
  for (int step : recorded.tolerated) tolerated_failures_.push_back(state().steps[step].name);
  failure_ = recorded.failure;
  cancel_reason_ = recorded.cancel_reason;
  stopping_ = recorded.stopping;
  for (int step : recorded.ready) MakeReady(step);
}

std::vector<std::pair<int, CancellationToken>> Coordinator::StartReadySteps() {
  for (int step : blocked_) MakeReady(step);
  blocked_.clear();
  std::vector<std::pair<int, CancellationToken>> started;
  auto it = ready_.begin();
  while (it != ready_.end() &&
         static_cast<int>(running_.size() + started.size()) < max_concurrency_) {
    if (!HasRoomForAnotherStep()) {
      StopForFailure(-1, absl::ResourceExhaustedError(absl::StrCat(
                             "the history of workflow '", state().workflow_id,
                             "' reached its limit of ", options_.max_history_events, " events")));
      break;
    }
    const int step = std::get<2>(*it);
    it = ready_.erase(it);
    if (!DefinitionOf(step).map_over().empty() && state().steps[step].map_of < 0) {
      StartMapStep(step);
      it = ready_.begin();  // its instances take its place in the order
      continue;
    }
    const int map_of = state().steps[step].map_of;
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
    Event event;
    StepStarted* start = event.mutable_step_started();
    start->set_step(state().steps[step].name);
    start->set_attempt(state().steps[step].attempts + 1);
    if (!options_.log_directory.empty() && functions_[step] != nullptr) {
      start->set_log_path(
          LogPath(options_.log_directory, state().workflow_id, start->step(), start->attempt()));
    }
    Record(std::move(event));
    started.emplace_back(step, CancellationToken::ChildOf(cancellation_));
  }
  return started;
}

// Whether history can take another step's start and outcome and still end the workflow: a
// cancellation for each running step, the run's last events.
bool Coordinator::HasRoomForAnotherStep() const {
  constexpr int kEventsToEnd = 3;
  const int64_t needed =
      state().last_seq + 2 + static_cast<int64_t>(running_.size()) + kEventsToEnd;
  return needed <= options_.max_history_events;
}

// Takes every resource `step` names, or none: then records, once, which one it waits for.
bool Coordinator::TakeResources(int step) {
  const std::optional<std::string> full = resources_->TakeAll(DefinitionOf(step).locks());
  if (!full) return true;
  if (state().steps[step].details().blocked_on != *full) {
    Event event;
    event.mutable_step_blocked()->set_step(state().steps[step].name);
    event.mutable_step_blocked()->set_resource(*full);
    Record(std::move(event));
  }
  return false;
}

void Coordinator::ScheduleDueRetries() {
  if (stopping_) return;
  const absl::Time now = absl::Now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    MakeReady(retries_.begin()->second);
    retries_.erase(retries_.begin());
  }
}

// The next moment something must happen even if no step finishes.
absl::Time Coordinator::NextWakeUp() const {
  absl::Time wake = absl::Now() + kCancellationCheck;
  for (const auto& [step, running] : running_) {
    if (!running.timed_out) wake = std::min(wake, running.deadline);
  }
  if (!stopping_ && !retries_.empty()) wake = std::min(wake, retries_.begin()->first);
  return wake;
}

void Coordinator::CancelTimedOutSteps() {
  const absl::Time now = absl::Now();
  for (auto& [step, running] : running_) {
    if (running.timed_out || running.deadline > now) continue;
    running.timed_out = true;
    running.token.Cancel(
        absl::StrCat("timed out after ", absl::FormatDuration(TimeoutOf(DefinitionOf(step)))));
  }
}

absl::Status Coordinator::Commit() {
  if (!record_error_.ok()) return record_error_;
  if (batch_.empty()) return absl::OkStatus();
  const absl::Time begin = absl::Now();
  CHORUS_RETURN_IF_ERROR(store_.Append(state().workflow_id, committed_seq_, batch_));
  last_commit_time_ = absl::Now() - begin;
  if (options_.on_commit) options_.on_commit(state().workflow_id, batch_);
  committed_seq_ = batch_.back().seq();
  committed_.clear();
  committed_.swap(batch_);
  return absl::OkStatus();
}

absl::Status Coordinator::MaybeSaveSnapshot() {
  if (options_.snapshot_min_events <= 0) return absl::OkStatus();
  const int64_t interval = std::max<int64_t>(options_.snapshot_min_events,
                                             static_cast<int64_t>(state().steps.size()) / 4);
  if (committed_seq_ - snapshot_seq_ < interval) return absl::OkStatus();
  CHORUS_RETURN_IF_ERROR(
      store_.SaveSnapshot(state().workflow_id, committed_seq_, SerializeSnapshot(state())));
  snapshot_seq_ = committed_seq_;
  return absl::OkStatus();
}

// The started steps go to the executor together: one lock and one wake-up for the batch.
// A step that starts alone, while no other runs and no retry waits, and that has no timeout
// to enforce, runs here instead: the coordinator would only wait for it, and a chain of short
// steps then hands no step to another thread. Cancellation still reaches it through its token,
// which other threads cancel (Engine::Cancel, the lease keeper when the lease is lost or a
// cancellation is requested).
void Coordinator::Dispatch(std::vector<std::pair<int, CancellationToken>> started) {
  if (started.empty()) return;
  const int first = started.front().first;
  if (started.size() == 1 && running_.empty() && retries_.empty() &&
      !DefinitionOf(first).has_timeout()) {
    AttemptTask(first, std::move(started.front().second))();
    return;
  }
  std::vector<std::function<void()>> tasks;
  tasks.reserve(started.size());
  for (auto& [step, token] : started) tasks.push_back(AttemptTask(step, std::move(token)));
  executor_.Schedule(std::move(tasks));
}

std::function<void()> Coordinator::AttemptTask(int step, CancellationToken token) {
  const StepState& s = state().steps[step];
  running_.emplace(step, Running{token, DeadlineOf(DefinitionOf(step), absl::Now())});
  AttemptData data{functions_[step],
                   &state(),
                   s.name,
                   s.attempts,
                   s.details().log_path,
                   views_->CopyDependencyOutputs(step),
                   views_->uses_state() ? views_->VisibleState(step) : StateValues(),
                   s.details().map_index,
                   s.details().map_item};
  return [this, step, token = std::move(token), data = std::move(data)]() mutable {
    outcomes_.Post(RunAttempt(step, token, std::move(data)));
  };
}

void Coordinator::RecordOutcome(Outcome& outcome) {
  const int step = outcome.step;
  auto running = running_.find(step);
  const CancellationToken token = running->second.token;
  const bool timed_out = running->second.timed_out;
  running_.erase(running);
  resources_->Release(DefinitionOf(step).locks());
  const int map_of = state().steps[step].map_of;
  if (map_of >= 0) --running_instances_[map_of];
  if (!outcome.result.ok() && IsDriverFault(outcome.result.status())) {
    StopForDriverFault(step, outcome.attempt, outcome.result.status());
    return;
  }
  // An attempt cancelled because the driver stopped for its own fault is cut off, not ended.
  if (!driver_fault_.ok() && outcome.cancelled && !outcome.result.ok()) return;
  const size_t payload = PayloadBytes(outcome.result, outcome.state_updates);
  if (outcome.result.ok() && payload > options_.max_payload_bytes) {
    RecordFailed(step, outcome.attempt,
                 absl::ResourceExhaustedError(
                     absl::StrCat("step '", state().steps[step].name, "' output ", payload,
                                  " bytes, more than the limit of ", options_.max_payload_bytes)),
                 /*timed_out=*/false, outcome.cost);
  } else if (outcome.result.ok()) {
    RecordCompleted(step, outcome.attempt, *std::move(outcome.result),
                    std::move(outcome.state_updates), outcome.cost);
  } else if (timed_out) {
    RecordFailed(step, outcome.attempt,
                 absl::DeadlineExceededError(
                     absl::StrCat("step '", state().steps[step].name, "' ", token.reason())),
                 /*timed_out=*/true, outcome.cost);
  } else if (outcome.cancelled) {
    Event event;
    StepCancelled* cancelled = event.mutable_step_cancelled();
    cancelled->set_step(state().steps[step].name);
    cancelled->set_attempt(outcome.attempt);
    cancelled->set_reason(RecordedReason(token));
    Record(std::move(event));
    if (map_of >= 0) MaybeFinishMap(map_of);
  } else {
    RecordFailed(step, outcome.attempt, outcome.result.status(), /*timed_out=*/false, outcome.cost);
  }
  CheckBudget(step);
}

void Coordinator::RecordCompleted(int step, int attempt, std::string output,
                                  std::vector<StateUpdate> updates, double cost) {
  if (!updates.empty()) views_->NoteUpdates();
  Event event;
  StepCompleted* completed = event.mutable_step_completed();
  completed->set_step(state().steps[step].name);
  completed->set_attempt(attempt);
  completed->set_output(std::move(output));
  for (StateUpdate& update : updates) *completed->add_state_updates() = std::move(update);
  completed->set_cost(cost);
  Record(std::move(event));
  const int map_of = state().steps[step].map_of;
  if (map_of >= 0) {
    MaybeFinishMap(map_of);
  } else {
    MarkCompleted(step);
  }
}

void Coordinator::RecordFailed(int step, int attempt, const absl::Status& error, bool timed_out,
                               double cost) {
  const std::optional<absl::Time> next =
      stopping_ ? std::nullopt
                : NextAttemptAt(DefinitionOf(step).retry(), attempt, error, absl::Now());
  Event event;
  StepFailed* failed = event.mutable_step_failed();
  failed->set_step(state().steps[step].name);
  failed->set_attempt(attempt);
  *failed->mutable_error() = ToError(error);
  failed->set_retryable(IsRetryable(error));
  failed->set_timed_out(timed_out);
  failed->set_cost(cost);
  if (next) {
    *failed->mutable_next_attempt_at() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(*next));
    retries_.emplace(*next, step);
  }
  Record(std::move(event));
  if (!next) FailFinally(step, error);
}

// `step` failed for good. A non-critical step's dependents are skipped; under the continue
// policy so are a critical step's, and the run fails at its end; otherwise the run stops now.
void Coordinator::FailFinally(int step, const absl::Status& error) {
  const int map_of = state().steps[step].map_of;
  switch (EffectOfFinalFailure(state().definition(), DefinitionOf(step))) {
    case FinalFailure::kTolerated:
      if (map_of < 0) tolerated_failures_.push_back(state().steps[step].name);
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

void Coordinator::CheckBudget(int step) {
  if (!stopping_ && OverBudget(state())) StopForFailure(step, BudgetExceeded(state()));
}

void Coordinator::StopForFailure(int step, absl::Status error) {
  stopping_ = true;
  if (!failure_) failure_.emplace(step, std::move(error));
  const std::string reason = FailureReason();
  for (auto& [running_step, running] : running_) running.token.Cancel(reason);
}

// Why steps are cancelled when the run fails: "step 'x' failed", or the failure itself when no
// step caused it (a limit).
std::string Coordinator::FailureReason() const {
  if (failure_->first < 0) return std::string(failure_->second.message());
  return absl::StrCat("step '", state().steps[failure_->first].name, "' failed");
}

// Nothing is recorded of the attempt: history shows it started and never finished, as after a
// crash, and a resumed run starts it again. The first fault is the one the run returns.
void Coordinator::StopForDriverFault(int step, int attempt, const absl::Status& fault) {
  stopping_ = true;
  if (!driver_fault_.ok()) return;
  driver_fault_ = MarkDriverFault(absl::Status(
      fault.code(),
      absl::StrCat("workflow '", state().workflow_id, "' stopped: step '", state().steps[step].name,
                   "' (attempt ", attempt, ") could not run: ", fault.message(),
                   ". Nothing was recorded as its outcome; resuming the workflow once the cause "
                   "is fixed runs it again")));
  const std::string reason =
      absl::StrCat("the run stopped: step '", state().steps[step].name, "' could not run");
  for (auto& [running_step, running] : running_) running.token.Cancel(reason);
}

// The running steps are children of cancellation_, so they are cancelled already.
void Coordinator::StopForCancellation(std::string reason) {
  stopping_ = true;
  cancel_reason_ = std::move(reason);
}

void Coordinator::AbandonRunningSteps(absl::string_view reason) {
  for (auto& [step, running] : running_) running.token.Cancel(reason);
  outcomes_.DropAll(running_.size());
  running_.clear();
}

absl::StatusOr<WorkflowState> Coordinator::Finish() {
  if (failure_) {
    CancelCutOffAttempts(FailureReason());
  } else if (cancel_reason_) {
    CancelCutOffAttempts(*cancel_reason_);
  }
  Event event;
  if (failure_) {
    WorkflowFailed* failed = event.mutable_workflow_failed();
    if (failure_->first >= 0) failed->set_step(state().steps[failure_->first].name);
    *failed->mutable_error() = ToError(failure_->second);
  } else if (cancel_reason_) {
    event.mutable_workflow_cancelled()->set_reason(*cancel_reason_);
  } else {
    for (const StepState& step : state().steps) {
      const bool ended =
          step.status == StepStatus::kCompleted || step.status == StepStatus::kSkipped ||
          (step.status == StepStatus::kFailed && step.details().retry_at == absl::InfinitePast());
      if (!ended) {
        return absl::InternalError(absl::StrCat("workflow '", state().workflow_id, "': step '",
                                                step.name, "' can never run"));
      }
    }
    std::vector<std::string> failed = tolerated_failures_;
    std::sort(failed.begin(), failed.end(), [this](const std::string& a, const std::string& b) {
      return OrderKeyOf(state(), state().IndexOf(a)) < OrderKeyOf(state(), state().IndexOf(b));
    });
    WorkflowCompleted* completed = event.mutable_workflow_completed();
    for (const std::string& name : failed) completed->add_failed_steps(name);
    for (auto& [key, value] : CompletedState(state())) {
      StateUpdate* entry = completed->add_final_state();
      entry->set_key(key);
      *entry->mutable_value() = std::move(value);
    }
  }
  Record(std::move(event));
  CHORUS_RETURN_IF_ERROR(Commit());
  return RecordedResult();
}

// Nothing runs at the end of a run, so a step still recorded as running is an attempt cut off
// by an earlier crash, which a stopping run does not start again.
void Coordinator::CancelCutOffAttempts(absl::string_view reason) {
  for (const StepState& step : state().steps) {
    if (step.status != StepStatus::kRunning) continue;
    Event event;
    StepCancelled* cancelled = event.mutable_step_cancelled();
    cancelled->set_step(step.name);
    cancelled->set_attempt(step.attempts);
    cancelled->set_reason(std::string(reason));
    Record(std::move(event));
  }
}

absl::StatusOr<WorkflowState> Coordinator::RecordedResult() {
  const WorkflowState& s = state();
  switch (s.status) {
    case WORKFLOW_STATUS_COMPLETED:
    case WORKFLOW_STATUS_COMPLETED_WITH_FAILURES:
      return std::move(history_).TakeState();
    case WORKFLOW_STATUS_FAILED:
      return absl::Status(s.error.code(),
                          absl::StrCat("workflow '", s.workflow_id, "' failed: step '",
                                       s.failed_step, "': ", s.error.message()));
    case WORKFLOW_STATUS_CANCELLED:
      return absl::CancelledError(
          absl::StrCat("workflow '", s.workflow_id, "' was cancelled: ", s.error.message()));
    default:
      return absl::InternalError(absl::StrCat("workflow '", s.workflow_id, "' has not finished"));
  }
}

// Sequence numbers are given here, in the coordinator's thread, in the order events are
// recorded. Folding each event as it is recorded keeps state() in step with history; an
// invariant violation here would be a coordinator bug, reported at the next commit.
void Coordinator::Record(Event event) {
  if (!record_error_.ok()) return;
  event.set_seq(state().last_seq + 1);
  SetRecordedAt(absl::Now(), &event);
  record_error_ = history_.Apply(event);
  if (record_error_.ok()) batch_.push_back(std::move(event));
}

}  // namespace chorus
