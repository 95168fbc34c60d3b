#include "workflow/testing/replay_checker.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "event/events.h"
#include "event/internal/mutex.h"
#include "event/internal/status_macros.h"
#include "event/workflow_state.h"
#include "storage/load_state.h"
#include "storage/memory_event_store.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace chorus {
namespace {

// How often a held step looks at its cancellation token.
constexpr absl::Duration kGatePoll = absl::Milliseconds(10);

// Sees which steps run a function, and holds the returns of the steps in `order` so that each
// returns only after the steps before it in `order` have.
class CompletionGate {
 public:
  CompletionGate(std::vector<std::string> order, absl::Duration bound)
      : order_(std::move(order)), bound_(bound) {}

  // Called with a step's name when its function has returned; returns when the step may
  // return too: once the steps before it in the order have, once `cancellation` is
  // cancelled, or after the bound at the latest.
  void AwaitTurn(absl::string_view step, const CancellationToken& cancellation)
      ABSL_LOCKS_EXCLUDED(mu_) {
    auto position = std::find(order_.begin(), order_.end(), step);
    const absl::Span<const std::string> before(order_.data(), position - order_.begin());
    const absl::Time deadline = absl::Now() + bound_;
    MutexLock lock(&mu_);
    const bool first_return = returned_.insert(std::string(step)).second;
    if (position == order_.end() || !first_return) return;
    while (!mu_.AwaitWithDeadline(
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return AllReleased(before); },
        std::min(deadline, absl::Now() + kGatePoll))) {
      if (cancellation.IsCancelled()) break;
      if (absl::Now() >= deadline) {
        late_.push_back(std::string(step));
        break;
      }
    }
    released_.insert(std::string(step));
  }

  // Every step whose function returned.
  std::set<std::string> returned() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return returned_;
  }

  // The steps released by the bound, not by their turn.
  std::vector<std::string> late() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return late_;
  }

 private:
  bool AllReleased(absl::Span<const std::string> steps) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const std::string& step : steps) {
      if (released_.count(step) == 0) return false;
    }
    return true;
  }

  // Constant after construction.
  const std::vector<std::string> order_;
  const absl::Duration bound_;

  mutable Mutex mu_;
  std::set<std::string> returned_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> released_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> late_ ABSL_GUARDED_BY(mu_);
};

// `registry`'s functions for the task steps of `definition`, each passing its return through
// `gate`.
absl::StatusOr<StepRegistry> GatedRegistry(const WorkflowDefinition& definition,
                                           const StepRegistry& registry, CompletionGate& gate) {
  StepRegistry gated;
  for (const StepDefinition& step : definition.steps()) {
    if (step.kind() != STEP_KIND_UNSPECIFIED) continue;
    const StepFunction* function = registry.Find(step.name());
    if (function == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("step '", step.name(), "' has no registered function"));
    }
    CHORUS_RETURN_IF_ERROR(gated.Register(step.name(), [function, &gate](StepContext& context) {
      absl::StatusOr<std::string> result;
      try {
        result = (*function)(context);
      } catch (...) {
        gate.AwaitTurn(context.step(), context.cancellation());
        throw;
      }
      gate.AwaitTurn(context.step(), context.cancellation());
      return result;
    }));
  }
  return gated;
}

// One run's outcome: how the Engine call ended, the state and the history it left.
struct RunOutcome {
  absl::Status run_status;
  absl::Status load_status;  // of reading the state back; OK normally
  WorkflowState state;
  std::vector<Event> history;
};

absl::StatusOr<std::vector<Event>> ReadHistory(EventStore& store, absl::string_view id) {
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(id, 1));
  std::vector<Event> events;
  while (stream->Next()) events.push_back(stream->event());
  CHORUS_RETURN_IF_ERROR(stream->status());
  return events;
}

// Drives workflow `id` on `store`: starts it from `definition`, or resumes what `store` holds
// when `definition` is null.
RunOutcome Drive(EventStore& store, const StepRegistry& registry, const EngineOptions& options,
                 absl::string_view id, const WorkflowDefinition* definition,
                 absl::string_view input) {
  RunOutcome outcome;
  {
    Engine engine(&store, &registry, options);
    outcome.run_status = definition != nullptr ? engine.Run(id, *definition, input).status()
                                               : engine.Resume(id).status();
  }
  absl::StatusOr<WorkflowState> state = LoadWorkflowState(store, id);
  absl::StatusOr<std::vector<Event>> history = ReadHistory(store, id);
  outcome.load_status = state.ok() ? history.status() : state.status();
  if (state.ok()) outcome.state = *std::move(state);
  if (history.ok()) outcome.history = *std::move(history);
  return outcome;
}

// What the reference run shows besides its outcome.
struct Reference {
  RunOutcome outcome;
  std::vector<int64_t> batch_ends;  // the last seq of each committed batch
  // By batch: the steps that ran a function and were started in that batch, in order.
  std::vector<std::vector<std::string>> started_together;
};

