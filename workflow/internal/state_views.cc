#include "workflow/internal/state_views.h"

#include <algorithm>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "workflow/internal/scheduling_rules.h"

namespace chorus {

StateViews::StateViews(const WorkflowState& state, const StepGraph& graph)
    : state_(state), graph_(graph) {
  const int defined = graph.defined();
  std::vector<bool> after_its_ancestors(defined);  // in merge order
  view_source_.assign(defined, -1);
  unserved_readers_.assign(defined, 0);
  for (int i = 0; i < defined; ++i) {
    const absl::Span<const int> deps = graph.DependenciesOf(i);
    after_its_ancestors[i] = std::all_of(deps.begin(), deps.end(),
                                         [&](int d) { return d < i && after_its_ancestors[d]; });
    // Map steps (their instances' views, a map's updates) always take the full merge.
    if (deps.size() == 1 && after_its_ancestors[deps[0]] &&
        state.definition().steps(i).map_over().empty() &&
        state.definition().steps(deps[0]).map_over().empty()) {
      view_source_[i] = deps[0];
      ++unserved_readers_[deps[0]];
    }
  }
  uses_state_ = !state.definition().state().empty() ||
                std::any_of(state.steps.begin(), state.steps.end(), [](const StepState& step) {
                  return !step.details().state_updates.empty();
                });
}

absl::Span<const int> StateViews::DependenciesOf(int step) const {
  const StepState& s = state_.steps[step];
  return graph_.DependenciesOf(s.map_of >= 0 ? s.map_of : step);
}

std::vector<int> StateViews::AncestorsInOrder(int step) const {
  const absl::Span<const int> dependencies = DependenciesOf(step);
  std::vector<int> pending(dependencies.begin(), dependencies.end());
  std::vector<bool> seen(state_.steps.size(), false);
  std::vector<int> ancestors;
  while (!pending.empty()) {
    const int next = pending.back();
    pending.pop_back();
    if (seen[next]) continue;
    seen[next] = true;
    ancestors.push_back(next);
    for (int instance : state_.steps[next].details().instances) ancestors.push_back(instance);
    const absl::Span<const int> more = graph_.DependenciesOf(next);
    pending.insert(pending.end(), more.begin(), more.end());
  }
  std::sort(ancestors.begin(), ancestors.end(),
            [this](int a, int b) { return OrderKeyOf(state_, a) < OrderKeyOf(state_, b); });
  return ancestors;
}

StateValues StateViews::VisibleState(int step) {
  if (auto own = views_.find(step); own != views_.end()) return own->second;  // a retry
  const bool defined = step < graph_.defined();
  const int source = defined ? view_source_[step] : -1;
  auto view = source >= 0 ? views_.find(source) : views_.end();
  StateValues values;
  if (view == views_.end()) {
    values = MergeState(state_, AncestorsInOrder(step));
  } else {
    values = --unserved_readers_[source] == 0 ? std::move(view->second) : view->second;
    if (unserved_readers_[source] == 0) views_.erase(view);
    // Then the source's own updates: it comes last in merge order (no map, no instances).
    for (const StateUpdate& update : state_.steps[source].details().state_updates) {
      ApplyUpdate(state_.definition(), update, values).IgnoreError();  // checked when recorded
    }
  }
  if (defined && unserved_readers_[step] > 0) views_.emplace(step, values);
  return values;
}

DependencyCopies StateViews::CopyDependencyOutputs(int step) const {
  const absl::Span<const int> dependencies = DependenciesOf(step);
  // Each dependency, a map step as its instances in index order.
  auto for_each_dependency = [&](absl::FunctionRef<void(const StepState&)> visit) {
    for (int d : dependencies) {
      const StepState& dependency = state_.steps[d];
      if (!dependency.expanded) {
        visit(dependency);
        continue;
      }
      for (int instance : dependency.details().instances) visit(state_.steps[instance]);
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
