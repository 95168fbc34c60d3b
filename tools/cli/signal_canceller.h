// SignalCanceller: turns SIGINT and SIGTERM into a workflow cancellation.
//
// The constructor blocks both signals in the calling thread, so every thread it creates
// afterwards (the engine's pool) inherits the mask, and a thread of its own waits for them
// with sigtimedwait: a signal cancels `token` instead of killing the process, so the run
// records the cancellation before `chorus` exits. Child processes reset their mask (see
// tools/shell_step.h). Create it in the main thread before any other thread.
#ifndef CHORUS_TOOLS_CLI_SIGNAL_CANCELLER_H_
#define CHORUS_TOOLS_CLI_SIGNAL_CANCELLER_H_

#include <atomic>
#include <thread>

#include "workflow/cancellation.h"

namespace chorus::cli {

class SignalCanceller {
 public:
  explicit SignalCanceller(CancellationToken token);
  // Stops waiting for signals (they stay blocked: the process is about to exit).
  ~SignalCanceller();

  SignalCanceller(const SignalCanceller&) = delete;
  SignalCanceller& operator=(const SignalCanceller&) = delete;

  // The signal that cancelled the token, or 0.
  int received() const { return received_.load(); }

 private:
  void WaitLoop();

  const CancellationToken token_;
  // Atomic because the waiting thread writes them and the owner reads them.
  std::atomic<bool> stopping_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_SIGNAL_CANCELLER_H_
