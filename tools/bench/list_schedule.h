// The ideal schedule B5 compares the engine with: list scheduling with zero overhead.
//
// P workers; whenever a worker is free, it starts the first ready task in definition order
// (the engine's order); a task is ready once every task it depends on has finished. Tasks
// that finish at the same instant free their workers and dependents together.
//
//   TimedDag dag = ...;  // durations and dependencies, in definition order
//   absl::Duration ideal = ListScheduleMakespan(dag, 4);
//   absl::Duration lower = std::max(CriticalPath(dag), TotalWork(dag) / 4);
//
// Thread-compatible.
#ifndef CHORUS_TOOLS_BENCH_LIST_SCHEDULE_H_
#define CHORUS_TOOLS_BENCH_LIST_SCHEDULE_H_

#include <vector>

#include "absl/time/time.h"

namespace chorus::bench {

// Tasks in definition order: each one's duration and the indices of the tasks it depends on.
// REQUIRES (of every function below): the dependencies are valid indices and form no cycle.
struct TimedDag {
  std::vector<absl::Duration> durations;
  std::vector<std::vector<int>> dependencies;
};

// `dag` with every duration multiplied by `scale`.
TimedDag Scaled(const TimedDag& dag, double scale);

// The makespan of the zero-overhead list schedule on `workers` workers. REQUIRES: workers >= 1.
absl::Duration ListScheduleMakespan(const TimedDag& dag, int workers);

// The longest path through the DAG, by summed durations.
absl::Duration CriticalPath(const TimedDag& dag);

// The sum of all durations.
absl::Duration TotalWork(const TimedDag& dag);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_LIST_SCHEDULE_H_
