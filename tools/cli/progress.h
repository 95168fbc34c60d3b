// Progress: what `chorus run` and `chorus resume` show while a workflow runs.
//
// On a terminal, one live line kept up to date (done/total, failures, and the running steps
// with their elapsed time), redrawn by a thread of its own a few times a second. Elsewhere
// (a pipe, a file, CI), one plain line per recorded event. Fed by the engine's commit
// observer (EngineOptions::on_commit). Thread-safe.
#ifndef CHORUS_TOOLS_CLI_PROGRESS_H_
#define CHORUS_TOOLS_CLI_PROGRESS_H_

#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/internal/mutex.h"
#include "event/workflow_state.h"
#include "proto/event.pb.h"

namespace chorus::cli {

class Progress {
 public:
  // Reports on `out` (not owned; must outlive this) for a workflow whose recorded state so far
  // is `recorded`. `live` chooses the live line over plain lines.
  Progress(std::FILE* out, bool live, const WorkflowState& recorded);
  // Stops redrawing and ends the live line.
  ~Progress() ABSL_LOCKS_EXCLUDED(mu_);

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void OnEvents(absl::Span<const Event> events) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Apply(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Redraw() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RedrawLoop() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  std::FILE* const out_;
  const bool live_;

  Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_) = 0;  // steps, and instances of map steps once expanded
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_ ABSL_GUARDED_BY(mu_) = 0;  // for good: a failure to be retried is not counted
  std::map<std::string, absl::Time> running_ ABSL_GUARDED_BY(mu_);  // step -> started at
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread redraw_thread_;  // only when live_
};

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_PROGRESS_H_
