#include "workflow/internal/lease_keeper.h"

#include <limits.h>  // HOST_NAME_MAX
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/internal/mutex.h"
#include "event/internal/status_macros.h"
#include "storage/forwarding_event_store.h"

namespace chorus {
namespace {

// Whether /proc says process `pid` is a zombie: dead, waiting for its parent to reap it.
bool IsZombie(int64_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // "pid (command) state ...": the command may hold anything, so look after its last ')'.
  const size_t end_of_command = stat.rfind(')');
  return end_of_command != std::string::npos && end_of_command + 2 < stat.size() &&
         stat[end_of_command + 2] == 'Z';
}

// The leases that keepers in this process hold or are taking, as (workflow id, owner id).
class LiveKeepers {
 public:
  static LiveKeepers& OfThisProcess() {
    static LiveKeepers* const live = new LiveKeepers;
    return *live;
  }

  void Add(absl::string_view workflow_id, absl::string_view owner_id) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    keys_.emplace(workflow_id, owner_id);
  }
  void Remove(absl::string_view workflow_id, absl::string_view owner_id) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    keys_.erase(Key(workflow_id, owner_id));
  }
  bool Contains(absl::string_view workflow_id, absl::string_view owner_id)
      ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return keys_.contains(Key(workflow_id, owner_id));
  }

 private:
  using Key = std::pair<std::string, std::string>;
  Mutex mu_;
  absl::flat_hash_set<Key> keys_ ABSL_GUARDED_BY(mu_);
};

// Whether the driver that holds `held`, a lease of `workflow_id` on this host, is gone: its
// process has exited, or it is this process and none of its keepers holds the lease any more
// (a run whose release failed left it behind).
bool HolderIsGone(absl::string_view workflow_id, const Lease& held) {
  if (held.pid != getpid()) return ProcessIsGone(held.pid);
  return !LiveKeepers::OfThisProcess().Contains(workflow_id, held.owner_id);
}

// Takes the lease as AcquireLease allows; if a holder on this host is refused only because
// its lease has not lapsed, and that holder is gone, takes it over from that holder.
absl::StatusOr<Lease> TakeLease(EventStore& store, absl::string_view workflow_id,
                                LeaseRequest request) {
  absl::StatusOr<Lease> lease = store.AcquireLease(workflow_id, request);
  if (!absl::IsFailedPrecondition(lease.status())) return lease;
  CHORUS_ASSIGN_OR_RETURN(const std::optional<Lease> held, store.GetLease(workflow_id));
  if (!held.has_value() || held->host != request.host || !HolderIsGone(workflow_id, *held)) {
    return lease;
  }
  // The store takes it over only if this holder still has it: nobody else can slip in.
  request.replacing_owner_id = held->owner_id;
  request.now = absl::Now();
  return store.AcquireLease(workflow_id, request);
}

}  // namespace

std::string NewLeaseOwnerId() {
  std::random_device device;
  const uint64_t id = (static_cast<uint64_t>(device()) << 32) | device();
  return absl::StrFormat("%016x", id);
}

std::string ThisHost() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "(unknown host)";
  return name;
}

