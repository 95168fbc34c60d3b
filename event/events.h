// Small accessors over the Event envelope, shared by the fold, the stores and the CLI.
#ifndef CHORUS_EVENT_EVENTS_H_
#define CHORUS_EVENT_EVENTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/event.pb.h"

namespace chorus {

// The kind's field name: "workflow_started", "step_completed", ...; "unset" for none.
absl::string_view KindName(const Event& event);

// The step a step event concerns; empty for workflow events.
absl::string_view StepName(const Event& event);

// The attempt of a step started/completed/failed/cancelled event; 0 for other kinds.
int Attempt(const Event& event);

// The visit of a step started/completed/failed/cancelled event, from 1 (an unset visit is the
// first); 0 for other kinds.
int Visit(const Event& event);

// The steps a step completed/failed event says its visit took edges to; empty for other kinds.
const google::protobuf::RepeatedPtrField<std::string>& Taken(const Event& event);

// True for workflow completed, failed and cancelled.
bool IsWorkflowTerminal(const Event& event);

absl::Time RecordedAt(const Event& event);
void SetRecordedAt(absl::Time time, Event* event);

// A map step's items, from whichever field holds them (StepExpanded in proto/event.proto).
const google::protobuf::RepeatedPtrField<std::string>& MapItems(const StepExpanded& expanded);
// Records `items` as text if each is valid UTF-8, else as bytes.
void SetMapItems(std::vector<std::string> items, StepExpanded* expanded);

// An absl::Status as recorded in history, and back. The message is recorded as RecordableText
// (event/text.h) makes it. An out-of-range code reads as kUnknown.
Error ToError(const absl::Status& status);
absl::Status FromError(const Error& error);

}  // namespace chorus

#endif  // CHORUS_EVENT_EVENTS_H_
