// What only the SQLite store promises: durability across reopening, append-only events, and
// refusing foreign files without touching them.
#include "storage/sqlite_event_store.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/internal/status_macros.h"
#include "event/started_outline.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "storage/load_state.h"
#include "tests/storage/raw_sqlite.h"
#include "tests/storage/storage_test_util.h"
#include "tests/temp_dir.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

absl::StatusOr<std::unique_ptr<EventStore>> Open(const std::string& path,
                                                 const SqliteOptions& options = {}) {
  return OpenSqliteEventStore(path, options);
}

SqliteOptions ReadOnly() {
  SqliteOptions options;
  options.read_only = true;
  return options;
}

// Creates a Chorus database at `path` holding OrderHistory as workflow "w".
void CreateOrderDatabase(const std::string& path) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Status status = (*store)->Append("w", 0, OrderHistory());
  ASSERT_TRUE(status.ok()) << status;
}

// Creates a Chorus database at `path` whose workflow "w" is workflow_started, then
// step_started events up to seq `events`.
void CreateLongHistory(const std::string& path, int64_t events) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> history = {StartedEvent()};
  for (int64_t seq = 2; seq <= events; ++seq) history.push_back(StepStartedEvent(seq));
  const absl::Status status = (*store)->Append("w", 0, history);
  ASSERT_TRUE(status.ok()) << status;
}

TEST(SqliteEventStore, NewFileIsAChorusDatabaseInWalMode) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  EXPECT_EQ(RawRows(path, "PRAGMA application_id"), std::to_string(0x43484f52));
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "3");
  EXPECT_EQ(RawRows(path, "PRAGMA journal_mode"), "wal");
}

TEST(SqliteEventStore, EmptyFileBecomesADatabase) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  WriteBytes(path, "");
  CreateOrderDatabase(path);
  EXPECT_EQ(RawRows(path, "PRAGMA application_id"), std::to_string(0x43484f52));
}

TEST(SqliteEventStore, ReopenKeepsEverything) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
  const absl::StatusOr<std::vector<WorkflowSummary>> summaries = (*store)->List();
  ASSERT_TRUE(summaries.ok()) << summaries.status();
  EXPECT_THAT(*summaries, ElementsAre(SummaryAt("w", WORKFLOW_STATUS_COMPLETED, 4)));
}

TEST(SqliteEventStore, SharedLargeDefinitionReadsWholeAndOutlivesItsStore) {
  // 50,000 steps, each depending on the one before: a row of over 1 MB that parses into many
  // blocks of the large row's arena.
  Event started = StartedEvent();
  WorkflowDefinition* definition = started.mutable_workflow_started()->mutable_definition();
  for (int i = 0; i < 50000; ++i) {
    StepDefinition* step = definition->add_steps();
    step->set_name(absl::StrCat("step-", i));
    if (i > 0) step->add_depends_on(absl::StrCat("step-", i - 1));
  }
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::shared_ptr<const Event> shared;
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_EQ((*store)->Append("w", 0, {started}), absl::OkStatus());
    absl::StatusOr<std::unique_ptr<EventStream>> stream = (*store)->Read("w", 1);
    ASSERT_TRUE(stream.ok()) << stream.status();
    ASSERT_TRUE((*stream)->Next());
    shared = (*stream)->ShareEvent();
    EXPECT_FALSE((*stream)->Next());
    EXPECT_EQ((*stream)->status(), absl::OkStatus());
  }
  EXPECT_EQ(shared->SerializeAsString(), started.SerializeAsString());
}

TEST(SqliteEventStore, EventsRejectUpdateAndDelete) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  constexpr const char* kStatements[] = {
      "UPDATE events SET body = x'00' WHERE seq = 2",
      "UPDATE events SET seq = seq + 10",
      "DELETE FROM events WHERE seq = 4",
      "DELETE FROM events",
  };
  for (const char* sql : kStatements) {
    SCOPED_TRACE(sql);
    EXPECT_THAT(RawExec(path, sql), HasSubstr("events are append-only"));
  }
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
}

