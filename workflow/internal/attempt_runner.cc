#include "workflow/internal/attempt_runner.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "workflow/step_context.h"

namespace chorus {
namespace {

// How long the coordinator polls for an outcome before it sleeps: a short step's outcome
// comes sooner than a sleeping thread could be woken. Also the longest gap between outcomes
// that it gathers into one commit (GatherStreaming).
constexpr absl::Duration kOutcomeSpin = absl::Microseconds(20);

absl::StatusOr<std::string> CallStepFunction(const StepFunction& function, StepContext& context) {
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

Outcome RunAttempt(int step, const CancellationToken& token, AttemptData data) {
  absl::StatusOr<std::string> result = std::string();  // a step without function outputs ""
  std::vector<StateUpdate> updates;
  double cost = 0;
  if (data.function != nullptr) {
    StepAttempt attempt;
    attempt.workflow_id = data.workflow->workflow_id;
    attempt.input = data.workflow->input;
    attempt.definition = &data.workflow->definition();
    attempt.step = data.step;
    attempt.visit = data.visit;
    attempt.attempt = data.attempt;
    attempt.log_path = data.log_path;
    attempt.dependencies = std::move(data.dependencies.views);  // into data's bytes
    attempt.cancellation = token;
    attempt.state = std::move(data.state);
    attempt.map_index = data.map_index;
    attempt.map_item = data.map_item;
    StepContext context(std::move(attempt));
    result = CallStepFunction(*data.function, context);
    updates = context.TakeStateUpdates();
    cost = context.cost();
  }
  return Outcome{step, data.attempt, std::move(result), token.IsCancelled(), std::move(updates),
                 cost};
}

void OutcomeQueue::Post(Outcome outcome) {
  MutexLock lock(&mu_);
  if (!outcome.result.ok() && !outcome.cancelled) failure_posted_ = true;
  outcomes_.push_back(std::move(outcome));
}

std::vector<Outcome> OutcomeQueue::Await(size_t running, bool wave, absl::Time deadline,
                                         absl::Duration gather_for) {
  std::vector<Outcome> outcomes;
  MutexLock lock(&mu_);
  const bool ready = mu_.AwaitWithDeadline(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return wave ? outcomes_.size() == running || failure_posted_ : !outcomes_.empty();
      },
      deadline, kOutcomeSpin);
  if (!ready) return outcomes;
  if (!wave) GatherStreaming(running, std::min(deadline, absl::Now() + gather_for));
  failure_posted_ = false;
  outcomes.swap(outcomes_);
  return outcomes;
}

void OutcomeQueue::GatherStreaming(size_t running, absl::Time until) {
  while (outcomes_.size() < running && !failure_posted_) {
    const size_t gathered = outcomes_.size();
    const absl::Time gap_end = std::min(until, absl::Now() + kOutcomeSpin);
    const auto more_came = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return outcomes_.size() > gathered || failure_posted_;
    };
    if (!mu_.AwaitWithDeadline(more_came, gap_end, kOutcomeSpin)) return;
  }
}

void OutcomeQueue::DropAll(size_t running) {
  MutexLock lock(&mu_);
  mu_.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outcomes_.size() == running; });
  outcomes_.clear();
}

}  // namespace chorus
