// StartedOutline: what a fold needs first of a workflow_started event, its seq and its steps'
// names, read off the serialized event without parsing it.
//
// A 500,000-step definition parses into about 100 MB of small objects, most of the time a fold
// of a large history takes; its names read off the bytes in a few milliseconds. So
// LoadWorkflowState (storage/load_state.h) lays a large workflow's steps out from the outline
// (History::ApplyOutline) and folds the events after it while another thread parses the event.
//
//   std::optional<StartedOutline> outline = ReadStartedOutline(row);
//   if (outline.has_value()) CHORUS_RETURN_IF_ERROR(history.ApplyOutline(*outline, parsed));
//
// Thread-compatible.
#ifndef CHORUS_EVENT_STARTED_OUTLINE_H_
#define CHORUS_EVENT_STARTED_OUTLINE_H_

#include <cstdint>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace chorus {

struct StartedOutline {
  int64_t seq = 0;
  int steps = 0;  // in the definition
  // Whether a step of the definition is a map step (has map_over).
  bool has_map_steps = false;
  absl::string_view serialized;  // the event outlined

  // Calls `on_name` with each step's name in definition order: views of `serialized`. (They
  // are read again rather than kept: 500,000 views would take 8 MB.)
  void ForEachStepName(absl::FunctionRef<void(absl::string_view name)> on_name) const;
};

// The outline of `serialized`, an Event, if it is a workflow_started event (no other kind
// field) of at most INT_MAX bytes whose steps' names are valid UTF-8; nullopt otherwise. Parsing an event whose outline this
// returns either fails or gives a workflow_started event with the outline's seq, steps' names
// and map steps. The outline views `serialized`.
std::optional<StartedOutline> ReadStartedOutline(absl::string_view serialized);

}  // namespace chorus

#endif  // CHORUS_EVENT_STARTED_OUTLINE_H_
