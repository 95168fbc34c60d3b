#include "tools/shell_step.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/state.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/event.pb.h"
#include "proto/workflow_definition.pb.h"
#include "workflow/cancellation.h"
#include "workflow/step_context.h"
#include "workflow/step_registry.h"

namespace chorus {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The bound on anything that should happen at once. Only a broken runner reaches it, and
// reaching it is a failure, never a pass.
constexpr absl::Duration kPatience = absl::Seconds(30);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

// Single-quotes `path` for the shell. Test paths hold no single quote.
std::string Quoted(const std::string& path) { return absl::StrCat("'", path, "'"); }

// Polls `condition` until it holds or kPatience has passed. Returns whether it held.
template <typename Condition>
bool Eventually(Condition condition) {
  absl::Time deadline = absl::Now() + kPatience;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// Makes orphaned grandchildren children of this process instead of PID 1, which in a
// container may never reap them: a dead but unreaped process would still answer kill(pid, 0).
void AdoptOrphans() { ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }

// Whether process `pid` is gone, after reaping it if it is an orphan this process adopted.
bool IsGone(pid_t pid) {
  waitpid(pid, nullptr, WNOHANG);
  return kill(pid, 0) != 0 && errno == ESRCH;
}

// The pids a command wrote to `path`, once the file exists (commands write it whole, via mv).
std::vector<pid_t> ReadPids(const std::string& path) {
  std::vector<pid_t> pids;
  if (!Eventually([&] { return Exists(path); })) return pids;
  for (absl::string_view word : absl::StrSplit(ReadFile(path), ' ', absl::SkipWhitespace())) {
    int pid;
    if (absl::SimpleAtoi(word, &pid)) pids.push_back(pid);
  }
  return pids;
}

int OpenDescriptors() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

// What a run of a shell step returned, and what it reported through its context.
struct Reported {
  absl::StatusOr<std::string> output;
  std::vector<StateUpdate> updates;
  double cost;
};

// One attempt (3) of step "build" of workflow "wf-1", with a fresh directory for its files,
// removed afterwards. Its log is `<dir>/logs/wf-1/build.3.log`. The workflow declares the
// state keys `total` (sum), `low` (min), `high` (max), `files` (append) and `note`
// (last-write-wins).
class Attempt {
 public:
  explicit Attempt(std::vector<std::pair<std::string, std::string>> dependencies = {})
      : dir_(NewDirectory()),
        log_path_(dir_ + "/logs/wf-1/build.3.log"),
        dependencies_(std::move(dependencies)) {
    for (const auto& [name, reducer] :
         {std::pair{"total", REDUCER_SUM}, std::pair{"low", REDUCER_MIN},
          std::pair{"high", REDUCER_MAX}, std::pair{"files", REDUCER_APPEND},
          std::pair{"note", REDUCER_UNSPECIFIED}}) {
      StateKey* key = definition_.add_state();
      key->set_name(name);
      key->set_reducer(reducer);
    }
  }
  ~Attempt() { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::string> Run(std::string command, ShellStepOptions options = {}) const {
    return RunReporting(std::move(command), options).output;
  }

  Reported RunReporting(std::string command, ShellStepOptions options = {}) const {
    StepContext context(MakeAttempt(log_path_));
    absl::StatusOr<std::string> output = MakeShellStep(std::move(command), options)(context);
    return {std::move(output), context.TakeStateUpdates(), context.cost()};
  }

  // Runs without a log path, as for an engine with no log directory.
  absl::StatusOr<std::string> RunWithoutLog(std::string command) const {
    StepContext context(MakeAttempt(""));
    return MakeShellStep(std::move(command))(context);
  }

  // The state the step sees, and (for an instance of a map step) its index and item.
  void set_state(StateValues state) { state_ = std::move(state); }
  void set_map_instance(int index, std::string item) {
    map_index_ = index;
    map_item_ = std::move(item);
  }

  void Cancel(absl::string_view reason) const { token_.Cancel(reason); }
  const std::string& dir() const { return dir_; }
  // A path in the attempt's directory, for the command and the test to meet at.
  std::string Path(absl::string_view name) const { return absl::StrCat(dir_, "/", name); }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const { return ReadFile(log_path_); }
  std::string pid_path() const { return dir_ + "/logs/wf-1/build.3.pid"; }
  std::string input() const { return input_; }

 private:
  StepAttempt MakeAttempt(absl::string_view log_path) const {
    StepAttempt attempt;
    attempt.workflow_id = "wf-1";
    attempt.step = "build";
    attempt.attempt = 3;
    attempt.input = input_;
    for (const auto& [step, output] : dependencies_) {
      attempt.dependencies.push_back({step, output});
    }
    attempt.cancellation = token_;
    attempt.log_path = log_path;
    attempt.state = state_;
    attempt.definition = &definition_;
    attempt.map_index = map_index_;
    attempt.map_item = map_item_;
    return attempt;
  }

  static std::string NewDirectory() {
    static std::atomic<int> next{0};
    std::string dir =
        absl::StrCat(testing::TempDir(), "shell_step_", getpid(), "_", next.fetch_add(1));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
  }

  const std::string dir_;
  const std::string log_path_;
  const std::string input_ = "the input\n";
  const std::vector<std::pair<std::string, std::string>> dependencies_;
  CancellationToken token_;
  WorkflowDefinition definition_;
  StateValues state_;
  int map_index_ = -1;
  std::string map_item_;
};

Value Text(absl::string_view text) {
  Value value;
  value.set_text(std::string(text));
  return value;
}

Value Number(int64_t number) {
  Value value;
  value.set_number(number);
  return value;
}

Value List(std::vector<std::string> items) {
  Value value;
  for (std::string& item : items) value.mutable_list()->add_items(std::move(item));
  return value;
}

// "key=json" for each update, in order.
std::vector<std::string> Describe(const std::vector<StateUpdate>& updates) {
  std::vector<std::string> described;
  for (const StateUpdate& update : updates) {
    described.push_back(absl::StrCat(update.key(), "=", ValueToJson(update.value())));
  }
  return described;
}

TEST(ShellStep, StdoutIsTheOutputAndBothStreamsGoToTheLog) {
  Attempt attempt;
  std::filesystem::create_directories(attempt.dir() + "/logs/wf-1");
  std::ofstream(attempt.log_path()) << "earlier\n";

  absl::StatusOr<std::string> output = attempt.Run("echo out; echo err >&2; printf tail");

  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output, "out\ntail");
  std::string log = attempt.ReadLog();
  EXPECT_THAT(log, StartsWith("earlier\n"));
  EXPECT_THAT(log, HasSubstr("out\n"));
  EXPECT_THAT(log, HasSubstr("err\n"));
  EXPECT_THAT(log, HasSubstr("tail"));
  EXPECT_THAT(log, EndsWith("\n[chorus] command exited with status 0\n"));
}

TEST(ShellStep, EnvironmentNamesTheAttemptAndItsFiles) {
  // Inherited: passed on, overridden by the attempt's own, or (stale dependencies) dropped.
  setenv("SHELL_STEP_TEST_INHERITED", "yes", 1);
  setenv("CHORUS_STEP", "outer", 1);
  setenv("CHORUS_DEP_STALE", "outer", 1);
  setenv("CHORUS_MAP_INDEX", "7", 1);
  setenv("CHORUS_MAP_ITEM", "outer", 1);
  Attempt attempt({{"fetch-data", "fetched\n"}, {"odd name/x", "\x01\xff"}, {".hidden", "h"}});
  struct Case {
    const char* command;
    const char* output;
  };
  constexpr Case kCases[] = {
      {R"(cat "$CHORUS_INPUT")", "the input\n"},
      {R"(case "$CHORUS_INPUT" in /*) echo absolute;; esac)", "absolute\n"},
      {R"(cat "$CHORUS_DEP_FETCH_DATA")", "fetched\n"},
      {R"(cat "$CHORUS_DEPS/fetch-data")", "fetched\n"},
      {R"(cat "$CHORUS_DEP_ODD_NAME_X")", "\x01\xff"},
      {R"(cat "$CHORUS_DEPS/odd%20name%2Fx")", "\x01\xff"},
      {R"(cat "$CHORUS_DEP__HIDDEN")", "h"},
      {R"(cat "$CHORUS_DEPS/%2Ehidden")", "h"},
      {R"(ls "$CHORUS_DEPS" | wc -l)", "3\n"},
      {R"(printf %s "$CHORUS_WORKFLOW_ID")", "wf-1"},
      {R"(printf %s "$CHORUS_STEP")", "build"},
      {R"(printf %s "$CHORUS_ATTEMPT")", "3"},
      {R"(printf %s "$SHELL_STEP_TEST_INHERITED")", "yes"},
      {R"(printf %s "${CHORUS_DEP_STALE-unset}")", "unset"},
      {R"(cat "$CHORUS_STATE")", "{}\n"},
      {R"([ -f "$CHORUS_STATE_UPDATES" ] && [ ! -s "$CHORUS_STATE_UPDATES" ] && echo empty)",
       "empty\n"},
      {R"([ -f "$CHORUS_COST" ] && [ ! -s "$CHORUS_COST" ] && echo empty)", "empty\n"},
      {R"(printf %s "${CHORUS_MAP_INDEX-unset} ${CHORUS_MAP_ITEM-unset}")", "unset unset"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.command);
    absl::StatusOr<std::string> output = attempt.Run(c.command);
    ASSERT_TRUE(output.ok()) << output.status();
    EXPECT_EQ(*output, c.output);
  }
  unsetenv("SHELL_STEP_TEST_INHERITED");
  unsetenv("CHORUS_STEP");
  unsetenv("CHORUS_DEP_STALE");
  unsetenv("CHORUS_MAP_INDEX");
  unsetenv("CHORUS_MAP_ITEM");
}

TEST(ShellStep, StateFileHoldsTheStepsViewAsOneJsonObject) {
  Attempt attempt;
  attempt.set_state(
      {{"total", Number(3)}, {"files", List({"a", "b \"q\""})}, {"note", Text("hi\n")}});
  absl::StatusOr<std::string> output = attempt.Run(R"(cat "$CHORUS_STATE")");
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output,
            "{\"files\": [\"a\", \"b \\\"q\\\"\"], \"note\": \"hi\\u000a\", \"total\": 3}\n");
}

TEST(ShellStep, MapInstanceSeesItsIndexAndItem) {
  Attempt attempt;
  attempt.set_map_instance(2, "photo 3.jpg");
  absl::StatusOr<std::string> output =
      attempt.Run(R"(printf '%s|%s' "$CHORUS_MAP_INDEX" "$CHORUS_MAP_ITEM")");
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output, "2|photo 3.jpg");
}

