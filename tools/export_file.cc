#include "tools/export_file.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "event/history.h"
#include "google/protobuf/util/json_util.h"
#include "workflow/engine_options.h"

namespace chorus {
namespace {

// What `event` records of a workflow's input or a step's output, as the engine's
// max_payload_bytes counts it.
size_t PayloadBytes(const Event& event) {
  if (event.has_workflow_started()) return event.workflow_started().input().size();
  if (!event.has_step_completed()) return 0;
  size_t bytes = event.step_completed().output().size();
  for (const StateUpdate& update : event.step_completed().state_updates()) {
    bytes += update.ByteSizeLong();
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> ExportLine(absl::string_view workflow_id, const Event& event) {
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
  }
  if (history.events.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no events"));
  return history;
}

absl::Status CheckImportable(const ExportedHistory& history) {
  const absl::Status sound = FoldHistory(history.workflow_id, history.events).status();
  if (!sound.ok()) return sound;
  const EngineOptions defaults;
  if (static_cast<int64_t>(history.events.size()) > defaults.max_history_events) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("workflow '%s': %d events, more than the limit of %d", history.workflow_id,
                        history.events.size(), defaults.max_history_events));
  }
  for (const Event& event : history.events) {
    const size_t payload = PayloadBytes(event);
    if (payload > defaults.max_payload_bytes) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "workflow '%s': seq %d records %d bytes, more than the payload limit of %d",
          history.workflow_id, event.seq(), payload, defaults.max_payload_bytes));
    }
  }
  return absl::OkStatus();
}

}  // namespace chorus
