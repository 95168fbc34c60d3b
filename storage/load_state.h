// LoadWorkflowState: a workflow's state, folded from the history an EventStore holds.
//
//   CHORUS_ASSIGN_OR_RETURN(WorkflowState state, LoadWorkflowState(*store, "order-42"));
//   if (state.status == WORKFLOW_STATUS_RUNNING) Resume(state);
#ifndef CHORUS_STORAGE_LOAD_STATE_H_
#define CHORUS_STORAGE_LOAD_STATE_H_

#include <cstdint>
#include <limits>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/workflow_state.h"
#include "proto/workflow_definition.pb.h"
#include "storage/event_store.h"

namespace chorus {

// Streams the history of `workflow_id` from `store` through History (event/history.h), one
// event at a time, and returns the state as of seq `up_to_seq` (the whole history by
// default; before any event if up_to_seq < 1). If the workflow has a snapshot of at most
// up_to_seq events (EventStore::SaveSnapshot), the state starts from it and only the events
// after it are folded; a snapshot that does not fit the history (one RestoreSnapshot refuses,
// or whose last event's seq and time are not the history's) is passed over, and every event
// folded. Returns:
//   NotFound  the store has no such workflow;
//   DataLoss  an event cannot be read, or breaks the history invariants (naming its seq);
//   other codes from the store.
// Thread-safe as far as `store` is.
absl::StatusOr<WorkflowState> LoadWorkflowState(
    EventStore& store, absl::string_view workflow_id,
    int64_t up_to_seq = std::numeric_limits<int64_t>::max());

// The whole history's state, as LoadWorkflowState, for a caller with work that needs only the
// recorded definition (validating it): `alongside` runs on a thread of its own as soon as the
// workflow_started event is read and parsed, while the history folds, and the call returns once
// both are done. `alongside` is not called if the history fails before workflow_started, and is
// called even if workflow_started itself breaks the invariants (the call then returns
// DataLoss).
absl::StatusOr<WorkflowState> LoadWorkflowState(
    EventStore& store, absl::string_view workflow_id,
    absl::FunctionRef<void(const WorkflowDefinition& definition)> alongside);

}  // namespace chorus

#endif  // CHORUS_STORAGE_LOAD_STATE_H_
