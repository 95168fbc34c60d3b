#include "tools/timeline.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "event/text.h"
#include "event/workflow_state.h"
#include "tools/graph.h"

namespace chorus {
namespace {

// Layout, in SVG pixels. Rows start below the legend and the axis labels.
constexpr double kMargin = 10;
constexpr double kLegendBaseline = 22;
constexpr double kAxisBaseline = 46;
constexpr double kRowsTop = 54;
constexpr double kRowHeight = 20;
constexpr double kBarHeight = 14;
constexpr double kChartWidth = 900;
constexpr double kRightMargin = 30;       // room for the last tick's label
constexpr double kLabelBaseline = 14;     // below the row's top
constexpr double kCharWidth = 7.5;        // of the 12px monospace label font, rounded up
constexpr double kLegendCharWidth = 6.5;  // of the 11px sans-serif legend font, about
constexpr size_t kMaxLabelBytes = 48;
constexpr double kMinSeconds = 0.001;  // the shortest span drawn, so the scale stays finite

// The outcomes a row can show; kRunning stands for "no outcome recorded".
constexpr StepStatus kOutcomes[] = {StepStatus::kCompleted, StepStatus::kFailed,
                                    StepStatus::kCancelled, StepStatus::kRunning};

// One attempt of a step's visit, as the events tell it.
struct AttemptRow {
  std::string step;  // its name as TerminalText shows it
  int visit;         // from 1
  int attempt;
  absl::Time started_at;
  absl::Time finished_at;  // of the outcome, else of the last event
  StepStatus outcome;      // kRunning: no outcome recorded
  std::string detail;      // the error or the cancellation reason
};

// Maps times to x: `begin` (the first event) at `left`, kChartWidth pixels for `seconds`.
struct TimeScale {
  absl::Time begin;
  double seconds;
  double left;

  double X(absl::Time time) const {
    return left + absl::ToDoubleSeconds(time - begin) / seconds * kChartWidth;
  }
};

// Text for XML and HTML, its line breaks kept: each line as TerminalText (event/text.h) shows
// it, since XML 1.0 cannot hold most control characters even as references, and markup
// characters as entities. Names are shown as TerminalText shows them before they are put in
// such text, so that a line break in one shows as \n.
std::string EscapeXml(absl::string_view text) {
  return absl::StrJoin(
      absl::StrSplit(text, '\n'), "\n", [](std::string* out, absl::string_view line) {
        out->append(absl::StrReplaceAll(
            TerminalText(line), {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}}));
      });
}

// "name #2", "name#3 #2" for visit 3's attempt 2, shortened to at most kMaxLabelBytes (never
// inside a UTF-8 sequence).
std::string Label(const AttemptRow& row) {
  std::string label =
      absl::StrCat(row.step, row.visit > 1 ? absl::StrCat("#", row.visit) : "", " #", row.attempt);
  if (label.size() <= kMaxLabelBytes) return label;
  return absl::StrCat(Utf8Prefix(label, kMaxLabelBytes - 3), "...");
}

std::string FormatSeconds(double seconds) { return absl::StrFormat("%.3f s", seconds); }

std::string FormatUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC", time, absl::UTCTimeZone());
}

// Fills in the outcome that `event` records, if it records one.
void RecordOutcome(const Event& event, AttemptRow& row) {
  switch (event.kind_case()) {
    case Event::kStepCompleted:
      row.outcome = StepStatus::kCompleted;
      break;
    case Event::kStepFailed:
      row.outcome = StepStatus::kFailed;
      row.detail = absl::StrCat(event.step_failed().timed_out() ? "timed out: " : "",
                                event.step_failed().error().message());
      break;
    case Event::kStepCancelled:
      row.outcome = StepStatus::kCancelled;
      row.detail = event.step_cancelled().reason();
      break;
    default:
      return;
  }
  row.finished_at = RecordedAt(event);
}

// The attempts in the order they started; those without an outcome end at `end`.
std::vector<AttemptRow> CollectAttempts(absl::Span<const Event> events, absl::Time end) {
  std::vector<AttemptRow> rows;
  // By step, visit and attempt.
  absl::flat_hash_map<std::tuple<std::string, int, int>, size_t> row_of_attempt;
  for (const Event& event : events) {
    if (Attempt(event) == 0) continue;  // not about an attempt
    std::tuple<std::string, int, int> key(StepName(event), Visit(event), Attempt(event));
    if (event.has_step_started()) {
      row_of_attempt[key] = rows.size();
      rows.push_back({TerminalText(StepName(event)), Visit(event), Attempt(event),
                      RecordedAt(event), end, StepStatus::kRunning, ""});
    } else if (auto it = row_of_attempt.find(key); it != row_of_attempt.end()) {
      RecordOutcome(event, rows[it->second]);
    }
  }
  return rows;
}

