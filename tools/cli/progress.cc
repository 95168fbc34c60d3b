#include "tools/cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/text.h"
#include "tools/cli/event_text.h"
#include "tools/cli/terminal.h"

namespace chorus::cli {
namespace {

constexpr absl::Duration kRedrawInterval = absl::Milliseconds(200);

size_t TerminalWidth(std::FILE* out) {
  struct winsize size;
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

}  // namespace

Progress::Progress(std::FILE* out, bool live, const WorkflowState& recorded)
    : out_(out), live_(live) {
  MutexLock lock(&mu_);
  total_ = std::max(recorded.definition().steps_size(), static_cast<int>(recorded.steps.size()));
  for (const StepState& step : recorded.steps) {
    done_ += step.status == StepStatus::kCompleted || step.status == StepStatus::kSkipped;
    failed_ +=
        step.status == StepStatus::kFailed && step.details().retry_at == absl::InfinitePast();
  }
  if (live_) redraw_thread_ = std::thread([this] { RedrawLoop(); });
}

Progress::~Progress() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (!live_) return;
  redraw_thread_.join();
  MutexLock lock(&mu_);
  Redraw();
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Progress::OnEvents(absl::Span<const Event> events) {
  MutexLock lock(&mu_);
  for (const Event& event : events) {
    Apply(event);
    if (!live_) PrintLine(out_, "%s", DescribeEvent(event));
  }
  if (live_) {
    Redraw();
  } else {
    std::fflush(out_);
  }
}

void Progress::Apply(const Event& event) {
  switch (event.kind_case()) {
    case Event::kWorkflowStarted:
      break;
    case Event::kStepStarted:
      running_[event.step_started().step()] = absl::Now();
      break;
    case Event::kStepCompleted:
      running_.erase(event.step_completed().step());
      ++done_;
      break;
    case Event::kStepFailed:
      running_.erase(event.step_failed().step());
      failed_ += !event.step_failed().has_next_attempt_at();
      break;
    case Event::kStepExpanded:
      total_ += MapItems(event.step_expanded()).size();
      break;
    case Event::kStepCancelled:
      running_.erase(event.step_cancelled().step());
      break;
    case Event::kStepSkipped:
      ++done_;
      break;
    default:
      break;
  }
}

void Progress::Redraw() {
  std::string line = absl::StrCat("[", done_, "/", total_, " done");
  if (failed_ > 0) absl::StrAppend(&line, ", ", failed_, " failed");
  absl::StrAppend(&line, "]");
  if (!running_.empty()) absl::StrAppend(&line, " running:");
  const absl::Time now = absl::Now();
  for (const auto& [step, started] : running_) {
    absl::StrAppend(&line, " ", step, " ", DurationText(now - started));
  }
  line = TerminalText(line);
  const size_t width = TerminalWidth(out_);
  if (line.size() >= width) line = absl::StrCat(Utf8Prefix(line, width - 4), "...");
  absl::FPrintF(out_, "\r\033[K%s", line);
  std::fflush(out_);
}

void Progress::RedrawLoop() {
  MutexLock lock(&mu_);
  while (!mu_.AwaitWithDeadline([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
                                absl::Now() + kRedrawInterval)) {
    Redraw();
  }
}

}  // namespace chorus::cli
