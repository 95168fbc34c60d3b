#include "workflow/internal/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "workflow/definition.h"

namespace chorus {

std::optional<absl::Time> NextAttemptAt(const RetryPolicy& policy, int attempt,
                                        const absl::Status& error, absl::Time now) {
  if (attempt >= policy.max_attempts()) return std::nullopt;
  const std::string code = absl::StatusCodeToString(error.code());
  const auto& not_retried = policy.non_retryable_codes();
  if (std::find(not_retried.begin(), not_retried.end(), code) != not_retried.end()) {
    return std::nullopt;
  }
  const double multiplier = policy.multiplier() > 0 ? policy.multiplier() : 1;
  absl::Duration wait = DurationOf(policy.initial_backoff()) * std::pow(multiplier, attempt - 1);
  if (policy.has_max_backoff()) wait = std::min(wait, DurationOf(policy.max_backoff()));
  return now + wait;
}

}  // namespace chorus
