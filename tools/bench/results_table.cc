#include "tools/bench/results_table.h"

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"

namespace chorus::bench {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kRowFormat[] = "%-8s %-44s %-32s %-20s %-7s %-27s %-4s %7s\n";

const Value* Find(const Struct& line, const std::string& key) {
  const auto it = line.fields().find(key);
  return it == line.fields().end() ? nullptr : &it->second;
}

// Numbers with 4 significant digits, large ones whole; "-" when absent or null.
std::string FormatNumber(const Value* value) {
  if (value == nullptr || value->kind_case() != Value::kNumberValue) return "-";
  const double number = value->number_value();
  if (std::fabs(number) >= 1000) return absl::StrFormat("%.0f", number);
  return absl::StrFormat("%.4g", number);
}

std::string Text(const Struct& line, const std::string& key) {
  const Value* value = Find(line, key);
  if (value == nullptr) return "-";
  switch (value->kind_case()) {
    case Value::kStringValue:
      return value->string_value();
    case Value::kBoolValue:
      return value->bool_value() ? "yes" : "NO";
    case Value::kNumberValue:
      return FormatNumber(value);
    default:
      return "-";
  }
}

std::string FormatRow(const Struct& line) {
  const std::string id = Text(line, "id");
  if (Text(line, "skipped") == "yes") {
    return absl::StrFormat(kRowFormat, id, "skipped: " + Text(line, "reason"), "", "", "", "", "",
                           "");
  }
  const std::string metric = Text(line, "metric");
  const std::string value = absl::StrCat(metric, " ", FormatNumber(Find(line, metric)));
  std::string bound = "-";
  if (Find(line, "bound") != nullptr) {
    bound = absl::StrCat(Text(line, "bound"), " ", FormatNumber(Find(line, "bound_value")));
  }
  return absl::StrFormat(kRowFormat, id, Text(line, "workload"), value, bound,
                         FormatNumber(Find(line, "ratio")), Text(line, "target"), Text(line, "ok"),
                         FormatNumber(Find(line, "peak_rss_mb")));
}

}  // namespace

absl::StatusOr<std::vector<Struct>> ReadMeasurementLines(const std::string& path) {
  std::vector<Struct> lines;
  std::ifstream file(path);
  std::string text;
  for (int number = 1; std::getline(file, text); ++number) {
    if (text.empty()) continue;
    Struct& line = lines.emplace_back();
    if (!google::protobuf::util::JsonStringToMessage(text, &line).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": not a JSON object: ", text));
    }
  }
  return lines;
}

std::string FormatTable(absl::Span<const Struct> lines) {
  std::string table = absl::StrFormat(kRowFormat, "measure", "workload", "value", "bound", "ratio",
                                      "target", "ok", "RSS MB");
  for (const Struct& line : lines) table += FormatRow(line);
  return table;
}

}  // namespace chorus::bench
