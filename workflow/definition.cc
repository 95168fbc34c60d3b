#include "workflow/definition.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

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

// Step name -> index of its first definition.
absl::flat_hash_map<std::string, int> IndexSteps(const WorkflowDefinition& definition) {
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < definition.steps_size(); ++i) index.emplace(definition.steps(i).name(), i);
  return index;
}

void CheckSteps(const WorkflowDefinition& definition, const StepRegistry* registry,
                std::vector<std::string>& problems) {
  absl::flat_hash_map<std::string, int> first_index;
  for (int i = 0; i < definition.steps_size(); ++i) {
    const StepDefinition& step = definition.steps(i);
    if (step.name().empty()) {
      problems.push_back(absl::StrCat("step #", i + 1, " has an empty name"));
      continue;
    }
    auto [it, inserted] = first_index.emplace(step.name(), i);
    if (!inserted) {
      problems.push_back(absl::StrCat("step '", step.name(), "' is defined twice (steps #",
                                      it->second + 1, " and #", i + 1, ")"));
    }
    if (step.kind() != STEP_KIND_UNSPECIFIED) {
      if (!step.command().empty()) {
        problems.push_back(absl::StrCat("step '", step.name(), "' is a ", KindName(step.kind()),
                                        " step and cannot have a command"));
      }
    } else if (registry != nullptr && registry->Find(step.name()) == nullptr) {
      problems.push_back(absl::StrCat("step '", step.name(), "' has no registered function"));
    }
  }
}

void CheckDependencies(const WorkflowDefinition& definition,
                       const absl::flat_hash_map<std::string, int>& index,
                       std::vector<std::string>& problems) {
  for (const StepDefinition& step : definition.steps()) {
    for (const std::string& dep : step.depends_on()) {
      if (dep == step.name()) {
        problems.push_back(absl::StrCat("step '", step.name(), "' depends on itself"));
      } else if (!index.contains(dep)) {
        problems.push_back(
            absl::StrCat("step '", step.name(), "' depends on unknown step '", dep, "'"));
      }
    }
  }
}

// Depth-first search over dependency edges; every edge back to a step on the current path
// closes a cycle, reported as the path from that step around to itself.
class CycleFinder {
 public:
  CycleFinder(const WorkflowDefinition& definition,
              const absl::flat_hash_map<std::string, int>& index)
      : definition_(definition), index_(index), color_(definition.steps_size(), kUnvisited) {}

  void Find(std::vector<std::string>& problems) {
    for (int i = 0; i < definition_.steps_size(); ++i) {
      if (color_[i] == kUnvisited) Visit(i, problems);
    }
  }

 private:
  enum Color { kUnvisited, kOnPath, kDone };

  void Visit(int step, std::vector<std::string>& problems) {
    color_[step] = kOnPath;
    path_.push_back(step);
    for (const std::string& dep : definition_.steps(step).depends_on()) {
      auto it = index_.find(dep);
      if (it == index_.end() || it->second == step) continue;  // reported elsewhere
      if (color_[it->second] == kOnPath) {
        problems.push_back(DescribeCycle(it->second));
      } else if (color_[it->second] == kUnvisited) {
        Visit(it->second, problems);
      }
    }
    path_.pop_back();
    color_[step] = kDone;
  }

  // The path runs along "depends on" edges; print it in that direction, closing the loop.
  std::string DescribeCycle(int start) const {
    auto first = std::find(path_.begin(), path_.end(), start);
    std::vector<std::string> names;
    for (auto it = first; it != path_.end(); ++it) names.push_back(definition_.steps(*it).name());
    names.push_back(definition_.steps(start).name());
    return absl::StrCat("cycle: ", absl::StrJoin(names, " -> "));
  }

  const WorkflowDefinition& definition_;
  const absl::flat_hash_map<std::string, int>& index_;
  std::vector<Color> color_;
  std::vector<int> path_;
};

// FNV-1a, 64 bits: small, fixed forever, and enough to tell definitions apart (the recorded
// definition itself is kept too, for exact comparison).
class Fnv1a {
 public:
  // Length-prefixed, so that ("ab", "c") and ("a", "bc") hash differently.
  void Add(absl::string_view field) {
    AddBytes(absl::StrCat(field.size(), ":"));
    AddBytes(field);
  }
  uint64_t hash() const { return hash_; }

 private:
  void AddBytes(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

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
}

}  // namespace

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

absl::Status ValidateDefinition(const WorkflowDefinition& definition,
                                const StepRegistry* registry) {
  std::vector<std::string> problems;
  if (definition.steps().empty()) problems.push_back("the workflow has no steps");
  CheckSteps(definition, registry, problems);
  absl::flat_hash_map<std::string, int> index = IndexSteps(definition);
  CheckDependencies(definition, index, problems);
  CycleFinder(definition, index).Find(problems);
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("workflow definition '", definition.name(),
                                                 "' is invalid:\n  ",
                                                 absl::StrJoin(problems, "\n  ")));
}

std::string Fingerprint(const WorkflowDefinition& definition) {
  Fnv1a hash;
  hash.Add(definition.name());
  for (const StepDefinition& step : definition.steps()) {
    hash.Add(step.name());
    std::vector<std::string> deps = SortedDependencies(step);
    hash.Add(absl::StrCat(deps.size()));
    for (const std::string& dep : deps) hash.Add(dep);
    hash.Add(step.command());
    hash.Add(KindName(step.kind()));
  }
  return absl::StrFormat("%016x", hash.hash());
}

std::vector<std::string> DescribeChanges(const WorkflowDefinition& recorded,
                                         const WorkflowDefinition& current) {
  std::vector<std::string> changes;
  if (recorded.name() != current.name()) {
    changes.push_back(absl::StrCat("workflow name changed: expected '", recorded.name(),
                                   "', found '", current.name(), "'"));
  }
  absl::flat_hash_map<std::string, int> recorded_index = IndexSteps(recorded);
  absl::flat_hash_map<std::string, int> current_index = IndexSteps(current);
  std::vector<std::string> recorded_order, current_order;
  for (const StepDefinition& step : recorded.steps()) {
    auto it = current_index.find(step.name());
    if (it == current_index.end()) {
      changes.push_back(absl::StrCat("step '", step.name(), "' removed"));
      continue;
    }
    recorded_order.push_back(step.name());
    DescribeStepChanges(step, current.steps(it->second), changes);
  }
  for (const StepDefinition& step : current.steps()) {
    if (!recorded_index.contains(step.name())) {
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
  return changes;
}

}  // namespace chorus