TEST(ShellStep, MapDependencyGetsOneFileOfItsInstancesOutputsInIndexOrder) {
  ShellStepOptions options;
  options.map_dependencies = {"resize", "empty"};
  Attempt attempt({{"list", "a\nb\n"},
                   {"resize[0]", "A\n"},
                   {"resize[1]", "B\n"},
                   {"resize[x]", "not an instance\n"},
                   {"resized[2]", "another step's\n"}});
  absl::StatusOr<std::string> output = attempt.Run(
      R"(cat "$CHORUS_DEP_RESIZE"; cat "$CHORUS_DEP_RESIZE_1_"; wc -c < "$CHORUS_DEP_EMPTY")",
      options);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output, "A\nB\nB\n0\n");
}

TEST(ShellStep, StateUpdateLinesBecomeUpdatesReadByTheKeysReducer) {
  Attempt attempt;
  Reported reported = attempt.RunReporting(
      R"(printf 'total=5\nlow=-2\n\nhigh= 7\nfiles=a b.txt\nnote=x=y\nother=12\n' )"
      R"(>> "$CHORUS_STATE_UPDATES"; printf 'files=last' >> "$CHORUS_STATE_UPDATES")");
  ASSERT_TRUE(reported.output.ok()) << reported.output.status();
  EXPECT_THAT(Describe(reported.updates),
              testing::ElementsAre("total=5", "low=-2", "high=7", "files=\"a b.txt\"",
                                   "note=\"x=y\"", "other=\"12\"", "files=\"last\""));
}

