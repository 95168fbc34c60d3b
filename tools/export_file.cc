#include "tools/export_file.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "event/events.h"
#include "event/history.h"
#include "event/internal/status_macros.h"
#include "event/text.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/util/json_util.h"
#include "workflow/definition.h"
#include "workflow/engine_options.h"

namespace chorus {
namespace {

using StateUpdates = google::protobuf::RepeatedPtrField<StateUpdate>;

// `status` with `where` and ": " before its message; OK stays OK.
absl::Status At(absl::string_view where, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

// A free text as RecordableText (event/text.h) leaves it: valid UTF-8, within the limit.
absl::Status CheckText(absl::string_view field, absl::string_view text) {
  if (text.size() > kMaxRecordedTextBytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s: %d bytes, more than the limit of %d for recorded text", field,
                        text.size(), kMaxRecordedTextBytes));
  }
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckPayload(absl::string_view field, size_t bytes, const EngineOptions& limits) {
  if (bytes <= limits.max_payload_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: %d bytes, more than the payload limit of %d", field, bytes, limits.max_payload_bytes));
}

absl::Status CheckKeys(absl::string_view field, const StateUpdates& updates) {
  for (int i = 0; i < updates.size(); ++i) {
    CHORUS_RETURN_IF_ERROR(CheckName(absl::StrCat(field, "[", i, "].key"), updates[i].key()));
  }
  return absl::OkStatus();
}

absl::Status CheckStarted(const WorkflowStarted& started, const EngineOptions& limits) {
  CHORUS_RETURN_IF_ERROR(CheckPayload("workflow_started.input", started.input().size(), limits));
  CHORUS_RETURN_IF_ERROR(At("workflow_started.definition",
                            ValidateDefinition(started.definition(), /*registry=*/nullptr)));
  return CheckFingerprint(started);
}

// What the engine's max_payload_bytes counts of a completion: its output and state updates.
absl::Status CheckCompleted(const StepCompleted& completed, const EngineOptions& limits) {
  CHORUS_RETURN_IF_ERROR(CheckKeys("step_completed.state_updates", completed.state_updates()));
  size_t bytes = completed.output().size();
  for (const StateUpdate& update : completed.state_updates()) bytes += update.ByteSizeLong();
  return CheckPayload("step_completed.output and state_updates", bytes, limits);
}

// A map step's items are the lines of one step's output, which is within the payload limit.
absl::Status CheckExpanded(const StepExpanded& expanded, const EngineOptions& limits) {
  size_t bytes = 0;
  for (const std::string& item : MapItems(expanded)) bytes += item.size();
  return CheckPayload(expanded.items().empty() ? "step_expanded.item_bytes" : "step_expanded.items",
                      bytes, limits);
}

absl::Status CheckWorkflowCompleted(const WorkflowCompleted& completed) {
  for (int i = 0; i < completed.failed_steps_size(); ++i) {
    CHORUS_RETURN_IF_ERROR(CheckName(absl::StrCat("workflow_completed.failed_steps[", i, "]"),
                                     completed.failed_steps(i)));
  }
  return CheckKeys("workflow_completed.final_state", completed.final_state());
}

absl::Status CheckWorkflowFailed(const WorkflowFailed& failed) {
  // A workflow that failed for no step's failure (its budget, its history's limit) names none.
  if (!failed.step().empty()) {
    CHORUS_RETURN_IF_ERROR(CheckName("workflow_failed.step", failed.step()));
  }
  return CheckText("workflow_failed.error.message", failed.error().message());
}

// Every name, free text and payload of `event` as the engine records them.
absl::Status CheckFields(const Event& event, const EngineOptions& limits) {
  const absl::string_view kind = KindName(event);
  if (absl::StartsWith(kind, "step_")) {
    CHORUS_RETURN_IF_ERROR(CheckName(absl::StrCat(kind, ".step"), StepName(event)));
  }
  switch (event.kind_case()) {
    case Event::kWorkflowStarted:
      return CheckStarted(event.workflow_started(), limits);
    case Event::kStepCompleted:
      return CheckCompleted(event.step_completed(), limits);
    case Event::kStepFailed:
      return CheckText("step_failed.error.message", event.step_failed().error().message());
    case Event::kStepCancelled:
      return CheckText("step_cancelled.reason", event.step_cancelled().reason());
    case Event::kStepSkipped:
      return CheckText("step_skipped.reason", event.step_skipped().reason());
    case Event::kStepExpanded:
      return CheckExpanded(event.step_expanded(), limits);
    case Event::kStepBlocked:
      return CheckName("step_blocked.resource", event.step_blocked().resource());
    case Event::kWorkflowCompleted:
      return CheckWorkflowCompleted(event.workflow_completed());
    case Event::kWorkflowFailed:
      return CheckWorkflowFailed(event.workflow_failed());
    case Event::kWorkflowCancelled:
      return CheckText("workflow_cancelled.reason", event.workflow_cancelled().reason());
    case Event::kStepStarted:  // its step, checked above, is all it has from outside
    case Event::KIND_NOT_SET:  // which the fold refuses
      break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ExportLine(absl::string_view workflow_id, const Event& event) {
  if (absl::Status name = CheckName("workflow id", workflow_id); !name.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name.message(), ": it cannot be exported"));
  }
  ExportedEvent exported;
  exported.set_workflow_id(std::string(workflow_id));
  *exported.mutable_event() = event;
  std::string line;
  if (!google::protobuf::util::MessageToJsonString(exported, &line).ok()) {
    return absl::InternalError(
        absl::StrFormat("workflow '%s': cannot print seq %d as JSON", workflow_id, event.seq()));
  }
  return line;
}

absl::StatusOr<ExportedHistory> ParseExport(absl::string_view text, absl::string_view path) {
  ExportedHistory history;
  history.path = std::string(path);
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ExportedEvent exported;
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &exported);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: not an exported event: %s", path, number, parsed.ToString()));
    }
    if (history.events.empty()) history.workflow_id = exported.workflow_id();
    if (exported.workflow_id() != history.workflow_id) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: event of workflow '%s' in the history of '%s'", path, number,
                          exported.workflow_id(), history.workflow_id));
    }
    history.events.push_back(std::move(*exported.mutable_event()));
    history.lines.push_back(number);
  }
  if (history.events.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no events"));
  return history;
}

