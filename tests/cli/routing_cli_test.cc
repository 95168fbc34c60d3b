// Graphs with conditional edges, joins, routes and bounded loops, run with the built `chorus`
// binary: the examples of tools/examples/ (fix_loop.dot, branch.dot, loop_forever.dot), the
// bounds on visits, a loop killed mid-visit and resumed, and definitions the CLI refuses.
// Each run's history is parsed and checked event by event: kind, step, visit, edges taken.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_fixture.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string Example(absl::string_view name) {
  return absl::StrCat(CHORUS_SOURCE_DIR, "/tools/examples/", name);
}

// One line of `chorus history`:
//   "    6  2026-12-07 23:16:25.671  step_started       implement#1          visit 2; log: ..."
struct Event {
  int seq = 0;
  std::string kind;
  std::string step;  // empty for a workflow event
  int attempt = 0;   // 0 when the line names none (a skipped step, a workflow event)
  int visit = 1;     // "visit N" in the details; 1 when absent
  std::vector<std::string> taken;  // "-> a, b" ending the details
  std::string details;             // everything after the subject
  std::string line;

  // "kind step vN -> a,b": what a run's sequence of events is compared on.
  std::string Summary() const {
    std::string summary = kind;
    if (!step.empty()) absl::StrAppend(&summary, " ", step, " v", visit);
    if (!taken.empty()) absl::StrAppend(&summary, " -> ", absl::StrJoin(taken, ","));
    return summary;
  }
};

std::vector<Event> ParseHistory(const std::string& history) {
  static const std::regex kLine(
      R"(^\s*(\d+)  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  (\S+)(?: +(.*))?$)");
  std::vector<Event> events;
  for (absl::string_view text : absl::StrSplit(history, '\n', absl::SkipEmpty())) {
    const std::string line(text);
    std::smatch match;
    if (!std::regex_match(line, match, kLine)) {
      ADD_FAILURE() << "not a history line: " << line;
      continue;
    }
    Event event;
    event.line = line;
    EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &event.seq)) << line;
    event.kind = match[2];
    std::string rest = match[3];
    if (absl::StartsWith(event.kind, "step_")) {
      const size_t space = rest.find(' ');
      const std::string subject = rest.substr(0, space);
      rest = space == std::string::npos ? "" : rest.substr(space);
      const std::vector<std::string> parts = absl::StrSplit(subject, '#');
      event.step = parts[0];
      if (parts.size() == 2) {
        EXPECT_TRUE(absl::SimpleAtoi(parts[1], &event.attempt)) << line;
      }
    }
    event.details = std::string(absl::StripAsciiWhitespace(rest));
    absl::string_view details = event.details;
    if (absl::ConsumePrefix(&details, "visit ")) {
      const size_t end = details.find(';');
      EXPECT_TRUE(absl::SimpleAtoi(details.substr(0, end), &event.visit)) << line;
      EXPECT_GT(event.visit, 1) << "a first visit is not named: " << line;
    }
    // The edges taken end the details: "...; -> a, b", or "-> a" alone.
    size_t arrow = event.details.rfind("; -> ");
    if (arrow != std::string::npos) {
      arrow += 2;
    } else if (absl::StartsWith(event.details, "-> ")) {
      arrow = 0;
    }
    if (arrow != std::string::npos) {
      event.taken = absl::StrSplit(event.details.substr(arrow + 3), ", ");
    }
    events.push_back(std::move(event));
  }
  return events;
}

std::vector<std::string> Summaries(const std::vector<Event>& events) {
  std::vector<std::string> summaries;
  for (const Event& event : events) summaries.push_back(event.Summary());
  return summaries;
}

// The events of `events` of kind `kind` about step `step`.
std::vector<Event> Of(const std::vector<Event>& events, absl::string_view kind,
                      absl::string_view step) {
  std::vector<Event> found;
  for (const Event& event : events) {
    if (event.kind == kind && event.step == step) found.push_back(event);
  }
  return found;
}

