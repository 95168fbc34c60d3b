// CancellationToken: cooperative cancellation shared between a canceller and the work it
// stops.
//
// A token is a cheap handle to shared state; copies observe and cancel the same thing. A
// child token (ChildOf) is cancelled whenever its parent is, and may also be cancelled on its
// own without affecting the parent. The engine gives each running step a child of its
// workflow's token: cancelling the workflow reaches every step, and fail-fast cancels just the
// running siblings.
//
//   absl::StatusOr<std::string> Download(const StepContext& context) {
//     while (!done) {
//       if (context.cancellation().IsCancelled()) return absl::CancelledError("stopped");
//       ...
//     }
//   }
//   // Or sleep without missing a cancellation:
//   if (context.cancellation().WaitFor(absl::Seconds(5))) return absl::CancelledError("");
//
// Thread-safe.
#ifndef CHORUS_WORKFLOW_CANCELLATION_H_
#define CHORUS_WORKFLOW_CANCELLATION_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace chorus {

class CancellationToken {
 public:
  // A fresh token, not cancelled, with no parent.
  CancellationToken();

  // A token that is cancelled, with the parent's reason, whenever `parent` is.
  static CancellationToken ChildOf(const CancellationToken& parent);

  // Cancels this token and its children. The first reason given is kept; later calls do
  // nothing.
  void Cancel(absl::string_view reason) const;

  bool IsCancelled() const;

  // Why the token was cancelled; empty while it is not.
  std::string reason() const;

  // Blocks until the token is cancelled or `timeout` has passed. Returns IsCancelled().
  bool WaitFor(absl::Duration timeout) const;

 private:
  struct State;
  explicit CancellationToken(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_CANCELLATION_H_
