#include "tools/definition_file.h"

#include <graphviz/cgraph.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "event/internal/status_macros.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "tools/graphviz_session.h"
#include "tools/read_file.h"

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

// Attribute `name` of a graph, node or edge, or "" if it has none. An attribute declared for
// some objects (as by `a [retries=2]`) reads as its default, "" unless set by `node [...]` or
// `edge [...]`, on the others: "" is absent.
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

// A DOT object (a node, an edge or the graph) whose attributes are read, with the start of the
// errors about them: "p.dot: node 'a'", "p.dot: edge 'a' -> 'b'" or "p.dot: graph".
struct DotObject {
  void* object;
  std::string where;
};

// "p.dot: node 'a' attribute retries=\"x\": <problem>".
absl::Status AttributeError(const DotObject& dot, const char* name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(dot.where, " attribute ", name, "=\"",
                                                 AttributeOf(dot.object, name), "\": ", problem));
}

absl::StatusOr<bool> ReadBool(const DotObject& dot, const char* name, bool absent) {
  const std::string text = AttributeOf(dot.object, name);
  if (text.empty()) return absent;
  if (text == "true") return true;
  if (text == "false") return false;
  return AttributeError(dot, name, "expected true or false");
}

// A whole number from `min` to `max`; nullopt when the attribute is absent.
absl::StatusOr<std::optional<int32_t>> ReadInt(const DotObject& dot, const char* name, int32_t min,
                                               int32_t max) {
  const std::string text = AttributeOf(dot.object, name);
  if (text.empty()) return std::nullopt;
  int32_t value;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return AttributeError(dot, name,
                          absl::StrCat("expected a whole number from ", min, " to ", max));
  }
  return value;
}

// A finite number for which `fits` holds, described by `expected` ("a number greater than
// 0"); nullopt when the attribute is absent.
absl::StatusOr<std::optional<double>> ReadNumber(const DotObject& dot, const char* name,
                                                 absl::string_view expected, bool (*fits)(double)) {
  const std::string text = AttributeOf(dot.object, name);
  if (text.empty()) return std::nullopt;
  double value;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || !fits(value)) {
    return AttributeError(dot, name, absl::StrCat("expected ", expected));
  }
  return value;
}

// A positive duration in absl::ParseDuration's syntax ("1.5s", "2m", "1h30m"); nullopt when
// the attribute is absent.
absl::StatusOr<std::optional<google::protobuf::Duration>> ReadDuration(const DotObject& dot,
                                                                       const char* name) {
  const std::string text = AttributeOf(dot.object, name);
  if (text.empty()) return std::nullopt;
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) || duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return AttributeError(dot, name,
                          "expected a positive duration such as \"500ms\", \"5s\" or \"1m30s\"");
  }
  return google::protobuf::util::TimeUtil::NanosecondsToDuration(
      absl::ToInt64Nanoseconds(duration));
}

// Whether `name` can name a state key, a resource or a lock in a DOT attribute: it is not
// empty and holds none of the separators ' ', ',', ';', ':', '='.
bool IsPlainName(absl::string_view name) {
  return !name.empty() && name.find_first_of(" \t\r\n,;:=") == absl::string_view::npos;
}

// The items of a comma-separated list, trimmed; an empty item is an error.
absl::StatusOr<std::vector<std::string>> ReadNameList(const DotObject& dot, const char* name) {
  const std::string text = AttributeOf(dot.object, name);
  std::vector<std::string> items;
  if (text.empty()) return items;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!IsPlainName(item)) {
      return AttributeError(dot, name, "expected names separated by ','; a name has no spaces");
    }
    items.emplace_back(item);
  }
  return items;
}

