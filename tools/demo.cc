// chorus_demo: runs a small workflow on a SQLite store, then prints its status and history.
//
//   chorus_demo [DB_PATH]        (default: chorus-demo.db in the current directory)
//
// The workflow counts the words of a text in parallel branches. Run it twice: the second
// run finds the workflow complete in history and runs nothing.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "storage/event_store.h"
#include "storage/sqlite_event_store.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace chorus {
namespace {

constexpr absl::string_view kInput =
    "a workflow is a dag of named steps and every step outcome is appended to history";

absl::Status RegisterSteps(StepRegistry& registry) {
  CHORUS_RETURN_IF_ERROR(registry.Register("split", [](const StepContext& context) {
    return absl::StatusOr<std::string>(absl::StrCat(
        std::vector<std::string>(absl::StrSplit(context.input(), ' ')).size()));
  }));
  CHORUS_RETURN_IF_ERROR(registry.Register("count_short", [](const StepContext& context) {
    int count = 0;
    for (absl::string_view word : absl::StrSplit(context.input(), ' ')) count += word.size() <= 3;
    return absl::StatusOr<std::string>(absl::StrCat(count));
  }));
  CHORUS_RETURN_IF_ERROR(registry.Register("count_long", [](const StepContext& context) {
    int count = 0;
    for (absl::string_view word : absl::StrSplit(context.input(), ' ')) count += word.size() > 3;
    return absl::StatusOr<std::string>(absl::StrCat(count));
  }));
  return registry.Register("report", [](const StepContext& context) {
    std::string report;
    for (const DependencyOutput& dep : context.dependencies()) {
      absl::StrAppend(&report, report.empty() ? "" : ", ", dep.step, "=", dep.output);
    }
    return absl::StatusOr<std::string>(report);
  });
}

void PrintStatus(const WorkflowState& state) {
  std::printf("\nstatus of workflow '%s' (%s): %s\n", state.workflow_id.c_str(),
              state.definition.name().c_str(), WorkflowStatus_Name(state.status).c_str());
  for (const StepState& step : state.steps) {
    std::printf("  %-12s %-10s attempts=%d  output=%s\n", step.name.c_str(),
                std::string(StepStatusName(step.status)).c_str(), step.attempts,
                step.output.c_str());
  }
}

absl::Status PrintHistory(EventStore& store, absl::string_view id) {
  std::printf("\nhistory of workflow '%s':\n", std::string(id).c_str());
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(id, 1));
  while (stream->Next()) {
    const Event& event = stream->event();
    std::printf("  %3lld  %s  %-18s %s\n", static_cast<long long>(event.seq()),
                absl::FormatTime("%H:%M:%E6S", RecordedAt(event), absl::UTCTimeZone()).c_str(),
                std::string(KindName(event)).c_str(), std::string(StepName(event)).c_str());
  }
  return stream->status();
}

absl::Status RunDemo(const std::string& path) {
  StepRegistry registry;
  CHORUS_RETURN_IF_ERROR(RegisterSteps(registry));
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
                          OpenSqliteEventStore(path, SqliteOptions()));
  WorkflowDefinition definition = DefinitionBuilder("word-count")
                                      .Step("split")
                                      .Step("count_short", {"split"})
                                      .Step("count_long", {"split"})
                                      .Step("report", {"count_short", "count_long"})
                                      .Build();
  Engine engine(store.get(), &registry);
  std::printf("running workflow 'demo' on %s\n", path.c_str());
  CHORUS_ASSIGN_OR_RETURN(WorkflowState state, engine.Run("demo", definition, kInput));
  PrintStatus(state);
  return PrintHistory(*store, "demo");
}

}  // namespace
}  // namespace chorus

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "chorus-demo.db";
  absl::Status status = chorus::RunDemo(path);
  if (!status.ok()) {
    std::fprintf(stderr, "chorus_demo: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
