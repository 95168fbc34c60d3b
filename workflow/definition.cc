#include "workflow/definition.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "event/state.h"
#include "event/step_name_index.h"
#include "event/text.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "workflow/internal/fnv1a.h"
#include "workflow/internal/routing.h"

namespace chorus {
namespace {

// "fan_out", "fan_in" or "task".
std::string KindName(StepKind kind) {
  switch (kind) {
    case STEP_KIND_FAN_OUT:
      return "fan_out";
    case STEP_KIND_FAN_IN:
      return "fan_in";
    default:
      return "task";
  }
}

std::vector<std::string> SortedDependencies(const StepDefinition& step) {
  std::vector<std::string> deps(step.depends_on().begin(), step.depends_on().end());
  std::sort(deps.begin(), deps.end());
  return deps;
}

// A definition's steps by name; a name defined twice finds its first definition. The index
// reads the names from the definition, which must outlive it.
class StepIndex {
 public:
  explicit StepIndex(const WorkflowDefinition& definition) : names_{&definition} {
    index_.Reserve(definition.steps_size());
    for (int i = 0; i < definition.steps_size(); ++i) {
      if (i + StepNameIndex::kPrefetchAhead < definition.steps_size()) {
        index_.Prefetch(names_(i + StepNameIndex::kPrefetchAhead));
      }
      if (!index_.Add(i, names_)) redefinitions_.insert(i);
    }
  }

  // Starts loading what a Find of `name` will read (StepNameIndex::Prefetch).
  void Prefetch(absl::string_view name) const { index_.Prefetch(name); }

  // The index of the first step named `name`, or -1.
  int Find(absl::string_view name) const { return index_.Find(name, names_); }
  // Whether step `i` has the name of a step defined before it.
  bool Redefines(int i) const { return redefinitions_.contains(i); }

 private:
  struct NameOf {
    const WorkflowDefinition* definition;
    absl::string_view operator()(int i) const { return definition->steps(i).name(); }
  };

  const NameOf names_;
  StepNameIndex index_;
  absl::flat_hash_set<int> redefinitions_;
};

// Returns each task step's registered function (null for structural steps, and for all steps
// without a registry).
std::vector<const StepFunction*> CheckSteps(const WorkflowDefinition& definition,
                                            const StepIndex& index, const StepRegistry* registry,
                                            std::vector<std::string>& problems) {
  std::vector<const StepFunction*> functions(definition.steps_size(), nullptr);
  for (int i = 0; i < definition.steps_size(); ++i) {
    const StepDefinition& step = definition.steps(i);
    if (step.name().empty()) {
      problems.push_back(absl::StrCat("step #", i + 1, " has an empty name"));
      continue;
    }
    if (index.Redefines(i)) {
      problems.push_back(absl::StrCat("step '", step.name(), "' is defined twice (steps #",
                                      index.Find(step.name()) + 1, " and #", i + 1, ")"));
    }
    if (step.kind() != STEP_KIND_UNSPECIFIED) {
      if (!step.command().empty()) {
        problems.push_back(absl::StrCat("step '", step.name(), "' is a ", KindName(step.kind()),
                                        " step and cannot have a command"));
      }
    } else if (registry != nullptr) {
      if (i + StepNameIndex::kPrefetchAhead < definition.steps_size()) {
        registry->Prefetch(definition.steps(i + StepNameIndex::kPrefetchAhead).name());
      }
      functions[i] = registry->Find(step.name());
      if (functions[i] == nullptr) {
        problems.push_back(absl::StrCat("step '", step.name(), "' has no registered function"));
      }
    }
  }
  return functions;
}

// A map step's instances are named "map[0]", "map[1]", ...: no step may take such a name.
void CheckInstanceNamesAreFree(const WorkflowDefinition& definition, const StepIndex& index,
                               std::vector<std::string>& problems) {
  for (const StepDefinition& step : definition.steps()) {
    absl::string_view name = step.name();
    const size_t open = name.rfind('[');
    if (open == absl::string_view::npos || !absl::ConsumeSuffix(&name, "]")) continue;
    const absl::string_view map_name = name.substr(0, open);
    const absl::string_view instance = name.substr(open + 1);
    const int map = index.Find(map_name);
    if (map < 0 || definition.steps(map).map_over().empty() || instance.empty() ||
        !std::all_of(instance.begin(), instance.end(), absl::ascii_isdigit)) {
      continue;
    }
    problems.push_back(absl::StrCat("step '", step.name(),
                                    "' is named like an instance of map step '", map_name, "'"));
  }
}

// Depth-first search over dependency edges (sync points included); every edge back to a
// step on the current path closes a cycle, reported as the path from that step around to
// itself. Iterative: a chain of 100,000 steps must not overflow the stack.
class CycleFinder {
 public:
  CycleFinder(const WorkflowDefinition& definition,
              const std::vector<std::vector<int>>& dependencies)
      : definition_(definition),
        dependencies_(dependencies),
        color_(definition.steps_size(), kUnvisited) {}