void MakeRandomBytes(const std::string& path) {
  std::mt19937 random(42);
  std::string bytes(4096, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  WriteBytes(path, bytes);
}

void MakeOtherApplicationDatabase(const std::string& path) {
  ASSERT_EQ(RawExec(path, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hi')"), "");
}

void MakeOtherApplicationIdDatabase(const std::string& path) {
  ASSERT_EQ(RawExec(path, "PRAGMA application_id = 1234"), "");
}

void MakeNewerChorusDatabase(const std::string& path) {
  CreateOrderDatabase(path);
  ASSERT_EQ(RawExec(path, "PRAGMA user_version = 99"), "");
}

TEST(SqliteEventStore, RefusesForeignFilesAndLeavesThemUnchanged) {
  const TempDir dir;
  constexpr struct {
    const char* name;
    void (*make)(const std::string& path);
    const char* problem;
  } kCases[] = {
      {"random bytes", MakeRandomBytes, "is not a Chorus database (not a SQLite file)"},
      {"another application's database", MakeOtherApplicationDatabase,
       "is not a Chorus database (application_id 0x0, expected 0x43484f52)"},
      {"another application's id", MakeOtherApplicationIdDatabase,
       "is not a Chorus database (application_id 0x4d2, expected 0x43484f52)"},
      {"newer Chorus schema", MakeNewerChorusDatabase,
       "has schema version 99; this Chorus reads versions 1 to 3"},
  };
  for (const auto& c : kCases) {
    const std::string path = dir.File(c.name);
    c.make(path);
    const std::string before = ReadBytes(path);
    ASSERT_FALSE(before.empty());
    for (const bool read_only : {false, true}) {
      SCOPED_TRACE(absl::StrCat(c.name, read_only ? ", read-only" : ""));
      SqliteOptions options;
      options.read_only = read_only;
      const absl::Status status = Open(path, options).status();
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
      EXPECT_EQ(status.message(), absl::StrCat(path, " ", c.problem));
      EXPECT_TRUE(ReadBytes(path) == before) << "the file changed";
    }
  }
}

TEST(SqliteEventStore, ReadOnlyStoreReadsButCannotAppend) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  const std::string before = ReadBytes(path);
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path, ReadOnly());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
    const absl::StatusOr<WorkflowSummary> summary = (*store)->GetSummary("w");
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ(*summary, SummaryAt("w", WORKFLOW_STATUS_COMPLETED, 4));

    const absl::Status refused[] = {
        (*store)->Append("v", 0, {StartedEvent()}),
        (*store)->AppendAsLeaseOwner("v", "A", 0, {StartedEvent()}),
        (*store)->RequestCancellation("w", "stop"),
    };
    for (const absl::Status& status : refused) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
      EXPECT_THAT(status.message(), HasSubstr(path));
    }
  }
  EXPECT_TRUE(ReadBytes(path) == before) << "the file changed";
}

TEST(SqliteEventStore, ReadOnlyNeedsADatabase) {
  const TempDir dir;
  const std::string missing = dir.File("missing.db");
  const std::string empty = dir.File("empty.db");
  WriteBytes(empty, "");
  for (const std::string& path : {missing, empty}) {
    SCOPED_TRACE(path);
    const absl::Status status = Open(path, ReadOnly()).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_THAT(status.message(), HasSubstr(path));
  }
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_EQ(std::filesystem::file_size(empty), 0);
}

TEST(SqliteEventStore, CorruptedEventStopsTheStreamWithDataLoss) {
  const TempDir dir;
  Event wrong_seq = StepStartedEvent(2);
  wrong_seq.set_seq(7);
  const struct {
    const char* name;
    std::string body;  // of the event at seq 2
    const char* problem;
  } cases[] = {
      {"unparseable", "\xff\xff\xff\xff", "event at seq 2 cannot be parsed"},
      {"wrong seq", wrong_seq.SerializeAsString(), "event at seq 2 says it is seq 7"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.File(absl::StrCat(c.name, ".db"));
    CreateOrderDatabase(path);
    ASSERT_EQ(RawExec(path, absl::StrCat("INSERT INTO workflows VALUES ('bad', 'order', 1, 0);"
                                         "INSERT INTO events VALUES ('bad', 1, 10, 0, x'",
                                         absl::BytesToHexString(StartedEvent().SerializeAsString()),
                                         "'), ('bad', 2, 11, 0, x'", absl::BytesToHexString(c.body),
                                         "')")),
              "");
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
    ASSERT_TRUE(store.ok()) << store.status();

    const std::vector<std::string> history = HistoryOf(**store, "bad");
    ASSERT_EQ(history.size(), 2);
    EXPECT_EQ(history[0], StartedEvent().ShortDebugString());
    EXPECT_THAT(history[1], HasSubstr("DATA_LOSS"));
    EXPECT_THAT(history[1], HasSubstr(absl::StrCat("workflow 'bad': ", c.problem)));
    const absl::Status load = LoadWorkflowState(**store, "bad").status();
    EXPECT_EQ(load.code(), absl::StatusCode::kDataLoss) << load;
  }
}

// A large first event is parsed beside the fold, after its outline is read: the fold fails as
// it would with the event parsed first.
TEST(SqliteEventStore, LargeFirstEventThatCannotBeParsedFailsTheFoldWithDataLoss) {
  const std::string started = LargeStartedEvent().SerializeAsString();
  const struct {
    const char* name;
    std::string body;  // of the event at seq 1
  } cases[] = {
      {"cut short", started.substr(0, started.size() - 10)},
      {"a step's field cut short", started.substr(0, started.rfind("extra-39999") + 3)},
  };
  const TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.File(absl::StrCat(c.name, ".db"));
    CreateOrderDatabase(path);
    ASSERT_EQ(
        RawExec(path, absl::StrCat("INSERT INTO workflows VALUES ('bad', 'order', 1, 0);"
                                   "INSERT INTO events VALUES ('bad', 1, 10, 0, x'",
                                   absl::BytesToHexString(c.body), "'), ('bad', 2, 11, 0, x'",
                                   absl::BytesToHexString(StepStartedEvent(2).SerializeAsString()),
                                   "')")),
        "");
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    int calls = 0;
    const absl::Status load =
        LoadWorkflowState(**store, "bad", [&calls](const WorkflowDefinition&) {
          ++calls;
        }).status();
    EXPECT_EQ(load.code(), absl::StatusCode::kDataLoss) << load;
    EXPECT_THAT(load.message(),
                HasSubstr(absl::StrCat(path, ": workflow 'bad': event at seq 1 cannot be parsed")));
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(LoadWorkflowState(**store, "bad").status(), load);
  }
}

