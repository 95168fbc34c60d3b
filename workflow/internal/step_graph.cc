#include "workflow/internal/step_graph.h"

#include <numeric>

namespace chorus {

StepGraph::StepGraph(const std::vector<std::vector<int>>& dependencies) {
  const int defined = static_cast<int>(dependencies.size());
  dependencies_.start.assign(defined + 1, 0);
  dependents_.start.assign(defined + 1, 0);
  for (int i = 0; i < defined; ++i) {
    dependencies_.start[i + 1] = dependencies_.start[i] + static_cast<int>(dependencies[i].size());
    for (int d : dependencies[i]) ++dependents_.start[d + 1];
  }
  dependencies_.items.reserve(dependencies_.start[defined]);
  for (const std::vector<int>& of_step : dependencies) {
    dependencies_.items.insert(dependencies_.items.end(), of_step.begin(), of_step.end());
  }
  std::partial_sum(dependents_.start.begin(), dependents_.start.end(), dependents_.start.begin());
  dependents_.items.resize(dependents_.start[defined]);
  std::vector<int> next_dependent(dependents_.start.begin(), dependents_.start.end() - 1);
  for (int i = 0; i < defined; ++i) {
    for (int d : dependencies_.Of(i)) dependents_.items[next_dependent[d]++] = i;
  }
}

}  // namespace chorus
