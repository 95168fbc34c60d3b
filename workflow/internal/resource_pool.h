// ResourcePool: the locks and semaphores of a workflow (WorkflowDefinition.resources): named
// resources, each of a capacity (1 unless declared), held by the running steps that name them
// (StepDefinition.locks). Used by the coordinator's thread only.
#ifndef CHORUS_WORKFLOW_INTERNAL_RESOURCE_POOL_H_
#define CHORUS_WORKFLOW_INTERNAL_RESOURCE_POOL_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

class ResourcePool {
 public:
  using Names = google::protobuf::RepeatedPtrField<std::string>;

  // REQUIRES: `definition` outlives the pool.
  explicit ResourcePool(const WorkflowDefinition& definition) : definition_(definition) {}

  // Takes every resource of `locks` and returns nullopt, or takes none and returns the first
  // that is held to its capacity.
  std::optional<std::string> TakeAll(const Names& locks);
  // Gives back what TakeAll took.
  void Release(const Names& locks);

 private:
  int Capacity(const std::string& resource) const;

  const WorkflowDefinition& definition_;
  absl::flat_hash_map<std::string, int> held_;  // resource -> holders
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_RESOURCE_POOL_H_
