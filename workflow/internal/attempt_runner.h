// Running attempts and collecting their outcomes. RunAttempt calls a step's function on a step
// thread; OutcomeQueue carries what it returned back to the coordinator's thread, which alone
// creates events.
#ifndef CHORUS_WORKFLOW_INTERNAL_ATTEMPT_RUNNER_H_
#define CHORUS_WORKFLOW_INTERNAL_ATTEMPT_RUNNER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/internal/mutex.h"
#include "event/state.h"
#include "event/workflow_state.h"
#include "workflow/cancellation.h"
#include "workflow/internal/state_views.h"
#include "workflow/step_registry.h"

namespace chorus {

// What a step thread reports back for one attempt.
struct Outcome {
  int step;
  int attempt;
  absl::StatusOr<std::string> result;
  bool cancelled;  // the attempt's token was cancelled when the function returned
  std::vector<StateUpdate> state_updates;
  double cost;
};

// Everything an attempt needs, owned, so that the state may change while it runs.
struct AttemptData {
  const StepFunction* function;  // null: the step runs no function and outputs ""
  // The run's: only its id, input and definition are read, which never change while it runs.
  const WorkflowState* workflow;
  std::string step;
  int visit;
  int attempt;
  std::string log_path;
  DependencyCopies dependencies;
  StateValues state;
  int map_index;
  std::string map_item;
};

// Runs one attempt of step `step` (its index) under `token`. Throws nothing: a step function
// that throws makes a failed attempt.
Outcome RunAttempt(int step, const CancellationToken& token, AttemptData data);

// The outcomes posted by step threads, until the coordinator takes them. Thread-safe.
class OutcomeQueue {
 public:
  void Post(Outcome outcome) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits, until `deadline` at the latest, for outcomes of the `running` attempts and takes
  // them: in wave mode for all of them (a failure ends the wave early, so that fail-fast
  // cancels the siblings at once); else for the first, and then for as long as more come
  // within a few microseconds of each other, for at most `gather_for` (the last commit's
  // time), so that steps that finish together share one commit rather than alternate between
  // two. Returns what came, possibly nothing.
  std::vector<Outcome> Await(size_t running, bool wave, absl::Time deadline,
                             absl::Duration gather_for) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits for the outcomes of all `running` attempts and drops them.
  void DropAll(size_t running) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void GatherStreaming(size_t running, absl::Time until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  std::vector<Outcome> outcomes_ ABSL_GUARDED_BY(mu_);
  bool failure_posted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_ATTEMPT_RUNNER_H_
