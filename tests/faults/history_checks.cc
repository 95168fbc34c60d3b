#include "tests/faults/history_checks.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "event/events.h"
#include "event/history.h"
#include "storage/sqlite_event_store.h"
#include "tests/storage/raw_sqlite.h"

namespace chorus {

absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path, absl::string_view id) {
  SqliteOptions options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(path, options);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::unique_ptr<EventStream>> stream = (*store)->Read(id, 1);
  if (!stream.ok()) return stream.status();
  std::vector<Event> events;
  while ((*stream)->Next()) events.push_back((*stream)->event());
  if (!(*stream)->status().ok()) return (*stream)->status();
  return events;
}

absl::StatusOr<WorkflowState> CheckCompleted(absl::string_view id,
                                             const std::vector<Event>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq() != static_cast<int64_t>(i + 1)) {
      return absl::DataLossError(
          absl::StrCat("event ", i + 1, " of workflow '", id, "' has seq ", events[i].seq()));
    }
  }
  absl::StatusOr<WorkflowState> state = FoldHistory(std::string(id), events);
  if (!state.ok()) return state.status();
  if (state->status != WORKFLOW_STATUS_COMPLETED) {
    return absl::FailedPreconditionError(
        absl::StrCat("workflow '", id, "' ends ", WorkflowStatus_Name(state->status)));
  }
  return state;
}

absl::StatusOr<WorkflowState> CheckCompletedOnce(absl::string_view id,
                                                 const std::vector<Event>& events) {
  absl::StatusOr<WorkflowState> state = CheckCompleted(id, events);
  if (!state.ok()) return state.status();
  const std::map<std::string, int> completions = CountPerStep(events, Event::kStepCompleted);
  std::vector<std::string> wrong;
  for (const StepState& step : state->steps) {
    const auto found = completions.find(step.name);
    const int count = found == completions.end() ? 0 : found->second;
    if (count != 1) wrong.push_back(absl::StrCat(step.name, " x", count));
  }
  if (!wrong.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "workflow '", id, "': steps not completed exactly once: ", absl::StrJoin(wrong, ", ")));
  }
  return state;
}

std::map<std::string, std::vector<std::string>> VisitEnds(const std::vector<Event>& events) {
  std::map<std::string, std::vector<std::string>> ends;
  for (const Event& event : events) {
    std::string end;
    if (event.has_step_completed()) {
      end = absl::StrCat("visit ", Visit(event), " completed ", event.step_completed().output());
    } else if (event.has_step_failed() && !event.step_failed().has_next_attempt_at()) {
      end = absl::StrCat("visit ", Visit(event), " failed ", event.step_failed().error().message());
    } else if (event.has_step_skipped()) {
      end = absl::StrCat("skipped: ", event.step_skipped().reason());
    } else {
      continue;
    }
    if (!Taken(event).empty()) absl::StrAppend(&end, " -> ", absl::StrJoin(Taken(event), ","));
    ends[std::string(StepName(event))].push_back(std::move(end));
  }
  return ends;
}

std::map<std::string, int> CountPerStep(const std::vector<Event>& events, Event::KindCase kind) {
  std::map<std::string, int> counts;
  for (const Event& event : events) {
    if (event.kind_case() == kind) ++counts[std::string(StepName(event))];
  }
  return counts;
}

std::map<std::string, std::string> OutputsOf(const WorkflowState& state) {
  std::map<std::string, std::string> outputs;
  for (const StepState& step : state.steps) outputs[step.name] = step.output;
  return outputs;
}

std::string IntegrityCheck(const std::string& path) {
  return RawRows(path, "PRAGMA integrity_check");
}

}  // namespace chorus