absl::StatusOr<std::string> StatusCodeNamed(absl::string_view name) {
  for (int code = 1; code <= static_cast<int>(absl::StatusCode::kUnauthenticated); ++code) {
    const std::string code_name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
    if (code_name == name) return code_name;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", name, "' is not an absl::StatusCode name such as INVALID_ARGUMENT"));
}

// The retry policy of attributes retries (how many times a failed attempt runs again),
// backoff, backoff_multiplier, max_backoff and non_retryable.
absl::Status ReadRetryPolicy(const DotObject& dot, StepDefinition& step) {
  CHORUS_ASSIGN_OR_RETURN(std::optional<int32_t> retries, ReadInt(dot, "retries", 0, 1000));
  RetryPolicy policy;
  if (retries.has_value()) policy.set_max_attempts(*retries + 1);
  CHORUS_ASSIGN_OR_RETURN(std::optional<google::protobuf::Duration> backoff,
                          ReadDuration(dot, "backoff"));
  if (backoff.has_value()) *policy.mutable_initial_backoff() = *backoff;
  CHORUS_ASSIGN_OR_RETURN(std::optional<double> multiplier,
                          ReadNumber(dot, "backoff_multiplier", "a number of at least 1",
                                     [](double value) { return value >= 1; }));
  if (multiplier.has_value()) policy.set_multiplier(*multiplier);
  CHORUS_ASSIGN_OR_RETURN(std::optional<google::protobuf::Duration> max_backoff,
                          ReadDuration(dot, "max_backoff"));
  if (max_backoff.has_value()) *policy.mutable_max_backoff() = *max_backoff;
  CHORUS_ASSIGN_OR_RETURN(std::vector<std::string> codes, ReadNameList(dot, "non_retryable"));
  for (const std::string& code : codes) {
    absl::StatusOr<std::string> name = StatusCodeNamed(code);
    if (!name.ok()) return AttributeError(dot, "non_retryable", name.status().message());
    policy.add_non_retryable_codes(*name);
  }
  if (!retries.has_value()) {
    for (const char* name : {"backoff", "backoff_multiplier", "max_backoff", "non_retryable"}) {
      if (!AttributeOf(dot.object, name).empty()) {
        return AttributeError(dot, name, "needs a retries attribute on the same node");
      }
    }
    return absl::OkStatus();
  }
  *step.mutable_retry() = std::move(policy);
  return absl::OkStatus();
}

// Attributes timeout, critical, locks and background.
absl::Status ReadRunOptions(const DotObject& dot, StepDefinition& step) {
  CHORUS_ASSIGN_OR_RETURN(std::optional<google::protobuf::Duration> timeout,
                          ReadDuration(dot, "timeout"));
  if (timeout.has_value()) *step.mutable_timeout() = *timeout;
  CHORUS_ASSIGN_OR_RETURN(bool critical, ReadBool(dot, "critical", /*absent=*/true));
  step.set_non_critical(!critical);
  CHORUS_ASSIGN_OR_RETURN(std::vector<std::string> locks, ReadNameList(dot, "locks"));
  for (std::string& lock : locks) step.add_locks(std::move(lock));
  CHORUS_ASSIGN_OR_RETURN(bool background, ReadBool(dot, "background", /*absent=*/false));
  step.set_background(background);
  return absl::OkStatus();
}

// Attributes map_over and map_concurrency.
absl::Status ReadMapOptions(const DotObject& dot, StepDefinition& step) {
  step.set_map_over(AttributeOf(dot.object, "map_over"));
  CHORUS_ASSIGN_OR_RETURN(std::optional<int32_t> concurrency,
                          ReadInt(dot, "map_concurrency", 1, 1 << 20));
  if (!concurrency.has_value()) return absl::OkStatus();
  if (step.map_over().empty()) {
    return AttributeError(dot, "map_concurrency", "needs a map_over attribute on the same node");
  }
  step.set_map_concurrency(*concurrency);
  return absl::OkStatus();
}

// The maximum of node and graph attribute max_visits.
constexpr int32_t kMaxVisits = 1'000'000;

// Attributes join, route and max_visits.
absl::Status ReadFlowOptions(const DotObject& dot, StepDefinition& step) {
  const std::string join = AttributeOf(dot.object, "join");
  if (join == "all") {
    step.set_join(JOIN_ALL);
  } else if (join == "any") {
    step.set_join(JOIN_ANY);
  } else if (!join.empty()) {
    return AttributeError(dot, "join", "expected all or any");
  }
  const std::string route = AttributeOf(dot.object, "route");
  if (route == "all") {
    step.set_route(ROUTE_ALL);
  } else if (route == "first") {
    step.set_route(ROUTE_FIRST);
  } else if (!route.empty()) {
    return AttributeError(dot, "route", "expected all or first");
  }
  CHORUS_ASSIGN_OR_RETURN(std::optional<int32_t> max_visits,
                          ReadInt(dot, "max_visits", 1, kMaxVisits));
  if (max_visits.has_value()) step.set_max_visits(*max_visits);
  return absl::OkStatus();
}

absl::StatusOr<StepKind> StepKindOfNode(const DotObject& dot) {
  std::string type = AttributeOf(dot.object, "type");
  if (type.empty()) return STEP_KIND_UNSPECIFIED;
  if (type == "fan_out") return STEP_KIND_FAN_OUT;
  if (type == "fan_in") return STEP_KIND_FAN_IN;
  if (type == "sync") return STEP_KIND_SYNC;
  return absl::InvalidArgumentError(
      absl::StrCat(dot.where, " has unknown type '", type, "' (expected fan_out, fan_in or sync)"));
}

absl::Status ReadCommand(const DotObject& dot, StepDefinition& step) {
  step.set_command(AttributeOf(dot.object, "cmd"));
  if (step.kind() != STEP_KIND_UNSPECIFIED && !step.command().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dot.where, " is a ",
                                                   AttributeOf(dot.object, "type"),
                                                   " step and must not have a cmd attribute"));
  }
  if (step.kind() == STEP_KIND_UNSPECIFIED && step.command().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dot.where, " has no cmd attribute"));
  }
  return absl::OkStatus();
}

