// B1, B2 and B6: the engine's overhead on workflows of no-op steps.
//
//   B1  a chain of 10,000 steps on SQLite (durability FULL): steps/s, at least 0.8 x R1, since
//       each chained step needs one commit;
//   B2  10,000 independent steps plus a join on SQLite (FULL), eager mode, with
//       BenchConfig::concurrency steps in flight: steps/s, at least 0.4 x R2 / (events per
//       step); also the number of transactions used;
//   B6  100,000 independent steps plus a join in the memory store: microseconds per step,
//       the scheduling overhead alone (no target).
//
// B1 and B2 measure their bound alongside themselves: after each of the engine's commits, in
// the driving thread (EngineOptions::on_commit) and before the engine goes on, one raw
// transaction like R1's (B1) or R2's (B2) goes to a database of its own on the same disk. Its
// time is left out of the engine's, and gives the bound: both see the disk at the same
// moments, although its speed changes a hundredfold from one second to the next.
#ifndef CHORUS_TOOLS_BENCH_NOOP_WORKFLOWS_H_
#define CHORUS_TOOLS_BENCH_NOOP_WORKFLOWS_H_

#include "absl/status/status.h"
#include "tools/bench/bench_config.h"

namespace chorus::bench {

absl::Status MeasureB1(const BenchConfig& config);
absl::Status MeasureB2(const BenchConfig& config);
absl::Status MeasureB6(const BenchConfig& config);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_NOOP_WORKFLOWS_H_
