// What every measure prints: one JSON object per line ("a measurement line"), with the
// process's peak RSS and, where the measure has a target, how it compares with its bound.
//
//   JsonLine line("B1");
//   line.AddString("workload", "chain").AddInt("steps", 10000).AddNumber("steps_per_s", 512.5);
//   AddRatio(line, "R1", /*bound_value=*/610.2, /*value=*/512.5, /*min_ratio=*/0.8);
//   Emit(line);  // {"id":"B1","workload":"chain",...,"peak_rss_mb":31.2}
//
// Thread-compatible.
#ifndef CHORUS_TOOLS_BENCH_REPORT_H_
#define CHORUS_TOOLS_BENCH_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace chorus::bench {

// One JSON object, its fields in the order they were added.
class JsonLine {
 public:
  // Starts the object with the field "id".
  explicit JsonLine(absl::string_view id);

  JsonLine& AddString(absl::string_view key, absl::string_view value);
  JsonLine& AddInt(absl::string_view key, int64_t value);
  // A value that is not finite (NaN, infinity) is written as null.
  JsonLine& AddNumber(absl::string_view key, double value);
  JsonLine& AddBool(absl::string_view key, bool value);
  JsonLine& AddNull(absl::string_view key);

  // The object on one line, without a line break.
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // key, the value as JSON
};

// Adds the fields "bound" (`bound_id`), "bound_value" (bound_value / bound_divisor),
// "bound_divisor" when it is not 1 (B2 compares with R2 / events per step), "ratio" (value /
// that), "target" (">= min_ratio") and "ok".
void AddRatio(JsonLine& line, absl::string_view bound_id, double bound_value, double value,
              double min_ratio, double bound_divisor = 1);

// Adds "target" and "ok" for a measure judged by its own rule.
void AddTarget(JsonLine& line, absl::string_view target, bool ok);

// The process's peak resident set size so far, in MiB (VmHWM in /proc/self/status).
double PeakRssMb();

// Adds "peak_rss_mb", then prints `line` and a line break to stdout and flushes it.
void Emit(JsonLine& line);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_REPORT_H_
