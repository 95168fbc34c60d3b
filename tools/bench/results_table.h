// The human table of a run's measurement lines.
//
//   CHORUS_ASSIGN_OR_RETURN(std::vector<google::protobuf::Struct> lines,
//                           ReadMeasurementLines("build/bench/results.jsonl"));
//   std::cout << FormatTable(lines);
#ifndef CHORUS_TOOLS_BENCH_RESULTS_TABLE_H_
#define CHORUS_TOOLS_BENCH_RESULTS_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "google/protobuf/struct.pb.h"

namespace chorus::bench {

// The JSON objects of the file at `path`, one per non-empty line. A missing file holds none.
// InvalidArgument (naming the line) for a line that is not a JSON object.
absl::StatusOr<std::vector<google::protobuf::Struct>> ReadMeasurementLines(const std::string& path);

// A table with a row per line: measure, workload, value (of the field "metric" names), bound,
// ratio, target, ok, peak RSS.
std::string FormatTable(absl::Span<const google::protobuf::Struct> lines);

}  // namespace chorus::bench

#endif  // CHORUS_TOOLS_BENCH_RESULTS_TABLE_H_
