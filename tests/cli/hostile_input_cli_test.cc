// Runs `chorus` as a hostile or careless user would: bytes that are not UTF-8 from every text
// path into history, names that are not file names, and faults of the machine the driver runs
// on. Whatever comes, history stays readable and complete, no file lands outside the
// workflow's folder, and a fault of the driver's own is never charged to a step.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/load_state.h"
#include "storage/sqlite_event_store.h"
#include "tests/cli/cli_fixture.h"

namespace chorus {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class HostileInputCliTest : public ChorusCliTest {
 protected:
  // Writes `script` to `<dir_>/<name>.sh`, for a step's command `sh <name>.sh`: the bytes a
  // step writes are the script's business, not the definition file's.
  void Script(const std::string& name, const std::string& script) {
    WriteFile(absl::StrCat(dir_, "/", name, ".sh"), script);
  }

  // The folded state of workflow `id`, read through the library.
  WorkflowState Folded(const std::string& id, const std::string& db) {
    SqliteOptions read_only;
    read_only.read_only = true;
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(db, read_only);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return WorkflowState();
    absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, id);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *std::move(state) : WorkflowState();
  }

  // Every inspecting command reads workflow `id` without an error.
  void ExpectReadable(const std::string& id) {
    for (const std::vector<std::string>& command : {std::vector<std::string>{"history", id},
                                                    {"history", id, "--json"},
                                                    {"status", id},
                                                    {"replay", id},
                                                    {"verify", id},
                                                    {"list"}}) {
      SCOPED_TRACE(command[0]);
      const Result result = Chorus(command);
      EXPECT_EQ(result.exit_code, 0) << result.err;
    }
  }

  void MakeFull(const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::filesystem::create_symlink("/dev/full", path);
  }
};