// An earlier version could record a name that is not UTF-8, which protobuf refuses to parse:
// such a history reads with the name escaped, and folds (the outline, which would keep the
// name as it is, is not used).
TEST(SqliteEventStore, LargeFirstEventWithANameThatIsNotUtf8FoldsWithTheNameEscaped) {
  const google::protobuf::LogSilencer quiet;  // protobuf logs the name that is not UTF-8
  std::string body = LargeStartedEvent().SerializeAsString();
  body[body.rfind("extra-39999")] = '\xff';
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  ASSERT_EQ(
      RawExec(path,
              absl::StrCat("INSERT INTO workflows VALUES ('old', 'order', 1, 0);"
                           "INSERT INTO events VALUES ('old', 1, 10, 0, x'",
                           absl::BytesToHexString(body), "'), ('old', 2, 11, 0, x'",
                           absl::BytesToHexString(StepStartedEvent(2).SerializeAsString()), "')")),
      "");
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, "old");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->last_seq, 2);
  EXPECT_EQ(state->steps.size(), 40001u);
  EXPECT_EQ(state->steps.back().name, "\\xFFxtra-39999");
  EXPECT_TRUE(ReadStartedOutline(body) == std::nullopt);
}

// A history an earlier version recorded with bytes that are not UTF-8 in a text field (the
// stderr a failure quoted) reads and folds, that text escaped; its stored bytes stay as they
// are.
TEST(SqliteEventStore, TextThatIsNotUtf8FromAnEarlierVersionReadsEscaped) {
  const google::protobuf::LogSilencer quiet;
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  Event failed = EventAt(3);
  failed.mutable_step_failed()->set_step("charge");
  failed.mutable_step_failed()->set_attempt(1);
  failed.mutable_step_failed()->mutable_error()->set_code(2);  // UNKNOWN
  failed.mutable_step_failed()->mutable_error()->set_message("bad \xff bytes");
  const std::string stored = failed.SerializeAsString();
  ASSERT_EQ(
      RawExec(path, absl::StrCat("INSERT INTO workflows VALUES ('old', 'order', 1, 0);"
                                 "INSERT INTO events VALUES ('old', 1, 10, 0, x'",
                                 absl::BytesToHexString(StartedEvent().SerializeAsString()),
                                 "'), ('old', 2, 11, 0, x'",
                                 absl::BytesToHexString(StepStartedEvent(2).SerializeAsString()),
                                 "'), ('old', 3, 13, 0, x'", absl::BytesToHexString(stored), "')")),
      "");
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<std::string> history = HistoryOf(**store, "old");
  ASSERT_EQ(history.size(), 3);
  EXPECT_THAT(history[2], HasSubstr(R"(message: "bad \\xFF bytes")"));
  const absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, "old");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("charge")->error.message(), "bad \\xFF bytes");
  EXPECT_EQ(RawRows(path, "SELECT hex(body) FROM events WHERE workflow_id = 'old' AND seq = 3"),
            absl::AsciiStrToUpper(absl::BytesToHexString(stored)));
}

// A layout no serializer writes but a parser reads: the outline refuses it (a field of the
// workflow_started number but not a message), so the fold waits for the parse and goes on.
TEST(SqliteEventStore, LargeFirstEventWithoutAnOutlineFoldsOnceParsed) {
  const Event started = LargeStartedEvent();
  const std::string body = started.SerializeAsString() + '\x50' + '\x01';  // field 10, varint 1
  Event parsed;
  ASSERT_TRUE(parsed.ParseFromString(body));
  ASSERT_TRUE(parsed.has_workflow_started());
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  ASSERT_EQ(
      RawExec(path,
              absl::StrCat("INSERT INTO workflows VALUES ('odd', 'order', 1, 0);"
                           "INSERT INTO events VALUES ('odd', 1, 10, 0, x'",
                           absl::BytesToHexString(body), "'), ('odd', 2, 11, 0, x'",
                           absl::BytesToHexString(StepStartedEvent(2).SerializeAsString()), "')")),
      "");
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, "odd");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->last_seq, 2);
  EXPECT_EQ(state->steps.size(), 40001u);
  EXPECT_EQ(state->steps[0].status, StepStatus::kRunning);
  EXPECT_EQ(state->definition().steps_size(), 40001);
}

