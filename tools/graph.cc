#include "tools/graph.h"

#include <graphviz/gvc.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "event/text.h"
#include "tools/graphviz_session.h"

namespace chorus {
namespace {

// `text` as a quoted DOT string that Graphviz shows as it is, its line breaks kept. Each line
// is shown as TerminalText (event/text.h) shows it: cgraph reads a NUL as the end of the
// graph, Graphviz refuses bytes that are not UTF-8, and SVG (XML 1.0) cannot hold most
// control characters. The DOT parser unescapes only \", but labels and tooltips then
// interpret backslash escapes and HTML entities, so a backslash is doubled and '&' written as
// "&amp;" to stay literal, and a line break is written as \n.
std::string QuoteDot(absl::string_view text) {
  const std::string lines = absl::StrJoin(absl::StrSplit(text, '\n'), "\\n",
                                          [](std::string* out, absl::string_view line) {
                                            for (char c : TerminalText(line)) {
                                              if (c == '&') {
                                                out->append("&amp;");
                                                continue;
                                              }
                                              if (c == '"' || c == '\\') out->push_back('\\');
                                              out->push_back(c);
                                            }
                                          });
  return absl::StrCat("\"", lines, "\"");
}

// A name as a quoted DOT string: all of it shown as TerminalText shows it, a line break too.
std::string QuoteName(absl::string_view name) { return QuoteDot(TerminalText(name)); }

// The most instances of one map step drawn; the rest are summed up in one node.
constexpr int kMaxInstancesDrawn = 12;

// Failed, but a non-critical step whose failure the workflow tolerates: pink, not red.
constexpr absl::string_view kToleratedFailureColor = "#f4cccc";

// Edges of a run: taken dark green (and bold), not taken grey (and dashed).
constexpr absl::string_view kTakenEdgeColor = "#38761d";
constexpr absl::string_view kNotTakenEdgeColor = "#9e9e9e";

absl::string_view ShapeOf(const StepDefinition& step) {
  switch (step.kind()) {
    case STEP_KIND_FAN_OUT:
      return "triangle";
    case STEP_KIND_FAN_IN:
      return "invtriangle";
    case STEP_KIND_SYNC:
      return "octagon";
    default:
      return step.map_over().empty() ? "box" : "box3d";
  }
}

// "completed, 1 attempt", "failed, 2 attempts: <error>"; "completed, visit 3, 1 attempt" on a
// visit past the first (the attempts are that visit's).
std::string DescribeStep(const StepState& step) {
  std::string text = absl::StrCat(StepStatusName(step.status), ", ");
  if (VisitOf(step) > 1) absl::StrAppend(&text, "visit ", VisitOf(step), ", ");
  absl::StrAppend(&text, step.attempts, step.attempts == 1 ? " attempt" : " attempts");
  if (step.status == StepStatus::kFailed) absl::StrAppend(&text, ": ", step.error.message());
  return text;
}

// The colours' meaning, as plain text: an HTML-like label could show the colours themselves,
// but Graphviz 2.43 leaks memory parsing one.
// Only what `definition` can show: pink only if a step is non-critical, a line of shapes only
// if there is a map, sync or background step, a line of edges only if `routing` is drawn.
std::string Legend(const WorkflowDefinition& definition, bool routing) {
  const auto any = [&definition](bool (*has)(const StepDefinition&)) {
    return std::any_of(definition.steps().begin(), definition.steps().end(), has);
  };
  std::string legend = "grey: pending   blue: running   green: completed   red: failed   ";
  if (any([](const StepDefinition& step) { return step.non_critical(); })) {
    legend += "pink: failed, tolerated (non-critical)   ";
  }
  legend += "orange: cancelled   light grey: skipped";
  std::vector<std::string> shapes;
  if (any([](const StepDefinition& step) { return !step.map_over().empty(); })) {
    shapes.push_back("box3d: map step (its instances below it)");
  }
  if (any([](const StepDefinition& step) { return step.kind() == STEP_KIND_SYNC; })) {
    shapes.push_back("octagon: sync point");
  }
  if (any([](const StepDefinition& step) { return step.background(); })) {
    shapes.push_back("dashed: background step");
  }
  if (!shapes.empty()) absl::StrAppend(&legend, "\n", absl::StrJoin(shapes, "   "));
  if (routing) {
    absl::StrAppend(&legend, "\nbold green edge: taken   dashed grey edge: not taken   ",
                    "black edge: not yet decided   ×N: on its visit N");
  }
  return legend;
}

absl::string_view FillColorOf(const StepDefinition& step, const StepState& state) {
  return state.status == StepStatus::kFailed && step.non_critical() ? kToleratedFailureColor
                                                                    : StepStatusColor(state.status);
}

std::string NodeStatement(const StepDefinition& step, const WorkflowState* state) {
  std::string attributes = absl::StrCat("shape=", ShapeOf(step));
  if (step.background()) absl::StrAppend(&attributes, ", style=\"rounded,filled,dashed\"");
  if (state != nullptr) {
    StepState pending;
    const StepState* step_state = state->FindStep(step.name());
    if (step_state == nullptr) step_state = &pending;
    if (VisitOf(*step_state) > 1) {
      absl::StrAppend(
          &attributes, ", label=",
          QuoteDot(absl::StrCat(TerminalText(step.name()), " ×", VisitOf(*step_state))));
    }
    absl::StrAppend(&attributes, ", fillcolor=", QuoteDot(FillColorOf(step, *step_state)),
                    ", tooltip=", QuoteDot(DescribeStep(*step_state)));
  }
  return absl::StrCat("  ", QuoteName(step.name()), " [", attributes, "];\n");
}

// The instances of map step `step` (once expanded), each a small node joined to the map step
// by a dotted edge; past kMaxInstancesDrawn, one node counts the rest.
std::string InstanceStatements(const StepDefinition& step, const WorkflowState& state) {
  const StepState* map_step = state.FindStep(step.name());
  if (map_step == nullptr || !map_step->expanded) return "";
  std::string dot;
  const int count = static_cast<int>(map_step->details().instances.size());
  for (int i = 0; i < count && i < kMaxInstancesDrawn; ++i) {
    const StepState& instance = state.steps[map_step->details().instances[i]];
    absl::StrAppend(
        &dot, "  ", QuoteName(instance.name),
        " [shape=box, fontsize=10, fillcolor=", QuoteDot(FillColorOf(step, instance)), ", tooltip=",
        QuoteDot(absl::StrCat(instance.details().map_item, ": ", DescribeStep(instance))), "];\n  ",
        QuoteName(step.name()), " -> ", QuoteName(instance.name),
        " [style=dotted, arrowhead=none];\n");
  }
  if (count > kMaxInstancesDrawn) {
    const std::string rest =
        absl::StrCat(step.name(), "[", kMaxInstancesDrawn, "..", count - 1, "]");
    absl::StrAppend(&dot, "  ", QuoteName(rest), " [shape=plaintext, style=\"\", label=",
                    QuoteDot(absl::StrCat(count - kMaxInstancesDrawn, " more instances")), "];\n  ",
                    QuoteName(step.name()), " -> ", QuoteName(rest),
                    " [style=dotted, arrowhead=none];\n");
  }
  return dot;
}

// Every edge of `definition`: each dependency's in definition order, as an Edge with no
// condition, label or weight, then the entries of WorkflowDefinition.edges.
std::vector<Edge> EdgesOf(const WorkflowDefinition& definition) {
  std::vector<Edge> edges;
  for (const StepDefinition& step : definition.steps()) {
    for (const std::string& dependency : step.depends_on()) {
      Edge& edge = edges.emplace_back();
      edge.set_from(dependency);
      edge.set_to(step.name());
    }
  }
  edges.insert(edges.end(), definition.edges().begin(), definition.edges().end());
  return edges;
}

// Whether a drawing of a run shows which edges were taken: only for a graph (edges besides
// dependencies, or a step visited again), so that a DAG's drawing stays as it always was.
bool DrawsRouting(const WorkflowDefinition& definition, const WorkflowState& state) {
  return definition.edges_size() > 0 ||
         std::any_of(state.steps.begin(), state.steps.end(),
                     [](const StepState& step) { return VisitOf(step) > 1; });
}

enum class Routing { kUndecided, kTaken, kNotTaken };

// Whether `edge` was taken by the latest ended visit of its source: as its taken edges say, or
// in a definition without edges entries (whose histories list none), if the source completed.
// Undecided while the source has not ended (pending, running, or failed with a retry to come).
Routing RoutingOf(const Edge& edge, const WorkflowState& state) {
  const StepState* source = state.FindStep(edge.from());
  if (source == nullptr) return Routing::kUndecided;
  if (!IsTerminal(source->status) || RetryScheduled(*source)) return Routing::kUndecided;
  bool taken = source->status == StepStatus::kCompleted;
  if (state.definition().edges_size() > 0) {
    const std::vector<int>& took = source->details().taken;
    taken = std::find(took.begin(), took.end(), state.IndexOf(edge.to())) != took.end();
  }
  return taken ? Routing::kTaken : Routing::kNotTaken;
}

// "outcome=fail", "retry: outcome=fail", "retry": what an edge is labelled with.
std::string EdgeLabel(const Edge& edge) {
  if (edge.condition().empty()) return edge.label();
  if (edge.label().empty()) return edge.condition();
  return absl::StrCat(edge.label(), ": ", edge.condition());
}

std::string EdgeStatement(const Edge& edge, const WorkflowState* routed) {
  std::vector<std::string> attributes;
  if (const std::string label = EdgeLabel(edge); !label.empty()) {
    attributes.push_back(absl::StrCat("label=", QuoteDot(label)));
  }
  switch (routed == nullptr ? Routing::kUndecided : RoutingOf(edge, *routed)) {
    case Routing::kTaken:
      attributes.push_back(absl::StrCat("color=", QuoteDot(kTakenEdgeColor), ", penwidth=2"));
      break;
    case Routing::kNotTaken:
      attributes.push_back(absl::StrCat("color=", QuoteDot(kNotTakenEdgeColor), ", fontcolor=",
                                        QuoteDot(kNotTakenEdgeColor), ", style=dashed"));
      break;
    case Routing::kUndecided:
      break;
  }
  std::string statement = absl::StrCat("  ", QuoteName(edge.from()), " -> ", QuoteName(edge.to()));
  if (!attributes.empty()) absl::StrAppend(&statement, " [", absl::StrJoin(attributes, ", "), "]");
  return absl::StrCat(statement, ";\n");
}

// One Graphviz context for the life of the process, never freed: its text layout plugin
// caches a pointer into the context across calls, so a second context would read freed memory.
GVC_t* SharedContext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(GraphvizMutex()) {
  static GVC_t* const context = gvContext();
  return context;
}

struct GraphCloser {
  void operator()(Agraph_t* graph) const { agclose(graph); }
};

std::string FirstLine(absl::string_view messages) {
  return std::string(absl::StripTrailingAsciiWhitespace(messages.substr(0, messages.find('\n'))));
}

}  // namespace

absl::string_view StepStatusColor(StepStatus status) {
  switch (status) {
    case StepStatus::kPending:
      return "#bdbdbd";
    case StepStatus::kRunning:
      return "#6fa8dc";
    case StepStatus::kCompleted:
      return "#93c47d";
    case StepStatus::kFailed:
      return "#e06666";
    case StepStatus::kCancelled:
      return "#f6b26b";
    case StepStatus::kSkipped:
      return "#eeeeee";
  }
  return "#ffffff";
}

std::string RenderDot(const WorkflowDefinition& definition, const WorkflowState* state) {
  std::string dot = absl::StrCat("digraph ", QuoteName(definition.name()), " {\n",
                                 "  node [style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n");
  const bool routing = state != nullptr && DrawsRouting(definition, *state);
  if (state != nullptr) {
    absl::StrAppend(&dot, "  labelloc=b;\n  label=", QuoteDot(Legend(definition, routing)), ";\n");
  }
  for (const StepDefinition& step : definition.steps()) {
    absl::StrAppend(&dot, NodeStatement(step, state));
    if (state != nullptr) absl::StrAppend(&dot, InstanceStatements(step, *state));
  }
  for (const Edge& edge : EdgesOf(definition)) {
    absl::StrAppend(&dot, EdgeStatement(edge, routing ? state : nullptr));
  }
  dot += "}\n";
  return dot;
}

absl::StatusOr<std::string> RenderSvg(absl::string_view dot) {
  GraphvizSession session;
  GVC_t* context = SharedContext();
  std::unique_ptr<Agraph_t, GraphCloser> graph(agmemread(std::string(dot).c_str()));
  if (graph == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the DOT graph: ", FirstLine(session.messages())));
  }
  if (gvLayout(context, graph.get(), "dot") != 0) {
    return absl::InternalError(
        absl::StrCat("Graphviz cannot lay out the graph: ", FirstLine(session.messages())));
  }
  char* data = nullptr;
  unsigned int length = 0;
  bool rendered = gvRenderData(context, graph.get(), "svg", &data, &length) == 0;
  std::string svg = rendered ? std::string(data, length) : "";
  gvFreeRenderData(data);
  gvFreeLayout(context, graph.get());
  if (!rendered) {
    return absl::InternalError(
        absl::StrCat("Graphviz cannot render SVG: ", FirstLine(session.messages())));
  }
  return svg;
}

}  // namespace chorus
