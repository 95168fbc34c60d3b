// `chorus run`, `chorus resume` and `chorus cancel`.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "event/internal/status_macros.h"
#include "storage/load_state.h"
#include "tools/cli/cli.h"
#include "tools/cli/commands.h"
#include "tools/cli/progress.h"
#include "tools/cli/signal_canceller.h"
#include "tools/cli/terminal.h"
#include "tools/definition_file.h"
#include "tools/read_file.h"
#include "tools/shell_step.h"
#include "workflow/definition.h"
#include "workflow/engine.h"
#include "workflow/step_registry.h"

namespace chorus::cli {
namespace {

// The options of `step`'s shell step: which of its dependencies are map steps.
ShellStepOptions ShellOptionsOf(const WorkflowDefinition& definition, const StepDefinition& step) {
  ShellStepOptions options;
  for (const StepDefinition& other : definition.steps()) {
    if (!other.map_over().empty() && absl::c_linear_search(step.depends_on(), other.name())) {
      options.map_dependencies.push_back(other.name());
    }
  }
  return options;
}

// A function per task step: its shell command. Structural steps need none.
absl::StatusOr<StepRegistry> ShellRegistry(const WorkflowDefinition& definition) {
  StepRegistry registry;
  for (const StepDefinition& step : definition.steps()) {
    if (step.kind() != STEP_KIND_UNSPECIFIED) continue;
    if (step.command().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("step '", step.name(), "' has no command to run"));
    }
    CHORUS_RETURN_IF_ERROR(registry.Register(
        step.name(), MakeShellStep(step.command(), ShellOptionsOf(definition, step))));
  }
  return registry;
}

absl::StatusOr<EngineOptions> ScheduleOptions(const Args& args) {
  EngineOptions options;
  CHORUS_ASSIGN_OR_RETURN(const int64_t parallel, args.GetInt("parallel", 4));
  if (parallel < 1 || parallel > 1024) {
    return absl::InvalidArgumentError("--parallel needs a number from 1 to 1024");
  }
  options.threads = static_cast<int>(parallel);
  const std::string mode = args.Get("mode", "eager");
  if (mode == "wave") {
    options.mode = ScheduleMode::kWave;
  } else if (mode != "eager") {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode is 'wave' or 'eager', not '", mode, "'"));
  }
  options.log_directory = LogDirectory(DatabasePath(args));
  return options;
}

// --input, or the contents of --input-file, which may hold at most `max_bytes`.
absl::StatusOr<std::string> ReadInput(const Args& args, size_t max_bytes) {
  if (!args.Has("input-file")) return args.Get("input");
  return ReadFileUpTo(args.Get("input-file"), max_bytes, "input file");
}

// Drives workflow `id` with shell steps: starts it from `definition` when given, else
// resumes it with its recorded definition. Reports progress on stderr and the outcome on
// stdout. SIGINT/SIGTERM cancel the run, which is recorded before chorus exits.
int Drive(EventStore& store, const std::string& id, const WorkflowDefinition& definition,
          const std::optional<std::string>& input, EngineOptions options) {
  absl::StatusOr<StepRegistry> registry = ShellRegistry(definition);
  if (!registry.ok()) {
    return Fail(kExitBadInput, registry.status().message(), NamesOf(id, definition));
  }
  absl::StatusOr<WorkflowState> recorded = LoadWorkflowState(store, id);
  WorkflowState before = recorded.ok() ? *recorded : WorkflowState();
  before.set_definition(std::make_shared<const WorkflowDefinition>(definition));

  CancellationToken cancellation;
  SignalCanceller signals(cancellation);
  absl::StatusOr<WorkflowState> result;
  {
    Progress progress(stderr, isatty(fileno(stderr)) != 0, before);
    options.on_commit = [&progress](absl::string_view, absl::Span<const Event> events) {
      progress.OnEvents(events);
    };
    Engine engine(&store, &*registry, options);
    result = input.has_value() ? engine.Run(id, definition, *input, cancellation)
                               : engine.Resume(id, cancellation);
  }
  if (result.ok() && result->status == WORKFLOW_STATUS_COMPLETED_WITH_FAILURES) {
    // The workflow tolerates the failures of its non-critical steps.
    PrintLine(stdout, "workflow '%s' completed with failures: %s", id,
              absl::StrJoin(result->failed_steps, ", "));
    return kExitOk;
  }
  if (result.ok()) {
    PrintLine(stdout, "workflow '%s' completed: %d steps", id, definition.steps_size());
    return kExitOk;
  }
  const std::vector<absl::string_view> names = NamesOf(id, definition);
  if (signals.received() != 0) return Fail(kExitInterrupted, result.status().message(), names);
  if (IsDriverFault(result.status())) {  // not the step's failure: nothing of it was recorded
    return Fail(kExitInternal, absl::StrCat(result.status().message(), " (chorus resume ", id, ")"),
                names);
  }
  absl::StatusOr<WorkflowState> after = LoadWorkflowState(store, id);
  const bool ended = after.ok() && (after->status == WORKFLOW_STATUS_FAILED ||
                                    after->status == WORKFLOW_STATUS_CANCELLED);
  return ended ? Fail(kExitWorkflowFailed, result.status().message(), names)
               : Fail(result.status(), names);
}

std::string DefaultId(const WorkflowDefinition& definition) {
  return absl::StrCat(definition.name().empty() ? "workflow" : definition.name(), "-",
                      absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()));
}

}  // namespace

int RunCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "run takes one FILE");
  const std::string& path = args.positional()[0];
  absl::StatusOr<WorkflowDefinition> definition = ReadDefinitionFile(path);
  if (!definition.ok()) return Fail(kExitBadInput, definition.status().message());
  const std::string id = args.Get("id", DefaultId(*definition));
  if (absl::Status valid = ValidateDefinition(*definition, nullptr); !valid.ok()) {
    return Fail(kExitBadInput, absl::StrCat(path, ": ", valid.message()), NamesOf(id, *definition));
  }
  absl::StatusOr<EngineOptions> options = ScheduleOptions(args);
  if (!options.ok()) return Fail(kExitUsage, options.status().message());
  absl::StatusOr<std::string> input = ReadInput(args, options->max_payload_bytes);
  if (!input.ok()) return Fail(kExitBadInput, input.status().message());
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/false);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  return Drive(**store, id, *definition, *input, *options);
}

int ResumeCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "resume takes one workflow ID");
  const std::string& id = args.positional()[0];
  absl::StatusOr<EngineOptions> options = ScheduleOptions(args);
  if (!options.ok()) return Fail(kExitUsage, options.status().message());
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/false);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  absl::StatusOr<WorkflowState> recorded = LoadWorkflowState(**store, id);
  if (!recorded.ok()) return Fail(recorded.status(), {id});
  return Drive(**store, id, recorded->definition(), std::nullopt, *options);
}

int CancelCommand(const Args& args) {
  if (args.positional().size() != 1) return Fail(kExitUsage, "cancel takes one workflow ID");
  const std::string& id = args.positional()[0];
  absl::StatusOr<int64_t> wait_seconds = args.GetInt("wait", 10);
  if (!wait_seconds.ok()) return Fail(kExitUsage, wait_seconds.status().message());
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenDatabase(args, /*read_only=*/false);
  if (!store.ok()) return Fail(kExitBadDatabase, store.status().message());
  absl::StatusOr<WorkflowSummary> summary = (*store)->GetSummary(id);
  if (!summary.ok()) return Fail(summary.status(), {id});
  if (summary->status != WORKFLOW_STATUS_RUNNING) {
    return Fail(kExitBusy,
                absl::StrCat("workflow '", id,
                             "' has already ended: ", WorkflowStatus_Name(summary->status)),
                {id});
  }
  if (absl::Status requested = (*store)->RequestCancellation(id, "cancelled by chorus cancel");
      !requested.ok()) {
    return Fail(requested, {id});
  }
  // A running driver honours the request within a second; give it the time to.
  const absl::Time deadline = absl::Now() + absl::Seconds(*wait_seconds);
  while (absl::Now() < deadline) {
    summary = (*store)->GetSummary(id);
    if (!summary.ok()) return Fail(summary.status(), {id});
    if (summary->status != WORKFLOW_STATUS_RUNNING) {
      PrintLine(stdout, "workflow '%s' cancelled by its driver", id);
      return kExitOk;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  // No driver answered: record the cancellation here.
  StepRegistry no_functions;
  Engine engine(store->get(), &no_functions);
  if (absl::Status cancelled = engine.Cancel(id); !cancelled.ok()) return Fail(cancelled, {id});
  PrintLine(stdout, "workflow '%s' cancelled (no running driver)", id);
  return kExitOk;
}

}  // namespace chorus::cli