TEST(ShellStep, ReportFilesStartEmptyOnEveryRun) {
  Attempt attempt;
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    Reported reported = attempt.RunReporting(
        R"(cat "$CHORUS_STATE_UPDATES" "$CHORUS_COST"; echo total=1 >> "$CHORUS_STATE_UPDATES"; )"
        R"(echo 2 >> "$CHORUS_COST")");
    ASSERT_TRUE(reported.output.ok()) << reported.output.status();
    EXPECT_EQ(*reported.output, "");
    EXPECT_THAT(Describe(reported.updates), testing::ElementsAre("total=1"));
    EXPECT_EQ(reported.cost, 2);
  }
}

TEST(ShellStep, MalformedStateUpdateFailsTheStepQuotingTheLine) {
  struct Case {
    const char* lines;
    const char* message;
  };
  constexpr Case kCases[] = {
      {"total=many",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"total=many\": state key 'total' takes "
       "a whole number"},
      {"note=ok\nhigh=1.5",
       "step 'build': line 2 of $CHORUS_STATE_UPDATES \"high=1.5\": state key 'high' takes a "
       "whole number"},
      {"low=",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"low=\": state key 'low' takes a "
       "whole number"},
      {"just words",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"just words\": expected key=value"},
      {"=5", "step 'build': line 1 of $CHORUS_STATE_UPDATES \"=5\": expected key=value"},
      {"\ttotal\t=x\x01",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"\\ttotal\\t=x\\x01\": state key 'total' "
       "takes a whole number"},
      {"note=caf\xe9",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"note=caf\\xe9\": state key 'note': the "
       "value is not valid UTF-8 (state values are text; put bytes in the step's output)"},
      {"total=1\xff",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"total=1\\xff\": state key 'total': the "
       "value is not valid UTF-8 (state values are text; put bytes in the step's output)"},
      {"no\x1bte=1",
       "step 'build': line 1 of $CHORUS_STATE_UPDATES \"no\\x1bte=1\": state key \"no\\x1Bte\" "
       "contains a control character (\\x1B)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.lines);
    Attempt attempt;
    std::ofstream(attempt.Path("lines")) << c.lines;
    Reported reported = attempt.RunReporting(
        absl::StrCat("cat ", Quoted(attempt.Path("lines")), " > \"$CHORUS_STATE_UPDATES\""));
    EXPECT_EQ(reported.output.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(reported.output.status().message()), c.message);
  }
}

TEST(ShellStep, FailedCommandReportsItsCostButNoStateUpdates) {
  Attempt attempt;
  Reported reported = attempt.RunReporting(
      R"(echo total=1 >> "$CHORUS_STATE_UPDATES"; echo 1.5 > "$CHORUS_COST"; exit 4)");
  EXPECT_EQ(reported.output.status().code(), absl::StatusCode::kUnknown);
  EXPECT_TRUE(reported.updates.empty());
  EXPECT_EQ(reported.cost, 1.5);
}

TEST(ShellStep, CostFileAddsToTheCostOrFailsTheStep) {
  struct Case {
    const char* command;
    absl::StatusCode code;
    double cost;
    const char* message;
  };
  constexpr Case kCases[] = {
      {"true", absl::StatusCode::kOk, 0, ""},
      {R"(echo 0.25 > "$CHORUS_COST")", absl::StatusCode::kOk, 0.25, ""},
      {R"(printf ' 3 \n' > "$CHORUS_COST")", absl::StatusCode::kOk, 3, ""},
      {R"(echo lots > "$CHORUS_COST")", absl::StatusCode::kInvalidArgument, 0,
       "step 'build': $CHORUS_COST holds \"lots\", not a number of at least 0"},
      {R"(echo -1 > "$CHORUS_COST")", absl::StatusCode::kInvalidArgument, 0,
       "step 'build': $CHORUS_COST holds \"-1\", not a number of at least 0"},
      {R"(echo 1 2 > "$CHORUS_COST")", absl::StatusCode::kInvalidArgument, 0,
       "step 'build': $CHORUS_COST holds \"1 2\", not a number of at least 0"},
      // A failed command keeps its own error.
      {R"(echo lots > "$CHORUS_COST"; exit 1)", absl::StatusCode::kUnknown, 0,
       "command exited with status 1; no stderr output"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.command);
    Attempt attempt;
    Reported reported = attempt.RunReporting(c.command);
    EXPECT_EQ(reported.output.status().code(), c.code);
    EXPECT_EQ(std::string(reported.output.status().message()), c.message);
    EXPECT_EQ(reported.cost, c.cost);
  }
}

// Their files are named by FileNameFor (tests/workflow/file_name_test.cc).
TEST(ShellStep, DependencyEnvNamesAreMadeSafe) {
  struct Case {
    const char* step;
    const char* env_name;
  };
  constexpr Case kCases[] = {
      {"fetch", "CHORUS_DEP_FETCH"},
      {"fetch-data", "CHORUS_DEP_FETCH_DATA"},
      {"v1.2_x", "CHORUS_DEP_V1_2_X"},
      {"odd name/x", "CHORUS_DEP_ODD_NAME_X"},
      {"100%", "CHORUS_DEP_100_"},
      {".", "CHORUS_DEP__"},
      {"..", "CHORUS_DEP___"},
      {".hidden", "CHORUS_DEP__HIDDEN"},
      {"caf\xc3\xa9", "CHORUS_DEP_CAF__"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.step);
    EXPECT_EQ(DependencyEnvName(c.step), c.env_name);
  }
}

TEST(ShellStep, CommandRunsInItsOwnGroupWithStdinFromDevNull) {
  struct Case {
    const char* command;
    const char* output;
  };
  constexpr Case kCases[] = {
      {"readlink /proc/self/fd/0", "/dev/null\n"},
      {R"sh([ "$(cut -d' ' -f5 /proc/$$/stat)" = "$$" ] && echo leader)sh", "leader\n"},
  };
  Attempt attempt;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.command);
    absl::StatusOr<std::string> output = attempt.Run(c.command);
    ASSERT_TRUE(output.ok()) << output.status();
    EXPECT_EQ(*output, c.output);
  }
}