// Every text path from a step into history, fed with bytes that are not UTF-8 or are cut
// inside a character: the stderr a failure quotes, a line cut at the quoting limit, map items
// from binary output, state updates. The run is then cut off by a full disk (a fault of the
// driver's own), resumed, verified, exported and imported.
TEST_F(HostileInputCliTest, BytesThatAreNotUtf8NeverMakeAHistoryUnreadable) {
  Script("deploy", "printf 'bad \\377 bytes\\n' >&2; exit 3\n");
  Script("long",
         "head -c 499 /dev/zero | tr '\\0' x >&2; printf '\\342\\202\\254\\342\\202\\254' >&2; "
         "exit 1\n");
  Script("list", "printf 'a\\n\\377\\376\\nc\\351\\n'\n");
  Script("each", "printf '%s' \"$CHORUS_MAP_ITEM\"\n");
  Script("state", "printf 'name=caf\\351\\n' >> \"$CHORUS_STATE_UPDATES\"\n");
  WriteFile(dir_ + "/hostile.textproto", R"pb(
    name: "hostile"
    steps { name: "deploy" command: "sh deploy.sh" non_critical: true }
    steps { name: "long" command: "sh long.sh" non_critical: true }
    steps { name: "list" command: "sh list.sh" }
    steps { name: "each" command: "sh each.sh" depends_on: "list" map_over: "list" }
    steps { name: "state" command: "sh state.sh" non_critical: true }
    steps { name: "last" command: "echo done" depends_on: "each" }
  )pb");
  const std::string full_log = db_ + ".logs/h1/last.1.log";
  MakeFull(full_log);

  const Result stopped = Chorus({"run", dir_ + "/hostile.textproto", "--id", "h1"});
  EXPECT_EQ(stopped.exit_code, 7) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("step 'last' (attempt 1) could not run"));
  EXPECT_THAT(stopped.err, HasSubstr("No space left on device"));
  EXPECT_THAT(stopped.err, HasSubstr("chorus resume h1"));
  ExpectReadable("h1");
  const WorkflowState cut_off = Folded("h1", db_);
  EXPECT_EQ(cut_off.status, WORKFLOW_STATUS_RUNNING);
  ASSERT_NE(cut_off.FindStep("last"), nullptr);
  EXPECT_EQ(cut_off.FindStep("last")->status, StepStatus::kRunning);  // not failed

  std::filesystem::remove(full_log);  // the cause is fixed
  const Result resumed = Chorus({"resume", "h1"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("completed with failures: deploy, long, state"));
  ExpectReadable("h1");

  const WorkflowState done = Folded("h1", db_);
  ASSERT_EQ(done.status, WORKFLOW_STATUS_COMPLETED_WITH_FAILURES);
  EXPECT_EQ(done.FindStep("deploy")->error.message(),
            "command exited with status 3; last stderr lines:\nbad \\xFF bytes");
  EXPECT_EQ(done.FindStep("long")->error.message(),
            absl::StrCat("command exited with status 1; last stderr lines:\n",
                         std::string(499, 'x'), "..."));
  EXPECT_THAT(done.FindStep("state")->error.message(),
              HasSubstr("state key 'name': the value is not valid UTF-8"));
  EXPECT_EQ(done.FindStep("each[0]")->output, "a");
  EXPECT_EQ(done.FindStep("each[1]")->output, "\xff\xfe");
  EXPECT_EQ(done.FindStep("each[2]")->output, "c\xe9");
  EXPECT_EQ(done.FindStep("last")->attempts, 2);

  const Result exported = Chorus({"export", "h1", "-o", dir_ + "/h1.jsonl"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string other = dir_ + "/other.db";
  const Result imported = Chorus({"import", dir_ + "/h1.jsonl", "--db", other}, false);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const Result verified = Chorus({"verify", "--all", "--db", other}, false);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(Chorus({"history", "h1", "--json", "--db", other}, false).out,
            Chorus({"history", "h1", "--json"}).out);
  EXPECT_EQ(Folded("h1", other).FindStep("each[1]")->output, "\xff\xfe");
}

TEST_F(HostileInputCliTest, NamesThatHistoryCannotHoldAreRefusedAndNothingIsRecorded) {
  WriteFile(dir_ + "/bad.textproto", "name: \"w\" steps { name: \"a\\377\" command: \"true\" }\n");
  const Result bad_step = Chorus({"run", dir_ + "/bad.textproto", "--id", "w1"});
  EXPECT_EQ(bad_step.exit_code, 3) << bad_step.err;
  EXPECT_THAT(bad_step.err, HasSubstr("step \"a\\xFF\" is not valid UTF-8"));

  WriteFile(dir_ + "/ok.dot", "digraph ok { a [cmd=\"true\"] }\n");
  for (const std::string& id : {std::string("\xff"), std::string(""), std::string("a\x1b[2J")}) {
    SCOPED_TRACE(testing::PrintToString(id));
    const Result refused = Chorus({"run", dir_ + "/ok.dot", "--id", id});
    EXPECT_EQ(refused.exit_code, 3) << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("workflow id"));
  }
  const Result listed = Chorus({"list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, Not(HasSubstr("ok")));
}

// `--id ..` once wrote `<db>.logs/../deploy.1.log`, beside the database, and removed or
// truncated the user's files of the same names there (with `--db s.1.pid`, the database).
TEST_F(HostileInputCliTest, IdsThatAreNotFileNamesKeepTheirFilesInTheirFolder) {
  WriteFile(dir_ + "/t.dot", "digraph t { deploy [cmd=\"echo hi\"] }\n");
  WriteFile(dir_ + "/deploy.1.pid", "the user's\n");
  WriteFile(dir_ + "/deploy.1.log", "the user's\n");
  std::filesystem::create_directories(dir_ + "/deploy.1.out");
  WriteFile(dir_ + "/deploy.1.out/keep", "the user's\n");
  const std::vector<std::string> ids = {"..", ".", "../..", "a/../..", std::string(300, 'i')};
  for (const std::string& id : ids) {
    SCOPED_TRACE(id.substr(0, 10));
    const Result run = Chorus({"run", dir_ + "/t.dot", "--id", id});
    EXPECT_EQ(run.exit_code, 0) << run.err;
  }
  EXPECT_EQ(ReadFile(dir_ + "/deploy.1.pid"), "the user's\n");
  EXPECT_EQ(ReadFile(dir_ + "/deploy.1.log"), "the user's\n");
  EXPECT_EQ(ReadFile(dir_ + "/deploy.1.out/keep"), "the user's\n");
  std::vector<std::string> folders;
  for (const auto& entry : std::filesystem::directory_iterator(db_ + ".logs")) {
    folders.push_back(entry.path().filename().string());
    EXPECT_TRUE(std::filesystem::exists(entry.path() / "deploy.1.log")) << entry.path();
  }
  EXPECT_EQ(folders.size(), 5u);  // one of its own for each workflow

  // A step and a database named alike: the database stays.
  WriteFile(dir_ + "/s.dot", "digraph s { s [cmd=\"echo hi\"] }\n");
  const std::string db = dir_ + "/s.1.pid";
  ASSERT_EQ(Chorus({"run", dir_ + "/s.dot", "--id", "..", "--db", db}, false).exit_code, 0);
  const Result listed = Chorus({"list", "--db", db}, false);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(".."));
}

// The driver's own faults stop the run without charging the step (which has no retries left
// to use up): once the cause is fixed, a resume finishes the run.
TEST_F(HostileInputCliTest, TheDriversOwnFaultsAreNotTheStepsAndAResumeFinishes) {
  WriteFile(dir_ + "/one.dot", "digraph one { a [cmd=\"echo A\"]; b [cmd=\"echo B\"]; a -> b }\n");
  struct Case {
    const char* name;
    std::function<void(const std::string& logs)> break_it;
    std::function<void(const std::string& logs)> fix_it;
    const char* message;
  };
  const Case cases[] = {
      {"a full disk under a step's log",
       [this](const std::string& logs) { MakeFull(logs + "/full/b.1.log"); },
       [](const std::string& logs) { std::filesystem::remove(logs + "/full/b.1.log"); },
       "No space left on device"},
      {"a file where the logs folder goes",
       [](const std::string& logs) { WriteFile(logs, "a file, not a folder"); },
       [](const std::string& logs) { std::filesystem::remove(logs); }, "Not a directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    WriteFile(dir_ + "/one.dot",
              "digraph one { a [cmd=\"echo A\"]; b [cmd=\"echo B\"]; a -> b }\n");
    const std::string logs = db_ + ".logs";
    c.break_it(logs);
    const Result stopped = Chorus({"run", dir_ + "/one.dot", "--id", "full"});
    EXPECT_EQ(stopped.exit_code, 7) << stopped.err;
    EXPECT_THAT(stopped.err, HasSubstr(c.message));
    const Result history = Chorus({"history", "full"});
    EXPECT_THAT(history.out, Not(HasSubstr("step_failed")));
    EXPECT_THAT(history.out, Not(HasSubstr("workflow_failed")));
    c.fix_it(logs);
    const Result resumed = Chorus({"resume", "full"});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(Folded("full", db_).status, WORKFLOW_STATUS_COMPLETED);
  }
}

// Too many open files for the steps a run starts at once. Each step waits until all have
// started (or the test says go): the run is sure to need more descriptors than it may have.
TEST_F(HostileInputCliTest, RunningOutOfDescriptorsIsNotTheStepsFault) {
  // UBSan checks a vtable pointer by writing what it points at into a pipe of its own
  // (sanitizer_common's IsAccessibleMemoryRange): in a process without a free descriptor it
  // reports each virtual call it checks as a bad one, at random. The shell step's own test of
  // this fault (tests/tools_shell) still runs there.
  if (CHORUS_WITH_UBSAN) GTEST_SKIP() << "UBSan's vptr check needs a free file descriptor";
  constexpr int kSteps = 60;
  Script("wait", absl::StrCat("touch started.$CHORUS_STEP; i=0\n",
                              "while [ ! -e go ] && [ $(ls started.* | wc -l) -lt ", kSteps,
                              " ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"));
  std::string dot = "digraph wide {\n";
  for (int i = 0; i < kSteps; ++i) absl::StrAppend(&dot, "  s", i, " [cmd=\"sh wait.sh\"];\n");
  absl::StrAppend(&dot, "}\n");
  WriteFile(dir_ + "/wide.dot", dot);
  const Result stopped =
      Chorus({"run", dir_ + "/wide.dot", "--id", "wide", "--parallel", absl::StrCat(kSteps)}, true,
             "ulimit -n 128");
  EXPECT_EQ(stopped.exit_code, 7) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("Too many open files"));
  EXPECT_THAT(Chorus({"history", "wide"}).out, Not(HasSubstr("step_failed")));
  WriteFile(dir_ + "/go", "");
  const Result resumed = Chorus({"resume", "wide"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Folded("wide", db_).status, WORKFLOW_STATUS_COMPLETED);
}

}  // namespace
}  // namespace chorus
