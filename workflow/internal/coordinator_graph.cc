// The coordinator's walk of the graph: which steps become ready as others complete, which are
// skipped after a failure, and how a map step expands into instances and ends with them.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "event/events.h"
#include "workflow/internal/coordinator.h"

namespace chorus {
namespace {

// A map step's items: the non-empty lines of the output it maps over.
std::vector<std::string> OutputLines(absl::string_view output) {
  return absl::StrSplit(output, '\n', absl::SkipEmpty());
}

}  // namespace

void Coordinator::BuildGraph(DefinitionGraph graph) {
  const WorkflowState& s = state();
  const int defined = s.definition().steps_size();
  functions_ = std::move(graph.functions);
  unmet_dependencies_.assign(defined, 0);
  for (int i = 0; i < defined; ++i) {
    const std::vector<int>& deps = graph.dependencies[i];
    unmet_dependencies_[i] = static_cast<int>(std::count_if(deps.begin(), deps.end(), [&](int d) {
      return s.steps[d].status != StepStatus::kCompleted;
    }));
  }
  // Instances of map steps expanded before a crash: no dependencies of their own.
  for (size_t i = defined; i < s.steps.size(); ++i) {
    functions_.push_back(functions_[s.steps[i].map_of]);
    unmet_dependencies_.push_back(0);
  }
  graph_ = StepGraph(graph.dependencies);
  views_.emplace(s, graph_);
  resources_.emplace(s.definition());
}

void Coordinator::MarkCompleted(int step) {
  for (int d : graph_.DependentsOf(step)) {
    if (--unmet_dependencies_[d] == 0 && state().steps[d].status == StepStatus::kPending) {
      MakeReady(d);
    }
  }
}

// A map step starts by recording its items; its instances are then ready in its place.
void Coordinator::StartMapStep(int step) {
  const WorkflowState& s = state();
  const StepState* source = s.FindStep(DefinitionOf(step).map_over());
  std::vector<std::string> items = OutputLines(source->output);
  const int attempt = s.steps[step].attempts + 1;
  Event start;
  start.mutable_step_started()->set_step(s.steps[step].name);
  start.mutable_step_started()->set_attempt(attempt);
  Record(std::move(start));
  Event expand;
  expand.mutable_step_expanded()->set_step(state().steps[step].name);
  SetMapItems(std::move(items), expand.mutable_step_expanded());
  Record(std::move(expand));
  for (int instance : state().steps[step].details().instances) {
    functions_.push_back(functions_[step]);
    unmet_dependencies_.push_back(0);
    MakeReady(instance);
  }
  if (state().steps[step].details().instances.empty()) RecordCompleted(step, attempt, "", {}, 0);
}

void Coordinator::SkipDependents(int step) {
  const absl::Span<const int> dependents = graph_.DependentsOf(step);
  std::vector<int> pending(dependents.begin(), dependents.end());
  const std::string reason =
      absl::StrCat("depends on failed step '", state().steps[step].name, "'");
  while (!pending.empty()) {
    const int next = pending.back();
    pending.pop_back();
    if (state().steps[next].status != StepStatus::kPending) continue;
    Event event;
    event.mutable_step_skipped()->set_step(state().steps[next].name);
    event.mutable_step_skipped()->set_reason(reason);
    Record(std::move(event));
    const absl::Span<const int> next_dependents = graph_.DependentsOf(next);
    pending.insert(pending.end(), next_dependents.begin(), next_dependents.end());
  }
}

// Once every instance of a map step has ended for good, the map step ends: completed when
// they all completed, else failed (or cancelled) like its first unsuccessful instance.
void Coordinator::MaybeFinishMap(int map_step) {
  if (state().steps[map_step].status != StepStatus::kRunning) return;
  const std::vector<int>& instances = state().steps[map_step].details().instances;
  MapProgress& progress = map_progress_[map_step];
  for (; progress.finished < instances.size(); ++progress.finished) {
    const int instance = instances[progress.finished];
    const StepState& s = state().steps[instance];
    const bool retrying =
        s.status == StepStatus::kFailed && s.details().retry_at != absl::InfinitePast();
    if (!IsTerminal(s.status) || retrying || running_.count(instance) > 0) return;
    if (s.status != StepStatus::kCompleted && progress.unsuccessful < 0) {
      progress.unsuccessful = instance;
    }
  }
  const int unsuccessful = progress.unsuccessful;
  const int attempt = state().steps[map_step].attempts;
  if (unsuccessful < 0) {
    RecordCompleted(map_step, attempt, "", {}, 0);
    return;
  }
  const StepState& instance = state().steps[unsuccessful];
  const std::string name = state().steps[map_step].name;
  const absl::Status error(instance.error.code(), absl::StrCat("instance '", instance.name,
                                                               "': ", instance.error.message()));
  Event event;
  if (instance.status == StepStatus::kCancelled) {
    event.mutable_step_cancelled()->set_step(name);
    event.mutable_step_cancelled()->set_attempt(attempt);
    event.mutable_step_cancelled()->set_reason(std::string(error.message()));
    Record(std::move(event));
    return;
  }
  StepFailed* failed = event.mutable_step_failed();
  failed->set_step(name);
  failed->set_attempt(attempt);
  *failed->mutable_error() = ToError(error);
  Record(std::move(event));
  switch (EffectOfFinalFailure(state().definition(), DefinitionOf(map_step))) {
    case FinalFailure::kTolerated:
      tolerated_failures_.push_back(name);
      SkipDependents(map_step);
      break;
    case FinalFailure::kFailsAtTheEnd:
      SkipDependents(map_step);
      break;
    case FinalFailure::kStopsTheRun:
      break;
  }
}

}  // namespace chorus
