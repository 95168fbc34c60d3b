// NewLargeEvent: an Event to parse a large row into (a workflow_started event holding a whole
// definition), on a protobuf arena of its own.
//
//   std::shared_ptr<Event> event = NewLargeEvent();
//   if (!event->ParseFromArray(body.data(), body.size())) ...;
//   state.set_definition({event, &event->workflow_started().definition()});
//
// A 500,000-step definition parses into about 100 MB of small objects. On the arena they cost
// no allocation each. The arena does not ask for transparent huge pages: where a virtual
// machine hands freed memory back to its host, faulting in fresh huge pages took several times
// as long as small ones (see B4 in tools/bench/README.md). Internal to the SQLite store.
#ifndef CHORUS_STORAGE_INTERNAL_LARGE_EVENT_H_
#define CHORUS_STORAGE_INTERNAL_LARGE_EVENT_H_

#include <memory>

#include "proto/event.pb.h"

namespace chorus {

// An empty event that keeps its arena alive as long as it is shared. Thread-safe.
std::shared_ptr<Event> NewLargeEvent();

}  // namespace chorus

#endif  // CHORUS_STORAGE_INTERNAL_LARGE_EVENT_H_