// The attributes that make a DOT edge a WorkflowDefinition.edges entry rather than a dependency.
constexpr const char* kEdgeAttributes[] = {"condition", "label", "weight"};

// The most, and minus the least, an edge's weight may be.
constexpr int32_t kMaxEdgeWeight = 1'000'000;

// Whether `edge` has none of kEdgeAttributes (all empty), and so is a dependency.
bool IsPlainEdge(Agedge_t* edge) {
  return absl::c_all_of(kEdgeAttributes,
                        [edge](const char* name) { return AttributeOf(edge, name).empty(); });
}

// The Edge of a DOT edge with attributes: its condition and label as written (the validator
// parses the condition), its weight a whole number.
absl::StatusOr<Edge> EdgeOfDot(Agedge_t* edge, absl::string_view file_name) {
  Edge result;
  result.set_from(agnameof(agtail(edge)));
  result.set_to(agnameof(aghead(edge)));
  const DotObject dot = {
      edge, absl::StrCat(file_name, ": edge '", result.from(), "' -> '", result.to(), "'")};
  result.set_condition(AttributeOf(edge, "condition"));
  result.set_label(AttributeOf(edge, "label"));
  CHORUS_ASSIGN_OR_RETURN(std::optional<int32_t> weight,
                          ReadInt(dot, "weight", -kMaxEdgeWeight, kMaxEdgeWeight));
  if (weight.has_value()) result.set_weight(*weight);
  return result;
}

