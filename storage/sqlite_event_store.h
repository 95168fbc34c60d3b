// The default EventStore: one SQLite file holding the histories of many workflows.
//
// The file is in WAL mode. Events are append-only in the schema itself: triggers reject any
// UPDATE or DELETE of the events table. A workflow's summary row is written with the events
// that start and end it; its last seq and update time are read from its last event.
//
// The file carries Chorus's application_id and a schema version (user_version); a file that is
// not a Chorus database, or one written by a newer version, is refused and left byte-for-byte
// unchanged. A file of an older schema version (1: summary rows kept the last seq; 2: no
// snapshots) is upgraded in place, in one transaction, when opened for writing, and read as it
// is when opened read-only (without snapshots, then). Any number of processes may open one file
// for writing at the same time, also a file that does not exist yet: one of them creates (or
// upgrades) the database, and each of them opens it.
//
// Each EventStream reads on a connection of its own, from a snapshot taken when Read returns:
// appends neither wait for an open stream nor show up in it. An open stream keeps the WAL
// from being checkpointed past its snapshot, so drain and drop streams promptly. Past its
// first few thousand events a stream reads ahead on a thread of its own, so that SQLite's
// reading overlaps with the reader's work.
//
//   SqliteOptions options;
//   options.durability = SqliteOptions::Durability::kNormal;  // faster, may lose the tail
//   CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
//                           OpenSqliteEventStore("chorus.db", options));
//
// Thread-safe.
#ifndef CHORUS_STORAGE_SQLITE_EVENT_STORE_H_
#define CHORUS_STORAGE_SQLITE_EVENT_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/event_store.h"

namespace chorus {

struct SqliteOptions {
  enum class Durability {
    // synchronous=FULL: an appended batch survives power loss.
    kFull,
    // synchronous=NORMAL: survives a crash of the process, not of the machine.
    kNormal,
  };
  Durability durability = Durability::kFull;
  // Open an existing database without ever writing to it; Append is FailedPrecondition.
  bool read_only = false;
  // How long a statement waits for another connection's lock before failing.
  absl::Duration busy_timeout = absl::Seconds(5);
};

// Opens the Chorus database at `path`, creating it (or filling an empty file) unless
// options.read_only. Returns:
//   FailedPrecondition  the file is not a Chorus database, or has a newer schema version;
//                       the file is not touched;
//   NotFound            read_only and no database at `path` (no file, or an empty one);
//   other codes         SQLite could not open the file (message names the path).
absl::StatusOr<std::unique_ptr<EventStore>> OpenSqliteEventStore(const std::string& path,
                                                                 const SqliteOptions& options);

}  // namespace chorus

#endif  // CHORUS_STORAGE_SQLITE_EVENT_STORE_H_
