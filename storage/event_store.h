// EventStore: the seam between the engine and the database that keeps event histories.
//
// A store holds, per workflow id, an append-only sequence of Events numbered 1, 2, 3, ...,
// a summary row (a projection of those events, kept in the same transaction) and the latest
// snapshot of the folded state, if one was saved. The interface names no database type, so
// that a networked store (several workers sharing one database) can implement it too.
//
//   CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
//                           OpenSqliteEventStore("chorus.db", SqliteOptions()));
//   CHORUS_RETURN_IF_ERROR(store->Append("order-42", /*expected_last_seq=*/0, events));
//   CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store->Read("order-42", 1));
//   while (stream->Next()) Use(stream->event());
//   CHORUS_RETURN_IF_ERROR(stream->status());
//
// Implementations are thread-safe: any method may be called from any thread.
#ifndef CHORUS_STORAGE_EVENT_STORE_H_
#define CHORUS_STORAGE_EVENT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "proto/event.pb.h"

namespace chorus {

// The projection row of one workflow, for fast listing.
struct WorkflowSummary {
  std::string workflow_id;
  std::string definition_name;
  WorkflowStatus status = WORKFLOW_STATUS_UNSPECIFIED;
  int64_t last_seq = 0;
  absl::Time created_at;  // recorded_at of the first event
  absl::Time updated_at;  // recorded_at of the last event
};

// The owner lease of one workflow: while it lasts, only its owner drives the workflow.
struct Lease {
  std::string workflow_id;
  std::string owner_id;  // unique per driver (e.g. random per Engine)
  std::string host;      // where the owner runs
  int64_t pid = 0;       // the owner's process on `host`
  absl::Time expires_at;
};

// Who asks for a lease (EventStore::AcquireLease), and for how long.
struct LeaseRequest {
  std::string owner_id;
  std::string host;
  int64_t pid = 0;
  absl::Duration ttl;  // the lease expires at now + ttl unless renewed
  absl::Time now;      // the caller's clock, by which a held lease has expired or not
  // When not empty: take the lease over from this owner although it has not expired. The
  // caller has checked that the owner's process is gone; the store checks that this owner
  // still holds the lease and runs on `host`.
  std::string replacing_owner_id;
};

// A workflow's state as saved by EventStore::SaveSnapshot: the fold of its first `seq` events.
struct StoredSnapshot {
  int64_t seq = 0;
  std::string state;  // as SerializeSnapshot (event/snapshot.h) wrote it
};

// An event a stream read but left unparsed (EventStream::NextLeavingLargeUnparsed).
struct UnparsedEvent {
  std::shared_ptr<const std::string> serialized;  // the Event as stored
  // Parses `serialized`: the event, or DataLoss naming where it is stored (as Next would have).
  // Callable from any thread, while the stream goes on.
  std::function<absl::StatusOr<std::shared_ptr<const Event>>()> parse;
};

// Events of one workflow in seq order, read lazily. Not thread-safe; use from one thread.
// A stream sees the history as of its creation or later, never a partial batch.
class EventStream {
 public:
  virtual ~EventStream() = default;

  // Advances to the next event. Returns false at the end of the history or on an error;
  // status() tells which.
  virtual bool Next() = 0;

  // The current event. REQUIRES: the last call to Next() returned true. Valid until the
  // next call to Next().
  virtual const Event& event() const = 0;

  // The current event, valid for as long as it is shared. A stream shares what it can (a
  // large event, such as a workflow_started event holding the whole definition) and copies
  // the rest. REQUIRES: as event(). The default copies.
  virtual std::shared_ptr<const Event> ShareEvent() {
    return std::make_shared<const Event>(event());
  }

  // OK, or why the stream stopped early (e.g. DataLoss for an event body that cannot be
  // parsed, naming the workflow and seq).
  virtual absl::Status status() const = 0;

  // Advances like Next(), except that an event stored serialized in `min_bytes` or more is not
  // parsed: it goes to `*unparsed`, for the caller to parse when and where it likes
  // (LoadWorkflowState parses a large workflow_started event on another thread while it folds
  // the events after it), and event() is not valid until the next advance. Otherwise
  // `*unparsed` is reset. The default parses every event, as a stream of parsed events does.
  virtual bool NextLeavingLargeUnparsed(size_t /*min_bytes*/,
                                        std::optional<UnparsedEvent>* unparsed) {
    unparsed->reset();
    return Next();
  }
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Appends `events` to workflow `workflow_id` in one atomic transaction. `events` must be
  // numbered expected_last_seq + 1, + 2, ... and each must have a kind; a new workflow
  // (expected_last_seq == 0) must begin with workflow_started, and workflow_started must
  // not appear anywhere else. The summary row is updated in the same transaction.
  // Returns:
  //   Aborted            the workflow's last seq is not `expected_last_seq` (another writer
  //                      won the race); nothing is written;
  //   InvalidArgument    a malformed batch (empty, misnumbered, an event without kind);
  //                      nothing of the batch is written;
  //   FailedPrecondition the store was opened read-only;
  //   other codes        the database failed; nothing of the batch is written.
  // For writers that hold no lease (an import, tests); a driver appends with
  // AppendAsLeaseOwner.
  virtual absl::Status Append(absl::string_view workflow_id, int64_t expected_last_seq,
                              absl::Span<const Event> events) = 0;