// The DOT edges with attributes, as WorkflowDefinition.edges entries, grouped by tail in node
// order; cgraph lists a node's out-edges by their heads' creation order, a repeated edge after
// the first. A repeated edge is listed again (the validator reports it).
absl::Status EdgesOfGraph(Agraph_t* graph, absl::string_view file_name,
                          WorkflowDefinition& definition) {
  for (Agnode_t* node = agfstnode(graph); node != nullptr; node = agnxtnode(graph, node)) {
    for (Agedge_t* edge = agfstout(graph, node); edge != nullptr; edge = agnxtout(graph, edge)) {
      if (IsPlainEdge(edge)) continue;
      CHORUS_ASSIGN_OR_RETURN(*definition.add_edges(), EdgeOfDot(edge, file_name));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<StepDefinition> StepOfNode(Agraph_t* graph, Agnode_t* node,
                                          absl::string_view file_name) {
  const DotObject dot = {node, absl::StrCat(file_name, ": node '", agnameof(node), "'")};
  StepDefinition step;
  step.set_name(agnameof(node));
  CHORUS_ASSIGN_OR_RETURN(StepKind kind, StepKindOfNode(dot));
  step.set_kind(kind);
  CHORUS_RETURN_IF_ERROR(ReadCommand(dot, step));
  CHORUS_RETURN_IF_ERROR(ReadRetryPolicy(dot, step));
  CHORUS_RETURN_IF_ERROR(ReadRunOptions(dot, step));
  CHORUS_RETURN_IF_ERROR(ReadMapOptions(dot, step));
  CHORUS_RETURN_IF_ERROR(ReadFlowOptions(dot, step));
  // cgraph lists in-edges by their tails' creation order, so dependencies come in definition
  // order; a repeated edge adds no dependency. An edge with attributes is an Edge instead
  // (EdgesOfGraph).
  for (Agedge_t* edge = agfstin(graph, node); edge != nullptr; edge = agnxtin(graph, edge)) {
    if (!IsPlainEdge(edge)) continue;
    std::string dependency = agnameof(agtail(edge));
    if (!absl::c_linear_search(step.depends_on(), dependency)) step.add_depends_on(dependency);
  }
  return step;
}

absl::StatusOr<Reducer> ReducerNamed(absl::string_view name) {
  if (name == "last_write_wins") return REDUCER_UNSPECIFIED;
  if (name == "append") return REDUCER_APPEND;
  if (name == "sum") return REDUCER_SUM;
  if (name == "min") return REDUCER_MIN;
  if (name == "max") return REDUCER_MAX;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown reducer '", name, "' (expected last_write_wins, append, sum, min or max)"));
}

// The initial value `text` of a key with `reducer`: a whole number for sum, min and max; a
// list of one item (none if `text` is empty) for append; a text for last-write-wins.
absl::StatusOr<Value> InitialValue(Reducer reducer, absl::string_view text) {
  Value value;
  switch (reducer) {
    case REDUCER_SUM:
    case REDUCER_MIN:
    case REDUCER_MAX: {
      int64_t number;
      if (!absl::SimpleAtoi(text, &number)) {
        return absl::InvalidArgumentError(
            absl::StrCat("initial value '", text, "' is not a whole number"));
      }
      value.set_number(number);
      break;
    }
    case REDUCER_APPEND:
      value.mutable_list();
      if (!text.empty()) value.mutable_list()->add_items(std::string(text));
      break;
    default:
      if (text.empty()) return absl::InvalidArgumentError("empty initial value");
      value.set_text(std::string(text));
  }
  return value;
}

// One key of the graph attribute `state`: "name[:reducer][=initial]".
absl::StatusOr<StateKey> ParseStateKey(absl::string_view entry) {
  StateKey key;
  const size_t equals = entry.find('=');
  absl::string_view head = absl::StripAsciiWhitespace(entry.substr(0, equals));
  const size_t colon = head.find(':');
  key.set_name(std::string(absl::StripAsciiWhitespace(head.substr(0, colon))));
  if (!IsPlainName(key.name())) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", entry, "' is not name[:reducer][=initial]; a name has no spaces"));
  }
  if (colon != absl::string_view::npos) {
    absl::StatusOr<Reducer> reducer =
        ReducerNamed(absl::StripAsciiWhitespace(head.substr(colon + 1)));
    if (!reducer.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key '", key.name(), "': ", reducer.status().message()));
    }
    key.set_reducer(*reducer);
  }
  if (equals == absl::string_view::npos) return key;
  absl::StatusOr<Value> initial =
      InitialValue(key.reducer(), absl::StripAsciiWhitespace(entry.substr(equals + 1)));
  if (!initial.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key '", key.name(), "': ", initial.status().message()));
  }
  *key.mutable_initial() = *std::move(initial);
  return key;
}

// One resource of the graph attribute `resources`: "name[:capacity]".
absl::StatusOr<Resource> ParseResource(absl::string_view entry) {
  Resource resource;
  const size_t colon = entry.find(':');
  resource.set_name(std::string(absl::StripAsciiWhitespace(entry.substr(0, colon))));
  if (!IsPlainName(resource.name())) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", entry, "' is not name[:capacity]; a name has no spaces"));
  }
  if (colon == absl::string_view::npos) return resource;
  int32_t capacity;
  if (!absl::SimpleAtoi(entry.substr(colon + 1), &capacity) || capacity < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resource '", resource.name(), "': capacity '",
        absl::StripAsciiWhitespace(entry.substr(colon + 1)), "' is not a whole number from 1"));
  }
  resource.set_capacity(capacity);
  return resource;
}

