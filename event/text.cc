#include "event/text.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace chorus {
namespace {

constexpr absl::string_view kCutMark = "...";

void AppendByteEscape(unsigned char byte, std::string& out) {
  absl::StrAppendFormat(&out, "\\x%02X", byte);
}

// The code point of a valid sequence of `length` bytes at the start of `text`.
uint32_t CodePoint(absl::string_view text, size_t length) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  uint32_t code_point = static_cast<unsigned char>(text[0]) & kLeadMask[length];
  for (size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (static_cast<unsigned char>(text[i]) & 0x3f);
  }
  return code_point;
}

bool IsControl(uint32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7f && code_point < 0xa0);
}

// Calls on_char(sequence) for each valid sequence of `text` and on_invalid(byte) for each byte
// that is not part of one, in order.
template <typename OnChar, typename OnInvalid>
void ForEachChar(absl::string_view text, OnChar on_char, OnInvalid on_invalid) {
  while (!text.empty()) {
    const size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      on_invalid(static_cast<unsigned char>(text[0]));
      text.remove_prefix(1);
    } else {
      on_char(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
}

// Where `name` first breaks CheckName's rule, or empty if it does not.
std::string NameProblem(absl::string_view name) {
  if (name.empty()) return "is empty";
  if (!IsValidUtf8(name)) return "is not valid UTF-8";
  std::string problem;
  ForEachChar(
      name,
      [&](absl::string_view sequence) {
        if (problem.empty() && IsControl(CodePoint(sequence, sequence.size()))) {
          problem = absl::StrCat("contains a control character (", TerminalText(sequence), ")");
        }
      },
      [](unsigned char) {});
  return problem;
}

}  // namespace

size_t Utf8SequenceLength(absl::string_view text) {
  if (text.empty()) return 0;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  // The range of the second byte, which rules out overlong forms, surrogates and code points
  // above U+10FFFF (RFC 3629, section 4); later bytes are 0x80 to 0xBF.
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

bool IsValidUtf8(absl::string_view text) {
  while (!text.empty()) {
    // ASCII, the common case, a byte at a time without the sequence logic.
    if (static_cast<unsigned char>(text[0]) < 0x80) {
      text.remove_prefix(1);
      continue;
    }
    const size_t length = Utf8SequenceLength(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

absl::string_view Utf8Prefix(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = 0;
  while (end < max_bytes) {
    const size_t length = std::max<size_t>(Utf8SequenceLength(text.substr(end)), 1);
    if (end + length > max_bytes) break;
    end += length;
  }
  return text.substr(0, end);
}

std::string RecordableText(absl::string_view text) {
  const bool fits = text.size() <= kMaxRecordedTextBytes;
  if (fits && IsValidUtf8(text)) return std::string(text);
  std::string out;
  // Past the limit the rest is cut anyway: stop there, not at the end of 40 MB.
  while (!text.empty() && out.size() <= kMaxRecordedTextBytes) {
    const size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      AppendByteEscape(static_cast<unsigned char>(text[0]), out);
      text.remove_prefix(1);
    } else {
      out.append(text.data(), length);
      text.remove_prefix(length);
    }
  }
  if (out.size() > kMaxRecordedTextBytes) {
    out.resize(Utf8Prefix(out, kMaxRecordedTextBytes - kCutMark.size()).size());
    out.append(kCutMark.data(), kCutMark.size());
  }
  return out;
}

absl::Status CheckName(absl::string_view what, absl::string_view name) {
  const std::string problem = NameProblem(name);
  if (problem.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " \"", TerminalText(name), "\" ", problem));
}

std::string TerminalText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachChar(
      text,
      [&](absl::string_view sequence) {
        const uint32_t code_point = CodePoint(sequence, sequence.size());
        if (!IsControl(code_point)) {
          out.append(sequence.data(), sequence.size());
        } else if (code_point == '\t') {
          out += "\\t";
        } else if (code_point == '\n') {
          out += "\\n";
        } else if (code_point == '\r') {
          out += "\\r";
        } else if (code_point == 0) {
          out += "\\0";
        } else {
          for (char byte : sequence) AppendByteEscape(static_cast<unsigned char>(byte), out);
        }
      },
      [&](unsigned char byte) { AppendByteEscape(byte, out); });
  return out;
}

}  // namespace chorus
