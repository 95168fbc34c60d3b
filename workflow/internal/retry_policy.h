// A step's retry policy (StepDefinition.retry): whether a failed attempt is tried again, and
// when. Thread-safe.
#ifndef CHORUS_WORKFLOW_INTERNAL_RETRY_POLICY_H_
#define CHORUS_WORKFLOW_INTERNAL_RETRY_POLICY_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

// When the attempt after `attempt`, which failed with `error` at `now`, starts under `policy`
// (after the backoff: initial_backoff * multiplier^(attempt-1), at most max_backoff), or
// nullopt when the policy gives no further attempt (max_attempts reached, or a code it names
// as not retryable).
std::optional<absl::Time> NextAttemptAt(const RetryPolicy& policy, int attempt,
                                        const absl::Status& error, absl::Time now);

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_INTERNAL_RETRY_POLICY_H_
