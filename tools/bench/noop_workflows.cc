#include "tools/bench/noop_workflows.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/internal/status_macros.h"
#include "storage/event_store.h"
#include "storage/forwarding_event_store.h"
#include "storage/memory_event_store.h"
#include "storage/sqlite_event_store.h"
#include "tools/bench/report.h"
#include "tools/bench/sqlite_bounds.h"
#include "workflow/engine.h"
#include "workflow/step_registry.h"

namespace chorus::bench {
namespace {

// Events a step adds to history: its start and its completion.
constexpr double kEventsPerStep = 2;

std::string StepName(int64_t index) { return absl::StrFormat("s%06d", index); }

// s000000 -> s000001 -> ... -> s{steps - 1}.
WorkflowDefinition Chain(int64_t steps) {
  WorkflowDefinition definition;
  definition.set_name("chain");
  for (int64_t i = 0; i < steps; ++i) {
    StepDefinition* step = definition.add_steps();
    step->set_name(StepName(i));
    if (i > 0) step->add_depends_on(StepName(i - 1));
  }
  return definition;
}

// s000000 ... s{steps - 1}, independent, then "join", which depends on all of them.
WorkflowDefinition FanOutAndJoin(int64_t steps) {
  WorkflowDefinition definition;
  definition.set_name("fan-out-join");
  StepDefinition join;
  join.set_name("join");
  for (int64_t i = 0; i < steps; ++i) {
    definition.add_steps()->set_name(StepName(i));
    join.add_depends_on(StepName(i));
  }
  *definition.add_steps() = std::move(join);
  return definition;
}

absl::Status RegisterNoOps(const WorkflowDefinition& definition, StepRegistry& registry) {
  for (const StepDefinition& step : definition.steps()) {
    CHORUS_RETURN_IF_ERROR(registry.Register(
        step.name(), [](const StepContext&) -> absl::StatusOr<std::string> { return ""; }));
  }
  return absl::OkStatus();
}

struct RunStats {
  absl::Duration elapsed;    // the engine's: wall time less the interleaved bound's
  absl::Duration appending;  // of elapsed, the time spent in the store's appends (commits)
  int64_t transactions = 0;  // appended batches, including the workflow's start and end
  int64_t events = 0;
};

// Adds up the time the engine's appends take: as the lease owner, from its driving thread only.
class TimedAppendStore : public ForwardingEventStore {
 public:
  explicit TimedAppendStore(EventStore& store) : ForwardingEventStore(store) {}

  absl::Status AppendAsLeaseOwner(absl::string_view workflow_id, absl::string_view lease_owner_id,
                                  int64_t expected_last_seq,
                                  absl::Span<const Event> events) override {
    const absl::Time start = absl::Now();
    absl::Status appended = ForwardingEventStore::AppendAsLeaseOwner(workflow_id, lease_owner_id,
                                                                     expected_last_seq, events);
    appending_ += absl::Now() - start;
    return appended;
  }
  // Read once the run has ended.
  absl::Duration appending() const { return appending_; }

 private:
  absl::Duration appending_;
};

// Runs `definition` to its end on `store`, counting the batches the engine appends. With a
// `bound`, each of the engine's commits is followed, in the driving thread before the engine
// goes on, by one raw transaction of `bound_rows` rows, whose time elapsed leaves out: the
// bound and the engine then see the disk at the same moments.
absl::StatusOr<RunStats> RunNoOps(EventStore& store, const WorkflowDefinition& definition,
                                  EngineOptions options, RawAppender* bound = nullptr,
                                  int64_t bound_rows = 0) {
  StepRegistry registry;
  CHORUS_RETURN_IF_ERROR(RegisterNoOps(definition, registry));
  RunStats stats;
  absl::Status bound_status;
  options.on_commit = [&](absl::string_view, absl::Span<const Event> events) {
    ++stats.transactions;
    stats.events += static_cast<int64_t>(events.size());
    if (bound != nullptr && bound_status.ok()) {
      bound_status = bound->AppendTransaction(bound_rows);
    }
  };
  TimedAppendStore timed(store);
  Engine engine(&timed, &registry, options);
  const absl::Time start = absl::Now();
  CHORUS_RETURN_IF_ERROR(engine.Run(definition.name(), definition, "").status());
  stats.elapsed = absl::Now() - start;
  stats.appending = timed.appending();
  CHORUS_RETURN_IF_ERROR(bound_status);
  if (bound != nullptr) stats.elapsed -= bound->elapsed();
  return stats;
}

// A run on SQLite (durability FULL) with its bound interleaved.
struct DurableRun {
  RunStats stats;
  double bound_rows_per_s = 0;
  int64_t bound_transactions = 0;
  absl::Duration bound_elapsed;
};

absl::StatusOr<DurableRun> RunDurably(const BenchConfig& config, absl::string_view id,
                                      const WorkflowDefinition& definition,
                                      const EngineOptions& options,
                                      int64_t bound_rows_per_transaction) {
  CHORUS_ASSIGN_OR_RETURN(const std::string path, config.FreshDatabase(absl::StrCat(id, ".db")));
  CHORUS_ASSIGN_OR_RETURN(const std::string bound_path,
                          config.FreshDatabase(absl::StrCat(id, "-bound.db")));
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store,
                          OpenSqliteEventStore(path, SqliteOptions()));
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<RawAppender> bound, RawAppender::Create(bound_path));
  DurableRun run;
  CHORUS_ASSIGN_OR_RETURN(
      run.stats, RunNoOps(*store, definition, options, bound.get(), bound_rows_per_transaction));
  run.bound_rows_per_s = bound->RowsPerSecond();
  run.bound_transactions = bound->transactions();
  run.bound_elapsed = bound->elapsed();
  return run;
}