// The first and last times of `events`; the Unix epoch twice if there are none.
std::pair<absl::Time, absl::Time> TimeRange(absl::Span<const Event> events) {
  if (events.empty()) return {absl::UnixEpoch(), absl::UnixEpoch()};
  absl::Time first = RecordedAt(events.front()), last = first;
  for (const Event& event : events) {
    first = std::min(first, RecordedAt(event));
    last = std::max(last, RecordedAt(event));
  }
  return {first, last};
}

absl::string_view OutcomeName(StepStatus outcome) {
  return outcome == StepStatus::kRunning ? "unfinished" : StepStatusName(outcome);
}

void AppendStyle(std::string& svg) {
  svg +=
      "<style>.label{font:12px monospace}.axis{font:11px sans-serif;fill:#555}"
      ".grid{stroke:#ddd}.stripe{fill:#f5f5f5}.bar{stroke:#444;stroke-width:.5}"
      ".unfinished{stroke-dasharray:3 2;stroke-width:1}";
  for (StepStatus outcome : kOutcomes) {
    absl::StrAppend(&svg, ".", OutcomeName(outcome), "{fill:", StepStatusColor(outcome), "}");
  }
  svg += "</style>\n";
}

void AppendLegend(std::string& svg) {
  double x = kMargin;
  for (StepStatus outcome : kOutcomes) {
    std::string text = outcome == StepStatus::kRunning ? "no outcome (running or cut off)"
                                                       : std::string(StepStatusName(outcome));
    absl::StrAppendFormat(&svg,
                          "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"12\" "
                          "height=\"12\"/><text class=\"axis\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                          OutcomeName(outcome), x, kLegendBaseline - 10, x + 16, kLegendBaseline,
                          text);
    x += 16 + text.size() * kLegendCharWidth + 20;
  }
}

// The smallest of 1, 2 or 5 times a power of ten that cuts `seconds` into at most 10 parts.
double TickStep(double seconds) {
  double power = std::pow(10.0, std::floor(std::log10(seconds / 10)));
  for (double factor : {1.0, 2.0, 5.0}) {
    if (power * factor * 10 >= seconds) return power * factor;
  }
  return power * 10;
}

// Tick labels above the rows, and a grid line per tick down through all of them.
void AppendAxis(const TimeScale& scale, double bottom, std::string& svg) {
  double step = TickStep(scale.seconds);
  for (int i = 0; i * step <= scale.seconds * (1 + 1e-9); ++i) {
    double x = scale.left + i * step / scale.seconds * kChartWidth;
    absl::StrAppendFormat(&svg,
                          "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                          "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                          "%gs</text>\n",
                          x, kAxisBaseline + 4, x, bottom, x, kAxisBaseline, i * step);
  }
}

// The hover text: exact times, duration and the error or reason.
std::string RowTitle(const AttemptRow& row, const TimeScale& scale) {
  std::string title = absl::StrCat(
      row.step, row.visit > 1 ? absl::StrCat(" visit ", row.visit) : "", " attempt ", row.attempt,
      ": ", OutcomeName(row.outcome), "\nstarted  ", FormatUtc(row.started_at), " (+",
      FormatSeconds(absl::ToDoubleSeconds(row.started_at - scale.begin)), ")");
  if (row.outcome == StepStatus::kRunning) {
    absl::StrAppend(&title, "\nno outcome recorded: still running, or cut off by a crash");
  } else {
    absl::StrAppend(&title, "\nfinished ", FormatUtc(row.finished_at), " (+",
                    FormatSeconds(absl::ToDoubleSeconds(row.finished_at - scale.begin)), ")");
  }
  absl::StrAppend(&title, "\nduration ",
                  FormatSeconds(absl::ToDoubleSeconds(row.finished_at - row.started_at)));
  if (!row.detail.empty()) {
    absl::StrAppend(&title,
                    row.outcome == StepStatus::kFailed ? "\nerror: " : "\nreason: ", row.detail);
  }
  return title;
}