// Far into a long history, where the store reads ahead on a thread of its own.
TEST(SqliteEventStore, CorruptedEventLateInALongHistoryStopsTheStreamWithDataLoss) {
  constexpr int64_t kGoodEvents = 9000;
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateLongHistory(path, kGoodEvents);
  ASSERT_EQ(
      RawExec(path, absl::StrCat("INSERT INTO events VALUES ('w', ", kGoodEvents + 1,
                                 ", 11, 0, x'ffffffff'), ('w', ", kGoodEvents + 2, ", 11, 0, x'",
                                 absl::BytesToHexString(
                                     StepStartedEvent(kGoodEvents + 2).SerializeAsString()),
                                 "')")),
      "");
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path, ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<std::string> history = HistoryOf(**store, "w");
  ASSERT_EQ(history.size(), kGoodEvents + 1);
  EXPECT_EQ(history[kGoodEvents - 1], StepStartedEvent(kGoodEvents).ShortDebugString());
  EXPECT_THAT(history.back(), HasSubstr("DATA_LOSS"));
  EXPECT_THAT(history.back(), HasSubstr(absl::StrCat("workflow 'w': event at seq ", kGoodEvents + 1,
                                                     " cannot be parsed")));
}

// Pages of a long history's tail overwritten on disk: SQLite's own error reaches the reader
// from the thread that reads ahead, after the rows before the damage; never a short history
// that looks whole.
TEST(SqliteEventStore, DamagedPagesLateInALongHistoryStopTheStreamWithAnError) {
  constexpr int64_t kEvents = 20000;
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateLongHistory(path, kEvents);
  // Closing checkpointed the WAL: the rows are in the file, appended in seq order, so its
  // last pages hold the last rows.
  const std::uintmax_t size = std::filesystem::file_size(path);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size * 3 / 4));
    file << std::string(size / 8, '\xff');
  }
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path, ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<std::string> history = HistoryOf(**store, "w");
  ASSERT_GT(history.size(), 4097);  // the damage is past the rows read before reading ahead
  ASSERT_LT(history.size(), kEvents + 1);
  EXPECT_EQ(history[history.size() - 2],
            StepStartedEvent(static_cast<int64_t>(history.size()) - 1).ShortDebugString());
  EXPECT_THAT(history.back(), HasSubstr(path));
  EXPECT_THAT(history.back(), HasSubstr("malformed"));
}

// A terminal event needs the summary row that workflow_started wrote; events INSERTed below the
// API without one are damage, and the batch is rolled back.
TEST(SqliteEventStore, EndingAWorkflowWithoutSummaryRowIsDataLoss) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  ASSERT_EQ(
      RawExec(path, absl::StrCat("INSERT INTO events VALUES ('bad', 1, 0, 0, x'",
                                 absl::BytesToHexString(StartedEvent().SerializeAsString()), "')")),
      "");
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Status appended =
      (*store)->Append("bad", 1, {StepStartedEvent(2), StepCompletedEvent(3), CompletedEvent(4)});
  EXPECT_EQ(appended.code(), absl::StatusCode::kDataLoss) << appended;
  EXPECT_THAT(appended.message(),
              HasSubstr("workflow 'bad' has events but no summary row (appending seq 4)"));
  EXPECT_EQ(RawRows(path, "SELECT count(*) FROM events WHERE workflow_id = 'bad'"), "1");
}

// A summary row INSERTed below the API without events: starting the workflow must not take it
// over.
TEST(SqliteEventStore, StartingAWorkflowThatHasASummaryRowIsDataLoss) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateOrderDatabase(path);
  ASSERT_EQ(RawExec(path, "INSERT INTO workflows VALUES ('bad', 'other', 3, 0)"), "");
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Status appended = (*store)->Append("bad", 0, {StartedEvent(), StepStartedEvent(2)});
  EXPECT_EQ(appended.code(), absl::StatusCode::kDataLoss) << appended;
  EXPECT_THAT(appended.message(),
              HasSubstr("workflow 'bad' has a summary row but no events (appending seq 1)"));
  EXPECT_EQ(RawRows(path, "SELECT count(*) FROM events WHERE workflow_id = 'bad'"), "0");
  EXPECT_EQ(RawRows(path, "SELECT definition_name FROM workflows WHERE workflow_id = 'bad'"),
            "other");
}

