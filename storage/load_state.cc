#include "storage/load_state.h"

#include <memory>
#include <string>
#include <utility>

#include "event/history.h"
#include "event/internal/status_macros.h"

namespace chorus {

absl::StatusOr<WorkflowState> LoadWorkflowState(EventStore& store, absl::string_view workflow_id,
                                                int64_t up_to_seq) {
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(workflow_id, 1));
  History history{std::string(workflow_id)};
  while (stream->Next() && stream->event().seq() <= up_to_seq) {
    // Taking workflow_started moves the definition, a history's one large part, into the
    // state; other events are small, and a stream may have to copy what it gives.
    const Event& event = stream->event();
    CHORUS_RETURN_IF_ERROR(event.has_workflow_started() ? history.Apply(stream->TakeEvent())
                                                        : history.Apply(event));
  }
  CHORUS_RETURN_IF_ERROR(stream->status());
  return std::move(history).TakeState();
}

}  // namespace chorus
