// Runs each feature's example workflow (tools/examples/) with the built `chorus` binary, and
// checks the feature's visible effect in what `history`, `status`, `replay` and `list` print.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_fixture.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Example(absl::string_view name) {
  return absl::StrCat(CHORUS_SOURCE_DIR, "/tools/examples/", name);
}

// One line of `chorus history`: "   12  2026-11-21 23:12:05.123  step_failed  flaky#1  ...".
struct HistoryLine {
  int64_t seq;
  absl::Duration time_of_day;
  std::string kind;
  std::string subject;  // the step and attempt; for a workflow event, the details' first word
  std::string text;     // the whole line
};

std::vector<HistoryLine> ParseHistory(const std::string& history) {
  static const std::regex kLine(
      R"(^\s*(\d+)  \d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d)\.(\d{3})  (\S+)\s*(\S*).*)");
  std::vector<HistoryLine> lines;
  for (absl::string_view text : absl::StrSplit(history, '\n', absl::SkipEmpty())) {
    std::smatch match;
    const std::string line(text);
    if (!std::regex_match(line, match, kLine)) {
      ADD_FAILURE() << "not a history line: " << line;
      continue;
    }
    const absl::Duration time_of_day =
        absl::Hours(std::stoi(match[2])) + absl::Minutes(std::stoi(match[3])) +
        absl::Seconds(std::stoi(match[4])) + absl::Milliseconds(std::stoi(match[5]));
    lines.push_back({std::stoll(match[1]), time_of_day, match[6], match[7], line});
  }
  return lines;
}

// The first line of `history` with `kind` about `subject` ("left#1", "resize"), or nullptr.
const HistoryLine* Find(const std::vector<HistoryLine>& history, absl::string_view kind,
                        absl::string_view subject) {
  for (const HistoryLine& line : history) {
    if (line.kind == kind && line.subject == subject) return &line;
  }
  return nullptr;
}

// The seq of that line; 0 (and a test failure) if there is none.
int64_t SeqOf(const std::vector<HistoryLine>& history, absl::string_view kind,
              absl::string_view subject) {
  const HistoryLine* line = Find(history, kind, subject);
  if (line == nullptr) {
    ADD_FAILURE() << "no " << kind << " of " << subject << " in the history";
    return 0;
  }
  return line->seq;
}

// The time from `from` to `to`, which is at most a day later.
absl::Duration Elapsed(const HistoryLine& from, const HistoryLine& to) {
  const absl::Duration elapsed = to.time_of_day - from.time_of_day;
  return elapsed < absl::ZeroDuration() ? elapsed + absl::Hours(24) : elapsed;
}

class FeaturesCliTest : public ChorusCliTest {
 protected:
  // Runs example `file` as workflow `id` (with `extra` arguments); checks that its history
  // keeps every invariant, and returns the run's result.
  Result Run(absl::string_view file, const std::string& id,
             const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run", Example(file), "--id", id};
    args.insert(args.end(), extra.begin(), extra.end());
    Result run = Chorus(args);
    Result verify = Chorus({"verify", id});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    return run;
  }

  std::vector<HistoryLine> History(const std::string& id) {
    Result history = Chorus({"history", id});
    EXPECT_EQ(history.exit_code, 0) << history.err;
    return ParseHistory(history.out);
  }
};

TEST_F(FeaturesCliTest, StateMergesUpdatesByTheirReducersInDefinitionOrder) {
  for (const char* file : {"state.dot", "state.textproto"}) {
    SCOPED_TRACE(file);
    const std::string id = absl::StrCat("state-", file);
    Result run = Run(file, id);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::vector<HistoryLine> history = History(id);
    // count_b finishes first; the merge still puts count_a's updates first.
    EXPECT_LT(SeqOf(history, "step_completed", "count_b#1"),
              SeqOf(history, "step_completed", "count_a#1"));
    const HistoryLine* count_b = Find(history, "step_completed", "count_b#1");
    ASSERT_NE(count_b, nullptr);
    EXPECT_THAT(count_b->text,
                HasSubstr("state: total=3, files=\"b.txt\", files=\"c.txt\", note=\"from b\""));
    constexpr char kState[] =
        "  files = [\"a.txt\", \"b.txt\", \"c.txt\"]\n  note = \"from b\"\n  total = 5\n";
    EXPECT_THAT(Chorus({"status", id}).out, HasSubstr(absl::StrCat("\nstate:\n", kState)));
    // What report saw, and what replay rebuilds at its end.
    EXPECT_THAT(Chorus({"replay", id}).out,
                AllOf(HasSubstr("report               output \"{\\\"files\\\": [\\\"a.txt\\\""),
                      HasSubstr(absl::StrCat("state as of seq 10:\n", kState))));
    // Before count_a and count_b completed, the state was the initial one.
    EXPECT_THAT(Chorus({"replay", id, "--at", "5"}).out,
                HasSubstr("state as of seq 5:\n  files = []\n  total = 0\n"));
  }
}

