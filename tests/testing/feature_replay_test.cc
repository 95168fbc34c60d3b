// Every data-flow feature survives a crash after any committed batch, and any completion order
// of concurrent steps, with the same outcome: CheckReplay on one workflow per feature.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "storage/memory_event_store.h"
#include "workflow/engine.h"
#include "workflow/testing/replay_checker.h"

namespace chorus {
namespace {

WorkflowDefinition Parse(const std::string& text) {
  WorkflowDefinition definition;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &definition)) << text;
  return definition;
}

absl::StatusOr<std::string> Echo(StepContext& context) {
  return absl::StrCat(context.step(), ":", context.map_item());
}

// Each step adds its name to "log" (append), 1 to "count" (sum), and sets "last".
absl::StatusOr<std::string> Recording(StepContext& context) {
  Value name;
  name.set_text(std::string(context.step()));
  Value one;
  one.set_number(1);
  for (auto [key, value] :
       {std::make_pair("log", name), std::make_pair("count", one), std::make_pair("last", name)}) {
    if (absl::Status updated = context.UpdateState(key, value); !updated.ok()) return updated;
  }
  return absl::StrCat(context.state().size());
}

absl::StatusOr<std::string> FailsOnFirstAttempt(StepContext& context) {
  if (context.attempt() == 1) return absl::UnavailableError("first attempt fails");
  return std::string("recovered");
}

absl::StatusOr<std::string> AlwaysFails(StepContext&) {
  return absl::InternalError("always fails");
}

absl::StatusOr<std::string> Costly(StepContext& context) {
  context.AddCost(4);
  return std::string("spent");
}

// The step's name and its visit: a step that runs more visits gives another output.
std::string Visited(const StepContext& context) {
  return absl::StrCat(context.step(), "@", context.visit());
}

// Adds 1 to "count" (sum) and returns the visit and the count this visit saw.
absl::StatusOr<std::string> Counting(StepContext& context) {
  Value one;
  one.set_number(1);
  if (absl::Status updated = context.UpdateState("count", one); !updated.ok()) return updated;
  auto seen = context.state().find("count");
  return absl::StrCat(Visited(context), " saw ",
                      seen == context.state().end() ? -1 : seen->second.number());
}

struct Feature {
  const char* name;
  const char* definition;
  StepFunction function;  // registered for every task step
  // How CheckReplay drives the runs; eager unless set.
  ScheduleMode mode = ScheduleMode::kEager;
  // If not empty, what an uninterrupted run ends with, by step (Outcome): the reference that
  // CheckReplay compares the scenarios with must be right too.
  std::map<std::string, std::string> expected = {};
};

// A step's outcome: its output when completed, else its status (and error).
std::string Outcome(const StepState& step) {
  switch (step.status) {
    case StepStatus::kCompleted:
      return step.output;
    case StepStatus::kFailed:
      return absl::StrCat("failed: ", step.error.message());
    default:
      return std::string(StepStatusName(step.status));
  }
}

