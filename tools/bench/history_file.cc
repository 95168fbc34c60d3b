#include "tools/bench/history_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "storage/event_store.h"
#include "storage/sqlite_event_store.h"
#include "tools/bench/bench_config.h"
#include "tools/bench/report.h"
#include "workflow/definition.h"

namespace chorus::bench {
namespace {

// Events per Append: large batches, as a bulk import would write them.
constexpr int64_t kBatchEvents = 10000;

Event WorkflowStartedEvent(int64_t events, absl::Time at) {
  Event event;
  event.set_seq(1);
  SetRecordedAt(at, &event);
  WorkflowStarted* started = event.mutable_workflow_started();
  *started->mutable_definition() = HistoryDefinition(events);
  started->set_fingerprint(Fingerprint(started->definition()));
  return event;
}

Event CollectStartedEvent(int64_t seq, absl::Time at) {
  Event event;
  event.set_seq(seq);
  SetRecordedAt(at, &event);
  event.mutable_step_started()->set_step(std::string(kCollectStep));
  event.mutable_step_started()->set_attempt(1);
  return event;
}

// Appends the whole history to a new store at `path`.
absl::Status WriteHistory(const std::string& path, int64_t events) {
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
                          OpenSqliteEventStore(path, SqliteOptions()));
  const absl::Time start = absl::Now();
  std::vector<Event> batch;
  batch.push_back(WorkflowStartedEvent(events, start));
  int64_t committed_seq = 0;
  for (int64_t seq = 2; seq <= events; ++seq) {
    const absl::Time at = start + absl::Microseconds(seq);
    batch.push_back(seq < events ? HistoryStepEvent(seq, at) : CollectStartedEvent(seq, at));
    if (static_cast<int64_t>(batch.size()) == kBatchEvents || seq == events) {
      CHORUS_RETURN_IF_ERROR(store->Append(kHistoryWorkflowId, committed_seq, batch));
      committed_seq = seq;
      batch.clear();
    }
  }
  return absl::OkStatus();
}

// Writes the history to a temporary file, renamed into place once complete: a history file
// that exists is whole. Runs in the child process.
absl::Status WriteHistoryFile(const std::string& path, int64_t events) {
  const std::string partial = path + ".partial";
  CHORUS_RETURN_IF_ERROR(RemoveDatabase(partial));
  const absl::Time start = absl::Now();
  CHORUS_RETURN_IF_ERROR(WriteHistory(partial, events));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  // Closing the store checkpointed and removed the WAL: the main file holds everything.
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) {
    return absl::InternalError(absl::StrFormat("renaming %s: %s", partial, error.message()));
  }
  JsonLine line("history");
  line.AddString("workload", "wide, 1 step cut off").AddInt("events", events);
  line.AddNumber("seconds", seconds).AddNumber("events_per_s", events / seconds);
  line.AddString("metric", "events_per_s").AddInt("batch_events", kBatchEvents);
  Emit(line);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckHistoryEvents(int64_t events) {
  if (events >= 4 && events % 2 == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("a history has an even number of events, at least 4, not ", events));
}

int64_t CompletedSteps(int64_t events) { return events / 2 - 1; }

std::string CompletedStepName(int64_t index) { return absl::StrFormat("t%07d", index); }

WorkflowDefinition HistoryDefinition(int64_t events) {
  const int64_t completed_steps = CompletedSteps(events);
  WorkflowDefinition definition;
  definition.set_name("wide-history");
  definition.mutable_steps()->Reserve(static_cast<int>(completed_steps + 1));
  StepDefinition collect;
  collect.set_name(std::string(kCollectStep));
  collect.mutable_depends_on()->Reserve(static_cast<int>(completed_steps));
  for (int64_t i = 0; i < completed_steps; ++i) {
    definition.add_steps()->set_name(CompletedStepName(i));
    collect.add_depends_on(CompletedStepName(i));
  }
  *definition.add_steps() = std::move(collect);
  return definition;
}

Event HistoryStepEvent(int64_t seq, absl::Time at) {
  const std::string step = CompletedStepName((seq - 2) / 2);
  Event event;
  event.set_seq(seq);
  SetRecordedAt(at, &event);
  if (seq % 2 == 0) {
    event.mutable_step_started()->set_step(step);
    event.mutable_step_started()->set_attempt(1);
  } else {
    event.mutable_step_completed()->set_step(step);
    event.mutable_step_completed()->set_attempt(1);
  }
  return event;
}

absl::StatusOr<std::string> EnsureHistoryFile(const std::string& dir, int64_t events) {
  CHORUS_RETURN_IF_ERROR(CheckHistoryEvents(events));
  const std::string path = absl::StrCat(dir, "/history-", events, ".db");
  if (std::filesystem::exists(path)) return path;
  std::cout.flush();  // the child must not print what the parent has buffered
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("cannot fork to write the history");
  if (child == 0) {
    const absl::Status written = WriteHistoryFile(path, events);
    if (!written.ok()) std::cerr << "chorus_bench: writing " << path << ": " << written << "\n";
    std::cout.flush();
    _exit(written.ok() ? 0 : 1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("the process writing ", path, " failed"));
  }
  return path;
}

}  // namespace chorus::bench