TEST_F(FeaturesCliTest, NestedFanOutJoinsWaitForEveryBranch) {
  Result run = Run("fanout_nested.dot", "nested");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<HistoryLine> history = History("nested");
  const int64_t inner_join = SeqOf(history, "step_started", "inner_join#1");
  EXPECT_GT(inner_join, SeqOf(history, "step_completed", "right_a#1"));
  EXPECT_GT(inner_join, SeqOf(history, "step_completed", "right_b#1"));
  const int64_t outer_join = SeqOf(history, "step_started", "outer_join#1");
  EXPECT_GT(outer_join, SeqOf(history, "step_completed", "left#1"));
  EXPECT_GT(outer_join, SeqOf(history, "step_completed", "right_merge#1"));
  // The inner branches ran alongside the outer one: both started before left completed.
  EXPECT_LT(SeqOf(history, "step_started", "right_b#1"),
            SeqOf(history, "step_completed", "left#1"));
  EXPECT_THAT(Chorus({"replay", "nested"}).out,
              HasSubstr("report               output \"left\\nright a\\nright b\\n\""));
}

TEST_F(FeaturesCliTest, MapRunsAnInstancePerLineAndTheJoinSeesThemInIndexOrder) {
  for (const char* file : {"map.dot", "map.textproto"}) {
    SCOPED_TRACE(file);
    const std::string id = absl::StrCat("map-", file);
    Result run = Run(file, id);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::vector<HistoryLine> history = History(id);
    const HistoryLine* expanded = Find(history, "step_expanded", "resize");
    ASSERT_NE(expanded, nullptr);
    EXPECT_THAT(expanded->text, HasSubstr("4 items: \"alpha\", \"beta\", \"gamma\", ..."));
    // map_concurrency=2: never more than two instances at once.
    int running = 0;
    int most = 0;
    for (const HistoryLine& line : history) {
      if (line.subject.rfind("resize[", 0) != 0) continue;
      running += line.kind == "step_started" ? 1 : -1;
      most = std::max(most, running);
    }
    EXPECT_EQ(most, 2);
    EXPECT_THAT(Chorus({"status", id}).out,
                AllOf(HasSubstr("\nresize               completed"), HasSubstr("4 instances"),
                      HasSubstr("\n  resize[0]          completed"),
                      HasSubstr("\n  resize[3]          completed")));
    // Later items finish first; join sees index order all the same.
    EXPECT_THAT(
        Chorus({"replay", id}).out,
        HasSubstr("join                 output \"4 resized:\\n0: ALPHA\\n1: BETA\\n2: GAMMA\\n3: "
                  "DELTA\\n\""));
    EXPECT_THAT(Chorus({"graph", id}).out,
                AllOf(HasSubstr("\"resize\" [shape=box3d"), HasSubstr("\"resize[3]\" [shape=box"),
                      HasSubstr("\"resize\" -> \"resize[3]\" [style=dotted")));
  }
}

TEST_F(FeaturesCliTest, MapOverAnEmptyListGoesStraightToTheJoin) {
  Result run = Run("map.dot", "empty", {"--input", " "});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<HistoryLine> history = History("empty");
  const HistoryLine* expanded = Find(history, "step_expanded", "resize");
  ASSERT_NE(expanded, nullptr);
  EXPECT_THAT(expanded->text, HasSubstr("0 items"));
  EXPECT_THAT(Chorus({"replay", "empty"}).out,
              HasSubstr("join                 output \"0 resized:\\n\""));
}

