// Runs `status`, `history`, `replay`, `graph` and `timeline` on a workflow whose graph loops:
// a history built by hand (as a scheduler of loops would record it) and imported.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_fixture.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

// The fix loop of tools/definition_file.h: implement, then test; a failed test goes back to
// implement, a passing one on to done. A test may be retried once within a visit.
WorkflowDefinition FixLoop() {
  WorkflowDefinition definition = DefinitionBuilder("fix_loop")
                                      .ShellStep("implement", "./implement.sh")
                                      .ShellStep("test", "./test.sh", {"implement"})
                                      .ShellStep("done", "echo done")
                                      .Build();
  definition.mutable_steps(1)->mutable_retry()->set_max_attempts(2);
  for (const char* to : {"done", "implement"}) {
    Edge* edge = definition.add_edges();
    edge->set_from("test");
    edge->set_to(to);
    edge->set_condition(to == std::string("done") ? "outcome=success" : "outcome=fail");
  }
  return definition;
}

// Builds a history of FixLoop() one event a second: Started("test", 2, 1) is visit 2's
// attempt 1 (a first visit's events leave `visit` unset, as every engine records them).
class LoopHistory {
 public:
  LoopHistory() {
    WorkflowStarted* started = Add().mutable_workflow_started();
    *started->mutable_definition() = FixLoop();
    started->set_fingerprint(Fingerprint(started->definition()));
  }
  LoopHistory& Started(const std::string& step, int visit, int attempt) {
    StepStarted* started = Add().mutable_step_started();
    started->set_step(step);
    started->set_attempt(attempt);
    if (visit > 1) started->set_visit(visit);
    return *this;
  }
  LoopHistory& Completed(const std::string& step, int visit, int attempt,
                         std::vector<std::string> taken) {
    StepCompleted* completed = Add().mutable_step_completed();
    completed->set_step(step);
    completed->set_attempt(attempt);
    completed->set_output(absl::StrCat(step, " ok\n"));
    if (visit > 1) completed->set_visit(visit);
    for (std::string& to : taken) completed->add_taken(std::move(to));
    return *this;
  }
  // A failure for good that took `taken`, or with `taken` empty a retried one.
  LoopHistory& Failed(const std::string& step, int visit, int attempt,
                      std::vector<std::string> taken) {
    Event& event = Add();
    StepFailed* failed = event.mutable_step_failed();
    failed->set_step(step);
    failed->set_attempt(attempt);
    failed->mutable_error()->set_code(static_cast<int>(absl::StatusCode::kUnknown));
    failed->mutable_error()->set_message(absl::StrCat(visit, " tests fail"));
    if (visit > 1) failed->set_visit(visit);
    if (taken.empty()) {
      failed->set_retryable(true);
      failed->mutable_next_attempt_at()->set_seconds(
          absl::ToUnixSeconds(RecordedAt(event) + absl::Seconds(1)));
    }
    for (std::string& to : taken) failed->add_taken(std::move(to));
    return *this;
  }
  LoopHistory& WorkflowCompleted() {
    Add().mutable_workflow_completed();
    return *this;
  }

  // The first `count` events (all by default) as an export file of workflow `id`.
  std::string ExportFile(const std::string& id, size_t count = SIZE_MAX) const {
    std::string file;
    for (size_t i = 0; i < events_.size() && i < count; ++i) {
      ExportedEvent exported;
      exported.set_workflow_id(id);
      *exported.mutable_event() = events_[i];
      std::string line;
      EXPECT_TRUE(google::protobuf::util::MessageToJsonString(exported, &line).ok());
      absl::StrAppend(&file, line, "\n");
    }
    return file;
  }

 private:
  Event& Add() {
    Event& event = events_.emplace_back();
    event.set_seq(events_.size());
    SetRecordedAt(absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(events_.size()), &event);
    return event;
  }

  std::vector<Event> events_;
};

