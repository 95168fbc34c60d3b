#include "tools/graph.h"

#include <graphviz/gvc.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tools/graphviz_session.h"

namespace chorus {
namespace {

// `text` as a quoted DOT string. The DOT parser unescapes only \", but labels and tooltips
// then interpret backslash escapes, so a backslash is doubled to stay literal.
std::string QuoteDot(absl::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      default:
        quoted += c;
    }
  }
  quoted += '"';
  return quoted;
}

absl::string_view ShapeOf(StepKind kind) {
  switch (kind) {
    case STEP_KIND_FAN_OUT:
      return "triangle";
    case STEP_KIND_FAN_IN:
      return "invtriangle";
    default:
      return "box";
  }
}

// "completed, 1 attempt", "failed, 2 attempts: <error>".
std::string DescribeStep(const StepState& step) {
  std::string text = absl::StrCat(StepStatusName(step.status), ", ", step.attempts,
                                  step.attempts == 1 ? " attempt" : " attempts");
  if (step.status == StepStatus::kFailed) absl::StrAppend(&text, ": ", step.error.message());
  return text;
}

// The colours' meaning, as plain text: an HTML-like label could show the colours themselves,
// but Graphviz 2.43 leaks memory parsing one.
constexpr absl::string_view kLegend =
    "grey: pending   blue: running   green: completed   red: failed   orange: cancelled   "
    "light grey: skipped";

std::string NodeStatement(const StepDefinition& step, const WorkflowState* state) {
  std::string attributes = absl::StrCat("shape=", ShapeOf(step.kind()));
  if (state != nullptr) {
    StepState pending;
    const StepState* step_state = state->FindStep(step.name());
    if (step_state == nullptr) step_state = &pending;
    absl::StrAppend(&attributes, ", fillcolor=", QuoteDot(StepStatusColor(step_state->status)),
                    ", tooltip=", QuoteDot(DescribeStep(*step_state)));
  }
  return absl::StrCat("  ", QuoteDot(step.name()), " [", attributes, "];\n");
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
  std::string dot = absl::StrCat("digraph ", QuoteDot(definition.name()), " {\n",
                                 "  node [style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n");
  if (state != nullptr) absl::StrAppend(&dot, "  labelloc=b;\n  label=", QuoteDot(kLegend), ";\n");
  for (const StepDefinition& step : definition.steps()) {
    absl::StrAppend(&dot, NodeStatement(step, state));
  }
  for (const StepDefinition& step : definition.steps()) {
    for (const std::string& dependency : step.depends_on()) {
      absl::StrAppend(&dot, "  ", QuoteDot(dependency), " -> ", QuoteDot(step.name()), ";\n");
    }
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
