#include "tools/bench/report.h"

#include <cmath>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "event/state.h"
#include "proto/workflow_definition.pb.h"

namespace chorus::bench {
namespace {

// A JSON string, quoted as the workflow state's text values are.
std::string Quote(absl::string_view text) {
  Value value;
  value.set_text(std::string(text));
  return ValueToJson(value);
}

}  // namespace

JsonLine::JsonLine(absl::string_view id) { AddString("id", id); }

JsonLine& JsonLine::AddString(absl::string_view key, absl::string_view value) {
  fields_.emplace_back(std::string(key), Quote(value));
  return *this;
}

JsonLine& JsonLine::AddInt(absl::string_view key, int64_t value) {
  fields_.emplace_back(std::string(key), absl::StrCat(value));
  return *this;
}

JsonLine& JsonLine::AddNumber(absl::string_view key, double value) {
  if (!std::isfinite(value)) return AddNull(key);
  fields_.emplace_back(std::string(key), absl::StrFormat("%.6g", value));
  return *this;
}

JsonLine& JsonLine::AddBool(absl::string_view key, bool value) {
  fields_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}

JsonLine& JsonLine::AddNull(absl::string_view key) {
  fields_.emplace_back(std::string(key), "null");
  return *this;
}

std::string JsonLine::ToString() const {
  std::string json = "{";
  for (const auto& [key, value] : fields_) {
    if (json.size() > 1) json.push_back(',');
    absl::StrAppend(&json, Quote(key), ":", value);
  }
  json.push_back('}');
  return json;
}

void AddRatio(JsonLine& line, absl::string_view bound_id, double bound_value, double value,
              double min_ratio, double bound_divisor) {
  const double divided = bound_value / bound_divisor;
  const double ratio = value / divided;
  line.AddString("bound", bound_id).AddNumber("bound_value", divided);
  if (bound_divisor != 1) line.AddNumber("bound_divisor", bound_divisor);
  line.AddNumber("ratio", ratio);
  AddTarget(line, absl::StrFormat(">= %g", min_ratio), ratio >= min_ratio);
}

void AddTarget(JsonLine& line, absl::string_view target, bool ok) {
  line.AddString("target", target).AddBool("ok", ok);
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string text;
  while (std::getline(status, text)) {
    absl::string_view field = text;
    if (!absl::ConsumePrefix(&field, "VmHWM:")) continue;
    absl::ConsumeSuffix(&field, "kB");
    int64_t kib = 0;
    if (absl::SimpleAtoi(field, &kib)) return kib / 1024.0;
  }
  return std::nan("");
}

void Emit(JsonLine& line) {
  line.AddNumber("peak_rss_mb", PeakRssMb());
  std::cout << line.ToString() << std::endl;
}

}  // namespace chorus::bench