// The CLI blocks SIGINT and SIGTERM in every thread, and a process may ignore SIGPIPE.
TEST(ShellStep, CommandStartsWithAnEmptyMaskAndDefaultSignals) {
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigset_t previous_mask;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &blocked, &previous_mask), 0);
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous_pipe;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &previous_pipe), 0);

  Attempt attempt;
  absl::StatusOr<std::string> output =
      attempt.Run(R"(sed -n 's/^Sig\(Blk\|Ign\):\t//p' /proc/self/status)");
  sigaction(SIGPIPE, &previous_pipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);

  ASSERT_TRUE(output.ok()) << output.status();
  std::vector<std::string> masks = absl::StrSplit(*output, '\n', absl::SkipEmpty());
  ASSERT_EQ(masks.size(), 2u) << *output;
  uint64_t blocked_mask = 1;
  uint64_t ignored_mask = 1;
  ASSERT_TRUE(absl::SimpleHexAtoi(masks[0], &blocked_mask)) << masks[0];
  ASSERT_TRUE(absl::SimpleHexAtoi(masks[1], &ignored_mask)) << masks[1];
  EXPECT_EQ(blocked_mask, 0u);
  for (int signal : {SIGINT, SIGTERM, SIGPIPE}) {
    SCOPED_TRACE(signal);
    EXPECT_EQ(ignored_mask & (uint64_t{1} << (signal - 1)), 0u);
  }
}