  void Find(std::vector<std::string>& problems) {
    for (int root = 0; root < definition_.steps_size(); ++root) {
      if (color_[root] == kUnvisited) Visit(root, problems);
    }
  }

 private:
  enum Color { kUnvisited, kOnPath, kDone };

  void Visit(int root, std::vector<std::string>& problems) {
    std::vector<std::pair<int, size_t>> stack = {{root, 0}};  // step, next dependency
    color_[root] = kOnPath;
    while (!stack.empty()) {
      auto& [step, next] = stack.back();
      if (next == dependencies_[step].size()) {
        color_[step] = kDone;
        stack.pop_back();
        continue;
      }
      const int dep = dependencies_[step][next++];
      if (color_[dep] == kOnPath) {
        problems.push_back(DescribeCycle(stack, dep));
      } else if (color_[dep] == kUnvisited) {
        color_[dep] = kOnPath;
        stack.emplace_back(dep, 0);
      }
    }
  }

  // The path runs along "depends on" edges; print it in that direction, closing the loop.
  std::string DescribeCycle(const std::vector<std::pair<int, size_t>>& stack, int start) const {
    auto first = std::find_if(stack.begin(), stack.end(),
                              [start](const auto& entry) { return entry.first == start; });
    std::vector<std::string> names;
    for (auto it = first; it != stack.end(); ++it) {
      names.push_back(definition_.steps(it->first).name());
    }
    names.push_back(definition_.steps(start).name());
    return absl::StrCat("cycle: ", absl::StrJoin(names, " -> "));
  }

  const WorkflowDefinition& definition_;
  const std::vector<std::vector<int>>& dependencies_;
  std::vector<Color> color_;
};

// The wire format, which protobuf keeps compatible across versions, with map entries sorted.
std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// DeterministicBytes of `definition` with each step's dependencies sorted. Sorting leaves a
// step's size as it was, so a step listed out of order is written again, sorted, over its own
// bytes (ahead of the reader, which then skips them): no sorted copy of the whole definition
// (100 MB for 500,000 steps).
std::string BytesWithSortedDependencies(const WorkflowDefinition& definition) {
  using google::protobuf::internal::WireFormatLite;
  std::string bytes = DeterministicBytes(definition);
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  int step = 0;
  while (const uint32_t tag = input.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) != WorkflowDefinition::kStepsFieldNumber) {
      WireFormatLite::SkipField(&input, tag);
      continue;
    }
    uint32_t size = 0;
    input.ReadVarint32(&size);
    const StepDefinition& listed = definition.steps(step++);
    if (!std::is_sorted(listed.depends_on().begin(), listed.depends_on().end())) {
      StepDefinition sorted = listed;
      std::sort(sorted.mutable_depends_on()->begin(), sorted.mutable_depends_on()->end());
      const std::string sorted_bytes = DeterministicBytes(sorted);
      std::copy(sorted_bytes.begin(), sorted_bytes.end(), bytes.begin() + input.CurrentPosition());
    }
    input.Skip(static_cast<int>(size));
  }
  return bytes;
}

// `step` without its name and the fields that DescribeStepChanges reports one by one.
StepDefinition OptionsOf(StepDefinition step) {
  step.clear_name();
  step.clear_depends_on();
  step.clear_kind();
  step.clear_command();
  return step;
}

std::string DescribeDependencies(const std::vector<std::string>& deps) {
  return absl::StrCat("[", absl::StrJoin(deps, ", "), "]");
}