// The ';'-separated entries of graph attribute `name`, each parsed by `parse` and added to
// `out`; an empty entry (as after a last ';') is skipped. Names must be distinct.
template <typename Message, typename Parse>
absl::Status ReadEntries(const DotObject& dot, const char* name, Parse parse,
                         google::protobuf::RepeatedPtrField<Message>& out) {
  for (absl::string_view entry : absl::StrSplit(AttributeOf(dot.object, name), ';')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    absl::StatusOr<Message> parsed = parse(entry);
    if (!parsed.ok()) return AttributeError(dot, name, parsed.status().message());
    for (const Message& earlier : out) {
      if (earlier.name() == parsed->name()) {
        return AttributeError(dot, name, absl::StrCat("'", parsed->name(), "' is given twice"));
      }
    }
    *out.Add() = *std::move(parsed);
  }
  return absl::OkStatus();
}

// Graph attributes failure_policy, budget, max_visits, state and resources.
absl::Status ReadWorkflowOptions(const DotObject& dot, WorkflowDefinition& definition) {
  const std::string policy = AttributeOf(dot.object, "failure_policy");
  if (policy == "continue") {
    definition.set_failure_policy(FAILURE_POLICY_CONTINUE);
  } else if (!policy.empty() && policy != "fail_fast") {
    return AttributeError(dot, "failure_policy", "expected fail_fast or continue");
  }
  CHORUS_ASSIGN_OR_RETURN(
      std::optional<double> budget,
      ReadNumber(dot, "budget", "a number greater than 0", [](double value) { return value > 0; }));
  if (budget.has_value()) definition.set_budget(*budget);
  CHORUS_ASSIGN_OR_RETURN(std::optional<int32_t> max_visits,
                          ReadInt(dot, "max_visits", 1, kMaxVisits));
  if (max_visits.has_value()) definition.set_max_visits(*max_visits);
  CHORUS_RETURN_IF_ERROR(ReadEntries(dot, "state", ParseStateKey, *definition.mutable_state()));
  return ReadEntries(dot, "resources", ParseResource, *definition.mutable_resources());
}

// cgraph lists nodes in creation order, i.e. in the order they first appear in the file.
absl::StatusOr<WorkflowDefinition> DefinitionOfGraph(Agraph_t* graph, absl::string_view file_name) {
  if (!agisdirected(graph)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": the graph is undirected; a workflow is a digraph"));
  }
  WorkflowDefinition definition;
  definition.set_name(GraphName(graph));
  CHORUS_RETURN_IF_ERROR(
      ReadWorkflowOptions({graph, absl::StrCat(file_name, ": graph")}, definition));
  for (Agnode_t* node = agfstnode(graph); node != nullptr; node = agnxtnode(graph, node)) {
    CHORUS_ASSIGN_OR_RETURN(*definition.add_steps(), StepOfNode(graph, node, file_name));
  }
  CHORUS_RETURN_IF_ERROR(EdgesOfGraph(graph, file_name, definition));
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
  CHORUS_ASSIGN_OR_RETURN(std::string text,
                          ReadFileUpTo(path, kMaxDefinitionFileBytes, "definition file"));
  return ParseDefinition(text, path, GuessDefinitionFormat(path, text));
}

}  // namespace chorus
