// StepRegistry: the functions that run a workflow's steps, by step name.
//
// A step function receives its StepContext and returns the step's output (bytes, recorded in
// history and passed to the steps that depend on it) or an error. An error marked retryable
// (MarkRetryable) is recorded as such; one marked as the driver's own fault (MarkDriverFault)
// is not recorded at all, and stops the run. A step should return promptly once its context's
// cancellation token is cancelled; an error returned after cancellation is recorded as the
// step's cancellation.
//
//   StepRegistry registry;
//   CHORUS_RETURN_IF_ERROR(registry.Register("fetch", [](const StepContext& context)
//       -> absl::StatusOr<std::string> { return Fetch(context.input()); }));
//
// Register before handing the registry to an Engine; after that it is only read, from any
// thread (thread-compatible).
#ifndef CHORUS_WORKFLOW_STEP_REGISTRY_H_
#define CHORUS_WORKFLOW_STEP_REGISTRY_H_

#include <deque>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/step_name_index.h"
#include "workflow/step_context.h"

namespace chorus {

using StepFunction = std::function<absl::StatusOr<std::string>(StepContext&)>;

class StepRegistry {
 public:
  // Registers `function` for the step `name`. AlreadyExists if `name` has a function;
  // InvalidArgument for an empty name or function.
  absl::Status Register(absl::string_view name, StepFunction function);

  // The function registered for `name`, or nullptr. The pointer lives as long as the registry.
  const StepFunction* Find(absl::string_view name) const;
  // Starts loading what a Find of `name` will read (StepNameIndex::Prefetch): a loop finding
  // many names runs two to three times as fast when it prefetches a few names ahead.
  void Prefetch(absl::string_view name) const { index_.Prefetch(name); }

 private:
  // In the order registered. Deques: registering more moves none, so pointers stay valid.
  // Registering 500,000 steps peaks at about 50 MB, against 105 MB for a hash map of names to
  // functions (which holds both tables at once while it grows).
  std::deque<std::string> names_;
  std::deque<StepFunction> functions_;
  StepNameIndex index_;  // over names_
};

// Marks a step's error as retryable; the mark is recorded in the step-failed event.
absl::Status MarkRetryable(absl::Status error);
bool IsRetryable(const absl::Status& error);

// Marks a step's error as a fault of the driver's own, not of the step: the attempt could not
// run, or could not be watched to its end, for a cause in the machine or process that runs the
// engine (no space left for the attempt's files or log, no file descriptors, no process could
// be started). The engine then records nothing of the attempt beyond its start: it stops the
// run (running siblings are cancelled and left unrecorded too), and Run returns this error, still
// marked. The step's retries are not used up and the workflow does not fail: resuming it once
// the cause is fixed runs the attempt again.
absl::Status MarkDriverFault(absl::Status error);
bool IsDriverFault(const absl::Status& error);

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_STEP_REGISTRY_H_
