// Runs the built `chorus` binary as a process, as a user would.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "event/snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/load_state.h"
#include "storage/sqlite_event_store.h"
#include "tests/cli/cli_fixture.h"
#include "tests/storage/raw_sqlite.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Example(const std::string& name) {
  return absl::StrCat(CHORUS_SOURCE_DIR, "/tools/examples/", name);
}

class CliTest : public ChorusCliTest {
 protected:
  // Output with what changes from run to run (times, durations, this test's folder) replaced.
  std::string Stable(const std::string& text) {
    std::string stable = absl::StrReplaceAll(text, {{dir_, "<dir>"}});
    stable = std::regex_replace(stable, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})"),
                                "<time>");
    stable = std::regex_replace(stable, std::regex(R"(\b\d+\.\d\ds\b)"), "<duration>");
    return std::regex_replace(stable, std::regex(R"(fingerprint [0-9a-f]{16})"),
                              "fingerprint <fp>");
  }

  // Compares `actual` with tests/cli/golden/NAME (set CHORUS_UPDATE_GOLDEN=1 to rewrite).
  void ExpectGolden(const std::string& name, const std::string& actual) {
    const std::string path = absl::StrCat(CHORUS_SOURCE_DIR, "/tests/cli/golden/", name);
    if (std::getenv("CHORUS_UPDATE_GOLDEN") != nullptr) WriteFile(path, actual);
    EXPECT_EQ(actual, ReadFile(path)) << "golden file " << path;
  }
};

