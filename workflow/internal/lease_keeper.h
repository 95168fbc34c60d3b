// LeaseKeeper: holds a workflow's owner lease (EventStore::AcquireLease) for one run of the
// Engine, on behalf of this process.
//
// The rule (README.md, "Only one driver at a time"): a driver takes the lease before it reads
// or writes the workflow's history, renews it every ttl/3 while it runs, and releases it when
// the run ends. Another driver is refused, with an error naming the owner, host and pid,
// until the lease lapses; a driver on the owner's own host takes over at once when the
// owner's process is gone (ProcessIsGone), or when the owner is this very process and none of
// its keepers holds the lease any more (a run whose release failed left it behind). A run whose
// lease is lost stops: its cancellation token is cancelled and it appends nothing more. It
// appends nothing even before the keeper hears of the loss: the store checks the lease in each
// append's own transaction (EventStore::AppendAsLeaseOwner).
//
// The keeper also watches the store for a request to cancel the run (EventStore::
// RequestCancellation, made by another process or engine), so that the run hears of it
// whatever its driving thread is doing.
//
//   CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<LeaseKeeper> lease,
//                           LeaseKeeper::Acquire(store, id, owner_id, ttl, run_token));
//   absl::Status status = DriveThrough(lease->store());
//   return lease->Release(status);
//
// Internal to the engine. Thread-safe.
#ifndef CHORUS_WORKFLOW_INTERNAL_LEASE_KEEPER_H_
#define CHORUS_WORKFLOW_INTERNAL_LEASE_KEEPER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "event/internal/mutex.h"
#include "storage/event_store.h"
#include "workflow/cancellation.h"

namespace chorus {

// A random owner id (16 hex digits) for a new driver.
std::string NewLeaseOwnerId();

// This machine's host name, as leases record it.
std::string ThisHost();

// Whether process `pid` on this host has exited, or is a zombie that its parent has not reaped
// yet. False while it runs, and when it cannot tell (pid <= 0, no permission to know).
bool ProcessIsGone(int64_t pid);

class LeaseKeeper {
 public:
  // How often a keeper looks for a cancellation request.
  static constexpr absl::Duration kCancellationRequestPoll = absl::Milliseconds(250);

  // Takes the lease of `workflow_id` in `store` for `owner_id` (this host and process) for
  // `ttl`, taking it over at once from a holder on this host that is gone (see the top of this
  // file), and renews it every ttl/3 on a thread of its own until Release. If the lease is lost
  // (another owner took it over, or it expired before it could be renewed), cancels `run` with
  // the reason, and store() refuses every append from then on. On the same thread, looks for a
  // cancellation request every kCancellationRequestPoll, and cancels `run` with its reason.
  // Returns:
  //   FailedPrecondition  another owner holds a live lease (the message names it);
  //   other codes         the store's errors.
  // `store` must outlive the keeper.
  static absl::StatusOr<std::unique_ptr<LeaseKeeper>> Acquire(EventStore& store,
                                                              absl::string_view workflow_id,
                                                              absl::string_view owner_id,
                                                              absl::Duration ttl,
                                                              CancellationToken run);

  // Stops watching. A keeper destroyed without Release leaves its lease to lapse.
  ~LeaseKeeper() ABSL_LOCKS_EXCLUDED(mu_);

  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // The store the run must write through: Append appends as the lease's owner
  // (EventStore::AppendAsLeaseOwner), and fails with Aborted, saying how the lease was lost,
  // once the keeper knows it is lost; everything else passes through. Lives as long as the
  // keeper.
  EventStore& store() { return *guarded_store_; }

  // Stops watching and gives the lease up (unless another owner holds it by now). Returns the
  // Aborted refusal if an append was refused because the lease was lost (whatever the run
  // returned followed from it); else `run_status` if it is not OK; else the error of releasing.
  absl::Status Release(const absl::Status& run_status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class GuardedStore;

  LeaseKeeper(EventStore& store, const Lease& lease, absl::Duration ttl, CancellationToken run);

  // Renews the lease and looks for cancellation requests until the keeper stops or the lease
  // is lost.
  void WatchUntilStopped() ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels the run if a cancellation request is stored for it. A failed read is tried again
  // at the next poll; NotFound means the run has not recorded its start yet.
  void CheckCancellationRequest();
  // Waits until `deadline`; returns false if the keeper stops or the lease is lost first.
  bool WaitUntil(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Records the outcome of one renewal at `now`; returns when to renew next (InfiniteFuture
  // once the lease is lost).
  absl::Time AfterRenewal(const absl::StatusOr<Lease>& renewed, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  // OK while the lease is held; the Aborted refusal once it is lost. Called before appends.
  absl::Status CheckHeld() ABSL_LOCKS_EXCLUDED(mu_);
  // Records that the lease is lost, for `why`, and cancels the run. Only the first loss counts.
  void MarkLost(const absl::Status& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StopWatching() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  EventStore& store_;
  const std::string workflow_id_;
  const std::string owner_id_;
  const absl::Duration ttl_;
  const CancellationToken run_;
  const std::unique_ptr<EventStore> guarded_store_;

  Mutex mu_;
  absl::Time expires_at_ ABSL_GUARDED_BY(mu_);  // as of the last renewal
  absl::Status lost_ ABSL_GUARDED_BY(mu_);      // OK while the lease is held
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);   // the first append refused, if any
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Started on construction, joined by StopWatching.
  std::thread watcher_;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_LEASE_KEEPER_H_
