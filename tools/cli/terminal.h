// Text that `chorus` prints for a person. Names (of workflows, steps, definitions, locks) and
// messages come from outside: a history recorded before names were checked, or an id given on
// the command line, may hold escape sequences, line breaks, NUL or bytes that are not UTF-8.
// Everything printed for a person goes through one of the two functions below, which show
// such characters as TerminalText (event/text.h) does ("\x1B", "\n", "\0"); output for
// programs (history --json, export, graph, timeline) is not for a terminal and keeps its own
// rules.
//
// - A line (a row of a table, an event, the final message of a run): PrintLine escapes all
//   of it, a line break included, since a row is one line whatever its names hold.
// - A message, which may span lines (a failed step quotes the last lines of its stderr, each
//   on its own line): TerminalMessage keeps its line breaks and escapes everything else. It
//   cannot tell a line break of the message from one inside a name, so it is given the names
//   the message may quote, and escapes those whole.
//
//   PrintLine(stdout, "workflow '%s' completed: %d steps", id, count);
//   Fail(status, NamesOf(id, definition));  // tools/cli/cli.h: prints TerminalMessage
//
// Thread-safe: pure functions; PrintLine writes its line with one call.
#ifndef CHORUS_TOOLS_CLI_TERMINAL_H_
#define CHORUS_TOOLS_CLI_TERMINAL_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "event/text.h"
#include "proto/workflow_definition.pb.h"

namespace chorus::cli {

// Formats a line as absl::StrFormat does and writes it to `out`, escaped as TerminalText
// escapes it, followed by a line break.
template <typename... Args>
void PrintLine(std::FILE* out, const absl::FormatSpec<Args...>& format, const Args&... args) {
  absl::FPrintF(out, "%s\n", TerminalText(absl::StrFormat(format, args...)));
}

// `message` with each line escaped as TerminalText escapes it and the line breaks between
// them kept; each of `names` that holds a line break is escaped whole first, so that its line
// break shows as "\n".
std::string TerminalMessage(absl::string_view message,
                            absl::Span<const absl::string_view> names = {});

// The names a message about workflow `workflow_id` of `definition` may quote: the id, the
// definition's name and its steps' names. They point into the arguments, which must outlive
// them.
std::vector<absl::string_view> NamesOf(absl::string_view workflow_id,
                                       const WorkflowDefinition& definition);

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_TERMINAL_H_
