// The workflow state: keys with values, merged from step updates through per-key reducers.
//
// A workflow declares its keys, their reducers and initial values in its definition
// (WorkflowDefinition.state); an undeclared key is last-write-wins and initially unset. Steps
// record updates (StepCompleted.state_updates). A merge applies updates in definition order,
// so its result never depends on when steps finished.
//
//   StateValues values = InitialState(definition);
//   CHORUS_RETURN_IF_ERROR(ApplyUpdate(definition, update, values));
//
// Thread-compatible.
#ifndef CHORUS_EVENT_STATE_H_
#define CHORUS_EVENT_STATE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/event.pb.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

struct WorkflowState;

// Ordered by key, so that printing it is deterministic.
using StateValues = std::map<std::string, Value>;

// The reducer `definition` declares for `key`; REDUCER_UNSPECIFIED (last write wins) if none.
Reducer ReducerOf(const WorkflowDefinition& definition, absl::string_view key);

// InvalidArgument, naming the key, unless `value` suits `reducer`: sum, min and max take
// numbers; append takes text (one item) or a list; last-write-wins takes any value.
absl::Status CheckUpdate(Reducer reducer, absl::string_view key, const Value& value);

// InvalidArgument, naming the key, unless the text of `value` (its text, or each item of its
// list) is valid UTF-8: state values are text, which history and state.json must be able to
// hold (event/text.h). Bytes belong in a step's output.
absl::Status CheckValueText(absl::string_view key, const Value& value);

// Merges `update` into `values` by its key's reducer in `definition`. InvalidArgument as
// CheckUpdate, leaving `values` unchanged.
absl::Status ApplyUpdate(const WorkflowDefinition& definition, const StateUpdate& update,
                         StateValues& values);

// The declared initial values.
StateValues InitialState(const WorkflowDefinition& definition);

// The initial state plus the recorded updates of `steps` (indices into state.steps), merged in
// the order given. Updates were checked when recorded; one that does not apply is skipped.
StateValues MergeState(const WorkflowState& state, absl::Span<const int> steps);

// Steps in the order their updates merge: definition order, each map step's instances (in
// index order) right after it.
std::vector<int> MergeOrder(const WorkflowState& state);

// The initial state and the updates of every completed step (of each of its completed visits),
// merged in MergeOrder: the workflow's state so far, and its final state once it has completed.
StateValues CompletedState(const WorkflowState& state);

// "42", "\"text\"", "[\"a\", \"b\"]": a value as the CLI and shell steps show it (JSON).
std::string ValueToJson(const Value& value);

}  // namespace chorus

#endif  // CHORUS_EVENT_STATE_H_
