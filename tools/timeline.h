// Timeline: a Gantt chart of a workflow's step attempts, drawn from its event history.
//
// One row per attempt, labelled with the step's name and the attempt number ("test #2"), in
// the order the attempts started. A visit of a step past its first (a loop ran it again) has
// attempts of its own from 1, labelled with the visit too: "test#3 #1" is visit 3's attempt 1.
// Each row's bar runs from the attempt's step_started event to the event recording its
// outcome, coloured as StepStatusColor (tools/graph.h) colours that outcome: completed, failed
// or cancelled. An attempt with no recorded outcome (still running, or cut off by a crash)
// runs to the last event and is drawn in the running colour with a dashed outline. A time
// axis above the rows counts seconds from the first event, and hovering over a row shows its
// exact times and its error (prefixed "timed out: " when the attempt ran past its timeout) or
// cancellation reason. Each instance of a map step ("resize[3]") has rows of its own.
//
// Names (the workflow's id, its definition's and its steps') are shown as TerminalText
// (event/text.h) shows them, since XML cannot hold control characters; errors and reasons
// keep their line breaks.
//
// Rows have a fixed height and long step names are shortened, so labels never overlap; a
// long history makes a tall chart, and the page scrolls. Each row is a few plain SVG
// elements (styles are shared), so 1,000 attempts stay a few hundred kilobytes.
//
//   std::string html = RenderTimelineHtml("order-42", events);
//
// Thread-safe.
#ifndef CHORUS_TOOLS_TIMELINE_H_
#define CHORUS_TOOLS_TIMELINE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/event.pb.h"

namespace chorus {

// The chart of `events`, the history of workflow `workflow_id` in seq order, as an SVG
// document. It has no XML declaration, so that it can be embedded in HTML as it is.
std::string RenderTimelineSvg(absl::string_view workflow_id, absl::Span<const Event> events);

// A self-contained HTML page: a header (the workflow's id, its definition's name, its status
// and its makespan, the time from its first to its last event) above RenderTimelineSvg's
// chart. The page loads nothing and runs no script.
std::string RenderTimelineHtml(absl::string_view workflow_id, absl::Span<const Event> events);

}  // namespace chorus

#endif  // CHORUS_TOOLS_TIMELINE_H_
