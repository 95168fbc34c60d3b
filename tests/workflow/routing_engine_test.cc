// The Engine running graphs with conditional edges, joins, routes and bounded loops
// (workflow/internal/routing.h): what history records of each visit, what a visit's step sees,
// the bounds on visits, how failures route or fail the run, and that wave mode records the
// same history on every run of a looping workflow whatever the steps' timing.
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "event/internal/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/workflow/engine_fixture.h"
#include "tests/workflow/latch.h"

namespace chorus {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

WorkflowDefinition Parse(const std::string& text) {
  WorkflowDefinition definition;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &definition)) << text;
  return definition;
}

Value Number(int64_t number) {
  Value value;
  value.set_number(number);
  return value;
}

Value Text(absl::string_view text) {
  Value value;
  value.set_text(std::string(text));
  return value;
}

// The number under `key` in `state`, or -1 if there is none.
int64_t NumberIn(const StateValues& state, const std::string& key) {
  auto found = state.find(key);
  return found == state.end() ? -1 : found->second.number();
}

// The step's name and its visit.
std::string Visited(const StepContext& context) {
  return absl::StrCat(context.step(), "@", context.visit());
}

// An event without what differs from run to run of the same workflow: the time it was
// recorded, and a retry's time.
std::string Timeless(const Event& event) {
  Event copy = event;
  copy.clear_recorded_at();
  if (copy.has_step_failed()) copy.mutable_step_failed()->clear_next_attempt_at();
  return copy.ShortDebugString();
}

// Where two histories (of Timeless events) first differ: "seq N: A | B", or "" if they do not.
std::string FirstDifference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() || i < b.size(); ++i) {
    const std::string left = i < a.size() ? a[i] : "(none)";
    const std::string right = i < b.size() ? b[i] : "(none)";
    if (left != right) return absl::StrCat("seq ", i + 1, ": ", left, " | ", right);
  }
  return "";
}

class RoutingEngineTest : public EngineTest {
 protected:
  // One line per step event of workflow `id`: "kind step v<visit>#<attempt>", and for a visit
  // that took edges " -> a,b"; for a skip, its reason.
  std::vector<std::string> VisitTrace(absl::string_view id) {
    std::vector<std::string> trace;
    for (const Event& event : Events(id)) {
      if (StepName(event).empty()) continue;
      std::string line = absl::StrCat(KindName(event), " ", StepName(event));
      if (Attempt(event) > 0) absl::StrAppend(&line, " v", Visit(event), "#", Attempt(event));
      if (!Taken(event).empty()) absl::StrAppend(&line, " -> ", absl::StrJoin(Taken(event), ","));
      if (event.has_step_skipped()) absl::StrAppend(&line, ": ", event.step_skipped().reason());
      trace.push_back(line);
    }
    return trace;
  }

  // How many events of kind `kind` step `step` has in the history of `id`.
  int Count(absl::string_view id, Event::KindCase kind, absl::string_view step) {
    int count = 0;
    for (const Event& event : Events(id)) {
      if (event.kind_case() == kind && StepName(event) == step) ++count;
    }
    return count;
  }

  // The last event of workflow `id`.
  Event LastEvent(absl::string_view id) {
    std::vector<Event> events = Events(id);
    return events.empty() ? Event() : events.back();
  }

  // Runs LoopBranchDecision(routed_failures) 5 times in wave mode on 4 threads, each step
  // sleeping a random 0 to 20 ms (seeded differently on each run), and expects the same
  // history every time, but for the times.
  void ExpectTheSameHistoryOnEveryWaveRun(bool routed_failures);
};

