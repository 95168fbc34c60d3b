#include "event/events.h"

#include "event/text.h"
#include "google/protobuf/util/time_util.h"

namespace chorus {

absl::string_view KindName(const Event& event) {
  switch (event.kind_case()) {
    case Event::kWorkflowStarted:
      return "workflow_started";
    case Event::kStepStarted:
      return "step_started";
    case Event::kStepCompleted:
      return "step_completed";
    case Event::kStepFailed:
      return "step_failed";
    case Event::kStepCancelled:
      return "step_cancelled";
    case Event::kStepSkipped:
      return "step_skipped";
    case Event::kWorkflowCompleted:
      return "workflow_completed";
    case Event::kWorkflowFailed:
      return "workflow_failed";
    case Event::kWorkflowCancelled:
      return "workflow_cancelled";
    case Event::kStepExpanded:
      return "step_expanded";
    case Event::kStepBlocked:
      return "step_blocked";
    case Event::KIND_NOT_SET:
      break;
  }
  return "unset";
}

absl::string_view StepName(const Event& event) {
  switch (event.kind_case()) {
    case Event::kStepStarted:
      return event.step_started().step();
    case Event::kStepCompleted:
      return event.step_completed().step();
    case Event::kStepFailed:
      return event.step_failed().step();
    case Event::kStepCancelled:
      return event.step_cancelled().step();
    case Event::kStepSkipped:
      return event.step_skipped().step();
    case Event::kStepExpanded:
      return event.step_expanded().step();
    case Event::kStepBlocked:
      return event.step_blocked().step();
    default:
      return {};
  }
}

int Attempt(const Event& event) {
  switch (event.kind_case()) {
    case Event::kStepStarted:
      return event.step_started().attempt();
    case Event::kStepCompleted:
      return event.step_completed().attempt();
    case Event::kStepFailed:
      return event.step_failed().attempt();
    case Event::kStepCancelled:
      return event.step_cancelled().attempt();
    default:
      return 0;
  }
}

int Visit(const Event& event) {
  int visit = 0;
  switch (event.kind_case()) {
    case Event::kStepStarted:
      visit = event.step_started().visit();
      break;
    case Event::kStepCompleted:
      visit = event.step_completed().visit();
      break;
    case Event::kStepFailed:
      visit = event.step_failed().visit();
      break;
    case Event::kStepCancelled:
      visit = event.step_cancelled().visit();
      break;
    default:
      return 0;
  }
  return visit == 0 ? 1 : visit;
}

const google::protobuf::RepeatedPtrField<std::string>& Taken(const Event& event) {
  if (event.has_step_completed()) return event.step_completed().taken();
  if (event.has_step_failed()) return event.step_failed().taken();
  static const auto* const kNone = new google::protobuf::RepeatedPtrField<std::string>();
  return *kNone;
}

bool IsWorkflowTerminal(const Event& event) {
  return event.has_workflow_completed() || event.has_workflow_failed() ||
         event.has_workflow_cancelled();
}

absl::Time RecordedAt(const Event& event) {
  const google::protobuf::Timestamp& t = event.recorded_at();
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void SetRecordedAt(absl::Time time, Event* event) {
  *event->mutable_recorded_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

const google::protobuf::RepeatedPtrField<std::string>& MapItems(const StepExpanded& expanded) {
  return expanded.items().empty() ? expanded.item_bytes() : expanded.items();
}

void SetMapItems(std::vector<std::string> items, StepExpanded* expanded) {
  const bool text = std::all_of(items.begin(), items.end(),
                                [](const std::string& item) { return IsValidUtf8(item); });
  google::protobuf::RepeatedPtrField<std::string>* field =
      text ? expanded->mutable_items() : expanded->mutable_item_bytes();
  field->Reserve(static_cast<int>(items.size()));
  for (std::string& item : items) field->Add(std::move(item));
}

Error ToError(const absl::Status& status) {
  Error error;
  error.set_code(static_cast<int>(status.code()));
  error.set_message(RecordableText(status.message()));
  return error;
}

absl::Status FromError(const Error& error) {
  const int code = error.code();
  const bool known = code >= static_cast<int>(absl::StatusCode::kOk) &&
                     code <= static_cast<int>(absl::StatusCode::kUnauthenticated);
  return absl::Status(known ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown,
                      error.message());
}

}  // namespace chorus
