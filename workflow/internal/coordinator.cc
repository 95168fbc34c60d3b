#include "workflow/internal/coordinator.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "workflow/definition.h"
#include "workflow/step_context.h"

namespace chorus {
namespace {

constexpr absl::Duration kCancellationRequestPoll = absl::Milliseconds(250);

// Keeps [A-Za-z0-9._-]; percent-encodes every other byte, so any name is one safe path part.
std::string PathPart(absl::string_view name) {
  std::string part;
  for (unsigned char c : name) {
    if (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-') {
      part.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&part, "%%%02X", c);
    }
  }
  return part;
}

std::string LogPath(absl::string_view directory, absl::string_view workflow_id,
                    absl::string_view step, int attempt) {
  return absl::StrCat(directory, "/", PathPart(workflow_id), "/", PathPart(step), ".", attempt,
                      ".log");
}

absl::StatusOr<std::string> CallStepFunction(const StepFunction& function,
                                             const StepContext& context) {
  // No exception may escape into the engine: a throwing step is a failed step.
  try {
    return function(context);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("step threw an exception: ", e.what()));
  } catch (...) {
    return absl::InternalError("step threw a non-standard exception");
  }
}

}  // namespace

Coordinator::Coordinator(EventStore& store, const StepRegistry& registry, Executor& executor,
                         const EngineOptions& options, CancellationToken cancellation)
    : store_(store),
      registry_(registry),
      executor_(executor),
      options_(options),
      max_concurrency_(options.max_concurrency > 0 ? options.max_concurrency : executor.threads()),
      cancellation_(std::move(cancellation)),
      history_("") {}

absl::StatusOr<WorkflowState> Coordinator::Start(absl::string_view workflow_id,
                                                 const WorkflowDefinition& definition,
                                                 absl::string_view input) {
  history_ = History(std::string(workflow_id));
  Event event;
  WorkflowStarted* started = event.mutable_workflow_started();
  *started->mutable_definition() = definition;
  started->set_fingerprint(Fingerprint(definition));
  started->set_input(std::string(input));
  Record(std::move(event));
  return Drive();
}

absl::StatusOr<WorkflowState> Coordinator::Resume(WorkflowState recorded) {
  committed_seq_ = recorded.last_seq;
  history_ = History(std::move(recorded));
  if (state().status != WORKFLOW_STATUS_RUNNING) return RecordedResult();
  return Drive();
}

absl::StatusOr<WorkflowState> Coordinator::Drive() {
  BuildGraph();
  ClassifyRecordedSteps();
  while (true) {
    if (absl::Status checked = CheckCancellationRequest(); !checked.ok()) {
      AbandonRunningSteps("the workflow's store could not be read");
      return checked;
    }
    if (!stopping_ && cancellation_.IsCancelled()) StopForCancellation(cancellation_.reason());
    std::vector<std::pair<int, CancellationToken>> started;
    if (!stopping_) started = StartReadySteps();
    if (absl::Status committed = Commit(); !committed.ok()) {
      AbandonRunningSteps("the workflow's history could not be written");
      return committed;
    }
    for (auto& [step, token] : started) Dispatch(step, std::move(token));
    if (running_.empty()) break;
    std::vector<Outcome> outcomes = AwaitOutcomes(next_request_check_);
    std::sort(outcomes.begin(), outcomes.end(), [](const Outcome& a, const Outcome& b) {
      return std::make_pair(a.step, a.attempt) < std::make_pair(b.step, b.attempt);
    });
    for (Outcome& outcome : outcomes) RecordOutcome(outcome);
  }
  return Finish();
}

void Coordinator::BuildGraph() {
  const WorkflowState& s = state();
  const int n = static_cast<int>(s.steps.size());
  functions_.assign(n, nullptr);
  dependencies_.assign(n, {});
  dependents_.assign(n, {});
  unmet_dependencies_.assign(n, 0);
  for (int i = 0; i < n; ++i) {
    if (s.definition.steps(i).kind() == STEP_KIND_UNSPECIFIED) {
      functions_[i] = registry_.Find(s.steps[i].name);
    }
    for (const std::string& dep : s.definition.steps(i).depends_on()) {
      const int d = s.step_index.at(dep);
      dependencies_[i].push_back(d);
      dependents_[d].push_back(i);
      ++unmet_dependencies_[i];
    }
  }
}

