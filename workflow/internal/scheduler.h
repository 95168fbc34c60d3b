// The scheduler (DESIGN.md, "The scheduler: one pure function of state"): one run's decisions,
// kept in step with its history, by the rules of scheduling_rules.h and routing.h, with no
// threads, no store and no clock of its own. The coordinator carries them out (runs the
// attempts, gives events their seq, commits them).
//
// Internal to the engine. Thread-compatible.
#ifndef CHORUS_WORKFLOW_INTERNAL_SCHEDULER_H_
#define CHORUS_WORKFLOW_INTERNAL_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "event/state.h"
#include "event/workflow_state.h"
#include "proto/event.pb.h"
#include "proto/workflow_definition.pb.h"
#include "workflow/internal/resource_pool.h"
#include "workflow/internal/retry_policy.h"
#include "workflow/internal/routing.h"
#include "workflow/internal/scheduling_rules.h"
#include "workflow/internal/step_graph.h"

namespace chorus {

// What a Scheduler asks of the one that carries out its decisions.
struct SchedulerHooks {
  // Records `event` (it has no seq yet), folding it into the state the scheduler reads.
  std::function<void(Event)> record;
  // Cancels every running attempt for `reason`: the run fails fast.
  std::function<void(const std::string& reason)> cancel_running;
  // The log file of attempt `attempt` of visit `visit` of step `step`, or "" for none.
  std::function<std::string(int step, int visit, int attempt)> log_path;
};

struct SchedulerLimits {
  int max_concurrency = 1;         // attempts running at once
  int64_t max_history_events = 0;  // events in the workflow's history
};

// One run's scheduling: which steps are ready, running, waiting for a retry or a resource, and
// what each outcome leads to (retries, skipped dependents, map steps expanded and ended, the
// run stopping; with routing, the edges taken and the visits they start), recorded through the
// hooks as it is decided. Outcomes are given in the order
// history records them.
class Scheduler {
 public:
  // Continues the run `state` shows (DecideFromRecorded). REQUIRES: `state` is the fold of a
  // running workflow's history, kept in step with every event recorded, and outlives the
  // scheduler; `dependencies` are EffectiveDependencies of its definition (taken, and freed
  // once the scheduler holds them in its own, smaller form).
  Scheduler(const WorkflowState& state, std::vector<std::vector<int>> dependencies,
            SchedulerLimits limits, SchedulerHooks hooks);

  const StepGraph& graph() const { return graph_; }
  bool stopping() const { return stopping_; }
  // When the next retry is due; nullopt when none waits or the run is stopping.
  std::optional<absl::Time> NextRetryAt() const;

  // Failed steps whose retry is due by `now` become ready.
  void ReadyDueRetries(absl::Time now);
  // Starts ready steps in definition order while fewer than max_concurrency run, each within
  // its resources and its map step's concurrency (the others wait), and records their starts:
  // a map step starts by recording its items, and its instances take its place. Returns the
  // steps whose attempts are to run now. Nothing while stopping; the history limit stops the
  // run.
  std::vector<int> StartReady();

  // The running attempt of `step` ended, whatever its outcome: its resources and its place in
  // its map step's concurrency are free. Before the outcome, if any is recorded.
  void Ended(int step);
  // The outcome of attempt `attempt` of `step`, recorded with what it leads to.
  void Completed(int step, int attempt, std::string output, std::vector<StateUpdate> updates,
                 double cost);
  void Failed(int step, int attempt, const absl::Status& error, bool timed_out, double cost,
              absl::Time now);
  void Cancelled(int step, int attempt, std::string reason);

  // Whether attempt `attempt` of `step` failing with `error` would stop the run (fail-fast): it
  // is not retried, no edge takes it, and the step is critical under fail-fast.
  bool FailureStopsTheRun(int step, int attempt, const absl::Status& error) const;

  // The run stops: start nothing more, schedule no retry. For a cancellation of the run, whose
  // reason its end records; or for a fault of the driver, which records nothing.
  void StopForCancellation(std::string reason);
  void StopWithoutRecording() { stopping_ = true; }

  // Records the run's end: attempts cut off by an earlier crash cancelled if it stops, then its
  // failure, cancellation or completion. Internal if a step could never run (a bug).
  absl::Status End();

 private:
  const StepDefinition& DefinitionOf(int step) const { return DefinitionOfStep(state_, step); }
  void MakeReady(int step);
  void MarkCompleted(int step);
  void Route();
  bool HasRoomForAnotherStep(size_t running_before) const;
  bool TakeResources(int step);
  void StartMapStep(int step);
  void RecordCompleted(int step, int attempt, std::string output, std::vector<StateUpdate> updates,
                       double cost);
  void FailFinally(int step, const absl::Status& error);
  void SkipDependents(int step);
  void MaybeFinishMap(int map_step);
  void CheckBudget(int step);
  void StopForFailure(int step, absl::Status error);
  std::string FailureReason() const;
  void CancelCutOffAttempts(absl::string_view reason);

  const WorkflowState& state_;
  const SchedulerLimits limits_;
  const SchedulerHooks hooks_;
  const StepGraph graph_;
  // With routing (HasRouting): the definition's edges as routing reads them.
  const std::optional<RoutingGraph> routing_;
  std::vector<bool> pending_start_;  // by definition index: ready or blocked, not started
  std::vector<int> unmet_dependencies_;  // by step index: dependencies not completed
  std::set<OrderKey> ready_;
  std::vector<int> blocked_;  // ready, waiting for a resource or their map's concurrency
  std::multimap<absl::Time, int> retries_;  // when each failed step runs again
  absl::flat_hash_set<int> running_;        // steps with an attempt started and not ended
  ResourcePool resources_;
  absl::flat_hash_map<int, int> running_instances_;  // map step -> instances running
  // How far MaybeFinishMap has found a map step's instances finished for good, in index order
  // (an instance, once finished, stays so), so that each instance is looked at once.
  struct MapProgress {
    size_t finished = 0;    // instances[0, finished) are finished
    int unsuccessful = -1;  // the first of them that did not complete, if any
  };
  absl::flat_hash_map<int, MapProgress> map_progress_;  // map step -> its progress
  bool stopping_ = false;              // fail-fast, budget or cancellation: start nothing more
  std::optional<RunFailure> failure_;  // what fails the run
  std::optional<std::string> cancel_reason_;     // why the run was cancelled
  std::vector<std::string> tolerated_failures_;  // non-critical steps that failed
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_SCHEDULER_H_
