// Every data-flow feature survives a crash after any committed batch, and any completion order
// of concurrent steps, with the same outcome: CheckReplay on one workflow per feature.
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
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

struct Feature {
  const char* name;
  const char* definition;
  StepFunction function;  // registered for every task step
};

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
    ReplayCheckOptions options;
    options.engine.threads = 3;
    options.max_order_scenarios = 4;
    absl::StatusOr<ReplayReport> report = CheckReplay(definition, registry, "input", options);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_GT(report->scenarios.size(), 1u);
  }
}

}  // namespace
}  // namespace chorus