// A loop (implement <-> test) beside a parallel chain (lint, docs, style, package), then a
// decision (decide routes to ship or hold by the state the loop made), joined at the end.
// implement adds 1 to rounds on each visit. With `routed_failures`, test fails on its first two
// visits and its failure takes the edge back to implement; without, test's success takes it
// while rounds is not 3. Either way the loop runs 3 times.
WorkflowDefinition LoopBranchDecision(bool routed_failures) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "wave-loop"
    state {
      name: "rounds"
      reducer: REDUCER_SUM
      initial { number: 0 }
    }
    steps { name: "start" }
    steps { name: "lint" depends_on: "start" }
    steps { name: "docs" depends_on: "lint" }
    steps { name: "style" depends_on: "docs" }
    steps { name: "package" depends_on: "style" }
    steps { name: "implement" depends_on: "start" }
    steps { name: "test" depends_on: "implement" }
    steps { name: "decide" route: ROUTE_FIRST }
    steps { name: "ship" }
    steps { name: "hold" }
    steps {
      name: "end"
      depends_on: [ "package", "ship", "hold" ]
      join: JOIN_ALL
    }
    edges { from: "decide" to: "ship" condition: "context.rounds=3" weight: 1 }
    edges { from: "decide" to: "hold" condition: "context.rounds!=3" }
  )pb");
  Edge* back = definition.add_edges();
  back->set_from("test");
  back->set_to("implement");
  back->set_condition(routed_failures ? "outcome=fail" : "context.rounds != 3");
  Edge* out = definition.add_edges();
  out->set_from("test");
  out->set_to("decide");
  out->set_condition(routed_failures ? "outcome=success" : "context.rounds = 3");
  return definition;
}

void RoutingEngineTest::ExpectTheSameHistoryOnEveryWaveRun(bool routed_failures) {
  const WorkflowDefinition definition = LoopBranchDecision(routed_failures);
  Mutex mu;
  std::mt19937 random;  // guarded by mu; seeded differently for each run
  std::uniform_int_distribution<int> delay_ms(0, 20);
  for (const StepDefinition& step : definition.steps()) {
    Register(step.name(), [&](StepContext& context) -> absl::StatusOr<std::string> {
      int delay;
      {
        MutexLock lock(&mu);
        delay = delay_ms(random);
      }
      absl::SleepFor(absl::Milliseconds(delay));
      if (context.step() == "implement") {
        if (absl::Status updated = context.UpdateState("rounds", Number(1)); !updated.ok()) {
          return updated;
        }
      }
      if (routed_failures && context.step() == "test" && context.visit() < 3) {
        return absl::FailedPreconditionError(absl::StrCat("fails on visit ", context.visit()));
      }
      return absl::StrCat(Visited(context), " rounds ", NumberIn(context.state(), "rounds"));
    });
  }
  Engine engine(store_.get(), &registry_, Options(4, ScheduleMode::kWave));
  std::vector<std::string> first;
  for (int run = 0; run < 5; ++run) {
    SCOPED_TRACE(absl::StrCat("run ", run));
    {
      MutexLock lock(&mu);
      random.seed(20261207 + 7919 * run);
    }
    const std::string id = absl::StrCat("wave-loop-", run);
    absl::StatusOr<WorkflowState> state = engine.Run(id, definition, "");
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
    std::vector<std::string> history;
    for (const Event& event : Events(id)) history.push_back(Timeless(event));
    if (run == 0) {
      first = history;
      // What the run is: the loop visited 3 times, the decision took ship, hold was skipped.
      EXPECT_EQ(Count(id, Event::kStepStarted, "implement"), 3);
      EXPECT_EQ(Count(id, Event::kStepStarted, "test"), 3);
      EXPECT_EQ(state->FindStep("test")->output, "test@3 rounds 3");
      EXPECT_EQ(state->FindStep("ship")->output, "ship@1 rounds 3");
      EXPECT_EQ(state->FindStep("hold")->status, StepStatus::kSkipped);
      EXPECT_EQ(state->FindStep("package")->output, "package@1 rounds 0");
      EXPECT_EQ(state->FindStep("end")->status, StepStatus::kCompleted);
      EXPECT_THAT(VisitTrace(id), Contains("step_completed decide v1#1 -> ship"));
    } else {
      EXPECT_EQ(FirstDifference(first, history), "") << "run 0's history, then this run's";
    }
  }
}