TEST_F(FeaturesCliTest, RetryRunsAFailedAttemptAgainAfterItsBackoff) {
  Result run = Run("retry.dot", "retry");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<HistoryLine> history = History("retry");
  const HistoryLine* failed = Find(history, "step_failed", "flaky#1");
  const HistoryLine* again = Find(history, "step_started", "flaky#2");
  ASSERT_NE(failed, nullptr);
  ASSERT_NE(again, nullptr);
  EXPECT_THAT(failed->text, AllOf(HasSubstr("service busy"), HasSubstr("; next attempt at ")));
  EXPECT_GE(Elapsed(*failed, *again), absl::Milliseconds(195));
  EXPECT_NE(Find(history, "step_completed", "flaky#2"), nullptr);
  // As of the failure, the retry is what comes next.
  EXPECT_THAT(Chorus({"replay", "retry", "--at", absl::StrCat(failed->seq)}).out,
              HasSubstr("would run next: flaky (retry at "));
  EXPECT_THAT(Chorus({"status", "retry"}).out,
              HasSubstr("\nflaky                completed         2"));
}

TEST_F(FeaturesCliTest, TimeoutStopsTheAttemptAndTheRetryTakesTheFastPath) {
  const absl::Time start = absl::Now();
  Result run = Run("timeout.dot", "timeout");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(8)) << "the 10 s sleep was not stopped";
  const std::vector<HistoryLine> history = History("timeout");
  const HistoryLine* failed = Find(history, "step_failed", "slow#1");
  ASSERT_NE(failed, nullptr);
  EXPECT_THAT(failed->text, AllOf(HasSubstr("DEADLINE_EXCEEDED"), HasSubstr("; timed out"),
                                  HasSubstr("; next attempt at ")));
  EXPECT_THAT(Chorus({"replay", "timeout"}).out,
              HasSubstr("report               output \"done on attempt 2\\n\""));
}

TEST_F(FeaturesCliTest, NonCriticalFailureSkipsItsDependentsAndCompletesWithFailures) {
  Result run = Run("partial_failure.dot", "partial");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("workflow 'partial' completed with failures: lint"));
  const std::vector<HistoryLine> history = History("partial");
  EXPECT_NE(Find(history, "step_skipped", "lint_report"), nullptr);
  EXPECT_NE(Find(history, "step_completed", "package#1"), nullptr);
  const HistoryLine* completed = Find(history, "workflow_completed", "with");
  ASSERT_NE(completed, nullptr);
  EXPECT_THAT(completed->text, HasSubstr("with failures of non-critical steps: lint"));
  EXPECT_THAT(Chorus({"status", "partial"}).out,
              AllOf(HasSubstr("): completed_with_failures, seq"),
                    HasSubstr("  failed non-critical steps: lint\n"),
                    HasSubstr("non-critical: its failure is tolerated")));
  EXPECT_THAT(Chorus({"list", "--status", "completed_with_failures"}).out,
              HasSubstr("partial                  partial_failure  completed_with_failures"));
}

