// Snapshots of a workflow's state: the fold of the first events of its history, saved beside
// it (EventStore::SaveSnapshot) so that resuming a long history folds only the events after
// the snapshot rather than all of them.
//
//   const std::string snapshot = SerializeSnapshot(history.state());
//   ...
//   History first(workflow_id);
//   CHORUS_RETURN_IF_ERROR(first.Apply(workflow_started));  // lays out the definition's steps
//   CHORUS_ASSIGN_OR_RETURN(WorkflowState state,
//                           RestoreSnapshot(snapshot, std::move(first).TakeState()));
//   History rest(std::move(state));  // folds the events after state.last_seq
//
// A snapshot holds everything a fold puts in the state but what the workflow_started event
// gives (the definition, input and creation time). Its format is proto/snapshot.proto.
#ifndef CHORUS_EVENT_SNAPSHOT_H_
#define CHORUS_EVENT_SNAPSHOT_H_

#include <string>

#include "absl/status/statusor.h"
#include "event/workflow_state.h"

namespace chorus {

// The snapshot of `state`, a fold (History) of a history's first state.last_seq events.
// REQUIRES: the fold has seen workflow_started.
std::string SerializeSnapshot(const WorkflowState& state);

// `started`, the fold of a history's workflow_started event alone, brought to the state that
// `snapshot` holds: state.last_seq and state.updated_at become the snapshot's last event's.
// Returns DataLoss naming the workflow if `snapshot` cannot be parsed, was taken of a workflow
// of another definition (fingerprint), or does not fit the definition (steps missing, a status
// out of range, an instance of a step that is not a map step, ...): a state restored here
// is one whose indices the engine may follow. Whether the snapshot fits the history's events
// is for the caller to check (its last seq and time against the event at that seq).
// `snapshot` is freed once parsed, before the state grows.
absl::StatusOr<WorkflowState> RestoreSnapshot(std::string snapshot, WorkflowState started);

}  // namespace chorus

#endif  // CHORUS_EVENT_SNAPSHOT_H_
