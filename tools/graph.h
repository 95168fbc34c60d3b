// Drawing a workflow's graph of steps: as Graphviz DOT text, and from DOT as SVG.
//
//   std::string dot = RenderDot(state.definition(), &state);  // or nullptr for the bare graph
//   CHORUS_ASSIGN_OR_RETURN(std::string svg, RenderSvg(dot));
//
// Thread-safe. RenderSvg calls are serialized process-wide, because Graphviz is not
// thread-safe (see tools/graphviz_session.h).
#ifndef CHORUS_TOOLS_GRAPH_H_
#define CHORUS_TOOLS_GRAPH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/workflow_state.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

// The colour, "#rrggbb", that stands for a step in `status` in every drawing: pending grey,
// running blue, completed green, failed red, cancelled orange, skipped light grey. (RenderDot
// fills a failed non-critical step pink: the workflow tolerates its failure.)
absl::string_view StepStatusColor(StepStatus status);

// A DOT digraph named after the workflow, with one node per step, named and labelled after
// the step (a rounded box for a task, a 3-D box for a map step, a triangle for a fan-out, an
// inverted triangle for a fan-in, an octagon for a sync point; dashed for a background step),
// an edge from each dependency to its dependent, in definition order, and then each entry of
// definition.edges, labelled with its condition ("outcome=fail"), its label, or both
// ("retry: outcome=fail"). When `state` is not null (it must then be the state of a workflow
// of this definition), each node is filled with its step's StepStatusColor (pink for a
// tolerated failure) and has a tooltip with its status, its attempts and, if it failed, its
// error; a step on a visit past its first (a loop ran it again) is labelled "name ×V" and its
// tooltip says the visit, whose attempts it counts; each expanded map step has its instances
// drawn below it, joined by dotted edges (at most 12, then a node counting the rest); and the
// graph is labelled with a legend of the colours (and of the special shapes the workflow
// uses). In a graph (the definition has edges entries, or a step was visited again), the
// edges of a run are coloured too: bold dark green if the latest ended visit of their source
// took them (its StepDetails.taken; in a definition without edges entries, if it completed),
// dashed grey if it ended without taking them, plain while it has not ended. A DAG's edges
// stay plain, and its drawing as it was before graphs had edges.
// Names are written as TerminalText (event/text.h) shows them, a line break as \n, since
// neither cgraph (NUL), Graphviz (bytes that are not UTF-8) nor SVG (control characters) can
// hold every name; other text keeps its line breaks.
std::string RenderDot(const WorkflowDefinition& definition, const WorkflowState* state);

// Lays `dot` out with Graphviz's "dot" engine and renders it as an SVG document.
// Returns InvalidArgument with Graphviz's message if `dot` cannot be parsed, and Internal if
// the layout or the rendering fails.
absl::StatusOr<std::string> RenderSvg(absl::string_view dot);

}  // namespace chorus

#endif  // CHORUS_TOOLS_GRAPH_H_
