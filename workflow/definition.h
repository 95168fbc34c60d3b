// Workflow definitions: building them in C++, validating them, and telling whether one changed.
//
// A definition is the proto message WorkflowDefinition (proto/workflow_definition.proto): a
// name and an ordered list of steps, each with a name and the steps it depends on. These
// functions belong together: the builder produces what the validator checks, and the
// fingerprint and the change description both define when two definitions are "the same".
//
//   WorkflowDefinition definition = DefinitionBuilder("etl")
//                                       .Step("extract")
//                                       .Step("transform", {"extract"})
//                                       .Step("load", {"transform"})
//                                       .Build();
//   CHORUS_RETURN_IF_ERROR(ValidateDefinition(definition, &registry));
//
// All functions are thread-safe.
#ifndef CHORUS_WORKFLOW_DEFINITION_H_
#define CHORUS_WORKFLOW_DEFINITION_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/workflow_definition.pb.h"
#include "workflow/step_registry.h"

namespace chorus {

class DefinitionBuilder {
 public:
  explicit DefinitionBuilder(absl::string_view name);

  // Appends a step; definition order is the order of these calls.
  DefinitionBuilder& Step(absl::string_view name,
                          std::initializer_list<absl::string_view> depends_on = {});
  // Appends a step that runs `command` through /bin/sh.
  DefinitionBuilder& ShellStep(absl::string_view name, absl::string_view command,
                               std::initializer_list<absl::string_view> depends_on = {});

  // Appends a structural step that marks where parallel branches begin (fan-out) or join
  // (fan-in). It runs no function and completes, with an empty output, once ready.
  DefinitionBuilder& FanOut(absl::string_view name,
                            std::initializer_list<absl::string_view> depends_on = {});
  DefinitionBuilder& FanIn(absl::string_view name,
                           std::initializer_list<absl::string_view> depends_on);

  // The definition built so far. Does not validate it.
  WorkflowDefinition Build() const { return definition_; }

 private:
  WorkflowDefinition definition_;
};

// Checks `definition` and reports every problem at once, naming the steps: an empty step
// name, a duplicate step, an unknown dependency, a step that depends on itself, a cycle of
// edges none of which has a condition, so that it could never end (printed as a path
// "a -> b -> a"), an edge of an unknown step or given twice, a malformed condition (naming the
// edge and the position in it), a step on a loop that joins all or is a map, background or
// sync step (workflow/internal/routing.h), a structural (fan-out/fan-in) step with a command, text
// that history could not hold or a terminal would not show as written (a name of the
// definition, a step, a state key or a resource that CheckName in event/text.h refuses; a
// command or a state value that is not valid UTF-8), and, when `registry` is not null, a task
// step with no registered function. Returns InvalidArgument listing the problems, one per
// line.
absl::Status ValidateDefinition(const WorkflowDefinition& definition, const StepRegistry* registry);

// What validating a definition finds out about its steps, kept so that running it does not
// work it out again.
struct DefinitionGraph {
  // EffectiveDependencies(definition).
  std::vector<std::vector<int>> dependencies;
  // By definition index: each task step's registered function; null for structural steps,
  // and for every step when validated without a registry.
  std::vector<const StepFunction*> functions;
};

// ValidateDefinition, returning on success the definition's graph.
absl::StatusOr<DefinitionGraph> ValidateDefinitionGraph(const WorkflowDefinition& definition,
                                                        const StepRegistry* registry);

// ValidateDefinitionGraph for a definition a history recorded, to run it again: everything is
// checked but the text, which history holds as valid UTF-8 already, and whose names may be
// any that were accepted when it was recorded.
absl::StatusOr<DefinitionGraph> ValidateRecordedDefinitionGraph(
    const WorkflowDefinition& definition, const StepRegistry* registry);

// For each step (by definition index), the indices of the steps it waits for: those it
// depends on, in the order listed, then those of the edges into it (WorkflowDefinition.edges),
// then for a sync step every step defined before it that
// runs in the background (StepDefinition.background, or depending on such a step, directly
// or not). Unknown dependency names are left out. REQUIRES: step names are unique.
std::vector<std::vector<int>> EffectiveDependencies(const WorkflowDefinition& definition);

// A duration of a definition (a timeout, a backoff) as the engine reads it: its seconds and
// nanos added, whatever their signs.
absl::Duration DurationOf(const google::protobuf::Duration& duration);

// A stable fingerprint of everything that affects how the workflow runs: its name, its steps
// in order, each step's kind, command and dependencies (as a set: their order does not matter).
// Equal definitions give equal fingerprints on every machine and version of Chorus.
std::string Fingerprint(const WorkflowDefinition& definition);

// What differs between the definition a workflow was started with (`recorded`) and
// `current`: steps added or removed, reordered, dependencies or options changed, each as one
// line giving expected (recorded) versus found (current). Empty when they fingerprint equal.
std::vector<std::string> DescribeChanges(const WorkflowDefinition& recorded,
                                         const WorkflowDefinition& current);

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_DEFINITION_H_
