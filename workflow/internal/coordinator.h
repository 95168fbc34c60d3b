// Coordinator: drives one run of one workflow, as DESIGN.md's "The replayer" describes.
//
// It starts from the folded history, finds the ready steps in definition order, starts up
// to the concurrency limit of them on the Executor, collects their outcomes, orders them
// (definition order, then attempt), gives them sequence numbers and appends them, together
// with the started events of the steps they made ready, in one transaction. Only the
// coordinator's thread creates events; step threads only post outcomes.
//
// A Coordinator is used for one Start or Resume, from one thread. The store, registry and
// executor must outlive it. Internal to the engine.
#ifndef CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_
#define CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/history.h"
#include "event/internal/mutex.h"
#include "event/workflow_state.h"
#include "storage/event_store.h"
#include "workflow/cancellation.h"
#include "workflow/engine_options.h"
#include "workflow/executor.h"
#include "workflow/step_registry.h"

namespace chorus {

class Coordinator {
 public:
  // `cancellation` cancels the whole run: running steps are cancelled and the workflow is
  // recorded as cancelled.
  Coordinator(EventStore& store, const StepRegistry& registry, Executor& executor,
              const EngineOptions& options, CancellationToken cancellation);

  // Records workflow `workflow_id` as started with `definition` and `input`, then drives it
  // to its end. REQUIRES: the store has no such workflow; the definition is valid.
  absl::StatusOr<WorkflowState> Start(absl::string_view workflow_id,
                                      const WorkflowDefinition& definition,
                                      absl::string_view input);

  // Drives a workflow from its recorded state (which must include every stored event) to
  // its end. A finished workflow returns its recorded result without running anything.
  absl::StatusOr<WorkflowState> Resume(WorkflowState recorded);

  // Both return the final state when the workflow completes, the failing step's error when
  // it failed, Cancelled when it was cancelled, or the store's error if an append failed
  // (then the running steps are cancelled and waited for, and nothing more is recorded).

 private:
  // What a step thread reports back for one attempt.
  struct Outcome {
    int step;
    int attempt;
    absl::StatusOr<std::string> result;
    bool cancelled;  // the attempt's token was cancelled when the function returned
  };

  absl::StatusOr<WorkflowState> Drive();
  void BuildGraph();
  void ClassifyRecordedSteps();
  void MarkCompleted(int step);
  std::vector<std::pair<int, CancellationToken>> StartReadySteps();
  absl::Status Commit();
  void Dispatch(int step, CancellationToken token);
  void RunAttempt(int step, int attempt, const CancellationToken& token,
                  std::vector<DependencyOutput> dependencies) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for the outcomes the schedule mode collects at once; returns none at `deadline`.
  std::vector<Outcome> AwaitOutcomes(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CheckCancellationRequest();
  void RecordOutcome(Outcome& outcome);
  void StopForFailure(int step, absl::Status error);
  void StopForCancellation(std::string reason);
  void AbandonRunningSteps(absl::string_view reason);
  void CancelCutOffAttempts(absl::string_view reason);
  absl::StatusOr<WorkflowState> Finish();
  absl::StatusOr<WorkflowState> RecordedResult() const;
  void Record(Event event);
  const WorkflowState& state() const { return history_.state(); }

  // Constant after construction.
  EventStore& store_;
  const StepRegistry& registry_;
  Executor& executor_;
  const EngineOptions& options_;
  const int max_concurrency_;
  const CancellationToken cancellation_;

  // Used by the coordinator's thread only.
  History history_;            // every event recorded so far, folded
  int64_t committed_seq_ = 0;  // the store's last seq for this workflow
  std::vector<Event> batch_;   // recorded, not yet committed
  absl::Status record_error_;  // set if recording an event broke an invariant (a bug)
  std::vector<const StepFunction*> functions_;  // by step index; null for structural steps
  std::vector<std::vector<int>> dependencies_;  // by step index, in definition order
  std::vector<std::vector<int>> dependents_;    // by step index
  std::vector<int> unmet_dependencies_;         // by step index
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready_;  // by definition order
  absl::flat_hash_map<int, CancellationToken> running_;  // step index -> its attempt's token
  absl::Time next_request_check_ = absl::InfinitePast();
  bool stopping_ = false;  // fail-fast or cancellation: start nothing more
  std::optional<std::pair<int, absl::Status>> failure_;  // the step that failed the run
  std::optional<std::string> cancel_reason_;             // why the run was cancelled

  // Shared with step threads.
  Mutex mu_;
  std::vector<Outcome> outcomes_ ABSL_GUARDED_BY(mu_);
  bool failure_posted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_COORDINATOR_H_
