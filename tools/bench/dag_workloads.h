// B5: real scientific workflow DAGs, each step a sleep of its recorded runtime scaled down.
//
// Reads every *.json file of BenchConfig::workloads ({"name", "tasks": [{"id", "deps",
// "runtime_s"}]}), makes a definition of its tasks in file order, and scales the runtimes so
// that the DAG's ideal makespan at P = 4 is BenchConfig::b5_seconds. At P = 4 and 16 (threads
// = max_concurrency = P, eager mode, SQLite with durability FULL) it measures the makespan of
// Engine::Run and compares it with the zero-overhead list schedule of the same DAG
// (tools/bench/list_schedule.h): at most 1.05 x. It also reports makespan / max(critical
// path, total work / P). A smoke run takes only the first file. Without the folder, B5 prints
// a line saying it was skipped.
#ifndef CHORUS_TOOLS_BENCH_DAG_WORKLOADS_H_
#define CHORUS_TOOLS_BENCH_DAG_WORKLOADS_H_

#include "absl/status/status.h"
#include "tools/bench/bench_config.h"

namespace chorus::bench {

absl::Status MeasureB5(const BenchConfig& config);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_DAG_WORKLOADS_H_