// The output of a step_completed line: `output: "..."`, as history shows it (escaped).
std::string OutputOf(const Event& event) {
  static const std::regex kOutput(R"re(output: ("(?:[^"\\]|\\.)*"))re");
  std::smatch match;
  if (!std::regex_search(event.details, match, kOutput)) {
    ADD_FAILURE() << "no output in " << event.line;
    return "";
  }
  return match[1];
}

// One row of the table `chorus status` prints: "test#3   completed   1   0.00s  -  <log>".
struct StatusRow {
  std::string step;  // NAME, or NAME#V for a step on its visit V > 1
  std::string status;
  std::string attempts;
};

std::vector<StatusRow> ParseStatus(const std::string& status) {
  static const std::regex kRow(R"(^(\S+) +([a-z_]+) +(\d+) .*)");
  std::vector<StatusRow> rows;
  bool in_table = false;
  for (absl::string_view text : absl::StrSplit(status, '\n')) {
    const std::string line(text);
    if (absl::StartsWith(line, "STEP ")) {
      in_table = true;
      continue;
    }
    // An indented line says more about the row above it; any other line ends the table.
    if (!in_table || absl::StartsWith(line, " ")) continue;
    std::smatch match;
    if (!std::regex_match(line, match, kRow)) {
      in_table = false;
      continue;
    }
    rows.push_back({match[1], match[2], match[3]});
  }
  return rows;
}

std::vector<std::string> StepsAndStatuses(const std::vector<StatusRow>& rows) {
  std::vector<std::string> out;
  for (const StatusRow& row : rows) out.push_back(absl::StrCat(row.step, " ", row.status));
  return out;
}

class RoutingCliTest : public ChorusCliTest {
 protected:
  // Runs `file` as workflow `id`; checks that its history keeps every invariant.
  Result Run(const std::string& file, const std::string& id) {
    Result run = Chorus({"run", file, "--id", id});
    Result verify = Chorus({"verify", id});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    return run;
  }

  std::vector<Event> History(const std::string& id) {
    Result history = Chorus({"history", id});
    EXPECT_EQ(history.exit_code, 0) << history.err;
    return ParseHistory(history.out);
  }

  std::vector<StatusRow> Status(const std::string& id) {
    Result status = Chorus({"status", id});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    return ParseStatus(status.out);
  }

  // The rows of `chorus list` (its header left out).
  std::vector<std::string> ListedIds() {
    Result list = Chorus({"list"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    std::vector<std::string> ids;
    for (absl::string_view line : absl::StrSplit(list.out, '\n', absl::SkipEmpty())) {
      if (absl::StartsWith(line, "ID ")) continue;
      ids.emplace_back(line.substr(0, line.find(' ')));
    }
    return ids;
  }
};

TEST_F(RoutingCliTest, FixLoopRunsImplementAndTestThreeTimesThenDone) {
  Result run = Run(Example("fix_loop.dot"), "fix");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("workflow 'fix' completed"));

  const std::vector<Event> history = History("fix");
  EXPECT_THAT(Summaries(history), ElementsAre("workflow_started",                      //
                                              "step_started implement v1",             //
                                              "step_completed implement v1 -> test",   //
                                              "step_started test v1",                  //
                                              "step_failed test v1 -> implement",      //
                                              "step_started implement v2",             //
                                              "step_completed implement v2 -> test",   //
                                              "step_started test v2",                  //
                                              "step_failed test v2 -> implement",      //
                                              "step_started implement v3",             //
                                              "step_completed implement v3 -> test",   //
                                              "step_started test v3",                  //
                                              "step_completed test v3 -> done",        //
                                              "step_started done v1",                  //
                                              "step_completed done v1",                //
                                              "workflow_completed"));
  // Each visit's one attempt is its first; the later visits say which they are.
  for (const Event& event : history) {
    if (event.step.empty()) continue;
    EXPECT_EQ(event.attempt, event.kind == "step_skipped" ? 0 : 1) << event.line;
    if (event.visit > 1) {
      EXPECT_THAT(event.line, HasSubstr(absl::StrCat("visit ", event.visit, ";")));
    }
  }
  for (int i = 0; i < static_cast<int>(history.size()); ++i) {
    EXPECT_EQ(history[i].seq, i + 1) << history[i].line;
  }
  const std::vector<Event> failures = Of(history, "step_failed", "test");
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_THAT(failures[0].details, HasSubstr("visit 1: 1 test fails"));
  EXPECT_THAT(failures[1].details, HasSubstr("visit 2: 1 test fails"));
  // done prints what test's passing (third) visit printed.
  const std::vector<Event> test_done = Of(history, "step_completed", "test");
  const std::vector<Event> done = Of(history, "step_completed", "done");
  ASSERT_EQ(test_done.size(), 1u);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(OutputOf(test_done[0]), "\"visit 3: all tests pass\\n\"");
  EXPECT_EQ(OutputOf(done[0]), OutputOf(test_done[0]));

  EXPECT_THAT(StepsAndStatuses(Status("fix")),
              ElementsAre("implement#3 completed", "test#3 completed", "done completed"));
  for (const StatusRow& row : Status("fix")) EXPECT_EQ(row.attempts, "1") << row.step;
}

TEST_F(RoutingCliTest, BranchRoutesToFullReviewAndSkipsQuickReview) {
  Result run = Run(Example("branch.dot"), "branch");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("workflow 'branch' completed"));

  const std::vector<Event> history = History("branch");
  EXPECT_THAT(Summaries(history), ElementsAre("workflow_started",                         //
                                              "step_started check v1",                    //
                                              "step_completed check v1 -> full_review",   //
                                              "step_skipped quick_review v1",             //
                                              "step_started full_review v1",              //
                                              "step_completed full_review v1 -> report",  //
                                              "step_started report v1",                   //
                                              "step_completed report v1",                 //
                                              "workflow_completed"));
  const std::vector<Event> skipped = Of(history, "step_skipped", "quick_review");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].details, "reason: no edge into it was taken");
  EXPECT_TRUE(Of(history, "step_started", "quick_review").empty());
  const std::vector<Event> check = Of(history, "step_completed", "check");
  ASSERT_EQ(check.size(), 1u);
  EXPECT_THAT(check[0].details, HasSubstr("state: size=\"big\""));
  // report joins both reviews, and sees only the one that ran.
  const std::vector<Event> full_review = Of(history, "step_completed", "full_review");
  const std::vector<Event> report = Of(history, "step_completed", "report");
  ASSERT_EQ(full_review.size(), 1u);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(OutputOf(full_review[0]), "\"full review: ok\\n\"");
  EXPECT_EQ(OutputOf(report[0]), OutputOf(full_review[0]));

  EXPECT_THAT(StepsAndStatuses(Status("branch")),
              ElementsAre("check completed", "quick_review skipped", "full_review completed",
                          "report completed"));
  EXPECT_THAT(Chorus({"status", "branch"}).out, HasSubstr("\nstate:\n  size = \"big\"\n"));
}