absl::Status CheckImportable(const ExportedHistory& history) {
  const EngineOptions limits;
  CHORUS_RETURN_IF_ERROR(At(absl::StrCat(history.path, ":", history.lines.front()),
                            CheckName("workflow id", history.workflow_id)));
  if (static_cast<int64_t>(history.events.size()) > limits.max_history_events) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s: workflow '%s': %d events, more than the limit of %d", history.path,
                        history.workflow_id, history.events.size(), limits.max_history_events));
  }
  History fold(history.workflow_id);
  for (size_t i = 0; i < history.events.size(); ++i) {
    const Event& event = history.events[i];
    const int line = history.lines[i];
    if (absl::Status fields = CheckFields(event, limits); !fields.ok()) {
      return At(absl::StrFormat("%s:%d: workflow '%s', seq %d", history.path, line,
                                history.workflow_id, event.seq()),
                fields);
    }
    // The fold's violations name the workflow and the seq themselves.
    if (absl::Status folded = fold.Apply(event); !folded.ok()) {
      return At(absl::StrCat(history.path, ":", line), folded);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFingerprint(const WorkflowStarted& started) {
  const std::string fingerprint = Fingerprint(started.definition());
  if (started.fingerprint() == fingerprint) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("workflow_started.fingerprint is ", started.fingerprint(),
                                          ", but the recorded definition's is ", fingerprint));
}

}  // namespace chorus
