#include "tests/fuzz/fuzz_targets.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "event/history.h"
#include "event/internal/status_macros.h"
#include "event/snapshot.h"
#include "event/started_outline.h"
#include "event/workflow_state.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/event.pb.h"
#include "tools/definition_file.h"
#include "tools/export_file.h"
#include "tools/graph.h"
#include "tools/timeline.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

constexpr char kFileName[] = "fuzz.input";
constexpr char kWorkflowId[] = "fuzz";

absl::Status Broken(absl::string_view what) {
  return absl::InternalError(absl::StrCat("fuzz property broken: ", what));
}

// What History promises to leave unchanged when it rejects an event.
std::string StateText(const WorkflowState& state) {
  std::string text = absl::StrCat(state.status, " ", state.last_seq, " ", state.steps.size(), " ",
                                  state.error.ToString(), " ", state.failed_step);
  for (const StepState& step : state.steps) {
    absl::StrAppend(&text, "|", step.name, ":", StepStatusName(step.status), ":", step.attempts,
                    ":", step.output.size(), ":", step.error.ToString());
  }
  return text;
}

// Checks `state`, the fold of a history whose last accepted event is `event`.
absl::Status CheckAccepted(const WorkflowState& state, const Event& event) {
  if (state.last_seq != event.seq()) return Broken("an accepted event did not set last_seq");
  if (static_cast<int>(state.steps.size()) != state.definition().steps_size()) {
    return Broken("the state's steps differ from the definition's");
  }
  if (state.status != WORKFLOW_STATUS_COMPLETED) return absl::OkStatus();
  for (const StepState& step : state.steps) {
    if (step.status != StepStatus::kCompleted && step.status != StepStatus::kSkipped) {
      return Broken(
          absl::StrCat("completed with step '", step.name, "' ", StepStatusName(step.status)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRejected(const absl::Status& rejection, const Event& event,
                           const std::string& before, const WorkflowState& after) {
  if (!absl::IsDataLoss(rejection))
    return Broken(absl::StrCat("rejected as ", rejection.ToString()));
  if (!absl::StrContains(rejection.message(), absl::StrCat("seq ", event.seq()))) {
    return Broken(absl::StrCat("the rejection does not name the seq: ", rejection.message()));
  }
  if (StateText(after) != before) return Broken("a rejected event changed the state");
  return absl::OkStatus();
}

// Splits `data` into length-prefixed records (see FuzzEventFold).
std::vector<absl::string_view> Records(absl::string_view data) {
  std::vector<absl::string_view> records;
  while (data.size() >= 2) {
    const size_t length = static_cast<uint8_t>(data[0]) | static_cast<uint8_t>(data[1]) << 8;
    data.remove_prefix(2);
    records.push_back(data.substr(0, length));
    data.remove_prefix(records.back().size());
  }
  return records;
}

absl::Status CheckJsonRoundTrip(const std::string& id, const Event& event) {
  const absl::StatusOr<std::string> line = ExportLine(id, event);
  if (!line.ok()) return Broken(line.status().ToString());
  const absl::StatusOr<ExportedHistory> again = ParseExport(*line, kFileName);
  if (!again.ok() || again->workflow_id != id || again->events.size() != 1 ||
      !google::protobuf::util::MessageDifferencer::Equals(again->events[0], event)) {
    return Broken(absl::StrCat("the JSON round trip changed seq ", event.seq(), ": ", *line));
  }
  return absl::OkStatus();
}

// Whether `event`, once accepted by import, is one a store reads back: the bytes it appends
// parse again.
absl::Status CheckStoredRoundTrip(const Event& event) {
  Event again;
  if (!again.ParseFromString(event.SerializeAsString())) {
    return Broken(absl::StrCat("seq ", event.seq(), " would be stored unreadable"));
  }
  return absl::OkStatus();
}

// Whether the outline of `record` (event/started_outline.h), if it has one, says what a parser
// reads: `parsed`, or null if `record` does not parse.
absl::Status CheckOutline(absl::string_view record, const Event* parsed) {
  const std::optional<StartedOutline> outline = ReadStartedOutline(record);
  if (!outline.has_value() || parsed == nullptr) return absl::OkStatus();
  std::vector<absl::string_view> names;
  outline->ForEachStepName([&names](absl::string_view name) { names.push_back(name); });
  bool has_map_steps = false;
  bool same =
      parsed->has_workflow_started() && outline->seq == parsed->seq() &&
      outline->steps == static_cast<int>(names.size()) &&
      names.size() == static_cast<size_t>(parsed->workflow_started().definition().steps_size());
  for (size_t i = 0; same && i < names.size(); ++i) {
    const StepDefinition& step = parsed->workflow_started().definition().steps(static_cast<int>(i));
    same = names[i] == step.name();
    has_map_steps = has_map_steps || !step.map_over().empty();
  }
  if (!same || has_map_steps != outline->has_map_steps) {
    return Broken(absl::StrCat("the outline of seq ", parsed->seq(), " is not what parses"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FuzzDefinition(absl::string_view data) {
  const DefinitionFormat format = GuessDefinitionFormat(kFileName, data);
  const absl::StatusOr<WorkflowDefinition> definition = ParseDefinition(data, kFileName, format);
  if (!definition.ok()) {
    if (!absl::IsInvalidArgument(definition.status()) ||
        !absl::StrContains(definition.status().message(), kFileName)) {
      return Broken(absl::StrCat("parse error ", definition.status().ToString()));
    }
    return absl::OkStatus();
  }
  const absl::Status valid = ValidateDefinition(*definition, /*registry=*/nullptr);
  if (!valid.ok()) {
    return absl::IsInvalidArgument(valid) ? absl::OkStatus()
                                          : Broken(absl::StrCat("validation ", valid.ToString()));
  }
  if (Fingerprint(*definition) != Fingerprint(*definition)) return Broken("unstable fingerprint");
  if (!DescribeChanges(*definition, *definition).empty()) {
    return Broken("a definition differs from itself");
  }
  if (!absl::StartsWith(RenderDot(*definition, /*state=*/nullptr), "digraph")) {
    return Broken("the DAG does not render as a digraph");
  }
  return absl::OkStatus();
}

// Whether `state`, the fold of a history whose first event is `started`, comes back the same
// from its snapshot.
absl::Status CheckSnapshotRestores(const WorkflowState& state, const Event& started) {
  History first(kWorkflowId);
  if (!first.Apply(started).ok()) return Broken("workflow_started folds differently alone");
  const std::string snapshot = SerializeSnapshot(state);
  const absl::StatusOr<WorkflowState> restored =
      RestoreSnapshot(snapshot, std::move(first).TakeState());
  if (!restored.ok()) {
    return Broken(absl::StrCat("a snapshot of a fold is refused: ", restored.status().ToString()));
  }
  if (SerializeSnapshot(*restored) != snapshot || StateText(*restored) != StateText(state) ||
      restored->last_seq != state.last_seq || restored->updated_at != state.updated_at) {
    return Broken("a snapshot restores another state");
  }
  return absl::OkStatus();
}

absl::Status FuzzEventFold(absl::string_view data) {
  // Protobuf logs every string field that is not UTF-8; fuzzed events are full of them.
  const google::protobuf::LogSilencer quiet;
  History history(kWorkflowId);
  std::vector<Event> parsed;
  std::optional<Event> started;  // the first event accepted
  for (absl::string_view record : Records(data)) {
    Event event;
    const bool parses = event.ParseFromArray(record.data(), static_cast<int>(record.size()));
    CHORUS_RETURN_IF_ERROR(CheckOutline(record, parses ? &event : nullptr));
    if (!parses) continue;
    parsed.push_back(event);
    const std::string before = StateText(history.state());
    const absl::Status applied = history.Apply(event);
    const absl::Status checked = applied.ok()
                                     ? CheckAccepted(history.state(), event)
                                     : CheckRejected(applied, event, before, history.state());
    if (!checked.ok()) return checked;
    if (applied.ok() && !started.has_value()) started = event;
  }
  const WorkflowState& state = history.state();
  if (state.status != WORKFLOW_STATUS_UNSPECIFIED) {
    RenderDot(state.definition(), &state);
    CHORUS_RETURN_IF_ERROR(CheckSnapshotRestores(state, *started));
  }
  if (!absl::StrContains(RenderTimelineHtml(kWorkflowId, parsed), "</html>")) {
    return Broken("the timeline is not a whole page");
  }
  return absl::OkStatus();
}

absl::Status FuzzImport(absl::string_view data) {
  const absl::StatusOr<ExportedHistory> history = ParseExport(data, kFileName);
  if (!history.ok()) {
    return absl::IsInvalidArgument(history.status()) &&
                   absl::StrContains(history.status().message(), kFileName)
               ? absl::OkStatus()
               : Broken(absl::StrCat("parse ", history.status().ToString()));
  }
  const absl::Status importable = CheckImportable(*history);
  if (!importable.ok()) {
    const bool expected = absl::IsInvalidArgument(importable) || absl::IsDataLoss(importable) ||
                          absl::IsResourceExhausted(importable);
    return expected && absl::StartsWith(importable.message(), kFileName)
               ? absl::OkStatus()
               : Broken(absl::StrCat("import check ", importable.ToString()));
  }
  for (const Event& event : history->events) {
    CHORUS_RETURN_IF_ERROR(CheckJsonRoundTrip(history->workflow_id, event));
    CHORUS_RETURN_IF_ERROR(CheckStoredRoundTrip(event));
  }
  return absl::OkStatus();
}

}  // namespace chorus