void DescribeStepChanges(const StepDefinition& recorded, const StepDefinition& current,
                         std::vector<std::string>& changes) {
  std::vector<std::string> recorded_deps = SortedDependencies(recorded);
  std::vector<std::string> current_deps = SortedDependencies(current);
  if (recorded_deps != current_deps) {
    changes.push_back(absl::StrCat("step '", current.name(), "': dependencies changed: expected ",
                                   DescribeDependencies(recorded_deps), ", found ",
                                   DescribeDependencies(current_deps)));
  }
  if (recorded.kind() != current.kind()) {
    changes.push_back(absl::StrCat("step '", current.name(), "': kind changed: expected ",
                                   KindName(recorded.kind()), ", found ",
                                   KindName(current.kind())));
  }
  if (recorded.command() != current.command()) {
    changes.push_back(absl::StrCat("step '", current.name(), "': command changed: expected \"",
                                   recorded.command(), "\", found \"", current.command(), "\""));
  }
  const StepDefinition recorded_options = OptionsOf(recorded);
  const StepDefinition current_options = OptionsOf(current);
  if (DeterministicBytes(recorded_options) != DeterministicBytes(current_options)) {
    changes.push_back(absl::StrCat("step '", current.name(), "': options changed: expected {",
                                   recorded_options.ShortDebugString(), "}, found {",
                                   current_options.ShortDebugString(), "}"));
  }
}

bool IsStatusCodeName(absl::string_view name) {
  for (int code = 0; code <= static_cast<int>(absl::StatusCode::kUnauthenticated); ++code) {
    if (absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) == name) return true;
  }
  return false;
}

// False for NaN, for the infinities and for negative numbers.
bool IsFiniteAndNotNegative(double number) { return std::isfinite(number) && number >= 0; }

void CheckStepOptions(const StepDefinition& step, std::vector<std::string>& problems) {
  // Formatted only for a problem: most steps have none.
  auto where = [&step] { return absl::StrCat("step '", step.name(), "'"); };
  if (!step.map_over().empty() && std::find(step.depends_on().begin(), step.depends_on().end(),
                                            step.map_over()) == step.depends_on().end()) {
    problems.push_back(absl::StrCat(where(), " maps over '", step.map_over(),
                                    "', which is not one of its dependencies"));
  }
  if (!step.map_over().empty() && step.kind() != STEP_KIND_UNSPECIFIED) {
    problems.push_back(
        absl::StrCat(where(), " is a ", KindName(step.kind()), " step and cannot be a map step"));
  }
  if (step.map_concurrency() < 0)
    problems.push_back(absl::StrCat(where(), " has a negative map_concurrency"));
  if (step.retry().max_attempts() < 0)
    problems.push_back(absl::StrCat(where(), " has negative max_attempts"));
  for (const std::string& code : step.retry().non_retryable_codes()) {
    if (!IsStatusCodeName(code)) {
      problems.push_back(absl::StrCat(where(), ": '", code, "' is not a status code name"));
    }
  }
  if (!IsFiniteAndNotNegative(step.retry().multiplier())) {
    problems.push_back(absl::StrCat(where(), " has a backoff multiplier of ",
                                    step.retry().multiplier(),
                                    ", not a finite number of at least 0"));
  }
  if (step.has_timeout() && DurationOf(step.timeout()) <= absl::ZeroDuration()) {
    problems.push_back(absl::StrCat(where(), " has a timeout that is not positive"));
  }
  if (step.max_visits() < 0) problems.push_back(absl::StrCat(where(), " has negative max_visits"));
  if (!Join_IsValid(step.join())) {
    problems.push_back(absl::StrCat(where(), " has an unknown join ", step.join()));
  }
  if (!Route_IsValid(step.route())) {
    problems.push_back(absl::StrCat(where(), " has an unknown route ", step.route()));
  }
}

