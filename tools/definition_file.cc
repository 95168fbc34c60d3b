#include "tools/definition_file.h"

#include <graphviz/cgraph.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "event/internal/status_macros.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "tools/graphviz_session.h"

namespace chorus {
namespace {

// Collects text-format parse errors as "FILE:LINE:COLUMN: problem", 1-based.
class TextFormatErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit TextFormatErrors(absl::string_view file_name) : file_name_(file_name) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    // A negative line means the problem has no position.
    errors_.push_back(
        line < 0 ? absl::StrCat(file_name_, ": ", message)
                 : absl::StrCat(file_name_, ":", line + 1, ":", column + 1, ": ", message));
  }

  std::string Describe() const {
    if (errors_.empty()) return absl::StrCat(file_name_, ": not a WorkflowDefinition");
    return absl::StrJoin(errors_, "\n");
  }

 private:
  std::string file_name_;
  std::vector<std::string> errors_;
};

absl::StatusOr<WorkflowDefinition> ParseTextProto(absl::string_view text,
                                                  absl::string_view file_name) {
  TextFormatErrors errors(file_name);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  WorkflowDefinition definition;
  if (!parser.ParseFromString(std::string(text), &definition)) {
    return absl::InvalidArgumentError(errors.Describe());
  }
  return definition;
}

struct GraphCloser {
  void operator()(Agraph_t* graph) const { agclose(graph); }
};

// Graphviz words a syntax error "Error: syntax error in line 7 near '->'", followed by lines
// quoting the input; we say "FILE:7: syntax error near '->'".
std::string DescribeGraphvizError(absl::string_view file_name, absl::string_view messages) {
  if (messages.empty()) return absl::StrCat(file_name, ": no graph found");
  absl::string_view message = messages.substr(0, messages.find('\n'));
  if (!absl::ConsumePrefix(&message, "Error: ")) absl::ConsumePrefix(&message, "Warning: ");
  constexpr absl::string_view kInLine = " in line ";
  size_t at = message.find(kInLine);
  if (at == absl::string_view::npos) return absl::StrCat(file_name, ": ", message);
  absl::string_view rest = message.substr(at + kInLine.size());
  absl::string_view line = rest.substr(0, rest.find_first_not_of("0123456789"));
  rest.remove_prefix(line.size());
  absl::ConsumePrefix(&rest, " of input");
  return absl::StrCat(file_name, ":", line, ": ", message.substr(0, at), rest);
}

// Attribute `name` of a graph or node, or "" if it has none.
std::string AttributeOf(void* object, const char* name) {
  const char* value = agget(object, const_cast<char*>(name));  // agget does not write to it
  return value == nullptr ? "" : value;
}

// The workflow's name: the graph's label, else its name unless it is anonymous (cgraph names
// an anonymous graph "%N").
std::string GraphName(Agraph_t* graph) {
  std::string label = AttributeOf(graph, "label");
  if (!label.empty()) return label;
  std::string name = agnameof(graph);
  return absl::StartsWith(name, "%") ? "" : name;
}

absl::StatusOr<StepKind> StepKindOfNode(Agnode_t* node, absl::string_view file_name) {
  std::string type = AttributeOf(node, "type");
  if (type.empty()) return STEP_KIND_UNSPECIFIED;
  if (type == "fan_out") return STEP_KIND_FAN_OUT;
  if (type == "fan_in") return STEP_KIND_FAN_IN;
  return absl::InvalidArgumentError(absl::StrCat(file_name, ": node '", agnameof(node),
                                                 "' has unknown type '", type,
                                                 "' (expected fan_out or fan_in)"));
}

