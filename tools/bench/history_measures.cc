#include "tools/bench/history_measures.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/internal/status_macros.h"
#include "storage/load_state.h"
#include "storage/sqlite_event_store.h"
#include "tools/bench/crashed_run.h"
#include "tools/bench/history_file.h"
#include "tools/bench/report.h"
#include "tools/bench/sqlite_bounds.h"
#include "workflow/engine.h"

namespace chorus::bench {
namespace {

// B3 and its bound take the fastest of this many folds or scans.
constexpr int kRepeats = 3;
constexpr absl::Duration kMaxOpenToFirstStep = absl::Milliseconds(500);
constexpr double kMaxPeakRssMb = 300;

absl::StatusOr<absl::Duration> TimeFold(EventStore& store, int64_t events) {
  const absl::Time start = absl::Now();
  CHORUS_ASSIGN_OR_RETURN(const WorkflowState state, LoadWorkflowState(store, kHistoryWorkflowId));
  const absl::Duration elapsed = absl::Now() - start;
  if (state.last_seq != events || static_cast<int64_t>(state.steps.size()) != events / 2) {
    return absl::DataLossError(absl::StrFormat("folded %d events and %d steps, expected %d",
                                               state.last_seq, state.steps.size(), events));
  }
  return elapsed;
}

// The fastest of kRepeats folds of the history at `path`, on one read-only store.
absl::StatusOr<absl::Duration> FastestFold(const std::string& path, int64_t events) {
  SqliteOptions options;
  options.read_only = true;
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, OpenSqliteEventStore(path, options));
  absl::Duration best = absl::InfiniteDuration();
  for (int i = 0; i < kRepeats; ++i) {
    CHORUS_ASSIGN_OR_RETURN(const absl::Duration elapsed, TimeFold(*store, events));
    best = std::min(best, elapsed);
  }
  return best;
}

// What B4 times, from opening the store.
struct ResumeTimes {
  absl::Duration to_first_step;
  absl::Duration to_end;
};

// What the resumed run's step functions saw.
struct ResumeProbe {
  std::optional<absl::Time> collect_started;    // written by collect's thread, read after Resume
  std::atomic<int64_t> completed_steps_run{0};  // must stay 0: completed steps never rerun
};

absl::Status RegisterHistorySteps(int64_t events, ResumeProbe& probe, StepRegistry& registry) {
  for (int64_t i = 0; i < CompletedSteps(events); ++i) {
    CHORUS_RETURN_IF_ERROR(registry.Register(
        CompletedStepName(i), [&probe](const StepContext&) -> absl::StatusOr<std::string> {
          ++probe.completed_steps_run;
          return "";
        }));
  }
  return registry.Register(kCollectStep,
                           [&probe](const StepContext&) -> absl::StatusOr<std::string> {
                             probe.collect_started = absl::Now();
                             return "";
                           });
}

// Times opening the store at `path` and resuming its workflow with `registry`.
absl::StatusOr<ResumeTimes> TimeResume(const std::string& path, const StepRegistry& registry,
                                       const ResumeProbe& probe) {
  const absl::Time opening = absl::Now();
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
                          OpenSqliteEventStore(path, SqliteOptions()));
  Engine engine(store.get(), &registry);
  CHORUS_RETURN_IF_ERROR(engine.Resume(kHistoryWorkflowId).status());
  const absl::Time resumed = absl::Now();
  if (!probe.collect_started.has_value() || probe.completed_steps_run > 0) {
    return absl::InternalError(absl::StrFormat(
        "resuming ran %d completed steps again and %s the cut-off step",
        probe.completed_steps_run.load(), probe.collect_started ? "ran" : "did not run"));
  }
  return ResumeTimes{*probe.collect_started - opening, resumed - opening};
}

// A copy of the history file to resume, leaving the original for the other measures.
absl::StatusOr<std::string> CopyToResume(const std::string& history, const BenchConfig& config) {
  CHORUS_ASSIGN_OR_RETURN(const std::string copy, config.FreshDatabase("B4.db"));
  std::error_code error;
  std::filesystem::copy_file(history, copy, error);
  if (error) return absl::InternalError(absl::StrCat("copying ", history, ": ", error.message()));
  return copy;
}

