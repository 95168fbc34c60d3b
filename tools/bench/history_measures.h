// B3 and B4: reading back a long history (tools/bench/history_file.h, 1,000,000 events).
//
//   B3  folds the history from SQLite into a WorkflowState (LoadWorkflowState): events/s, at
//       least 0.3 x R3; the fastest of three folds;
//   B4  resumes the workflow (Engine::Resume on a copy of the file): the time from opening the
//       store to the start of the first new step's function (collect's second attempt), under
//       0.5 s, with a peak RSS under 300 MB. The registry of 500,000 step functions is filled
//       before the clock starts (it is the embedding program's own start-up); its time and the
//       peak RSS it reached are reported apart. Fails if a completed step runs again.
#ifndef CHORUS_TOOLS_BENCH_HISTORY_MEASURES_H_
#define CHORUS_TOOLS_BENCH_HISTORY_MEASURES_H_

#include "absl/status/status.h"
#include "tools/bench/bench_config.h"

namespace chorus::bench {

absl::Status MeasureB3(const BenchConfig& config);
absl::Status MeasureB4(const BenchConfig& config);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_HISTORY_MEASURES_H_
