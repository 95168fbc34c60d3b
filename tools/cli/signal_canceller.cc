#include "tools/cli/signal_canceller.h"

#include <signal.h>

#include <utility>

namespace chorus::cli {
namespace {

sigset_t CancellingSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

SignalCanceller::SignalCanceller(CancellationToken token) : token_(std::move(token)) {
  const sigset_t signals = CancellingSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  thread_ = std::thread([this] { WaitLoop(); });
}

SignalCanceller::~SignalCanceller() {
  stopping_ = true;
  thread_.join();
}

void SignalCanceller::WaitLoop() {
  const sigset_t signals = CancellingSignals();
  const timespec poll = {0, 100 * 1000 * 1000};  // to notice stopping_
  while (!stopping_) {
    const int signal = sigtimedwait(&signals, nullptr, &poll);
    if (signal <= 0 || received_ != 0) continue;
    received_ = signal;
    token_.Cancel(signal == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM");
  }
}

}  // namespace chorus::cli