void CheckWorkflowOptions(const WorkflowDefinition& definition,
                          std::vector<std::string>& problems) {
  absl::flat_hash_map<std::string, int> keys;
  for (const StateKey& key : definition.state()) {
    if (key.name().empty()) problems.push_back("a state key has an empty name");
    if (!keys.emplace(key.name(), 0).second) {
      problems.push_back(absl::StrCat("state key '", key.name(), "' is declared twice"));
    }
    if (key.initial().kind_case() != Value::KIND_NOT_SET) {
      absl::Status fits = CheckUpdate(key.reducer(), key.name(), key.initial());
      if (!fits.ok()) problems.push_back(absl::StrCat("initial value: ", fits.message()));
    }
  }
  for (const Resource& resource : definition.resources()) {
    if (resource.capacity() < 0) {
      problems.push_back(absl::StrCat("resource '", resource.name(), "' has a negative capacity"));
    }
  }
  if (definition.max_visits() < 0) problems.push_back("the workflow has negative max_visits");
  if (!IsFiniteAndNotNegative(definition.budget())) {
    problems.push_back(
        absl::StrCat("the budget ", definition.budget(), " is not a finite number of at least 0"));
  }
}

// The rule of event/text.h for what a definition brings in from outside: its names pass
// CheckName, and its other text (commands, state values) is valid UTF-8. An empty name is
// reported by the checks that know where it is.
void CheckText(const WorkflowDefinition& definition, std::vector<std::string>& problems) {
  auto check_name = [&problems](absl::string_view what, absl::string_view name) {
    if (name.empty()) return;
    if (absl::Status valid = CheckName(what, name); !valid.ok()) {
      problems.emplace_back(valid.message());
    }
  };
  check_name("definition name", definition.name());
  for (const StepDefinition& step : definition.steps()) {
    check_name("step", step.name());
    if (!IsValidUtf8(step.command())) {
      problems.push_back(absl::StrCat("step '", step.name(), "': the command is not valid UTF-8"));
    }
    for (const std::string& lock : step.locks()) check_name("resource", lock);
  }
  for (const StateKey& key : definition.state()) {
    check_name("state key", key.name());
    if (absl::Status text = CheckValueText(key.name(), key.initial()); !text.ok()) {
      problems.push_back(absl::StrCat("initial value: ", text.message()));
    }
  }
  for (const Resource& resource : definition.resources()) check_name("resource", resource.name());
  for (const Edge& edge : definition.edges()) {
    for (const std::string* text : {&edge.condition(), &edge.label()}) {
      if (IsValidUtf8(*text)) continue;
      problems.push_back(absl::StrCat("edge '", edge.from(), "' -> '", edge.to(), "': the ",
                                      text == &edge.condition() ? "condition" : "label",
                                      " is not valid UTF-8"));
    }
  }
}

// in_background[i]: step i runs in the background, itself or through a dependency.
std::vector<bool> InBackground(const WorkflowDefinition& definition,
                               const std::vector<std::vector<int>>& dependencies) {
  const int n = definition.steps_size();
  enum Mark { kUnknown, kVisiting, kKnown };
  std::vector<Mark> mark(n, kUnknown);
  std::vector<bool> in_background(n, false);
  // Iterative depth-first search; a cycle (reported by validation) just stops the walk.
  std::vector<std::pair<int, size_t>> stack;  // step, next dependency
  for (int root = 0; root < n; ++root) {
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [step, next] = stack.back();
      if (next == 0) {
        if (mark[step] != kUnknown) {
          stack.pop_back();
          continue;
        }
        mark[step] = kVisiting;
        in_background[step] = definition.steps(step).background();
      }
      if (next < dependencies[step].size()) {
        const int dep = dependencies[step][next++];
        if (mark[dep] == kUnknown) stack.emplace_back(dep, 0);
        continue;
      }
      for (int dep : dependencies[step]) {
        if (in_background[dep]) in_background[step] = true;
      }
      mark[step] = kKnown;
      stack.pop_back();
    }
  }
  return in_background;
}

// Whether dependency `d` of `step` is listed before it too.
bool IsListedBefore(const StepDefinition& step, int d) {
  const auto listed = step.depends_on().begin();
  return std::find(listed, listed + d, step.depends_on(d)) != listed + d;
}