absl::StatusOr<StepDefinition> StepOfNode(Agraph_t* graph, Agnode_t* node,
                                          absl::string_view file_name) {
  StepDefinition step;
  step.set_name(agnameof(node));
  CHORUS_ASSIGN_OR_RETURN(StepKind kind, StepKindOfNode(node, file_name));
  step.set_kind(kind);
  step.set_command(AttributeOf(node, "cmd"));
  if (kind != STEP_KIND_UNSPECIFIED && !step.command().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": node '", step.name(), "' is a ",
                                                   AttributeOf(node, "type"),
                                                   " step and must not have a cmd attribute"));
  }
  if (kind == STEP_KIND_UNSPECIFIED && step.command().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": node '", step.name(), "' has no cmd attribute"));
  }
  // cgraph lists in-edges by their tails' creation order, so dependencies come in definition
  // order; a repeated edge adds no dependency.
  for (Agedge_t* edge = agfstin(graph, node); edge != nullptr; edge = agnxtin(graph, edge)) {
    std::string dependency = agnameof(agtail(edge));
    if (!absl::c_linear_search(step.depends_on(), dependency)) step.add_depends_on(dependency);
  }
  return step;
}

// cgraph lists nodes in creation order, i.e. in the order they first appear in the file.
absl::StatusOr<WorkflowDefinition> DefinitionOfGraph(Agraph_t* graph, absl::string_view file_name) {
  if (!agisdirected(graph)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": the graph is undirected; a workflow is a digraph"));
  }
  WorkflowDefinition definition;
  definition.set_name(GraphName(graph));
  for (Agnode_t* node = agfstnode(graph); node != nullptr; node = agnxtnode(graph, node)) {
    CHORUS_ASSIGN_OR_RETURN(*definition.add_steps(), StepOfNode(graph, node, file_name));
  }
  return definition;
}

// A warning fails the parse too: in a definition it means the file may not say what its
// author meant (e.g. "badly delimited number '1a' splits into two tokens").
absl::StatusOr<WorkflowDefinition> ParseDot(absl::string_view text, absl::string_view file_name) {
  GraphvizSession session;
  std::unique_ptr<Agraph_t, GraphCloser> graph(agmemread(std::string(text).c_str()));
  if (graph == nullptr || !session.messages().empty()) {
    return absl::InvalidArgumentError(DescribeGraphvizError(file_name, session.messages()));
  }
  return DefinitionOfGraph(graph.get(), file_name);
}

// DOT and text format share '#' line comments; DOT also has C and C++ comments.
absl::string_view SkipSpaceAndComments(absl::string_view text) {
  while (true) {
    text = absl::StripLeadingAsciiWhitespace(text);
    if (absl::StartsWith(text, "#") || absl::StartsWith(text, "//")) {
      text.remove_prefix(std::min(text.size(), text.find('\n')));
    } else if (absl::StartsWith(text, "/*")) {
      size_t end = text.find("*/", 2);
      text.remove_prefix(end == absl::string_view::npos ? text.size() : end + 2);
    } else {
      return text;
    }
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  std::string text;
  char buffer[1 << 16];
  size_t size;
  while ((size = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, size);
  int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) return absl::ErrnoToStatus(error, absl::StrCat("cannot read ", path));
  return text;
}

}  // namespace

DefinitionFormat GuessDefinitionFormat(absl::string_view file_name, absl::string_view text) {
  std::string extension =
      absl::AsciiStrToLower(std::filesystem::path(std::string(file_name)).extension().string());
  if (extension == ".dot" || extension == ".gv") return DefinitionFormat::kDot;
  if (extension == ".textproto" || extension == ".txtpb" || extension == ".pbtxt") {
    return DefinitionFormat::kTextProto;
  }
  absl::string_view start = SkipSpaceAndComments(text);
  std::string keyword = absl::AsciiStrToLower(start.substr(0, start.find_first_of(" \t\r\n{")));
  return keyword == "digraph" || keyword == "strict" || keyword == "graph"
             ? DefinitionFormat::kDot
             : DefinitionFormat::kTextProto;
}

absl::StatusOr<WorkflowDefinition> ParseDefinition(absl::string_view text,
                                                   absl::string_view file_name,
                                                   DefinitionFormat format) {
  switch (format) {
    case DefinitionFormat::kDot:
      return ParseDot(text, file_name);
    case DefinitionFormat::kTextProto:
      return ParseTextProto(text, file_name);
  }
  return absl::InvalidArgumentError(absl::StrCat(file_name, ": unknown definition format"));
}

absl::StatusOr<WorkflowDefinition> ReadDefinitionFile(const std::string& path) {
  CHORUS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseDefinition(text, path, GuessDefinitionFormat(path, text));
}

}  // namespace chorus
