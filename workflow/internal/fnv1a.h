// Fnv1a: the 64-bit FNV-1a hash, for values that must not change between versions or
// machines (a definition's fingerprint is recorded in history; a shortened file name must name
// the same file after an upgrade). absl::Hash may change with every process.
//
//   Fnv1a hash;
//   hash.Add("workflow");
//   hash.Add("step");
//   std::string hex = absl::StrFormat("%016x", hash.hash());
//
// Internal to the workflow module. Thread-compatible.
#ifndef CHORUS_WORKFLOW_INTERNAL_FNV1A_H_
#define CHORUS_WORKFLOW_INTERNAL_FNV1A_H_

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace chorus {

class Fnv1a {
 public:
  // Adds `field`, length-prefixed, so that ("ab", "c") and ("a", "bc") hash differently.
  void Add(absl::string_view field) {
    AddBytes(absl::StrCat(field.size(), ":"));
    AddBytes(field);
  }
  uint64_t hash() const { return hash_; }

 private:
  void AddBytes(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_FNV1A_H_