TEST(ShellStep, FailureGivesTheExitStatusAndTheLastStderrLines) {
  struct Case {
    const char* label;
    const char* command;
    const char* message;
    const char* log_ending;
  };
  constexpr Case kCases[] = {
      {"exit 1", "echo oops >&2; exit 1", "command exited with status 1; last stderr lines:\noops",
       "oops\n[chorus] command exited with status 1\n"},
      {"exit 42 after 20 lines",
       "i=1; while [ $i -le 20 ]; do echo line$i >&2; i=$((i+1)); done; exit 42",
       "command exited with status 42; last stderr lines:\nline11\nline12\nline13\nline14\n"
       "line15\nline16\nline17\nline18\nline19\nline20",
       "line20\n[chorus] command exited with status 42\n"},
      {"no stderr", "exit 3", "command exited with status 3; no stderr output",
       "[chorus] command exited with status 3\n"},
      {"unterminated last line", "printf 'a\\n\\nb' >&2; exit 2",
       "command exited with status 2; last stderr lines:\na\n\nb",
       "b\n[chorus] command exited with status 2\n"},
      {"killed by a signal", "kill -9 $$",
       "command was killed by signal 9 (Killed); no stderr output",
       "[chorus] command was killed by signal 9 (Killed)\n"},
      {"no such command", "no-such-command-xyz",
       "command exited with status 127; last stderr lines:\nsh: 1: no-such-command-xyz: not found",
       "[chorus] command exited with status 127\n"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.label);
    Attempt attempt;
    absl::StatusOr<std::string> output = attempt.Run(c.command);
    EXPECT_EQ(output.status().code(), absl::StatusCode::kUnknown);
    EXPECT_EQ(output.status().message(), c.message);
    EXPECT_THAT(attempt.ReadLog(), EndsWith(c.log_ending));
  }
}

