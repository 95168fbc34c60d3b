#include "storage/sqlite_event_store.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/internal/mutex.h"
#include "event/internal/status_macros.h"
#include "google/protobuf/arena.h"
#include "storage/internal/append_rules.h"
#include "storage/internal/large_event.h"
#include "storage/internal/lease_rules.h"
#include "storage/internal/recorded_event.h"
#include "storage/internal/row_prefetcher.h"
#include "storage/internal/sqlite.h"

namespace chorus {
namespace {

constexpr uint32_t kApplicationId = 0x43484f52;  // "CHOR"
constexpr int64_t kSchemaVersion = 3;

// Schema version 3. `workflows` is a projection of `events`, written in the same transaction as
// the events that start or end a workflow. A workflow's last seq and the time of its last
// update are those of its last event, read from `events`: a row rewritten with every append
// would add a page to each commit.
// `cancellation_requests` holds requests for the workflows' drivers (EventStore::
// RequestCancellation), `leases` their owner leases (EventStore::AcquireLease) and `snapshots`
// each workflow's latest snapshot (EventStore::SaveSnapshot); none of them is history.
constexpr char kCreateSnapshots[] = R"sql(
CREATE TABLE IF NOT EXISTS snapshots (
  workflow_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,  -- the last event the snapshot folds
  state BLOB NOT NULL    -- a serialized WorkflowSnapshot
) STRICT;
)sql";
constexpr char kCreateTables[] = R"sql(
CREATE TABLE IF NOT EXISTS events (
  workflow_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq >= 1),
  kind INTEGER NOT NULL,            -- the field number of the Event's kind
  recorded_at_ns INTEGER NOT NULL,  -- since the Unix epoch
  body BLOB NOT NULL,               -- the serialized Event
  PRIMARY KEY (workflow_id, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workflows (
  workflow_id TEXT PRIMARY KEY,
  definition_name TEXT NOT NULL,
  status INTEGER NOT NULL,  -- a WorkflowStatus
  created_at_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cancellation_requests (
  workflow_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  requested_at_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
  workflow_id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  expires_at_ns INTEGER NOT NULL  -- since the Unix epoch
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql";

// Older versions, upgraded in place when a file is opened for writing and read as they are
// when it is opened read-only. Version 1 kept the last seq and update time in the summary row,
// as last_seq and updated_at_ns (kSelectSummaries reads neither). Version 2 had no snapshots
// (a read-only store of it has none).
constexpr int64_t kOldestSchemaVersion = 1;
constexpr char kUpgradeFromVersion1[] =
    "ALTER TABLE workflows DROP COLUMN last_seq; ALTER TABLE workflows DROP COLUMN updated_at_ns;";
constexpr int64_t kFirstVersionWithSnapshots = 3;

// Summary rows, with the seq and time of each workflow's last event (or 0 and its creation
// time if it has none), in the columns SummaryFrom reads.
constexpr char kSelectSummaries[] =
    "SELECT workflow_id, definition_name, status, "
    "coalesce((SELECT max(seq) FROM events e WHERE e.workflow_id = w.workflow_id), 0), "
    "created_at_ns, "
    "coalesce((SELECT recorded_at_ns FROM events e WHERE e.workflow_id = w.workflow_id "
    "ORDER BY seq DESC LIMIT 1), created_at_ns) "
    "FROM workflows w";

// `status`, with the `context` pieces before its message. They are only joined on an error:
// appending runs this for every event.
template <typename... Pieces>
absl::Status Annotate(const absl::Status& status, const Pieces&... context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context..., ": ", status.message()));
}

// `cause`, noting that the rollback after it failed too, if it did.
absl::Status AfterRollback(const absl::Status& cause, const absl::Status& rolled_back) {
  if (rolled_back.ok()) return cause;
  return absl::Status(
      cause.code(),
      absl::StrCat(cause.message(), "; then rolling back failed: ", rolled_back.message()));
}

// What the database header of a file says, and how much schema the file holds.
struct FileHeader {
  int64_t application_id = 0;
  int64_t user_version = 0;
  int64_t schema_objects = 0;
};

absl::Status CheckSqliteMagic(const std::string& path) {
  static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with the final NUL
  char magic[sizeof(kMagic)] = {};
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  file.read(magic, sizeof(magic));
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrFormat("%s is not a Chorus database (not a SQLite file)", path));
}

// The header of the database open on `db`, read in one statement: from one snapshot.
absl::StatusOr<FileHeader> ReadFileHeader(SqliteConnection& db) {
  CHORUS_ASSIGN_OR_RETURN(SqliteStatement select,
                          db.Prepare("SELECT (SELECT application_id FROM pragma_application_id), "
                                     "(SELECT user_version FROM pragma_user_version), "
                                     "(SELECT count(*) FROM sqlite_schema)"));
  FileHeader header;
  CHORUS_RETURN_IF_ERROR(select.ForEachRow([&](const SqliteStatement& row) {
    header = {row.Int(0), row.Int(1), row.Int(2)};
  }));
  return header;
}

// The schema version that `header`, read from the file at `path`, gives a Chorus database that
// this version reads: 0 for an empty SQLite database; FailedPrecondition for anything else.
absl::StatusOr<int64_t> SchemaVersionOf(const std::string& path, const FileHeader& header) {
  if (header.application_id == 0 && header.user_version == 0 && header.schema_objects == 0) {
    return 0;
  }
  if (header.application_id != kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is not a Chorus database (application_id 0x%x, expected 0x%x)", path,
                        static_cast<uint32_t>(header.application_id), kApplicationId));
  }
  if (header.user_version < kOldestSchemaVersion || header.user_version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s has schema version %d; this Chorus reads versions %d to %d", path,
                        header.user_version, kOldestSchemaVersion, kSchemaVersion));
  }
  return header.user_version;
}

