// An EventStore kept in memory: for tests, and for embedders that need no durability.
// Same contract as every EventStore (storage/event_store.h); thread-safe.
#ifndef CHORUS_STORAGE_MEMORY_EVENT_STORE_H_
#define CHORUS_STORAGE_MEMORY_EVENT_STORE_H_

#include <memory>

#include "storage/event_store.h"

namespace chorus {

std::unique_ptr<EventStore> NewMemoryEventStore();

}  // namespace chorus

#endif  // CHORUS_STORAGE_MEMORY_EVENT_STORE_H_
