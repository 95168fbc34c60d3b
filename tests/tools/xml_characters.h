// A check of the characters of an XML document, for the tests of what chorus writes as SVG
// and HTML: the part of well-formedness that names from outside can break.
#ifndef CHORUS_TESTS_TOOLS_XML_CHARACTERS_H_
#define CHORUS_TESTS_TOOLS_XML_CHARACTERS_H_

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "event/text.h"

namespace chorus {

// Whether XML 1.0 may hold `code_point` (its production Char).
inline bool IsXmlChar(uint32_t code_point) {
  return code_point == 0x9 || code_point == 0xA || code_point == 0xD ||
         (code_point >= 0x20 && code_point <= 0xD7FF) ||
         (code_point >= 0xE000 && code_point <= 0xFFFD) ||
         (code_point >= 0x10000 && code_point <= 0x10FFFF);
}

// The code point of the valid UTF-8 sequence of `length` bytes at the start of `text`.
inline uint32_t DecodeUtf8(absl::string_view text, size_t length) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  uint32_t code_point = static_cast<unsigned char>(text[0]) & kLeadMask[length];
  for (size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (static_cast<unsigned char>(text[i]) & 0x3f);
  }
  return code_point;
}

// What is wrong with the reference ("&amp;", "&#10;", "&#x1b;") at the start of `text`, or ""
// if it is a predefined entity or a reference to a character XML may hold.
inline std::string ReferenceProblem(absl::string_view text) {
  const size_t end = text.find(';');
  if (end == absl::string_view::npos) return "a '&' starts no reference";
  const absl::string_view name = text.substr(1, end - 1);
  for (absl::string_view entity : {"amp", "lt", "gt", "quot", "apos"}) {
    if (name == entity) return "";
  }
  uint32_t code_point = 0;
  const bool number =
      absl::StartsWith(name, "#x")
          ? absl::SimpleHexAtoi(name.substr(2), &code_point)
          : absl::StartsWith(name, "#") && absl::SimpleAtoi(name.substr(1), &code_point);
  if (!number) return absl::StrCat("unknown reference &", name, ";");
  if (!IsXmlChar(code_point))
    return absl::StrCat("a reference to a forbidden character &", name, ";");
  return "";
}

// The first thing in `document` that XML 1.0 forbids at the level of characters, or "" if
// there is none: a byte that is not part of valid UTF-8, a character outside XML's Char
// production (most control characters, U+FFFE, U+FFFF), a '&' that starts no predefined
// entity or character reference, or a reference to a forbidden character.
inline std::string XmlCharacterProblem(absl::string_view document) {
  for (size_t at = 0; at < document.size();) {
    const size_t length = Utf8SequenceLength(document.substr(at));
    if (length == 0) return absl::StrCat("byte ", at, " is not valid UTF-8");
    const uint32_t code_point = DecodeUtf8(document.substr(at), length);
    if (!IsXmlChar(code_point)) {
      return absl::StrCat("byte ", at, " is a character XML forbids: U+", absl::Hex(code_point));
    }
    if (document[at] == '&') {
      const std::string problem = ReferenceProblem(document.substr(at));
      if (!problem.empty()) return absl::StrCat("byte ", at, ": ", problem);
    }
    at += length;
  }
  return "";
}

}  // namespace chorus

#endif  // CHORUS_TESTS_TOOLS_XML_CHARACTERS_H_
