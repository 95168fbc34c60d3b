// Reading a WorkflowDefinition from a file, in either of two formats.
//
// Protobuf text format (.textproto, .txtpb, .pbtxt) is the WorkflowDefinition message itself:
//
//   name: "diamond"
//   steps { name: "a" command: "echo a" }
//   steps { name: "b" depends_on: "a" command: "cat \"$CHORUS_DEP_A\"" }
//
// DOT (.dot, .gv) draws the same DAG as a Graphviz digraph, parsed by Graphviz's cgraph:
//
//   digraph diamond {
//     a [cmd="echo a"];
//     b [cmd="cat \"$CHORUS_DEP_A\""];
//     a -> b;                       // b depends on a
//   }
//
// In DOT the workflow's name is the graph's `label` attribute, else the graph's name (empty
// for an anonymous graph). Each node is a step, in the order nodes first appear in the file;
// an edge a -> b makes b depend on a. Node attribute `cmd` is the step's shell command (as
// written: DOT unescapes only \" in quoted strings). Node attribute `type` = "fan_out" or
// "fan_in" makes a structural step (StepKind), which must have no `cmd`; every other node
// must have one. Other attributes (labels, colours, ...) are ignored.
//
//   CHORUS_ASSIGN_OR_RETURN(WorkflowDefinition definition, ReadDefinitionFile(path));
//   CHORUS_RETURN_IF_ERROR(ValidateDefinition(definition, /*registry=*/nullptr));
//
// These functions check the format only: the caller validates the result (ValidateDefinition
// in workflow/definition.h). Thread-safe; DOT parsing is serialized process-wide, because
// Graphviz is not thread-safe (see tools/graphviz_session.h).
#ifndef CHORUS_TOOLS_DEFINITION_FILE_H_
#define CHORUS_TOOLS_DEFINITION_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

enum class DefinitionFormat {
  kTextProto,
  kDot,
};

// The format of a file named `file_name` holding `text`: by extension (.dot and .gv are DOT;
// .textproto, .txtpb and .pbtxt are text format), else DOT if the text, past leading
// whitespace and comments, begins with a graph keyword ("digraph", "strict", "graph"), else
// text format.
DefinitionFormat GuessDefinitionFormat(absl::string_view file_name, absl::string_view text);

// Parses `text` in `format`. `file_name` is only used in error messages.
// Returns InvalidArgument naming the file and the problem:
//   f.textproto:4:14: Expected ":", found ""b"".     (text format: 1-based line and column)
//   f.dot:7: syntax error near '->'                  (DOT syntax: the line Graphviz reports)
//   f.dot: node 'report' has no cmd attribute        (the DOT rules above: the node)
// In DOT, a Graphviz warning (e.g. "badly delimited number") is an error too.
absl::StatusOr<WorkflowDefinition> ParseDefinition(absl::string_view text,
                                                   absl::string_view file_name,
                                                   DefinitionFormat format);

// Reads the file at `path` and parses it in the format GuessDefinitionFormat gives.
// Returns NotFound if there is no such file, the code of the system error (e.g.
// PermissionDenied) if it cannot be read, both naming the path; else as ParseDefinition.
absl::StatusOr<WorkflowDefinition> ReadDefinitionFile(const std::string& path);

}  // namespace chorus

#endif  // CHORUS_TOOLS_DEFINITION_FILE_H_