// implement and test visited 3 times: test fails on visits 1 and 2, each failure routed back
// to implement; on visit 3 it fails once more, is retried, passes and goes on to done.
LoopHistory FixedOnTheThirdVisit() {
  LoopHistory history;
  for (int visit = 1; visit <= 2; ++visit) {
    history.Started("implement", visit, 1)
        .Completed("implement", visit, 1, {"test"})
        .Started("test", visit, 1)
        .Failed("test", visit, 1, {"implement"});
  }
  history.Started("implement", 3, 1)
      .Completed("implement", 3, 1, {"test"})
      .Started("test", 3, 1)
      .Failed("test", 3, 1, {})  // seq 13: retried within the visit
      .Started("test", 3, 2)
      .Completed("test", 3, 2, {"done"})
      .Started("done", 1, 1)
      .Completed("done", 1, 1, {})
      .WorkflowCompleted();
  return history;
}

class GraphCliTest : public ChorusCliTest {
 protected:
  // Imports the first `count` events of FixedOnTheThirdVisit() as workflow `id`.
  void Import(const std::string& id, size_t count = SIZE_MAX) {
    const std::string path = absl::StrCat(dir_, "/", id, ".jsonl");
    WriteFile(path, FixedOnTheThirdVisit().ExportFile(id, count));
    const Result imported = Chorus({"import", path});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
  }
};

