#include "storage/load_state.h"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "event/events.h"
#include "event/history.h"
#include "event/internal/status_macros.h"
#include "event/snapshot.h"

namespace chorus {

namespace {

// The events after `snapshot`, the workflow's, if it is of more than one event and at most
// `up_to_seq`, with `history` brought to its state; or null, with `history` as it was, if there
// is no such snapshot or it does not fit the history (RestoreSnapshot refuses it, or the
// history's event at its seq is not the one it folded last). `history` has folded the
// workflow_started event `started` alone.
absl::StatusOr<std::unique_ptr<EventStream>> SkipToSnapshot(
    EventStore& store, std::optional<StoredSnapshot> snapshot, int64_t up_to_seq,
    const std::shared_ptr<const Event>& started, History& history) {
  const std::string workflow_id = history.state().workflow_id;
  if (!snapshot.has_value() || snapshot->seq <= 1 || snapshot->seq > up_to_seq) return nullptr;
  absl::StatusOr<WorkflowState> restored =
      RestoreSnapshot(std::move(snapshot->state), std::move(history).TakeState());
  std::unique_ptr<EventStream> rest;
  if (restored.ok() && restored->last_seq == snapshot->seq) {
    CHORUS_ASSIGN_OR_RETURN(rest, store.Read(workflow_id, snapshot->seq));
    const bool fits = rest->Next() && rest->event().seq() == snapshot->seq &&
                      RecordedAt(rest->event()) == restored->updated_at;
    CHORUS_RETURN_IF_ERROR(rest->status());
    if (fits) {
      history = History(*std::move(restored));
      return rest;
    }
  }
  history = History(workflow_id);
  CHORUS_RETURN_IF_ERROR(history.Apply(started));
  return nullptr;
}

// LoadWorkflowState's work; `alongside` may be null.
absl::StatusOr<WorkflowState> Load(
    EventStore& store, absl::string_view workflow_id, int64_t up_to_seq,
    const absl::FunctionRef<void(const WorkflowDefinition&)>* alongside) {
  // Read first, while the process holds little: reading a row of megabytes takes two copies of
  // it for a moment.
  // A state of at most one event needs none (`chorus verify` asks for that one).
  std::optional<StoredSnapshot> snapshot;
  if (up_to_seq > 1) {
    CHORUS_ASSIGN_OR_RETURN(snapshot, store.LoadSnapshot(workflow_id));
  }
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(workflow_id, 1));
  History history{std::string(workflow_id)};
  // Runs `alongside` on the definition of the workflow_started event, which nothing changes,
  // from the moment the event is read: while this thread lays out the steps and folds the rest
  // of the history.
  std::thread alongside_thread;
  const absl::Status folded = [&]() -> absl::Status {
    while (stream->Next() && stream->event().seq() <= up_to_seq) {
      // Sharing workflow_started gives the state its definition, a history's one large part,
      // without a copy; other events are small, and a stream may have to copy what it shares.
      const Event& event = stream->event();
      if (!event.has_workflow_started()) {
        CHORUS_RETURN_IF_ERROR(history.Apply(event));
        continue;
      }
      std::shared_ptr<const Event> started = stream->ShareEvent();
      if (alongside != nullptr && !alongside_thread.joinable()) {
        alongside_thread = std::thread(
            [started, alongside] { (*alongside)(started->workflow_started().definition()); });
      }
      CHORUS_RETURN_IF_ERROR(history.Apply(started));
      if (up_to_seq > 1 && history.state().last_seq == 1) {
        CHORUS_ASSIGN_OR_RETURN(
            std::unique_ptr<EventStream> rest,
            SkipToSnapshot(store, std::move(snapshot), up_to_seq, started, history));
        if (rest != nullptr) stream = std::move(rest);
      }
    }
    return stream->status();
  }();
  if (alongside_thread.joinable()) alongside_thread.join();
  CHORUS_RETURN_IF_ERROR(folded);
  return std::move(history).TakeState();
}

}  // namespace

absl::StatusOr<WorkflowState> LoadWorkflowState(EventStore& store, absl::string_view workflow_id,
                                                int64_t up_to_seq) {
  return Load(store, workflow_id, up_to_seq, /*alongside=*/nullptr);
}

absl::StatusOr<WorkflowState> LoadWorkflowState(
    EventStore& store, absl::string_view workflow_id,
    absl::FunctionRef<void(const WorkflowDefinition& definition)> alongside) {
  return Load(store, workflow_id, std::numeric_limits<int64_t>::max(), &alongside);
}

}  // namespace chorus