// With `problems`, also reports a step that depends on itself or on an unknown step, and an
// edge (WorkflowDefinition.edges) of an unknown step.
std::vector<std::vector<int>> EffectiveDependencies(const WorkflowDefinition& definition,
                                                    const StepIndex& index,
                                                    std::vector<std::string>* problems) {
  std::vector<std::vector<int>> dependencies(definition.steps_size());
  bool has_sync_steps = false;
  for (int i = 0; i < definition.steps_size(); ++i) {
    const StepDefinition& step = definition.steps(i);
    has_sync_steps |= step.kind() == STEP_KIND_SYNC;
    dependencies[i].reserve(step.depends_on_size());
    for (int d = 0; d < step.depends_on_size(); ++d) {
      if (d + StepNameIndex::kPrefetchAhead < step.depends_on_size()) {
        index.Prefetch(step.depends_on(d + StepNameIndex::kPrefetchAhead));
      }
      const std::string& dep = step.depends_on(d);
      const int found = dep == step.name() ? i : index.Find(dep);
      if (found >= 0 && found != i) {
        dependencies[i].push_back(found);
      } else if (problems != nullptr && !IsListedBefore(step, d)) {
        // A name listed again is the same problem: it is reported once.
        problems->push_back(found == i ? absl::StrCat("step '", step.name(), "' depends on itself")
                                       : absl::StrCat("step '", step.name(),
                                                      "' depends on unknown step '", dep, "'"));
      }
    }
  }
  for (const Edge& edge : definition.edges()) {
    const int from = index.Find(edge.from());
    const int to = index.Find(edge.to());
    if (from >= 0 && to >= 0) {
      if (std::find(dependencies[to].begin(), dependencies[to].end(), from) ==
          dependencies[to].end()) {
        dependencies[to].push_back(from);
      }
    } else if (problems != nullptr) {
      problems->push_back(absl::StrCat("edge '", edge.from(), "' -> '", edge.to(),
                                       "': unknown step '", from < 0 ? edge.from() : edge.to(),
                                       "'"));
    }
  }
  if (!has_sync_steps) return dependencies;
  const std::vector<bool> in_background = InBackground(definition, dependencies);
  for (int i = 0; i < definition.steps_size(); ++i) {
    if (definition.steps(i).kind() != STEP_KIND_SYNC) continue;
    for (int j = 0; j < i; ++j) {
      const bool listed =
          std::find(dependencies[i].begin(), dependencies[i].end(), j) != dependencies[i].end();
      if (in_background[j] && !listed) dependencies[i].push_back(j);
    }
  }
  return dependencies;
}

}  // namespace

std::vector<std::vector<int>> EffectiveDependencies(const WorkflowDefinition& definition) {
  return EffectiveDependencies(definition, StepIndex(definition), /*problems=*/nullptr);
}

DefinitionBuilder::DefinitionBuilder(absl::string_view name) {
  definition_.set_name(std::string(name));
}

DefinitionBuilder& DefinitionBuilder::Step(absl::string_view name,
                                           std::initializer_list<absl::string_view> depends_on) {
  StepDefinition* step = definition_.add_steps();
  step->set_name(std::string(name));
  for (absl::string_view dep : depends_on) step->add_depends_on(std::string(dep));
  return *this;
}

DefinitionBuilder& DefinitionBuilder::ShellStep(
    absl::string_view name, absl::string_view command,
    std::initializer_list<absl::string_view> depends_on) {
  Step(name, depends_on);
  definition_.mutable_steps()->rbegin()->set_command(std::string(command));
  return *this;
}

DefinitionBuilder& DefinitionBuilder::FanOut(absl::string_view name,
                                             std::initializer_list<absl::string_view> depends_on) {
  Step(name, depends_on);
  definition_.mutable_steps()->rbegin()->set_kind(STEP_KIND_FAN_OUT);
  return *this;
}

DefinitionBuilder& DefinitionBuilder::FanIn(absl::string_view name,
                                            std::initializer_list<absl::string_view> depends_on) {
  Step(name, depends_on);
  definition_.mutable_steps()->rbegin()->set_kind(STEP_KIND_FAN_IN);
  return *this;
}

