#include "storage/internal/large_event.h"

#include <utility>

#include "google/protobuf/arena.h"

namespace chorus {

std::shared_ptr<Event> NewLargeEvent() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 8 << 20;
  auto arena = std::make_shared<google::protobuf::Arena>(options);
  Event* event = google::protobuf::Arena::CreateMessage<Event>(arena.get());
  return std::shared_ptr<Event>(std::move(arena), event);
}

}  // namespace chorus
