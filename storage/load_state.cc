#include "storage/load_state.h"

#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "event/history.h"
#include "event/internal/status_macros.h"

namespace chorus {

namespace {

// LoadWorkflowState's work; `alongside` may be null.
absl::StatusOr<WorkflowState> Load(
    EventStore& store, absl::string_view workflow_id, int64_t up_to_seq,
    const absl::FunctionRef<void(const WorkflowDefinition&)>* alongside) {
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
      CHORUS_RETURN_IF_ERROR(history.Apply(std::move(started)));
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
