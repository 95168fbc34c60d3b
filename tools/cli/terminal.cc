#include "tools/cli/terminal.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace chorus::cli {

std::string TerminalMessage(absl::string_view message, absl::Span<const absl::string_view> names) {
  std::string text(message);
  // Every other character of a name is escaped alike inside the name and out of it.
  for (absl::string_view name : names) {
    if (absl::StrContains(name, '\n')) absl::StrReplaceAll({{name, TerminalText(name)}}, &text);
  }
  return absl::StrJoin(
      absl::StrSplit(text, '\n'), "\n",
      [](std::string* out, absl::string_view line) { out->append(TerminalText(line)); });
}

std::vector<absl::string_view> NamesOf(absl::string_view workflow_id,
                                       const WorkflowDefinition& definition) {
  std::vector<absl::string_view> names = {workflow_id, definition.name()};
  names.reserve(definition.steps_size() + 2);
  for (const StepDefinition& step : definition.steps()) names.push_back(step.name());
  return names;
}

}  // namespace chorus::cli
