#include "workflow/file_name.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "workflow/internal/fnv1a.h"

namespace chorus {
namespace {

// "~" and the hash's 16 hex digits.
constexpr size_t kHashSuffixBytes = 17;

// The length of the longest prefix of `encoded` of at most `max_bytes` that does not end
// inside a "%XX".
size_t WholeEscapesPrefix(absl::string_view encoded, size_t max_bytes) {
  size_t end = 0;
  while (end < encoded.size()) {
    const size_t next = end + (encoded[end] == '%' ? 3 : 1);
    if (next > max_bytes) break;
    end = next;
  }
  return end;
}

}  // namespace

std::string FileNameFor(absl::string_view name) {
  if (name.empty()) return "%";
  std::string encoded;
  encoded.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (absl::ascii_isalnum(c) || c == '_' || c == '-' || (c == '.' && i > 0)) {
      encoded.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&encoded, "%%%02X", c);
    }
  }
  if (encoded.size() <= kMaxFileNameBytes) return encoded;
  Fnv1a hash;
  hash.Add(name);
  encoded.resize(WholeEscapesPrefix(encoded, kMaxFileNameBytes - kHashSuffixBytes));
  absl::StrAppendFormat(&encoded, "~%016x", hash.hash());
  return encoded;
}

}  // namespace chorus
