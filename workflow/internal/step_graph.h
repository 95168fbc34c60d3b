// StepGraph: a workflow's steps as the coordinator walks them, by definition index: what each
// step waits for (EffectiveDependencies: the steps it depends on as listed, then for a sync
// step the background steps before it) and which steps wait for it, in definition order.
// Instances of map steps, which come after the defined steps in WorkflowState::steps, have
// neither: they belong to their map step.
//
// Two arrays per relation rather than a vector per step, for workflows of many steps.
// Immutable after construction; thread-safe.
#ifndef CHORUS_WORKFLOW_INTERNAL_STEP_GRAPH_H_
#define CHORUS_WORKFLOW_INTERNAL_STEP_GRAPH_H_

#include <vector>

#include "absl/types/span.h"

namespace chorus {

class StepGraph {
 public:
  StepGraph() = default;
  // `dependencies`: for each defined step, the indices of the steps it waits for.
  explicit StepGraph(const std::vector<std::vector<int>>& dependencies);

  int defined() const { return static_cast<int>(dependencies_.start.size()) - 1; }
  // REQUIRES: 0 <= step < defined().
  absl::Span<const int> DependenciesOf(int step) const { return dependencies_.Of(step); }
  // None for an instance of a map step (step >= defined()).
  absl::Span<const int> DependentsOf(int step) const {
    return step < defined() ? dependents_.Of(step) : absl::Span<const int>();
  }

 private:
  // A list of steps for each step: list i is items[start[i], start[i + 1]).
  struct StepLists {
    absl::Span<const int> Of(int i) const {
      return absl::MakeConstSpan(items.data() + start[i], items.data() + start[i + 1]);
    }
    std::vector<int> start{0};
    std::vector<int> items;
  };
  StepLists dependencies_;
  StepLists dependents_;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_STEP_GRAPH_H_
