// Text in history: the one rule for what a step or a user gives as text.
//
// History is protobuf, whose `string` fields must hold valid UTF-8: a record with one byte of
// Latin-1 in such a field cannot be parsed again. So everything from outside that history keeps
// is, at the boundary where it comes in, either
//   - bytes, carried in a `bytes` field (step outputs, the workflow's input, map items); or
//   - a name (of a workflow, step, definition, state key or resource), which must be valid
//     UTF-8 without control characters: CheckName refuses anything else, with an error naming
//     the field; or
//   - free text (an error message, a cancellation reason), which is made recordable:
//     RecordableText keeps valid UTF-8 as it is, writes every other byte as "\xNN" and cuts
//     what is longer than kMaxRecordedTextBytes at a character boundary; or
//   - other text the user means (a command, a state value), which must be valid UTF-8, checked
//     by IsValidUtf8 where it comes in.
//
//   CHORUS_RETURN_IF_ERROR(CheckName("workflow id", id));
//   *failed->mutable_error() = ToError(status);  // ToError applies RecordableText
//
// Thread-safe: pure functions.
#ifndef CHORUS_EVENT_TEXT_H_
#define CHORUS_EVENT_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace chorus {

// The most bytes of free text (an error message, a reason) that one field of history keeps.
inline constexpr size_t kMaxRecordedTextBytes = 64 << 10;

// The length of the valid UTF-8 sequence at the start of `text` (1 to 4), or 0 if `text` is
// empty or does not start with one. Valid means as RFC 3629 says, and as protobuf checks
// `string` fields: no overlong form, no surrogate, nothing above U+10FFFF.
size_t Utf8SequenceLength(absl::string_view text);

bool IsValidUtf8(absl::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8
// sequence (a byte that is not part of a valid sequence counts as one character).
absl::string_view Utf8Prefix(absl::string_view text, size_t max_bytes);

// `text` as history may record it: valid UTF-8 stays as it is; every byte that is not part of
// a valid sequence is written as "\xNN" (upper-case hex); past kMaxRecordedTextBytes the text is
// cut at a character boundary and ends with "...". The result is valid UTF-8, and is `text`
// itself when `text` is valid and short enough.
std::string RecordableText(absl::string_view text);

// OK if `name` may name a `what` ("workflow id", "step", "state key", ...): not empty, valid
// UTF-8, and without control characters (U+0000 to U+001F, U+007F to U+009F). Otherwise
// InvalidArgument saying what is wrong, with the name's bytes shown escaped, e.g.
//   step "a\xFF" is not valid UTF-8
absl::Status CheckName(absl::string_view what, absl::string_view name);

// `text` for a terminal: tab, newline and carriage return as "\t", "\n", "\r", NUL as "\0",
// every other control character and every byte that is not valid UTF-8 as "\xNN". Other text,
// backslashes included, stays as it is.
std::string TerminalText(absl::string_view text);

}  // namespace chorus

#endif  // CHORUS_EVENT_TEXT_H_
