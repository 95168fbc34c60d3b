// BenchConfig: what the command line tells every measure.
#ifndef CHORUS_TOOLS_BENCH_BENCH_CONFIG_H_
#define CHORUS_TOOLS_BENCH_BENCH_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chorus::bench {

struct BenchConfig {
  // Where the measure puts its database files.
  std::string dir;
  // The measure's size (rows, steps or events); 0 for its default.
  int64_t size = 0;
  // Tiny default sizes, so that every measure ends within seconds.
  bool smoke = false;
  // The folder of B5's DAG files.
  std::string workloads;
  // B5 scales each DAG so that its ideal makespan at P = 4 takes this long.
  double b5_seconds = 15;
  // B5's store waits for the disk at each commit (durability FULL) instead of only for the OS
  // (NORMAL, the default: B5 measures scheduling, and B1 and B2 the durable commit).
  bool b5_full_durability = false;
  // How many steps B2 and B6 let run at once (EngineOptions::max_concurrency).
  int concurrency = 32;

  // `size` when it is set, otherwise `smoke_size` or `full_size`.
  int64_t SizeOr(int64_t full_size, int64_t smoke_size) const {
    if (size > 0) return size;
    return smoke ? smoke_size : full_size;
  }

  // The path of database `file` in `dir`, with whatever an earlier run left there (the file,
  // its -wal and -shm) removed: a measure starts from an empty database.
  absl::StatusOr<std::string> FreshDatabase(absl::string_view file) const;
};

// Removes the database at `path` with its -wal and -shm, whichever exist.
absl::Status RemoveDatabase(const std::string& path);

// A measure: prints its measurement lines, or returns why it could not.
using Measure = absl::Status (*)(const BenchConfig& config);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_BENCH_CONFIG_H_
