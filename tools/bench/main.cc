// chorus_bench: runs one measure of Chorus's benchmark suite, or prints a run's table.
// tools/bench/README.md describes the measures; tools/bench/run.sh runs them all.
//
//   chorus_bench --measure=B1 --dir=DIR [--size=N] [--smoke]
//   chorus_bench --table=results.jsonl
#include <iostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "event/internal/status_macros.h"
#include "tools/bench/bench_config.h"
#include "tools/bench/dag_workloads.h"
#include "tools/bench/history_measures.h"
#include "tools/bench/noop_workflows.h"
#include "tools/bench/results_table.h"
#include "tools/bench/sqlite_bounds.h"

ABSL_FLAG(std::string, measure, "", "the measure to run: R1, R2, R3, B1 ... B6");
ABSL_FLAG(std::string, dir, "", "the folder for the measure's databases (not /dev/shm)");
ABSL_FLAG(int64_t, size, 0, "rows, steps or events; 0 for the measure's default");
ABSL_FLAG(bool, smoke, false, "tiny default sizes: every measure ends within seconds");
ABSL_FLAG(std::string, workloads, "", "B5: the folder of DAG files (JSON)");
ABSL_FLAG(double, b5_seconds, 15, "B5: the ideal makespan at P = 4 of each scaled DAG");
ABSL_FLAG(std::string, b5_durability, "normal",
          "B5: the store's durability, normal (survives the process) or full (the machine)");
ABSL_FLAG(int, concurrency, 32, "B2, B6: steps in flight (EngineOptions::max_concurrency)");
ABSL_FLAG(std::string, table, "", "print the table of the measurement lines in this file");

namespace chorus::bench {
namespace {

const absl::flat_hash_map<std::string, Measure>& Measures() {
  static const auto* measures = new absl::flat_hash_map<std::string, Measure>{
      {"R1", MeasureR1}, {"R2", MeasureR2}, {"R3", MeasureR3}, {"B1", MeasureB1}, {"B2", MeasureB2},
      {"B3", MeasureB3}, {"B4", MeasureB4}, {"B5", MeasureB5}, {"B6", MeasureB6}};
  return *measures;
}

absl::Status PrintTable(const std::string& path) {
  CHORUS_ASSIGN_OR_RETURN(const std::vector<google::protobuf::Struct> lines,
                          ReadMeasurementLines(path));
  std::cout << FormatTable(lines);
  return absl::OkStatus();
}

absl::StatusOr<BenchConfig> ConfigFromFlags() {
  BenchConfig config;
  config.dir = absl::GetFlag(FLAGS_dir);
  if (config.dir.empty()) return absl::InvalidArgumentError("--dir is required");
  config.size = absl::GetFlag(FLAGS_size);
  config.smoke = absl::GetFlag(FLAGS_smoke);
  config.workloads = absl::GetFlag(FLAGS_workloads);
  config.b5_seconds = absl::GetFlag(FLAGS_smoke) ? 0.5 : absl::GetFlag(FLAGS_b5_seconds);
  config.concurrency = absl::GetFlag(FLAGS_concurrency);
  const std::string durability = absl::GetFlag(FLAGS_b5_durability);
  if (durability != "normal" && durability != "full") {
    return absl::InvalidArgumentError(
        absl::StrCat("--b5_durability must be normal or full, not '", durability, "'"));
  }
  config.b5_full_durability = durability == "full";
  return config;
}

absl::Status RunMeasure(const std::string& id) {
  const auto measure = Measures().find(id);
  if (measure == Measures().end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown --measure '", id, "'"));
  }
  CHORUS_ASSIGN_OR_RETURN(const BenchConfig config, ConfigFromFlags());
  return measure->second(config);
}

}  // namespace
}  // namespace chorus::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Chorus benchmarks. --measure=ID --dir=DIR runs one measure; --table=FILE prints a "
      "run's table. See tools/bench/README.md.");
  absl::ParseCommandLine(argc, argv);
  const std::string table = absl::GetFlag(FLAGS_table);
  const absl::Status status = table.empty()
                                  ? chorus::bench::RunMeasure(absl::GetFlag(FLAGS_measure))
                                  : chorus::bench::PrintTable(table);
  if (!status.ok()) {
    std::cerr << "chorus_bench: " << status << "\n";
    return 1;
  }
  return 0;
}
