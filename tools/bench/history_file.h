// The long history that R3, B3 and B4 read: written once per folder, through the store's API.
//
// Its shape, for `events` events (even, at least 4), is a wide workflow of n = events / 2
// steps, as a crash during its final step leaves it: steps "t0000000", "t0000001", ... (n - 1
// of them, without dependencies) each started and completed once, then "collect", which
// depends on all of them, started (attempt 1) and never finished. With 1,000,000 events:
// 499,999 completed steps (999,998 events), the workflow-started event and collect's start.
//
//   CHORUS_ASSIGN_OR_RETURN(std::string path, EnsureHistoryFile(dir, 1000000));
//   ... OpenSqliteEventStore(path, options), then read workflow kHistoryWorkflowId ...
#ifndef CHORUS_TOOLS_BENCH_HISTORY_FILE_H_
#define CHORUS_TOOLS_BENCH_HISTORY_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/event.pb.h"
#include "proto/workflow_definition.pb.h"

namespace chorus::bench {

inline constexpr absl::string_view kHistoryWorkflowId = "history";
// The history's length in events: full size, and for smoke runs.
inline constexpr int64_t kHistoryEvents = 1000000;
inline constexpr int64_t kSmokeHistoryEvents = 10000;
// The last step, cut off by the crash.
inline constexpr absl::string_view kCollectStep = "collect";

// InvalidArgument unless `events` is a history's length: even and at least 4.
absl::Status CheckHistoryEvents(int64_t events);

// The definition of the history of `events` events. REQUIRES: events is even and >= 4.
WorkflowDefinition HistoryDefinition(int64_t events);

// How many completed steps the history of `events` events has, and the name of the i-th.
int64_t CompletedSteps(int64_t events);
std::string CompletedStepName(int64_t index);

// The event at `seq` >= 2 of any such history before collect's start: a completed step's
// start (even seq) or completion (odd seq), as the engine records them, recorded at `at`.
Event HistoryStepEvent(int64_t seq, absl::Time at);

// The path of the history file of `events` events in `dir`. If there is none yet, a child
// process writes it (and prints a measurement line "history" saying how fast), so that the
// caller's peak RSS stays its own. REQUIRES: events is even and >= 4; the calling process
// runs no other thread (it forks).
absl::StatusOr<std::string> EnsureHistoryFile(const std::string& dir, int64_t events);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_HISTORY_FILE_H_
