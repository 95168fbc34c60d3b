#include "tools/bench/dag_workloads.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/internal/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "storage/sqlite_event_store.h"
#include "tools/bench/list_schedule.h"
#include "tools/bench/report.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace chorus::bench {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr double kMaxRatio = 1.05;
constexpr int kParallelisms[] = {4, 16};

// A DAG file: its tasks as a definition, and their recorded runtimes.
struct DagWorkload {
  std::string name;
  WorkflowDefinition definition;
  TimedDag dag;  // unscaled, in definition order
};

absl::StatusOr<std::vector<std::string>> DagFiles(const std::string& folder, bool smoke) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  if (error) return absl::NotFoundError(absl::StrCat(folder, ": ", error.message()));
  std::sort(files.begin(), files.end());
  if (smoke && !files.empty()) files.resize(1);
  return files;
}

absl::StatusOr<Struct> ReadJson(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  Struct json;
  const auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), &json);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parsed.message().ToString()));
  }
  return json;
}

const Value* Field(const Struct& object, const std::string& key, Value::KindCase kind) {
  const auto it = object.fields().find(key);
  if (it == object.fields().end() || it->second.kind_case() != kind) return nullptr;
  return &it->second;
}

// Adds task `task` (a JSON object) to `workload` as a step.
absl::Status AddTask(const Value& task, DagWorkload& workload) {
  const Value* id = nullptr;
  const Value* deps = nullptr;
  const Value* runtime = nullptr;
  if (task.kind_case() == Value::kStructValue) {
    id = Field(task.struct_value(), "id", Value::kStringValue);
    deps = Field(task.struct_value(), "deps", Value::kListValue);
    runtime = Field(task.struct_value(), "runtime_s", Value::kNumberValue);
  }
  if (id == nullptr || deps == nullptr || runtime == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("task #", workload.definition.steps_size() + 1,
                                                   " lacks id, deps or runtime_s"));
  }
  StepDefinition* step = workload.definition.add_steps();
  step->set_name(id->string_value());
  for (const Value& dep : deps->list_value().values()) step->add_depends_on(dep.string_value());
  workload.dag.durations.push_back(absl::Seconds(runtime->number_value()));
  return absl::OkStatus();
}

// Resolves the dependencies by name. REQUIRES: the definition is valid.
void IndexDependencies(DagWorkload& workload) {
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < workload.definition.steps_size(); ++i) {
    index.emplace(workload.definition.steps(i).name(), i);
  }
  for (const StepDefinition& step : workload.definition.steps()) {
    std::vector<int>& dependencies = workload.dag.dependencies.emplace_back();
    for (const std::string& dep : step.depends_on()) dependencies.push_back(index.at(dep));
  }
}

absl::StatusOr<DagWorkload> LoadDag(const std::string& path) {
  CHORUS_ASSIGN_OR_RETURN(const Struct json, ReadJson(path));
  const Value* name = Field(json, "name", Value::kStringValue);
  const Value* tasks = Field(json, "tasks", Value::kListValue);
  if (name == nullptr || tasks == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no \"name\" or \"tasks\""));
  }
  DagWorkload workload;
  workload.name = name->string_value();
  workload.definition.set_name(workload.name);
  for (const Value& task : tasks->list_value().values()) {
    const absl::Status added = AddTask(task, workload);
    if (!added.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", added.message()));
  }
  CHORUS_RETURN_IF_ERROR(ValidateDefinition(workload.definition, /*registry=*/nullptr));
  IndexDependencies(workload);
  return workload;
}

// Registers, for each step, a function that waits its scaled runtime.
absl::Status RegisterSleeps(const WorkflowDefinition& definition, const TimedDag& scaled,
                            StepRegistry& registry) {
  for (int i = 0; i < definition.steps_size(); ++i) {
    const absl::Duration runtime = scaled.durations[i];
    CHORUS_RETURN_IF_ERROR(
        registry.Register(definition.steps(i).name(),
                          [runtime](const StepContext& context) -> absl::StatusOr<std::string> {
                            if (context.cancellation().WaitFor(runtime))
                              return absl::CancelledError("cancelled");
                            return "";
                          }));
  }
  return absl::OkStatus();
}

struct EngineRun {
  absl::Duration makespan;
  int64_t transactions = 0;
};

