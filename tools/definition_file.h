// Reading a WorkflowDefinition from a file, in either of two formats.
//
// Protobuf text format (.textproto, .txtpb, .pbtxt) is the WorkflowDefinition message itself:
//
//   name: "diamond"
//   steps { name: "a" command: "echo a" }
//   steps { name: "b" depends_on: "a" command: "cat \"$CHORUS_DEP_A\"" }
//
// and lists the edges that have a condition, a label or a weight apart from depends_on, as
// `edges { from: "test" to: "done" condition: "outcome=success" }` (the fix_loop below).
//
// DOT (.dot, .gv) draws the same graph as a Graphviz digraph, parsed by Graphviz's cgraph:
//
//   digraph diamond {
//     a [cmd="echo a"];
//     b [cmd="cat \"$CHORUS_DEP_A\""];
//     a -> b;                       // b depends on a
//   }
//
// In DOT the workflow's name is the graph's `label` attribute, else the graph's name (empty
// for an anonymous graph). Each node is a step, in the order nodes first appear in the file;
// an edge a -> b makes b depend on a (once: a repeated edge adds nothing), unless it has an
// edge attribute (below). Node attribute `cmd` is the step's shell command (as written: DOT
// unescapes only \" in quoted strings). Node attribute `type` = "fan_out",
// "fan_in" or "sync" makes a structural step (StepKind), which must have no `cmd`; every other
// node must have one. The other options of WorkflowDefinition and StepDefinition are these
// attributes (a default for every node can be set with `node [retries=2]`, for every edge
// with `edge [weight=1]`):
//
//   node attribute       example                      sets
//   retries              retries=2                    retry.max_attempts = 3 (2 more attempts)
//   backoff              backoff="1s"                 retry.initial_backoff
//   backoff_multiplier   backoff_multiplier=2         retry.multiplier (a number >= 1)
//   max_backoff          max_backoff="30s"            retry.max_backoff
//   non_retryable        non_retryable="NOT_FOUND,INVALID_ARGUMENT"   retry.non_retryable_codes
//   timeout              timeout="5s"                 timeout
//   critical             critical=false               non_critical = true
//   locks                locks="checkout,db"          locks
//   map_over             map_over=list                map_over (a dependency's name)
//   map_concurrency      map_concurrency=4            map_concurrency (needs map_over)
//   background           background=true              background
//   join                 join=any                     join (all or any)
//   route                route=first                  route (all or first)
//   max_visits           max_visits=5                 max_visits (a whole number from 1 to
//                                                     1,000,000)
//
//   edge attribute       example                      sets, in an Edge {from, to, ...}
//   condition            condition="outcome=fail"     condition (as written)
//   label                label="retry"                label
//   weight               weight=-2                    weight (a whole number from -1,000,000
//                                                     to 1,000,000)
//
//   graph attribute      example                                    sets
//   failure_policy       failure_policy=continue                    failure_policy
//                                                                   (fail_fast or continue)
//   budget               budget=10.5                                budget (a number > 0)
//   max_visits           max_visits=50                              max_visits (a whole
//                                                                   number from 1 to 1,000,000)
//   state                state="total:sum=0; files:append; note"   state
//   resources            resources="db:2; checkout"                 resources
//
// Durations take absl::ParseDuration's syntax ("500ms", "1.5s", "1m30s"), quoted (unquoted,
// DOT reads 5s as two tokens), and must be positive. non_retryable lists absl::StatusCode
// names. The attributes of the retry policy other than retries need retries. `state` lists
// keys separated by ';', each `name[:reducer][=initial]`: the reducers are last_write_wins
// (the default), append, sum, min and max; the initial value is a whole number for sum, min
// and max, a list of one item for append (of none if empty: `=` alone), and a non-empty text
// for last_write_wins. `resources` lists `name[:capacity]` (capacity 1 if not given). Names of
// keys, resources and locks have no spaces and none of `,;:=`. An attribute set to "" is
// absent. A malformed value is an error naming the file, the node, edge ("edge 'a' -> 'b'") or
// graph, the attribute and the problem. Other attributes (node labels, colours, ...) are
// ignored; an edge's `label` is also what Graphviz draws.
//
// An edge a -> b with any of the edge attributes is not a dependency: it is an entry
// {from: a, to: b, condition, label, weight} of WorkflowDefinition.edges, whose condition
// (workflow/condition.h, checked by the validator) decides whether a visit of a that ended
// takes it. The entries are grouped by tail in node order, each tail's in the order of their
// heads (cgraph's order), a repeated edge after the first and listed again, not merged (the
// validator reports it; in a `strict digraph` Graphviz merges it). Edges with conditions may
// form loops:
//
//   digraph fix_loop {
//     implement [cmd="./implement.sh"];
//     test [cmd="./test.sh"];
//     done [cmd="echo done"];
//     implement -> test;                          // test depends on implement
//     test -> done [condition="outcome=success"];
//     test -> implement [condition="outcome=fail"];
//   }
//
//   CHORUS_ASSIGN_OR_RETURN(WorkflowDefinition definition, ReadDefinitionFile(path));
//   CHORUS_RETURN_IF_ERROR(ValidateDefinition(definition, /*registry=*/nullptr));
//
// These functions check the format only: the caller validates the result (ValidateDefinition
// in workflow/definition.h). Thread-safe; DOT parsing is serialized process-wide, because
// Graphviz is not thread-safe (see tools/graphviz_session.h).
#ifndef CHORUS_TOOLS_DEFINITION_FILE_H_
#define CHORUS_TOOLS_DEFINITION_FILE_H_

#include <cstddef>
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
//   f.dot: node 'a' attribute retries="x": expected a whole number from 0 to 1000
//   f.dot: graph attribute budget="-1": expected a number greater than 0
//   f.dot: edge 'a' -> 'b' attribute weight="x": expected a whole number from -1000000 to 1000000
// In DOT, a Graphviz warning (e.g. "badly delimited number") is an error too.
absl::StatusOr<WorkflowDefinition> ParseDefinition(absl::string_view text,
                                                   absl::string_view file_name,
                                                   DefinitionFormat format);

// The most bytes a definition file may hold: room for 500,000 steps (about 11 MB as a
// WorkflowDefinition, a few times that as text), and a clear error for /dev/zero.
inline constexpr size_t kMaxDefinitionFileBytes = 64 << 20;

// Reads the file at `path` and parses it in the format GuessDefinitionFormat gives.
// Returns NotFound if there is no such file, the code of the system error (e.g.
// PermissionDenied) if it cannot be read, FailedPrecondition for a directory and
// ResourceExhausted for a file (or device, or FIFO) of more than kMaxDefinitionFileBytes, all
// naming the path (see ReadFileUpTo in tools/read_file.h); else as ParseDefinition.
absl::StatusOr<WorkflowDefinition> ReadDefinitionFile(const std::string& path);

}  // namespace chorus

#endif  // CHORUS_TOOLS_DEFINITION_FILE_H_
