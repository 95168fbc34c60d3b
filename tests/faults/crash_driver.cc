// crash_driver DB SIDE_EFFECTS WORKFLOW_ID wave|eager [loop] [write:N | sync:N]
//
// Drives workflow WORKFLOW_ID, the crash workflow (tests/faults/crash_workflow.h), in the
// Chorus database DB to its end: starts it, or resumes it if DB has it already. Its steps are
// in-process functions; each first appends its name and a newline to the file SIDE_EFFECTS,
// then works for CrashStepDuration and returns CrashStepOutput. The crash loop test runs this
// program again and again, killing it at random moments.
//
// With `loop`, the workflow is the loop crash workflow (LoopCrashWorkflow) instead: a step
// then fails as LoopCrashStepError says, makes the updates LoopCrashStepUpdates lists, and
// returns the CrashStepOutput of its name and visit ("implement~2"): a visit more or less
// changes the outputs after it.
//
// With `write:N` (`sync:N`), the process kills itself with SIGKILL instead of making its Nth
// write (sync) of the database files (tests/faults/faulty_vfs.h): a crash at an exact moment.
//
// Exits 0 when the workflow completed, 1 (the error on stderr) when it did not, 2 on a bad
// command line.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "storage/sqlite_event_store.h"
#include "tests/faults/crash_workflow.h"
#include "tests/faults/faulty_vfs.h"
#include "workflow/engine.h"
#include "workflow/step_context.h"
#include "workflow/step_registry.h"

namespace chorus {
namespace {

constexpr char kInput[] = "crash input";

absl::Status AppendLine(const std::string& path, absl::string_view line) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path));
  const std::string text = absl::StrCat(line, "\n");
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) return absl::InternalError(absl::StrCat("cannot append to ", path));
  return absl::OkStatus();
}

absl::StatusOr<StepRegistry> CrashSteps(const WorkflowDefinition& definition,
                                        const std::string& side_effects, bool loop) {
  StepRegistry registry;
  for (const StepDefinition& step : definition.steps()) {
    if (step.kind() != STEP_KIND_UNSPECIFIED) continue;
    const absl::Status registered = registry.Register(
        step.name(), [side_effects, loop](StepContext& context) -> absl::StatusOr<std::string> {
          const absl::Status appended = AppendLine(side_effects, context.step());
          if (!appended.ok()) return appended;
          absl::SleepFor(CrashStepDuration(context.step()));
          std::vector<absl::string_view> outputs;
          for (const DependencyOutput& dependency : context.dependencies()) {
            outputs.push_back(dependency.output);
          }
          if (!loop) return CrashStepOutput(context.step(), context.input(), outputs);
          const absl::Status error =
              LoopCrashStepError(context.step(), context.visit(), context.attempt());
          if (!error.ok()) return error;
          for (const auto& [key, number] : LoopCrashStepUpdates(context.step())) {
            Value value;
            value.set_number(number);
            const absl::Status updated = context.UpdateState(key, value);
            if (!updated.ok()) return updated;
          }
          return CrashStepOutput(absl::StrCat(context.step(), "~", context.visit()),
                                 context.input(), outputs);
        });
    if (!registered.ok()) return registered;
  }
  return registry;
}

absl::Status Drive(const std::string& db, const std::string& side_effects, const std::string& id,
                   ScheduleMode mode, bool loop) {
  const WorkflowDefinition definition = loop ? LoopCrashWorkflow() : CrashWorkflow();
  absl::StatusOr<StepRegistry> registry = CrashSteps(definition, side_effects, loop);
  if (!registry.ok()) return registry.status();
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(db, SqliteOptions());
  if (!store.ok()) return store.status();
  EngineOptions options;
  options.mode = mode;
  Engine engine(store->get(), &*registry, options);
  return engine.Run(id, definition, kInput).status();
}

// The crash that `point` ("write:N" or "sync:N") asks for; false if it is malformed.
bool ParseCrashPoint(absl::string_view point, FaultyVfs::Fault& fault, int& n) {
  if (absl::ConsumePrefix(&point, "write:")) {
    fault = FaultyVfs::Fault::kKillAtWrite;
  } else if (absl::ConsumePrefix(&point, "sync:")) {
    fault = FaultyVfs::Fault::kKillAtSync;
  } else {
    return false;
  }
  return absl::SimpleAtoi(point, &n) && n >= 1;
}

int Main(int argc, char** argv) {
  const std::string mode = argc >= 5 && argc <= 7 ? argv[4] : "";
  FaultyVfs::Fault crash = FaultyVfs::Fault::kNone;
  int crash_at = 0;
  bool loop = false;
  int next = 5;
  if (next < argc && absl::string_view(argv[next]) == "loop") {
    loop = true;
    ++next;
  }
  if ((mode != "wave" && mode != "eager") ||
      (next < argc && !ParseCrashPoint(argv[next++], crash, crash_at)) || next < argc) {
    std::fprintf(
        stderr,
        "usage: crash_driver DB SIDE_EFFECTS WORKFLOW_ID wave|eager [loop] [write:N|sync:N]\n");
    return 2;
  }
  std::optional<FaultyVfs> vfs;
  if (crash != FaultyVfs::Fault::kNone) {
    vfs.emplace();
    vfs->Arm(crash, crash_at);
  }
  const absl::Status status = Drive(
      argv[1], argv[2], argv[3], mode == "wave" ? ScheduleMode::kWave : ScheduleMode::kEager, loop);
  if (status.ok()) return 0;
  std::fprintf(stderr, "crash_driver: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace
}  // namespace chorus

int main(int argc, char** argv) { return chorus::Main(argc, argv); }
