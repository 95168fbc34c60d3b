// Runs today's `chorus` on a history an earlier version recorded: histories stay readable by
// every later version (proto/event.proto), and a workflow an earlier version left running
// resumes. tests/cli/testdata/before_visits.jsonl is the export of a run of
// tests/cli/testdata/before_visits.dot by chorus at e40b636, before step events had visits and
// taken edges: prepare completed, flaky failed once and completed on its retry, and the driver
// was killed (SIGKILL) while build's attempt 1 ran, leaving the workflow running. The run's
// database was at /srv/chorus/chorus.db, which its step_started events name in their log paths.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "event/events.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/load_state.h"
#include "storage/sqlite_event_store.h"
#include "tests/cli/cli_fixture.h"

namespace chorus {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kId[] = "before-visits";

std::string Testdata(const std::string& name) {
  return absl::StrCat(CHORUS_SOURCE_DIR, "/tests/cli/testdata/", name);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class HistoryFormatCliTest : public ChorusCliTest {
 protected:
  // The folded state of workflow kId, read through the library.
  WorkflowState Folded() {
    SqliteOptions read_only;
    read_only.read_only = true;
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(db_, read_only);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return WorkflowState();
    absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, kId);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *std::move(state) : WorkflowState();
  }

  // Imports the recorded history and checks that it reads as it was recorded: build cut off,
  // the workflow running.
  void ImportTheRecordedHistory() {
    const Result imported = Chorus({"import", Testdata("before_visits.jsonl")});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    const Result verified = Chorus({"verify", kId});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

    const Result status = Chorus({"status", kId});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    EXPECT_THAT(status.out, HasSubstr("workflow 'before-visits' (definition 'before_visits'): "
                                      "running, seq 8"));
    EXPECT_THAT(status.out, ContainsRegex("\nprepare +completed +1 "));
    EXPECT_THAT(status.out, ContainsRegex("\nflaky +completed +2 "));
    EXPECT_THAT(status.out, ContainsRegex("\nbuild +running +1 "));
    EXPECT_THAT(status.out, ContainsRegex("\nreport +pending +0 "));
    EXPECT_THAT(status.out, HasSubstr("/srv/chorus/chorus.db.logs/before-visits/build.1.log"));
    EXPECT_THAT(status.out, HasSubstr("state:\n  done = 2\n"));  // prepare's and flaky's

    // The events have no visits: each started step is in its first, and took no edge.
    const WorkflowState cut_off = Folded();
    ASSERT_EQ(cut_off.status, WORKFLOW_STATUS_RUNNING);
    ASSERT_EQ(cut_off.steps.size(), 4u);
    for (const StepState& step : cut_off.steps) {
      SCOPED_TRACE(step.name);
      EXPECT_EQ(VisitOf(step), step.name == "report" ? 0 : 1);
      EXPECT_EQ(step.details().visit, 0);
      EXPECT_THAT(step.details().taken, IsEmpty());
      EXPECT_THAT(step.details().entered_by, IsEmpty());
    }
  }

  // Checks that the workflow completed every step once resumed, build on its attempt 2, and
  // that its history begins with the recorded events, unchanged.
  void ExpectCompletedAfterTheRecordedEvents() {
    const WorkflowState done = Folded();
    EXPECT_EQ(done.status, WORKFLOW_STATUS_COMPLETED);
    for (const StepState& step : done.steps) {
      SCOPED_TRACE(step.name);
      EXPECT_EQ(step.status, StepStatus::kCompleted);
      EXPECT_EQ(VisitOf(step), 1);
    }
    EXPECT_EQ(done.FindStep("prepare")->attempts, 1);
    EXPECT_EQ(done.FindStep("flaky")->attempts, 2);
    EXPECT_EQ(done.FindStep("build")->attempts, 2);
    EXPECT_EQ(done.FindStep("build")->output, "built\n");
    // report read the outputs and the state its ancestors made, the recorded ones among them.
    EXPECT_THAT(done.FindStep("report")->output, HasSubstr("flaky ok\nbuilt\n"));
    EXPECT_THAT(done.FindStep("report")->output, ContainsRegex("\"done\": *3"));

    const Result status = Chorus({"status", kId});
    EXPECT_THAT(status.out, ContainsRegex("\nbuild +completed +2 "));
    EXPECT_THAT(status.out, ContainsRegex("\nreport +completed +1 "));
    EXPECT_THAT(status.out, HasSubstr("state:\n  done = 3\n"));

    const Result exported = Chorus({"export", kId});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    const std::vector<std::string> recorded = Lines(ReadFile(Testdata("before_visits.jsonl")));
    const std::vector<std::string> now = Lines(exported.out);
    ASSERT_EQ(recorded.size(), 8u);
    ASSERT_GT(now.size(), recorded.size());
    for (size_t i = 0; i < recorded.size(); ++i) {
      EXPECT_EQ(now[i], recorded[i]) << "seq " << i + 1 << " changed";
    }
    EXPECT_THAT(now[8], HasSubstr("\"stepStarted\":{\"step\":\"build\",\"attempt\":2"));
    EXPECT_THAT(now.back(), HasSubstr("\"workflowCompleted\""));
    const Result verified = Chorus({"verify", "--all"});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  }
};

TEST_F(HistoryFormatCliTest, AHistoryRecordedBeforeVisitsImportsFoldsAndResumes) {
  ASSERT_NO_FATAL_FAILURE(ImportTheRecordedHistory());

  WriteFile(dir_ + "/go", "");  // build waits for it, in the working directory
  const Result resumed = Chorus({"resume", kId});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("workflow 'before-visits' completed"));

  ExpectCompletedAfterTheRecordedEvents();
}

// Today's DOT reader reads the file that ran into the definition that was recorded: `run` of
// the workflow's id resumes it rather than refusing another definition.
TEST_F(HistoryFormatCliTest, RunningTheRecordedFileAgainResumesAHistoryRecordedBeforeVisits) {
  ASSERT_NO_FATAL_FAILURE(ImportTheRecordedHistory());

  WriteFile(dir_ + "/go", "");
  const Result run = Chorus({"run", Testdata("before_visits.dot"), "--id", kId});
  EXPECT_EQ(run.exit_code, 0) << run.err;

  ExpectCompletedAfterTheRecordedEvents();
}

}  // namespace
}  // namespace chorus
