// The history B4 resumes: the workflow of history_file.h run by the engine, as a service would
// run it, in a child process that dies as the run starts its last step, "collect". Written
// once per folder.
//
// The engine records 1,000,000 events as history_file.h's history has them (each step's start
// and completion, collect's start last), in its own order and batches, and saves snapshots of
// the folded state as it goes (EngineOptions::snapshot_min_events): resuming folds only the
// events after the last one. The dead process's lease is still in the file, as after a crash.
//
//   CHORUS_ASSIGN_OR_RETURN(std::string path, EnsureCrashedRunFile(dir, 1000000));
//   ... OpenSqliteEventStore(path, options), then Resume(kHistoryWorkflowId) ...
#ifndef CHORUS_TOOLS_BENCH_CRASHED_RUN_H_
#define CHORUS_TOOLS_BENCH_CRASHED_RUN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace chorus::bench {

// The path of the crashed run's file of `events` events in `dir`. If there is none yet, a
// child process writes it (and prints a measurement line "crashed_run" saying how fast).
// REQUIRES: events is even and >= 4; the calling process runs no other thread (it forks).
absl::StatusOr<std::string> EnsureCrashedRunFile(const std::string& dir, int64_t events);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_CRASHED_RUN_H_