absl::StatusOr<Reference> RunReference(const WorkflowDefinition& definition,
                                       const StepRegistry& registry, absl::string_view input,
                                       const ReplayCheckOptions& options) {
  CompletionGate observer({}, absl::ZeroDuration());
  CHORUS_ASSIGN_OR_RETURN(StepRegistry observed, GatedRegistry(definition, registry, observer));
  Reference reference;
  std::vector<std::vector<std::string>> started;
  EngineOptions engine = options.engine;
  engine.on_commit = [&](absl::string_view id, absl::Span<const Event> events) {
    reference.batch_ends.push_back(events.back().seq());
    started.emplace_back();
    for (const Event& event : events) {
      if (event.has_step_started()) started.back().push_back(event.step_started().step());
    }
    if (options.engine.on_commit) options.engine.on_commit(id, events);
  };
  std::unique_ptr<EventStore> store = NewMemoryEventStore();
  reference.outcome = Drive(*store, observed, engine, options.workflow_id, &definition, input);
  const RunOutcome& outcome = reference.outcome;
  if (!outcome.load_status.ok() || outcome.state.status == WORKFLOW_STATUS_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the reference run of workflow '", options.workflow_id,
        "' did not finish: ", outcome.run_status.ToString(), "; ", outcome.load_status.ToString()));
  }
  // Structural steps run no function: their returns cannot be ordered.
  const std::set<std::string> ran_function = observer.returned();
  for (std::vector<std::string>& batch : started) {
    batch.erase(std::remove_if(batch.begin(), batch.end(),
                               [&](const std::string& step) { return !ran_function.count(step); }),
                batch.end());
    reference.started_together.push_back(std::move(batch));
  }
  return reference;
}

std::string StatusText(const absl::Status& status) {
  if (status.ok()) return "OK";
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

// "step_completed at seq 9" for the last event about `step` (the workflow's last event when
// `step` is empty); empty if there is none.
std::string EventAbout(absl::Span<const Event> history, absl::string_view step) {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (step.empty() || StepName(*it) == step) {
      return absl::StrCat(KindName(*it), " at seq ", it->seq());
    }
  }
  return "";
}

// Collects the differences of one scenario.
class Differ {
 public:
  Differ(absl::string_view scenario, const RunOutcome& actual, ReplayReport& report)
      : scenario_(scenario), actual_(actual), report_(report) {}

  void CompareWorkflow(const WorkflowState& expected) {
    std::string status = WorkflowStatus_Name(actual_.state.status);
    if (!actual_.load_status.ok()) {
      status = absl::StrCat("no history: ", StatusText(actual_.load_status));
    } else if (actual_.state.status == WORKFLOW_STATUS_RUNNING) {
      absl::StrAppend(&status, " (the run returned ", StatusText(actual_.run_status), ")");
    }
    Add("", "status", WorkflowStatus_Name(expected.status), status);
    Add("", "failed step", expected.failed_step, actual_.state.failed_step);
    Add("", "error", StatusText(expected.error), StatusText(actual_.state.error));
  }

  void CompareSteps(const WorkflowState& expected) {
    for (const StepState& step : expected.steps) {
      const StepState* found = actual_.state.FindStep(step.name);
      if (found == nullptr) {
        Add(step.name, "status", std::string(StepStatusName(step.status)), "(absent)");
        continue;
      }
      Add(step.name, "status", std::string(StepStatusName(step.status)),
          std::string(StepStatusName(found->status)));
      Add(step.name, "output", step.output, found->output);
      Add(step.name, "error", StatusText(step.error), StatusText(found->error));
    }
    for (const StepState& step : actual_.state.steps) {
      if (expected.FindStep(step.name) == nullptr) {
        Add(step.name, "status", "(absent)", std::string(StepStatusName(step.status)));
      }
    }
  }

 private:
  void Add(const std::string& step, absl::string_view what, const std::string& expected,
           const std::string& actual) {
    if (expected == actual) return;
    report_.differences.push_back({std::string(scenario_), step, std::string(what), expected,
                                   actual, EventAbout(actual_.history, step)});
  }

  const absl::string_view scenario_;
  const RunOutcome& actual_;
  ReplayReport& report_;
};

void Compare(absl::string_view scenario, const WorkflowState& expected, const RunOutcome& actual,
             ReplayReport& report) {
  report.scenarios.push_back(std::string(scenario));
  Differ differ(scenario, actual, report);
  differ.CompareWorkflow(expected);
  differ.CompareSteps(expected);
}

// `ends`, or `max` of them spread evenly, the last always included.
std::vector<int64_t> CrashPoints(const std::vector<int64_t>& ends, int max) {
  if (max <= 0 || ends.size() <= static_cast<size_t>(max)) return ends;
  std::vector<int64_t> points;
  for (int i = 1; i <= max; ++i) points.push_back(ends[(ends.size() - 1) * i / max]);
  return points;
}