// Schema version 1, as Chorus wrote it before summary rows stopped keeping the last seq and
// update time, holding workflow "w" after its events 1..3 of OrderHistory.
void CreateVersion1Database(const std::string& path) {
  std::string sql =
      "PRAGMA journal_mode = WAL; PRAGMA application_id = 1128812370; PRAGMA user_version = 1;"
      "CREATE TABLE events (workflow_id TEXT NOT NULL, seq INTEGER NOT NULL CHECK (seq >= 1),"
      "  kind INTEGER NOT NULL, recorded_at_ns INTEGER NOT NULL, body BLOB NOT NULL,"
      "  PRIMARY KEY (workflow_id, seq)) STRICT, WITHOUT ROWID;"
      "CREATE TABLE workflows (workflow_id TEXT PRIMARY KEY, definition_name TEXT NOT NULL,"
      "  status INTEGER NOT NULL, last_seq INTEGER NOT NULL, created_at_ns INTEGER NOT NULL,"
      "  updated_at_ns INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
      "CREATE TABLE cancellation_requests (workflow_id TEXT PRIMARY KEY, reason TEXT NOT NULL,"
      "  requested_at_ns INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
      "CREATE TABLE leases (workflow_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL,"
      "  host TEXT NOT NULL, pid INTEGER NOT NULL, expires_at_ns INTEGER NOT NULL) STRICT,"
      "  WITHOUT ROWID;"
      "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
      "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
      "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
      "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;";
  absl::StrAppend(&sql, "INSERT INTO workflows VALUES ('w', 'order', ", WORKFLOW_STATUS_RUNNING,
                  ", 3, ", absl::ToUnixNanos(TimeOfSeq(1)), ", ", absl::ToUnixNanos(TimeOfSeq(3)),
                  ");");
  const std::vector<Event> history = OrderHistory();
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&sql, "INSERT INTO events VALUES ('w', ", history[i].seq(), ", ",
                    history[i].kind_case(), ", ", absl::ToUnixNanos(TimeOfSeq(i + 1)), ", x'",
                    absl::BytesToHexString(history[i].SerializeAsString()), "');");
  }
  ASSERT_EQ(RawExec(path, sql), "");
}

TEST(SqliteEventStore, Version1FileIsUpgradedWhenOpenedForWriting) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateVersion1Database(path);
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();

  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "3");
  EXPECT_EQ(RawRows(path, "SELECT group_concat(name, ' ') FROM pragma_table_info('workflows')"),
            "workflow_id definition_name status created_at_ns");
  EXPECT_EQ(RawRows(path, "SELECT group_concat(name, ' ') FROM pragma_table_info('snapshots')"),
            "workflow_id seq state");
  absl::StatusOr<WorkflowSummary> summary = (*store)->GetSummary("w");
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(*summary, SummaryAt("w", WORKFLOW_STATUS_RUNNING, 3));
  const absl::Status appended = (*store)->Append("w", 3, {OrderHistory()[3]});
  ASSERT_TRUE(appended.ok()) << appended;
  EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
  summary = (*store)->GetSummary("w");
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(*summary, SummaryAt("w", WORKFLOW_STATUS_COMPLETED, 4));

  // A second writer opening the upgraded file leaves it as it is.
  absl::StatusOr<std::unique_ptr<EventStore>> again = Open(path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "3");
}

// Two writers that both found version 1 upgrade it once: the second to take the write lock
// reads the version again under it and finds the upgrade done. A third connection holds the
// write lock until both have probed the file.
TEST(SqliteEventStore, Version1FileOpenedByTwoWritersAtOnceIsUpgradedOnce) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateVersion1Database(path);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<absl::StatusOr<std::unique_ptr<EventStore>>> stores(2);
  std::vector<std::thread> openers;
  for (auto& store : stores) {
    openers.emplace_back([&path, &store] { store = Open(path); });
  }
  // Each opener probes the file, then waits for the write lock (busy_timeout 5 s).
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(holder);
  for (std::thread& opener : openers) opener.join();

  for (const auto& store : stores) ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "3");
  EXPECT_EQ(RawRows(path, "SELECT group_concat(name, ' ') FROM pragma_table_info('workflows')"),
            "workflow_id definition_name status created_at_ns");
  for (const auto& store : stores) {
    EXPECT_THAT(HistoryOf(**store, "w"),
                ElementsAreArray(Texts(absl::MakeConstSpan(OrderHistory()).first(3))));
  }
}

