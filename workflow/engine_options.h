// EngineOptions: how an Engine schedules the steps of the workflows it drives.
#ifndef CHORUS_WORKFLOW_ENGINE_OPTIONS_H_
#define CHORUS_WORKFLOW_ENGINE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "proto/event.pb.h"

namespace chorus {

enum class ScheduleMode {
  // Wait for every running step before scheduling again: given the same outcomes, the
  // history is identical on every run.
  kWave,
  // Commit whatever outcomes have been collected and start newly ready steps at once:
  // better makespan on uneven DAGs. While outcomes keep coming within microseconds of each
  // other, the engine waits for them, for at most as long as its last commit took, so that
  // steps finishing together share one commit.
  kEager,
};

struct EngineOptions {
  // Threads in the engine's pool, shared by every workflow it drives.
  int threads = 4;
  // At most this many steps of one workflow run at once; 0 means `threads`.
  int max_concurrency = 0;
  ScheduleMode mode = ScheduleMode::kEager;
  // When not empty, each attempt of a task step is given a log file path,
  // `<log_directory>/<workflow id>/<step>.<attempt>.log`, or `<step>~<visit>.<attempt>.log` for
  // a visit past the step's first (the id and the step as FileNameFor,
  // workflow/file_name.h, makes them), recorded in its step-started event and passed in its
  // StepContext. The engine creates no file; the step writes it if it wants.
  std::string log_directory;
  // Called in the driving thread after each batch of events is durably appended, with the
  // batch. Must not call back into the Engine for the same workflow.
  std::function<void(absl::string_view workflow_id, absl::Span<const Event> events)> on_commit;
  // The largest input, step output (with its state updates) a workflow may record: a step
  // whose output is larger fails with RESOURCE_EXHAUSTED instead, and Start refuses a larger
  // input with INVALID_ARGUMENT. Nothing that large reaches the database.
  size_t max_payload_bytes = 16 << 20;
  // The most events one workflow's history may hold: once the next steps could not be
  // recorded within it, the workflow fails with RESOURCE_EXHAUSTED. The events that end the
  // run still follow (at most one per step: a skip or a cancellation, and the workflow's
  // failure), so the history may end past the limit by up to the number of steps.
  int64_t max_history_events = 10'000'000;
  // How long a driver's owner lease on a workflow lasts unless renewed. The engine renews it
  // every lease_ttl / 3 while it drives the workflow; if this process dies, another driver may
  // take the workflow over once the lease lapses (or at once on this host). Must be positive.
  absl::Duration lease_ttl = absl::Seconds(15);
  // The engine saves a snapshot of a workflow's folded state beside its history
  // (EventStore::SaveSnapshot), so that resuming it folds only the events after the snapshot:
  // after a commit, once the history has grown by max(snapshot_min_events, a quarter of the
  // workflow's steps) events since the run began or last saved one. A snapshot costs time in
  // proportion to the steps, hence the quarter. A snapshot the store fails to save stops the
  // run with the store's error, as a failed append does; the workflow can then be resumed.
  // 0 saves none.
  int64_t snapshot_min_events = 10'000;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_ENGINE_OPTIONS_H_
