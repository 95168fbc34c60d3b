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
  std::string workflow_id;
  std::vector<Event> events;
};

// `event` of workflow `workflow_id` as one line of an export file, without the newline.
// Returns Internal if protobuf cannot print it.
absl::StatusOr<std::string> ExportLine(absl::string_view workflow_id, const Event& event);

// Parses `text`, the contents of the export file `path`. Returns InvalidArgument naming `path`
// and the line for a line that is not an ExportedEvent or names another workflow, and for a
// file without events. Checks nothing about the history itself (see CheckImportable).
absl::StatusOr<ExportedHistory> ParseExport(absl::string_view text, absl::string_view path);

// OK if `history` is one that an engine with the default EngineOptions could have recorded:
// it passes every invariant of the fold (else DataLoss naming the workflow and seq), and no
// input or step output is over max_payload_bytes, nor the history over max_history_events
// (else ResourceExhausted naming the workflow, the seq and the limit).
absl::Status CheckImportable(const ExportedHistory& history);

}  // namespace chorus

#endif  // CHORUS_TOOLS_EXPORT_FILE_H_
