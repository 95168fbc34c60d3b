#include "tools/bench/crashed_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/internal/status_macros.h"
#include "storage/event_store.h"
#include "storage/sqlite_event_store.h"
#include "tools/bench/bench_config.h"
#include "tools/bench/history_file.h"
#include "tools/bench/report.h"
#include "workflow/engine.h"

namespace chorus::bench {
namespace {

// How the child ends once collect has started: its status tells the parent that the run got
// there.
constexpr int kCrashedAtCollect = 42;

// Runs the workflow into a new store at `path` until collect starts; then the process ends.
// Returns only if the run went wrong.
absl::Status RunUntilCollect(const std::string& path, int64_t events, absl::Time start) {
  SqliteOptions store_options;
  // A crash of the process loses nothing at NORMAL: the WAL is written before each step runs.
  store_options.durability = SqliteOptions::Durability::kNormal;
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
                          OpenSqliteEventStore(path, store_options));
  StepRegistry registry;
  for (int64_t i = 0; i < CompletedSteps(events); ++i) {
    CHORUS_RETURN_IF_ERROR(
        registry.Register(CompletedStepName(i),
                          [](const StepContext&) -> absl::StatusOr<std::string> { return ""; }));
  }
  CHORUS_RETURN_IF_ERROR(registry.Register(
      kCollectStep, [events, start](const StepContext&) -> absl::StatusOr<std::string> {
        const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
        JsonLine line("crashed_run");
        line.AddString("workload", "wide, run until its last step").AddInt("events", events);
        line.AddNumber("seconds", seconds).AddString("metric", "seconds");
        Emit(line);
        std::cout.flush();
        _exit(kCrashedAtCollect);
      }));
  EngineOptions options;
  options.threads = 2;
  options.max_concurrency = 32;
  Engine engine(store.get(), &registry, options);
  CHORUS_RETURN_IF_ERROR(engine.Run(kHistoryWorkflowId, HistoryDefinition(events), "").status());
  return absl::InternalError("the run ended without starting collect");
}

// Brings the crashed run's WAL into the file, so that the file alone holds the history.
absl::Status Checkpoint(const std::string& path) {
  return OpenSqliteEventStore(path, SqliteOptions()).status();
}

}  // namespace

absl::StatusOr<std::string> EnsureCrashedRunFile(const std::string& dir, int64_t events) {
  CHORUS_RETURN_IF_ERROR(CheckHistoryEvents(events));
  const std::string path = absl::StrCat(dir, "/crashed-run-", events, ".db");
  if (std::filesystem::exists(path)) return path;
  const std::string partial = path + ".partial";
  CHORUS_RETURN_IF_ERROR(RemoveDatabase(partial));
  std::cout.flush();  // the child must not print what the parent has buffered
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("cannot fork to run the workflow");
  if (child == 0) {
    const absl::Status ran = RunUntilCollect(partial, events, absl::Now());
    std::cerr << "chorus_bench: running into " << partial << ": " << ran << "\n";
    _exit(1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != kCrashedAtCollect) {
    return absl::InternalError(absl::StrCat("the process running into ", partial, " failed"));
  }
  CHORUS_RETURN_IF_ERROR(Checkpoint(partial));
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) {
    return absl::InternalError(absl::StrFormat("renaming %s: %s", partial, error.message()));
  }
  return path;
}

}  // namespace chorus::bench