void CheckCrashes(const Reference& reference, const StepRegistry& registry,
                  const ReplayCheckOptions& options, ReplayReport& report) {
  const std::vector<Event>& history = reference.outcome.history;
  for (int64_t seq : CrashPoints(reference.batch_ends, options.max_crash_points)) {
    std::unique_ptr<EventStore> store = NewMemoryEventStore();
    const absl::Status copied = store->Append(
        options.workflow_id, 0, absl::MakeConstSpan(history).subspan(0, static_cast<size_t>(seq)));
    RunOutcome outcome;
    if (copied.ok()) {
      outcome = Drive(*store, registry, options.engine, options.workflow_id, nullptr, "");
    } else {
      outcome.load_status = copied;
    }
    Compare(absl::StrCat("crash after seq ", seq), reference.outcome.state, outcome, report);
  }
}

struct Order {
  std::vector<std::string> steps;
  std::string how;  // "reversed", "random, seed 3"
};

// The reversed order of `batch`, then up to `random_orders` distinct random ones.
std::vector<Order> OrdersOf(const std::vector<std::string>& batch, int random_orders,
                            uint32_t seed) {
  std::vector<Order> orders = {{{batch.rbegin(), batch.rend()}, "reversed"}};
  std::mt19937 random(seed);
  for (int tries = 0;
       tries < 10 * random_orders && orders.size() <= static_cast<size_t>(random_orders); ++tries) {
    std::vector<std::string> steps = batch;
    std::shuffle(steps.begin(), steps.end(), random);
    const bool seen = std::any_of(orders.begin(), orders.end(),
                                  [&](const Order& order) { return order.steps == steps; });
    if (!seen) orders.push_back({std::move(steps), absl::StrCat("random, seed ", seed)});
  }
  return orders;
}

absl::Status CheckOrder(const WorkflowDefinition& definition, const StepRegistry& registry,
                        absl::string_view input, const ReplayCheckOptions& options,
                        const WorkflowState& expected, std::string scenario, const Order& order,
                        ReplayReport& report) {
  CompletionGate gate(order.steps, options.order_bound);
  CHORUS_ASSIGN_OR_RETURN(StepRegistry gated, GatedRegistry(definition, registry, gate));
  std::unique_ptr<EventStore> store = NewMemoryEventStore();
  const RunOutcome outcome =
      Drive(*store, gated, options.engine, options.workflow_id, &definition, input);
  const std::vector<std::string> late = gate.late();
  if (!late.empty()) {
    absl::StrAppend(&scenario, "; order not kept: ", absl::StrJoin(late, ", "), " released after ",
                    absl::FormatDuration(options.order_bound));
  }
  Compare(scenario, expected, outcome, report);
  return absl::OkStatus();
}

absl::Status CheckOrders(const WorkflowDefinition& definition, const StepRegistry& registry,
                         absl::string_view input, const ReplayCheckOptions& options,
                         const Reference& reference, ReplayReport& report) {
  int scenarios = 0;
  uint32_t seed = options.seed;
  for (size_t b = 0; b < reference.started_together.size(); ++b) {
    const std::vector<std::string>& batch = reference.started_together[b];
    if (batch.size() < 2) continue;
    for (const Order& order : OrdersOf(batch, options.random_orders, seed++)) {
      if (scenarios++ == options.max_order_scenarios) return absl::OkStatus();
      const std::string scenario =
          absl::StrCat("completion order of batch ", b + 1, " (", absl::StrJoin(batch, ", "),
                       "): ", absl::StrJoin(order.steps, ", "), " (", order.how, ")");
      CHORUS_RETURN_IF_ERROR(CheckOrder(definition, registry, input, options,
                                        reference.outcome.state, scenario, order, report));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string ReplayDifference::ToString() const {
  std::string text = absl::StrCat(scenario, ": ");
  if (step.empty()) {
    absl::StrAppend(&text, "workflow ");
  } else {
    absl::StrAppend(&text, "step '", step, "' ");
  }
  absl::StrAppend(&text, what, ": expected \"", absl::CHexEscape(expected), "\", actual \"",
                  absl::CHexEscape(actual), "\"");
  if (!event.empty()) absl::StrAppend(&text, " (", event, ")");
  return text;
}

std::string ReplayReport::ToString() const {
  std::string text =
      absl::StrCat(differences.size(), differences.size() == 1 ? " difference" : " differences",
                   " in ", scenarios.size(), " scenarios", differences.empty() ? "" : ":");
  for (const ReplayDifference& difference : differences) {
    absl::StrAppend(&text, "\n  ", difference.ToString());
  }
  return text;
}

absl::StatusOr<ReplayReport> CheckReplay(const WorkflowDefinition& definition,
                                         const StepRegistry& registry, absl::string_view input,
                                         const ReplayCheckOptions& options) {
  CHORUS_RETURN_IF_ERROR(ValidateDefinition(definition, &registry));
  CHORUS_ASSIGN_OR_RETURN(const Reference reference,
                          RunReference(definition, registry, input, options));
  ReplayReport report;
  CheckCrashes(reference, registry, options, report);
  CHORUS_RETURN_IF_ERROR(CheckOrders(definition, registry, input, options, reference, report));
  return report;
}

}  // namespace chorus