TEST_F(RoutingCliTest, LoopForeverFailsWhenPollReachesItsMaxVisits) {
  Result run = Run(Example("loop_forever.dot"), "forever");
  // A failed workflow exits 1 (`chorus help`: "1 workflow failed or cancelled").
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("step 'poll' reached its limit of 5 visits (max_visits)"));

  const std::vector<Event> history = History("forever");
  std::vector<std::string> expected = {"workflow_started"};
  for (int visit = 1; visit <= 5; ++visit) {
    expected.push_back(absl::StrCat("step_started poll v", visit));
    expected.push_back(absl::StrCat("step_completed poll v", visit, " -> poll"));
  }
  expected.push_back("workflow_failed");
  EXPECT_THAT(Summaries(history), ElementsAreArray(expected));
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().details,
            "RESOURCE_EXHAUSTED: \"step \\'poll\\' reached its limit of 5 visits (max_visits)\"");
  for (const Event& event : history) EXPECT_NE(event.step, "give_up") << event.line;

  Result status = Chorus({"status", "forever"});
  EXPECT_THAT(status.out,
              AllOf(HasSubstr("): failed, "),
                    HasSubstr("step 'poll' reached its limit of 5 visits (max_visits)")));
  EXPECT_THAT(StepsAndStatuses(ParseStatus(status.out)),
              ElementsAre("poll#5 completed", "give_up pending"));
}

TEST_F(RoutingCliTest, TheWorkflowsMaxVisitsBoundsAStepWithoutItsOwn) {
  WriteFile(dir_ + "/spin.dot", R"dot(digraph spin {
  max_visits=3;
  spin [cmd="echo \"spin $CHORUS_VISIT\""];
  spin -> spin [condition="outcome=success"];
})dot");
  Result run = Run(dir_ + "/spin.dot", "spin");
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("step 'spin' reached its limit of 3 visits (max_visits)"));
  const std::vector<Event> history = History("spin");
  EXPECT_THAT(Summaries(history),
              ElementsAre("workflow_started", "step_started spin v1",
                          "step_completed spin v1 -> spin", "step_started spin v2",
                          "step_completed spin v2 -> spin", "step_started spin v3",
                          "step_completed spin v3 -> spin", "workflow_failed"));
  const std::vector<Event> completed = Of(history, "step_completed", "spin");
  ASSERT_EQ(completed.size(), 3u);
  EXPECT_EQ(OutputOf(completed[2]), "\"spin 3\\n\"");  // $CHORUS_VISIT counts the visits
}

