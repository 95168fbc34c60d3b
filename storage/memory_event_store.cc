#include "storage/memory_event_store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "event/internal/mutex.h"
#include "event/internal/status_macros.h"
#include "storage/internal/append_rules.h"
#include "storage/internal/lease_rules.h"

namespace chorus {
namespace {

// A stream over its own copy of the events, so later appends cannot disturb it.
class SnapshotStream : public EventStream {
 public:
  explicit SnapshotStream(std::vector<Event> events) : events_(std::move(events)) {}

  bool Next() override {
    if (next_ == events_.size()) return false;
    ++next_;
    return true;
  }
  const Event& event() const override { return events_[next_ - 1]; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  const std::vector<Event> events_;
  size_t next_ = 0;  // index of the event after the current one
};

class MemoryEventStore : public EventStore {
 public:
  absl::Status Append(absl::string_view workflow_id, int64_t expected_last_seq,
                      absl::Span<const Event> events) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AppendAsLeaseOwner(absl::string_view workflow_id, absl::string_view lease_owner_id,
                                  int64_t expected_last_seq,
                                  absl::Span<const Event> events) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<EventStream>> Read(absl::string_view workflow_id,
                                                    int64_t from_seq) override
      ABSL_LOCKS_EXCLUDED(mu_);
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
  // Invariant: events[i].seq() == i + 1 and summary.last_seq == events.size().
  struct Workflow {
    WorkflowSummary summary;
    std::vector<Event> events;
    std::optional<std::string> cancellation_request;
    std::optional<StoredSnapshot> snapshot;
  };