// Whether `path-journal` is a rollback journal of a transaction that began on an empty file:
// the creation of a database, cut off before it committed. Rolling it back leaves an empty
// file. The journal header starts with 8 magic bytes, and the big-endian 32-bit word at
// offset 16 is the database's size in pages before the transaction
// (https://www.sqlite.org/fileformat.html#the_rollback_journal).
bool CreationWasCutOff(const std::string& path) {
  static constexpr unsigned char kJournalMagic[] = {0xd9, 0xd5, 0x05, 0xf9,
                                                    0x20, 0xa1, 0x63, 0xd7};
  unsigned char header[20] = {};
  std::ifstream journal(path + "-journal", std::ios::binary);
  if (!journal.read(reinterpret_cast<char*>(header), sizeof(header))) return false;
  static constexpr unsigned char kNoPages[4] = {0, 0, 0, 0};
  return std::memcmp(header, kJournalMagic, sizeof(kJournalMagic)) == 0 &&
         std::memcmp(header + 16, kNoPages, sizeof(kNoPages)) == 0;
}

// The schema version of the Chorus database at `path`, one that this version reads: 0 when
// there is nothing there yet (no file, an empty file, an empty SQLite database, or a creation
// that a crash cut off, which the writing connection rolls back); FailedPrecondition when it
// holds anything else. Reads the file, never writes it.
absl::StatusOr<int64_t> ProbeFile(const std::string& path, absl::Duration busy_timeout) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error == std::errc::no_such_file_or_directory) return 0;
  if (error) {
    return absl::FailedPreconditionError(absl::StrFormat("%s: %s", path, error.message()));
  }
  if (size == 0 || CreationWasCutOff(path)) return 0;
  CHORUS_RETURN_IF_ERROR(CheckSqliteMagic(path));
  CHORUS_ASSIGN_OR_RETURN(SqliteConnection db,
                          SqliteConnection::Open(path, SqliteMode::kReadOnly, busy_timeout));
  CHORUS_ASSIGN_OR_RETURN(const FileHeader header, ReadFileHeader(db));
  return SchemaVersionOf(path, header);
}

// Asks for WAL mode; returns the journal mode the file is in after.
absl::StatusOr<std::string> AskForWal(SqliteConnection& db) {
  CHORUS_ASSIGN_OR_RETURN(SqliteStatement pragma, db.Prepare("PRAGMA journal_mode = WAL"));
  std::string mode;
  CHORUS_RETURN_IF_ERROR(
      pragma.ForEachRow([&](const SqliteStatement& row) { mode = std::string(row.Text(0)); }));
  return mode;
}

// Puts the file in WAL mode. Only a file still in rollback mode is written (its header, under
// an exclusive lock), and SQLite asks for that lock while the pragma holds a read lock: rather
// than wait on the busy handler, which could deadlock, the pragma fails at once with
// SQLITE_BUSY while another connection holds or wants the write lock. The first openers of a
// new file all meet at this point, so each tries again, as the busy handler would, for up to
// `busy_timeout`; once one of them has switched the file, the others have nothing to write.
absl::Status UseWal(SqliteConnection& db, absl::Duration busy_timeout) {
  const absl::Time deadline = absl::Now() + busy_timeout;
  absl::Duration pause = absl::Milliseconds(1);
  absl::StatusOr<std::string> mode = AskForWal(db);
  while (absl::IsUnavailable(mode.status()) && absl::Now() < deadline) {
    absl::SleepFor(std::min(pause, deadline - absl::Now()));
    pause = std::min(2 * pause, absl::Milliseconds(50));
    mode = AskForWal(db);
  }
  CHORUS_RETURN_IF_ERROR(Annotate(mode.status(), "switching to WAL mode"));
  if (*mode == "wal") return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrFormat("%s: cannot use WAL mode (journal_mode stays %s)", db.path(), *mode));
}

// Writes what a file of schema `version` (0: an empty file) lacks to be of the current one.
absl::Status WriteSchemaFrom(SqliteConnection& db, int64_t version) {
  if (version == 0) {
    const std::string create =
        absl::StrCat(kCreateTables, kCreateSnapshots, "PRAGMA application_id = ", kApplicationId,
                     "; PRAGMA user_version = ", kSchemaVersion, ";");
    return db.Exec(create.c_str());
  }
  if (version == 1) CHORUS_RETURN_IF_ERROR(db.Exec(kUpgradeFromVersion1));
  CHORUS_RETURN_IF_ERROR(db.Exec(kCreateSnapshots));
  return db.Exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion).c_str());
}

// Brings the file to the current schema version in one transaction: a crash leaves it as it
// was, or up to date. Other processes may open the file at the same time: the first openers of
// a new file all probe it empty, and all but one then find it created. So this reads the
// header again under the write lock and goes by what it finds there, not by what ProbeFile
// found: it creates the schema in an empty file, upgrades an older version, leaves the current
// one as it is, and refuses anything else as ProbeFile does, writing nothing.
absl::Status BringSchemaUpToDate(SqliteConnection& db) {
  CHORUS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  absl::Status status = [&]() -> absl::Status {
    CHORUS_ASSIGN_OR_RETURN(const FileHeader header, ReadFileHeader(db));
    CHORUS_ASSIGN_OR_RETURN(const int64_t version, SchemaVersionOf(db.path(), header));
    if (version == kSchemaVersion) return absl::OkStatus();
    const std::string writing =
        version == 0 ? "creating the schema"
                     : absl::StrCat("upgrading schema version ", version, " to ", kSchemaVersion);
    return Annotate(WriteSchemaFrom(db, version), writing);
  }();
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok() && db.InTransaction()) status = AfterRollback(status, db.Exec("ROLLBACK"));
  return status;
}