TEST_F(RoutingCliTest, AStepsOwnMaxVisitsOverridesTheWorkflows) {
  for (const auto& [graph_bound, step_bound] : {std::pair{3, 5}, std::pair{5, 2}}) {
    SCOPED_TRACE(absl::StrCat("graph ", graph_bound, ", step ", step_bound));
    const std::string id = absl::StrCat("spin-", graph_bound, "-", step_bound);
    WriteFile(dir_ + "/" + id + ".dot",
              absl::StrCat("digraph spin {\n  max_visits=", graph_bound,
                           ";\n  spin [cmd=\"echo spin\", max_visits=", step_bound,
                           "];\n  spin -> spin [condition=\"outcome=success\"];\n}\n"));
    Result run = Run(dir_ + "/" + id + ".dot", id);
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_THAT(run.err, HasSubstr(absl::StrCat("step 'spin' reached its limit of ", step_bound,
                                                " visits (max_visits)")));
    const std::vector<Event> started = Of(History(id), "step_started", "spin");
    ASSERT_EQ(started.size(), static_cast<size_t>(step_bound));
    EXPECT_EQ(started.back().visit, step_bound);
  }
}

// A loop whose driver is killed (SIGKILL) in the middle of a later visit resumes on that
// visit, and ends as an uninterrupted run does; what was recorded before the kill stays.
TEST_F(RoutingCliTest, ALoopKilledMidVisitResumesOnThatVisitAndEndsAsIfUninterrupted) {
  // work's second visit sleeps the first time only (the marker file remembers); check fails on
  // its first two visits, sending the run back to work.
  const std::string marker = dir_ + "/marker";
  const std::string pid_file = dir_ + "/work.pid";
  WriteFile(dir_ + "/loop.dot",
            absl::StrCat("digraph resumable {\n"
                         "  work [cmd=\"if [ $CHORUS_VISIT -eq 2 ]; then test -e ",
                         marker, " || { touch ", marker, "; echo $$ > ", pid_file,
                         "; sleep 300; }; fi; echo \\\"work $CHORUS_VISIT\\\"\"];\n"
                         "  check [cmd=\"if [ $CHORUS_VISIT -lt 3 ]; then echo \\\"check "
                         "$CHORUS_VISIT fails\\\" >&2; exit 1; fi; echo \\\"check passes\\\"\"];\n"
                         "  finish [cmd=\"cat \\\"$CHORUS_DEP_CHECK\\\"\"];\n"
                         "  work -> check;\n"
                         "  check -> work [condition=\"outcome=fail\"];\n"
                         "  check -> finish [condition=\"outcome=success\"];\n"
                         "}\n"));
  const pid_t chorus = fork();
  ASSERT_GE(chorus, 0);
  if (chorus == 0) {
    const std::string db = "--db=" + db_;
    const std::string file = dir_ + "/loop.dot";
    if (chdir(dir_.c_str()) != 0) _exit(127);
    std::freopen((dir_ + "/run.err").c_str(), "w", stderr);
    std::freopen("/dev/null", "w", stdout);
    execl(CHORUS_CLI_PATH, "chorus", "run", file.c_str(), "--id", "cut", db.c_str(), nullptr);
    _exit(127);
  }
  // Kills the sleeping step's process group if the test gives up before it does.
  struct KillStep {
    std::string pid_file;
    bool killed = false;
    ~KillStep() {
      const pid_t step = std::atoi(ReadFile(pid_file).c_str());
      if (!killed && step > 0) kill(-step, SIGKILL);
    }
  } kill_step{pid_file};
  static const std::regex kRunningVisit2(R"((^|\n)work#2 +running )");
  std::string status;
  const bool sleeping = Eventually([&] {
    status = Chorus({"status", "cut"}).out;
    return std::regex_search(status, kRunningVisit2) && !ReadFile(pid_file).empty();
  });
  if (!sleeping) {
    kill(chorus, SIGKILL);
    waitpid(chorus, nullptr, 0);
    FAIL() << "work never ran its second visit: " << status << ReadFile(dir_ + "/run.err");
  }
  EXPECT_THAT(StepsAndStatuses(ParseStatus(status)),
              ElementsAre("work#2 running", "check failed", "finish pending"));

  // The driver dies, and then its step.
  ASSERT_EQ(kill(chorus, SIGKILL), 0);
  int exit_status = 0;
  ASSERT_EQ(waitpid(chorus, &exit_status, 0), chorus);
  EXPECT_TRUE(WIFSIGNALED(exit_status));
  const pid_t step = std::atoi(ReadFile(pid_file).c_str());
  ASSERT_GT(step, 0);
  kill(-step, SIGKILL);  // the step leads its own process group
  kill_step.killed = true;

  Result before = Chorus({"export", "cut"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  const std::vector<Event> cut = History("cut");
  EXPECT_THAT(Summaries(cut),
              ElementsAre("workflow_started", "step_started work v1",
                          "step_completed work v1 -> check", "step_started check v1",
                          "step_failed check v1 -> work", "step_started work v2"));

  Result resumed = Chorus({"resume", "cut"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(Chorus({"verify", "cut"}).exit_code, 0);

  // What was recorded before the kill is still there, byte for byte.
  Result after = Chorus({"export", "cut"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(absl::StartsWith(after.out, before.out)) << before.out << "\n---\n" << after.out;
  EXPECT_GT(after.out.size(), before.out.size());
  const std::vector<Event> resumed_history = History("cut");
  ASSERT_GE(resumed_history.size(), cut.size());
  for (size_t i = 0; i < cut.size(); ++i) EXPECT_EQ(resumed_history[i].line, cut[i].line);

  // The same file run again without a kill (the marker is there now: nothing sleeps).
  Result whole = Run(dir_ + "/loop.dot", "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const std::vector<Event> uninterrupted = History("whole");
  EXPECT_THAT(Summaries(uninterrupted),
              ElementsAre("workflow_started", "step_started work v1",
                          "step_completed work v1 -> check", "step_started check v1",
                          "step_failed check v1 -> work", "step_started work v2",
                          "step_completed work v2 -> check", "step_started check v2",
                          "step_failed check v2 -> work", "step_started work v3",
                          "step_completed work v3 -> check", "step_started check v3",
                          "step_completed check v3 -> finish", "step_started finish v1",
                          "step_completed finish v1", "workflow_completed"));
  // The resumed run starts visit 2 of work again (its interrupted attempt left no outcome);
  // every outcome, and every visit, is the uninterrupted run's.
  auto outcomes = [](const std::vector<Event>& events) {
    std::vector<std::string> outcomes;
    for (const Event& event : events) {
      if (event.kind == "step_started") continue;
      std::string outcome = event.Summary();
      if (event.kind == "step_completed") absl::StrAppend(&outcome, " ", OutputOf(event));
      outcomes.push_back(outcome);
    }
    return outcomes;
  };
  auto visits = [](const std::vector<Event>& events) {
    std::set<std::pair<std::string, int>> visits;
    for (const Event& event : events) {
      if (event.kind == "step_started") visits.emplace(event.step, event.visit);
    }
    return visits;
  };
  EXPECT_EQ(outcomes(resumed_history), outcomes(uninterrupted));
  EXPECT_EQ(visits(resumed_history), visits(uninterrupted));
  const std::vector<Event> restarted = Of(resumed_history, "step_started", "work");
  ASSERT_EQ(restarted.size(), 4u);
  EXPECT_EQ(restarted[1].visit, 2);
  EXPECT_EQ(restarted[2].visit, 2);
  EXPECT_EQ(restarted[2].attempt, 2) << restarted[2].line;
  EXPECT_EQ(StepsAndStatuses(Status("cut")), StepsAndStatuses(Status("whole")));
  EXPECT_THAT(StepsAndStatuses(Status("cut")),
              ElementsAre("work#3 completed", "check#3 completed", "finish completed"));
}

TEST_F(RoutingCliTest, MalformedGraphsAreRefusedNamingTheProblemAndRecordNothing) {
  // A database with one workflow in it, so that `list` can say what the refusals left.
  WriteFile(dir_ + "/ok.dot", "digraph ok { a [cmd=\"echo a\"]; }\n");
  ASSERT_EQ(Run(dir_ + "/ok.dot", "ok").exit_code, 0);

  const struct {
    const char* file;
    const char* text;
    std::vector<std::string> problem;
  } kCases[] = {
      {"misspelt.dot",
       "digraph misspelt {\n  a [cmd=\"echo a\"];\n  b [cmd=\"echo b\"];\n"
       "  a -> b [condition=\"outcome=sucess\"];\n}\n",
       {"misspelt.dot: workflow definition 'misspelt' is invalid:\n",
        "  edge 'a' -> 'b': condition \"outcome=sucess\": at position 9: expected success, fail "
        "or partial_success\n"}},
      {"misspelt.textproto",
       "name: 'misspelt'\nsteps { name: 'a' command: 'echo a' }\n"
       "steps { name: 'b' command: 'echo b' }\n"
       "edges { from: 'a' to: 'b' condition: 'outcome=fail &&' }\n",
       {"misspelt.textproto: workflow definition 'misspelt' is invalid:\n",
        "  edge 'a' -> 'b': condition \"outcome=fail &&\": at position 16: expected outcome, "
        "preferred_label or context.<key>"}},
      {"join_all.dot",
       "digraph join_all {\n  a [cmd=\"echo a\"];\n  b [cmd=\"echo b\", join=all];\n"
       "  a -> b;\n  b -> a [condition=\"outcome=fail\"];\n}\n",
       {"join_all.dot: workflow definition 'join_all' is invalid:\n",
        "  step 'b' is on a loop and joins all: it could never start again\n"}},
      {"weight.dot",
       "digraph weight {\n  a [cmd=\"echo a\", route=first];\n  b [cmd=\"echo b\"];\n"
       "  a -> b [weight=\"heavy\"];\n}\n",
       {"weight.dot: edge 'a' -> 'b' attribute weight=\"heavy\": expected a whole number from "
        "-1000000 to 1000000"}},
      {"unconditional_loop.dot",
       "digraph unconditional_loop {\n  a [cmd=\"echo a\"];\n  b [cmd=\"echo b\"];\n"
       "  a -> b [label=\"there\"];\n  b -> a [label=\"back\"];\n}\n",
       {"unconditional_loop.dot: workflow definition 'unconditional_loop' is invalid:\n",
        "  cycle: a -> b -> a"}},
  };
  int n = 0;
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.file);
    WriteFile(dir_ + "/" + c.file, c.text);
    const std::string id = absl::StrCat("bad-", ++n);
    Result run = Chorus({"run", dir_ + "/" + c.file, "--id", id});
    EXPECT_EQ(run.exit_code, 3) << run.out << run.err;  // "3 bad definition"
    for (const std::string& part : c.problem) EXPECT_THAT(run.err, HasSubstr(part));
    EXPECT_THAT(run.out, IsEmpty());
    EXPECT_EQ(Chorus({"status", id}).exit_code, 4);  // "4 unknown workflow"
    // Refused before a driver started: no log folder either.
    EXPECT_FALSE(std::filesystem::exists(db_ + ".logs/" + id));
  }
  EXPECT_THAT(ListedIds(), ElementsAre("ok"));
}

TEST_F(RoutingCliTest, GraphOfFixLoopLabelsTheConditionalEdgesWithTheirConditions) {
  Result graph = Chorus({"graph", Example("fix_loop.dot")});
  ASSERT_EQ(graph.exit_code, 0) << graph.err;
  // Every edge line, by its ends: its attributes ("" for none).
  static const std::regex kEdge(R"re(^  "([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$)re");
  std::map<std::string, std::string> edges;
  for (absl::string_view text : absl::StrSplit(graph.out, '\n')) {
    const std::string line(text);
    std::smatch match;
    if (std::regex_match(line, match, kEdge)) {
      EXPECT_TRUE(edges.emplace(absl::StrCat(match[1].str(), " -> ", match[2].str()), match[3])
                      .second)
          << "drawn twice: " << line;
    }
  }
  EXPECT_EQ(edges, (std::map<std::string, std::string>{
                       {"implement -> test", ""},
                       {"test -> done", "label=\"outcome=success\""},
                       {"test -> implement", "label=\"outcome=fail\""},
                   }))
      << graph.out;
  EXPECT_THAT(graph.out, HasSubstr("digraph \"fix_loop\" {"));

  // An edge with a label as well shows both.
  Result branch = Chorus({"graph", Example("branch.dot")});
  ASSERT_EQ(branch.exit_code, 0) << branch.err;
  EXPECT_THAT(branch.out,
              AllOf(HasSubstr("  \"check\" -> \"quick_review\" [label=\"small: context.size=small\"];\n"),
                    HasSubstr("  \"check\" -> \"full_review\" [label=\"big: context.size=big\"];\n"),
                    HasSubstr("  \"full_review\" -> \"report\";\n")));
}

}  // namespace
}  // namespace chorus
