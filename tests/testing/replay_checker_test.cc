#include "workflow/testing/replay_checker.h"

#include <atomic>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/definition_file.h"
#include "tools/shell_step.h"
#include "workflow/definition.h"

namespace chorus {

void PrintTo(const ReplayDifference& difference, std::ostream* os) { *os << difference.ToString(); }

namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

absl::StatusOr<std::string> Ok(absl::string_view output) { return std::string(output); }

// Waits (bounded) for the step's cancellation and reports it as the step's error.
absl::StatusOr<std::string> WaitForCancellation(const StepContext& context) {
  if (!context.cancellation().WaitFor(absl::Minutes(1))) {
    return absl::DeadlineExceededError("never cancelled");
  }
  return absl::CancelledError(context.cancellation().reason());
}

// Its dependencies' outputs and its own name, so that every output carries where it came from.
absl::StatusOr<std::string> Echo(const StepContext& context) {
  std::string output = absl::StrCat(context.step(), "(");
  for (const DependencyOutput& dependency : context.dependencies()) {
    absl::StrAppend(&output, dependency.output, ";");
  }
  return absl::StrCat(output, context.input(), ")");
}

ReplayCheckOptions Options(ScheduleMode mode) {
  ReplayCheckOptions options;
  options.engine.threads = 4;
  options.engine.mode = mode;
  options.order_bound = absl::Milliseconds(300);
  return options;
}

ReplayReport Check(const WorkflowDefinition& definition, const StepRegistry& registry,
                   const ReplayCheckOptions& options) {
  absl::StatusOr<ReplayReport> report = CheckReplay(definition, registry, "in", options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.value_or(ReplayReport());
}

TEST(CheckReplay, FindsNoDifferenceInWellBehavedWorkflows) {
  StepRegistry registry;
  for (const char* name : {"a", "b", "c", "d", "e", "start", "report", "prepare"}) {
    ASSERT_TRUE(registry.Register(name, Echo).ok());
  }
  ASSERT_TRUE(registry.Register("slow", WaitForCancellation).ok());
  ASSERT_TRUE(registry
                  .Register("flaky",
                            [](const StepContext&) -> absl::StatusOr<std::string> {
                              return absl::InternalError("disk full");
                            })
                  .ok());
  const struct {
    const char* name;
    WorkflowDefinition definition;
    const char* outcome;  // the kind of the runs' last event
  } cases[] = {
      {"diamond",
       DefinitionBuilder("diamond")
           .Step("a")
           .Step("b", {"a"})
           .Step("c", {"a"})
           .Step("d", {"b", "c"})
           .Build(),
       "workflow_completed"},
      {"fan-out",
       DefinitionBuilder("fan")
           .Step("start")
           .FanOut("split", {"start"})
           .Step("a", {"split"})
           .Step("b", {"split"})
           .Step("c", {"split"})
           .Step("d", {"split"})
           .FanIn("join", {"a", "b", "c", "d"})
           .Step("report", {"join", "a", "b", "c", "d"})
           .Build(),
       "workflow_completed"},
      {"fail-fast",
       DefinitionBuilder("failing")
           .Step("prepare")
           .Step("slow", {"prepare"})
           .Step("flaky", {"prepare"})
           .Step("report", {"slow", "flaky"})
           .Build(),
       "workflow_failed"},
  };
  for (ScheduleMode mode : {ScheduleMode::kWave, ScheduleMode::kEager}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(absl::StrCat(c.name, mode == ScheduleMode::kWave ? " (wave)" : " (eager)"));
      std::vector<std::string> outcomes;
      ReplayCheckOptions options = Options(mode);
      options.engine.on_commit = [&](absl::string_view, absl::Span<const Event> events) {
        if (IsWorkflowTerminal(events.back())) outcomes.emplace_back(KindName(events.back()));
      };
      const ReplayReport report = Check(c.definition, registry, options);
      EXPECT_TRUE(report.ok()) << report.ToString();
      EXPECT_THAT(report.scenarios, Contains(StartsWith("crash after seq")));
      EXPECT_THAT(report.scenarios, Contains(HasSubstr("(reversed)")));
      EXPECT_THAT(outcomes, AllOf(Not(IsEmpty()), Each(c.outcome)))
          << "the caller's on_commit sees every run";
      EXPECT_EQ(report.ToString(),
                absl::StrCat("0 differences in ", report.scenarios.size(), " scenarios"));
    }
  }
}

TEST(CheckReplay, CrashesFallAtEveryCommittedBatchEndIncludingTheLast) {
  StepRegistry registry;
  for (const char* name : {"a", "b"}) ASSERT_TRUE(registry.Register(name, Echo).ok());
  ReplayCheckOptions options = Options(ScheduleMode::kWave);
  options.random_orders = 0;
  const ReplayReport report =
      Check(DefinitionBuilder("chain").Step("a").Step("b", {"a"}).Build(), registry, options);
  // Batches: {started, a started} {a completed, b started} {b completed} {completed}.
  EXPECT_THAT(report.scenarios, ElementsAre("crash after seq 2", "crash after seq 4",
                                            "crash after seq 5", "crash after seq 6"));
  EXPECT_TRUE(report.ok()) << report.ToString();
}

TEST(CheckReplay, BoundsTheNumberOfScenarios) {
  StepRegistry registry;
  for (const char* name : {"a", "b", "c", "d", "e"})
    ASSERT_TRUE(registry.Register(name, Echo).ok());
  ReplayCheckOptions options = Options(ScheduleMode::kWave);
  options.max_crash_points = 2;
  options.random_orders = 5;
  options.max_order_scenarios = 3;
  const ReplayReport report = Check(
      DefinitionBuilder("wide").Step("a").Step("b").Step("c").Step("d").Step("e", {"a"}).Build(),
      registry, options);
  ASSERT_THAT(report.scenarios, SizeIs(5));
  EXPECT_THAT(report.scenarios[0], StartsWith("crash after seq"));
  EXPECT_THAT(report.scenarios[1], StartsWith("crash after seq"));
  EXPECT_EQ(report.scenarios[2], "completion order of batch 1 (a, b, c, d): d, c, b, a (reversed)");
  EXPECT_THAT(report.scenarios[3], StartsWith("completion order of batch 1 (a, b, c, d): "));
  EXPECT_TRUE(report.ok()) << report.ToString();
}

// Counts its runs across the whole process: a crash that runs it again changes its output.
std::atomic<int> runs_of_count{0};

TEST(CheckReplay, ReportsAStepWhoseOutputDependsOnHowOftenItRan) {
  runs_of_count = 0;
  StepRegistry registry;
  ASSERT_TRUE(registry.Register("a", Echo).ok());
  ASSERT_TRUE(
      registry
          .Register("count",
                    [](const StepContext&) { return Ok(absl::StrCat("run ", ++runs_of_count)); })
          .ok());
  const ReplayReport report =
      Check(DefinitionBuilder("count").Step("a").Step("count", {"a"}).Build(), registry,
            Options(ScheduleMode::kWave));
  ASSERT_FALSE(report.ok());
  // Crash after seq 4: count had started, so it runs again: started at seq 5, completed at 6.
  EXPECT_THAT(report.differences,
              Contains(AllOf(Field(&ReplayDifference::scenario, "crash after seq 4"),
                             Field(&ReplayDifference::step, "count"),
                             Field(&ReplayDifference::what, "output"),
                             Field(&ReplayDifference::expected, "run 1"),
                             Field(&ReplayDifference::event, "step_completed at seq 6"))));
  for (const ReplayDifference& difference : report.differences) {
    EXPECT_EQ(difference.step, "count") << difference.ToString();
  }
  EXPECT_THAT(report.ToString(),
              AllOf(StartsWith(absl::StrCat(report.differences.size(), " differences in ")),
                    HasSubstr("\n  crash after seq 4: step 'count' output: expected \"run 1\", "
                              "actual \"run ")));
}

// Set by step "c" when it finishes; step "e" reports whether it saw that.
std::atomic<bool> c_finished{false};

TEST(CheckReplay, ReportsAStepThatSeesWhetherASiblingFinishedFirst) {
  StepRegistry registry;
  ASSERT_TRUE(registry.Register("b", Echo).ok());
  ASSERT_TRUE(registry
                  .Register("c",
                            [](const StepContext&) {
                              absl::SleepFor(absl::Milliseconds(300));
                              c_finished = true;
                              return Ok("C");
                            })
                  .ok());
  ASSERT_TRUE(
      registry
          .Register("e", [](const StepContext&) { return Ok(c_finished ? "after c" : "before c"); })
          .ok());
  ReplayCheckOptions options = Options(ScheduleMode::kEager);
  options.order_bound = absl::Seconds(10);
  // Each run that starts c starts it afresh.
  options.engine.on_commit = [](absl::string_view, absl::Span<const Event> events) {
    for (const Event& event : events) {
      if (event.has_step_started() && event.step_started().step() == "c") c_finished = false;
    }
  };
  // Eager: e starts as soon as b completes, which is before c finishes, unless b's completion
  // is held back until c's.
  const ReplayReport report = Check(
      DefinitionBuilder("race").Step("b").Step("c").Step("e", {"b"}).Build(), registry, options);
  EXPECT_THAT(
      report.differences,
      ElementsAre(AllOf(
          Field(&ReplayDifference::scenario, "completion order of batch 1 (b, c): c, b (reversed)"),
          Field(&ReplayDifference::step, "e"), Field(&ReplayDifference::what, "output"),
          Field(&ReplayDifference::expected, "before c"),
          Field(&ReplayDifference::actual, "after c"))))
      << report.ToString();
}

TEST(CheckReplay, RefusesWhatItCannotRun) {
  StepRegistry registry;
  ASSERT_TRUE(registry.Register("a", Echo).ok());
  const struct {
    const char* name;
    WorkflowDefinition definition;
    const char* message;
  } cases[] = {
      {"unknown dependency", DefinitionBuilder("w").Step("a", {"nope"}).Build(),
       "unknown step 'nope'"},
      {"no function", DefinitionBuilder("w").Step("a").Step("b").Build(),
       "step 'b' has no registered function"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status status = CheckReplay(c.definition, registry, "").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr(c.message));
  }
}

// The steps of an example workflow of tools/examples/: its shell commands, as `chorus run` runs
// them. (Not for map steps' dependents, which `chorus run` gives ShellStepOptions of their own.)
absl::StatusOr<StepRegistry> ShellSteps(const WorkflowDefinition& definition) {
  StepRegistry registry;
  for (const StepDefinition& step : definition.steps()) {
    if (step.kind() != STEP_KIND_UNSPECIFIED) continue;
    absl::Status registered = registry.Register(step.name(), MakeShellStep(step.command()));
    if (!registered.ok()) return registered;
  }
  return registry;
}

TEST(CheckReplay, FindsNoDifferenceInTheExampleWorkflows) {
  const struct {
    const char* file;
    const char* outcome;  // the kind of the runs' last event
    bool parallel;        // whether steps run at once, so that completion orders are tried
  } cases[] = {
      {"diamond.dot", "workflow_completed", true},
      {"analyze.dot", "workflow_completed", true},
      {"failing.dot", "workflow_failed", true},
      {"fanout_nested.dot", "workflow_completed", true},
      {"state.dot", "workflow_completed", true},
      {"fix_loop.dot", "workflow_completed", false},
      {"branch.dot", "workflow_completed", false},
      {"loop_forever.dot", "workflow_failed", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    std::vector<std::string> outcomes;
    absl::StatusOr<WorkflowDefinition> definition =
        ReadDefinitionFile(absl::StrCat(CHORUS_SOURCE_DIR, "/tools/examples/", c.file));
    ASSERT_TRUE(definition.ok()) << definition.status();
    absl::StatusOr<StepRegistry> registry = ShellSteps(*definition);
    ASSERT_TRUE(registry.ok()) << registry.status();
    // Real processes: a few crash points and one random order per batch.
    ReplayCheckOptions options = Options(ScheduleMode::kEager);
    options.max_crash_points = 3;
    options.random_orders = 1;
    options.order_bound = absl::Seconds(1);
    options.engine.on_commit = [&](absl::string_view, absl::Span<const Event> events) {
      if (IsWorkflowTerminal(events.back())) outcomes.emplace_back(KindName(events.back()));
    };
    const ReplayReport report = Check(*definition, *registry, options);
    EXPECT_TRUE(report.ok()) << report.ToString();
    if (c.parallel) {
      EXPECT_THAT(report.scenarios, Contains(HasSubstr("(reversed)")));
    }
    EXPECT_THAT(report.scenarios, Contains(HasSubstr("crash after")));
    EXPECT_THAT(outcomes, AllOf(Not(IsEmpty()), Each(c.outcome)));
  }
}

}  // namespace
}  // namespace chorus