TEST_P(RoutingEngineTest, WaveModeGivesTheSameHistoryForALoopWithRandomStepDelays) {
  ExpectTheSameHistoryOnEveryWaveRun(/*routed_failures=*/false);
}

// A failure that an edge takes does not end the wave early (only one that stops the run does):
// test's failures are recorded with the rest of their wave, whatever the timing.
TEST_P(RoutingEngineTest, WaveModeGivesTheSameHistoryForALoopOfRoutedFailures) {
  ExpectTheSameHistoryOnEveryWaveRun(/*routed_failures=*/true);
}

TEST_P(RoutingEngineTest, EachVisitOfALoopHasItsOwnAttemptsAndStepContextSaysWhichVisit) {
  // work fails its first attempt on every visit and succeeds on its retry; its success takes
  // the edge back to itself until it has made 3 visits.
  const WorkflowDefinition definition = Parse(R"pb(
    name: "visits"
    state {
      name: "done"
      reducer: REDUCER_SUM
      initial { number: 0 }
    }
    steps {
      name: "work"
      retry {
        max_attempts: 2
        initial_backoff { nanos: 1000000 }
      }
    }
    steps { name: "after" }
    edges { from: "work" to: "work" condition: "context.done != 3" }
    edges { from: "work" to: "after" condition: "context.done = 3" }
  )pb");
  Mutex mu;
  std::vector<std::pair<int, int>> seen;  // (visit, attempt) of each run of work
  Register("work", [&](StepContext& context) -> absl::StatusOr<std::string> {
    {
      MutexLock lock(&mu);
      seen.emplace_back(context.visit(), context.attempt());
    }
    if (context.attempt() == 1) return absl::UnavailableError("first attempt fails");
    if (absl::Status updated = context.UpdateState("done", Number(1)); !updated.ok()) {
      return updated;
    }
    return absl::StrCat(Visited(context), "#", context.attempt());
  });
  Register("after", [](StepContext& context) { return Visited(context); });
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> state = engine.Run("visits", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(VisitTrace("visits"),
              ElementsAre("step_started work v1#1", "step_failed work v1#1",
                          "step_started work v1#2", "step_completed work v1#2 -> work",
                          "step_started work v2#1", "step_failed work v2#1",
                          "step_started work v2#2", "step_completed work v2#2 -> work",
                          "step_started work v3#1", "step_failed work v3#1",
                          "step_started work v3#2", "step_completed work v3#2 -> after",
                          "step_started after v1#1", "step_completed after v1#1"));
  {
    MutexLock lock(&mu);
    EXPECT_THAT(seen,
                ElementsAre(std::make_pair(1, 1), std::make_pair(1, 2), std::make_pair(2, 1),
                            std::make_pair(2, 2), std::make_pair(3, 1), std::make_pair(3, 2)));
  }
  // Each failed first attempt was retried: it has a next attempt time and took no edge.
  for (const Event& event : Events("visits")) {
    if (!event.has_step_failed()) continue;
    EXPECT_TRUE(event.step_failed().has_next_attempt_at()) << event.ShortDebugString();
    EXPECT_THAT(event.step_failed().taken(), IsEmpty());
  }
  EXPECT_EQ(state->FindStep("work")->output, "work@3#2");
  EXPECT_EQ(state->FindStep("work")->attempts, 2);
  EXPECT_EQ(VisitOf(*state->FindStep("work")), 3);
  EXPECT_EQ(state->FindStep("after")->output, "after@1");
}

TEST_P(RoutingEngineTest, AVisitSeesTheStateItsPathMade) {
  // body adds 1 to count on each visit, check routes back to it until count is 4.
  const WorkflowDefinition definition = Parse(R"pb(
    name: "sum"
    state {
      name: "count"
      reducer: REDUCER_SUM
      initial { number: 0 }
    }
    steps { name: "begin" }
    steps { name: "body" depends_on: "begin" }
    steps { name: "check" depends_on: "body" }
    steps { name: "after" }
    edges { from: "check" to: "body" condition: "context.count != 4" }
    edges { from: "check" to: "after" condition: "context.count = 4" }
  )pb");
  Mutex mu;
  std::map<std::string, std::vector<int64_t>> seen;  // step -> the count each visit saw
  for (const char* name : {"begin", "body", "check", "after"}) {
    Register(name, [&](StepContext& context) -> absl::StatusOr<std::string> {
      const int64_t count = NumberIn(context.state(), "count");
      {
        MutexLock lock(&mu);
        seen[std::string(context.step())].push_back(count);
      }
      if (context.step() == "body") {
        if (absl::Status updated = context.UpdateState("count", Number(1)); !updated.ok()) {
          return updated;
        }
      }
      return absl::StrCat(Visited(context), " saw ", count);
    });
  }
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> state = engine.Run("sum", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  {
    MutexLock lock(&mu);
    EXPECT_THAT(seen["begin"], ElementsAre(0));
    // Visit n of body sees the n - 1 updates of its earlier visits; check, after body, sees n.
    EXPECT_THAT(seen["body"], ElementsAre(0, 1, 2, 3));
    EXPECT_THAT(seen["check"], ElementsAre(1, 2, 3, 4));
    EXPECT_THAT(seen["after"], ElementsAre(4));
  }
  EXPECT_EQ(state->FindStep("body")->output, "body@4 saw 3");
  EXPECT_EQ(state->FindStep("after")->output, "after@1 saw 4");
  const Event last = LastEvent("sum");
  ASSERT_TRUE(last.has_workflow_completed()) << last.ShortDebugString();
  ASSERT_EQ(last.workflow_completed().final_state_size(), 1);
  EXPECT_EQ(last.workflow_completed().final_state(0).key(), "count");
  EXPECT_EQ(last.workflow_completed().final_state(0).value().number(), 4);
}

// A loop that never exits: poll's success always takes the edge back to itself.
WorkflowDefinition EndlessLoop(int step_max_visits, int workflow_max_visits) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "endless"
    steps { name: "poll" }
    steps { name: "give_up" }
    edges { from: "poll" to: "poll" condition: "outcome=success" }
    edges { from: "poll" to: "give_up" condition: "outcome=fail" }
  )pb");
  definition.mutable_steps(0)->set_max_visits(step_max_visits);
  definition.set_max_visits(workflow_max_visits);
  return definition;
}

