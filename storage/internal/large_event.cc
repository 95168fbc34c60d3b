#include "storage/internal/large_event.h"

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "event/internal/huge_pages.h"
#include "google/protobuf/arena.h"

namespace chorus {
namespace {

// Blocks smaller than a huge page come from the heap. Larger ones are mapped on their own,
// aligned to a huge page, so that unmapping them gives their memory back at once.
void* AllocateBlock(size_t bytes) {
  if (bytes < kHugePageBytes) return ::operator new(bytes);
  const size_t mapped = bytes + kHugePageBytes;
  void* map = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(map);
  const uintptr_t block = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t end = start + mapped;
  if (block > start) munmap(map, block - start);
  if (end > block + bytes) munmap(reinterpret_cast<void*>(block + bytes), end - (block + bytes));
  AdviseHugePages(reinterpret_cast<void*>(block), bytes);
  return reinterpret_cast<void*>(block);
}

void FreeBlock(void* block, size_t bytes) {
  if (bytes < kHugePageBytes) {
    ::operator delete(block);
  } else {
    munmap(block, bytes);
  }
}

}  // namespace

std::shared_ptr<Event> NewLargeEvent() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 8 << 20;
  options.block_alloc = AllocateBlock;
  options.block_dealloc = FreeBlock;
  auto arena = std::make_shared<google::protobuf::Arena>(options);
  Event* event = google::protobuf::Arena::CreateMessage<Event>(arena.get());
  return std::shared_ptr<Event>(std::move(arena), event);
}

}  // namespace chorus
