// Corrupt databases given to the built `chorus` binary: a truncated file, random bytes over its
// pages, and histories broken below the API (rows INSERTed through a raw sqlite3 handle, the
// only change the schema allows). Every command must fail with an error naming the file, or
// the workflow and seq; the inspecting commands must leave the file byte for byte as it was;
// and `resume` must refuse a broken history without appending to it.
//
// tests/cli/cli_test.cc covers a foreign file and a corrupt definition inside an event;
// tests/storage/sqlite_event_store_test.cc covers the store's side of an unparseable event.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "event/events.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/event.pb.h"
#include "tests/cli/cli_fixture.h"
#include "tests/storage/raw_sqlite.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The rows of workflow `id` in the events table, as "seq:hex(body)" lines: what a command
// that must not append would change.
std::string RawEvents(const std::string& path, const std::string& id) {
  return RawRows(path, absl::StrCat("SELECT seq || ':' || hex(body) FROM events WHERE "
                                    "workflow_id = '",
                                    id, "' ORDER BY seq"));
}

// Events of a two-step workflow (a -> b), as its driver would record them.
Event EventAt(int64_t seq) {
  Event event;
  event.set_seq(seq);
  SetRecordedAt(absl::FromUnixSeconds(1'700'000'000 + seq), &event);
  return event;
}

Event Started(int64_t seq) {
  Event event = EventAt(seq);
  WorkflowDefinition* definition = event.mutable_workflow_started()->mutable_definition();
  definition->set_name("pair");
  StepDefinition* a = definition->add_steps();
  a->set_name("a");
  a->set_command("echo a");
  StepDefinition* b = definition->add_steps();
  b->set_name("b");
  b->set_command("echo b");
  b->add_depends_on("a");
  event.mutable_workflow_started()->set_fingerprint(Fingerprint(*definition));
  return event;
}

Event StepStarted(int64_t seq, const std::string& step) {
  Event event = EventAt(seq);
  event.mutable_step_started()->set_step(step);
  event.mutable_step_started()->set_attempt(1);
  return event;
}

Event StepCompleted(int64_t seq, const std::string& step) {
  Event event = EventAt(seq);
  event.mutable_step_completed()->set_step(step);
  event.mutable_step_completed()->set_attempt(1);
  event.mutable_step_completed()->set_output(step);
  return event;
}

// A row of the events table: the seq the row is stored under and the bytes of its body.
struct Row {
  int64_t seq;
  std::string body;
};

Row RowOf(const Event& event) { return {event.seq(), event.SerializeAsString()}; }

// SQL that INSERTs `rows` as the history of workflow `id`, with its summary row.
std::string InsertHistory(const std::string& id, const std::vector<Row>& rows) {
  std::string sql = absl::StrCat("INSERT INTO workflows VALUES ('", id, "', 'pair', 1, 0);");
  for (const Row& row : rows) {
    absl::StrAppend(&sql, "INSERT INTO events VALUES ('", id, "', ", row.seq, ", 0, 0, x'",
                    absl::BytesToHexString(row.body), "');");
  }
  return sql;
}

class CorruptInputTest : public ChorusCliTest {
 protected:
  // Runs `chorus ARGS` in dir_: every command here names its database itself.
  Result Chorus(const std::vector<std::string>& args) {
    return ChorusCliTest::Chorus(args, /*with_db=*/false);
  }

  // A database at `name` holding workflow "ok", a completed run of a -> b -> c.
  std::string HealthyDatabase(const std::string& name) {
    const std::string path = absl::StrCat(dir_, "/", name);
    const std::string dot = dir_ + "/ok.dot";
    WriteFile(dot,
              "digraph ok { a [cmd=\"echo a\"]; b [cmd=\"echo b\"]; c [cmd=\"echo c\"]; "
              "a -> b -> c; }\n");
    const Result run = Chorus({"run", dot, "--id", "ok", "--db", path});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return path;
  }

  // The commands that only read, on workflow `id` in the database at `db`.
  std::vector<std::vector<std::string>> InspectingCommands(const std::string& db,
                                                           const std::string& id) {
    return {
        {"list", "--db", db},
        {"status", id, "--db", db},
        {"history", id, "--db", db},
        {"replay", id, "--db", db},
        {"verify", id, "--db", db},
        {"verify", "--all", "--db", db},
        {"export", id, "--db", db},
        {"graph", id, "--db", db},
        {"timeline", id, "-o", dir_ + "/timeline.html", "--db", db},
    };
  }
};

// A file cut short: wherever it ends, `export` (which reads every row) gives either an error
// naming the file, or the whole history when only unused pages were cut off; never a shorter
// history as if it were whole. At two lengths that cut data off, every command is tried.
TEST_F(CorruptInputTest, TruncatedDatabaseIsReportedAndLeftUnchanged) {
  const std::string healthy = HealthyDatabase("healthy.db");
  const std::string bytes = ReadFile(healthy);
  ASSERT_GT(bytes.size(), 3 * 4096);
  const std::string history = Chorus({"export", "ok", "--db", healthy}).out;
  ASSERT_THAT(history, HasSubstr("workflowCompleted"));
  const std::string db = dir_ + "/truncated.db";
  int reported = 0;
  for (size_t size = 0; size < bytes.size(); size += 1000) {
    SCOPED_TRACE(absl::StrCat("truncated to ", size, " bytes"));
    const std::string truncated = bytes.substr(0, size);
    WriteFile(db, truncated);
    const Result result = Chorus({"export", "ok", "--db", db});
    if (result.exit_code == 0) {
      EXPECT_EQ(result.out, history) << "a truncated file gave another history";
    } else {
      ++reported;
      EXPECT_EQ(result.exit_code, 5) << result.out;
      EXPECT_THAT(result.err, AllOf(StartsWith("chorus: "), HasSubstr(db)));
    }
    EXPECT_TRUE(ReadFile(db) == truncated) << "the database file changed";
  }
  EXPECT_GT(reported, 0);
  for (const size_t size : {size_t{4096}, bytes.size() / 2}) {
    const std::string truncated = bytes.substr(0, size);
    WriteFile(db, truncated);
    for (const std::vector<std::string>& command : InspectingCommands(db, "ok")) {
      SCOPED_TRACE(absl::StrCat(command[0], " on ", size, " bytes"));
      const Result result = Chorus(command);
      EXPECT_EQ(result.exit_code, 5) << result.out;
      EXPECT_THAT(result.err, AllOf(StartsWith("chorus: "), HasSubstr(db), HasSubstr("malformed")));
      EXPECT_TRUE(ReadFile(db) == truncated) << "the database file changed";
    }
  }
}

TEST_F(CorruptInputTest, RandomBytesOverThePagesAreReportedAndLeftUnchanged) {
  const std::string healthy = HealthyDatabase("healthy.db");
  std::string bytes = ReadFile(healthy);
  std::mt19937 random(20261121);
  // The first page, with the header that says the file is a Chorus database, stays intact.
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(random());
  const std::string db = dir_ + "/random.db";
  WriteFile(db, bytes);
  std::vector<std::vector<std::string>> commands = InspectingCommands(db, "ok");
  commands.push_back({"resume", "ok", "--db", db});
  for (const std::vector<std::string>& command : commands) {
    SCOPED_TRACE(command[0]);
    const Result result = Chorus(command);
    EXPECT_EQ(result.exit_code, 5) << result.out;
    EXPECT_THAT(result.err, AllOf(StartsWith("chorus: "), HasSubstr(db)));
    EXPECT_TRUE(ReadFile(db) == bytes) << "the database file changed";
  }
}

// A broken history, INSERTed as workflow "bad" beside the healthy "ok".
struct BrokenHistory {
  const char* name;
  std::vector<Row> rows;
  const char* problem;  // what the error says about the broken seq
  int64_t seq;          // the broken seq
  bool parses;          // whether every event parses (commands that only list events show them)
};

std::vector<BrokenHistory> BrokenHistories() {
  return {
      {"unparseable event",
       {RowOf(Started(1)), RowOf(StepStarted(2, "a")), {3, "\xff\xff\xff\xff"}},
       "cannot be parsed",
       3,
       false},
      {"gap",
       {RowOf(Started(1)), RowOf(StepStarted(2, "a")), RowOf(StepCompleted(4, "a"))},
       "expected seq 3",
       4,
       true},
      {"second start", {RowOf(Started(1)), RowOf(Started(2))}, "workflow_started again", 2, true},
      {"completion of a step never started",
       {RowOf(Started(1)), RowOf(StepCompleted(2, "b"))},
       "never started",
       2,
       true},
  };
}

TEST_F(CorruptInputTest, BrokenHistoryIsReportedWithItsWorkflowAndSeqAndLeftUnchanged) {
  for (const BrokenHistory& c : BrokenHistories()) {
    SCOPED_TRACE(c.name);
    const std::string db = HealthyDatabase(absl::StrCat(c.name, ".db"));
    ASSERT_EQ(RawExec(db, InsertHistory("bad", c.rows)), "");
    const std::string bytes = ReadFile(db);
    const std::string place = absl::StrCat("seq ", c.seq);
    for (const std::vector<std::string>& command : InspectingCommands(db, "bad")) {
      SCOPED_TRACE(command[0] + " " + command[1]);
      const Result result = Chorus(command);
      const bool lists_events =
          command[0] == "history" || command[0] == "export" || command[0] == "timeline";
      if (lists_events && c.parses) {
        // These show the events as stored; `verify` is what judges them.
        EXPECT_EQ(result.exit_code, 0) << result.err;
      } else {
        EXPECT_EQ(result.exit_code, command[0] == "verify" ? 1 : 5) << result.err;
        EXPECT_THAT(result.out + result.err,
                    AllOf(HasSubstr("workflow 'bad'"), HasSubstr(place), HasSubstr(c.problem)));
      }
      if (command[0] == "list") {
        EXPECT_THAT(result.out, AllOf(HasSubstr("completed"), HasSubstr("unreadable")))
            << "list shows the sound workflow and marks the broken one";
      }
      EXPECT_TRUE(ReadFile(db) == bytes) << "the database file changed";
    }
  }
}

TEST_F(CorruptInputTest, ResumeRefusesABrokenHistoryAndAppendsNothing) {
  for (const BrokenHistory& c : BrokenHistories()) {
    SCOPED_TRACE(c.name);
    const std::string db = HealthyDatabase(absl::StrCat(c.name, ".db"));
    ASSERT_EQ(RawExec(db, InsertHistory("bad", c.rows)), "");
    const std::string before = RawEvents(db, "bad");
    const Result result = Chorus({"resume", "bad", "--db", db});
    EXPECT_EQ(result.exit_code, 5) << result.out;
    EXPECT_THAT(result.err, AllOf(StartsWith("chorus: "), HasSubstr("workflow 'bad'"),
                                  HasSubstr(absl::StrCat("seq ", c.seq))));
    EXPECT_EQ(RawEvents(db, "bad"), before) << "resume changed the broken history";
  }
}

// A summary row with no events: the store never writes one, so it is damage too.
TEST_F(CorruptInputTest, ResumeRefusesAWorkflowWithoutEventsAndAppendsNothing) {
  const std::string db = HealthyDatabase("empty.db");
  ASSERT_EQ(RawExec(db, "INSERT INTO workflows VALUES ('bad', 'pair', 1, 0)"), "");
  const Result result = Chorus({"resume", "bad", "--db", db});
  EXPECT_EQ(result.exit_code, 5) << result.out;
  EXPECT_THAT(result.err, AllOf(StartsWith("chorus: "), HasSubstr("workflow 'bad'"),
                                HasSubstr("no workflow_started event")));
  EXPECT_EQ(RawEvents(db, "bad"), "");
}

// DESIGN.md: payload limits are "enforced with a clear error (not a bloated database)". The
// engine refuses an input or output over EngineOptions::max_payload_bytes, 16 MiB by default,
// and `chorus run` an --input-file over it before it opens the database; `chorus import`
// appends a history without an engine, and checks it against the same limit first.
constexpr size_t kDefaultMaxPayloadBytes = 16 << 20;

TEST_F(CorruptInputTest, OversizedPayloadIsRefusedWithAClearErrorAndNoBloat) {
  const std::string big = std::string(kDefaultMaxPayloadBytes + 1, 'x');
  const std::string db = dir_ + "/payload.db";

  WriteFile(dir_ + "/big.input", big);
  WriteFile(dir_ + "/one.dot", "digraph one { a [cmd=\"true\"]; }\n");
  const Result run = Chorus(
      {"run", dir_ + "/one.dot", "--id", "in", "--input-file", dir_ + "/big.input", "--db", db});
  EXPECT_EQ(run.exit_code, 3) << run.out;
  EXPECT_THAT(run.err, AllOf(StartsWith("chorus: "), HasSubstr("input file"),
                             HasSubstr("big.input"), HasSubstr("limit")));
  EXPECT_FALSE(std::filesystem::exists(db)) << "the workflow was recorded";

  Event output = StepCompleted(3, "a");
  output.mutable_step_completed()->set_output(big);
  std::string exported;
  for (const Event& event :
       {Started(1), StepStarted(2, "a"), output, StepStarted(4, "b"), StepCompleted(5, "b")}) {
    ExportedEvent line;
    line.set_workflow_id("out");
    *line.mutable_event() = event;
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(line, &json).ok());
    absl::StrAppend(&exported, json, "\n");
  }
  WriteFile(dir_ + "/big.jsonl", exported);
  const Result import = Chorus({"import", dir_ + "/big.jsonl", "--db", db});
  EXPECT_NE(import.exit_code, 0) << import.out;
  EXPECT_THAT(import.err, AllOf(StartsWith("chorus: "), HasSubstr("seq 3"), HasSubstr("limit")));
  EXPECT_FALSE(std::filesystem::exists(db)) << "the workflow was imported";
}

}  // namespace
}  // namespace chorus
