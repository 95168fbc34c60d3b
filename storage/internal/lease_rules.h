// The rules every EventStore applies to owner leases, in one place so that the stores agree
// to the word: who may take a lease, who may renew it, and how a refusal names the holder.
// Each store applies them to the lease it reads and writes in one transaction.
#ifndef CHORUS_STORAGE_INTERNAL_LEASE_RULES_H_
#define CHORUS_STORAGE_INTERNAL_LEASE_RULES_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/event_store.h"

namespace chorus {

// InvalidArgument, naming the workflow, for an empty owner id or a ttl that is not positive.
absl::Status CheckLeaseRequest(absl::string_view workflow_id, const LeaseRequest& request);

// OK if `request` may take the lease whose holder is `held` (nullopt: nobody), by the rules
// of EventStore::AcquireLease; FailedPrecondition naming the holder otherwise.
absl::Status CheckLeaseAvailable(absl::string_view workflow_id, const std::optional<Lease>& held,
                                 const LeaseRequest& request);

// The lease that `request` takes.
Lease GrantedLease(absl::string_view workflow_id, const LeaseRequest& request);

// OK if `held` is held by `owner_id`; Aborted naming the holder (or saying there is none)
// otherwise.
absl::Status CheckLeaseHeldBy(absl::string_view workflow_id, const std::optional<Lease>& held,
                              absl::string_view owner_id);

// "owner 3f2a... (host h, pid 123) until 2026-11-21 23:59:01 UTC"
std::string DescribeLease(const Lease& lease);

}  // namespace chorus

#endif  // CHORUS_STORAGE_INTERNAL_LEASE_RULES_H_