  // Append and AppendAsLeaseOwner: the latter passes the owner whose lease the append needs.
  absl::Status AppendBatch(absl::string_view workflow_id,
                           std::optional<absl::string_view> lease_owner_id,
                           int64_t expected_last_seq, absl::Span<const Event> events)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The workflow named `workflow_id`, or nullptr.
  Workflow* Find(absl::string_view workflow_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The lease of `workflow_id`, or nullopt.
  std::optional<Lease> FindLease(absl::string_view workflow_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  // Guarded by mu_. Ordered by id, as List promises.
  std::map<std::string, Workflow> workflows_ ABSL_GUARDED_BY(mu_);
  // Guarded by mu_. By workflow id; apart from workflows_, since a lease may come first.
  std::map<std::string, Lease> leases_ ABSL_GUARDED_BY(mu_);
};

absl::Status MemoryEventStore::Append(absl::string_view workflow_id, int64_t expected_last_seq,
                                      absl::Span<const Event> events) {
  return AppendBatch(workflow_id, std::nullopt, expected_last_seq, events);
}

absl::Status MemoryEventStore::AppendAsLeaseOwner(absl::string_view workflow_id,
                                                  absl::string_view lease_owner_id,
                                                  int64_t expected_last_seq,
                                                  absl::Span<const Event> events) {
  return AppendBatch(workflow_id, lease_owner_id, expected_last_seq, events);
}

absl::Status MemoryEventStore::AppendBatch(absl::string_view workflow_id,
                                           std::optional<absl::string_view> lease_owner_id,
                                           int64_t expected_last_seq,
                                           absl::Span<const Event> events) {
  CHORUS_RETURN_IF_ERROR(CheckBatchNotEmpty(workflow_id, events));
  MutexLock lock(&mu_);
  if (lease_owner_id.has_value()) {
    CHORUS_RETURN_IF_ERROR(CheckLeaseHeldBy(workflow_id, FindLease(workflow_id), *lease_owner_id));
  }
  const Workflow* existing = Find(workflow_id);
  const int64_t last_seq = existing == nullptr ? 0 : existing->summary.last_seq;
  CHORUS_RETURN_IF_ERROR(CheckExpectedLastSeq(workflow_id, expected_last_seq, last_seq));
  // The whole batch is checked before any of it is stored: a batch is all or nothing.
  int64_t seq = last_seq;
  for (const Event& event : events) {
    CHORUS_RETURN_IF_ERROR(CheckAppendedEvent(workflow_id, ++seq, event));
  }
  Workflow& workflow = workflows_[std::string(workflow_id)];
  workflow.summary.workflow_id = std::string(workflow_id);
  for (const Event& event : events) {
    workflow.events.push_back(event);
    ProjectOntoSummary(event, workflow.summary);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EventStream>> MemoryEventStore::Read(absl::string_view workflow_id,
                                                                    int64_t from_seq) {
  MutexLock lock(&mu_);
  const Workflow* workflow = Find(workflow_id);
  if (workflow == nullptr) return WorkflowNotFound(workflow_id);
  const std::vector<Event>& events = workflow->events;
  const int64_t skipped = std::clamp<int64_t>(from_seq - 1, 0, events.size());
  return std::make_unique<SnapshotStream>(
      std::vector<Event>(events.begin() + skipped, events.end()));
}

absl::StatusOr<WorkflowSummary> MemoryEventStore::GetSummary(absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  const Workflow* workflow = Find(workflow_id);
  if (workflow == nullptr) return WorkflowNotFound(workflow_id);
  return workflow->summary;
}

absl::StatusOr<std::vector<WorkflowSummary>> MemoryEventStore::List() {
  MutexLock lock(&mu_);
  std::vector<WorkflowSummary> summaries;
  summaries.reserve(workflows_.size());
  for (const auto& [id, workflow] : workflows_) summaries.push_back(workflow.summary);
  return summaries;
}

absl::Status MemoryEventStore::RequestCancellation(absl::string_view workflow_id,
                                                   absl::string_view reason) {
  MutexLock lock(&mu_);
  Workflow* workflow = Find(workflow_id);
  if (workflow == nullptr) return WorkflowNotFound(workflow_id);
  if (!workflow->cancellation_request) workflow->cancellation_request = std::string(reason);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryEventStore::GetCancellationRequest(
    absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  const Workflow* workflow = Find(workflow_id);
  if (workflow == nullptr) return WorkflowNotFound(workflow_id);
  return workflow->cancellation_request;
}

absl::StatusOr<Lease> MemoryEventStore::AcquireLease(absl::string_view workflow_id,
                                                     const LeaseRequest& request) {
  CHORUS_RETURN_IF_ERROR(CheckLeaseRequest(workflow_id, request));
  MutexLock lock(&mu_);
  CHORUS_RETURN_IF_ERROR(CheckLeaseAvailable(workflow_id, FindLease(workflow_id), request));
  Lease lease = GrantedLease(workflow_id, request);
  leases_[lease.workflow_id] = lease;
  return lease;
}

absl::StatusOr<Lease> MemoryEventStore::RenewLease(absl::string_view workflow_id,
                                                   absl::string_view owner_id,
                                                   absl::Time expires_at) {
  MutexLock lock(&mu_);
  CHORUS_RETURN_IF_ERROR(CheckLeaseHeldBy(workflow_id, FindLease(workflow_id), owner_id));
  Lease& lease = leases_[std::string(workflow_id)];
  lease.expires_at = expires_at;
  return lease;
}

absl::Status MemoryEventStore::ReleaseLease(absl::string_view workflow_id,
                                            absl::string_view owner_id) {
  MutexLock lock(&mu_);
  auto it = leases_.find(std::string(workflow_id));
  if (it != leases_.end() && it->second.owner_id == owner_id) leases_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Lease>> MemoryEventStore::GetLease(absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  return FindLease(workflow_id);
}

absl::Status MemoryEventStore::SaveSnapshot(absl::string_view workflow_id, int64_t seq,
                                            absl::string_view state) {
  MutexLock lock(&mu_);
  Workflow* workflow = Find(workflow_id);
  if (workflow == nullptr) return WorkflowNotFound(workflow_id);
  CHORUS_RETURN_IF_ERROR(CheckSnapshotSeq(workflow_id, seq, workflow->summary.last_seq));
  if (!workflow->snapshot.has_value() || workflow->snapshot->seq < seq) {
    workflow->snapshot = StoredSnapshot{seq, std::string(state)};
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredSnapshot>> MemoryEventStore::LoadSnapshot(
    absl::string_view workflow_id) {
  MutexLock lock(&mu_);
  const Workflow* workflow = Find(workflow_id);
  if (workflow == nullptr) return WorkflowNotFound(workflow_id);
  return workflow->snapshot;
}

MemoryEventStore::Workflow* MemoryEventStore::Find(absl::string_view workflow_id) {
  auto it = workflows_.find(std::string(workflow_id));
  return it == workflows_.end() ? nullptr : &it->second;
}

std::optional<Lease> MemoryEventStore::FindLease(absl::string_view workflow_id) {
  auto it = leases_.find(std::string(workflow_id));
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::unique_ptr<EventStore> NewMemoryEventStore() { return std::make_unique<MemoryEventStore>(); }

}  // namespace chorus