TEST_P(RoutingEngineTest, AStepPastItsMaxVisitsFailsTheRunNamingTheStepAndTheBound) {
  Register("poll", [](StepContext& context) { return Visited(context); });
  Register("give_up", [](StepContext& context) { return Visited(context); });
  Engine engine(store_.get(), &registry_, Options(2));
  // The step's own bound; then the workflow's, for a step without one; a step's own bound
  // wins over the workflow's.
  const struct {
    const char* id;
    int step_max_visits;
    int workflow_max_visits;
    int bound;
  } cases[] = {{"step-bound", 3, 0, 3}, {"workflow-bound", 0, 4, 4}, {"both", 2, 5, 2}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    absl::StatusOr<WorkflowState> result =
        engine.Run(c.id, EndlessLoop(c.step_max_visits, c.workflow_max_visits), "");
    const std::string limit =
        absl::StrCat("step 'poll' reached its limit of ", c.bound, " visits (max_visits)");
    EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(result.status().message(), HasSubstr(limit));
    // No step's failure failed the run: the message names none as the failed step.
    EXPECT_THAT(result.status().message(), Not(HasSubstr("failed: step 'poll': ")));
    EXPECT_EQ(Count(c.id, Event::kStepStarted, "poll"), c.bound);
    EXPECT_EQ(Count(c.id, Event::kStepCompleted, "poll"), c.bound);
    EXPECT_EQ(Count(c.id, Event::kStepStarted, "give_up"), 0);
    const Event last = LastEvent(c.id);
    ASSERT_TRUE(last.has_workflow_failed()) << last.ShortDebugString();
    EXPECT_EQ(last.workflow_failed().step(), "");
    EXPECT_EQ(last.workflow_failed().error().code(),
              static_cast<int>(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(last.workflow_failed().error().message(), limit);
    absl::StatusOr<WorkflowState> state = engine.GetState(c.id);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->status, WORKFLOW_STATUS_FAILED);
    EXPECT_EQ(state->failed_step, "");
    EXPECT_EQ(state->error.message(), limit);
    EXPECT_EQ(state->FindStep("poll")->output, absl::StrCat("poll@", c.bound));
  }
}

TEST_P(RoutingEngineTest, AFailureNoEdgeTakesStillFailsFast) {
  // bad's failure edge asks for a state bad never sets: it does not hold, the failure is not
  // routed, and the run fails fast, cancelling slow.
  const WorkflowDefinition definition = Parse(R"pb(
    name: "fail-fast"
    steps { name: "bad" }
    steps { name: "slow" }
    steps { name: "handler" }
    steps {
      name: "after"
      depends_on: [ "bad", "slow" ]
    }
    edges { from: "bad" to: "handler" condition: "outcome=fail && context.mode=handle" }
  )pb");
  Latch both_running(2);
  std::atomic<bool> slow_cancelled{false};
  Register("bad", [&](StepContext&) -> absl::StatusOr<std::string> {
    both_running.ArriveAndWait();
    return absl::DataLossError("disk on fire");
  });
  Register("slow", [&](StepContext& context) {
    both_running.ArriveAndWait();
    absl::StatusOr<std::string> result = WaitForCancellation(context);
    slow_cancelled = absl::IsCancelled(result.status());
    return result;
  });
  for (const char* name : {"handler", "after"}) {
    Register(name, [](StepContext& context) { return Visited(context); });
  }
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> result = engine.Run("ff", definition, "");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(), HasSubstr("step 'bad'"));
  EXPECT_THAT(result.status().message(), HasSubstr("disk on fire"));
  EXPECT_TRUE(slow_cancelled);
  const std::vector<std::string> trace = VisitTrace("ff");
  EXPECT_THAT(trace, Contains("step_failed bad v1#1"));
  EXPECT_THAT(trace, Contains("step_cancelled slow v1#1"));
  EXPECT_EQ(Count("ff", Event::kStepStarted, "handler"), 0);
  EXPECT_EQ(Count("ff", Event::kStepStarted, "after"), 0);
  const Event last = LastEvent("ff");
  ASSERT_TRUE(last.has_workflow_failed()) << last.ShortDebugString();
  EXPECT_EQ(last.workflow_failed().step(), "bad");
  absl::StatusOr<WorkflowState> state = engine.GetState("ff");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->failed_step, "bad");
  EXPECT_EQ(state->FindStep("slow")->error.message(), "step 'bad' failed");
}