// The seq of the snapshot the run saved last in the file at `path`; 0 if it saved none.
absl::StatusOr<int64_t> SnapshotSeq(const std::string& path) {
  SqliteOptions options;
  options.read_only = true;
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, OpenSqliteEventStore(path, options));
  CHORUS_ASSIGN_OR_RETURN(const std::optional<StoredSnapshot> snapshot,
                          store->LoadSnapshot(kHistoryWorkflowId));
  return snapshot.has_value() ? snapshot->seq : 0;
}

}  // namespace

absl::Status MeasureB3(const BenchConfig& config) {
  const int64_t events = config.SizeOr(kHistoryEvents, kSmokeHistoryEvents);
  CHORUS_ASSIGN_OR_RETURN(const std::string path, EnsureHistoryFile(config.dir, events));
  // The bound is scanned just before and after the folds, and averaged.
  CHORUS_ASSIGN_OR_RETURN(const double before,
                          RawScanRate(path, kHistoryWorkflowId, events, kRepeats));
  CHORUS_ASSIGN_OR_RETURN(const absl::Duration fold, FastestFold(path, events));
  CHORUS_ASSIGN_OR_RETURN(const double after,
                          RawScanRate(path, kHistoryWorkflowId, events, kRepeats));
  const double seconds = absl::ToDoubleSeconds(fold);
  JsonLine line("B3");
  line.AddString("workload", "fold from SQLite").AddInt("events", events);
  line.AddInt("best_of", kRepeats).AddNumber("seconds", seconds);
  line.AddNumber("events_per_s", events / seconds).AddString("metric", "events_per_s");
  line.AddNumber("bound_before", before).AddNumber("bound_after", after);
  AddRatio(line, "R3", (before + after) / 2, events / seconds, 0.3);
  Emit(line);
  return absl::OkStatus();
}

absl::Status MeasureB4(const BenchConfig& config) {
  const int64_t events = config.SizeOr(kHistoryEvents, kSmokeHistoryEvents);
  CHORUS_ASSIGN_OR_RETURN(const std::string history, EnsureCrashedRunFile(config.dir, events));
  CHORUS_ASSIGN_OR_RETURN(const int64_t snapshot_seq, SnapshotSeq(history));
  CHORUS_ASSIGN_OR_RETURN(const std::string path, CopyToResume(history, config));
  ResumeProbe probe;
  StepRegistry registry;
  const absl::Time registering = absl::Now();
  CHORUS_RETURN_IF_ERROR(RegisterHistorySteps(events, probe, registry));
  const absl::Duration registry_time = absl::Now() - registering;
  const double registry_rss_mb = PeakRssMb();
  CHORUS_ASSIGN_OR_RETURN(const ResumeTimes times, TimeResume(path, registry, probe));
  const double peak_rss_mb = PeakRssMb();
  JsonLine line("B4");
  line.AddString("workload", "resume after a crash").AddInt("events", events);
  line.AddInt("snapshot_seq", snapshot_seq).AddInt("events_after_snapshot", events - snapshot_seq);
  line.AddNumber("registry_s", absl::ToDoubleSeconds(registry_time));
  line.AddNumber("registry_rss_mb", registry_rss_mb);
  line.AddNumber("open_to_first_step_s", absl::ToDoubleSeconds(times.to_first_step));
  line.AddNumber("resume_s", absl::ToDoubleSeconds(times.to_end));
  line.AddString("metric", "open_to_first_step_s");
  AddTarget(line,
            absl::StrFormat("< %g s, peak RSS < %g MB", absl::ToDoubleSeconds(kMaxOpenToFirstStep),
                            kMaxPeakRssMb),
            times.to_first_step < kMaxOpenToFirstStep && peak_rss_mb < kMaxPeakRssMb);
  Emit(line);
  return absl::OkStatus();
}

}  // namespace chorus::bench
