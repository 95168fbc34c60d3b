// Crash loops: a process drives the 53-step crash workflow (tests/faults/crash_workflow.h) and
// is killed with SIGKILL at a random moment; the next process resumes it and is killed too,
// and so on until one finishes. Afterwards the history must be sound, every step completed
// exactly once, every outcome equal to an uninterrupted run's, every step's side effect done
// at least once and never without its start recorded first, and the SQLite file intact.
// The loop crash workflow (LoopCrashWorkflow), whose steps run several visits, goes through
// the same kills: its visits must end as an uninterrupted run's did, none lost or added.
//
// The kill delays come from a seeded generator: the seed is printed, and CHORUS_CRASH_SEED=N
// draws the same delays again (where the kills land still depends on timing).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/history.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_fixture.h"
#include "tests/faults/crash_workflow.h"
#include "tests/faults/history_checks.h"
#include "tests/temp_dir.h"

extern char** environ;

namespace chorus {
namespace {

// Per test; the three tests of the crash workflow together kill at least 200 times.
constexpr int kDriverKills = 80;
constexpr int kCliKills = 40;
// Per mode, for the loop crash workflow.
constexpr int kLoopKills = 40;
// Bounds that only keep a broken build from looping for ever.
constexpr int kMaxLivesPerWorkflow = 500;
constexpr absl::Duration kProcessTimeout = absl::Minutes(1);

uint64_t Seed() {
  uint64_t seed = 0;
  const char* chosen = std::getenv("CHORUS_CRASH_SEED");
  if (chosen == nullptr || !absl::SimpleAtoi(chosen, &seed)) seed = std::random_device()();
  std::printf("crash loop seed %llu (CHORUS_CRASH_SEED=%llu draws the same delays)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

// Starts `argv` with stdout to /dev/null and stderr to `stderr_path`.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& stderr_path) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, args[0], &files, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  return error == 0 ? pid : -1;
}

// The wait status of `pid` if it exits before `deadline`.
std::optional<int> WaitUntil(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    const pid_t waited = waitpid(pid, &status, WNOHANG);
    if (waited == pid) return status;
    if (waited < 0 || absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Microseconds(200));
  }
}

int KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// Reaps the orphans this process has inherited as a subreaper (the shell steps of a killed
// `chorus`), waiting for them to end. Returns false if some are still running at the bound.
bool ReapOrphans() {
  const absl::Time deadline = absl::Now() + kProcessTimeout;
  while (true) {
    const pid_t pid = waitpid(-1, nullptr, WNOHANG);
    if (pid < 0) return errno == ECHILD;
    if (pid == 0) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
}

// The history a crash left of workflow `id` in `db` must fold without violation. Returns its
// last seq (0 if the crash came before the first commit).
int64_t ExpectSoundPrefix(const std::string& db, const std::string& id) {
  absl::StatusOr<std::vector<Event>> events = ReadEvents(db, id);
  if (absl::IsNotFound(events.status())) return 0;
  EXPECT_TRUE(events.ok()) << events.status();
  if (!events.ok()) return -1;
  const absl::Status folded = FoldHistory(id, *events).status();
  EXPECT_TRUE(folded.ok()) << folded;
  return events->empty() ? 0 : events->back().seq();
}

// How the lives of one workflow went.
struct Lives {
  int kills = 0;
  int lives = 0;
  // The history's last seq after each kill: where the kills landed.
  std::set<int64_t> kill_points;
};

// Runs driver processes, killing each after a random delay of at most `max_delay`, until one
// exits by itself with status 0. `command` gives each life's command line. After each kill,
// the history of workflow `id` in `db` must fold without violation.
class CrashLoop {
 public:
  CrashLoop(uint64_t seed, absl::Duration max_delay) : random_(seed), max_delay_(max_delay) {}

  void RunToCompletion(const std::function<std::vector<std::string>()>& command,
                       const std::string& db, const std::string& id, const std::string& stderr_path,
                       Lives& lives) {
    absl::Duration max_delay = max_delay_;
    int64_t last_point = -1;
    for (int life = 0; life < kMaxLivesPerWorkflow; ++life) {
      ++lives.lives;
      const pid_t pid = Spawn(command(), stderr_path);
      ASSERT_GT(pid, 0) << "cannot start " << command()[0];
      std::uniform_int_distribution<int64_t> delay_us(0, absl::ToInt64Microseconds(max_delay));
      std::optional<int> status =
          WaitUntil(pid, absl::Now() + absl::Microseconds(delay_us(random_)));
      if (!status.has_value()) status = KillAndReap(pid);
      if (WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) {
        ++lives.kills;
        const int64_t point = ExpectSoundPrefix(db, id);
        lives.kill_points.insert(point);
        // A kill where the last one landed: this process runs slower than the reference run
        // did (a loaded machine, a sanitizer's start-up), so the next life may live longer.
        max_delay = point == last_point ? 2 * max_delay : max_delay_;
        last_point = point;
        continue;
      }
      ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << "life " << life << " ended with wait status " << *status << ": "
          << ReadFile(stderr_path);
      return;
    }
    FAIL() << "workflow '" << id << "' did not complete in " << kMaxLivesPerWorkflow << " lives";
  }

 private:
  std::mt19937_64 random_;
  const absl::Duration max_delay_;
};

// How many times each line occurs in the side-effect file at `path`.
std::map<std::string, int> SideEffects(const std::string& path) {
  std::map<std::string, int> counts;
  std::istringstream lines(ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) ++counts[line];
  return counts;
}

// Everything a completed crash loop promises of workflow `id` in `db`. Adds to
// `cut_off_attempts` the attempts that kills cut off and resumption ran again.
void ExpectSurvived(const std::string& db, const std::string& id,
                    const std::string& side_effects_path,
                    const std::map<std::string, std::string>& reference_outputs,
                    int& cut_off_attempts) {
  absl::StatusOr<std::vector<Event>> events = ReadEvents(db, id);
  ASSERT_TRUE(events.ok()) << events.status();
  absl::StatusOr<WorkflowState> state = CheckCompletedOnce(id, *events);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(OutputsOf(*state), reference_outputs);
  const std::map<std::string, int> starts = CountPerStep(*events, Event::kStepStarted);
  const std::map<std::string, int> effects = SideEffects(side_effects_path);
  for (const StepDefinition& step : state->definition().steps()) {
    SCOPED_TRACE(step.name());
    const int started = starts.count(step.name()) ? starts.at(step.name()) : 0;
    const int done = effects.count(step.name()) ? effects.at(step.name()) : 0;
    cut_off_attempts += started - 1;
    if (step.kind() != STEP_KIND_UNSPECIFIED) {
      EXPECT_EQ(done, 0) << "a structural step has no side effect";
      continue;
    }
    EXPECT_GE(done, 1) << "the step's side effect never happened";
    EXPECT_LE(done, started) << "the step ran without its start recorded first";
  }
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

// The last event of `events`: the workflow's end.
Event LastEvent(const std::vector<Event>& events) {
  return events.empty() ? Event() : events.back();
}

// What an uninterrupted run of the loop crash workflow recorded, which a crash loop's must
// match.
struct LoopReference {
  std::map<std::string, std::vector<std::string>> visit_ends;  // VisitEnds
  std::map<std::string, std::string> outputs;
  std::string final_state;  // of the workflow_completed event
};

// Everything a completed crash loop promises of the loop crash workflow `id` in `db`: a sound
// history of a completed run whose visits ended as the reference's did, with its outputs and
// final state; each attempt's side effect done, and none without its start recorded first.
// Adds to `cut_off_attempts` the attempts that kills cut off and resumption ran again.
void ExpectSameVisits(const std::string& db, const std::string& id,
                      const std::string& side_effects_path, const LoopReference& reference,
                      int& cut_off_attempts) {
  absl::StatusOr<std::vector<Event>> events = ReadEvents(db, id);
  ASSERT_TRUE(events.ok()) << events.status();
  absl::StatusOr<WorkflowState> state = CheckCompleted(id, *events);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(VisitEnds(*events), reference.visit_ends);
  EXPECT_EQ(OutputsOf(*state), reference.outputs);
  EXPECT_EQ(LastEvent(*events).workflow_completed().ShortDebugString(), reference.final_state);
  const std::map<std::string, int> starts = CountPerStep(*events, Event::kStepStarted);
  const std::map<std::string, int> completed = CountPerStep(*events, Event::kStepCompleted);
  const std::map<std::string, int> failed = CountPerStep(*events, Event::kStepFailed);
  const std::map<std::string, int> effects = SideEffects(side_effects_path);
  auto count = [](const std::map<std::string, int>& counts, const std::string& step) {
    return counts.count(step) ? counts.at(step) : 0;
  };
  for (const StepDefinition& step : state->definition().steps()) {
    SCOPED_TRACE(step.name());
    const int started = count(starts, step.name());
    const int ended = count(completed, step.name()) + count(failed, step.name());
    const int done = count(effects, step.name());
    cut_off_attempts += started - ended;
    EXPECT_GE(done, ended) << "an attempt ended without its side effect";
    EXPECT_LE(done, started) << "the step ran without its start recorded first";
  }
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

// The DOT file of the crash workflow with shell steps: each appends its name to
// `side_effects`, then prints a checksum of its name and its dependencies' outputs.
std::string CrashWorkflowDot(const std::string& side_effects) {
  const WorkflowDefinition definition = CrashWorkflow();
  std::string dot = "digraph crash {\n";
  for (const StepDefinition& step : definition.steps()) {
    if (step.kind() == STEP_KIND_FAN_OUT) {
      absl::StrAppend(&dot, "  ", step.name(), " [type=fan_out];\n");
    } else if (step.kind() == STEP_KIND_FAN_IN) {
      absl::StrAppend(&dot, "  ", step.name(), " [type=fan_in];\n");
    } else {
      const std::string deps = step.depends_on().empty() ? "" : "cat $CHORUS_DEPS/*; ";
      absl::StrAppend(&dot, "  ", step.name(), " [cmd=\"echo ", step.name(), " >> ", side_effects,
                      "; { echo ", step.name(), "; ", deps, "} | cksum\"];\n");
    }
  }
  for (const StepDefinition& step : definition.steps()) {
    for (const std::string& dep : step.depends_on()) {
      absl::StrAppend(&dot, "  ", dep, " -> ", step.name(), ";\n");
    }
  }
  return dot + "}\n";
}

// Where a crash sweep kills the driver: at every write (sync) up to kEveryPointUpTo,
// which covers creating the database and the first commits, then at every kStride-th.
constexpr int kEveryPointUpTo = 24;
constexpr int kStride = 11;
int NextCrashPoint(int n) { return n < kEveryPointUpTo ? n + 1 : n + kStride; }

class CrashLoopTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Orphans of a killed `chorus` (its shell steps) become this process's children.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }

  // Runs `command` to its end and returns its wait status; nullopt if it did not end within
  // the bound.
  std::optional<int> WaitStatusOf(const std::vector<std::string>& command) {
    const pid_t pid = Spawn(command, stderr_path());
    if (pid <= 0) return std::nullopt;
    const std::optional<int> status = WaitUntil(pid, absl::Now() + kProcessTimeout);
    if (!status.has_value()) KillAndReap(pid);
    return status;
  }

  // Runs `command` to its end and returns its exit code; nullopt if it died of a signal or
  // did not end within the bound.
  std::optional<int> ExitCodeOf(const std::vector<std::string>& command) {
    const std::optional<int> status = WaitStatusOf(command);
    if (!status.has_value() || !WIFEXITED(*status)) return std::nullopt;
    return WEXITSTATUS(*status);
  }

  // Runs `command` once, uninterrupted, and returns how long it took.
  absl::Duration TimeOneRun(const std::vector<std::string>& command) {
    const absl::Time start = absl::Now();
    EXPECT_EQ(ExitCodeOf(command), 0) << ReadFile(stderr_path());
    return absl::Now() - start;
  }

  // Kills the crash driver, run with `args` after its database and effects files, at each of
  // its writes and syncs in turn (NextCrashPoint); resumes it, and hands the finished database
  // and effects to `check` with the count of attempts cut off so far. The databases are named
  // `<prefix><kind><n>.db`. Adds the crash points tried to `crash_points`.
  void SweepCrashPoints(
      const std::vector<std::string>& args, const std::string& prefix,
      const std::function<void(const std::string& db, const std::string& effects, int& cut_off)>&
          check,
      int& crash_points, int& cut_off_attempts) {
    for (const char* kind : {"write", "sync"}) {
      for (int n = 1;; n = NextCrashPoint(n)) {
        const std::string point = absl::StrCat(kind, ":", n);
        SCOPED_TRACE(point);
        const std::string db = absl::StrCat(dir_, "/", prefix, kind, n, ".db");
        const std::string effects = absl::StrCat(dir_, "/", prefix, kind, n, ".effects");
        std::vector<std::string> command = {CHORUS_CRASH_DRIVER_PATH, db, effects};
        command.insert(command.end(), args.begin(), args.end());
        std::vector<std::string> crashing = command;
        crashing.push_back(point);
        const std::optional<int> crashed = WaitStatusOf(crashing);
        ASSERT_TRUE(crashed.has_value()) << ReadFile(stderr_path());
        // The whole run makes fewer than n writes (syncs): every point has been tried.
        if (WIFEXITED(*crashed) && WEXITSTATUS(*crashed) == 0) break;
        ASSERT_TRUE(WIFSIGNALED(*crashed) && WTERMSIG(*crashed) == SIGKILL)
            << "wait status " << *crashed << ": " << ReadFile(stderr_path());
        ++crash_points;
        ExpectSoundPrefix(db, "w");
        const std::optional<int> resumed = ExitCodeOf(command);
        EXPECT_EQ(resumed, 0) << "resuming after the crash: " << ReadFile(stderr_path());
        if (resumed == 0) check(db, effects, cut_off_attempts);
      }
    }
  }

  // Where the processes the tests run write their stderr.
  std::string stderr_path() const { return dir_ + "/stderr"; }

  std::map<std::string, std::string> OutputsIn(const std::string& db, const std::string& id) {
    absl::StatusOr<std::vector<Event>> events = ReadEvents(db, id);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) return {};
    absl::StatusOr<WorkflowState> state = CheckCompletedOnce(id, *events);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? OutputsOf(*state) : std::map<std::string, std::string>();
  }

  void Report(const char* what, uint64_t seed, int workflows, const Lives& lives,
              int cut_off_attempts) {
    std::printf(
        "%s: seed %llu, %d kills over %d workflows (%d lives), kills landed at %zu distinct "
        "history positions, %d cut-off attempts ran again\n",
        what, static_cast<unsigned long long>(seed), lives.kills, workflows, lives.lives,
        lives.kill_points.size(), cut_off_attempts);
  }

  const TempDir test_dir_;
  const std::string dir_ = test_dir_.path();
};

class DriverCrashLoopTest : public CrashLoopTest,
                            public testing::WithParamInterface<const char*> {};

TEST_P(DriverCrashLoopTest, CompletesEveryStepExactlyOnceDespiteKills) {
  const std::string mode = GetParam();
  const std::string reference_db = dir_ + "/reference.db";
  const absl::Duration full_run =
      TimeOneRun({CHORUS_CRASH_DRIVER_PATH, reference_db, dir_ + "/reference.effects", "w", mode});
  const std::map<std::string, std::string> reference = OutputsIn(reference_db, "w");
  ASSERT_EQ(reference.size(), CrashWorkflow().steps_size());

  const uint64_t seed = Seed();
  CrashLoop loop(seed, full_run);
  Lives lives;
  int workflows = 0;
  int cut_off_attempts = 0;
  while (lives.kills < kDriverKills) {
    const std::string db = absl::StrCat(dir_, "/", workflows, ".db");
    const std::string effects = absl::StrCat(dir_, "/", workflows, ".effects");
    ++workflows;
    const std::vector<std::string> command = {CHORUS_CRASH_DRIVER_PATH, db, effects, "w", mode};
    ASSERT_NO_FATAL_FAILURE(
        loop.RunToCompletion([&] { return command; }, db, "w", stderr_path(), lives));
    ASSERT_NO_FATAL_FAILURE(ExpectSurvived(db, "w", effects, reference, cut_off_attempts));
  }
  Report(absl::StrCat("driver, ", mode, " mode").c_str(), seed, workflows, lives, cut_off_attempts);
  EXPECT_GT(cut_off_attempts, 0) << "no kill ever cut a step off";
}

// The loop crash workflow (LoopCrashWorkflow): loops, a retry on each visit, routed failures,
// a decision and a self-loop beside a parallel chain. However the kills cut it, the visits end
// as in an uninterrupted run: no visit lost or added, each with the outcome and edges it had.
TEST_P(DriverCrashLoopTest, ALoopingWorkflowEndsTheSameVisitsDespiteKills) {
  const std::string mode = GetParam();
  const std::string reference_db = dir_ + "/reference.db";
  const absl::Duration full_run = TimeOneRun(
      {CHORUS_CRASH_DRIVER_PATH, reference_db, dir_ + "/reference.effects", "w", mode, "loop"});
  LoopReference reference;
  {
    absl::StatusOr<std::vector<Event>> events = ReadEvents(reference_db, "w");
    ASSERT_TRUE(events.ok()) << events.status();
    absl::StatusOr<WorkflowState> state = CheckCompleted("w", *events);
    ASSERT_TRUE(state.ok()) << state.status();
    reference.visit_ends = VisitEnds(*events);
    reference.outputs = OutputsOf(*state);
    reference.final_state = LastEvent(*events).workflow_completed().ShortDebugString();
  }
  // What the uninterrupted run is: implement and test visited 4 times, test's first three
  // failures taking the edge back, review choosing ship, poll visited 3 times.
  const std::vector<std::string>& test = reference.visit_ends["test"];
  ASSERT_EQ(test.size(), 4u);
  for (int visit = 1; visit <= 3; ++visit) {
    EXPECT_EQ(test[visit - 1], absl::StrCat("visit ", visit, " failed tests fail on visit ", visit,
                                            " -> implement"));
  }
  EXPECT_THAT(test[3], testing::StartsWith("visit 4 completed test~4:"));
  EXPECT_THAT(test[3], testing::EndsWith(" -> review"));
  EXPECT_EQ(reference.visit_ends["implement"].size(), 4u);
  EXPECT_EQ(reference.visit_ends["poll"].size(), 3u);
  EXPECT_THAT(reference.visit_ends["review"], testing::ElementsAre(testing::EndsWith(" -> ship")));
  EXPECT_THAT(reference.visit_ends["rework"],
              testing::ElementsAre("skipped: no edge into it was taken"));
  EXPECT_THAT(reference.final_state, testing::HasSubstr(R"(key: "rounds" value { number: 4 })"));
  EXPECT_THAT(reference.final_state, testing::HasSubstr(R"(key: "polls" value { number: 3 })"));
  EXPECT_EQ(reference.outputs.size(), LoopCrashWorkflow().steps_size());

  const uint64_t seed = Seed();
  CrashLoop loop(seed, full_run);
  Lives lives;
  int workflows = 0;
  int cut_off_attempts = 0;
  while (lives.kills < kLoopKills) {
    const std::string db = absl::StrCat(dir_, "/", workflows, ".db");
    const std::string effects = absl::StrCat(dir_, "/", workflows, ".effects");
    ++workflows;
    const std::vector<std::string> command = {
        CHORUS_CRASH_DRIVER_PATH, db, effects, "w", mode, "loop"};
    ASSERT_NO_FATAL_FAILURE(
        loop.RunToCompletion([&] { return command; }, db, "w", stderr_path(), lives));
    ASSERT_NO_FATAL_FAILURE(ExpectSameVisits(db, "w", effects, reference, cut_off_attempts));
  }
  Report(absl::StrCat("loop driver, ", mode, " mode").c_str(), seed, workflows, lives,
         cut_off_attempts);
  EXPECT_GT(cut_off_attempts, 0) << "no kill ever cut a step off";
}

INSTANTIATE_TEST_SUITE_P(Modes, DriverCrashLoopTest, testing::Values("eager", "wave"));

TEST_F(CrashLoopTest, ChorusRunAndResumeCompleteAShellWorkflowDespiteKills) {
  const std::string dot = dir_ + "/crash.dot";
  std::ofstream(dot) << CrashWorkflowDot(dir_ + "/reference.effects");
  const std::string reference_db = dir_ + "/reference.db";
  const absl::Duration full_run =
      TimeOneRun({CHORUS_CLI_PATH, "run", dot, "--id", "w", "--db", reference_db});
  const std::map<std::string, std::string> reference = OutputsIn(reference_db, "w");
  ASSERT_EQ(reference.size(), CrashWorkflow().steps_size());

  const uint64_t seed = Seed();
  CrashLoop loop(seed, full_run);
  Lives lives;
  int workflows = 0;
  int cut_off_attempts = 0;
  while (lives.kills < kCliKills) {
    const std::string db = absl::StrCat(dir_, "/", workflows, ".db");
    const std::string effects = absl::StrCat(dir_, "/", workflows, ".effects");
    const std::string file = absl::StrCat(dir_, "/", workflows, ".dot");
    std::ofstream(file) << CrashWorkflowDot(effects);
    ++workflows;
    // `run` until a life has recorded the workflow's start, `resume` after that.
    const auto command = [&]() -> std::vector<std::string> {
      if (ReadEvents(db, "w").ok()) return {CHORUS_CLI_PATH, "resume", "w", "--db", db};
      return {CHORUS_CLI_PATH, "run", file, "--id", "w", "--db", db};
    };
    ASSERT_NO_FATAL_FAILURE(loop.RunToCompletion(command, db, "w", stderr_path(), lives));
    ASSERT_TRUE(ReapOrphans()) << "shell steps of killed runs are still running";
    ASSERT_NO_FATAL_FAILURE(ExpectSurvived(db, "w", effects, reference, cut_off_attempts));
    EXPECT_EQ(ExitCodeOf({CHORUS_CLI_PATH, "verify", "w", "--db", db}), 0)
        << ReadFile(stderr_path());
  }
  Report("chorus run/resume", seed, workflows, lives, cut_off_attempts);
  EXPECT_GT(cut_off_attempts, 0) << "no kill ever cut a step off";
}



// The deterministic complement of the random kills: the driver kills itself at its Nth write,
// or its Nth sync, of the database files, and a second driver must finish the workflow.
TEST_F(CrashLoopTest, DriverKilledAtAnyWriteOrSyncLeavesAResumableDatabase) {
  const std::string reference_db = dir_ + "/reference.db";
  ASSERT_EQ(ExitCodeOf({CHORUS_CRASH_DRIVER_PATH, reference_db, dir_ + "/reference.effects", "w",
                        "eager"}),
            0)
      << ReadFile(stderr_path());
  const std::map<std::string, std::string> reference = OutputsIn(reference_db, "w");
  ASSERT_EQ(reference.size(), CrashWorkflow().steps_size());

  int crash_points = 0;
  int cut_off_attempts = 0;
  SweepCrashPoints(
      {"w", "eager"}, "",
      [&](const std::string& db, const std::string& effects, int& cut_off) {
        ExpectSurvived(db, "w", effects, reference, cut_off);
      },
      crash_points, cut_off_attempts);
  std::printf(
      "crash sweep: the driver killed itself at %d writes and syncs; %d cut-off attempts "
      "ran again\n",
      crash_points, cut_off_attempts);
  EXPECT_GT(cut_off_attempts, 0) << "no crash ever cut a step off";
}

// The sweep for the loop crash workflow: whatever write or sync the driver dies at, the
// resumed run ends the same visits as an uninterrupted one.
TEST_F(CrashLoopTest, LoopDriverKilledAtAnyWriteOrSyncEndsTheSameVisits) {
  const std::string reference_db = dir_ + "/reference.db";
  ASSERT_EQ(ExitCodeOf({CHORUS_CRASH_DRIVER_PATH, reference_db, dir_ + "/reference.effects", "w",
                        "eager", "loop"}),
            0)
      << ReadFile(stderr_path());
  LoopReference reference;
  {
    absl::StatusOr<std::vector<Event>> events = ReadEvents(reference_db, "w");
    ASSERT_TRUE(events.ok()) << events.status();
    absl::StatusOr<WorkflowState> state = CheckCompleted("w", *events);
    ASSERT_TRUE(state.ok()) << state.status();
    reference.visit_ends = VisitEnds(*events);
    reference.outputs = OutputsOf(*state);
    reference.final_state = LastEvent(*events).workflow_completed().ShortDebugString();
  }
  ASSERT_EQ(reference.visit_ends["implement"].size(), 4u);

  int crash_points = 0;
  int cut_off_attempts = 0;
  SweepCrashPoints(
      {"w", "eager", "loop"}, "loop-",
      [&](const std::string& db, const std::string& effects, int& cut_off) {
        ExpectSameVisits(db, "w", effects, reference, cut_off);
      },
      crash_points, cut_off_attempts);
  std::printf(
      "loop crash sweep: the driver killed itself at %d writes and syncs; %d cut-off attempts "
      "ran again\n",
      crash_points, cut_off_attempts);
  EXPECT_GT(cut_off_attempts, 0) << "no crash ever cut a step off";
}

}  // namespace
}  // namespace chorus
