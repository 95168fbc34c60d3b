// History: a workflow's event history as it is read, checked and folded one event at a time.
//
// History keeps the folded WorkflowState, not the events, so a history far larger than
// memory folds in constant space beyond the state itself. Every event is checked against the
// history invariants before it is applied:
//   - seq is contiguous from 1;
//   - workflow-started comes first and only once; nothing follows a terminal workflow event;
//   - every step event names a step of the definition;
//   - a step's completion, failure or cancellation ends its latest started attempt, with the
//     same attempt number, and only once;
//   - a step starts with the next attempt number (1, 2, 3, ...) and never after it completed
//     or was skipped; the previous attempt may have failed, been cancelled or been cut off
//     (started but never ended: a crash);
//   - only a step never started may be skipped;
//   - a step's events carry its current visit (1 when unset); a step starts its next visit
//     (visits increase by one, from attempt 1) only once its current visit completed or failed
//     for good and an edge into it was taken since that visit started;
//   - a completed or failed-for-good visit takes only edges the definition has, each once;
//   - the workflow completes only when every step is completed, skipped, or failed and either
//     non-critical or routed (its failure took an edge).
// A violation is absl::StatusCode::kDataLoss naming the workflow id and the seq; the state is
// then left as it was before the offending event.
//
//   History history("order-42");
//   for (const Event& event : events) CHORUS_RETURN_IF_ERROR(history.Apply(event));
//   const WorkflowState& state = history.state();
//
// Thread-compatible.
#ifndef CHORUS_EVENT_HISTORY_H_
#define CHORUS_EVENT_HISTORY_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "event/started_outline.h"
#include "event/workflow_state.h"
#include "proto/event.pb.h"

namespace chorus {
namespace history_internal {

// What History remembers between events only to fold faster: derived from its state, never
// part of it.
struct FoldAids {
  // The step the latest step event named. Histories mostly name that step or the one defined
  // after it (an attempt's start, then its outcome; steps started in definition order), so
  // those are tried before the index.
  int last_step = -1;
  // Whether the definition may have map steps: only then does a completion need the step's
  // definition. Known once the fold has seen workflow_started.
  bool may_have_map_steps = true;
};

}  // namespace history_internal

class History {
 public:
  explicit History(std::string workflow_id);
  // Continues folding after `state`, the fold of a history's first state.last_seq events.
  explicit History(WorkflowState state) : state_(std::move(state)) {}

  // Checks `event` against the invariants and folds it into the state. Returns DataLoss
  // (naming the workflow and seq) on a violation, leaving the state unchanged.
  absl::Status Apply(const Event& event);
  // The same, sharing what it keeps of `event` (a workflow_started event's definition) rather
  // than copying it. REQUIRES: `event` is not null.
  absl::Status Apply(std::shared_ptr<const Event> event);

  // What parses a workflow_started event elsewhere (ApplyOutline): waits for it and returns the
  // event, or why it could not be parsed.
  using StartedParse = std::function<absl::StatusOr<std::shared_ptr<const Event>>()>;

  // Begins to fold a workflow_started event from its outline (event/started_outline.h), so
  // that the events after it fold while the event itself is parsed elsewhere: checks it and
  // lays out its steps as Apply would. The rest of it (the definition, fingerprint, input and
  // created_at) folds once `parsed` returns it, which History waits for in AwaitStarted, or as
  // soon as an event needs more of the definition than the steps' names (the workflow's
  // completion, a map step's expansion, a step's completion in a definition with map steps).
  // The outline need not outlive the call.
  absl::Status ApplyOutline(const StartedOutline& outline, StartedParse parsed);
  // Waits for the event ApplyOutline began and folds the rest of it. Returns the parse's error
  // if it failed, or Internal if the event is not the one outlined; the state is then of no
  // further use. OK at once if no event is waited for.
  absl::Status AwaitStarted();

  // While ApplyOutline's event is waited for, the state lacks what the rest of it holds.
  const WorkflowState& state() const { return state_; }
  WorkflowState TakeState() && { return std::move(state_); }

 private:
  // Apply's work; `shared` owns `event` when Apply may share it, else is null.
  absl::Status Fold(const Event& event, const std::shared_ptr<const Event>& shared);

  WorkflowState state_;
  history_internal::FoldAids aids_;
  StartedParse awaited_;  // the workflow_started event ApplyOutline began; empty if none
};

// Folds `events` (the whole history, from seq 1) of workflow `workflow_id`.
// Returns DataLoss on the first invariant violation.
absl::StatusOr<WorkflowState> FoldHistory(std::string workflow_id, absl::Span<const Event> events);

}  // namespace chorus

#endif  // CHORUS_EVENT_HISTORY_H_
