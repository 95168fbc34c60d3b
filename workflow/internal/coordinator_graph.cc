// The coordinator's view of the DAG: dependencies (sync points included), readiness, and what
// a step sees of its ancestors.
#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "workflow/definition.h"
#include "workflow/internal/coordinator.h"

namespace chorus {

const StepDefinition& Coordinator::DefinitionOf(int step) const {
  const StepState& s = state().steps[step];
  return state().definition().steps(s.map_of >= 0 ? s.map_of : step);
}

Coordinator::ReadyKey Coordinator::KeyOf(int step) const {
  const StepState& s = state().steps[step];
  return s.map_of >= 0 ? ReadyKey{s.map_of, s.details().map_index, step} : ReadyKey{step, -1, step};
}

void Coordinator::BuildGraph(DefinitionGraph graph) {
  const WorkflowState& s = state();
  const int defined = s.definition().steps_size();
  functions_ = std::move(graph.functions);
  unmet_dependencies_.assign(defined, 0);
  dependencies_.start.assign(defined + 1, 0);
  dependents_.start.assign(defined + 1, 0);
  for (int i = 0; i < defined; ++i) {
    const std::vector<int>& deps = graph.dependencies[i];
    unmet_dependencies_[i] = static_cast<int>(std::count_if(deps.begin(), deps.end(), [&](int d) {
      return s.steps[d].status != StepStatus::kCompleted;
    }));
    dependencies_.start[i + 1] = dependencies_.start[i] + static_cast<int>(deps.size());
    for (int d : deps) ++dependents_.start[d + 1];
  }
  dependencies_.items.reserve(dependencies_.start[defined]);
  for (const std::vector<int>& of_step : graph.dependencies) {
    dependencies_.items.insert(dependencies_.items.end(), of_step.begin(), of_step.end());
  }
  std::partial_sum(dependents_.start.begin(), dependents_.start.end(), dependents_.start.begin());
  dependents_.items.resize(dependents_.start[defined]);
  std::vector<int> next_dependent(dependents_.start.begin(), dependents_.start.end() - 1);
  for (int i = 0; i < defined; ++i) {
    for (int d : dependencies_.Of(i)) dependents_.items[next_dependent[d]++] = i;
  }
  // Instances of map steps expanded before a crash: no dependencies of their own.
  for (size_t i = defined; i < s.steps.size(); ++i) {
    functions_.push_back(functions_[s.steps[i].map_of]);
    unmet_dependencies_.push_back(0);
  }
  std::vector<bool> after_its_ancestors(defined);  // in merge order
  view_source_.assign(defined, -1);
  unserved_readers_.assign(defined, 0);
  for (int i = 0; i < defined; ++i) {
    const absl::Span<const int> deps = dependencies_.Of(i);
    after_its_ancestors[i] = std::all_of(deps.begin(), deps.end(),
                                         [&](int d) { return d < i && after_its_ancestors[d]; });
    // Map steps (their instances' views, a map's updates) always take the full merge.
    if (deps.size() == 1 && after_its_ancestors[deps[0]] &&
        s.definition().steps(i).map_over().empty() &&
        s.definition().steps(deps[0]).map_over().empty()) {
      view_source_[i] = deps[0];
      ++unserved_readers_[deps[0]];
    }
  }
  uses_state_ = !s.definition().state().empty() ||
                std::any_of(s.steps.begin(), s.steps.end(), [](const StepState& step) {
                  return !step.details().state_updates.empty();
                });
}

void Coordinator::MakeReady(int step) { ready_.insert(KeyOf(step)); }

absl::Span<const int> Coordinator::DependentsOf(int step) const {
  if (step >= state().definition().steps_size()) return {};
  return dependents_.Of(step);
}

absl::Span<const int> Coordinator::DependenciesOf(int step) const {
  const StepState& s = state().steps[step];
  return dependencies_.Of(s.map_of >= 0 ? s.map_of : step);
}

void Coordinator::MarkCompleted(int step) {
  for (int d : DependentsOf(step)) {
    if (--unmet_dependencies_[d] == 0 && state().steps[d].status == StepStatus::kPending) {
      MakeReady(d);
    }
  }
}

// Every step `step` depends on, directly or not, in definition order (a map step's instances
// at its place), for the state it sees.
std::vector<int> Coordinator::AncestorsInOrder(int step) const {
  const absl::Span<const int> dependencies = DependenciesOf(step);
  std::vector<int> pending(dependencies.begin(), dependencies.end());
  std::vector<bool> seen(state().steps.size(), false);
  std::vector<int> ancestors;
  while (!pending.empty()) {
    const int next = pending.back();
    pending.pop_back();
    if (seen[next]) continue;
    seen[next] = true;
    ancestors.push_back(next);
    for (int instance : state().steps[next].details().instances) ancestors.push_back(instance);
    const absl::Span<const int> more = dependencies_.Of(next);
    pending.insert(pending.end(), more.begin(), more.end());
  }
  std::sort(ancestors.begin(), ancestors.end(),
            [this](int a, int b) { return KeyOf(a) < KeyOf(b); });
  return ancestors;
}

StateValues Coordinator::VisibleState(int step) {
  if (auto own = views_.find(step); own != views_.end()) return own->second;  // a retry
  const bool defined = step < state().definition().steps_size();
  const int source = defined ? view_source_[step] : -1;
  auto view = source >= 0 ? views_.find(source) : views_.end();
  StateValues values;
  if (view == views_.end()) {
    values = MergeState(state(), AncestorsInOrder(step));
  } else {
    values = --unserved_readers_[source] == 0 ? std::move(view->second) : view->second;
    if (unserved_readers_[source] == 0) views_.erase(view);
    // Then the source's own updates: it comes last in merge order (no map, no instances).
    for (const StateUpdate& update : state().steps[source].details().state_updates) {
      ApplyUpdate(state().definition(), update, values).IgnoreError();  // checked when recorded
    }
  }
  if (defined && unserved_readers_[step] > 0) views_.emplace(step, values);
  return values;
}

Coordinator::DependencyCopies Coordinator::CopyDependencyOutputs(int step) const {
  const absl::Span<const int> dependencies = DependenciesOf(step);
  // Each dependency, a map step as its instances in index order.
  auto for_each_dependency = [&](absl::FunctionRef<void(const StepState&)> visit) {
    for (int d : dependencies) {
      const StepState& dependency = state().steps[d];
      if (!dependency.expanded) {
        visit(dependency);
        continue;
      }
      for (int instance : dependency.details().instances) visit(state().steps[instance]);
    }
  };
  size_t count = 0;
  size_t bytes = 0;
  for_each_dependency([&](const StepState& dependency) {
    ++count;
    bytes += dependency.name.size() + dependency.output.size();
  });
  char* next = new char[bytes];
  DependencyCopies copies;
  copies.bytes.reset(next);
  copies.views.reserve(count);
  auto copy = [&next](absl::string_view text) {
    const absl::string_view copied(next, text.size());
    next = std::copy(text.begin(), text.end(), next);
    return copied;
  };
  for_each_dependency([&](const StepState& dependency) {
    const absl::string_view name = copy(dependency.name);
    copies.views.push_back({name, copy(dependency.output)});
  });
  return copies;
}

}  // namespace chorus
