// ParseRecordedEvent: parses an event as a store holds it, including one that an earlier
// version of Chorus recorded with text that is not UTF-8.
//
// Before text from outside was checked (event/text.h), a step's stderr, a map item or a name
// could put bytes that are not UTF-8 into a `string` field of an event. Protobuf refuses to
// parse such a field, which left the whole history unreadable. The stored bytes are never
// changed; this parse reads each such field as RecordableText makes it ("bad \xFF bytes"), so
// that the history folds, resumes, verifies and exports again.
//
// Internal to the stores. Thread-safe.
#ifndef CHORUS_STORAGE_INTERNAL_RECORDED_EVENT_H_
#define CHORUS_STORAGE_INTERNAL_RECORDED_EVENT_H_

#include "absl/strings/string_view.h"
#include "proto/event.pb.h"

namespace chorus {

// Parses `bytes` into `*event` as Event::ParseFromArray does; where that fails only because a
// `string` field, at any depth, is not valid UTF-8, parses it with each such field made
// RecordableText. Returns false when the bytes are not an Event for any other reason.
bool ParseRecordedEvent(absl::string_view bytes, Event* event);

}  // namespace chorus

#endif  // CHORUS_STORAGE_INTERNAL_RECORDED_EVENT_H_
