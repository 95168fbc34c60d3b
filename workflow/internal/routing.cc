#include "workflow/internal/routing.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "event/state.h"

namespace chorus {
namespace {

bool NeverVisited(const StepState& step) {
  return VisitOf(step) == 0 && step.status == StepStatus::kPending;
}

bool Contains(const std::vector<int>& steps, int step) {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

// Whether a step on loop `loop` is to start a visit by its join: the run's start, or an edge
// taken into it (for a later visit, from its loop).
bool OpensVisit(const RoutingGraph& graph, const StepState& step, int index) {
  const std::vector<int>& entered = step.details().entered_by;
  if (NeverVisited(step)) return graph.Starts(index) || !entered.empty();
  return VisitEnded(step) && std::any_of(entered.begin(), entered.end(), [&](int from) {
           return graph.LoopOf(from) == graph.LoopOf(index);
         });
}

// Whether a step of loop `loop` may still run: one runs, waits for a retry or to start, or is
// to start a visit.
bool LoopIsLive(const RoutingGraph& graph, const WorkflowState& state, int loop,
                const std::vector<bool>& pending_start) {
  for (int member : graph.MembersOf(loop)) {
    const StepState& step = state.steps[member];
    if (pending_start[member] || step.status == StepStatus::kRunning || RetryScheduled(step) ||
        OpensVisit(graph, step, member)) {
      return true;
    }
  }
  return false;
}

// Whether step `from` can no longer take an edge: it ended for good and, on a loop, nothing of
// its loop can run again.
bool Settled(const RoutingGraph& graph, const WorkflowState& state, int from,
             const std::vector<bool>& pending_start) {
  const StepState& step = state.steps[from];
  if (pending_start[from] || step.status == StepStatus::kPending ||
      step.status == StepStatus::kRunning || RetryScheduled(step)) {
    return false;
  }
  return graph.LoopOf(from) < 0 || !LoopIsLive(graph, state, graph.LoopOf(from), pending_start);
}

// The step whose failure the edges of settled step `from` that it did not take come from: it
// failed for good without taking an edge, or was skipped because an edge into it came from a
// failure. -1 if they do not.
int FailureBehind(const RoutingGraph& graph, const WorkflowState& state, int from) {
  std::vector<int> pending = {from};
  std::vector<bool> seen(graph.defined(), false);
  while (!pending.empty()) {
    const int next = pending.back();
    pending.pop_back();
    if (seen[next]) continue;
    seen[next] = true;
    const StepState& step = state.steps[next];
    if (step.status == StepStatus::kFailed && !FailureRouted(step)) return next;
    if (step.status != StepStatus::kSkipped) continue;
    for (int source : graph.InOf(next)) {
      if (!Contains(step.details().entered_by, source)) pending.push_back(source);
    }
  }
  return -1;
}

// The state the visit of `step` that just ended made: its path's updates (its own included,
// which for a loop hold its earlier visits'), then `own` updates not folded yet.
StateValues PathState(const RoutingGraph& graph, const WorkflowState& state, int step,
                      const std::vector<StateUpdate>& own) {
  std::vector<bool> on_path(state.steps.size(), false);
  std::vector<int> pending = {step};
  while (!pending.empty()) {
    const int next = pending.back();
    pending.pop_back();
    if (on_path[next]) continue;
    on_path[next] = true;
    for (int instance : state.steps[next].details().instances) on_path[instance] = true;
    for (int source : graph.InOf(next)) pending.push_back(source);
  }
  std::vector<int> order = MergeOrder(state);
  order.erase(std::remove_if(order.begin(), order.end(), [&](int i) { return !on_path[i]; }),
              order.end());
  StateValues values = MergeState(state, order);
  for (const StateUpdate& update : own) {
    ApplyUpdate(state.definition(), update, values).IgnoreError();  // checked when recorded
  }
  return values;
}

}  // namespace

bool HasCondition(const Edge& edge) {
  return !absl::StripAsciiWhitespace(edge.condition()).empty();
}

bool HasRouting(const WorkflowDefinition& definition) {
  if (definition.edges_size() > 0 || definition.max_visits() != 0) return true;
  return std::any_of(definition.steps().begin(), definition.steps().end(),
                     [](const StepDefinition& step) {
                       return step.join() != JOIN_UNSPECIFIED ||
                              step.route() != ROUTE_UNSPECIFIED || step.max_visits() != 0;
                     });
}

RoutingGraph::RoutingGraph(const WorkflowDefinition& definition,
                           const std::vector<std::vector<int>>& dependencies,
                           std::vector<std::string>* problems) {
  const int n = definition.steps_size();
  out_.resize(n);
  in_.resize(n);
  absl::flat_hash_map<std::pair<std::string, std::string>, const Edge*> attributes;
  for (const Edge& edge : definition.edges()) {
    const bool listed = !attributes.emplace(std::make_pair(edge.from(), edge.to()), &edge).second;
    if (listed && problems != nullptr) {
      problems->push_back(
          absl::StrCat("edge '", edge.from(), "' -> '", edge.to(), "' is given twice"));
    }
  }
  for (int to = 0; to < n; ++to) {
    const StepDefinition& step = definition.steps(to);
    for (const std::string& from : step.depends_on()) {
      if (attributes.contains({from, step.name()}) && problems != nullptr) {
        problems->push_back(absl::StrCat("edge '", from, "' -> '", step.name(),
                                         "' is given twice (as a dependency and as an edge)"));
      }
    }
    for (int from : dependencies[to]) {
      in_[to].push_back(from);
      OutEdge out;
      out.to = to;
      auto found = attributes.find({definition.steps(from).name(), step.name()});
      if (found != attributes.end()) {
        const Edge& edge = *found->second;
        out.weight = edge.weight();
        out.conditional = HasCondition(edge);
        absl::StatusOr<Condition> condition = Condition::Parse(edge.condition());
        if (condition.ok()) {
          out.condition = *std::move(condition);
        } else if (problems != nullptr) {
          problems->push_back(absl::StrCat("edge '", edge.from(), "' -> '", edge.to(),
                                           "': ", condition.status().message()));
        }
      }
      out_[from].push_back(std::move(out));
    }
  }
  FindLoops();
  joins_any_.resize(n);
  routes_first_.resize(n);
  max_visits_.resize(n);
  const int workflow_max_visits =
      definition.max_visits() > 0 ? definition.max_visits() : kDefaultMaxVisits;
  for (int i = 0; i < n; ++i) {
    const StepDefinition& step = definition.steps(i);
    joins_any_[i] = step.join() == JOIN_ANY || (step.join() == JOIN_UNSPECIFIED && loop_[i] >= 0);
    routes_first_[i] = step.route() == ROUTE_FIRST;
    max_visits_[i] = step.max_visits() > 0 ? step.max_visits() : workflow_max_visits;
    if (loop_[i] < 0 || problems == nullptr) continue;
    const std::string where = absl::StrCat("step '", step.name(), "' is on a loop");
    if (step.join() == JOIN_ALL) {
      problems->push_back(absl::StrCat(where, " and joins all: it could never start again"));
    }
    if (!step.map_over().empty() || step.background() || step.kind() == STEP_KIND_SYNC) {
      problems->push_back(
          absl::StrCat(where, ", which a map, background or sync step cannot be"));
    }
  }
  starts_.assign(n, false);
  for (int i = 0; i < n; ++i) starts_[i] = in_[i].empty();
  for (const std::vector<int>& members : loops_) {
    const bool entered_from_outside = std::any_of(members.begin(), members.end(), [&](int m) {
      return std::any_of(in_[m].begin(), in_[m].end(),
                         [&](int from) { return loop_[from] != loop_[m]; });
    });
    if (!entered_from_outside) starts_[members.front()] = true;
  }
}

// Tarjan's strongly connected components, iteratively over the out-edges; a component of two
// or more steps, or of one with an edge to itself, is a loop. Loops are numbered, and their
// members listed, in definition order.
void RoutingGraph::FindLoops() {
  const int n = defined();
  std::vector<int> index(n, -1), low(n, 0), component(n, -1);
  std::vector<bool> on_stack(n, false);
  std::vector<int> stack;
  std::vector<std::pair<int, size_t>> calls;  // step, next out-edge
  int next_index = 0, components = 0;
  for (int root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    calls.emplace_back(root, 0);
    while (!calls.empty()) {
      auto& [step, next] = calls.back();
      if (next == 0 && index[step] < 0) {
        index[step] = low[step] = next_index++;
        stack.push_back(step);
        on_stack[step] = true;
      }
      if (next < out_[step].size()) {
        const int to = out_[step][next++].to;
        if (index[to] < 0) {
          calls.emplace_back(to, 0);
        } else if (on_stack[to]) {
          low[step] = std::min(low[step], index[to]);
        }
        continue;
      }
      if (low[step] == index[step]) {
        int member;
        do {
          member = stack.back();
          stack.pop_back();
          on_stack[member] = false;
          component[member] = components;
        } while (member != step);
        ++components;
      }
      const int done = step;
      calls.pop_back();
      if (!calls.empty()) low[calls.back().first] = std::min(low[calls.back().first], low[done]);
    }
  }
  std::vector<int> size(components, 0);
  for (int c : component) ++size[c];
  std::vector<int> loop_of_component(components, -1);
  loop_.assign(n, -1);
  for (int i = 0; i < n; ++i) {
    const bool self_edge = std::any_of(out_[i].begin(), out_[i].end(),
                                       [i](const OutEdge& edge) { return edge.to == i; });
    if (size[component[i]] < 2 && !self_edge) continue;
    int& loop = loop_of_component[component[i]];
    if (loop < 0) {
      loop = static_cast<int>(loops_.size());
      loops_.emplace_back();
    }
    loop_[i] = loop;
    loops_[loop].push_back(i);
  }
}

std::vector<int> TakenEdges(const RoutingGraph& graph, const WorkflowState& state, int step,
                            bool succeeded, const std::vector<StateUpdate>& own_updates) {
  const std::vector<RoutingGraph::OutEdge>& edges = graph.OutOf(step);
  const bool conditional = std::any_of(edges.begin(), edges.end(),
                                       [](const auto& edge) { return edge.conditional; });
  StateValues path;
  if (conditional) path = PathState(graph, state, step, own_updates);
  const std::string label = path.count("preferred_label") > 0
                                ? std::string(path.at("preferred_label").text())
                                : std::string();
  const absl::string_view outcome = succeeded ? "success" : "fail";
  std::vector<int> taken;
  for (const RoutingGraph::OutEdge& edge : edges) {
    const bool holds = edge.conditional
                           ? (succeeded || edge.condition.TestsOutcome()) &&
                                 edge.condition.Holds({outcome, label, &path})
                           : succeeded;
    if (holds) taken.push_back(edge.to);
  }
  if (!graph.RoutesFirst(step) || taken.size() < 2) return taken;
  // The first by greater weight, then target name.
  auto weight_of = [&](int to) {
    return std::find_if(edges.begin(), edges.end(), [to](const auto& e) { return e.to == to; })
        ->weight;
  };
  const int first = *std::min_element(taken.begin(), taken.end(), [&](int a, int b) {
    if (weight_of(a) != weight_of(b)) return weight_of(a) > weight_of(b);
    return state.steps[a].name < state.steps[b].name;
  });
  return {first};
}

JoinDecision DecideJoin(const RoutingGraph& graph, const WorkflowState& state, int step,
                        const std::vector<bool>& pending_start) {
  const StepState& s = state.steps[step];
  if (pending_start[step]) return {};
  const bool never = NeverVisited(s);
  if (!never && !VisitEnded(s)) return {};
  const std::vector<int>& entered = s.details().entered_by;
  const int loop = graph.LoopOf(step);
  if (loop >= 0 && OpensVisit(graph, s, step)) {
    return {JoinDecision::kStart, VisitOf(s) + 1, ""};
  }
  // A step on no loop runs once; a step on a loop that visited ends with its last visit.
  if (!never) return {};
  if (graph.Starts(step) || (graph.JoinsAny(step) && !entered.empty())) {
    return {JoinDecision::kStart, 1, ""};
  }
  int failed_source = -1;
  for (int from : graph.InOf(step)) {
    if (Contains(entered, from)) continue;
    if (!Settled(graph, state, from, pending_start)) return {};
    if (failed_source < 0) failed_source = FailureBehind(graph, state, from);
  }
  if (failed_source >= 0) {
    return {JoinDecision::kSkip, 0,
            absl::StrCat("depends on failed step '", state.steps[failed_source].name, "'")};
  }
  if (!entered.empty()) return {JoinDecision::kStart, 1, ""};
  return {JoinDecision::kSkip, 0, "no edge into it was taken"};
}

absl::Status CheckVisitBound(const RoutingGraph& graph, const WorkflowState& state, int step,
                             int visit) {
  if (visit <= graph.MaxVisits(step)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("step '", state.steps[step].name,
                                                   "' reached its limit of ",
                                                   graph.MaxVisits(step), " visits (max_visits)"));
}

}  // namespace chorus
