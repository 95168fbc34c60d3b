// StepNameIndex: finds a workflow's steps by name.
//
// The names themselves live with the steps; the index keeps 32 bits of each name's hash and the
// step's position, and asks the caller for the name at a position (`name_of`) to confirm a
// match. A name whose hash an earlier name already has is kept whole, aside (a 500,000-step
// workflow has a few dozen). Its index then takes about 9 MB instead of about 42 MB for a map
// of names, and builds in about a third of the time.
//
//   StepNameIndex index;
//   auto name_of = [&](int i) -> absl::string_view { return steps[i].name; };
//   if (!index.Add(0, name_of)) { /* a step of that name is indexed already */ }
//   int position = index.Find("fetch", name_of);  // -1 if there is none
//
// Thread-compatible.
#ifndef CHORUS_EVENT_STEP_NAME_INDEX_H_
#define CHORUS_EVENT_STEP_NAME_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace chorus {

// `NameHash` is replaceable for tests, which make names collide.
template <typename NameHash = absl::Hash<absl::string_view>>
class BasicStepNameIndex {
 public:
  void Reserve(size_t steps) { by_hash_.reserve(steps); }

  // Indexes position `index`, named `name_of(index)`. False, indexing nothing, if a position of
  // that name is indexed already.
  template <typename NameOf>
  bool Add(int index, const NameOf& name_of) {
    const absl::string_view name = name_of(index);
    const auto [it, added] = by_hash_.try_emplace(Hash32(name), index);
    if (added) return true;
    if (name_of(it->second) == name) return false;
    return colliding_.try_emplace(std::string(name), index).second;
  }

  // Starts loading the part of the index where `name` is or would go, for a Find or Add of it
  // soon after. The index of a large workflow is larger than the CPU's caches: a loop over
  // many names that prefetches kPrefetchAhead names ahead runs two to three times as fast.
  void Prefetch(absl::string_view name) const { by_hash_.prefetch(Hash32(name)); }
  static constexpr int kPrefetchAhead = 16;

  // The position of the step named `name`, or -1.
  template <typename NameOf>
  int Find(absl::string_view name, const NameOf& name_of) const {
    const auto it = by_hash_.find(Hash32(name));
    if (it == by_hash_.end()) return -1;
    if (name_of(it->second) == name) return it->second;
    const auto aside = colliding_.find(name);
    return aside == colliding_.end() ? -1 : aside->second;
  }

 private:
  static uint32_t Hash32(absl::string_view name) { return static_cast<uint32_t>(NameHash()(name)); }

  // The first name of each hash.
  absl::flat_hash_map<uint32_t, int> by_hash_;
  // Names whose hash an earlier name has, whole.
  absl::flat_hash_map<std::string, int> colliding_;
};

using StepNameIndex = BasicStepNameIndex<>;

}  // namespace chorus

#endif  // CHORUS_EVENT_STEP_NAME_INDEX_H_