TEST(ShellStep, LongStderrLinesAreCutInTheQuoteAtACharacterBoundary) {
  struct Case {
    const char* label;
    std::string command;
    std::string quote;
  };
  const std::string euros = "\xe2\x82\xac\xe2\x82\xac";  // two 3-byte characters
  const Case kCases[] = {
      {"ASCII", "head -c 2000 /dev/zero | tr '\\0' x >&2; exit 1", std::string(500, 'x') + "..."},
      {"exactly at the limit", "head -c 500 /dev/zero | tr '\\0' x >&2; exit 1",
       std::string(500, 'x')},
      {"a character across the limit",
       absl::StrCat("head -c 499 /dev/zero | tr '\\0' x >&2; printf '", euros, "' >&2; exit 1"),
       std::string(499, 'x') + "..."},
      {"a character that ends at the limit",
       absl::StrCat("head -c 497 /dev/zero | tr '\\0' x >&2; printf '", euros, "' >&2; exit 1"),
       std::string(497, 'x') + "\xe2\x82\xac..."},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.label);
    Attempt attempt;
    absl::StatusOr<std::string> output = attempt.Run(c.command);
    EXPECT_EQ(output.status().message(),
              absl::StrCat("command exited with status 1; last stderr lines:\n", c.quote));
    EXPECT_TRUE(IsValidUtf8(output.status().message()));
  }
}

TEST(ShellStep, StderrBytesThatAreNotUtf8AreQuotedEscaped) {
  Attempt attempt;
  absl::StatusOr<std::string> output =
      attempt.Run("printf 'bad \\377 bytes\\n' >&2; printf 'cut \\342\\202' >&2; exit 3");
  EXPECT_EQ(output.status().message(),
            "command exited with status 3; last stderr lines:\nbad \\xFF bytes\ncut \\xE2\\x82");
  // The log keeps the bytes as they came.
  EXPECT_THAT(attempt.ReadLog(), HasSubstr("bad \377 bytes\ncut \342\202"));
}

TEST(ShellStep, OutputOverTheLimitFailsWithResourceExhausted) {
  struct Case {
    const char* command;
    absl::StatusCode code;
  };
  constexpr Case kCases[] = {
      {"head -c 1000 /dev/zero", absl::StatusCode::kOk},
      {"head -c 1001 /dev/zero", absl::StatusCode::kResourceExhausted},
      {"yes", absl::StatusCode::kResourceExhausted},  // would never end on its own
  };
  ShellStepOptions options;
  options.max_output_bytes = 1000;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.command);
    Attempt attempt;
    absl::StatusOr<std::string> output = attempt.Run(c.command, options);
    EXPECT_EQ(output.status().code(), c.code);
    if (output.ok()) {
      EXPECT_EQ(*output, std::string(1000, '\0'));
    } else {
      EXPECT_THAT(output.status().message(), HasSubstr("'build'"));
      EXPECT_THAT(output.status().message(), HasSubstr("1000 bytes"));
    }
  }
}

TEST(ShellStep, CancellationKillsTheWholeProcessGroup) {
  AdoptOrphans();
  Attempt attempt;
  std::string pids = attempt.Path("pids");
  std::thread canceller([&] {
    Eventually([&] { return Exists(pids); });
    attempt.Cancel("workflow cancelled");
  });
  absl::Time start = absl::Now();
  absl::StatusOr<std::string> output =
      attempt.Run(absl::StrCat("sleep 60 & echo $! $$ > ", Quoted(pids + ".tmp"), "; mv ",
                               Quoted(pids + ".tmp"), " ", Quoted(pids), "; sleep 60"));
  absl::Duration took = absl::Now() - start;
  canceller.join();

  EXPECT_EQ(output.status(), absl::CancelledError("workflow cancelled"));
  EXPECT_LT(took, kPatience);
  std::vector<pid_t> background_and_shell = ReadPids(pids);
  ASSERT_EQ(background_and_shell.size(), 2u);
  for (pid_t pid : background_and_shell) {
    SCOPED_TRACE(pid);
    EXPECT_TRUE(Eventually([pid] { return IsGone(pid); }));
  }
  EXPECT_THAT(attempt.ReadLog(), HasSubstr("[chorus] stopped (CANCELLED: workflow cancelled)"));
}