bool ProcessIsGone(int64_t pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  if (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return IsZombie(pid);
  return errno == ESRCH;
}

// The store as a run of the keeper's workflow sees it: appends only while the lease is held,
// each as the lease's owner.
class LeaseKeeper::GuardedStore : public ForwardingEventStore {
 public:
  GuardedStore(EventStore& store, LeaseKeeper& keeper)
      : ForwardingEventStore(store), keeper_(keeper) {}

  absl::Status Append(absl::string_view workflow_id, int64_t expected_last_seq,
                      absl::Span<const Event> events) override {
    // The keeper's own verdict comes first: a lease it could not renew before it lapsed is lost
    // to the run although nobody has taken it over yet (the store would still take the append),
    // and a refusal here is what Release reports.
    CHORUS_RETURN_IF_ERROR(keeper_.CheckHeld());
    // A takeover after that check (this thread was descheduled, say) is caught by the store,
    // which checks the lease again in the append's own transaction.
    return ForwardingEventStore::AppendAsLeaseOwner(workflow_id, keeper_.owner_id_,
                                                    expected_last_seq, events);
  }

 private:
  LeaseKeeper& keeper_;
};

absl::StatusOr<std::unique_ptr<LeaseKeeper>> LeaseKeeper::Acquire(EventStore& store,
                                                                  absl::string_view workflow_id,
                                                                  absl::string_view owner_id,
                                                                  absl::Duration ttl,
                                                                  CancellationToken run) {
  LeaseRequest request;
  request.owner_id = std::string(owner_id);
  request.host = ThisHost();
  request.pid = getpid();
  request.ttl = ttl;
  request.now = absl::Now();
  // Known as live before the lease is taken: another engine here must not take it over as
  // left behind while this one is still setting up.
  LiveKeepers::OfThisProcess().Add(workflow_id, owner_id);
  absl::StatusOr<Lease> lease = TakeLease(store, workflow_id, std::move(request));
  if (!lease.ok()) {
    LiveKeepers::OfThisProcess().Remove(workflow_id, owner_id);
    return lease.status();
  }
  return std::unique_ptr<LeaseKeeper>(new LeaseKeeper(store, *lease, ttl, std::move(run)));
}

LeaseKeeper::LeaseKeeper(EventStore& store, const Lease& lease, absl::Duration ttl,
                         CancellationToken run)
    : store_(store),
      workflow_id_(lease.workflow_id),
      owner_id_(lease.owner_id),
      ttl_(ttl),
      run_(std::move(run)),
      guarded_store_(std::make_unique<GuardedStore>(store, *this)),
      expires_at_(lease.expires_at) {
  watcher_ = std::thread([this] { WatchUntilStopped(); });
}

LeaseKeeper::~LeaseKeeper() {
  StopWatching();
  LiveKeepers::OfThisProcess().Remove(workflow_id_, owner_id_);
}

absl::Status LeaseKeeper::Release(const absl::Status& run_status) {
  StopWatching();
  const absl::Status released = store_.ReleaseLease(workflow_id_, owner_id_);
  {
    MutexLock lock(&mu_);
    if (!refusal_.ok()) return refusal_;
  }
  if (!run_status.ok()) return run_status;
  return released;
}

void LeaseKeeper::WatchUntilStopped() {
  absl::Time renewal = absl::Now() + ttl_ / 3;
  absl::Time request_check = absl::Now() + kCancellationRequestPoll;
  while (WaitUntil(std::min(renewal, request_check))) {
    const absl::Time now = absl::Now();
    if (now >= request_check) {
      CheckCancellationRequest();
      request_check = now + kCancellationRequestPoll;
    }
    if (now >= renewal) {
      renewal = AfterRenewal(store_.RenewLease(workflow_id_, owner_id_, now + ttl_), now);
    }
  }
}

void LeaseKeeper::CheckCancellationRequest() {
  if (run_.IsCancelled()) return;
  const absl::StatusOr<std::optional<std::string>> request =
      store_.GetCancellationRequest(workflow_id_);
  if (request.ok() && request->has_value()) run_.Cancel(**request);
}

bool LeaseKeeper::WaitUntil(absl::Time deadline) {
  MutexLock lock(&mu_);
  return !mu_.AwaitWithDeadline(
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !lost_.ok(); }, deadline);
}

absl::Time LeaseKeeper::AfterRenewal(const absl::StatusOr<Lease>& renewed, absl::Time now) {
  MutexLock lock(&mu_);
  if (renewed.ok()) {
    expires_at_ = renewed->expires_at;
    return now + ttl_ / 3;
  }
  if (absl::IsAborted(renewed.status())) {
    MarkLost(renewed.status());
    return absl::InfiniteFuture();
  }
  // The store failed for now (busy, say): try again soon, for as long as the lease lasts.
  if (now >= expires_at_) {
    MarkLost(absl::AbortedError(
        absl::StrCat("workflow '", workflow_id_, "': the lease of owner ", owner_id_,
                     " expired before it could be renewed: ", renewed.status().message())));
    return absl::InfiniteFuture();
  }
  return std::min(now + ttl_ / 10, expires_at_);
}

absl::Status LeaseKeeper::CheckHeld() {
  const absl::Time now = absl::Now();
  MutexLock lock(&mu_);
  if (lost_.ok() && now >= expires_at_) {
    MarkLost(absl::AbortedError(absl::StrCat(
        "workflow '", workflow_id_, "': the lease of owner ", owner_id_, " expired at ",
        absl::FormatTime(expires_at_, absl::UTCTimeZone()), " before it was renewed")));
  }
  if (!lost_.ok() && refusal_.ok()) refusal_ = lost_;
  return lost_;
}

void LeaseKeeper::MarkLost(const absl::Status& why) {
  if (!lost_.ok()) return;
  lost_ = absl::AbortedError(absl::StrCat(why.message(), "; this run stopped driving it"));
  run_.Cancel(lost_.message());
}

void LeaseKeeper::StopWatching() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace chorus