TEST_F(FeaturesCliTest, ContinuePolicyRunsWhatDoesNotDependOnTheFailureThenFails) {
  Result run = Run("partial_failure.dot", "broken", {"--input", "break"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("build: compiler error"));
  const std::vector<HistoryLine> history = History("broken");
  // docs, still sleeping when build failed, was not cancelled: it completed.
  EXPECT_GT(SeqOf(history, "step_completed", "docs#1"), SeqOf(history, "step_failed", "build#1"));
  EXPECT_NE(Find(history, "step_skipped", "package"), nullptr);
  EXPECT_EQ(Find(history, "step_cancelled", "docs#1"), nullptr);
  EXPECT_THAT(history.back().text,
              HasSubstr("workflow_failed                         step 'build'"));
}

TEST_F(FeaturesCliTest, StepsSharingALockNeverOverlap) {
  Result run = Run("locks.dot", "locks");
  ASSERT_EQ(run.exit_code, 0) << run.err << " (the check step fails on an overlap)";
  const std::vector<HistoryLine> history = History("locks");
  const HistoryLine* blocked = Find(history, "step_blocked", "migrate_orders");
  ASSERT_NE(blocked, nullptr);
  EXPECT_THAT(blocked->text, HasSubstr("waiting for lock 'db'"));
  // One after the other, in definition order.
  EXPECT_GT(SeqOf(history, "step_started", "migrate_orders#1"),
            SeqOf(history, "step_completed", "migrate_users#1"));
  EXPECT_GT(SeqOf(history, "step_started", "migrate_items#1"),
            SeqOf(history, "step_completed", "migrate_orders#1"));
  EXPECT_THAT(Chorus({"replay", "locks", "--at", absl::StrCat(blocked->seq)}).out,
              HasSubstr("migrate_orders (waiting for lock 'db')"));
}

TEST_F(FeaturesCliTest, ExceedingTheBudgetFailsTheWorkflow) {
  Result run = Run("budget.dot", "budget");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("budget exceeded"));
  const std::vector<HistoryLine> history = History("budget");
  const HistoryLine* rewrite = Find(history, "step_completed", "rewrite#1");
  ASSERT_NE(rewrite, nullptr);
  EXPECT_THAT(rewrite->text, HasSubstr("; cost: 0.5"));
  EXPECT_EQ(Find(history, "step_started", "publish#1"), nullptr);
  EXPECT_THAT(history.back().text,
              AllOf(HasSubstr("workflow_failed"), HasSubstr("RESOURCE_EXHAUSTED"),
                    HasSubstr("budget exceeded")));
  EXPECT_THAT(Chorus({"status", "budget"}).out,
              AllOf(HasSubstr("  budget: spent 1.1 of 1 (exceeded)\n"), HasSubstr("cost 0.5")));
}

TEST_F(FeaturesCliTest, BackgroundStepRunsWhileTheMainLineGoesOnUntilTheSync) {
  Result run = Run("background.dot", "background");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<HistoryLine> history = History("background");
  const int64_t warm = SeqOf(history, "step_completed", "warm_cache#1");
  EXPECT_LT(SeqOf(history, "step_completed", "transform#1"), warm);
  EXPECT_GT(SeqOf(history, "step_started", "sync#1"), warm);
  EXPECT_GT(SeqOf(history, "step_started", "publish#1"),
            SeqOf(history, "step_completed", "sync#1"));
  EXPECT_THAT(Chorus({"graph", "background"}).out,
              AllOf(HasSubstr("\"warm_cache\" [shape=box, style=\"rounded,filled,dashed\""),
                    HasSubstr("\"sync\" [shape=octagon")));
}

TEST_F(FeaturesCliTest, StatusShowsWhatARunningWorkflowWaitsFor) {
  std::ofstream(dir_ + "/waits.dot") << R"dot(
    digraph waits {
      resources="db";
      hold [cmd="while [ ! -e go ]; do sleep 0.05; done", locks="db"];
      queued [cmd="true", locks="db"];
      flaky [cmd="echo no >&2; exit 1", retries=1, backoff="1m"];
    })dot";
  const pid_t chorus = fork();
  ASSERT_GE(chorus, 0);
  if (chorus == 0) {
    const std::string db = "--db=" + db_;
    const std::string file = dir_ + "/waits.dot";
    if (chdir(dir_.c_str()) != 0) _exit(127);
    std::freopen("/dev/null", "w", stderr);
    execl(CHORUS_CLI_PATH, "chorus", "run", file.c_str(), "--id", "waits", db.c_str(), nullptr);
    _exit(127);
  }
  std::string status;
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  while (absl::Now() < deadline) {
    status = Chorus({"status", "waits"}).out;
    if (absl::StrContains(status, "next attempt at") &&
        absl::StrContains(status, "waiting for lock 'db'")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(status, AllOf(HasSubstr("\nqueued               pending           0"),
                            HasSubstr("                     waiting for lock 'db'\n"),
                            HasSubstr("\nflaky                failed            1"),
                            HasSubstr("                     next attempt at ")));
  EXPECT_THAT(Chorus({"replay", "waits"}).out,
              AllOf(HasSubstr("queued (waiting for lock 'db')"), HasSubstr("flaky (retry at ")));
  std::ofstream(dir_ + "/go").close();
  EXPECT_EQ(Chorus({"cancel", "waits"}).exit_code, 0);
  int exit_status = 0;
  ASSERT_EQ(waitpid(chorus, &exit_status, 0), chorus);
  EXPECT_EQ(WEXITSTATUS(exit_status), 1);
}

}  // namespace
}  // namespace chorus
