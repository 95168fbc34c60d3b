// ForwardingEventStore: an EventStore that passes every call to another store. A subclass
// overrides the calls it changes: the engine's lease keeper turns the run's appends into appends
// as the lease owner with it, and tests share one store between "connections" or inject faults.
#ifndef CHORUS_STORAGE_FORWARDING_EVENT_STORE_H_
#define CHORUS_STORAGE_FORWARDING_EVENT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/event_store.h"

namespace chorus {

class ForwardingEventStore : public EventStore {
 public:
  // `store` must outlive this object.
  explicit ForwardingEventStore(EventStore& store) : store_(store) {}

  absl::Status Append(absl::string_view workflow_id, int64_t expected_last_seq,
                      absl::Span<const Event> events) override {
    return store_.Append(workflow_id, expected_last_seq, events);
  }
  absl::Status AppendAsLeaseOwner(absl::string_view workflow_id, absl::string_view lease_owner_id,
                                  int64_t expected_last_seq,
                                  absl::Span<const Event> events) override {
    return store_.AppendAsLeaseOwner(workflow_id, lease_owner_id, expected_last_seq, events);
  }
  absl::StatusOr<std::unique_ptr<EventStream>> Read(absl::string_view workflow_id,
                                                    int64_t from_seq) override {
    return store_.Read(workflow_id, from_seq);
  }
  absl::StatusOr<WorkflowSummary> GetSummary(absl::string_view workflow_id) override {
    return store_.GetSummary(workflow_id);
  }
  absl::StatusOr<std::vector<WorkflowSummary>> List() override { return store_.List(); }
  absl::Status RequestCancellation(absl::string_view workflow_id,
                                   absl::string_view reason) override {
    return store_.RequestCancellation(workflow_id, reason);
  }
  absl::StatusOr<std::optional<std::string>> GetCancellationRequest(
      absl::string_view workflow_id) override {
    return store_.GetCancellationRequest(workflow_id);
  }
  absl::StatusOr<Lease> AcquireLease(absl::string_view workflow_id,
                                     const LeaseRequest& request) override {
    return store_.AcquireLease(workflow_id, request);
  }
  absl::StatusOr<Lease> RenewLease(absl::string_view workflow_id, absl::string_view owner_id,
                                   absl::Time expires_at) override {
    return store_.RenewLease(workflow_id, owner_id, expires_at);
  }
  absl::Status ReleaseLease(absl::string_view workflow_id, absl::string_view owner_id) override {
    return store_.ReleaseLease(workflow_id, owner_id);
  }
  absl::StatusOr<std::optional<Lease>> GetLease(absl::string_view workflow_id) override {
    return store_.GetLease(workflow_id);
  }
  absl::Status SaveSnapshot(absl::string_view workflow_id, int64_t seq,
                            absl::string_view state) override {
    return store_.SaveSnapshot(workflow_id, seq, state);
  }
  absl::StatusOr<std::optional<StoredSnapshot>> LoadSnapshot(
      absl::string_view workflow_id) override {
    return store_.LoadSnapshot(workflow_id);
  }

 private:
  EventStore& store_;
};

}  // namespace chorus

#endif  // CHORUS_STORAGE_FORWARDING_EVENT_STORE_H_
