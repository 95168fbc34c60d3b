#include "tools/cli/event_text.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "event/events.h"
#include "event/state.h"

namespace chorus::cli {
namespace {

std::string DescribeError(const Error& error) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(error.code())), ": ",
                      Preview(error.message(), 200));
}

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

// `text` cut after `limit` bytes, with "..." when cut.
std::string Cut(absl::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return absl::StrCat(text.substr(0, limit), "...");
}

// "state: total=5, files=\"a.txt\"; cost: 0.25", or "" when there is neither.
std::string DescribeReports(const google::protobuf::RepeatedPtrField<StateUpdate>& updates,
                            double cost) {
  std::vector<std::string> parts;
  if (!updates.empty()) {
    std::vector<std::string> described;
    for (const StateUpdate& update : updates) {
      described.push_back(absl::StrCat(update.key(), "=", Cut(ValueToJson(update.value()), 40)));
    }
    parts.push_back(absl::StrCat("state: ", absl::StrJoin(described, ", ")));
  }
  if (cost > 0) parts.push_back(absl::StrCat("cost: ", CostText(cost)));
  return absl::StrJoin(parts, "; ");
}

// "error: UNKNOWN: ... (retryable); timed out; next attempt at <time>; cost: 2".
std::string DescribeFailure(const StepFailed& failed) {
  std::string text = absl::StrCat("error: ", DescribeError(failed.error()),
                                  failed.retryable() ? " (retryable)" : "");
  if (failed.timed_out()) absl::StrAppend(&text, "; timed out");
  if (failed.has_next_attempt_at()) {
    absl::StrAppend(&text, "; next attempt at ", TimeText(TimeOf(failed.next_attempt_at())));
  }
  if (failed.cost() > 0) absl::StrAppend(&text, "; cost: ", CostText(failed.cost()));
  return text;
}

// "3 items: \"a\", \"b\", \"c\", ..." (the first three).
std::string DescribeExpansion(const StepExpanded& expanded) {
  constexpr int kShown = 3;
  const auto& items = MapItems(expanded);
  std::vector<std::string> shown;
  for (int i = 0; i < items.size() && i < kShown; ++i) shown.push_back(Preview(items[i], 30));
  if (items.size() > kShown) shown.push_back("...");
  std::string text = absl::StrCat(items.size(), items.size() == 1 ? " item" : " items");
  if (!shown.empty()) absl::StrAppend(&text, ": ", absl::StrJoin(shown, ", "));
  return text;
}

std::string Details(const Event& event) {
  switch (event.kind_case()) {
    case Event::kWorkflowStarted: {
      const WorkflowStarted& started = event.workflow_started();
      return absl::StrFormat("definition '%s' (%d steps, fingerprint %s), input %d bytes",
                             started.definition().name(), started.definition().steps_size(),
                             started.fingerprint(), started.input().size());
    }
    case Event::kStepStarted:
      return event.step_started().log_path().empty()
                 ? ""
                 : absl::StrCat("log: ", event.step_started().log_path());
    case Event::kStepCompleted: {
      const StepCompleted& completed = event.step_completed();
      const std::string reports = DescribeReports(completed.state_updates(), completed.cost());
      return absl::StrCat("output: ", Preview(completed.output()), reports.empty() ? "" : "; ",
                          reports);
    }
    case Event::kStepFailed:
      return DescribeFailure(event.step_failed());
    case Event::kStepExpanded:
      return DescribeExpansion(event.step_expanded());
    case Event::kStepBlocked:
      return absl::StrCat("waiting for lock '", event.step_blocked().resource(), "'");
    case Event::kStepCancelled:
      return absl::StrCat("reason: ", event.step_cancelled().reason());
    case Event::kStepSkipped:
      return absl::StrCat("reason: ", event.step_skipped().reason());
    case Event::kWorkflowCompleted:
      return event.workflow_completed().failed_steps().empty()
                 ? ""
                 : absl::StrCat("with failures of non-critical steps: ",
                                absl::StrJoin(event.workflow_completed().failed_steps(), ", "));
    case Event::kWorkflowFailed:
      if (event.workflow_failed().step().empty()) {  // a failure no step caused (a limit)
        return DescribeError(event.workflow_failed().error());
      }
      return absl::StrCat("step '", event.workflow_failed().step(),
                          "': ", DescribeError(event.workflow_failed().error()));
    case Event::kWorkflowCancelled:
      return absl::StrCat("reason: ", event.workflow_cancelled().reason());
    default:
      return "";
  }
}

}  // namespace

std::string DescribeEvent(const Event& event) {
  std::string subject(StepName(event));
  if (Attempt(event) > 0) absl::StrAppend(&subject, "#", Attempt(event));
  std::string line = absl::StrFormat("%-18s %-20s", KindName(event), subject);
  std::vector<std::string> details;
  if (Visit(event) > 1) details.push_back(absl::StrCat("visit ", Visit(event)));
  if (std::string kind_details = Details(event); !kind_details.empty()) {
    details.push_back(std::move(kind_details));
  }
  if (!Taken(event).empty()) {
    details.push_back(absl::StrCat("-> ", absl::StrJoin(Taken(event), ", ")));
  }
  if (!details.empty()) absl::StrAppend(&line, " ", absl::StrJoin(details, "; "));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string Preview(absl::string_view bytes, size_t limit) {
  std::string escaped = absl::CHexEscape(bytes);
  if (escaped.size() <= limit) return absl::StrCat("\"", escaped, "\"");
  return absl::StrCat("\"", escaped.substr(0, limit), "\"... (", bytes.size(), " bytes)");
}

std::string CostText(double cost) { return absl::StrFormat("%g", cost); }

std::string TimeText(absl::Time time) {
  if (time == absl::InfinitePast()) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", time, absl::UTCTimeZone());
}

std::string DurationText(absl::Duration duration) {
  if (duration < absl::ZeroDuration()) return "-";
  const double seconds = absl::ToDoubleSeconds(duration);
  if (seconds < 60) return absl::StrFormat("%.2fs", seconds);
  const int64_t whole = static_cast<int64_t>(std::floor(seconds));
  if (whole < 3600) return absl::StrFormat("%dm%02ds", whole / 60, whole % 60);
  return absl::StrFormat("%dh%02dm", whole / 3600, (whole % 3600) / 60);
}

}  // namespace chorus::cli