TEST_F(GraphCliTest, StatusNamesEachStepByItsVisitAndCountsThatVisitsAttempts) {
  Import("loop");
  const Result status = Chorus({"status", "loop"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(
      status.out,
      AllOf(HasSubstr("workflow 'loop' (definition 'fix_loop'): completed, seq 18"),
            ContainsRegex("\nimplement#3 +completed +1 "), ContainsRegex("\ntest#3 +completed +2 "),
            ContainsRegex("\ndone +completed +1 "), Not(HasSubstr("done#"))));
  EXPECT_THAT(Chorus({"verify", "loop"}).out, HasSubstr("loop: ok"));

  // Up to test's second failure, which went back to implement.
  Import("routed", 9);
  EXPECT_THAT(
      Chorus({"status", "routed"}).out,
      AllOf(ContainsRegex("\nimplement#2 +completed +1 "), ContainsRegex("\ntest#2 +failed +1 "),
            HasSubstr("its failure was routed -> implement"),
            ContainsRegex("\ndone +pending +0 ")));
  EXPECT_THAT(Chorus({"status", "--help"}, /*with_db=*/false).out, HasSubstr("NAME#V"));
}

TEST_F(GraphCliTest, HistorySaysEachEventsVisitAndTheEdgesItsOutcomeTook) {
  Import("loop");
  const Result history = Chorus({"history", "loop"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  const std::vector<std::string> lines = absl::StrSplit(history.out, '\n');
  ASSERT_GE(lines.size(), 18u) << history.out;
  // From seq 2, after "<seq>  <time>  ".
  const std::vector<std::string> expected = {
      "step_started       implement#1",
      "step_completed     implement#1          output: \"implement ok\\n\"; -> test",
      "step_started       test#1",
      "step_failed        test#1               error: UNKNOWN: \"1 tests fail\"; -> implement",
      "step_started       implement#1          visit 2",
      "step_completed     implement#1          visit 2; output: \"implement ok\\n\"; -> test",
      "step_started       test#1               visit 2",
      "step_failed        test#1               visit 2; error: UNKNOWN: \"2 tests fail\"; -> "
      "implement",
      "step_started       implement#1          visit 3",
      "step_completed     implement#1          visit 3; output: \"implement ok\\n\"; -> test",
      "step_started       test#1               visit 3",
      "step_failed        test#1               visit 3; error: UNKNOWN: \"3 tests fail\" "
      "(retryable); next attempt at 2023-11-14 22:13:34.000",
      "step_started       test#2               visit 3",
      "step_completed     test#2               visit 3; output: \"test ok\\n\"; -> done",
      "step_started       done#1",
      "step_completed     done#1               output: \"done ok\\n\"",
      "workflow_completed",
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i + 2);
    EXPECT_THAT(lines[i + 1], EndsWith(absl::StrCat("  ", expected[i])));
  }
}

TEST_F(GraphCliTest, ReplayNamesEachStepByItsVisit) {
  Import("loop");
  EXPECT_THAT(Chorus({"replay", "loop", "--at", "12"}).out,
              AllOf(HasSubstr("  done       implement#3          output \"implement ok\\n\""),
                    HasSubstr("  running    test#3               attempt 1 (started, no outcome "
                              "yet)")));
}

TEST_F(GraphCliTest, GraphLabelsTheConditionsAndColoursTheEdgesTaken) {
  Import("loop");
  const Result graph = Chorus({"graph", "loop"});
  ASSERT_EQ(graph.exit_code, 0) << graph.err;
  EXPECT_THAT(
      graph.out,
      AllOf(HasSubstr("\"implement\" [shape=box, label=\"implement ×3\", fillcolor=\"#93c47d\", "
                      "tooltip=\"completed, visit 3, 1 attempt\"];"),
            HasSubstr("\"test\" [shape=box, label=\"test ×3\", fillcolor=\"#93c47d\", "
                      "tooltip=\"completed, visit 3, 2 attempts\"];"),
            HasSubstr("\"done\" [shape=box, fillcolor=\"#93c47d\", tooltip=\"completed, 1 "
                      "attempt\"];"),
            HasSubstr("\"implement\" -> \"test\" [color=\"#38761d\", penwidth=2];"),
            HasSubstr("\"test\" -> \"done\" [label=\"outcome=success\", color=\"#38761d\", "
                      "penwidth=2];"),
            HasSubstr("\"test\" -> \"implement\" [label=\"outcome=fail\", color=\"#9e9e9e\", "
                      "fontcolor=\"#9e9e9e\", style=dashed];"),
            HasSubstr("bold green edge: taken")));
  const Result svg = Chorus({"graph", "loop", "--format", "svg"});
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  EXPECT_THAT(svg.out, AllOf(HasSubstr(">test ×3</text>"), HasSubstr(">outcome=fail</text>")));

  // The definition alone: the conditions, no colours.
  WriteFile(dir_ + "/fix_loop.dot", R"dot(digraph fix_loop {
  implement [cmd="./implement.sh"];
  test [cmd="./test.sh"];
  done [cmd="echo done"];
  implement -> test;
  test -> done [condition="outcome=success"];
  test -> implement [condition="outcome=fail", label="retry"];
})dot");
  const Result file = Chorus({"graph", dir_ + "/fix_loop.dot"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_THAT(file.out, AllOf(HasSubstr("  \"implement\" -> \"test\";\n"),
                              HasSubstr("  \"test\" -> \"done\" [label=\"outcome=success\"];\n"),
                              HasSubstr("  \"test\" -> \"implement\" [label=\"retry: "
                                        "outcome=fail\"];\n"),
                              Not(HasSubstr("penwidth")), Not(HasSubstr("dashed"))));
}

TEST_F(GraphCliTest, TimelineHasARowPerAttemptOfEachVisit) {
  Import("loop");
  const Result timeline = Chorus({"timeline", "loop", "-o", dir_ + "/loop.svg"});
  ASSERT_EQ(timeline.exit_code, 0) << timeline.err;
  const std::string svg = ReadFile(dir_ + "/loop.svg");
  EXPECT_THAT(svg,
              AllOf(HasSubstr(">implement #1<"), HasSubstr(">implement#2 #1<"),
                    HasSubstr(">implement#3 #1<"), HasSubstr(">test #1<"), HasSubstr(">test#2 #1<"),
                    HasSubstr(">test#3 #1<"), HasSubstr(">test#3 #2<"), HasSubstr(">done #1<"),
                    HasSubstr("test visit 2 attempt 1: failed"),
                    HasSubstr("test visit 3 attempt 2: completed")));
  const std::vector<absl::string_view> rows = absl::StrSplit(svg, "<text class=\"label\"");
  EXPECT_EQ(rows.size(), 8u + 1);  // 3 of implement, 4 of test, 1 of done
}

}  // namespace
}  // namespace chorus