TEST_P(RoutingEngineTest, ARoutedFailureIsHandledAndTheRunGoesOnAlongItsEdge) {
  const WorkflowDefinition definition = Parse(R"pb(
    name: "routed"
    steps {
      name: "risky"
      retry {
        max_attempts: 2
        initial_backoff { nanos: 1000000 }
      }
    }
    steps { name: "next" depends_on: "risky" }
    steps { name: "fallback" }
    edges { from: "risky" to: "fallback" condition: "outcome=fail" }
  )pb");
  Register("risky", [](StepContext&) -> absl::StatusOr<std::string> {
    return absl::UnavailableError("no");
  });
  for (const char* name : {"next", "fallback"}) {
    Register(name, [](StepContext& context) { return Visited(context); });
  }
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> state = engine.Run("routed", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
  EXPECT_THAT(VisitTrace("routed"),
              ElementsAre("step_started risky v1#1", "step_failed risky v1#1",
                          "step_started risky v1#2", "step_failed risky v1#2 -> fallback",
                          "step_skipped next: no edge into it was taken",
                          "step_started fallback v1#1", "step_completed fallback v1#1"));
  EXPECT_TRUE(FailureRouted(*state->FindStep("risky")));
  EXPECT_THAT(state->failed_steps, IsEmpty());
}

TEST_P(RoutingEngineTest, ANonCriticalStepsFailureSkipsWhatItLeadsTo) {
  const WorkflowDefinition definition = Parse(R"pb(
    name: "optional"
    steps { name: "optional" non_critical: true }
    steps { name: "next" depends_on: "optional" }
    steps { name: "further" depends_on: "next" }
    steps { name: "main" }
    steps {
      name: "end"
      depends_on: [ "further", "main" ]
      join: JOIN_ANY
    }
    edges { from: "optional" to: "spare" condition: "outcome=fail && context.x=never" }
    steps { name: "spare" }
  )pb");
  Register("optional",
           [](StepContext&) -> absl::StatusOr<std::string> { return absl::InternalError("no"); });
  for (const char* name : {"next", "further", "main", "end", "spare"}) {
    Register(name, [](StepContext& context) { return Visited(context); });
  }
  Engine engine(store_.get(), &registry_, Options(1));
  absl::StatusOr<WorkflowState> state = engine.Run("optional", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED_WITH_FAILURES);
  EXPECT_THAT(state->failed_steps, ElementsAre("optional"));
  const std::vector<std::string> trace = VisitTrace("optional");
  for (const char* skipped : {"next", "further", "spare"}) {
    EXPECT_THAT(trace, Contains(absl::StrCat("step_skipped ", skipped,
                                             ": depends on failed step 'optional'")));
  }
  EXPECT_EQ(state->FindStep("main")->status, StepStatus::kCompleted);
  // end joins any: main's edge starts it.
  EXPECT_EQ(state->FindStep("end")->output, "end@1");
}

TEST_P(RoutingEngineTest, RouteFirstTakesTheHeaviestEdgeWhoseConditionHoldsThenByTargetName) {
  const struct {
    const char* id;
    const char* edges;
    const char* taken;
  } cases[] = {
      // The heaviest edge, listed last.
      {"heaviest", R"pb(
         edges { from: "pick" to: "zeta" weight: 5 }
         edges { from: "pick" to: "alpha" weight: 5 }
         edges { from: "pick" to: "mid" weight: 9 }
       )pb",
       "mid"},
      // Equal weights: the first target by name, whatever the edges' order.
      {"by-name", R"pb(
         edges { from: "pick" to: "zeta" weight: 5 }
         edges { from: "pick" to: "mid" weight: 2 }
         edges { from: "pick" to: "alpha" weight: 5 }
       )pb",
       "alpha"},
      // The heaviest edge's condition does not hold: the next by weight.
      {"holds", R"pb(
         edges { from: "pick" to: "zeta" weight: 5 }
         edges { from: "pick" to: "mid" weight: 9 condition: "context.choice=mid" }
         edges { from: "pick" to: "alpha" weight: 1 condition: "context.choice=zeta" }
       )pb",
       "zeta"},
      // Negative weights rank below no weight.
      {"negative", R"pb(
         edges { from: "pick" to: "alpha" weight: -1 }
         edges { from: "pick" to: "zeta" }
         edges { from: "pick" to: "mid" weight: -3 }
       )pb",
       "zeta"},
  };
  constexpr char kSteps[] = R"pb(
    name: "route"
    steps { name: "pick" route: ROUTE_FIRST }
    steps { name: "zeta" }
    steps { name: "mid" }
    steps { name: "alpha" }
  )pb";
  Register("pick", [](StepContext& context) -> absl::StatusOr<std::string> {
    if (absl::Status updated = context.UpdateState("choice", Text("zeta")); !updated.ok()) {
      return updated;
    }
    return Visited(context);
  });
  for (const char* name : {"alpha", "mid", "zeta"}) {
    Register(name, [](StepContext& context) { return Visited(context); });
  }
  Engine engine(store_.get(), &registry_, Options(2));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    const WorkflowDefinition definition = Parse(absl::StrCat(kSteps, c.edges));
    absl::StatusOr<WorkflowState> state = engine.Run(c.id, definition, "");
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
    EXPECT_THAT(VisitTrace(c.id), Contains(absl::StrCat("step_completed pick v1#1 -> ", c.taken)));
    for (const char* target : {"alpha", "mid", "zeta"}) {
      const StepState* step = state->FindStep(target);
      if (std::string(target) == c.taken) {
        EXPECT_EQ(step->output, absl::StrCat(target, "@1"));
      } else {
        EXPECT_EQ(step->status, StepStatus::kSkipped) << target;
      }
    }
  }
}