TEST_F(CliTest, RunsTheAnalyzeExampleInBothFormatsWithBothBranchesReachingReport) {
  for (const char* file : {"analyze.dot", "analyze.textproto"}) {
    SCOPED_TRACE(file);
    const std::string id = absl::StrCat("analyze-", file);
    Result run = Chorus({"run", Example(file), "--id", id, "--input", "hello chorus"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_THAT(run.out, HasSubstr("workflow '" + id + "' completed"));
    Result history = Chorus({"history", id});
    ASSERT_EQ(history.exit_code, 0) << history.err;
    EXPECT_THAT(history.out, HasSubstr("workflow_completed"));
    Result replay = Chorus({"replay", id});
    EXPECT_THAT(replay.out, AllOf(HasSubstr("analyze"), HasSubstr("summarize")));
  }
}

TEST_F(CliTest, InspectionOutputMatchesGoldenFiles) {
  ASSERT_EQ(Chorus({"run", Example("diamond.textproto"), "--id", "d1", "--mode", "wave"}).exit_code,
            0);
  ExpectGolden("status.txt", Stable(Chorus({"status", "d1"}).out));
  ExpectGolden("history.txt", Stable(Chorus({"history", "d1"}).out));
  ExpectGolden("history_range.txt",
               Stable(Chorus({"history", "d1", "--from", "3", "--to", "5"}).out));
  ExpectGolden("replay_at_4.txt", Stable(Chorus({"replay", "d1", "--at", "4"}).out));
  ExpectGolden("list.txt", Stable(Chorus({"list"}).out));
  ExpectGolden("verify.txt", Stable(Chorus({"verify", "--all"}).out));
  ExpectGolden("graph.dot", Chorus({"graph", "d1"}).out);
}

TEST_F(CliTest, HistoryJsonIsOneProtobufJsonObjectPerLine) {
  ASSERT_EQ(Chorus({"run", Example("diamond.dot"), "--id", "j"}).exit_code, 0);
  Result json = Chorus({"history", "j", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::istringstream lines(json.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_THAT(line, AllOf(testing::StartsWith("{\"seq\":"), testing::EndsWith("}")));
  }
  EXPECT_EQ(count, 10);  // started, 4 x (started, completed), completed
}

TEST_F(CliTest, GraphAndTimelineRender) {
  ASSERT_EQ(Chorus({"run", Example("diamond.dot"), "--id", "g"}).exit_code, 0);
  Result svg = Chorus({"graph", "g", "--format", "svg"});
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  EXPECT_THAT(svg.out, HasSubstr("<svg"));
  Result from_file = Chorus({"graph", Example("diamond.dot")});
  EXPECT_THAT(from_file.out, HasSubstr("digraph"));
  ASSERT_EQ(Chorus({"timeline", "g", "-o", dir_ + "/t.html"}).exit_code, 0);
  EXPECT_THAT(ReadFile(dir_ + "/t.html"), AllOf(HasSubstr("<svg"), HasSubstr("</html>")));
  ASSERT_EQ(Chorus({"timeline", "g", "-o", dir_ + "/t.svg"}).exit_code, 0);
  EXPECT_THAT(ReadFile(dir_ + "/t.svg"), HasSubstr("<svg"));
}

TEST_F(CliTest, ReadOnlyCommandsLeaveTheDatabaseUnchanged) {
  ASSERT_EQ(Chorus({"run", Example("diamond.dot"), "--id", "ro"}).exit_code, 0);
  const std::string before = ReadFile(db_);
  ASSERT_FALSE(before.empty());
  const std::vector<std::vector<std::string>> commands = {
      {"list"},
      {"status", "ro"},
      {"history", "ro"},
      {"history", "ro", "--json"},
      {"replay", "ro"},
      {"verify", "ro"},
      {"verify", "--all"},
      {"graph", "ro"},
      {"export", "ro"},
      {"timeline", "ro", "-o", dir_ + "/t.html"},
      {"status", "nobody"},
  };
  for (const std::vector<std::string>& command : commands) {
    SCOPED_TRACE(command[0]);
    Chorus(command);
    EXPECT_TRUE(ReadFile(db_) == before) << "the database file changed";
  }
}

TEST_F(CliTest, ExportThenImportGivesAnIdenticalHistory) {
  ASSERT_EQ(Chorus({"run", Example("analyze.dot"), "--id", "x", "--input", "abc"}).exit_code, 0);
  Result exported = Chorus({"export", "x", "-o", dir_ + "/x.jsonl"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string other = dir_ + "/other.db";
  Result imported = Chorus({"import", dir_ + "/x.jsonl", "--db", other}, /*with_db=*/false);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  Result again = Chorus({"export", "x", "--db", other}, /*with_db=*/false);
  EXPECT_EQ(again.out, ReadFile(dir_ + "/x.jsonl"));
  Result twice = Chorus({"import", dir_ + "/x.jsonl", "--db", other}, /*with_db=*/false);
  EXPECT_EQ(twice.exit_code, 6);
  EXPECT_THAT(twice.err, HasSubstr("workflow 'x' already exists"));
}

TEST_F(CliTest, ImportRefusesABadFileAndWritesNothing) {
  ASSERT_EQ(Chorus({"run", Example("diamond.dot"), "--id", "src"}).exit_code, 0);
  const std::string good = Chorus({"export", "src"}).out;
  std::vector<std::string> lines = absl::StrSplit(good, '\n', absl::SkipEmpty());
  const struct {
    const char* name;
    std::string contents;
    const char* message;
  } cases[] = {
      {"not json", "{nope\n", "bad.jsonl:1: not an exported event"},
      {"gap", absl::StrCat(lines[0], "\n", lines[2], "\n"), "seq 3"},
      {"empty", "", "no events"},
  };
  const std::string other = dir_ + "/other.db";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    WriteFile(dir_ + "/bad.jsonl", c.contents);
    Result imported = Chorus({"import", dir_ + "/bad.jsonl", "--db", other}, /*with_db=*/false);
    EXPECT_EQ(imported.exit_code, 3);
    EXPECT_THAT(imported.err, HasSubstr(c.message));
    EXPECT_FALSE(std::filesystem::exists(other)) << "import wrote a database";
  }
}

TEST_F(CliTest, UserErrorsAreOneLineWithADocumentedExitCode) {
  ASSERT_EQ(Chorus({"run", Example("diamond.dot"), "--id", "d"}).exit_code, 0);
  WriteFile(dir_ + "/bad.textproto",
            "name: 'bad' steps { name: 'a' command: 'true' depends_on: 'ghost' } "
            "steps { name: 'a' command: 'true' }");
  WriteFile(dir_ + "/syntax.dot", "digraph g {\n a [cmd=\"true\"];\n a -> ;\n}\n");
  WriteFile(dir_ + "/random.db", std::string(4096, '\x5a'));
  WriteFile(dir_ + "/changed.dot", "digraph diamond { a [cmd=\"echo changed\"]; }\n");
  const struct {
    std::vector<std::string> args;
    int exit_code;
    std::vector<std::string> messages;
  } cases[] = {
      {{"status", "nobody"}, 4, {"workflow 'nobody' not found"}},
      {{"run", dir_ + "/missing.dot"}, 3, {"missing.dot"}},
      {{"run", dir_ + "/bad.textproto"},
       3,
       {"bad.textproto", "depends on unknown step 'ghost'", "step 'a' is defined twice"}},
      {{"run", dir_ + "/syntax.dot"}, 3, {"syntax.dot:3"}},
      {{"list", "--db", dir_ + "/random.db"}, 5, {"random.db is not a Chorus database"}},
      {{"run", dir_ + "/changed.dot", "--id", "d"}, 6, {"nondeterminism", "step 'b' removed"}},
      {{"frobnicate"}, 2, {"unknown command 'frobnicate'"}},
      {{"history", "d", "--bogus"}, 2, {"unknown flag '--bogus'"}},
      {{"run", Example("diamond.dot"), "--parallel", "zero"}, 2, {"--parallel"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : ""));
    Result result = Chorus(c.args, /*with_db=*/c.args.size() < 2 || c.args[1] != "--db");
    EXPECT_EQ(result.exit_code, c.exit_code) << result.err;
    for (const std::string& message : c.messages) EXPECT_THAT(result.err, HasSubstr(message));
    EXPECT_THAT(result.err, testing::StartsWith("chorus: "));
  }
}

// A file is read whole, up to a limit: a directory, a device or a file too large for it is
// a bad input file, never an empty input or an allocation that fails.
TEST_F(CliTest, FilesThatCannotBeReadWholeAreBadInput) {
  const std::string big_definition = dir_ + "/big.dot";
  WriteFile(big_definition, "");
  std::filesystem::resize_file(big_definition, (64 << 20) + 1);
  const std::string big_input = dir_ + "/big.txt";
  WriteFile(big_input, "");
  std::filesystem::resize_file(big_input, (16 << 20) + 1);
  const std::string big_export = dir_ + "/big.jsonl";
  WriteFile(big_export, "");
  std::filesystem::resize_file(big_export, (int64_t{1} << 30) + 1);
  const struct {
    std::vector<std::string> args;
    std::string message;
  } kCases[] = {
      {{"run", "/dev/zero"},
       "cannot read definition file /dev/zero: it holds more than 64 MiB, the limit"},
      {{"run", big_definition},
       "cannot read definition file " + big_definition + ": it holds more than 64 MiB, the limit"},
      {{"run", dir_}, "cannot read definition file " + dir_ + ": it is a directory"},
      {{"run", Example("diamond.dot"), "--input-file", dir_},
       "cannot read input file " + dir_ + ": it is a directory"},
      {{"run", Example("diamond.dot"), "--input-file", "/dev/zero"},
       "cannot read input file /dev/zero: it holds more than 16 MiB, the limit"},
      {{"run", Example("diamond.dot"), "--input-file", big_input},
       "cannot read input file " + big_input + ": it holds more than 16 MiB, the limit"},
      {{"run", Example("diamond.dot"), "--input-file", dir_ + "/missing"},
       "cannot open input file " + dir_ + "/missing: No such file or directory"},
      {{"import", dir_}, "cannot read export file " + dir_ + ": it is a directory"},
      {{"import", big_export},
       "cannot read export file " + big_export + ": it holds more than 1 GiB, the limit"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    Result result = Chorus(c.args);
    EXPECT_EQ(result.exit_code, 3) << result.err;
    EXPECT_EQ(result.err, "chorus: " + c.message + "\n");
  }
  EXPECT_FALSE(std::filesystem::exists(db_)) << "a refused run or import wrote a database";
}

// The database's folder is not created: a --db in a folder that does not exist is a mistake
// on the command line, not a database that is not Chorus's.
TEST_F(CliTest, ADatabaseInAFolderThatDoesNotExistIsAUsageError) {
  WriteFile(dir_ + "/file", "");
  const struct {
    const char* db;
    const char* says;
  } kDatabases[] = {
      {"nodir/x.db", "--db nodir/x.db: the folder nodir does not exist"},
      {"file/x.db", "--db file/x.db: file is not a folder"},
  };
  for (const auto& db : kDatabases) {
    for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
             {"run", Example("diamond.dot")}, {"status", "w"}, {"list"}, {"import", "x.jsonl"}}) {
      SCOPED_TRACE(absl::StrCat(command[0], " --db ", db.db));
      std::vector<std::string> args = command;
      args.insert(args.end(), {"--db", db.db});
      Result result = Chorus(args, /*with_db=*/false);
      EXPECT_EQ(result.exit_code, 2);
      EXPECT_EQ(result.err, absl::StrCat("chorus: ", db.says, "\n"));
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/nodir"));
}

TEST_F(CliTest, CorruptEventIsReportedWithItsSeq) {
  WriteFile(dir_ + "/one.dot", "digraph one { a [cmd=\"echo unmistakable\"]; }\n");
  ASSERT_EQ(Chorus({"run", dir_ + "/one.dot", "--id", "c"}).exit_code, 0);
  // Damage the recorded definition below SQL (the schema forbids UPDATE): the length of the
  // command, the byte before it, now runs past the end of its step, so that the event at seq 1
  // is no message protobuf parses.
  std::string bytes = ReadFile(db_);
  const size_t at = bytes.find("echo unmistakable");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes[at - 1], '\x11');  // 17 bytes
  bytes[at - 1] = '\x7f';
  WriteFile(db_, bytes);
  for (const char* command : {"verify", "status", "history"}) {
    SCOPED_TRACE(command);
    Result result = Chorus({command, "c"});
    EXPECT_NE(result.exit_code, 0);
    EXPECT_THAT(result.out + result.err, AllOf(HasSubstr("workflow 'c'"), HasSubstr("seq 1")));
  }
  EXPECT_TRUE(ReadFile(db_) == bytes) << "inspecting a corrupt database changed it";
}

// Text that is not UTF-8, as an earlier version could record it, reads escaped; verify finds
// the definition no longer the one its fingerprint is of.
TEST_F(CliTest, TextThatIsNotUtf8InAHistoryReadsEscaped) {
  WriteFile(dir_ + "/one.dot", "digraph one { a [cmd=\"echo unmistakable\"]; }\n");
  ASSERT_EQ(Chorus({"run", dir_ + "/one.dot", "--id", "c"}).exit_code, 0);
  std::string bytes = ReadFile(db_);
  const size_t at = bytes.find("echo unmistakable");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 4, "\xff\xfe\xff\xfe");
  WriteFile(db_, bytes);
  for (const char* command : {"status", "history"}) {
    SCOPED_TRACE(command);
    Result result = Chorus({command, "c"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");  // protobuf's log of the text it refused stays out of it
  }
  EXPECT_THAT(Chorus({"history", "c", "--json"}).out,
              HasSubstr(R"("command":"\\xFF\\xFE\\xFF\\xFE unmistakable")"));
  const Result verified = Chorus({"verify", "c"});
  EXPECT_EQ(verified.exit_code, 1);
  EXPECT_THAT(verified.out, HasSubstr("workflow 'c', seq 1: workflow_started.fingerprint is"));
  EXPECT_TRUE(ReadFile(db_) == bytes) << "inspecting the database changed it";
}

// A snapshot is checked against the fold of the history it claims to be of.
TEST_F(CliTest, VerifyReportsASnapshotThatDoesNotFitTheHistory) {
  WriteFile(dir_ + "/two.dot", "digraph two { a [cmd=\"echo A\"]; b [cmd=\"echo B\"]; a -> b; }\n");
  ASSERT_EQ(Chorus({"run", dir_ + "/two.dot", "--id", "s"}).exit_code, 0);
  const struct {
    const char* name;
    int64_t seq;
    bool garbage;
    int exit_code;
    const char* says;
  } kCases[] = {
      {"the fold of the first 3 events", 3, false, 0, "s: ok"},
      {"not a snapshot", 4, true, 1, "workflow 's': the snapshot cannot be parsed"},
      {"the fold of 4 events saved as of 5", 5, false, 1,
       "the snapshot at seq 5 differs from the fold of the history's first 5 events"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    {
      absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(db_, {});
      ASSERT_TRUE(store.ok()) << store.status();
      const int64_t folded = c.garbage ? 1 : std::min<int64_t>(c.seq, 4);
      absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, "s", folded);
      ASSERT_TRUE(state.ok()) << state.status();
      const std::string snapshot = c.garbage ? "\xff not a snapshot" : SerializeSnapshot(*state);
      const absl::Status saved = (*store)->SaveSnapshot("s", c.seq, snapshot);
      ASSERT_TRUE(saved.ok()) << saved;
    }
    Result verify = Chorus({"verify", "s"});
    EXPECT_EQ(verify.exit_code, c.exit_code) << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr(c.says));
  }
  // The store refuses to save a snapshot beyond the history; damage to the file can leave one.
  ASSERT_EQ(RawExec(db_, "UPDATE snapshots SET seq = 99 WHERE workflow_id = 's'"), "");
  Result beyond = Chorus({"verify", "s"});
  EXPECT_EQ(beyond.exit_code, 1) << beyond.out << beyond.err;
  EXPECT_THAT(beyond.out,
              HasSubstr("the snapshot at seq 99 is of more events than the 6 the history has"));
}

TEST_F(CliTest, FailFastKillsTheSleepingSibling) {
  WriteFile(dir_ + "/ff.dot",
            absl::StrCat("digraph ff {\n"
                         "  slow [cmd=\"echo $$ > ",
                         dir_,
                         "/slow.pid; exec sleep 60\"];\n"
                         "  bad [cmd=\"while [ ! -s ",
                         dir_,
                         "/slow.pid ]; do sleep 0.05; done; echo boom >&2; exit 3\"];\n"
                         "}\n"));
  Result run = Chorus({"run", dir_ + "/ff.dot", "--id", "ff"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, AllOf(HasSubstr("step 'bad'"), HasSubstr("status 3"), HasSubstr("boom")));
  const pid_t slow = std::atoi(ReadFile(dir_ + "/slow.pid").c_str());
  ASSERT_GT(slow, 0);
  EXPECT_FALSE(IsAlive(slow)) << "the slow sibling survived";
  Result history = Chorus({"history", "ff"});
  EXPECT_THAT(history.out,
              AllOf(HasSubstr("step_failed        bad#1"), HasSubstr("step_cancelled     slow#1"),
                    HasSubstr("workflow_failed")));
}

TEST_F(CliTest, SigintCancelsTheRunAndRecordsIt) {
  WriteFile(dir_ + "/slow.dot", absl::StrCat("digraph slow {\n  wait [cmd=\"echo $$ > ", dir_,
                                             "/wait.pid; exec sleep 60\"];\n}\n"));
  const pid_t chorus = fork();
  ASSERT_GE(chorus, 0);
  if (chorus == 0) {
    const std::string db = "--db=" + db_;
    const std::string file = dir_ + "/slow.dot";
    std::freopen((dir_ + "/err").c_str(), "w", stderr);
    execl(CHORUS_CLI_PATH, "chorus", "run", file.c_str(), "--id", "slow", db.c_str(), nullptr);
    _exit(127);
  }
  ASSERT_TRUE(Eventually([&] { return !ReadFile(dir_ + "/wait.pid").empty(); }));
  kill(chorus, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(chorus, &status, 0), chorus);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130) << ReadFile(dir_ + "/err");
  const pid_t wait = std::atoi(ReadFile(dir_ + "/wait.pid").c_str());
  EXPECT_FALSE(IsAlive(wait)) << "the step's process survived";
  Result history = Chorus({"history", "slow"});
  EXPECT_THAT(history.out, AllOf(HasSubstr("step_cancelled     wait#1"),
                                 HasSubstr("workflow_cancelled"), HasSubstr("SIGINT")));
}

TEST_F(CliTest, ResumeRunsOnlyWhatIsLeft) {
  WriteFile(dir_ + "/count.dot", absl::StrCat("digraph count {\n"
                                              "  a [cmd=\"echo a >> ",
                                              dir_,
                                              "/ran\"];\n"
                                              "  b [cmd=\"echo b >> ",
                                              dir_, "/ran; test -e ", dir_,
                                              "/go\"];\n"
                                              "  a -> b;\n}\n"));
  EXPECT_EQ(Chorus({"run", dir_ + "/count.dot", "--id", "r"}).exit_code, 1);
  // A failed workflow stays failed: resume gives the same result and runs nothing.
  WriteFile(dir_ + "/go", "");
  EXPECT_EQ(Chorus({"resume", "r"}).exit_code, 1);
  EXPECT_EQ(ReadFile(dir_ + "/ran"), "a\nb\n");
  EXPECT_EQ(Chorus({"resume", "nobody"}).exit_code, 4);
}

TEST_F(CliTest, CancelRecordsTheCancellationOfAnIdleWorkflow) {
  WriteFile(dir_ + "/slow.dot", "digraph s { s [cmd=\"sleep 60\"]; }\n");
  const pid_t chorus = fork();
  ASSERT_GE(chorus, 0);
  if (chorus == 0) {
    const std::string db = "--db=" + db_;
    const std::string file = dir_ + "/slow.dot";
    std::freopen("/dev/null", "w", stderr);
    execl(CHORUS_CLI_PATH, "chorus", "run", file.c_str(), "--id", "s", db.c_str(), nullptr);
    _exit(127);
  }
  ASSERT_TRUE(Eventually([&] {
    return Chorus({"status", "s"}).out.find("running") != std::string::npos;
  }));
  Result cancel = Chorus({"cancel", "s"});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("cancelled by its driver"));
  int status = 0;
  ASSERT_EQ(waitpid(chorus, &status, 0), chorus);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(Chorus({"status", "s"}).out, HasSubstr("cancelled"));
  EXPECT_EQ(Chorus({"cancel", "s"}).exit_code, 6);
}

TEST_F(CliTest, HelpListsEveryCommand) {
  Result help = Chorus({"help"}, /*with_db=*/false);
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"run", "resume", "cancel", "list", "status", "history", "replay",
                              "verify", "graph", "timeline", "export", "import"}) {
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("  ", command, " ")));
  }
  Result run_help = Chorus({"run", "--help"}, /*with_db=*/false);
  EXPECT_THAT(run_help.out, AllOf(HasSubstr("--parallel N"), HasSubstr("--mode wave|eager")));
}

}  // namespace
}  // namespace chorus