namespace {

// `dependencies` without the edges that have a condition: a cycle of these could never end.
std::vector<std::vector<int>> UnconditionalDependencies(
    const WorkflowDefinition& definition, const std::vector<std::vector<int>>& dependencies) {
  absl::flat_hash_set<std::pair<std::string, std::string>> conditional;
  for (const Edge& edge : definition.edges()) {
    if (HasCondition(edge)) conditional.emplace(edge.from(), edge.to());
  }
  std::vector<std::vector<int>> unconditional(dependencies.size());
  for (size_t to = 0; to < dependencies.size(); ++to) {
    for (int from : dependencies[to]) {
      if (!conditional.contains({definition.steps(from).name(), definition.steps(to).name()})) {
        unconditional[to].push_back(from);
      }
    }
  }
  return unconditional;
}

// ValidateDefinitionGraph, and with `check_text` CheckText too.
absl::StatusOr<DefinitionGraph> Validate(const WorkflowDefinition& definition,
                                         const StepRegistry* registry, bool check_text) {
  std::vector<std::string> problems;
  if (definition.steps().empty()) problems.push_back("the workflow has no steps");
  if (check_text) CheckText(definition, problems);
  const StepIndex index(definition);
  DefinitionGraph graph;
  graph.functions = CheckSteps(definition, index, registry, problems);
  CheckInstanceNamesAreFree(definition, index, problems);
  graph.dependencies = EffectiveDependencies(definition, index, &problems);
  for (const StepDefinition& step : definition.steps()) CheckStepOptions(step, problems);
  CheckWorkflowOptions(definition, problems);
  if (HasRouting(definition)) {
    RoutingGraph(definition, graph.dependencies, &problems);
    CycleFinder(definition, UnconditionalDependencies(definition, graph.dependencies))
        .Find(problems);
  } else {
    CycleFinder(definition, graph.dependencies).Find(problems);
  }
  if (problems.empty()) return graph;
  return absl::InvalidArgumentError(absl::StrCat("workflow definition '", definition.name(),
                                                 "' is invalid:\n  ",
                                                 absl::StrJoin(problems, "\n  ")));
}

}  // namespace

absl::StatusOr<DefinitionGraph> ValidateDefinitionGraph(const WorkflowDefinition& definition,
                                                        const StepRegistry* registry) {
  return Validate(definition, registry, /*check_text=*/true);
}

absl::StatusOr<DefinitionGraph> ValidateRecordedDefinitionGraph(
    const WorkflowDefinition& definition, const StepRegistry* registry) {
  return Validate(definition, registry, /*check_text=*/false);
}

absl::Status ValidateDefinition(const WorkflowDefinition& definition,
                                const StepRegistry* registry) {
  return ValidateDefinitionGraph(definition, registry).status();
}

absl::Duration DurationOf(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

std::string Fingerprint(const WorkflowDefinition& definition) {
  Fnv1a hash;
  hash.Add(BytesWithSortedDependencies(definition));
  return absl::StrFormat("%016x", hash.hash());
}

std::vector<std::string> DescribeChanges(const WorkflowDefinition& recorded,
                                         const WorkflowDefinition& current) {
  std::vector<std::string> changes;
  if (recorded.name() != current.name()) {
    changes.push_back(absl::StrCat("workflow name changed: expected '", recorded.name(),
                                   "', found '", current.name(), "'"));
  }
  const StepIndex recorded_index(recorded);
  const StepIndex current_index(current);
  std::vector<std::string> recorded_order, current_order;
  for (const StepDefinition& step : recorded.steps()) {
    const int found = current_index.Find(step.name());
    if (found < 0) {
      changes.push_back(absl::StrCat("step '", step.name(), "' removed"));
      continue;
    }
    recorded_order.push_back(step.name());
    DescribeStepChanges(step, current.steps(found), changes);
  }
  for (const StepDefinition& step : current.steps()) {
    if (recorded_index.Find(step.name()) < 0) {
      changes.push_back(absl::StrCat("step '", step.name(), "' added"));
    } else {
      current_order.push_back(step.name());
    }
  }
  if (recorded_order != current_order) {
    changes.push_back(absl::StrCat("steps reordered: expected ",
                                   DescribeDependencies(recorded_order), ", found ",
                                   DescribeDependencies(current_order)));
  }
  WorkflowDefinition recorded_options = recorded, current_options = current;
  for (WorkflowDefinition* options : {&recorded_options, &current_options}) {
    options->clear_name();
    options->clear_steps();
  }
  if (DeterministicBytes(recorded_options) != DeterministicBytes(current_options)) {
    changes.push_back(absl::StrCat("workflow options changed: expected {",
                                   recorded_options.ShortDebugString(), "}, found {",
                                   current_options.ShortDebugString(), "}"));
  }
  return changes;
}

}  // namespace chorus
