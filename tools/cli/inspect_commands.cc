// The commands that read histories: list, status, history, replay, verify, graph, timeline,
// export; and import, which writes a history only once all of it has been checked.
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/history.h"
#include "event/internal/status_macros.h"
#include "event/snapshot.h"
#include "event/state.h"
#include "google/protobuf/util/json_util.h"
#include "storage/load_state.h"
#include "tools/cli/cli.h"
#include "tools/cli/commands.h"
#include "tools/cli/event_text.h"
#include "tools/cli/terminal.h"
#include "tools/definition_file.h"
#include "tools/export_file.h"
#include "tools/graph.h"
#include "tools/read_file.h"
#include "tools/timeline.h"
#include "workflow/definition.h"
#include "workflow/internal/scheduling_rules.h"

namespace chorus::cli {
namespace {

// The most bytes an export file may hold: import reads it whole, and parses all of it, before
// it writes anything.
constexpr size_t kMaxExportFileBytes = size_t{1} << 30;

absl::Status WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Writes `contents` to --output if given, else to stdout.
int Emit(const Args& args, absl::string_view contents) {
  if (!args.Has("output")) {
    std::fwrite(contents.data(), 1, contents.size(), stdout);
    return kExitOk;
  }
  absl::Status written = WriteFile(args.Get("output"), contents);
  return written.ok() ? kExitOk : Fail(kExitInternal, written.message());
}

// Opens the database read-only and folds workflow `id` (as of `up_to_seq`). A database that
// does not open is reported as DataLoss, the code whose exit code is kExitBadDatabase.
absl::StatusOr<WorkflowState> LoadState(const Args& args, const std::string& id,
                                        int64_t up_to_seq = std::numeric_limits<int64_t>::max()) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/true);
  if (!store.ok()) return absl::DataLossError(store.status().message());
  return LoadWorkflowState(**store, id, up_to_seq);
}

int CountSteps(const WorkflowState& state, StepStatus status) {
  int count = 0;
  for (const StepState& step : state.steps) count += step.status == status;
  return count;
}

std::string StatusName(WorkflowStatus status) {
  std::string name(absl::StripPrefix(WorkflowStatus_Name(status), "WORKFLOW_STATUS_"));
  for (char& c : name) c = absl::ascii_tolower(c);
  return name;
}

// The pid of a step's running process, from the pid file its shell step keeps beside its
// log; 0 when there is none or the process is gone.
int RunningPid(const StepState& step) {
  const std::string& log_path = step.details().log_path;
  if (step.status != StepStatus::kRunning || !absl::EndsWith(log_path, ".log")) return 0;
  std::ifstream file(absl::StrCat(absl::StripSuffix(log_path, ".log"), ".pid"));
  int pid = 0;
  if (!(file >> pid) || pid <= 0) return 0;
  return kill(pid, 0) == 0 || errno == EPERM ? pid : 0;
}

// Steps that would start next, as the scheduler decides for a run continuing from `state`:
// those ready (pending or cut off, with every dependency completed), and failed steps with a
// retry scheduled, by index. None while the workflow is stopping (fail-fast, an exceeded
// budget, or cancellation) or has ended.
std::vector<std::string> NextSteps(const WorkflowState& state) {
  std::vector<std::string> next;
  if (state.status != WORKFLOW_STATUS_RUNNING) return next;
  const RecordedDecisions decisions =
      DecideFromRecorded(state, EffectiveDependencies(state.definition()));
  if (decisions.stopping) return next;
  std::vector<std::pair<int, std::string>> by_index;
  for (const auto& [step, at] : decisions.retries) {
    by_index.emplace_back(step,
                          absl::StrCat(state.steps[step].name, " (retry at ", TimeText(at), ")"));
  }
  for (int step : decisions.ready) {
    const StepState& ready = state.steps[step];
    const std::string& lock = ready.details().blocked_on;
    by_index.emplace_back(step, lock.empty()
                                    ? ready.name
                                    : absl::StrCat(ready.name, " (waiting for lock '", lock, "')"));
  }
  std::sort(by_index.begin(), by_index.end());
  for (auto& [step, text] : by_index) next.push_back(std::move(text));
  return next;
}

// "<title>" and then "  key = json" per key; nothing for an empty state.
void PrintState(absl::string_view title, const StateValues& values) {
  if (values.empty()) return;
  PrintLine(stdout, "%s", title);
  for (const auto& [key, value] : values) PrintLine(stdout, "  %s = %s", key, ValueToJson(value));
}