  // Appends as Append does, on behalf of `lease_owner_id`, the driver that holds the owner lease
  // of `workflow_id` (AcquireLease). The lease is checked in the append's own transaction, so a
  // driver that lost it however long after it last looked (another owner took it over, or it
  // was released) writes nothing. As for RenewLease, the lease need not be live, only still this
  // owner's: one that expired and that nobody took over is still its owner's. Returns what
  // Append returns, and:
  //   Aborted            `lease_owner_id` does not hold the lease when the transaction runs;
  //                      the message names the holder, if any, e.g. "workflow 'x': owner 3f2a...
  //                      no longer holds its lease; it is held by owner 9c1e... (host h, pid
  //                      123) until 2026-11-21 23:59:01 UTC"; nothing is written. The lease is
  //                      checked before `expected_last_seq`: a driver that lost its lease is
  //                      told so, whatever the new owner has appended since.
  virtual absl::Status AppendAsLeaseOwner(absl::string_view workflow_id,
                                          absl::string_view lease_owner_id,
                                          int64_t expected_last_seq,
                                          absl::Span<const Event> events) = 0;

  // Streams the events of `workflow_id` with seq >= from_seq, in seq order.
  // Returns NotFound if the store has no such workflow.
  virtual absl::StatusOr<std::unique_ptr<EventStream>> Read(absl::string_view workflow_id,
                                                            int64_t from_seq) = 0;

  // The summary of `workflow_id`; NotFound if there is none.
  virtual absl::StatusOr<WorkflowSummary> GetSummary(absl::string_view workflow_id) = 0;

  // Summaries of every workflow, ordered by workflow id.
  virtual absl::StatusOr<std::vector<WorkflowSummary>> List() = 0;

  // Records a request that workflow `workflow_id` be cancelled, for whichever process drives
  // it to honour (the Engine checks for one while it runs a workflow). The first request's
  // reason is kept. Not an event: history is written only by the workflow's driver.
  // NotFound if there is no such workflow; FailedPrecondition if the store is read-only.
  virtual absl::Status RequestCancellation(absl::string_view workflow_id,
                                           absl::string_view reason) = 0;

  // The reason given with the cancellation requested for `workflow_id`, or nullopt if none
  // was requested. NotFound if there is no such workflow.
  virtual absl::StatusOr<std::optional<std::string>> GetCancellationRequest(
      absl::string_view workflow_id) = 0;

  // Owner leases: at most one driver holds the lease of a workflow at a time, and only the
  // holder appends to its history (AppendAsLeaseOwner). A lease is not history; it lives beside
  // it, in the same database, and may be taken before the workflow exists (to start it).
  //
  // Takes the lease of `workflow_id` for `request.owner_id` until request.now + ttl, in one
  // atomic step (compare-and-set on the current holder). It is granted when nobody holds it,
  // when its holder is the same owner (then it is extended), when it has expired by
  // `request.now`, or when `request.replacing_owner_id` names its holder and the holder runs
  // on `request.host` (the caller has seen that the holder's process is gone). Returns the
  // lease, or:
  //   FailedPrecondition  another owner holds a live lease; the message names it, e.g.
  //                       "workflow 'x' is being driven by owner 3f2a... (host h, pid 123)
  //                       until 2026-11-21 23:59:01 UTC"; also when the store is read-only;
  //   InvalidArgument     an empty owner_id or a ttl that is not positive.
  virtual absl::StatusOr<Lease> AcquireLease(absl::string_view workflow_id,
                                             const LeaseRequest& request) = 0;

  // Extends the lease `owner_id` holds on `workflow_id` to `expires_at`; it need not be live,
  // only still this owner's. Aborted, naming the holder if any, when the owner no longer holds
  // it (another owner took it over, or it was released); FailedPrecondition when read-only.
  virtual absl::StatusOr<Lease> RenewLease(absl::string_view workflow_id,
                                           absl::string_view owner_id, absl::Time expires_at) = 0;

  // Gives up the lease `owner_id` holds on `workflow_id`. Does nothing when the owner does not
  // hold it (a lease taken over by another owner stays theirs). FailedPrecondition when
  // read-only.
  virtual absl::Status ReleaseLease(absl::string_view workflow_id, absl::string_view owner_id) = 0;

  // The lease of `workflow_id`, expired or not, or nullopt if nobody holds one.
  virtual absl::StatusOr<std::optional<Lease>> GetLease(absl::string_view workflow_id) = 0;

  // Snapshots: a workflow's folded state saved beside its history, so that resuming folds only
  // the events after it (storage/load_state.h). A snapshot is not history: it is derived from
  // it, replaced by later ones, and checked against the history when it is used.
  //
  // Saves `state`, the snapshot of the first `seq` events of `workflow_id`, unless the workflow
  // has a snapshot of as many events or more already (then that one stays). Any driver may
  // save one, lease or not: a history's first events never change. Returns NotFound if there
  // is no such workflow, InvalidArgument if its history has fewer than `seq` events or seq < 1,
  // FailedPrecondition if the store is read-only.
  virtual absl::Status SaveSnapshot(absl::string_view workflow_id, int64_t seq,
                                    absl::string_view state) = 0;

  // The latest snapshot saved of `workflow_id`, or nullopt if none was. NotFound if there is
  // no such workflow.
  virtual absl::StatusOr<std::optional<StoredSnapshot>> LoadSnapshot(
      absl::string_view workflow_id) = 0;
};

}  // namespace chorus

#endif  // CHORUS_STORAGE_EVENT_STORE_H_
