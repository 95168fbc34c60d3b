#include "workflow/engine.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "event/internal/status_macros.h"
#include "event/text.h"
#include "storage/load_state.h"
#include "workflow/definition.h"
#include "workflow/internal/coordinator.h"
#include "workflow/internal/lease_keeper.h"

namespace chorus {
namespace {

constexpr absl::string_view kCancelledByRequest = "cancelled by request";

absl::Status NondeterminismError(absl::string_view id, const WorkflowState& recorded,
                                 const WorkflowDefinition& current) {
  std::vector<std::string> changes = DescribeChanges(recorded.definition(), current);
  if (changes.empty()) {
    changes.push_back(absl::StrCat("fingerprint changed: expected ", recorded.fingerprint,
                                   ", found ", Fingerprint(current)));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("workflow '", id,
                   "' was started with a different definition (nondeterminism); "
                   "it cannot continue with this one:\n  ",
                   absl::StrJoin(changes, "\n  ")));
}

}  // namespace

// Marks a workflow as driven by this engine for the lifetime of the object.
class Engine::ActiveRun {
 public:
  // Returns FailedPrecondition if `id` is being driven already.
  static absl::StatusOr<std::unique_ptr<ActiveRun>> Begin(Engine* engine, absl::string_view id,
                                                          CancellationToken token)
      ABSL_LOCKS_EXCLUDED(engine->mu_) {
    MutexLock lock(&engine->mu_);
    if (!engine->active_.emplace(id, std::move(token)).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("workflow '", id, "' is already being driven by this engine"));
    }
    return std::unique_ptr<ActiveRun>(new ActiveRun(engine, id));
  }

  ~ActiveRun() ABSL_LOCKS_EXCLUDED(engine_->mu_) {
    MutexLock lock(&engine_->mu_);
    engine_->active_.erase(id_);
  }

 private:
  ActiveRun(Engine* engine, absl::string_view id) : engine_(engine), id_(id) {}

  Engine* const engine_;
  const std::string id_;
};

Engine::Engine(EventStore* store, const StepRegistry* registry, EngineOptions options)
    : store_(store),
      registry_(registry),
      options_(options),
      lease_owner_id_(NewLeaseOwnerId()),
      executor_(options.threads) {}

absl::StatusOr<WorkflowState> Engine::Start(absl::string_view id,
                                            const WorkflowDefinition& definition,
                                            absl::string_view input,
                                            CancellationToken cancellation) {
  CHORUS_ASSIGN_OR_RETURN(DefinitionGraph graph, ValidateDefinitionGraph(definition, registry_));
  StartRequest start{definition, std::move(graph), input};
  return Drive(id, &start, std::move(cancellation));
}

absl::StatusOr<WorkflowState> Engine::Resume(absl::string_view id, CancellationToken cancellation) {
  return Drive(id, /*start=*/nullptr, std::move(cancellation));
}

absl::StatusOr<WorkflowState> Engine::Drive(absl::string_view id, StartRequest* start,
                                            CancellationToken cancellation) {
  if (!IsValidUtf8(options_.log_directory)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the log directory \"", TerminalText(options_.log_directory),
                     "\" is not valid UTF-8: history could not record the log paths in it"));
  }
  CancellationToken run_token = CancellationToken::ChildOf(cancellation);
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<ActiveRun> active, ActiveRun::Begin(this, id, run_token));
  CHORUS_ASSIGN_OR_RETURN(
      std::unique_ptr<LeaseKeeper> lease,
      LeaseKeeper::Acquire(*store_, id, lease_owner_id_, options_.lease_ttl, run_token));
  absl::StatusOr<WorkflowState> result =
      DriveHoldingLease(lease->store(), id, start, std::move(run_token));
  CHORUS_RETURN_IF_ERROR(lease->Release(result.status()));
  return result;
}

// The history is read only now, under the lease: a previous driver may have appended to it
// until it let the lease go.
absl::StatusOr<WorkflowState> Engine::DriveHoldingLease(EventStore& store, absl::string_view id,
                                                        StartRequest* start,
                                                        CancellationToken run_token) {
  Coordinator coordinator(store, executor_, options_, std::move(run_token));
  // The recorded definition's own graph (an equal fingerprint allows another order of
  // dependencies, and that order is the order of a step's dependency outputs), worked out
  // while the rest of the history folds.
  std::optional<absl::StatusOr<DefinitionGraph>> graph;
  absl::StatusOr<WorkflowState> recorded =
      LoadWorkflowState(store, id, [&](const WorkflowDefinition& recorded_definition) {
        graph = ValidateRecordedDefinitionGraph(recorded_definition, registry_);
      });
  if (absl::IsNotFound(recorded.status()) && start != nullptr) {
    return coordinator.Start(id, start->definition, start->input, std::move(start->graph));
  }
  if (!recorded.ok()) return recorded.status();
  if (start != nullptr && recorded->fingerprint != Fingerprint(start->definition)) {
    return NondeterminismError(id, *recorded, start->definition);
  }
  if (!graph.has_value()) {  // damage: a store only begins a history with workflow_started
    return absl::DataLossError(
        absl::StrCat("workflow '", id, "': its history has no workflow_started event"));
  }
  if (!graph->ok()) return graph->status();
  return coordinator.Resume(*std::move(recorded), **std::move(graph));
}

absl::StatusOr<WorkflowState> Engine::GetState(absl::string_view id) {
  return LoadWorkflowState(*store_, id);
}

absl::Status Engine::Cancel(absl::string_view id) {
  {
    MutexLock lock(&mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      it->second.Cancel(kCancelledByRequest);
      return absl::OkStatus();
    }
  }
  // Nobody here drives it: a run that starts already cancelled records the cancellation.
  CancellationToken cancelled;
  cancelled.Cancel(kCancelledByRequest);
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<ActiveRun> active, ActiveRun::Begin(this, id, cancelled));
  CHORUS_ASSIGN_OR_RETURN(
      std::unique_ptr<LeaseKeeper> lease,
      LeaseKeeper::Acquire(*store_, id, lease_owner_id_, options_.lease_ttl, cancelled));
  return lease->Release(RecordCancellationHoldingLease(lease->store(), id, std::move(cancelled)));
}

absl::Status Engine::RecordCancellationHoldingLease(EventStore& store, absl::string_view id,
                                                    CancellationToken cancelled) {
  CHORUS_ASSIGN_OR_RETURN(WorkflowState state, LoadWorkflowState(store, id));
  if (state.status != WORKFLOW_STATUS_RUNNING) {
    return absl::FailedPreconditionError(
        absl::StrCat("workflow '", id, "' has already ended: ", WorkflowStatus_Name(state.status)));
  }
  // A run that starts cancelled starts no step: it needs no functions.
  CHORUS_ASSIGN_OR_RETURN(DefinitionGraph graph, ValidateRecordedDefinitionGraph(
                                                     state.definition(), /*registry=*/nullptr));
  Coordinator coordinator(store, executor_, options_, std::move(cancelled));
  absl::Status result = coordinator.Resume(std::move(state), std::move(graph)).status();
  return absl::IsCancelled(result) ? absl::OkStatus() : result;
}

}  // namespace chorus