// `schema_version` is what ProbeFile found: 0 for no database yet.
absl::Status PrepareForWriting(SqliteConnection& db, int64_t schema_version,
                               const SqliteOptions& options) {
  CHORUS_RETURN_IF_ERROR(UseWal(db, options.busy_timeout));
  CHORUS_RETURN_IF_ERROR(db.Exec(options.durability == SqliteOptions::Durability::kFull
                                     ? "PRAGMA synchronous = FULL"
                                     : "PRAGMA synchronous = NORMAL"));
  if (schema_version == kSchemaVersion) return absl::OkStatus();
  return BringSchemaUpToDate(db);
}

Lease LeaseFrom(const SqliteStatement& row) {
  Lease lease;
  lease.workflow_id = std::string(row.Text(0));
  lease.owner_id = std::string(row.Text(1));
  lease.host = std::string(row.Text(2));
  lease.pid = row.Int(3);
  lease.expires_at = absl::FromUnixNanos(row.Int(4));
  return lease;
}

WorkflowSummary SummaryFrom(const SqliteStatement& row) {
  WorkflowSummary summary;
  summary.workflow_id = std::string(row.Text(0));
  summary.definition_name = std::string(row.Text(1));
  summary.status = static_cast<WorkflowStatus>(row.Int(2));
  summary.last_seq = row.Int(3);
  summary.created_at = absl::FromUnixNanos(row.Int(4));
  summary.updated_at = absl::FromUnixNanos(row.Int(5));
  return summary;
}

// DataLoss naming where the row is unless `body`, the row of `workflow_id` at `seq` in the
// database at `path`, parses into `event` as the event at `seq` (ParseRecordedEvent: text an
// earlier version recorded that is not UTF-8 reads escaped).
absl::Status ParseRow(absl::string_view body, absl::string_view path, absl::string_view workflow_id,
                      int64_t seq, Event* event) {
  if (!ParseRecordedEvent(body, event)) {
    return absl::DataLossError(absl::StrFormat(
        "%s: workflow '%s': event at seq %d cannot be parsed", path, workflow_id, seq));
  }
  if (event->seq() != seq) {
    return absl::DataLossError(
        absl::StrFormat("%s: workflow '%s': event at seq %d says it is seq %d", path, workflow_id,
                        seq, event->seq()));
  }
  return absl::OkStatus();
}

// Reads one workflow's events on a connection of its own. The connection holds the read
// transaction in which the stream was opened: in WAL mode that is a snapshot, which later
// appends neither block nor disturb.
class SqliteEventStream : public EventStream {
 public:
  SqliteEventStream(std::string workflow_id, SqliteConnection db, SqliteStatement select)
      : workflow_id_(std::move(workflow_id)), db_(std::move(db)), select_(std::move(select)) {}

  bool Next() override { return NextLeavingLargeUnparsed(SIZE_MAX, nullptr); }
  bool NextLeavingLargeUnparsed(size_t min_bytes, std::optional<UnparsedEvent>* unparsed) override {
    if (unparsed != nullptr) unparsed->reset();
    if (done_) return false;
    absl::StatusOr<bool> advanced = Advance(min_bytes, unparsed);
    status_ = advanced.status();
    done_ = !advanced.ok() || !*advanced;
    return !done_;
  }
  const Event& event() const override { return *event_; }
  std::shared_ptr<const Event> ShareEvent() override {
    if (event_ == large_event_.get()) return large_event_;
    return std::make_shared<const Event>(*event_);
  }
  absl::Status status() const override { return status_; }

 private:
  // Rows of up to kArenaRowBytes parse on arena_, reset after every kArenaResetBytes of them,
  // so that reading does not allocate per event. A larger row (a workflow_started event holds
  // the whole definition) parses on an arena of its own (NewLargeEvent), which ShareEvent
  // shares rather than copies.
  static constexpr size_t kArenaRowBytes = 16 << 10;
  static constexpr size_t kArenaResetBytes = 128 << 10;
  // Past this many rows a history is long: a RowPrefetcher reads on, on a thread of its own.
  static constexpr int64_t kPrefetchAfterRows = 4096;

  // Steps to the next row and parses it into *event_, or, if it has `min_bytes` or more and
  // `unparsed` is not null, leaves it in *unparsed. Returns false at the end.
  absl::StatusOr<bool> Advance(size_t min_bytes, std::optional<UnparsedEvent>* unparsed) {
    if (prefetcher_ == nullptr && rows_read_ == kPrefetchAfterRows) {
      prefetcher_ = std::make_unique<RowPrefetcher>(select_);
    }
    int64_t seq = 0;
    absl::string_view body;
    if (prefetcher_ != nullptr) {
      if (!prefetcher_->Next()) {
        CHORUS_RETURN_IF_ERROR(prefetcher_->status());
        return false;
      }
      seq = prefetcher_->seq();
      body = prefetcher_->body();
    } else {
      CHORUS_ASSIGN_OR_RETURN(const bool has_row, select_.Step());
      if (!has_row) return false;
      ++rows_read_;
      seq = select_.Int(0);
      body = select_.Blob(1);
    }
    large_event_.reset();
    event_ = nullptr;
    if (unparsed != nullptr && body.size() >= min_bytes) {
      *unparsed = LeaveUnparsed(body, seq);
      if (prefetcher_ == nullptr) {  // SQLite frees its copy of the row: go on from the next
        select_.Reset();
        CHORUS_RETURN_IF_ERROR(select_.Bind(workflow_id_, seq + 1));
      }
      return true;
    }
    if (body.size() <= kArenaRowBytes) {
      arena_row_bytes_ += body.size();
      if (arena_row_bytes_ > kArenaResetBytes) {
        arena_.Reset();
        arena_event_ = nullptr;
        arena_row_bytes_ = body.size();
      }
      if (arena_event_ == nullptr) {
        arena_event_ = google::protobuf::Arena::CreateMessage<Event>(&arena_);
      }
      event_ = arena_event_;
    } else {
      large_event_ = NewLargeEvent();
      event_ = large_event_.get();
    }
    CHORUS_RETURN_IF_ERROR(ParseRow(body, db_.path(), workflow_id_, seq, event_));
    return true;
  }

