// The rules every EventStore applies to an appended batch, in one place so that the stores
// agree to the word: which events a batch may hold, when the expected last seq wins, and how
// the events project onto the workflow's summary row.
#ifndef CHORUS_STORAGE_INTERNAL_APPEND_RULES_H_
#define CHORUS_STORAGE_INTERNAL_APPEND_RULES_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/event.pb.h"
#include "storage/event_store.h"

namespace chorus {

// InvalidArgument if `events` is empty.
absl::Status CheckBatchNotEmpty(absl::string_view workflow_id, absl::Span<const Event> events);

// Aborted, naming the workflow and both seqs, unless `expected_last_seq == last_seq`.
absl::Status CheckExpectedLastSeq(absl::string_view workflow_id, int64_t expected_last_seq,
                                  int64_t last_seq);

// InvalidArgument unless `event` may be appended as event number `seq`: it is numbered
// `seq`, has a kind, and is workflow_started exactly when it is the first (seq 1).
absl::Status CheckAppendedEvent(absl::string_view workflow_id, int64_t seq, const Event& event);

// The status a workflow has after `event`, if `event` sets one: RUNNING on workflow_started,
// the final status on a terminal event; nullopt on every other event.
std::optional<WorkflowStatus> StatusSetBy(const Event& event);

// Folds an appended `event` into `summary`: last_seq and updated_at always; the definition
// name, RUNNING and created_at on workflow_started; the final status on a terminal event.
void ProjectOntoSummary(const Event& event, WorkflowSummary& summary);

// InvalidArgument, naming the workflow and both seqs, unless a snapshot of the first `seq`
// events may be saved of a history of `last_seq` events: 1 <= seq <= last_seq.
absl::Status CheckSnapshotSeq(absl::string_view workflow_id, int64_t seq, int64_t last_seq);

// NotFound naming the workflow.
absl::Status WorkflowNotFound(absl::string_view workflow_id);

}  // namespace chorus

#endif  // CHORUS_STORAGE_INTERNAL_APPEND_RULES_H_
