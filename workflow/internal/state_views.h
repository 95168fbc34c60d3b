// StateViews: what an attempt of a step sees of the run (DESIGN.md, "Data flow between steps"):
// its dependencies' outputs, and the state made of the initial state and its ancestors'
// updates, merged in definition order through the reducers. Never by timing.
//
// A step whose one dependency comes after all of its own ancestors in merge order sees that
// dependency's view plus the dependency's updates, so that a chain does not merge every
// ancestor again at each step: such views are kept until every step that builds on them took
// them (and for a retry, its own).
//
// Used by the coordinator's thread only; the state and graph must outlive it.
#ifndef CHORUS_WORKFLOW_INTERNAL_STATE_VIEWS_H_
#define CHORUS_WORKFLOW_INTERNAL_STATE_VIEWS_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "event/state.h"
#include "event/workflow_state.h"
#include "workflow/internal/step_graph.h"
#include "workflow/step_context.h"

namespace chorus {

// A step's dependencies' names and outputs for one attempt, copied out of the state (which
// may change while the attempt runs) into one buffer that `views` point into. One buffer
// rather than two strings each: a join of 500,000 steps starts with about 20 MB, not 48.
struct DependencyCopies {
  std::shared_ptr<const char[]> bytes;  // shared: executor tasks are copyable
  std::vector<DependencyOutput> views;  // in StepContext::dependencies() order
};

class StateViews {
 public:
  StateViews(const WorkflowState& state, const StepGraph& graph);

  // Whether any step may see a state: views are merged only then.
  bool uses_state() const { return uses_state_; }
  // A step recorded updates: from now on, steps see a state.
  void NoteUpdates() { uses_state_ = true; }

  // The state `step` sees: the initial state and its ancestors' updates, merged in order.
  StateValues VisibleState(int step);
  // `step`'s dependencies' outputs, a map step's as its instances in index order.
  DependencyCopies CopyDependencyOutputs(int step) const;

 private:
  // The steps `step` waits for (an instance: its map step's).
  absl::Span<const int> DependenciesOf(int step) const;
  // Every step `step` depends on, directly or not, in definition order (a map step's
  // instances at its place).
  std::vector<int> AncestorsInOrder(int step) const;

  const WorkflowState& state_;
  const StepGraph& graph_;
  bool uses_state_ = false;
  // By definition index:
  std::vector<int> view_source_;       // the dependency whose view a step builds on, or -1
  std::vector<int> unserved_readers_;  // steps yet to build on this step's view
  absl::flat_hash_map<int, StateValues> views_;  // what a step with readers saw (retries too)
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_STATE_VIEWS_H_