// The fields every run reports; returns steps per second.
double AddRunFields(JsonLine& line, const WorkflowDefinition& definition,
                    const EngineOptions& options, const RunStats& stats) {
  const int64_t steps = definition.steps_size();
  const double seconds = absl::ToDoubleSeconds(stats.elapsed);
  line.AddString("workload", definition.name()).AddInt("steps", steps);
  line.AddInt("threads", options.threads).AddInt("max_concurrency", options.max_concurrency);
  line.AddNumber("seconds", seconds).AddNumber("steps_per_s", steps / seconds);
  line.AddInt("transactions", stats.transactions).AddInt("events", stats.events);
  return steps / seconds;
}

// Where a durable run's time went, per transaction: the store's append (its commit included)
// against the raw bound's transaction, and the engine's own time besides its appends.
void AddCommitFields(JsonLine& line, const DurableRun& run) {
  const RunStats& stats = run.stats;
  line.AddNumber("append_us", absl::ToDoubleMicroseconds(stats.appending) / stats.transactions);
  line.AddNumber("bound_us",
                 absl::ToDoubleMicroseconds(run.bound_elapsed) / run.bound_transactions);
  line.AddNumber("engine_us",
                 absl::ToDoubleMicroseconds(stats.elapsed - stats.appending) / stats.transactions);
}

EngineOptions FanOutOptions(const BenchConfig& config) {
  EngineOptions options;
  options.max_concurrency = config.concurrency;
  return options;
}

}  // namespace

absl::Status MeasureB1(const BenchConfig& config) {
  const WorkflowDefinition definition = Chain(config.SizeOr(10000, 200));
  const EngineOptions options;
  CHORUS_ASSIGN_OR_RETURN(const DurableRun run,
                          RunDurably(config, "B1", definition, options, kR1RowsPerTransaction));
  JsonLine line("B1");
  const double steps_per_s = AddRunFields(line, definition, options, run.stats);
  AddCommitFields(line, run);
  line.AddInt("bound_transactions", run.bound_transactions).AddString("metric", "steps_per_s");
  AddRatio(line, "R1", run.bound_rows_per_s, steps_per_s, 0.8);
  Emit(line);
  return absl::OkStatus();
}

absl::Status MeasureB2(const BenchConfig& config) {
  const WorkflowDefinition definition = FanOutAndJoin(config.SizeOr(10000, 500));
  const EngineOptions options = FanOutOptions(config);
  CHORUS_ASSIGN_OR_RETURN(const DurableRun run,
                          RunDurably(config, "B2", definition, options, kR2RowsPerTransaction));
  JsonLine line("B2");
  const double steps_per_s = AddRunFields(line, definition, options, run.stats);
  line.AddNumber("events_per_transaction",
                 static_cast<double>(run.stats.events) / run.stats.transactions);
  AddCommitFields(line, run);
  line.AddInt("bound_transactions", run.bound_transactions).AddString("metric", "steps_per_s");
  AddRatio(line, "R2", run.bound_rows_per_s, steps_per_s, 0.4, kEventsPerStep);
  Emit(line);
  return absl::OkStatus();
}

absl::Status MeasureB6(const BenchConfig& config) {
  const WorkflowDefinition definition = FanOutAndJoin(config.SizeOr(100000, 2000));
  std::unique_ptr<EventStore> store = NewMemoryEventStore();
  const EngineOptions options = FanOutOptions(config);
  CHORUS_ASSIGN_OR_RETURN(const RunStats stats, RunNoOps(*store, definition, options));
  JsonLine line("B6");
  AddRunFields(line, definition, options, stats);
  line.AddNumber("us_per_step",
                 absl::ToDoubleMicroseconds(stats.elapsed) / definition.steps_size());
  line.AddString("metric", "us_per_step");
  Emit(line);
  return absl::OkStatus();
}

}  // namespace chorus::bench
