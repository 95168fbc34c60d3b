#include "tools/cli/event_text.h"

#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "event/events.h"

namespace chorus::cli {
namespace {

std::string DescribeError(const Error& error) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(error.code())), ": ",
                      Preview(error.message(), 200));
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
    case Event::kStepCompleted:
      return absl::StrCat("output: ", Preview(event.step_completed().output()));
    case Event::kStepFailed:
      return absl::StrCat("error: ", DescribeError(event.step_failed().error()),
                          event.step_failed().retryable() ? " (retryable)" : "");
    case Event::kStepCancelled:
      return absl::StrCat("reason: ", event.step_cancelled().reason());
    case Event::kStepSkipped:
      return absl::StrCat("reason: ", event.step_skipped().reason());
    case Event::kWorkflowFailed:
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
  const std::string details = Details(event);
  if (!details.empty()) absl::StrAppend(&line, " ", details);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string Preview(absl::string_view bytes, size_t limit) {
  std::string escaped = absl::CHexEscape(bytes);
  if (escaped.size() <= limit) return absl::StrCat("\"", escaped, "\"");
  return absl::StrCat("\"", escaped.substr(0, limit), "\"... (", bytes.size(), " bytes)");
}

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