  // A copy of `body`, the row at `seq`, and how to parse it as Advance would.
  UnparsedEvent LeaveUnparsed(absl::string_view body, int64_t seq) const {
    auto serialized = std::make_shared<const std::string>(body);
    auto parse = [serialized, path = std::string(db_.path()), workflow_id = workflow_id_,
                  seq]() -> absl::StatusOr<std::shared_ptr<const Event>> {
      std::shared_ptr<Event> event = NewLargeEvent();
      CHORUS_RETURN_IF_ERROR(ParseRow(*serialized, path, workflow_id, seq, event.get()));
      return event;
    };
    return UnparsedEvent{std::move(serialized), std::move(parse)};
  }

  const std::string workflow_id_;
  SqliteConnection db_;
  SqliteStatement select_;  // SELECT seq, body, in seq order
  int64_t rows_read_ = 0;   // by stepping select_ here
  std::unique_ptr<RowPrefetcher> prefetcher_;  // steps select_ once rows_read_ is enough
  google::protobuf::Arena arena_;
  size_t arena_row_bytes_ = 0;  // of the rows parsed on arena_ since it was reset
  // Every small row parses into this event, created on arena_ after each reset: parsing
  // clears it first and keeps its recorded_at for the next row.
  Event* arena_event_ = nullptr;
  std::shared_ptr<Event> large_event_;  // the current event if its row is large
  Event* event_ = nullptr;  // the current event: on arena_, or large_event_; null if unparsed
  bool done_ = false;  // Step must not run again: on a done statement it would rerun it
  absl::Status status_;
};

// A writable store's streams open their connections read-write, though they only read: after
// a crash, the first reader of a WAL database may have to recover its index, which a read-only
// connection cannot do.
absl::StatusOr<std::unique_ptr<EventStream>> OpenStream(const std::string& path, bool read_only,
                                                        absl::Duration busy_timeout,
                                                        absl::string_view workflow_id,
                                                        int64_t from_seq) {
  CHORUS_ASSIGN_OR_RETURN(
      SqliteConnection db,
      SqliteConnection::Open(path, read_only ? SqliteMode::kReadOnly : SqliteMode::kReadWrite,
                             busy_timeout));
  // The snapshot starts with the first read after BEGIN: the existence check, here and now.
  CHORUS_RETURN_IF_ERROR(db.Exec("BEGIN"));
  CHORUS_ASSIGN_OR_RETURN(SqliteStatement find,
                          db.Prepare("SELECT 1 FROM workflows WHERE workflow_id = ?1"));
  CHORUS_RETURN_IF_ERROR(find.Bind(workflow_id));
  bool found = false;
  CHORUS_RETURN_IF_ERROR(find.ForEachRow([&](const SqliteStatement&) { found = true; }));
  if (!found) return WorkflowNotFound(workflow_id);
  CHORUS_ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT seq, body FROM events WHERE workflow_id = ?1 AND seq >= ?2 ORDER BY seq"));
  CHORUS_RETURN_IF_ERROR(select.Bind(workflow_id, from_seq));
  return std::make_unique<SqliteEventStream>(std::string(workflow_id), std::move(db),
                                             std::move(select));
}

// The statements of a store's connection, prepared once and reused.
struct Statements {
  SqliteStatement begin;  // IMMEDIATE: the write lock is taken before last_seq is read
  SqliteStatement commit;
  SqliteStatement rollback;
  SqliteStatement find_summary;
  SqliteStatement list_summaries;
  SqliteStatement insert_event;
  SqliteStatement last_event_seq;
  // Each RETURNING a row if it wrote one: unless the workflow already has a summary row, and
  // only if it has one, respectively.
  SqliteStatement insert_summary;
  SqliteStatement set_status;
  SqliteStatement insert_cancellation;  // keeps the first request
  SqliteStatement find_cancellation;
  SqliteStatement find_lease;
  SqliteStatement lease_is_held_by;  // a row if the lease is the given owner's
  SqliteStatement upsert_lease;
  SqliteStatement renew_lease;
  SqliteStatement delete_lease;  // only the given owner's
  // Prepared only if the schema has snapshots (a read-only store of version 2 or older has
  // none). Saving keeps the snapshot of more events.
  SqliteStatement save_snapshot;
  SqliteStatement find_snapshot;
};