TEST(ShellStep, CancellationKillsACommandThatIgnoresTerm) {
  Attempt attempt;
  std::string pid_file = attempt.Path("pid");
  std::thread canceller([&] {
    Eventually([&] { return Exists(pid_file); });
    attempt.Cancel("stop");
  });
  ShellStepOptions options;
  options.grace_period = absl::Milliseconds(200);
  absl::StatusOr<std::string> output =
      attempt.Run(absl::StrCat("trap '' TERM; echo $$ > ", Quoted(pid_file + ".tmp"), "; mv ",
                               Quoted(pid_file + ".tmp"), " ", Quoted(pid_file), "; sleep 60"),
                  options);
  canceller.join();

  EXPECT_EQ(output.status(), absl::CancelledError("stop"));
  std::vector<pid_t> shell = ReadPids(pid_file);
  ASSERT_EQ(shell.size(), 1u);
  EXPECT_TRUE(Eventually([&] { return IsGone(shell[0]); }));
  EXPECT_THAT(attempt.ReadLog(), EndsWith("command was killed by signal 9 (Killed)\n"));
}

TEST(ShellStep, AlreadyCancelledTokenStopsTheCommandAtOnce) {
  Attempt attempt;
  attempt.Cancel("too late");
  EXPECT_EQ(attempt.Run("sleep 60").status(), absl::CancelledError("too late"));
}

TEST(ShellStep, ReturnsWhenTheShellExitsThoughABackgroundChildHoldsStdout) {
  AdoptOrphans();
  Attempt attempt;
  std::string pid_file = attempt.Path("background");
  absl::Time start = absl::Now();
  absl::StatusOr<std::string> output =
      attempt.Run(absl::StrCat("(sleep 30 & echo $! > ", Quoted(pid_file), "); echo done"));
  absl::Duration took = absl::Now() - start;

  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output, "done\n");
  EXPECT_LT(took, absl::Seconds(20));
  std::vector<pid_t> background = ReadPids(pid_file);
  ASSERT_EQ(background.size(), 1u);
  EXPECT_FALSE(IsGone(background[0])) << "only a stopped command's group is killed";
  kill(background[0], SIGKILL);
  EXPECT_TRUE(Eventually([&] { return IsGone(background[0]); }));
}

TEST(ShellStep, PidFileExistsOnlyWhileTheCommandRuns) {
  Attempt attempt;
  std::string shell_pid = attempt.Path("shell");
  std::string go = attempt.Path("go");
  absl::StatusOr<std::string> output;
  std::thread runner([&] {
    output = attempt.Run(absl::StrCat("echo $$ > ", Quoted(shell_pid + ".tmp"), "; mv ",
                                      Quoted(shell_pid + ".tmp"), " ", Quoted(shell_pid),
                                      "; while [ ! -e ", Quoted(go), " ]; do sleep 0.01; done"));
  });
  EXPECT_TRUE(Eventually([&] { return Exists(shell_pid) && Exists(attempt.pid_path()); }));
  EXPECT_EQ(ReadFile(attempt.pid_path()), ReadFile(shell_pid));
  std::ofstream(go).close();
  runner.join();

  EXPECT_TRUE(output.ok()) << output.status();
  EXPECT_FALSE(Exists(attempt.pid_path()));
}

TEST(ShellStep, WithoutALogPathUsesAScratchDirectoryAndRemovesIt) {
  Attempt attempt;
  absl::StatusOr<std::string> output =
      attempt.RunWithoutLog(R"(cat "$CHORUS_INPUT"; printf %s "$CHORUS_INPUT")");
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_THAT(*output, StartsWith(attempt.input()));
  std::string input_path = output->substr(attempt.input().size());
  EXPECT_THAT(input_path, StartsWith("/"));
  EXPECT_FALSE(Exists(input_path));
}

// The driver's own faults are not the command's failure: they are marked so, and the engine
// records nothing of the attempt (tests/workflow/driver_fault_test.cc).
TEST(ShellStep, TheDriversOwnFaultsAreMarkedAsSuch) {
  struct Case {
    const char* label;
    std::function<void(const Attempt&)> arrange;
    const char* message;
  };
  const Case kCases[] = {
      {"a file where the log folder goes",
       [](const Attempt& attempt) {
         std::ofstream(attempt.dir() + "/logs") << "a file, not a directory";
       },
       "Not a directory"},
      {"a full disk under the log",
       [](const Attempt& attempt) {
         std::filesystem::create_directories(attempt.dir() + "/logs/wf-1");
         std::filesystem::create_symlink("/dev/full", attempt.log_path());
       },
       "No space left on device"},
      {"a full disk under the step's files",
       [](const Attempt& attempt) {
         std::filesystem::create_directories(attempt.dir() + "/logs/wf-1/build.3.in");
         std::filesystem::create_symlink("/dev/full",
                                         attempt.dir() + "/logs/wf-1/build.3.in/input");
       },
       "No space left on device"},
      {"a folder where the pid file goes",
       [](const Attempt& attempt) { std::filesystem::create_directories(attempt.pid_path()); },
       "Is a directory"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.label);
    Attempt attempt;
    c.arrange(attempt);
    absl::StatusOr<std::string> output = attempt.Run("echo ran; echo more >&2");
    ASSERT_FALSE(output.ok());
    EXPECT_TRUE(IsDriverFault(output.status())) << output.status();
    EXPECT_THAT(output.status().message(), HasSubstr(c.message));
    EXPECT_THAT(output.status().message(), HasSubstr(attempt.dir()));
  }
}