// An opener goes by what the file holds once it has the write lock, not by what it probed: a
// file that another program fills meanwhile is refused, as the probe refuses it, and gets no
// Chorus schema. The program's connection holds the write lock, its table written but not
// committed (the file is still empty), while the opener probes the file and waits for the
// lock, as above. (By then the opener has put the file in WAL mode: switching, before the
// schema, is the one change such a file gets.)
TEST(SqliteEventStore, AFileFilledWhileAnOpenerWaitsForTheWriteLockIsRefusedWithoutTheSchema) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; CREATE TABLE notes (text TEXT)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  absl::StatusOr<std::unique_ptr<EventStore>> store;
  std::thread opener([&path, &store] { store = Open(path); });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  opener.join();

  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_EQ(
      store.status().message(),
      absl::StrCat(path, " is not a Chorus database (application_id 0x0, expected 0x43484f52)"));
  EXPECT_EQ(RawRows(path, "SELECT group_concat(name, ' ') FROM sqlite_schema"), "notes");
  EXPECT_EQ(RawRows(path, "PRAGMA application_id"), "0");
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "0");
}

TEST(SqliteEventStore, Version1FileOpenedReadOnlyIsReadAsItIs) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateVersion1Database(path);
  const std::string before = ReadBytes(path);
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path, ReadOnly());
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::vector<WorkflowSummary>> summaries = (*store)->List();
    ASSERT_TRUE(summaries.ok()) << summaries.status();
    EXPECT_THAT(*summaries, ElementsAre(SummaryAt("w", WORKFLOW_STATUS_RUNNING, 3)));
    EXPECT_THAT(HistoryOf(**store, "w"),
                ElementsAreArray(Texts(absl::MakeConstSpan(OrderHistory()).first(3))));
  }
  EXPECT_EQ(ReadBytes(path), before);
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "1");
}

// Schema version 2, as Chorus wrote it before snapshots, holding what CreateVersion1Database
// holds.
void CreateVersion2Database(const std::string& path) {
  CreateVersion1Database(path);
  ASSERT_EQ(RawExec(path,
                    "ALTER TABLE workflows DROP COLUMN last_seq; "
                    "ALTER TABLE workflows DROP COLUMN updated_at_ns; PRAGMA user_version = 2"),
            "");
}

TEST(SqliteEventStore, Version2FileGainsSnapshotsWhenOpenedForWriting) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateVersion2Database(path);
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();

  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "3");
  const absl::Status saved = (*store)->SaveSnapshot("w", 3, "state");
  ASSERT_TRUE(saved.ok()) << saved;
  const absl::StatusOr<std::optional<StoredSnapshot>> loaded = (*store)->LoadSnapshot("w");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->seq, 3);
  EXPECT_THAT(HistoryOf(**store, "w"),
              ElementsAreArray(Texts(absl::MakeConstSpan(OrderHistory()).first(3))));
}

// Read-only, a file of a version without snapshots has none, and stays as it was.
TEST(SqliteEventStore, Version2FileOpenedReadOnlyHasNoSnapshots) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateVersion2Database(path);
  const std::string before = ReadBytes(path);
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path, ReadOnly());
    ASSERT_TRUE(store.ok()) << store.status();
    const absl::StatusOr<std::optional<StoredSnapshot>> loaded = (*store)->LoadSnapshot("w");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_FALSE(loaded->has_value());
    const absl::Status saved = (*store)->SaveSnapshot("w", 3, "state");
    EXPECT_EQ(saved.code(), absl::StatusCode::kFailedPrecondition) << saved;
    EXPECT_THAT(saved.message(), HasSubstr("cannot save a snapshot of workflow 'w'"));
  }
  EXPECT_EQ(ReadBytes(path), before);
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "2");
}

// An upgrade that SQLite refuses halfway (here, on an index added by hand on the second column
// it drops) fails with what was being done, and leaves the file at version 1 with its history.
TEST(SqliteEventStore, FailedUpgradeLeavesTheVersion1FileAsItWas) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  CreateVersion1Database(path);
  ASSERT_EQ(RawExec(path, "CREATE INDEX by_update ON workflows (updated_at_ns)"), "");
  const std::string before = RawRows(path, "SELECT hex(body) FROM events ORDER BY seq");

  const absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("upgrading schema version 1 to 3: ", path)));
  EXPECT_EQ(RawRows(path, "PRAGMA user_version"), "1");
  EXPECT_EQ(RawRows(path, "SELECT count(*) FROM pragma_table_info('workflows')"), "6");
  EXPECT_EQ(RawRows(path, "SELECT hex(body) FROM events ORDER BY seq"), before);
}