absl::StatusOr<Statements> PrepareStatements(SqliteConnection& db, bool has_snapshots) {
  Statements s;
  CHORUS_ASSIGN_OR_RETURN(s.begin, db.Prepare("BEGIN IMMEDIATE"));
  CHORUS_ASSIGN_OR_RETURN(s.commit, db.Prepare("COMMIT"));
  CHORUS_ASSIGN_OR_RETURN(s.rollback, db.Prepare("ROLLBACK"));
  CHORUS_ASSIGN_OR_RETURN(s.find_summary,
                          db.Prepare(absl::StrCat(kSelectSummaries, " WHERE workflow_id = ?1")));
  CHORUS_ASSIGN_OR_RETURN(s.list_summaries,
                          db.Prepare(absl::StrCat(kSelectSummaries, " ORDER BY workflow_id")));
  CHORUS_ASSIGN_OR_RETURN(
      s.insert_event,
      db.Prepare("INSERT INTO events (workflow_id, seq, kind, recorded_at_ns, body) "
                 "VALUES (?1, ?2, ?3, ?4, ?5)"));
  CHORUS_ASSIGN_OR_RETURN(
      s.last_event_seq,
      db.Prepare("SELECT coalesce(max(seq), 0) FROM events WHERE workflow_id = ?1"));
  CHORUS_ASSIGN_OR_RETURN(
      s.insert_summary,
      db.Prepare("INSERT INTO workflows (workflow_id, definition_name, status, created_at_ns) "
                 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING RETURNING 1"));
  CHORUS_ASSIGN_OR_RETURN(
      s.set_status,
      db.Prepare("UPDATE workflows SET status = ?2 WHERE workflow_id = ?1 RETURNING 1"));
  CHORUS_ASSIGN_OR_RETURN(
      s.insert_cancellation,
      db.Prepare("INSERT OR IGNORE INTO cancellation_requests (workflow_id, reason, "
                 "requested_at_ns) VALUES (?1, ?2, ?3)"));
  CHORUS_ASSIGN_OR_RETURN(
      s.find_cancellation,
      db.Prepare("SELECT reason FROM cancellation_requests WHERE workflow_id = ?1"));
  CHORUS_ASSIGN_OR_RETURN(s.find_lease,
                          db.Prepare("SELECT workflow_id, owner_id, host, pid, expires_at_ns "
                                     "FROM leases WHERE workflow_id = ?1"));
  CHORUS_ASSIGN_OR_RETURN(
      s.lease_is_held_by,
      db.Prepare("SELECT 1 FROM leases WHERE workflow_id = ?1 AND owner_id = ?2"));
  CHORUS_ASSIGN_OR_RETURN(
      s.upsert_lease, db.Prepare("INSERT OR REPLACE INTO leases (workflow_id, owner_id, host, pid, "
                                 "expires_at_ns) VALUES (?1, ?2, ?3, ?4, ?5)"));
  CHORUS_ASSIGN_OR_RETURN(
      s.renew_lease, db.Prepare("UPDATE leases SET expires_at_ns = ?2 WHERE workflow_id = ?1"));
  CHORUS_ASSIGN_OR_RETURN(
      s.delete_lease, db.Prepare("DELETE FROM leases WHERE workflow_id = ?1 AND owner_id = ?2"));
  if (!has_snapshots) return s;
  CHORUS_ASSIGN_OR_RETURN(
      s.save_snapshot,
      db.Prepare("INSERT INTO snapshots (workflow_id, seq, state) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT DO UPDATE SET seq = excluded.seq, state = excluded.state "
                 "WHERE excluded.seq > snapshots.seq"));
  CHORUS_ASSIGN_OR_RETURN(s.find_snapshot,
                          db.Prepare("SELECT seq, state FROM snapshots WHERE workflow_id = ?1"));
  return s;
}

class SqliteEventStore : public EventStore {
 public:
  SqliteEventStore(SqliteConnection db, Statements statements, const SqliteOptions& options,
                   bool has_snapshots)
      : path_(db.path()),
        options_(options),
        has_snapshots_(has_snapshots),
        db_(std::move(db)),
        statements_(std::move(statements)) {}

  absl::Status Append(absl::string_view workflow_id, int64_t expected_last_seq,
                      absl::Span<const Event> events) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AppendAsLeaseOwner(absl::string_view workflow_id, absl::string_view lease_owner_id,
                                  int64_t expected_last_seq,
                                  absl::Span<const Event> events) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<EventStream>> Read(absl::string_view workflow_id,
                                                    int64_t from_seq) override {
    return OpenStream(path_, options_.read_only, options_.busy_timeout, workflow_id, from_seq);
  }
  absl::StatusOr<WorkflowSummary> GetSummary(absl::string_view workflow_id) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<WorkflowSummary>> List() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RequestCancellation(absl::string_view workflow_id, absl::string_view reason) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<std::string>> GetCancellationRequest(
      absl::string_view workflow_id) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Lease> AcquireLease(absl::string_view workflow_id,
                                     const LeaseRequest& request) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Lease> RenewLease(absl::string_view workflow_id, absl::string_view owner_id,
                                   absl::Time expires_at) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ReleaseLease(absl::string_view workflow_id, absl::string_view owner_id) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<Lease>> GetLease(absl::string_view workflow_id) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SaveSnapshot(absl::string_view workflow_id, int64_t seq,
                            absl::string_view state) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<StoredSnapshot>> LoadSnapshot(absl::string_view workflow_id) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Append and AppendAsLeaseOwner: the latter passes the owner whose lease the append needs.
  absl::Status AppendBatch(absl::string_view workflow_id,
                           std::optional<absl::string_view> lease_owner_id,
                           int64_t expected_last_seq, absl::Span<const Event> events)
      ABSL_LOCKS_EXCLUDED(mu_);
  // AppendBatch's work between BEGIN and COMMIT.
  absl::Status AppendInTransaction(absl::string_view workflow_id,
                                   std::optional<absl::string_view> lease_owner_id,
                                   int64_t expected_last_seq, absl::Span<const Event> events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<WorkflowSummary>> FindSummary(absl::string_view workflow_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The seq of the workflow's last event, 0 if it has none. Read in a transaction, from
  // last_append_ if nothing has changed the database since.
  absl::StatusOr<int64_t> LastSeq(absl::string_view workflow_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertEvent(absl::string_view workflow_id, const Event& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes what the appended `event` changes in the workflow's summary row (StatusSetBy): the
  // row on workflow_started, the status on a terminal event. DataLoss if the row is already
  // there, or missing, respectively.
  absl::Status UpdateSummary(absl::string_view workflow_id, const Event& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `work` between BEGIN IMMEDIATE and COMMIT, rolling back if anything fails. A failure
  // of BEGIN or COMMIT themselves is prefixed with what `describe` returns ("workflow 'w':
  // appending seq 3 to 5"), called only then.
  absl::Status InTransaction(absl::FunctionRef<std::string()> describe,
                             absl::FunctionRef<absl::Status()> work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FailedPrecondition, naming the file and `what` was refused, if the store is read-only.
  absl::Status CheckWritable(absl::string_view what) const;
  absl::StatusOr<std::optional<Lease>> FindLease(absl::string_view workflow_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OK if `owner_id` holds the lease of `workflow_id`; else CheckLeaseHeldBy's refusal. Runs
  // with every append of a driver: one point lookup, and the lease is read whole only to say
  // who holds it instead.
  absl::Status CheckLeaseHeld(absl::string_view workflow_id, absl::string_view owner_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteLease(const Lease& lease) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string path_;
  const SqliteOptions options_;
  const bool has_snapshots_;  // whether the schema has them (Statements)

  Mutex mu_;
  // Guarded by mu_: the store's connection and the statements prepared on it.
  SqliteConnection db_ ABSL_GUARDED_BY(mu_);
  Statements statements_ ABSL_GUARDED_BY(mu_);
  // The last append this connection committed, and the database's data version right after
  // it: while the version holds, no connection has written since, and the workflow's last seq
  // is still `last_seq`. Saves reading it back at every append of a run.
  struct LastAppend {
    std::string workflow_id;
    int64_t last_seq;
    uint32_t data_version;
  };
  std::optional<LastAppend> last_append_ ABSL_GUARDED_BY(mu_);
};

absl::Status SqliteEventStore::Append(absl::string_view workflow_id, int64_t expected_last_seq,
                                      absl::Span<const Event> events) {
  return AppendBatch(workflow_id, std::nullopt, expected_last_seq, events);
}

absl::Status SqliteEventStore::AppendAsLeaseOwner(absl::string_view workflow_id,
                                                  absl::string_view lease_owner_id,
                                                  int64_t expected_last_seq,
                                                  absl::Span<const Event> events) {
  return AppendBatch(workflow_id, lease_owner_id, expected_last_seq, events);
}

absl::Status SqliteEventStore::AppendBatch(absl::string_view workflow_id,
                                           std::optional<absl::string_view> lease_owner_id,
                                           int64_t expected_last_seq,
                                           absl::Span<const Event> events) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is open read-only: cannot append to workflow '%s'", path_, workflow_id));
  }
  CHORUS_RETURN_IF_ERROR(CheckBatchNotEmpty(workflow_id, events));
  MutexLock lock(&mu_);
  const absl::Status appended = InTransaction(
      [&] {
        return absl::StrFormat("workflow '%s': appending seq %d to %d", workflow_id,
                               events.front().seq(), events.back().seq());
      },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return AppendInTransaction(workflow_id, lease_owner_id, expected_last_seq, events);
      });
  const std::optional<uint32_t> data_version = db_.DataVersion();
  if (appended.ok() && data_version.has_value()) {
    last_append_ = LastAppend{std::string(workflow_id), events.back().seq(), *data_version};
  } else {
    last_append_.reset();
  }
  return appended;
}

absl::Status SqliteEventStore::AppendInTransaction(absl::string_view workflow_id,
                                                   std::optional<absl::string_view> lease_owner_id,
                                                   int64_t expected_last_seq,
                                                   absl::Span<const Event> events) {
  if (lease_owner_id.has_value()) {
    CHORUS_RETURN_IF_ERROR(CheckLeaseHeld(workflow_id, *lease_owner_id));
  }
  CHORUS_ASSIGN_OR_RETURN(int64_t seq, LastSeq(workflow_id));
  CHORUS_RETURN_IF_ERROR(CheckExpectedLastSeq(workflow_id, expected_last_seq, seq));
  // Each event is checked as it goes in; a bad one rolls back those before it.
  for (const Event& event : events) {
    CHORUS_RETURN_IF_ERROR(CheckAppendedEvent(workflow_id, ++seq, event));
    CHORUS_RETURN_IF_ERROR(InsertEvent(workflow_id, event));
    CHORUS_RETURN_IF_ERROR(UpdateSummary(workflow_id, event));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteEventStore::LastSeq(absl::string_view workflow_id) {
  if (last_append_.has_value() && last_append_->workflow_id == workflow_id &&
      last_append_->data_version == db_.DataVersion()) {
    return last_append_->last_seq;
  }
  SqliteStatement& select = statements_.last_event_seq;
  int64_t last_seq = 0;
  absl::Status status = select.Bind(workflow_id);
  if (status.ok()) {
    status = select.ForEachRow([&](const SqliteStatement& row) { last_seq = row.Int(0); });
  }
  CHORUS_RETURN_IF_ERROR(Annotate(status, "workflow '", workflow_id, "': reading the last seq"));
  return last_seq;
}

absl::Status SqliteEventStore::InsertEvent(absl::string_view workflow_id, const Event& event) {
  SqliteStatement& insert = statements_.insert_event;
  absl::Status status =
      insert.Bind(workflow_id, event.seq(), static_cast<int64_t>(event.kind_case()),
                  absl::ToUnixNanos(RecordedAt(event)), SqliteBlob{event.SerializeAsString()});
  if (status.ok()) status = insert.Run();
  return Annotate(status, "workflow '", workflow_id, "': appending seq ", event.seq());
}

absl::Status SqliteEventStore::UpdateSummary(absl::string_view workflow_id, const Event& event) {
  const std::optional<WorkflowStatus> status_set = StatusSetBy(event);
  if (!status_set.has_value()) return absl::OkStatus();
  const int64_t status_value = static_cast<int64_t>(*status_set);
  const bool starts = event.has_workflow_started();
  SqliteStatement& write = starts ? statements_.insert_summary : statements_.set_status;
  absl::Status status = starts
                            ? write.Bind(workflow_id, event.workflow_started().definition().name(),
                                         status_value, absl::ToUnixNanos(RecordedAt(event)))
                            : write.Bind(workflow_id, status_value);
  bool written = false;
  if (status.ok()) status = write.ForEachRow([&](const SqliteStatement&) { written = true; });
  CHORUS_RETURN_IF_ERROR(Annotate(status, "workflow '", workflow_id, "': writing the summary row"));
  if (written) return absl::OkStatus();
  return absl::DataLossError(absl::StrFormat(
      "%s: workflow '%s' has %s (appending seq %d)", path_, workflow_id,
      starts ? "a summary row but no events" : "events but no summary row", event.seq()));
}

absl::StatusOr<std::optional<WorkflowSummary>> SqliteEventStore::FindSummary(
    absl::string_view workflow_id) {
  SqliteStatement& find = statements_.find_summary;
  std::optional<WorkflowSummary> summary;
  absl::Status status = find.Bind(workflow_id);
  if (status.ok()) {
    status = find.ForEachRow([&](const SqliteStatement& row) { summary = SummaryFrom(row); });
  }
  CHORUS_RETURN_IF_ERROR(Annotate(status, "workflow '", workflow_id, "': reading the summary"));
  return summary;
}

absl::StatusOr<WorkflowSummary> SqliteEventStore::GetSummary(absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  CHORUS_ASSIGN_OR_RETURN(std::optional<WorkflowSummary> summary, FindSummary(workflow_id));
  if (!summary.has_value()) return WorkflowNotFound(workflow_id);
  return *std::move(summary);
}

absl::StatusOr<std::vector<WorkflowSummary>> SqliteEventStore::List() {
  MutexLock lock(&mu_);
  std::vector<WorkflowSummary> summaries;
  CHORUS_RETURN_IF_ERROR(statements_.list_summaries.ForEachRow(
      [&](const SqliteStatement& row) { summaries.push_back(SummaryFrom(row)); }));
  return summaries;
}

absl::Status SqliteEventStore::RequestCancellation(absl::string_view workflow_id,
                                                   absl::string_view reason) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is open read-only: cannot request cancellation of workflow '%s'", path_, workflow_id));
  }
  MutexLock lock(&mu_);
  CHORUS_ASSIGN_OR_RETURN(std::optional<WorkflowSummary> summary, FindSummary(workflow_id));
  if (!summary.has_value()) return WorkflowNotFound(workflow_id);
  SqliteStatement& insert = statements_.insert_cancellation;
  absl::Status status = insert.Bind(workflow_id, reason, absl::ToUnixNanos(absl::Now()));
  if (status.ok()) status = insert.Run();
  return Annotate(status, "workflow '", workflow_id, "': requesting cancellation");
}

absl::StatusOr<std::optional<std::string>> SqliteEventStore::GetCancellationRequest(
    absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  CHORUS_ASSIGN_OR_RETURN(std::optional<WorkflowSummary> summary, FindSummary(workflow_id));
  if (!summary.has_value()) return WorkflowNotFound(workflow_id);
  std::optional<std::string> reason;
  SqliteStatement& find = statements_.find_cancellation;
  absl::Status status = find.Bind(workflow_id);
  if (status.ok()) {
    status =
        find.ForEachRow([&](const SqliteStatement& row) { reason = std::string(row.Text(0)); });
  }
  CHORUS_RETURN_IF_ERROR(
      Annotate(status, "workflow '", workflow_id, "': reading the cancellation request"));
  return reason;
}

absl::StatusOr<Lease> SqliteEventStore::AcquireLease(absl::string_view workflow_id,
                                                     const LeaseRequest& request) {
  CHORUS_RETURN_IF_ERROR(
      CheckWritable(absl::StrFormat("cannot take the lease of workflow '%s'", workflow_id)));
  CHORUS_RETURN_IF_ERROR(CheckLeaseRequest(workflow_id, request));
  MutexLock lock(&mu_);
  const Lease lease = GrantedLease(workflow_id, request);
  CHORUS_RETURN_IF_ERROR(
      InTransaction([&] { return absl::StrCat("workflow '", workflow_id, "': taking the lease"); },
                    [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
                      CHORUS_ASSIGN_OR_RETURN(std::optional<Lease> held, FindLease(workflow_id));
                      CHORUS_RETURN_IF_ERROR(CheckLeaseAvailable(workflow_id, held, request));
                      return WriteLease(lease);
                    }));
  return lease;
}

absl::StatusOr<Lease> SqliteEventStore::RenewLease(absl::string_view workflow_id,
                                                   absl::string_view owner_id,
                                                   absl::Time expires_at) {
  CHORUS_RETURN_IF_ERROR(
      CheckWritable(absl::StrFormat("cannot renew the lease of workflow '%s'", workflow_id)));
  MutexLock lock(&mu_);
  std::optional<Lease> held;
  CHORUS_RETURN_IF_ERROR(InTransaction(
      [&] { return absl::StrCat("workflow '", workflow_id, "': renewing the lease"); },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        CHORUS_ASSIGN_OR_RETURN(held, FindLease(workflow_id));
        CHORUS_RETURN_IF_ERROR(CheckLeaseHeldBy(workflow_id, held, owner_id));
        SqliteStatement& renew = statements_.renew_lease;
        absl::Status status = renew.Bind(workflow_id, absl::ToUnixNanos(expires_at));
        if (status.ok()) status = renew.Run();
        return Annotate(status, "workflow '", workflow_id, "': renewing the lease");
      }));
  held->expires_at = expires_at;
  return *std::move(held);
}

absl::Status SqliteEventStore::ReleaseLease(absl::string_view workflow_id,
                                            absl::string_view owner_id) {
  CHORUS_RETURN_IF_ERROR(
      CheckWritable(absl::StrFormat("cannot release the lease of workflow '%s'", workflow_id)));
  MutexLock lock(&mu_);
  SqliteStatement& release = statements_.delete_lease;
  absl::Status status = release.Bind(workflow_id, owner_id);
  if (status.ok()) status = release.Run();
  return Annotate(status, "workflow '", workflow_id, "': releasing the lease");
}

absl::StatusOr<std::optional<Lease>> SqliteEventStore::GetLease(absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  return FindLease(workflow_id);
}

absl::Status SqliteEventStore::SaveSnapshot(absl::string_view workflow_id, int64_t seq,
                                            absl::string_view state) {
  CHORUS_RETURN_IF_ERROR(
      CheckWritable(absl::StrFormat("cannot save a snapshot of workflow '%s'", workflow_id)));
  MutexLock lock(&mu_);
  // A snapshot is a cache of the fold, not history: a power cut that loses it costs a longer
  // resume, never an event. So its commit waits for no sync; the next durable commit syncs the
  // WAL, its pages included.
  const bool durable = options_.durability == SqliteOptions::Durability::kFull;
  if (durable) CHORUS_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous = NORMAL"));
  absl::Status saved = InTransaction(
      [&] {
        return absl::StrFormat("workflow '%s': saving a snapshot at seq %d", workflow_id, seq);
      },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        CHORUS_ASSIGN_OR_RETURN(std::optional<WorkflowSummary> summary, FindSummary(workflow_id));
        if (!summary.has_value()) return WorkflowNotFound(workflow_id);
        CHORUS_ASSIGN_OR_RETURN(const int64_t last_seq, LastSeq(workflow_id));
        CHORUS_RETURN_IF_ERROR(CheckSnapshotSeq(workflow_id, seq, last_seq));
        SqliteStatement& save = statements_.save_snapshot;
        absl::Status status = save.Bind(workflow_id, seq, SqliteBlob{state});
        if (status.ok()) status = save.Run();
        return Annotate(status, "workflow '", workflow_id, "': saving a snapshot at seq ", seq);
      });
  if (durable) saved.Update(db_.Exec("PRAGMA synchronous = FULL"));
  return saved;
}

absl::StatusOr<std::optional<StoredSnapshot>> SqliteEventStore::LoadSnapshot(
    absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  CHORUS_ASSIGN_OR_RETURN(std::optional<WorkflowSummary> summary, FindSummary(workflow_id));
  if (!summary.has_value()) return WorkflowNotFound(workflow_id);
  std::optional<StoredSnapshot> snapshot;
  if (!has_snapshots_) return snapshot;
  SqliteStatement& find = statements_.find_snapshot;
  absl::Status status = find.Bind(workflow_id);
  if (status.ok()) {
    status = find.ForEachRow([&](const SqliteStatement& row) {
      snapshot = StoredSnapshot{row.Int(0), std::string(row.Blob(1))};
    });
  }
  CHORUS_RETURN_IF_ERROR(Annotate(status, "workflow '", workflow_id, "': reading the snapshot"));
  return snapshot;
}

absl::Status SqliteEventStore::InTransaction(absl::FunctionRef<std::string()> describe,
                                             absl::FunctionRef<absl::Status()> work) {
  const absl::Status begun = statements_.begin.Run();
  if (!begun.ok()) return Annotate(begun, describe());
  absl::Status status = work();
  if (status.ok()) {
    status = statements_.commit.Run();
    if (!status.ok()) status = Annotate(status, describe());
  }
  // A failed COMMIT may have rolled back already; then there is nothing left to roll back.
  if (!status.ok() && db_.InTransaction()) {
    return AfterRollback(status, statements_.rollback.Run());
  }
  return status;
}

absl::Status SqliteEventStore::CheckWritable(absl::string_view what) const {
  if (!options_.read_only) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat("%s is open read-only: %s", path_, what));
}

absl::StatusOr<std::optional<Lease>> SqliteEventStore::FindLease(absl::string_view workflow_id) {
  SqliteStatement& find = statements_.find_lease;
  std::optional<Lease> lease;
  absl::Status status = find.Bind(workflow_id);
  if (status.ok()) {
    status = find.ForEachRow([&](const SqliteStatement& row) { lease = LeaseFrom(row); });
  }
  CHORUS_RETURN_IF_ERROR(Annotate(status, "workflow '", workflow_id, "': reading the lease"));
  return lease;
}

absl::Status SqliteEventStore::CheckLeaseHeld(absl::string_view workflow_id,
                                              absl::string_view owner_id) {
  SqliteStatement& held_by = statements_.lease_is_held_by;
  bool held = false;
  absl::Status status = held_by.Bind(workflow_id, owner_id);
  if (status.ok()) status = held_by.ForEachRow([&](const SqliteStatement&) { held = true; });
  CHORUS_RETURN_IF_ERROR(Annotate(status, "workflow '", workflow_id, "': reading the lease"));
  if (held) return absl::OkStatus();
  CHORUS_ASSIGN_OR_RETURN(const std::optional<Lease> lease, FindLease(workflow_id));
  return CheckLeaseHeldBy(workflow_id, lease, owner_id);
}

absl::Status SqliteEventStore::WriteLease(const Lease& lease) {
  SqliteStatement& upsert = statements_.upsert_lease;
  absl::Status status = upsert.Bind(lease.workflow_id, lease.owner_id, lease.host, lease.pid,
                                    absl::ToUnixNanos(lease.expires_at));
  if (status.ok()) status = upsert.Run();
  return Annotate(status, "workflow '", lease.workflow_id, "': writing the lease");
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventStore>> OpenSqliteEventStore(const std::string& path,
                                                                 const SqliteOptions& options) {
  // Nothing may write to the file before ProbeFile has accepted it.
  CHORUS_ASSIGN_OR_RETURN(const int64_t schema_version, ProbeFile(path, options.busy_timeout));
  if (options.read_only && schema_version == 0) {
    return absl::NotFoundError(absl::StrFormat("%s: no Chorus database to open read-only", path));
  }
  CHORUS_ASSIGN_OR_RETURN(
      SqliteConnection db,
      SqliteConnection::Open(path,
                             options.read_only ? SqliteMode::kReadOnly : SqliteMode::kReadWrite,
                             options.busy_timeout));
  if (!options.read_only) {
    CHORUS_RETURN_IF_ERROR(PrepareForWriting(db, schema_version, options));
  }
  const bool has_snapshots = !options.read_only || schema_version >= kFirstVersionWithSnapshots;
  CHORUS_ASSIGN_OR_RETURN(Statements statements, PrepareStatements(db, has_snapshots));
  return std::make_unique<SqliteEventStore>(std::move(db), std::move(statements), options,
                                            has_snapshots);
}

}  // namespace chorus
