// Routing (DESIGN.md, "Graphs: routing, joins and loops"): which edges a visit that ended takes,
// and when a step starts, starts its next visit, or is skipped, as functions of the definition's
// graph and the folded state. Used by the scheduler for definitions that HasRouting; a plain
// DAG keeps the scheduler's own counting, which these rules reduce to.
//
// The rules, for a definition's edges (each a dependency, as EffectiveDependencies lists them,
// with the condition, label and weight of its WorkflowDefinition.edges entry if it has one):
//   - A visit that completed takes its unconditional edges and the conditional ones whose
//     condition holds; a visit that failed for good takes only conditional edges whose
//     condition tests `outcome` and holds. A step that routes `first` takes only the first of
//     those by greater weight, then target name. A failure that took an edge is handled.
//   - A loop is a cycle of edges. A step on a loop joins any; it starts its next visit once its
//     visit ended and an edge from its loop was taken into it since that visit started. A loop
//     no edge enters from outside starts at its first step in definition order.
//   - A step on no loop runs at most once. Joining all, it starts when every edge into it is
//     resolved, at least one taken and none from a failure; joining any, on the first edge
//     taken. It is skipped when its edges are resolved otherwise.
//   - An edge is resolved once taken, or once its source can no longer take it: the source
//     ended for good and, on a loop, nothing of its loop can run again. It is "from a failure"
//     when its source failed for good without taking an edge, or was skipped for that reason.
//   - Conditions read the visit's outcome (`success` or `fail`: no Chorus step reports
//     `partial_success` yet), the label it preferred (the state key `preferred_label`, which a
//     step sets like any other) and the state its path made: the initial state and the updates
//     of the step and its ancestors, every visit's, merged in definition order.
//
// Internal to the engine. Thread-compatible; a RoutingGraph is immutable once built.
#ifndef CHORUS_WORKFLOW_INTERNAL_ROUTING_H_
#define CHORUS_WORKFLOW_INTERNAL_ROUTING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "event/workflow_state.h"
#include "proto/workflow_definition.pb.h"
#include "workflow/condition.h"

namespace chorus {

// Whether `definition` uses routing: edges with a condition, a label or a weight, a join, a
// route or a bound on visits. Without it a workflow runs as a DAG.
bool HasRouting(const WorkflowDefinition& definition);

// Whether `edge` has a condition: some text besides spaces (a condition of spaces holds always).
bool HasCondition(const Edge& edge);

// The visits a step may have when neither it nor its workflow sets max_visits.
inline constexpr int kDefaultMaxVisits = 1000;

class RoutingGraph {
 public:
  struct OutEdge {
    int to = -1;
    Condition condition;
    bool conditional = false;
    int weight = 0;
  };

  // `dependencies`: EffectiveDependencies(definition). Adds to `problems`, if not null, what
  // makes the graph unable to run: a malformed condition (naming the edge), an edge given
  // twice, a step on a loop that joins all or is a map, background or sync step.
  RoutingGraph(const WorkflowDefinition& definition,
               const std::vector<std::vector<int>>& dependencies,
               std::vector<std::string>* problems);

  int defined() const { return static_cast<int>(out_.size()); }
  const std::vector<OutEdge>& OutOf(int step) const { return out_[step]; }
  const std::vector<int>& InOf(int step) const { return in_[step]; }
  // The loop (a strongly connected component with a cycle) `step` is on, or -1.
  int LoopOf(int step) const { return loop_[step]; }
  // The steps of loop `loop`.
  const std::vector<int>& MembersOf(int loop) const { return loops_[loop]; }
  bool JoinsAny(int step) const { return joins_any_[step]; }
  bool RoutesFirst(int step) const { return routes_first_[step]; }
  // Whether the step starts the run: no edge enters it, or it is the first step of a loop no
  // edge enters from outside.
  bool Starts(int step) const { return starts_[step]; }
  int MaxVisits(int step) const { return max_visits_[step]; }

 private:
  void FindLoops();

  std::vector<std::vector<OutEdge>> out_;
  std::vector<std::vector<int>> in_;
  std::vector<int> loop_;
  std::vector<std::vector<int>> loops_;
  std::vector<bool> joins_any_;
  std::vector<bool> routes_first_;
  std::vector<bool> starts_;
  std::vector<int> max_visits_;
};

// The steps whose edges from `step` (a defined step whose visit just ended: `succeeded` for a
// completion, else a failure for good) that visit takes, in edge order. `own_updates`: the
// visit's updates to the state, not folded into `state` yet.
std::vector<int> TakenEdges(const RoutingGraph& graph, const WorkflowState& state, int step,
                            bool succeeded, const std::vector<StateUpdate>& own_updates);

// What a defined step's join says now.
struct JoinDecision {
  enum Kind { kWait, kStart, kSkip } kind = kWait;
  int visit = 0;       // kStart: the visit to start
  std::string reason;  // kSkip: why
};
// `pending_start[i]`: the scheduler has step i ready or blocked, about to start.
JoinDecision DecideJoin(const RoutingGraph& graph, const WorkflowState& state, int step,
                        const std::vector<bool>& pending_start);

// The run's failure when step `step` would start visit `visit` past its bound; OK otherwise.
absl::Status CheckVisitBound(const RoutingGraph& graph, const WorkflowState& state, int step,
                             int visit);

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_ROUTING_H_
