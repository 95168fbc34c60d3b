#include "workflow/internal/resource_pool.h"

#include <algorithm>

namespace chorus {

std::optional<std::string> ResourcePool::TakeAll(const Names& locks) {
  for (const std::string& lock : locks) {
    if (held_[lock] >= Capacity(lock)) return lock;
  }
  for (const std::string& lock : locks) ++held_[lock];
  return std::nullopt;
}

void ResourcePool::Release(const Names& locks) {
  for (const std::string& lock : locks) --held_[lock];
}

int ResourcePool::Capacity(const std::string& resource) const {
  for (const Resource& declared : definition_.resources()) {
    if (declared.name() == resource) return std::max(declared.capacity(), 1);
  }
  return 1;
}

}  // namespace chorus
