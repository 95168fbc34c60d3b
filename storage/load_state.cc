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
  // Runs `alongside`. It reads the definition while this thread folds on: folding never
  // changes the definition after workflow_started, nor moves it until the state is taken.
  std::thread alongside_thread;
  const absl::Status folded = [&]() -> absl::Status {
    while (stream->Next() && stream->event().seq() <= up_to_seq) {
      // Taking workflow_started moves the definition, a history's one large part, into the
      // state; other events are small, and a stream may have to copy what it gives.
      const Event& event = stream->event();
      if (!event.has_workflow_started()) {
        CHORUS_RETURN_IF_ERROR(history.Apply(event));
        continue;
      }
      CHORUS_RETURN_IF_ERROR(history.Apply(stream->TakeEvent()));
      if (alongside != nullptr) {
        alongside_thread =
            std::thread([&history, alongside] { (*alongside)(history.state().definition); });
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
