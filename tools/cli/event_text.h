// One-line human descriptions of events and states, shared by `history`, `status`, `replay`
// and the progress output of `run`. They quote names and messages as recorded, control
// characters and all: print them with PrintLine (tools/cli/terminal.h).
#ifndef CHORUS_TOOLS_CLI_EVENT_TEXT_H_
#define CHORUS_TOOLS_CLI_EVENT_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "event/workflow_state.h"
#include "proto/event.pb.h"

namespace chorus::cli {

// "step_failed  build#2  error: UNAVAILABLE: disk full (retryable)" — the kind, the step and
// attempt when there is one, and the details that matter for the kind: a step's output, state
// updates ("state: total=5, files=\"a.txt\"") and cost; a failure's error, whether it timed
// out and when the next attempt runs; a map step's items; the lock a step waits for; the
// failed non-critical steps of a workflow completed with failures. An event of a step's visit
// past its first starts its details with it, and a visit's outcome that took edges ends them
// with the steps it took them to:
//   "step_failed        test#1               visit 2; error: UNKNOWN: \"2 failed\"; -> implement"
std::string DescribeEvent(const Event& event);

// `bytes` shown on one line: printable ASCII kept, other bytes escaped, cut after `limit`
// characters with "...".
std::string Preview(absl::string_view bytes, size_t limit = 60);

// A cost or budget: "0.25", "12", "1e+06".
std::string CostText(double cost);

// "2026-11-21 23:12:05.123" in UTC; "-" for InfinitePast.
std::string TimeText(absl::Time time);

// "1.25s", "3m02s"; "-" for a negative duration.
std::string DurationText(absl::Duration duration);

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_EVENT_TEXT_H_