// A light background on every other row, to follow a row across the chart.
void AppendStripes(size_t rows, double width, std::string& svg) {
  for (size_t i = 1; i < rows; i += 2) {
    absl::StrAppendFormat(&svg,
                          "<rect class=\"stripe\" x=\"0\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\"/>\n",
                          kRowsTop + i * kRowHeight, width, kRowHeight);
  }
}

void AppendRow(const AttemptRow& row, size_t index, const TimeScale& scale, std::string& svg) {
  double top = kRowsTop + index * kRowHeight;
  double x = scale.X(row.started_at);
  double bar_width = std::max(1.0, scale.X(row.finished_at) - x);
  absl::StrAppendFormat(
      &svg,
      "<g><title>%s</title><text class=\"label\" x=\"%.1f\" y=\"%.1f\">%s</text>"
      "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></g>\n",
      EscapeXml(RowTitle(row, scale)), kMargin, top + kLabelBaseline, EscapeXml(Label(row)),
      OutcomeName(row.outcome), x, top + (kRowHeight - kBarHeight) / 2, bar_width, kBarHeight);
}

// What the last workflow-terminal event says: "completed", "completed with failures (a, b)",
// "failed (step 'x')", "cancelled"; "running" if there is none yet. Names as TerminalText
// shows them.
std::string WorkflowStatusOf(absl::Span<const Event> events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (!IsWorkflowTerminal(*it)) continue;
    std::string status(absl::StripPrefix(KindName(*it), "workflow_"));
    if (it->has_workflow_failed()) {
      absl::StrAppend(&status, " (step '", TerminalText(it->workflow_failed().step()), "')");
    }
    if (it->has_workflow_completed() && !it->workflow_completed().failed_steps().empty()) {
      absl::StrAppend(&status, " with failures (",
                      absl::StrJoin(it->workflow_completed().failed_steps(), ", ",
                                    [](std::string* out, absl::string_view step) {
                                      out->append(TerminalText(step));
                                    }),
                      ")");
    }
    return status;
  }
  return "running";
}

// The definition's name as TerminalText shows it.
std::string DefinitionNameOf(absl::Span<const Event> events) {
  for (const Event& event : events) {
    if (event.has_workflow_started()) {
      return TerminalText(event.workflow_started().definition().name());
    }
  }
  return "";
}

}  // namespace

std::string RenderTimelineSvg(absl::string_view workflow_id, absl::Span<const Event> events) {
  auto [begin, end] = TimeRange(events);
  std::vector<AttemptRow> rows = CollectAttempts(events, end);
  size_t label_bytes = 0;
  for (const AttemptRow& row : rows) label_bytes = std::max(label_bytes, Label(row).size());
  TimeScale scale{begin, std::max(kMinSeconds, absl::ToDoubleSeconds(end - begin)),
                  2 * kMargin + label_bytes * kCharWidth};
  double width = scale.left + kChartWidth + kRightMargin;
  double height = kRowsTop + rows.size() * kRowHeight + kMargin;

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\">\n<title>Timeline of workflow %s</title>\n",
      width, height, width, height, EscapeXml(TerminalText(workflow_id)));
  AppendStyle(svg);
  AppendLegend(svg);
  AppendStripes(rows.size(), width, svg);
  AppendAxis(scale, height - kMargin, svg);
  for (size_t i = 0; i < rows.size(); ++i) AppendRow(rows[i], i, scale, svg);
  svg += "</svg>\n";
  return svg;
}

std::string RenderTimelineHtml(absl::string_view workflow_id, absl::Span<const Event> events) {
  auto [begin, end] = TimeRange(events);
  std::string id = EscapeXml(TerminalText(workflow_id));
  return absl::StrFormat(
      R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Timeline of workflow %s</title>
<style>
body{font-family:sans-serif;margin:16px}
h1{font-size:20px;margin:0 0 4px}
p{margin:0 0 12px;color:#333}
</style>
</head>
<body>
<h1>Workflow %s</h1>
<p>definition <b>%s</b> &#183; status <b>%s</b> &#183; makespan <b>%s</b></p>
%s</body>
</html>
)html",
      id, id, EscapeXml(DefinitionNameOf(events)), EscapeXml(WorkflowStatusOf(events)),
      FormatSeconds(absl::ToDoubleSeconds(end - begin)), RenderTimelineSvg(workflow_id, events));
}

}  // namespace chorus
