#include "storage/load_state.h"

#include <cstddef>
#include <cstdint>
#include <future>
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
#include "event/started_outline.h"

namespace chorus {

namespace {

// A first event this large (a workflow_started event with a definition of tens of thousands of
// steps) is parsed on a thread of its own while this one lays out the steps from its outline
// (event/started_outline.h) and folds the events after it.
constexpr size_t kParseBesideBytes = 1 << 20;

// Brings `history`, which has folded the workflow_started event `started` alone, to the state
// of `snapshot` and returns the events after it; or returns null, with `history` as it was, if
// the snapshot does not fit the history (RestoreSnapshot refuses it, or the history's event at
// its seq is not the one it folded last). REQUIRES: 1 < snapshot.seq <= the seq folded up to.
absl::StatusOr<std::unique_ptr<EventStream>> SkipToSnapshot(
    EventStore& store, StoredSnapshot snapshot, const std::shared_ptr<const Event>& started,
    History& history) {
  const std::string workflow_id = history.state().workflow_id;
  absl::StatusOr<WorkflowState> restored =
      RestoreSnapshot(std::move(snapshot.state), std::move(history).TakeState());
  std::unique_ptr<EventStream> rest;
  if (restored.ok() && restored->last_seq == snapshot.seq) {
    CHORUS_ASSIGN_OR_RETURN(rest, store.Read(workflow_id, snapshot.seq));
    const bool fits = rest->Next() && rest->event().seq() == snapshot.seq &&
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

// Parses `unparsed` on `beside`, and then runs `alongside` (if not null) on its definition.
// Returns what waits for the parse.
History::StartedParse ParseBeside(
    const UnparsedEvent& unparsed,
    const absl::FunctionRef<void(const WorkflowDefinition&)>* alongside, std::thread& beside) {
  using Parsed = absl::StatusOr<std::shared_ptr<const Event>>;
  auto parsed = std::make_shared<std::promise<Parsed>>();
  std::shared_future<Parsed> waited = parsed->get_future().share();
  beside = std::thread([parse = unparsed.parse, parsed, alongside]() mutable {
    const Parsed event = parse();
    parse = nullptr;  // and with it the event's bytes
    parsed->set_value(event);
    if (alongside != nullptr && event.ok() && (*event)->has_workflow_started()) {
      (*alongside)((*event)->workflow_started().definition());
    }
  });
  return [waited] { return waited.get(); };
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
  const bool may_skip_to_snapshot =
      snapshot.has_value() && snapshot->seq > 1 && snapshot->seq <= up_to_seq;
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(workflow_id, 1));
  History history{std::string(workflow_id)};
  // Runs beside this thread, from the moment the workflow_started event is read: the parse of a
  // large one, then `alongside` on its definition, which nothing changes, while this thread lays
  // out the steps and folds the rest of the history.
  std::thread beside;
  const absl::Status folded = [&]() -> absl::Status {
    std::optional<UnparsedEvent> unparsed;
    const size_t parse_beside_bytes = up_to_seq >= 1 ? kParseBesideBytes : SIZE_MAX;
    for (bool more = stream->NextLeavingLargeUnparsed(parse_beside_bytes, &unparsed); more;
         more = stream->Next()) {
      // Sharing workflow_started gives the state its definition, a history's one large part,
      // without a copy; other events are small, and a stream may have to copy what it shares.
      std::shared_ptr<const Event> started;
      if (unparsed.has_value()) {
        const History::StartedParse parsed = ParseBeside(*unparsed, alongside, beside);
        // The outline views the event's bytes, which the parse may be done with first.
        const std::shared_ptr<const std::string> serialized = std::move(unparsed->serialized);
        unparsed.reset();
        const std::optional<StartedOutline> outline = ReadStartedOutline(*serialized);
        if (!outline.has_value()) {
          CHORUS_ASSIGN_OR_RETURN(started, parsed());
          CHORUS_RETURN_IF_ERROR(history.Apply(started));
        } else {
          CHORUS_RETURN_IF_ERROR(history.ApplyOutline(*outline, parsed));
          if (!may_skip_to_snapshot) continue;
          CHORUS_RETURN_IF_ERROR(history.AwaitStarted());
          CHORUS_ASSIGN_OR_RETURN(started, parsed());
        }
      } else {
        const Event& event = stream->event();
        if (event.seq() > up_to_seq) break;
        if (!event.has_workflow_started()) {
          CHORUS_RETURN_IF_ERROR(history.Apply(event));
          continue;
        }
        started = stream->ShareEvent();
        if (alongside != nullptr && !beside.joinable()) {
          beside = std::thread(
              [started, alongside] { (*alongside)(started->workflow_started().definition()); });
        }
        CHORUS_RETURN_IF_ERROR(history.Apply(started));
      }
      if (may_skip_to_snapshot && history.state().last_seq == 1) {
        CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> rest,
                                SkipToSnapshot(store, *std::move(snapshot), started, history));
        if (rest != nullptr) stream = std::move(rest);
      }
    }
    CHORUS_RETURN_IF_ERROR(stream->status());
    return history.AwaitStarted();
  }();
  if (beside.joinable()) beside.join();
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
