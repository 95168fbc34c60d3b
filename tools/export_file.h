// The file of `chorus export` and `chorus import`: a workflow's history as JSON lines, one
// ExportedEvent (proto/event.proto) per line in protobuf's JSON mapping, in seq order:
//
//   {"workflowId":"w1","event":{"seq":"1","recordedAt":"...","workflowStarted":{...}}}
//   {"workflowId":"w1","event":{"seq":"2","recordedAt":"...","stepStarted":{...}}}
//
// Blank lines are ignored. Every line names the same workflow.
#ifndef CHORUS_TOOLS_EXPORT_FILE_H_
#define CHORUS_TOOLS_EXPORT_FILE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/event.pb.h"

namespace chorus {

// One workflow's history, as an export file holds it.
struct ExportedHistory {
  std::string path;  // the file it was read from
  std::string workflow_id;
  std::vector<Event> events;
  std::vector<int> lines;  // lines[i]: the line of the file that holds events[i], from 1
};

// `event` of workflow `workflow_id` as one line of an export file, without the newline.
// Returns InvalidArgument if `workflow_id` is not a name (CheckName, event/text.h): JSON
// cannot carry bytes that are not UTF-8 (protobuf's printer would drop them, and the file
// would import as another workflow), and import refuses such an id. Returns Internal if
// protobuf cannot print the event.
absl::StatusOr<std::string> ExportLine(absl::string_view workflow_id, const Event& event);

// Parses `text`, the contents of the export file `path`. Returns InvalidArgument naming `path`
// and the line for a line that is not an ExportedEvent (protobuf's parser also refuses a
// `string` field that is not UTF-8) or names another workflow, and for a file without events.
// Checks nothing about the history itself (see CheckImportable).
absl::StatusOr<ExportedHistory> ParseExport(absl::string_view text, absl::string_view path);

// OK if `history` is one that an engine with the default EngineOptions could have recorded.
// Otherwise the first problem, as "<path>:<line>: workflow '<id>', seq <seq>: <field> ...",
// where <field> names the field of the event at that line ("step_failed.error.message"):
//   - InvalidArgument: the workflow id (then only "<path>:<line>: workflow id ..."), a step,
//     resource or state key that an event names is not a name (CheckName); a free text (an
//     error message, a cancellation or skip reason) is not valid UTF-8; the definition fails
//     ValidateDefinition without a registry (workflow/definition.h);
//   - ResourceExhausted: the input, a step's output with its state updates, or a map step's
//     items together are over max_payload_bytes; a free text is over kMaxRecordedTextBytes;
//     the history holds more than max_history_events events (then only "<path>: ...");
//   - DataLoss: the recorded fingerprint is not the definition's (see CheckFingerprint), or an
//     event breaks an invariant of the fold (event/history.h).
// REQUIRES: `history` has an event, and a line for each (as ParseExport's result has).
absl::Status CheckImportable(const ExportedHistory& history);

// OK if `started` records the fingerprint of its own definition (Fingerprint in
// workflow/definition.h), as the engine does; else DataLoss showing both fingerprints. No
// engine records another: running the recorded definition again would be refused as changed.
absl::Status CheckFingerprint(const WorkflowStarted& started);

}  // namespace chorus

#endif  // CHORUS_TOOLS_EXPORT_FILE_H_