// A step as the rows of `status` and `replay` name it: "name", or "name#V" on its visit V past
// the first (a loop runs it again), whose attempts the row then counts.
std::string StepLabel(const StepState& step) {
  return VisitOf(step) > 1 ? absl::StrCat(step.name, "#", VisitOf(step)) : step.name;
}

// What a row of `status` does not say: "waiting for lock 'db'; next attempt at <time>; ...".
std::string StepNotes(const WorkflowState& state, const StepState& step) {
  std::vector<std::string> notes;
  const StepDetails& details = step.details();
  if (!details.blocked_on.empty()) {
    notes.push_back(absl::StrCat("waiting for lock '", details.blocked_on, "'"));
  }
  if (step.expanded) {
    notes.push_back(absl::StrCat(details.instances.size(),
                                 details.instances.size() == 1 ? " instance" : " instances"));
  }
  if (step.timed_out) notes.push_back(absl::StrCat("attempt ", step.attempts, " timed out"));
  if (step.status == StepStatus::kFailed && details.retry_at != absl::InfinitePast()) {
    notes.push_back(absl::StrCat("next attempt at ", TimeText(details.retry_at)));
  } else if (FailureRouted(step)) {
    std::vector<absl::string_view> taken;
    for (int to : details.taken) taken.push_back(state.steps[to].name);
    notes.push_back(absl::StrCat("its failure was routed -> ", absl::StrJoin(taken, ", ")));
  } else if (step.status == StepStatus::kFailed &&
             EffectOfFinalFailure(state.definition(),
                                  DefinitionOfStep(state, state.IndexOf(step.name))) ==
                 FinalFailure::kTolerated) {
    notes.push_back("non-critical: its failure is tolerated");
  }
  if (details.cost > 0) notes.push_back(absl::StrCat("cost ", CostText(details.cost)));
  return absl::StrJoin(notes, "; ");
}

void PrintStepRow(const WorkflowState& state, const StepState& step, absl::string_view indent,
                  absl::Time now) {
  const bool running = step.status == StepStatus::kRunning;
  const absl::Duration duration =
      step.attempts == 0 ? -absl::Seconds(1) : (running ? now : step.finished_at) - step.started_at;
  const int pid = RunningPid(step);
  const std::string& log_path = step.details().log_path;
  PrintLine(stdout, "%-20s %-10s %8d %10s %8s  %s", absl::StrCat(indent, StepLabel(step)),
            StepStatusName(step.status), step.attempts, DurationText(duration),
            pid > 0 ? absl::StrCat(pid) : "-", log_path.empty() ? "-" : log_path);
  const std::string notes = StepNotes(state, step);
  if (!notes.empty()) PrintLine(stdout, "%-20s %s", "", notes);
}

void PrintStatusHeader(const WorkflowState& state) {
  PrintLine(stdout, "workflow '%s' (definition '%s'): %s, seq %d, created %s, updated %s",
            state.workflow_id, state.definition().name(), StatusName(state.status), state.last_seq,
            TimeText(state.created_at), TimeText(state.updated_at));
  if (!state.failed_steps.empty()) {
    PrintLine(stdout, "  failed non-critical steps: %s", absl::StrJoin(state.failed_steps, ", "));
  }
  if (state.definition().budget() > 0) {
    PrintLine(stdout, "  budget: spent %s of %s%s", CostText(state.cost_spent),
              CostText(state.definition().budget()),
              state.cost_spent > state.definition().budget() ? " (exceeded)" : "");
  }
  // The error keeps its lines: a failed step's quotes the last lines of its stderr.
  if (!state.error.ok()) {
    absl::PrintF("  %s\n", TerminalMessage(state.error.ToString(),
                                           NamesOf(state.workflow_id, state.definition())));
  }
}