TEST(FeatureReplay, EveryFeatureGivesTheSameOutcomeAfterACrashAndInAnyOrder) {
  const Feature features[] = {
      {"state", R"pb(
         name: "state"
         state { name: "log" reducer: REDUCER_APPEND }
         state {
           name: "count"
           reducer: REDUCER_SUM
           initial { number: 0 }
         }
         steps { name: "a" }
         steps { name: "b" }
         steps {
           name: "c"
           depends_on: [ "a", "b" ]
         }
       )pb",
       Recording},
      {"map", R"pb(
         name: "map"
         steps { name: "list" }
         steps { name: "each" depends_on: "list" map_over: "list" map_concurrency: 2 }
         steps { name: "join" depends_on: "each" }
       )pb",
       [](StepContext& context) -> absl::StatusOr<std::string> {
         if (context.step() == "list") return std::string("x\ny\nz\n");
         return Echo(context);
       }},
      {"retry", R"pb(
         name: "retry"
         steps {
           name: "flaky"
           retry {
             max_attempts: 3
             initial_backoff { nanos: 1000000 }
           }
         }
         steps { name: "after" depends_on: "flaky" }
       )pb",
       [](StepContext& context) {
         return context.step() == "flaky" ? FailsOnFirstAttempt(context) : Echo(context);
       }},
      {"timeout", R"pb(
         name: "timeout"
         steps {
           name: "slow"
           timeout { nanos: 20000000 }
           retry {
             max_attempts: 2
             initial_backoff { nanos: 1000000 }
           }
         }
         steps { name: "after" depends_on: "slow" }
       )pb",
       [](StepContext& context) -> absl::StatusOr<std::string> {
         // The first attempt outlives its timeout; the retry is quick.
         if (context.step() == "slow" && context.attempt() == 1) {
           context.cancellation().WaitFor(absl::Minutes(1));
           return absl::CancelledError(context.cancellation().reason());
         }
         return Echo(context);
       }},
      {"partial failure", R"pb(
         name: "partial"
         steps { name: "optional" non_critical: true }
         steps { name: "after" depends_on: "optional" }
         steps { name: "main" }
       )pb",
       [](StepContext& context) {
         return context.step() == "optional" ? AlwaysFails(context) : Echo(context);
       }},
      {"continue policy", R"pb(
         name: "continue"
         failure_policy: FAILURE_POLICY_CONTINUE
         steps { name: "bad" }
         steps { name: "after" depends_on: "bad" }
         steps { name: "independent" }
       )pb",
       [](StepContext& context) {
         return context.step() == "bad" ? AlwaysFails(context) : Echo(context);
       }},
      {"locks", R"pb(
         name: "locks"
         resources { name: "db" capacity: 1 }
         steps { name: "a" locks: "db" }
         steps { name: "b" locks: "db" }
         steps {
           name: "c"
           locks: "db"
           depends_on: [ "a", "b" ]
         }
       )pb",
       Echo},
      {"budget", R"pb(
         name: "budget"
         budget: 10
         steps { name: "a" }
         steps { name: "b" depends_on: "a" }
         steps { name: "c" depends_on: "b" }
         steps { name: "d" depends_on: "c" }
       )pb",
       Costly},
      {"background and sync", R"pb(
         name: "background"
         steps { name: "bg" background: true }
         steps { name: "bg_more" depends_on: "bg" }
         steps { name: "main" }
         steps { name: "sync" kind: STEP_KIND_SYNC depends_on: "main" }
         steps { name: "end" depends_on: "sync" }
       )pb",
       Echo},
      {"fan-out and fan-in", R"pb(
         name: "fan"
         steps { name: "start" }
         steps { name: "split" kind: STEP_KIND_FAN_OUT depends_on: "start" }
         steps { name: "left" depends_on: "split" }
         steps { name: "right" depends_on: "split" }
         steps {
           name: "join"
           kind: STEP_KIND_FAN_IN
           depends_on: [ "left", "right" ]
         }
         steps {
           name: "report"
           depends_on: [ "join", "left", "right" ]
         }
       )pb",
       Echo},
      {"loop",
       R"pb(
         name: "loop"
         steps { name: "implement" }
         steps { name: "test" depends_on: "implement" }
         steps { name: "done" }
         edges { from: "test" to: "done" condition: "outcome=success" }
         edges { from: "test" to: "implement" condition: "outcome=fail" }
       )pb",
       // test fails on its first two visits: implement and test are visited 3 times each.
       [](StepContext& context) -> absl::StatusOr<std::string> {
         if (context.step() == "test" && context.visit() < 3) {
           return absl::FailedPreconditionError(
               absl::StrCat("tests fail on visit ", context.visit()));
         }
         return Visited(context);
       },
       ScheduleMode::kEager,
       {{"implement", "implement@3"}, {"test", "test@3"}, {"done", "done@1"}}},
      {"branch",
       R"pb(
         name: "branch"
         steps { name: "check" route: ROUTE_FIRST }
         steps { name: "quick" }
         steps { name: "full" }
         steps {
           name: "report"
           depends_on: [ "quick", "full" ]
           join: JOIN_ALL
         }
         edges { from: "check" to: "quick" condition: "context.size=small" }
         edges { from: "check" to: "full" condition: "context.size=big" }
       )pb",
       // check routes to full; quick is skipped and report joins the one branch that ran.
       [](StepContext& context) -> absl::StatusOr<std::string> {
         if (context.step() == "check") {
           Value big;
           big.set_text("big");
           if (absl::Status updated = context.UpdateState("size", big); !updated.ok()) {
             return updated;
           }
         }
         std::string output = Visited(context);
         for (const DependencyOutput& dependency : context.dependencies()) {
           absl::StrAppend(&output, " <", dependency.step, "=", dependency.output, ">");
         }
         return output;
       },
       ScheduleMode::kEager,
       {{"check", "check@1"},
        {"quick", "skipped"},
        {"full", "full@1 <check=check@1>"},
        {"report", "report@1 <quick=> <full=full@1 <check=check@1>>"}}},
      {"loop with state",
       R"pb(
         name: "loop-state"
         state {
           name: "count"
           reducer: REDUCER_SUM
           initial { number: 0 }
         }
         steps { name: "begin" }
         steps { name: "body" depends_on: "begin" }
         steps { name: "check" depends_on: "body" }
         steps { name: "after" }
         edges { from: "check" to: "body" condition: "context.count != 3" }
         edges { from: "check" to: "after" condition: "context.count = 3" }
       )pb",
       // body adds 1 to count on each visit; check routes back until count is 3.
       [](StepContext& context) -> absl::StatusOr<std::string> {
         if (context.step() == "body") return Counting(context);
         auto count = context.state().find("count");
         return absl::StrCat(Visited(context), " count ",
                             count == context.state().end() ? -1 : count->second.number());
       },
       ScheduleMode::kEager,
       {{"begin", "begin@1 count 0"},
        {"body", "body@3 saw 2"},
        {"check", "check@3 count 3"},
        {"after", "after@1 count 3"}}},
      {"routed failure with retries",
       R"pb(
         name: "routed"
         steps {
           name: "risky"
           retry {
             max_attempts: 3
             initial_backoff { nanos: 1000000 }
           }
         }
         steps { name: "next" depends_on: "risky" }
         steps { name: "fallback" }
         steps { name: "end" join: JOIN_ANY }
         edges { from: "risky" to: "fallback" condition: "outcome=fail" }
         edges { from: "next" to: "end" }
         edges { from: "fallback" to: "end" }
       )pb",
       // Every attempt of risky fails (a crash may add one: the error does not name it); its
       // failure for good takes the edge to fallback, and next is skipped.
       [](StepContext& context) -> absl::StatusOr<std::string> {
         if (context.step() == "risky") return absl::UnavailableError("risky fails");
         return Visited(context);
       },
       ScheduleMode::kEager,
       {{"risky", "failed: risky fails"},
        {"next", "skipped"},
        {"fallback", "fallback@1"},
        {"end", "end@1"}}},
      {"any-join",
       R"pb(
         name: "any-join"
         steps { name: "pick" route: ROUTE_FIRST }
         steps { name: "left" }
         steps { name: "right" }
         steps {
           name: "merge"
           depends_on: [ "left", "right" ]
           join: JOIN_ANY
         }
         steps { name: "both_a" }
         steps { name: "both_b" }
         steps {
           name: "first_of_both"
           depends_on: [ "both_a", "both_b" ]
           join: JOIN_ANY
         }
         edges { from: "pick" to: "left" label: "left" weight: 1 }
         edges { from: "pick" to: "right" label: "right" weight: 2 }
       )pb",
       // pick takes the heavier edge, to right: merge starts on it, left is skipped.
       // first_of_both starts on the first of both_a and both_b to complete.
       [](StepContext& context) -> absl::StatusOr<std::string> { return Visited(context); },
       ScheduleMode::kEager,
       {{"pick", "pick@1"},
        {"left", "skipped"},
        {"right", "right@1"},
        {"merge", "merge@1"},
        {"both_a", "both_a@1"},
        {"both_b", "both_b@1"},
        {"first_of_both", "first_of_both@1"}}},
      {"fan-out inside a loop",
       R"pb(
         name: "loop-fan"
         state {
           name: "rounds"
           reducer: REDUCER_SUM
           initial { number: 0 }
         }
         steps { name: "a" }
         steps { name: "b" depends_on: "a" }
         steps { name: "c" depends_on: "a" }
         steps {
           name: "d"
           depends_on: [ "b", "c" ]
         }
         steps { name: "out" }
         edges { from: "d" to: "a" condition: "context.rounds != 3" }
         edges { from: "d" to: "out" condition: "context.rounds = 3" }
       )pb",
       // a adds 1 to rounds on each visit; d loops back to a until a has run 3 times.
       [](StepContext& context) -> absl::StatusOr<std::string> {
         if (context.step() == "a") {
           Value one;
           one.set_number(1);
           if (absl::Status updated = context.UpdateState("rounds", one); !updated.ok()) {
             return updated;
           }
         }
         return Visited(context);
       },
       // d joins any (a step on a loop may not join all: validation refuses it, as it could
       // never start again). It starts a visit for each edge taken into it once its last
       // visit ended, so b and c must end together for it to run once per round: wave mode
       // waits for both. In eager mode a slower c ends after d's visit and starts another.
       ScheduleMode::kWave,
       {{"a", "a@3"}, {"b", "b@3"}, {"c", "c@3"}, {"d", "d@3"}, {"out", "out@1"}}},
  };
  for (const Feature& feature : features) {
    SCOPED_TRACE(feature.name);
    const WorkflowDefinition definition = Parse(feature.definition);
    StepRegistry registry;
    for (const StepDefinition& step : definition.steps()) {
      if (step.kind() == STEP_KIND_UNSPECIFIED) {
        ASSERT_TRUE(registry.Register(step.name(), feature.function).ok());
      }
    }
    if (!feature.expected.empty()) {
      std::unique_ptr<EventStore> store = NewMemoryEventStore();
      EngineOptions engine_options;
      engine_options.threads = 3;
      engine_options.mode = feature.mode;
      Engine engine(store.get(), &registry, engine_options);
      absl::StatusOr<WorkflowState> state = engine.Run("expected", definition, "input");
      ASSERT_TRUE(state.ok()) << state.status();
      std::map<std::string, std::string> outcomes;
      for (const StepState& step : state->steps) outcomes[step.name] = Outcome(step);
      EXPECT_EQ(outcomes, feature.expected);
    }
    ReplayCheckOptions options;
    options.engine.threads = 3;
    options.engine.mode = feature.mode;
    options.max_order_scenarios = 4;
    absl::StatusOr<ReplayReport> report = CheckReplay(definition, registry, "input", options);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_GT(report->scenarios.size(), 1u);
  }
}

}  // namespace
}  // namespace chorus
