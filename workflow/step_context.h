// StepContext: what a step function sees of its workflow while it runs, and what it reports
// besides its output (updates to the workflow state, a cost).
//
// Built by the engine for one attempt of one step and passed to the step's function
// (workflow/step_registry.h). It refers to data the engine keeps alive until the function
// returns; do not keep references to it past that. Thread-compatible: the step uses it from
// its own thread.
#ifndef CHORUS_WORKFLOW_STEP_CONTEXT_H_
#define CHORUS_WORKFLOW_STEP_CONTEXT_H_

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/state.h"
#include "event/step_name_index.h"
#include "proto/event.pb.h"
#include "proto/workflow_definition.pb.h"
#include "workflow/cancellation.h"

namespace chorus {

// A dependency's name and its recorded output. A map step as a dependency appears once per
// instance ("resize[0]", "resize[1]", ...), in index order.
struct DependencyOutput {
  absl::string_view step;
  absl::string_view output;
};

// What the engine tells a step about the attempt it runs.
struct StepAttempt {
  absl::string_view workflow_id;
  absl::string_view step;
  int visit = 1;
  int attempt = 1;
  absl::string_view input;
  std::vector<DependencyOutput> dependencies;
  CancellationToken cancellation;
  absl::string_view log_path;
  // The workflow state as this step sees it: the initial state plus the updates of all its
  // ancestors, merged in definition order.
  StateValues state;
  // The definition, for the reducers of state keys. Not null.
  const WorkflowDefinition* definition = nullptr;
  // For an instance of a map step: its index and item; -1 and empty otherwise.
  int map_index = -1;
  absl::string_view map_item;
};

class StepContext {
 public:
  explicit StepContext(StepAttempt attempt) : attempt_(std::move(attempt)) {}

  absl::string_view workflow_id() const { return attempt_.workflow_id; }
  absl::string_view step() const { return attempt_.step; }
  // 1 on the step's first visit; a loop that runs the step again starts its next visit
  // (DESIGN.md, "Graphs").
  int visit() const { return attempt_.visit; }
  // 1 on the first run of a visit; a retry, or a step cut off by a crash, runs with the next
  // attempt.
  int attempt() const { return attempt_.attempt; }
  // The input the workflow was started with.
  absl::string_view input() const { return attempt_.input; }
  // The outputs of this step's dependencies, in the order the definition lists them.
  const std::vector<DependencyOutput>& dependencies() const { return attempt_.dependencies; }
  // The output of dependency `step`; NotFound if `step` is not one of this step's dependencies.
  // A step with many dependencies finds each in constant time (an index built on first use).
  absl::StatusOr<absl::string_view> DependencyOutputOf(absl::string_view step) const;
  // Cancelled when the workflow is cancelled, a sibling fails (fail-fast) or the step's
  // timeout passes.
  const CancellationToken& cancellation() const { return attempt_.cancellation; }
  // Where this attempt may write its log (recorded in its step-started event); empty when
  // the engine has no log directory (EngineOptions::log_directory).
  absl::string_view log_path() const { return attempt_.log_path; }
  // The workflow state as this step sees it (see StepAttempt::state).
  const StateValues& state() const { return attempt_.state; }
  int map_index() const { return attempt_.map_index; }
  absl::string_view map_item() const { return attempt_.map_item; }

  // Records an update of state key `key`, merged by the key's reducer when the step completes
  // (the step's own view does not change). InvalidArgument if `key` is not a name CheckName
  // (event/text.h) accepts, if the value's text is not valid UTF-8, or if `value` does not
  // suit the reducer (sum, min and max take numbers; append takes text or a list).
  absl::Status UpdateState(absl::string_view key, Value value);
  // Adds to what this attempt reports it spent (for the workflow's budget).
  void AddCost(double cost) { cost_ += cost; }

  // For the engine: what the step reported.
  std::vector<StateUpdate> TakeStateUpdates() { return std::move(updates_); }
  double cost() const { return cost_; }

 private:
  StepAttempt attempt_;
  std::vector<StateUpdate> updates_;
  double cost_ = 0;
  // DependencyOutputOf's index of attempt_.dependencies by name, for a step with more than a
  // few: built once, on first use, so that looking up each of a wide join's dependencies is
  // not quadratic. The once-flag keeps concurrent lookups safe (std's: ThreadSanitizer sees
  // it, and not Debian's build of absl::call_once).
  mutable std::once_flag dependency_index_built_;
  mutable StepNameIndex dependency_index_;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_STEP_CONTEXT_H_