TEST(ShellStep, RunningOutOfDescriptorsIsTheDriversFault) {
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  Attempt attempt;
  // Room for two descriptors more (the log and one end of a pipe), not for the pipes.
  const int lowest_free = dup(STDIN_FILENO);
  ASSERT_GE(lowest_free, 0);
  close(lowest_free);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free + 2);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  absl::StatusOr<std::string> output = attempt.Run("echo ran");
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_FALSE(output.ok());
  EXPECT_TRUE(IsDriverFault(output.status())) << output.status();
  EXPECT_THAT(output.status().message(), HasSubstr("Too many open files"));
}

TEST(ShellStep, AFileNameTooLongIsTheDriversFault) {
  Attempt attempt;
  StepAttempt long_name;
  const std::string log_path = attempt.Path(std::string(300, 'n') + ".log");
  CancellationToken token;
  WorkflowDefinition definition;
  long_name.step = "build";
  long_name.log_path = log_path;
  long_name.cancellation = token;
  long_name.definition = &definition;
  StepContext context(long_name);
  absl::StatusOr<std::string> output = MakeShellStep("echo ran")(context);
  ASSERT_FALSE(output.ok());
  EXPECT_TRUE(IsDriverFault(output.status())) << output.status();
  EXPECT_THAT(output.status().message(), HasSubstr("File name too long"));
}

// The command's own failures stay its own.
TEST(ShellStep, TheCommandsOwnFailuresAreNotTheDrivers) {
  ShellStepOptions options;
  options.max_output_bytes = 10;
  for (const char* command :
       {"exit 1", "kill -9 $$", "head -c 100 /dev/zero", "echo nokey >> \"$CHORUS_STATE_UPDATES\"",
        "echo -1 > \"$CHORUS_COST\""}) {
    SCOPED_TRACE(command);
    Attempt attempt;
    absl::StatusOr<std::string> output = attempt.Run(command, options);
    ASSERT_FALSE(output.ok());
    EXPECT_FALSE(IsDriverFault(output.status())) << output.status();
  }
  Attempt cancelled;
  cancelled.Cancel("stop");
  absl::StatusOr<std::string> output = cancelled.Run("sleep 10");
  EXPECT_EQ(output.status().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(IsDriverFault(output.status()));
}

TEST(ShellStep, ConcurrentStepsLeakNoDescriptorsOrZombies) {
  int descriptors = OpenDescriptors();
  constexpr int kThreads = 8;
  constexpr int kRuns = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> outputs(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&outputs, i] {
      Attempt attempt({{"up", absl::StrCat(i)}});
      for (int run = 0; run < kRuns; ++run) {
        absl::StatusOr<std::string> output =
            attempt.Run(R"(cat "$CHORUS_DEP_UP"; echo x >&2; echo " $$")");
        outputs[i].push_back(output.ok() ? *output : output.status().ToString());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(OpenDescriptors(), descriptors);
  for (int i = 0; i < kThreads; ++i) {
    for (const std::string& output : outputs[i]) {
      SCOPED_TRACE(output);
      std::pair<std::string, std::string> dependency_and_shell = absl::StrSplit(output, ' ');
      EXPECT_EQ(dependency_and_shell.first, absl::StrCat(i));
      int shell;
      ASSERT_TRUE(absl::SimpleAtoi(dependency_and_shell.second, &shell));
      errno = 0;
      EXPECT_EQ(waitpid(shell, nullptr, WNOHANG), -1) << "the shell was not reaped";
      EXPECT_EQ(errno, ECHILD);
    }
  }
}

}  // namespace
}  // namespace chorus