// A crash while the first transaction of a new file was in flight leaves a hot rollback
// journal of a file that held nothing before: opening it finishes the rollback and creates
// the database, as on an empty file.
TEST(SqliteEventStore, CreationCutOffByACrashIsRolledBackAndRedone) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    // A transaction that began on an empty file, left open as a crash would leave it:
    // journal_mode=DELETE keeps its rollback journal on disk until COMMIT.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA cache_size = 1; BEGIN; CREATE TABLE junk (x BLOB);"
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < 200) INSERT INTO junk SELECT randomblob(4000) FROM n;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    ASSERT_TRUE(std::filesystem::exists(path + "-journal"));
    ASSERT_GT(std::filesystem::file_size(path), 0);
    // Copy the files as the crash left them, before closing rolls them back.
    std::filesystem::copy_file(path, path + ".crashed");
    std::filesystem::copy_file(path + "-journal", path + ".crashed-journal");
    sqlite3_close(db);
  }
  std::filesystem::remove(path);
  std::filesystem::rename(path + ".crashed", path);
  std::filesystem::rename(path + ".crashed-journal", path + "-journal");

  absl::StatusOr<std::unique_ptr<EventStore>> read_only = Open(path, ReadOnly());
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kNotFound) << read_only.status();
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append("w", 0, OrderHistory()).ok());
  EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
  EXPECT_EQ(RawRows(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'junk'"), "0");
}

TEST(SqliteEventStore, NormalDurabilityKeepsAppends) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  SqliteOptions options;
  options.durability = SqliteOptions::Durability::kNormal;
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path, options);
    ASSERT_TRUE(store.ok()) << store.status();
    const absl::Status status = (*store)->Append("w", 0, OrderHistory());
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
  }
  absl::StatusOr<std::unique_ptr<EventStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT(HistoryOf(**store, "w"), ElementsAreArray(Texts(OrderHistory())));
}

TEST(SqliteEventStore, TwoStoresOnOneFileShareHistoriesAndRaces) {
  const TempDir dir;
  const std::string path = dir.File("chorus.db");
  absl::StatusOr<std::unique_ptr<EventStore>> first = Open(path);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<EventStore>> second = Open(path);
  ASSERT_TRUE(second.ok()) << second.status();

  ASSERT_TRUE((*first)->Append("w", 0, {StartedEvent()}).ok());
  const absl::Status lost = (*second)->Append("w", 0, {StartedEvent()});
  EXPECT_EQ(lost.code(), absl::StatusCode::kAborted) << lost;
  ASSERT_TRUE((*second)->Append("w", 1, {StepStartedEvent(2)}).ok());
  // The first store does not read back the last seq it appended itself, but it sees the
  // second's append since.
  const absl::Status stale = (*first)->Append("w", 1, {StepStartedEvent(2, 2)});
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  EXPECT_THAT(stale.message(), HasSubstr("expected last seq 1, but it is 2"));
  ASSERT_TRUE((*first)->Append("w", 2, {StepCompletedEvent(3)}).ok());
  EXPECT_THAT(HistoryOf(**second, "w"),
              ElementsAre(StartedEvent().ShortDebugString(), StepStartedEvent(2).ShortDebugString(),
                          StepCompletedEvent(3).ShortDebugString()));
}

// The schema and header of the database at `path`, as text, to compare two files by.
std::string SchemaOf(const std::string& path) {
  return absl::StrCat(
      RawRows(path,
              "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema "
              "ORDER BY name"),
      "\napplication_id ", RawRows(path, "PRAGMA application_id"), ", user_version ",
      RawRows(path, "PRAGMA user_version"), ", journal_mode ",
      RawRows(path, "PRAGMA journal_mode"));
}

// Child processes that open files at the same moment, round after round: in round r, opener i
// runs open(r, i) and reports what it returned. The openers wait on one pipe per round and start
// when the parent closes it. Each lives through every round: forking once per opener rather
// than once per opener and round keeps the test quick in the sanitizer builds, where a fork
// takes 15 ms or so. The children start no thread and assert nothing.
class ConcurrentOpeners {
 public:
  using OpenFunction = std::function<absl::Status(int round, int opener)>;

  ConcurrentOpeners() = default;
  ConcurrentOpeners(const ConcurrentOpeners&) = delete;
  ConcurrentOpeners& operator=(const ConcurrentOpeners&) = delete;

