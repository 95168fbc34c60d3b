#include "storage/internal/lease_rules.h"

#include "absl/strings/str_format.h"

namespace chorus {

absl::Status CheckLeaseRequest(absl::string_view workflow_id, const LeaseRequest& request) {
  if (request.owner_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("workflow '%s': a lease needs an owner id", workflow_id));
  }
  if (request.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("workflow '%s': a lease needs a positive ttl, not %s", workflow_id,
                        absl::FormatDuration(request.ttl)));
  }
  return absl::OkStatus();
}

absl::Status CheckLeaseAvailable(absl::string_view workflow_id, const std::optional<Lease>& held,
                                 const LeaseRequest& request) {
  if (!held.has_value() || held->owner_id == request.owner_id || held->expires_at <= request.now) {
    return absl::OkStatus();
  }
  // Only the holder's own host can tell that its process is gone.
  if (!request.replacing_owner_id.empty() && held->owner_id == request.replacing_owner_id &&
      held->host == request.host) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrFormat("workflow '%s' is being driven by %s", workflow_id, DescribeLease(*held)));
}

Lease GrantedLease(absl::string_view workflow_id, const LeaseRequest& request) {
  Lease lease;
  lease.workflow_id = std::string(workflow_id);
  lease.owner_id = request.owner_id;
  lease.host = request.host;
  lease.pid = request.pid;
  lease.expires_at = request.now + request.ttl;
  return lease;
}

absl::Status CheckLeaseHeldBy(absl::string_view workflow_id, const std::optional<Lease>& held,
                              absl::string_view owner_id) {
  if (held.has_value() && held->owner_id == owner_id) return absl::OkStatus();
  if (!held.has_value()) {
    return absl::AbortedError(absl::StrFormat(
        "workflow '%s': owner %s no longer holds its lease; nobody does", workflow_id, owner_id));
  }
  return absl::AbortedError(
      absl::StrFormat("workflow '%s': owner %s no longer holds its lease; it is held by %s",
                      workflow_id, owner_id, DescribeLease(*held)));
}

std::string DescribeLease(const Lease& lease) {
  return absl::StrFormat(
      "owner %s (host %s, pid %d) until %s UTC", lease.owner_id, lease.host, lease.pid,
      absl::FormatTime("%Y-%m-%d %H:%M:%S", lease.expires_at, absl::UTCTimeZone()));
}

}  // namespace chorus
