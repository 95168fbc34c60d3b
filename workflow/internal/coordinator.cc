#include "workflow/internal/coordinator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "event/snapshot.h"
#include "event/text.h"
#include "workflow/definition.h"
#include "workflow/file_name.h"
#include "workflow/internal/scheduler.h"

namespace chorus {
namespace {

// How often the coordinator looks at its run's token while it waits with no step running (for
// a retry, say): the token is cancelled from other threads (Engine::Cancel, the lease keeper).
constexpr absl::Duration kCancellationCheck = absl::Milliseconds(250);

std::string LogPath(absl::string_view directory, absl::string_view workflow_id,
                    absl::string_view step, int visit, int attempt) {
  const std::string visit_part = visit > 1 ? absl::StrCat("~", visit) : "";
  return absl::StrCat(directory, "/", FileNameFor(workflow_id), "/", FileNameFor(step), visit_part,
                      ".", attempt, ".log");
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
  functions_ = std::move(graph.functions);
  SchedulerHooks hooks;
  hooks.record = [this](Event event) { Record(std::move(event)); };
  hooks.cancel_running = [this](const std::string& reason) { CancelRunning(reason); };
  hooks.log_path = [this](int step, int visit, int attempt) {
    return LogPathOf(step, visit, attempt);
  };
  scheduler_.emplace(state(), std::move(graph.dependencies),
                     SchedulerLimits{max_concurrency_, options_.max_history_events},
                     std::move(hooks));
  views_.emplace(state(), scheduler_->graph());
  while (true) {
    if (!scheduler_->stopping() && cancellation_.IsCancelled()) {
      scheduler_->StopForCancellation(RecordedReason(cancellation_));
    }
    // A wave starts once the last has ended.
    std::vector<int> started;
    if (options_.mode != ScheduleMode::kWave || running_.empty()) {
      scheduler_->ReadyDueRetries(absl::Now());
      started = scheduler_->StartReady();
    }
    if (absl::Status committed = Commit(); !committed.ok()) {
      AbandonRunningSteps("the workflow's history could not be written");
      return committed;
    }
    Dispatch(started);
    committed_.clear();  // while the started steps run, not before they start
    // Saved while the started steps run (unless one ran on this thread).
    if (absl::Status saved = MaybeSaveSnapshot(); !saved.ok()) {
      AbandonRunningSteps("a snapshot of the workflow could not be saved");
      return saved;
    }
    if (running_.empty() && !scheduler_->NextRetryAt()) break;
    std::vector<Outcome> outcomes = AwaitOutcomes();
    CancelTimedOutSteps();
    std::sort(outcomes.begin(), outcomes.end(), [this](const Outcome& a, const Outcome& b) {
      return std::make_pair(OrderKeyOf(state(), a.step), a.attempt) <
             std::make_pair(OrderKeyOf(state(), b.step), b.attempt);
    });
    for (Outcome& outcome : outcomes) RecordOutcome(outcome);
  }
  // What was recorded is committed; the workflow stays unfinished, to be resumed.
  if (!driver_fault_.ok()) return driver_fault_;
  CHORUS_RETURN_IF_ERROR(scheduler_->End());
  CHORUS_RETURN_IF_ERROR(Commit());
  return RecordedResult();
}

std::vector<Outcome> Coordinator::AwaitOutcomes() {
  const bool wave = options_.mode == ScheduleMode::kWave;
  std::vector<Outcome> outcomes = outcomes_.Await(running_.size() - wave_.size(), wave,
                                                  NextWakeUp(), last_commit_time_);
  if (!wave) return outcomes;
  for (Outcome& outcome : outcomes) wave_.push_back(std::move(outcome));
  const bool stops = std::any_of(wave_.begin(), wave_.end(), [this](const Outcome& outcome) {
    return !outcome.result.ok() && !outcome.cancelled &&
           scheduler_->FailureStopsTheRun(outcome.step, outcome.attempt,
                                          outcome.result.status());
  });
  if (wave_.size() < running_.size() && !stops) return {};
  return std::exchange(wave_, {});
}

// An attempt's log file: only for a step that runs a function, when the engine keeps logs.
std::string Coordinator::LogPathOf(int step, int visit, int attempt) const {
  if (options_.log_directory.empty() || FunctionOf(step) == nullptr) return "";
  return LogPath(options_.log_directory, state().workflow_id, state().steps[step].name, visit,
                 attempt);
}

// The next moment something must happen even if no step finishes.
absl::Time Coordinator::NextWakeUp() const {
  absl::Time wake = absl::Now() + kCancellationCheck;
  for (const auto& [step, running] : running_) {
    if (!running.timed_out) wake = std::min(wake, running.deadline);
  }
  if (const std::optional<absl::Time> retry = scheduler_->NextRetryAt()) {
    wake = std::min(wake, *retry);
  }
  return wake;
}

void Coordinator::CancelTimedOutSteps() {
  const absl::Time now = absl::Now();
  for (auto& [step, running] : running_) {
    if (running.timed_out || running.deadline > now) continue;
    running.timed_out = true;
    running.token.Cancel(absl::StrCat(
        "timed out after ", absl::FormatDuration(TimeoutOf(DefinitionOfStep(state(), step)))));
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
void Coordinator::Dispatch(const std::vector<int>& started) {
  if (started.empty()) return;
  const int first = started.front();
  if (started.size() == 1 && running_.empty() && !scheduler_->NextRetryAt() &&
      !DefinitionOfStep(state(), first).has_timeout()) {
    AttemptTask(first)();
    return;
  }
  std::vector<std::function<void()>> tasks;
  tasks.reserve(started.size());
  for (int step : started) tasks.push_back(AttemptTask(step));
  executor_.Schedule(std::move(tasks));
}

std::function<void()> Coordinator::AttemptTask(int step) {
  const StepState& s = state().steps[step];
  CancellationToken token = CancellationToken::ChildOf(cancellation_);
  running_.emplace(step, Running{token, DeadlineOf(DefinitionOfStep(state(), step), absl::Now())});
  AttemptData data{FunctionOf(step),
                   &state(),
                   s.name,
                   VisitOf(s),
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
  scheduler_->Ended(step);
  if (!outcome.result.ok() && IsDriverFault(outcome.result.status())) {
    StopForDriverFault(step, outcome.attempt, outcome.result.status());
    return;
  }
  // An attempt cancelled because the driver stopped for its own fault is cut off, not ended.
  if (!driver_fault_.ok() && outcome.cancelled && !outcome.result.ok()) return;
  const std::string& name = state().steps[step].name;
  const size_t payload = PayloadBytes(outcome.result, outcome.state_updates);
  if (outcome.result.ok() && payload > options_.max_payload_bytes) {
    scheduler_->Failed(step, outcome.attempt,
                       absl::ResourceExhaustedError(absl::StrCat(
                           "step '", name, "' output ", payload, " bytes, more than the limit of ",
                           options_.max_payload_bytes)),
                       /*timed_out=*/false, outcome.cost, absl::Now());
  } else if (outcome.result.ok()) {
    if (!outcome.state_updates.empty()) views_->NoteUpdates();
    scheduler_->Completed(step, outcome.attempt, *std::move(outcome.result),
                          std::move(outcome.state_updates), outcome.cost);
  } else if (timed_out) {
    scheduler_->Failed(
        step, outcome.attempt,
        absl::DeadlineExceededError(absl::StrCat("step '", name, "' ", token.reason())),
        /*timed_out=*/true, outcome.cost, absl::Now());
  } else if (outcome.cancelled) {
    scheduler_->Cancelled(step, outcome.attempt, RecordedReason(token));
  } else {
    scheduler_->Failed(step, outcome.attempt, outcome.result.status(), /*timed_out=*/false,
                       outcome.cost, absl::Now());
  }
}

void Coordinator::CancelRunning(absl::string_view reason) {
  for (auto& [step, running] : running_) running.token.Cancel(reason);
}

// Nothing is recorded of the attempt: history shows it started and never finished, as after a
// crash, and a resumed run starts it again. The first fault is the one the run returns.
void Coordinator::StopForDriverFault(int step, int attempt, const absl::Status& fault) {
  scheduler_->StopWithoutRecording();
  if (!driver_fault_.ok()) return;
  driver_fault_ = MarkDriverFault(absl::Status(
      fault.code(),
      absl::StrCat("workflow '", state().workflow_id, "' stopped: step '", state().steps[step].name,
                   "' (attempt ", attempt, ") could not run: ", fault.message(),
                   ". Nothing was recorded as its outcome; resuming the workflow once the cause "
                   "is fixed runs it again")));
  CancelRunning(
      absl::StrCat("the run stopped: step '", state().steps[step].name, "' could not run"));
}

void Coordinator::AbandonRunningSteps(absl::string_view reason) {
  CancelRunning(reason);
  outcomes_.DropAll(running_.size());
  running_.clear();
}

absl::StatusOr<WorkflowState> Coordinator::RecordedResult() {
  const WorkflowState& s = state();
  switch (s.status) {
    case WORKFLOW_STATUS_COMPLETED:
    case WORKFLOW_STATUS_COMPLETED_WITH_FAILURES:
      return std::move(history_).TakeState();
    case WORKFLOW_STATUS_FAILED:
      // A failure no step caused (a limit) names none.
      return absl::Status(
          s.error.code(),
          absl::StrCat("workflow '", s.workflow_id, "' failed: ",
                       s.failed_step.empty() ? "" : absl::StrCat("step '", s.failed_step, "': "),
                       s.error.message()));
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