// Every invariant the history of `id` breaks, in order. After a seq out of place the check
// goes on as if it had been in place, so that one gap is one violation.
// What is wrong with `snapshot` of workflow `id`, if anything: `expected` is the snapshot of
// the fold of the history's first snapshot.seq events, if the history has as many.
absl::StatusOr<std::optional<std::string>> SnapshotViolation(
    EventStore& store, const std::string& id, const StoredSnapshot& snapshot,
    const std::optional<std::string>& expected, int64_t last_seq) {
  if (!expected.has_value()) {
    return absl::StrCat("the snapshot at seq ", snapshot.seq, " is of more events than the ",
                        last_seq, " the history has");
  }
  CHORUS_ASSIGN_OR_RETURN(WorkflowState started, LoadWorkflowState(store, id, 1));
  const absl::StatusOr<WorkflowState> restored =
      RestoreSnapshot(snapshot.state, std::move(started));
  if (!restored.ok()) return std::string(restored.status().message());
  if (SerializeSnapshot(*restored) != *expected) {
    return absl::StrCat("the snapshot at seq ", snapshot.seq, " differs from the fold of the ",
                        "history's first ", snapshot.seq, " events");
  }
  return std::nullopt;
}

// A workflow_started `event` of workflow `id` whose fingerprint is not its definition's (no
// engine records one) as a violation; nothing for any other event.
std::optional<std::string> FingerprintViolation(const std::string& id, const Event& event) {
  if (!event.has_workflow_started()) return std::nullopt;
  const absl::Status recorded = CheckFingerprint(event.workflow_started());
  if (recorded.ok()) return std::nullopt;
  return absl::StrCat("workflow '", id, "', seq ", event.seq(), ": ", recorded.message());
}

// The history's violations of its invariants and of its recorded fingerprint, then the
// snapshot's, if it does not fit the history (resuming then folds the history without it).
absl::StatusOr<std::vector<std::string>> Violations(EventStore& store, const std::string& id) {
  CHORUS_ASSIGN_OR_RETURN(const std::optional<StoredSnapshot> snapshot, store.LoadSnapshot(id));
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(id, 1));
  History history(id);
  std::vector<std::string> violations;
  std::optional<std::string> expected_snapshot;
  while (stream->Next()) {
    const int64_t expected_seq = history.state().last_seq + 1;
    absl::Status applied = history.Apply(stream->event());
    if (!applied.ok()) {
      violations.emplace_back(applied.message());
      if (stream->event().seq() != expected_seq) {
        Event renumbered = stream->event();
        renumbered.set_seq(expected_seq);
        // Any other fault of this event is already named by the violation above.
        history.Apply(renumbered).IgnoreError();
      }
    } else if (std::optional<std::string> violation = FingerprintViolation(id, stream->event())) {
      violations.push_back(*std::move(violation));
    }
    if (snapshot.has_value() && history.state().last_seq == snapshot->seq) {
      expected_snapshot = SerializeSnapshot(history.state());
    }
  }
  if (!stream->status().ok()) violations.emplace_back(stream->status().message());
  if (snapshot.has_value() && violations.empty()) {
    CHORUS_ASSIGN_OR_RETURN(
        const std::optional<std::string> violation,
        SnapshotViolation(store, id, *snapshot, expected_snapshot, history.state().last_seq));
    if (violation.has_value()) violations.push_back(*violation);
  }
  return violations;
}

}  // namespace

int ListCommand(const Args& args) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/true);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  absl::StatusOr<std::vector<WorkflowSummary>> summaries = (*store)->List();
  if (!summaries.ok()) return Fail(summaries.status());
  const std::string wanted = args.Get("status");
  PrintLine(stdout, "%-24s %-16s %-23s %9s  %-23s  %s", "ID", "DEFINITION", "STATUS", "DONE",
            "CREATED", "UPDATED");
  // A history that cannot be folded is listed as unreadable, and the first such error ends
  // the command once every workflow is listed.
  absl::Status unreadable;
  absl::string_view unreadable_id;
  for (const WorkflowSummary& summary : *summaries) {
    absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, summary.workflow_id);
    if (!state.ok() && unreadable.ok()) {
      unreadable = state.status();
      unreadable_id = summary.workflow_id;
    }
    // The folded status, which tells completed_with_failures from completed.
    const std::string status = state.ok() ? StatusName(state->status) : "unreadable";
    if (!wanted.empty() && status != wanted) continue;
    const std::string done =
        state.ok()
            ? absl::StrCat(CountSteps(*state, StepStatus::kCompleted), "/", state->steps.size())
            : "-";
    PrintLine(stdout, "%-24s %-16s %-23s %9s  %-23s  %s", summary.workflow_id,
              summary.definition_name, status, done, TimeText(summary.created_at),
              TimeText(summary.updated_at));
  }
  return unreadable.ok() ? kExitOk : Fail(unreadable, {unreadable_id});
}

int StatusCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "status takes one workflow ID");
  const std::string& id = args.positional()[0];
  absl::StatusOr<WorkflowState> state = LoadState(args, id);
  if (!state.ok()) return Fail(state.status(), {id});
  PrintStatusHeader(*state);
  PrintLine(stdout, "%-20s %-10s %8s %10s %8s  %s", "STEP", "STATUS", "ATTEMPTS", "DURATION", "PID",
            "LOG");
  const absl::Time now = absl::Now();
  for (int i = 0; i < state->definition().steps_size(); ++i) {
    PrintStepRow(*state, state->steps[i], "", now);
    for (int instance : state->steps[i].details().instances) {
      PrintStepRow(*state, state->steps[instance], "  ", now);
    }
  }
  PrintState("state:", CompletedState(*state));
  return kExitOk;
}

int HistoryCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "history takes one workflow ID");
  absl::StatusOr<int64_t> from = args.GetInt("from", 1);
  absl::StatusOr<int64_t> to = args.GetInt("to", std::numeric_limits<int64_t>::max());
  if (!from.ok() || !to.ok()) return Fail(kExitUsage, (from.ok() ? to : from).status().message());
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/true);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  const std::string& id = args.positional()[0];
  absl::StatusOr<std::unique_ptr<EventStream>> stream = (*store)->Read(id, *from);
  if (!stream.ok()) return Fail(stream.status(), {id});
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  while ((*stream)->Next() && (*stream)->event().seq() <= *to) {
    const Event& event = (*stream)->event();
    if (args.Has("json")) {
      std::string line;
      if (!google::protobuf::util::MessageToJsonString(event, &line, json).ok()) {
        return Fail(kExitInternal, absl::StrCat("cannot print seq ", event.seq(), " as JSON"));
      }
      // JSON is for programs: names stay exact, escaped as JSON escapes them.
      std::printf("%s\n", line.c_str());
    } else {
      PrintLine(stdout, "%5d  %s  %s", event.seq(), TimeText(RecordedAt(event)),
                DescribeEvent(event));
    }
  }
  return (*stream)->status().ok() ? kExitOk : Fail((*stream)->status(), {id});
}

int ReplayCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "replay takes one workflow ID");
  absl::StatusOr<int64_t> at = args.GetInt("at", std::numeric_limits<int64_t>::max());
  if (!at.ok()) return Fail(kExitUsage, at.status().message());
  const std::string& id = args.positional()[0];
  absl::StatusOr<WorkflowState> state = LoadState(args, id, *at);
  if (!state.ok()) return Fail(state.status(), {id});
  PrintLine(stdout, "workflow '%s' as of seq %d: %s", state->workflow_id, state->last_seq,
            StatusName(state->status));
  for (int index : MergeOrder(*state)) {
    const StepState& step = state->steps[index];
    switch (step.status) {
      case StepStatus::kCompleted:
        PrintLine(stdout, "  done       %-20s output %s", StepLabel(step), Preview(step.output));
        break;
      case StepStatus::kFailed:
      case StepStatus::kCancelled:
        PrintLine(stdout, "  %-10s %-20s attempt %d: %s", StepStatusName(step.status),
                  StepLabel(step), step.attempts, step.error.ToString());
        break;
      case StepStatus::kRunning:
        PrintLine(stdout, "  running    %-20s attempt %d (started, no outcome yet)",
                  StepLabel(step), step.attempts);
        break;
      default:
        break;
    }
  }
  PrintState(absl::StrCat("state as of seq ", state->last_seq, ":"), CompletedState(*state));
  const std::vector<std::string> next = NextSteps(*state);
  PrintLine(stdout, "would run next: %s", next.empty() ? "nothing" : absl::StrJoin(next, ", "));
  return kExitOk;
}

int VerifyCommand(const Args& args) {
  const bool all = args.Has("all");
  if (all == (args.positional().size() == 1) || args.positional().size() > 1) {
    return Fail(kExitUsage, "verify takes one workflow ID, or --all");
  }
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/true);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  std::vector<std::string> ids;
  if (all) {
    absl::StatusOr<std::vector<WorkflowSummary>> summaries = (*store)->List();
    if (!summaries.ok()) return Fail(summaries.status());
    for (const WorkflowSummary& summary : *summaries) ids.push_back(summary.workflow_id);
  } else {
    ids.push_back(args.positional()[0]);
  }
  int unsound = 0;
  for (const std::string& id : ids) {
    absl::StatusOr<std::vector<std::string>> violations = Violations(**store, id);
    if (!violations.ok()) return Fail(violations.status(), {id});
    if (violations->empty()) {
      PrintLine(stdout, "%s: ok", id);
      continue;
    }
    ++unsound;
    PrintLine(stdout, "%s: %d violation(s)", id, violations->size());
    for (const std::string& violation : *violations) PrintLine(stdout, "  %s", violation);
  }
  return unsound == 0 ? kExitOk : kExitWorkflowFailed;
}

int GraphCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "graph takes one workflow ID or FILE");
  const std::string& subject = args.positional()[0];
  const std::string format = args.Get("format", "dot");
  if (format != "dot" && format != "svg") {
    return Fail(kExitUsage, absl::StrCat("--format is 'dot' or 'svg', not '", format, "'"));
  }
  std::string dot;
  if (std::filesystem::exists(subject)) {
    absl::StatusOr<WorkflowDefinition> definition = ReadDefinitionFile(subject);
    if (!definition.ok()) return Fail(kExitBadInput, definition.status().message());
    dot = RenderDot(*definition, /*state=*/nullptr);
  } else {
    absl::StatusOr<WorkflowState> state = LoadState(args, subject);
    if (!state.ok()) return Fail(state.status(), {subject});
    dot = RenderDot(state->definition(), &*state);
  }
  if (format == "dot") return Emit(args, dot);
  absl::StatusOr<std::string> svg = RenderSvg(dot);
  if (!svg.ok()) return Fail(kExitInternal, svg.status().message());
  return Emit(args, *svg);
}

int TimelineCommand(const Args& args) {
  if (args.positional().size() != 1 || !args.Has("output")) {
    return Fail(kExitUsage, "timeline takes one workflow ID and -o FILE.html|FILE.svg");
  }
  const std::string output = args.Get("output");
  const bool svg = absl::EndsWith(output, ".svg");
  if (!svg && !absl::EndsWith(output, ".html")) {
    return Fail(kExitUsage, "timeline writes FILE.html or FILE.svg");
  }
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/true);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  const std::string& id = args.positional()[0];
  absl::StatusOr<std::vector<Event>> events = ReadHistory(**store, id);
  if (!events.ok()) return Fail(events.status(), {id});
  return Emit(args, svg ? RenderTimelineSvg(id, *events) : RenderTimelineHtml(id, *events));
}

int ExportCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "export takes one workflow ID");
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/true);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  const std::string& id = args.positional()[0];
  absl::StatusOr<std::unique_ptr<EventStream>> stream = (*store)->Read(id, 1);
  if (!stream.ok()) return Fail(stream.status(), {id});
  std::string out;
  while ((*stream)->Next()) {
    absl::StatusOr<std::string> line = ExportLine(id, (*stream)->event());
    // ExportLine refuses as invalid only an id that is not a name, which a database written
    // before ids were checked may hold.
    if (!line.ok()) {
      return Fail(absl::IsInvalidArgument(line.status()) ? kExitBadDatabase : kExitInternal,
                  line.status().message(), {id});
    }
    absl::StrAppend(&out, *line, "\n");
  }
  if (!(*stream)->status().ok()) return Fail((*stream)->status(), {id});
  return Emit(args, out);
}

int ImportCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "import takes one FILE");
  const std::string& path = args.positional()[0];
  absl::StatusOr<std::string> text = ReadFileUpTo(path, kMaxExportFileBytes, "export file");
  if (!text.ok()) return Fail(kExitBadInput, text.status().message());
  absl::StatusOr<ExportedHistory> history = ParseExport(*text, path);
  if (!history.ok()) return Fail(kExitBadInput, history.status().message());
  // Every invariant and limit holds before anything is written; then the history goes in as
  // one batch.
  const std::string& id = history->workflow_id;
  if (absl::Status importable = CheckImportable(*history); !importable.ok()) {
    return Fail(kExitBadInput, importable.message(), {id});
  }
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/false);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  absl::Status appended = (*store)->Append(id, 0, history->events);
  if (absl::IsAborted(appended)) {
    return Fail(kExitBusy,
                absl::StrCat("workflow '", id, "' already exists in ", DatabasePath(args)), {id});
  }
  if (!appended.ok()) return Fail(appended, {id});
  PrintLine(stdout, "imported workflow '%s': %d events", id, history->events.size());
  return kExitOk;
}

}  // namespace chorus::cli