// Runs the workload on a new SQLite store at parallelism `p`.
absl::StatusOr<EngineRun> RunOnEngine(const BenchConfig& config, const DagWorkload& workload,
                                      const TimedDag& scaled, int p) {
  StepRegistry registry;
  CHORUS_RETURN_IF_ERROR(RegisterSleeps(workload.definition, scaled, registry));
  const std::string id = absl::StrCat("B5-", workload.name, "-p", p);
  SqliteOptions store_options;
  store_options.durability = config.b5_full_durability ? SqliteOptions::Durability::kFull
                                                       : SqliteOptions::Durability::kNormal;
  CHORUS_ASSIGN_OR_RETURN(const std::string path, config.FreshDatabase(absl::StrCat(id, ".db")));
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
                          OpenSqliteEventStore(path, store_options));
  EngineRun run;
  EngineOptions options;
  options.threads = p;
  options.max_concurrency = p;
  options.mode = ScheduleMode::kEager;
  options.on_commit = [&run](absl::string_view, absl::Span<const Event>) { ++run.transactions; };
  Engine engine(store.get(), &registry, options);
  const absl::Time start = absl::Now();
  CHORUS_RETURN_IF_ERROR(engine.Run(id, workload.definition, "").status());
  run.makespan = absl::Now() - start;
  return run;
}

absl::Status MeasureAt(const BenchConfig& config, const DagWorkload& workload, double scale,
                       int p) {
  const TimedDag scaled = Scaled(workload.dag, scale);
  const absl::Duration ideal = ListScheduleMakespan(scaled, p);
  const absl::Duration critical_path = CriticalPath(scaled);
  const absl::Duration total_work = TotalWork(scaled);
  const absl::Duration lower_bound = std::max(critical_path, total_work / p);
  CHORUS_ASSIGN_OR_RETURN(const EngineRun run, RunOnEngine(config, workload, scaled, p));
  const double ratio = absl::FDivDuration(run.makespan, ideal);
  JsonLine line("B5");
  line.AddString("workload", absl::StrCat(workload.name, " P=", p)).AddInt("P", p);
  line.AddInt("steps", workload.definition.steps_size()).AddNumber("scale", scale);
  line.AddString("durability", config.b5_full_durability ? "full" : "normal");
  line.AddNumber("makespan_s", absl::ToDoubleSeconds(run.makespan));
  line.AddInt("transactions", run.transactions).AddString("metric", "makespan_s");
  line.AddString("bound", "ideal").AddNumber("bound_value", absl::ToDoubleSeconds(ideal));
  line.AddNumber("ratio", ratio);
  AddTarget(line, absl::StrFormat("<= %g", kMaxRatio), ratio <= kMaxRatio);
  line.AddNumber("critical_path_s", absl::ToDoubleSeconds(critical_path));
  line.AddNumber("total_work_s", absl::ToDoubleSeconds(total_work));
  line.AddNumber("lower_bound_s", absl::ToDoubleSeconds(lower_bound));
  line.AddNumber("lower_bound_ratio", absl::FDivDuration(run.makespan, lower_bound));
  Emit(line);
  return absl::OkStatus();
}

absl::Status MeasureDag(const BenchConfig& config, const std::string& path) {
  CHORUS_ASSIGN_OR_RETURN(const DagWorkload workload, LoadDag(path));
  const double scale =
      config.b5_seconds / absl::ToDoubleSeconds(ListScheduleMakespan(workload.dag, 4));
  for (int p : kParallelisms) CHORUS_RETURN_IF_ERROR(MeasureAt(config, workload, scale, p));
  return absl::OkStatus();
}

}  // namespace

absl::Status MeasureB5(const BenchConfig& config) {
  if (config.workloads.empty() || !std::filesystem::is_directory(config.workloads)) {
    JsonLine line("B5");
    line.AddBool("skipped", true);
    line.AddString("reason", absl::StrCat("no workload folder '", config.workloads, "'"));
    Emit(line);
    return absl::OkStatus();
  }
  CHORUS_ASSIGN_OR_RETURN(const std::vector<std::string> files,
                          DagFiles(config.workloads, config.smoke));
  for (const std::string& path : files) CHORUS_RETURN_IF_ERROR(MeasureDag(config, path));
  return absl::OkStatus();
}

}  // namespace chorus::bench
