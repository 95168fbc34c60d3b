#include "workflow/cancellation.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "event/internal/mutex.h"

namespace chorus {

struct CancellationToken::State {
  Mutex mu;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  std::string reason ABSL_GUARDED_BY(mu);
  // Children are held weakly: a finished step's token must not live as long as the workflow's.
  std::vector<std::weak_ptr<State>> children ABSL_GUARDED_BY(mu);
  // Expired children are dropped when `children` reaches this size, which then doubles.
  size_t prune_at ABSL_GUARDED_BY(mu) = 64;
};

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

CancellationToken::CancellationToken(std::shared_ptr<State> state) : state_(std::move(state)) {}

CancellationToken CancellationToken::ChildOf(const CancellationToken& parent) {
  CancellationToken child;
  State& p = *parent.state_;
  std::string parent_reason;
  {
    MutexLock lock(&p.mu);
    if (!p.cancelled) {
      if (p.children.size() >= p.prune_at) {
        p.children.erase(std::remove_if(p.children.begin(), p.children.end(),
                                        [](const std::weak_ptr<State>& c) { return c.expired(); }),
                         p.children.end());
        p.prune_at = std::max<size_t>(64, 2 * p.children.size());
      }
      p.children.push_back(child.state_);
      return child;
    }
    parent_reason = p.reason;
  }
  child.Cancel(parent_reason);
  return child;
}

void CancellationToken::Cancel(absl::string_view reason) const {
  std::vector<std::weak_ptr<State>> children;
  {
    MutexLock lock(&state_->mu);
    if (state_->cancelled) return;
    state_->cancelled = true;
    state_->reason = std::string(reason);
    children.swap(state_->children);
  }
  // Outside the lock: a child never locks its parent, so there is no lock-order cycle.
  for (const std::weak_ptr<State>& weak : children) {
    if (std::shared_ptr<State> child = weak.lock()) CancellationToken(child).Cancel(reason);
  }
}

bool CancellationToken::IsCancelled() const {
  MutexLock lock(&state_->mu);
  return state_->cancelled;
}

std::string CancellationToken::reason() const {
  MutexLock lock(&state_->mu);
  return state_->reason;
}

bool CancellationToken::WaitFor(absl::Duration timeout) const {
  State& s = *state_;
  MutexLock lock(&s.mu);
  return s.mu.AwaitWithDeadline([&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return s.cancelled; },
                                absl::Now() + timeout);
}

}  // namespace chorus