  // Kills the openers still running (none once every round ran) and reaps them.
  ~ConcurrentOpeners() {
    for (const pid_t child : children_) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
    }
    for (const std::array<int, 2>& start : starts_) {
      if (start[1] >= 0) close(start[1]);  // rounds that never ran
    }
    if (report_[0] >= 0) close(report_[0]);
  }

  // Forks `openers` children for `rounds` rounds; false if a pipe or a fork failed.
  bool Start(int openers, int rounds, const OpenFunction& open) {
    starts_.assign(rounds, {-1, -1});
    for (std::array<int, 2>& start : starts_) {
      if (pipe(start.data()) != 0) return false;
    }
    if (pipe(report_) != 0) return false;
    for (int opener = 0; opener < openers; ++opener) {
      const pid_t child = fork();
      if (child == 0) RunInChild(opener, open);
      if (child < 0) return false;
      children_.push_back(child);
    }
    for (const std::array<int, 2>& start : starts_) close(start[0]);
    close(report_[1]);
    return true;
  }

  // Starts round `round` in every opener at once. Returns the failures they reported ("opener
  // 3: UNAVAILABLE: ..."), or ReadReports' error if they stopped reporting.
  absl::StatusOr<std::vector<std::string>> RunRound(int round) {
    close(starts_[round][1]);
    starts_[round][1] = -1;
    std::vector<std::string> failures;
    for (size_t i = 0; i < children_.size(); ++i) {
      CHORUS_ASSIGN_OR_RETURN(const std::string line, NextReport());
      if (!absl::EndsWith(line, ": OK")) failures.push_back(line);
    }
    return failures;
  }

 private:
  [[noreturn]] void RunInChild(int opener, const OpenFunction& open) {
    for (const std::array<int, 2>& start : starts_) close(start[1]);
    close(report_[0]);
    for (int round = 0; round < static_cast<int>(starts_.size()); ++round) {
      char byte;
      while (read(starts_[round][0], &byte, 1) < 0 && errno == EINTR) {
      }
      const std::string line =
          absl::StrCat("opener ", opener, ": ", open(round, opener).ToString(), "\n");
      if (write(report_[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        _exit(1);
      }
    }
    _exit(0);
  }

  // The next line the openers reported (each writes whole lines at once).
  absl::StatusOr<std::string> NextReport() {
    const absl::Time deadline = absl::Now() + absl::Minutes(1);
    size_t end;
    while ((end = reported_.find('\n')) == std::string::npos) {
      CHORUS_RETURN_IF_ERROR(ReadReports(deadline));
    }
    std::string line = reported_.substr(0, end);
    reported_.erase(0, end + 1);
    return line;
  }

  // Appends to reported_ what the openers have written, once they have written something.
  // DeadlineExceeded if they write nothing until `deadline`; Aborted if they are all gone.
  absl::Status ReadReports(absl::Time deadline) {
    pollfd report = {report_[0], POLLIN, 0};
    int ready;
    do {
      const int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
      ready = poll(&report, 1, static_cast<int>(std::max<int64_t>(wait_ms, 0)));
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) return absl::DeadlineExceededError("the openers stopped reporting");
    char buffer[4096];
    const ssize_t n = read(report_[0], buffer, sizeof(buffer));
    if (n <= 0) return absl::AbortedError("the openers are gone");
    reported_.append(buffer, n);
    return absl::OkStatus();
  }

  std::vector<std::array<int, 2>> starts_;  // a pipe per round, closed to start it
  int report_[2] = {-1, -1};
  std::vector<pid_t> children_;
  std::string reported_;  // read from report_ and not yet returned
};

// `chorus run`s started together on a file that does not exist yet: each round, kOpeners
// processes open a new file at once. Every one of them opens it, whichever creates the database,
// and appends its own workflow; the file holds the schema that a file created by one opener
// alone holds. Durability NORMAL changes nothing in how a file is opened or created; it spares
// the test a sync per append.
TEST(SqliteEventStore, ProcessesOpeningANewFileAtOnceAllOpenOneDatabase) {
  constexpr int kOpeners = 8;
  constexpr int kRounds = 100;
  const TempDir dir;
  const std::string alone = dir.File("alone.db");
  ASSERT_TRUE(Open(alone).ok());
  const std::string schema = SchemaOf(alone);
  const auto file_of_round = [&dir](int round) {
    return dir.File(absl::StrCat("round-", round, ".db"));
  };
  std::vector<std::string> ids;  // each opener's workflow
  for (int opener = 0; opener < kOpeners; ++opener) ids.push_back(absl::StrCat("w", opener));
  ConcurrentOpeners openers;
  ASSERT_TRUE(openers.Start(kOpeners, kRounds, [&](int round, int opener) -> absl::Status {
    SqliteOptions options;
    options.durability = SqliteOptions::Durability::kNormal;
    CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, Open(file_of_round(round), options));
    return store->Append(ids[opener], 0, {StartedEvent()});
  }));
  std::vector<std::string> failures;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const absl::StatusOr<std::vector<std::string>> failed = openers.RunRound(round);
    ASSERT_TRUE(failed.ok()) << failed.status();
    if (!failed->empty()) {
      failures.push_back(absl::StrCat("round ", round, ": ", absl::StrJoin(*failed, "; ")));
      continue;
    }
    EXPECT_EQ(SchemaOf(file_of_round(round)), schema);
    absl::StatusOr<std::unique_ptr<EventStore>> store = Open(file_of_round(round));
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::vector<WorkflowSummary>> summaries = (*store)->List();
    ASSERT_TRUE(summaries.ok()) << summaries.status();
    std::vector<std::string> appended;
    for (const WorkflowSummary& summary : *summaries) {
      if (summary.last_seq == 1) appended.push_back(summary.workflow_id);
    }
    EXPECT_EQ(appended, ids);
  }
  EXPECT_THAT(failures, IsEmpty());
}

}  // namespace
}  // namespace chorus