// A recorded failure or cancellation means the run that recorded it was stopping when it
// was cut off: finish stopping. A step recorded as running was cut off by a crash: it runs
// again, as the next attempt, once ready.
void Coordinator::ClassifyRecordedSteps() {
  const std::vector<StepState>& steps = state().steps;
  for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
    switch (steps[i].status) {
      case StepStatus::kCompleted:
        for (int d : dependents_[i]) --unmet_dependencies_[d];
        break;
      case StepStatus::kFailed:
        if (!failure_) failure_.emplace(i, steps[i].error);
        stopping_ = true;
        break;
      case StepStatus::kCancelled:
        if (!cancel_reason_) cancel_reason_ = std::string(steps[i].error.message());
        stopping_ = true;
        break;
      default:
        break;
    }
  }
  for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
    const bool startable =
        steps[i].status == StepStatus::kPending || steps[i].status == StepStatus::kRunning;
    if (startable && unmet_dependencies_[i] == 0) ready_.push(i);
  }
}

void Coordinator::MarkCompleted(int step) {
  for (int d : dependents_[step]) {
    if (--unmet_dependencies_[d] == 0) ready_.push(d);
  }
}

std::vector<std::pair<int, CancellationToken>> Coordinator::StartReadySteps() {
  std::vector<std::pair<int, CancellationToken>> started;
  while (!ready_.empty() && static_cast<int>(running_.size() + started.size()) < max_concurrency_) {
    const int step = ready_.top();
    ready_.pop();
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

absl::Status Coordinator::Commit() {
  if (!record_error_.ok()) return record_error_;
  if (batch_.empty()) return absl::OkStatus();
  CHORUS_RETURN_IF_ERROR(store_.Append(state().workflow_id, committed_seq_, batch_));
  if (options_.on_commit) options_.on_commit(state().workflow_id, batch_);
  committed_seq_ = batch_.back().seq();
  batch_.clear();
  return absl::OkStatus();
}

void Coordinator::Dispatch(int step, CancellationToken token) {
  const WorkflowState& s = state();
  // Views into the state: a step's name, the input and completed outputs never change.
  std::vector<DependencyOutput> dependencies;
  dependencies.reserve(dependencies_[step].size());
  for (int d : dependencies_[step]) dependencies.push_back({s.steps[d].name, s.steps[d].output});
  running_.emplace(step, token);
  executor_.Schedule([this, step, attempt = s.steps[step].attempts, token = std::move(token),
                      dependencies = std::move(dependencies)]() mutable {
    RunAttempt(step, attempt, token, std::move(dependencies));
  });
}

void Coordinator::RunAttempt(int step, int attempt, const CancellationToken& token,
                             std::vector<DependencyOutput> dependencies) {
  const WorkflowState& s = state();
  absl::StatusOr<std::string> result = std::string();  // a structural step's output is empty
  if (functions_[step] != nullptr) {
    StepContext context(s.workflow_id, s.steps[step].name, attempt, s.input,
                        std::move(dependencies), token, s.steps[step].log_path);
    result = CallStepFunction(*functions_[step], context);
  }
  const bool cancelled = token.IsCancelled();
  MutexLock lock(&mu_);
  if (!result.ok() && !cancelled) failure_posted_ = true;
  outcomes_.push_back(Outcome{step, attempt, std::move(result), cancelled});
}

std::vector<Coordinator::Outcome> Coordinator::AwaitOutcomes(absl::Time deadline) {
  const size_t running = running_.size();
  const bool wave = options_.mode == ScheduleMode::kWave;
  std::vector<Outcome> outcomes;
  MutexLock lock(&mu_);
  // A wave is all running steps' outcomes; a failure ends it early so that fail-fast cancels
  // the siblings at once.
  const bool ready = mu_.AwaitWithDeadline(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return wave ? outcomes_.size() == running || failure_posted_ : !outcomes_.empty();
      },
      deadline);
  if (!ready) return outcomes;
  failure_posted_ = false;
  outcomes.swap(outcomes_);
  return outcomes;
}

// Another process (or Engine::Cancel elsewhere) asks through the store; this run looks at
// most every kCancellationRequestPoll, and only once its workflow is in the store.
absl::Status Coordinator::CheckCancellationRequest() {
  const absl::Time now = absl::Now();
  if (now < next_request_check_) return absl::OkStatus();
  next_request_check_ = now + kCancellationRequestPoll;
  if (committed_seq_ == 0 || cancellation_.IsCancelled()) return absl::OkStatus();
  CHORUS_ASSIGN_OR_RETURN(std::optional<std::string> reason,
                          store_.GetCancellationRequest(state().workflow_id));
  if (reason.has_value()) cancellation_.Cancel(*reason);
  return absl::OkStatus();
}

void Coordinator::RecordOutcome(Outcome& outcome) {
  const std::string& name = state().steps[outcome.step].name;
  auto running = running_.find(outcome.step);
  const std::string cancel_reason = running->second.reason();
  running_.erase(running);
  Event event;
  if (outcome.result.ok()) {
    StepCompleted* completed = event.mutable_step_completed();
    completed->set_step(name);
    completed->set_attempt(outcome.attempt);
    completed->set_output(*std::move(outcome.result));
    Record(std::move(event));
    MarkCompleted(outcome.step);
  } else if (outcome.cancelled) {
    StepCancelled* cancelled = event.mutable_step_cancelled();
    cancelled->set_step(name);
    cancelled->set_attempt(outcome.attempt);
    cancelled->set_reason(cancel_reason);
    Record(std::move(event));
  } else {
    const absl::Status& error = outcome.result.status();
    StepFailed* failed = event.mutable_step_failed();
    failed->set_step(name);
    failed->set_attempt(outcome.attempt);
    *failed->mutable_error() = ToError(error);
    failed->set_retryable(IsRetryable(error));
    Record(std::move(event));
    if (!stopping_) StopForFailure(outcome.step, error);
  }
}

void Coordinator::StopForFailure(int step, absl::Status error) {
  stopping_ = true;
  const std::string reason = absl::StrCat("step '", state().steps[step].name, "' failed");
  failure_.emplace(step, std::move(error));
  for (auto& [running_step, token] : running_) token.Cancel(reason);
}

// The running steps are children of cancellation_, so they are cancelled already.
void Coordinator::StopForCancellation(std::string reason) {
  stopping_ = true;
  cancel_reason_ = std::move(reason);
}

void Coordinator::AbandonRunningSteps(absl::string_view reason) {
  for (auto& [step, token] : running_) token.Cancel(reason);
  const size_t running = running_.size();
  MutexLock lock(&mu_);
  mu_.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outcomes_.size() == running; });
  outcomes_.clear();
  running_.clear();
}

absl::StatusOr<WorkflowState> Coordinator::Finish() {
  if (failure_) {
    CancelCutOffAttempts(absl::StrCat("step '", state().steps[failure_->first].name, "' failed"));
  } else if (cancel_reason_) {
    CancelCutOffAttempts(*cancel_reason_);
  }
  Event event;
  if (failure_) {
    WorkflowFailed* failed = event.mutable_workflow_failed();
    failed->set_step(state().steps[failure_->first].name);
    *failed->mutable_error() = ToError(failure_->second);
  } else if (cancel_reason_) {
    event.mutable_workflow_cancelled()->set_reason(*cancel_reason_);
  } else {
    for (const StepState& step : state().steps) {
      if (step.status != StepStatus::kCompleted) {
        return absl::InternalError(absl::StrCat("workflow '", state().workflow_id, "': step '",
                                                step.name, "' can never run"));
      }
    }
    event.mutable_workflow_completed();
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

absl::StatusOr<WorkflowState> Coordinator::RecordedResult() const {
  const WorkflowState& s = state();
  switch (s.status) {
    case WORKFLOW_STATUS_COMPLETED:
      return s;
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
