// Engine: the library's entry point. Starts, resumes, inspects and cancels workflows whose
// histories live in an EventStore and whose steps are functions in a StepRegistry.
//
//   StepRegistry registry;
//   registry.Register("fetch", Fetch);
//   registry.Register("parse", Parse);
//   CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
//                           OpenSqliteEventStore("chorus.db", SqliteOptions()));
//   Engine engine(store.get(), &registry);
//   WorkflowDefinition definition =
//       DefinitionBuilder("ingest").Step("fetch").Step("parse", {"fetch"}).Build();
//   absl::StatusOr<WorkflowState> result = engine.Run("ingest-2026-11-21", definition, input);
//
// Run, Start and Resume drive the workflow in the calling thread until it ends; its steps run
// on the engine's thread pool, except that a step that runs alone (no other step running or
// waiting to retry) and has no timeout runs in the calling thread. After a crash, calling Run (or
// Resume) again with the same id runs only what the history shows unfinished: steps cut off mid-run
// run again as their next attempt; completed steps never run again and their recorded outputs are
// reused.
//
// Only one driver at a time: a run first takes the workflow's owner lease in the store
// (EventStore::AcquireLease) for this Engine (a random owner id), host and pid, renews it every
// EngineOptions::lease_ttl / 3 and releases it when it ends, also on error. A second driver, in
// this process or another, is refused with FailedPrecondition naming the owner, host and pid.
// When a driver dies without releasing, another may take over once the lease lapses, or at
// once if it runs on the same host and the owner's pid is gone. A run that loses its lease
// (another driver took it over after it lapsed) stops at once, appends nothing more, and
// returns Aborted saying so.
//
// Thread-safe: several threads may drive different workflows on one Engine at once.
#ifndef CHORUS_WORKFLOW_ENGINE_H_
#define CHORUS_WORKFLOW_ENGINE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/internal/mutex.h"
#include "event/workflow_state.h"
#include "proto/workflow_definition.pb.h"
#include "storage/event_store.h"
#include "workflow/cancellation.h"
#include "workflow/definition.h"
#include "workflow/engine_options.h"
#include "workflow/executor.h"
#include "workflow/step_registry.h"

namespace chorus {

class Engine {
 public:
  // `store` and `registry` must outlive the Engine. No thread outlives the Engine.
  Engine(EventStore* store, const StepRegistry* registry, EngineOptions options = {});
  // REQUIRES: no call is still driving a workflow.
  ~Engine() = default;

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts workflow `id` and drives it to its end. If `id` already exists with the same
  // definition, resumes it (with its recorded input) instead: starting is idempotent.
  // `cancellation`, when cancelled, cancels the run (as Cancel does).
  // Returns the final state when the workflow completes, and otherwise:
  //   InvalidArgument     an invalid definition (every problem listed), an id for a new
  //                       workflow that is not a name (CheckName, event/text.h: empty, not
  //                       UTF-8, or with a control character), or a log directory
  //                       (EngineOptions) that is not valid UTF-8;
  //   FailedPrecondition  `id` exists with a different definition (what changed, listed), or
  //                       is being driven already (by this engine, or by the owner of a live
  //                       lease, named in the message);
  //   Aborted             the run lost its lease to another driver and stopped;
  //   Cancelled           the workflow was cancelled (and is recorded so);
  //   the failing step's code, when a step failed (the workflow is recorded as failed);
  //   a step's error marked as the driver's own fault (IsDriverFault, workflow/step_registry.h):
  //                       the run stopped without recording that attempt's outcome; the
  //                       workflow is unfinished, and resuming it runs the attempt again;
  //   the store's error, when history could not be written or read.
  absl::StatusOr<WorkflowState> Start(absl::string_view id, const WorkflowDefinition& definition,
                                      absl::string_view input,
                                      CancellationToken cancellation = CancellationToken())
      ABSL_LOCKS_EXCLUDED(mu_);

  // Start or resume: the same as Start, for call sites that read better so.
  absl::StatusOr<WorkflowState> Run(absl::string_view id, const WorkflowDefinition& definition,
                                    absl::string_view input,
                                    CancellationToken cancellation = CancellationToken())
      ABSL_LOCKS_EXCLUDED(mu_) {
    return Start(id, definition, input, std::move(cancellation));
  }

  // Continues workflow `id` with the definition recorded in its history. A workflow that
  // already ended returns its recorded result and runs nothing. NotFound if there is no such
  // workflow; otherwise as Start.
  absl::StatusOr<WorkflowState> Resume(absl::string_view id,
                                       CancellationToken cancellation = CancellationToken())
      ABSL_LOCKS_EXCLUDED(mu_);

  // The state of workflow `id` as its history records it; runs nothing. NotFound if absent,
  // DataLoss if the history breaks an invariant.
  absl::StatusOr<WorkflowState> GetState(absl::string_view id);

  // Cancels workflow `id`. If this engine is driving it, its running steps are cancelled and
  // the run records the cancellation and returns Cancelled. Otherwise the cancellation is
  // recorded directly (attempts left running by a crash are recorded as cancelled first),
  // under the workflow's lease. NotFound if absent; FailedPrecondition if it already ended, or
  // if another driver holds a live lease on it (the message names the owner).
  absl::Status Cancel(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class ActiveRun;
  // What Start asks to drive: a definition it validated, the graph it found, and the input.
  struct StartRequest {
    const WorkflowDefinition& definition;
    DefinitionGraph graph;
    absl::string_view input;
  };
  // `start` is null when resuming with the recorded definition.
  absl::StatusOr<WorkflowState> Drive(absl::string_view id, StartRequest* start,
                                      CancellationToken cancellation) ABSL_LOCKS_EXCLUDED(mu_);
  // Drive's work once it holds the lease; `store` is the lease's guarded view of store_.
  absl::StatusOr<WorkflowState> DriveHoldingLease(EventStore& store, absl::string_view id,
                                                  StartRequest* start, CancellationToken run_token);
  // Cancel's work when no run of this engine drives `id`, once it holds the lease.
  absl::Status RecordCancellationHoldingLease(EventStore& store, absl::string_view id,
                                              CancellationToken cancelled);

  // Constant after construction.
  EventStore* const store_;
  const StepRegistry* const registry_;
  const EngineOptions options_;
  const std::string lease_owner_id_;  // random: this engine's identity in leases
  Executor executor_;

  Mutex mu_;
  // The workflows being driven by this engine, with the token that cancels each run.
  absl::flat_hash_map<std::string, CancellationToken> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_ENGINE_H_