TEST_P(RoutingEngineTest, RouteAllTakesEveryEdgeWhoseConditionHolds) {
  const WorkflowDefinition definition = Parse(R"pb(
    name: "route-all"
    steps { name: "pick" }
    steps { name: "alpha" }
    steps { name: "mid" }
    steps { name: "zeta" }
    edges { from: "pick" to: "alpha" condition: "context.choice=zeta" }
    edges { from: "pick" to: "mid" condition: "context.choice=mid" weight: 9 }
    edges { from: "pick" to: "zeta" }
  )pb");
  Register("pick", [](StepContext& context) -> absl::StatusOr<std::string> {
    if (absl::Status updated = context.UpdateState("choice", Text("zeta")); !updated.ok()) {
      return updated;
    }
    return Visited(context);
  });
  for (const char* name : {"alpha", "mid", "zeta"}) {
    Register(name, [](StepContext& context) { return Visited(context); });
  }
  Engine engine(store_.get(), &registry_, Options(2, ScheduleMode::kWave));
  absl::StatusOr<WorkflowState> state = engine.Run("all", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(VisitTrace("all"), Contains("step_completed pick v1#1 -> alpha,zeta"));
  EXPECT_EQ(state->FindStep("alpha")->output, "alpha@1");
  EXPECT_EQ(state->FindStep("zeta")->output, "zeta@1");
  EXPECT_EQ(state->FindStep("mid")->status, StepStatus::kSkipped);
}

TEST_P(RoutingEngineTest, AJoinInsideALoopRunsOncePerRoundInWaveMode) {
  // a fans out to b and c, which d joins; d loops back to a until a has made 3 visits. b and
  // c take unequal times: wave mode waits for both before d starts.
  const WorkflowDefinition definition = Parse(R"pb(
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
  )pb");
  for (const char* name : {"a", "b", "c", "d", "out"}) {
    Register(name, [](StepContext& context) -> absl::StatusOr<std::string> {
      if (context.step() == "a") {
        if (absl::Status updated = context.UpdateState("rounds", Number(1)); !updated.ok()) {
          return updated;
        }
      }
      if (context.step() == "c") absl::SleepFor(absl::Milliseconds(30));
      std::string output = Visited(context);
      if (context.step() == "d") {
        for (const DependencyOutput& dependency : context.dependencies()) {
          absl::StrAppend(&output, " <", dependency.output, ">");
        }
      }
      return output;
    });
  }
  Engine engine(store_.get(), &registry_, Options(3, ScheduleMode::kWave));
  absl::StatusOr<WorkflowState> state = engine.Run("loop-fan", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  for (const char* name : {"a", "b", "c", "d"}) {
    EXPECT_EQ(Count("loop-fan", Event::kStepCompleted, name), 3) << name;
  }
  // Each visit of d saw the same round's visits of b and c.
  std::vector<std::string> d_outputs;
  for (const Event& event : Events("loop-fan")) {
    if (event.has_step_completed() && event.step_completed().step() == "d") {
      d_outputs.push_back(event.step_completed().output());
    }
  }
  EXPECT_THAT(d_outputs, ElementsAre("d@1 <b@1> <c@1>", "d@2 <b@2> <c@2>", "d@3 <b@3> <c@3>"));
  EXPECT_EQ(state->FindStep("out")->status, StepStatus::kCompleted);
}

TEST_P(RoutingEngineTest, AStepOnALoopThatJoinsAllIsRefused) {
  // The join of a fan-out inside a loop cannot join all: it could never start a second visit.
  const WorkflowDefinition definition = Parse(R"pb(
    name: "loop-join-all"
    steps { name: "a" }
    steps { name: "b" depends_on: "a" }
    steps { name: "c" depends_on: "a" }
    steps {
      name: "d"
      depends_on: [ "b", "c" ]
      join: JOIN_ALL
    }
    edges { from: "d" to: "a" condition: "outcome=success" }
  )pb");
  for (const char* name : {"a", "b", "c", "d"}) {
    Register(name, [](StepContext& context) { return Visited(context); });
  }
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> result = engine.Run("refused", definition, "");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(),
              HasSubstr("step 'd' is on a loop and joins all: it could never start again"));
  EXPECT_THAT(Events("refused"), IsEmpty());
}

// History that a crash cut off just after poll's third (last allowed) visit completed and took
// the edge back to itself: resuming fails at once, as an uninterrupted run does.
TEST_P(RoutingEngineTest, AResumedRunKeepsTheBoundOnVisits) {
  const WorkflowDefinition definition = EndlessLoop(/*step_max_visits=*/3, 0);
  std::vector<Event> events = {Started(definition)};
  for (int visit = 1; visit <= 3; ++visit) {
    Event started = StepStartedEvent("poll", 1);
    Event completed = StepCompletedEvent("poll", 1, absl::StrCat("poll@", visit));
    completed.mutable_step_completed()->add_taken("poll");
    if (visit > 1) {
      started.mutable_step_started()->set_visit(visit);
      completed.mutable_step_completed()->set_visit(visit);
    }
    events.push_back(started);
    events.push_back(completed);
  }
  Seed("cut-off", events);
  Register("poll", [](StepContext& context) { return Visited(context); });
  Register("give_up", [](StepContext& context) { return Visited(context); });
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> result = engine.Resume("cut-off");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(result.status().message(),
              HasSubstr("step 'poll' reached its limit of 3 visits (max_visits)"));
  EXPECT_EQ(Count("cut-off", Event::kStepStarted, "poll"), 3);
}

// work adds 1 to count on visits 1 and 2, fails on visit 3, and its failure takes the edge to
// fallback, which sees count 2; so does the final state.
TEST_P(RoutingEngineTest, TheFinalStateKeepsTheUpdatesOfEveryCompletedVisit) {
  const WorkflowDefinition definition = Parse(R"pb(
    name: "final"
    state {
      name: "count"
      reducer: REDUCER_SUM
      initial { number: 0 }
    }
    steps { name: "work" }
    steps { name: "fallback" }
    edges { from: "work" to: "work" condition: "outcome=success" }
    edges { from: "work" to: "fallback" condition: "outcome=fail" }
  )pb");
  Register("work", [](StepContext& context) -> absl::StatusOr<std::string> {
    if (context.visit() == 3) return absl::InternalError("third visit fails");
    if (absl::Status updated = context.UpdateState("count", Number(1)); !updated.ok()) {
      return updated;
    }
    return Visited(context);
  });
  Register("fallback", [](StepContext& context) -> absl::StatusOr<std::string> {
    return absl::StrCat(Visited(context), " saw ", NumberIn(context.state(), "count"));
  });
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> state = engine.Run("final", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("fallback")->output, "fallback@1 saw 2");
  const Event last = LastEvent("final");
  ASSERT_TRUE(last.has_workflow_completed()) << last.ShortDebugString();
  ASSERT_EQ(last.workflow_completed().final_state_size(), 1);
  EXPECT_EQ(last.workflow_completed().final_state(0).value().number(), 2);
}

INSTANTIATE_TEST_SUITE_P(Stores, RoutingEngineTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite), StoreName);

}  // namespace
}  // namespace chorus
