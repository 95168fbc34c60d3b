// Data-flow features of the engine: shared state, fan-out/fan-in, dynamic maps, retries,
// timeouts, partial failure, resource locks, budgets, background branches; each also across a
// crash and resume where the feature keeps state between steps.
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "event/events.h"
#include "event/state.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/workflow/engine_fixture.h"
#include "tests/workflow/latch.h"

namespace chorus {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class DataflowTest : public EngineTest {
 protected:
  // Index of the first event in the history of `id` whose line in Trace() is `line`.
  int IndexOf(absl::string_view id, absl::string_view line) {
    std::vector<std::string> trace = Trace(id);
    auto it = std::find(trace.begin(), trace.end(), line);
    EXPECT_NE(it, trace.end()) << line;
    return static_cast<int>(it - trace.begin());
  }

  // Seeds workflow `to` with the first `count` events of workflow `from`: `from` as a crash
  // after that event would have left it.
  void SeedPrefix(absl::string_view from, absl::string_view to, int count) {
    std::vector<Event> events = Events(from);
    events.resize(count);
    Seed(to, events);
  }
};

WorkflowDefinition Parse(const std::string& text) {
  WorkflowDefinition definition;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &definition)) << text;
  return definition;
}

Value Text(absl::string_view text) {
  Value value;
  value.set_text(std::string(text));
  return value;
}

Value Number(int64_t number) {
  Value value;
  value.set_number(number);
  return value;
}

// "key=json;..." of what a step sees.
std::string Show(const StateValues& values) {
  std::string shown;
  for (const auto& [key, value] : values)
    absl::StrAppend(&shown, key, "=", ValueToJson(value), ";");
  return shown;
}

// A step that makes `update` and outputs the state it saw.
StepFunction Updating(absl::string_view key, Value value) {
  return [key = std::string(key), value](StepContext& context) -> absl::StatusOr<std::string> {
    if (absl::Status updated = context.UpdateState(key, value); !updated.ok()) return updated;
    return Show(context.state());
  };
}

StepFunction ShowingState() {
  return [](StepContext& context) -> absl::StatusOr<std::string> { return Show(context.state()); };
}

TEST_P(DataflowTest, BranchesSeeOnlyTheirAncestorsAndTheJoinSeesBoth) {
  Register("root", Updating("origin", Text("root")));
  Register("left", Updating("left", Text("L")));
  Register("right", Updating("right", Text("R")));
  Register("join", ShowingState());
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("branches",
                                                   DefinitionBuilder("w")
                                                       .Step("root")
                                                       .Step("left", {"root"})
                                                       .Step("right", {"root"})
                                                       .Step("join", {"left", "right"})
                                                       .Build(),
                                                   "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("left")->output, "origin=\"root\";");
  EXPECT_EQ(state->FindStep("right")->output, "origin=\"root\";");
  EXPECT_EQ(state->FindStep("join")->output, "left=\"L\";origin=\"root\";right=\"R\";");
}

TEST_P(DataflowTest, LastWriteWinsByDefinitionOrderWhateverTheTimingAndMode) {
  std::mt19937 random(7);
  Mutex mu;
  for (const char* name : {"first", "second"}) {
    Register(name, [&, name](StepContext& context) -> absl::StatusOr<std::string> {
      int delay;
      {
        MutexLock lock(&mu);
        delay = std::uniform_int_distribution<int>(0, 3000)(random);
      }
      absl::SleepFor(absl::Microseconds(delay));
      if (absl::Status updated = context.UpdateState("winner", Text(name)); !updated.ok()) {
        return updated;
      }
      return std::string();
    });
  }
  Register("after", ShowingState());
  const WorkflowDefinition definition = DefinitionBuilder("w")
                                            .Step("first")
                                            .Step("second")
                                            .Step("after", {"first", "second"})
                                            .Build();
  for (ScheduleMode mode : {ScheduleMode::kWave, ScheduleMode::kEager}) {
    Engine engine(store_.get(), &registry_, Options(2, mode));
    for (int run = 0; run < 10; ++run) {
      const std::string id = absl::StrCat("lww-", mode == ScheduleMode::kWave, "-", run);
      absl::StatusOr<WorkflowState> state = engine.Run(id, definition, "");
      ASSERT_TRUE(state.ok()) << state.status();
      EXPECT_EQ(state->FindStep("after")->output, "winner=\"second\";") << id;
      EXPECT_EQ(Show(MergeState(*state, {0, 1, 2})), "winner=\"second\";");
    }
  }
}

TEST_P(DataflowTest, AppendConcatenatesInDefinitionOrder) {
  DefinitionBuilder builder("w");
  for (int i = 0; i < 5; ++i) {
    const std::string name = absl::StrCat("s", i);
    builder.Step(name);
    // Later steps finish first.
    Register(name, [name, i](StepContext& context) -> absl::StatusOr<std::string> {
      absl::SleepFor(absl::Milliseconds(2 * (5 - i)));
      if (absl::Status updated = context.UpdateState("log", Text(name)); !updated.ok()) {
        return updated;
      }
      return std::string();
    });
  }
  builder.Step("join", {"s0", "s1", "s2", "s3", "s4"});
  WorkflowDefinition definition = builder.Build();
  StateKey* log = definition.add_state();
  log->set_name("log");
  log->set_reducer(REDUCER_APPEND);
  Register("join", ShowingState());
  Engine engine(store_.get(), &registry_, Options(5));
  absl::StatusOr<WorkflowState> state = engine.Run("append", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("join")->output, "log=[\"s0\", \"s1\", \"s2\", \"s3\", \"s4\"];");
}

// A chain's steps see every earlier update, merged in definition order; the view a step builds
// on its dependency's must give the same as merging all ancestors. Listed backwards, the chain
// merges backwards; a step with two dependents gives its view to both, and a retried step sees
// the same view again.
TEST_P(DataflowTest, EachStepOfAChainSeesEveryEarlierUpdateInDefinitionOrder) {
  constexpr int kSteps = 30;
  auto name = [](int i) { return absl::StrCat("c", i); };
  for (int i = 0; i < kSteps; ++i) {
    Register(name(i), [i, name](StepContext& context) -> absl::StatusOr<std::string> {
      const std::string seen = Show(context.state());
      if (i == 20 && context.attempt() == 1) return MarkRetryable(absl::UnavailableError("again"));
      if (absl::Status updated = context.UpdateState("log", Text(name(i))); !updated.ok()) {
        return updated;
      }
      return seen;
    });
  }
  Register("side", ShowingState());
  for (const bool backwards : {false, true}) {
    SCOPED_TRACE(backwards ? "listed backwards" : "listed in chain order");
    std::vector<std::string> names;  // the chain's steps in definition order
    for (int i = 0; i < kSteps; ++i) names.push_back(name(backwards ? kSteps - 1 - i : i));
    WorkflowDefinition definition;
    definition.set_name("chain");
    for (const std::string& step : names) {
      StepDefinition* added = definition.add_steps();
      added->set_name(step);
      const int i = std::stoi(step.substr(1));
      if (i > 0) added->add_depends_on(name(i - 1));
      if (i == 20) {
        added->mutable_retry()->set_max_attempts(2);
        added->mutable_retry()->mutable_initial_backoff()->set_nanos(1000000);
      }
    }
    StepDefinition* side = definition.add_steps();
    side->set_name("side");
    side->add_depends_on(name(10));
    StateKey* log = definition.add_state();
    log->set_name("log");
    log->set_reducer(REDUCER_APPEND);

    Engine engine(store_.get(), &registry_);
    absl::StatusOr<WorkflowState> state =
        engine.Run(backwards ? "backwards" : "forwards", definition, "");
    ASSERT_TRUE(state.ok()) << state.status();
    for (int i = 0; i <= kSteps; ++i) {
      // c0 .. c{i-1} are the ancestors of c{i}; "side" (i == kSteps) has c0 .. c10.
      const int ancestors = i < kSteps ? i : 11;
      std::vector<std::string> expected;
      for (const std::string& step : names) {
        if (std::stoi(step.substr(1)) < ancestors)
          expected.push_back(absl::StrCat("\"", step, "\""));
      }
      const std::string step = i < kSteps ? name(i) : "side";
      EXPECT_EQ(state->FindStep(step)->output,
                expected.empty() ? "" : absl::StrCat("log=[", absl::StrJoin(expected, ", "), "];"))
          << step;
    }
    EXPECT_EQ(state->FindStep(name(20))->attempts, 2);
  }
}

TEST_P(DataflowTest, SumMinAndMaxAcrossAHundredParallelSteps) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "numbers"
    state {
      name: "total"
      reducer: REDUCER_SUM
      initial { number: 0 }
    }
    state { name: "lowest" reducer: REDUCER_MIN }
    state { name: "highest" reducer: REDUCER_MAX }
  )pb");
  StepDefinition* join = nullptr;
  for (int i = 0; i < 100; ++i) {
    const std::string name = absl::StrCat("n", i);
    definition.add_steps()->set_name(name);
    Register(name, [i](StepContext& context) -> absl::StatusOr<std::string> {
      for (const char* key : {"total", "lowest", "highest"}) {
        if (absl::Status updated = context.UpdateState(key, Number(i)); !updated.ok()) {
          return updated;
        }
      }
      return std::string();
    });
  }
  join = definition.add_steps();
  join->set_name("join");
  for (int i = 0; i < 100; ++i) join->add_depends_on(absl::StrCat("n", i));
  Register("join", ShowingState());
  Engine engine(store_.get(), &registry_, Options(8));
  absl::StatusOr<WorkflowState> state = engine.Run("sum", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("join")->output, "highest=99;lowest=0;total=4950;");
}

TEST_P(DataflowTest, AnUpdateThatDoesNotSuitTheReducerFailsTheStep) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "w"
    state { name: "total" reducer: REDUCER_SUM }
    steps { name: "a" }
  )pb");
  Register("a", Updating("total", Text("not a number")));
  Engine engine(store_.get(), &registry_);
  absl::Status status = engine.Run("wrong-type", definition, "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("state key 'total' (sum) cannot take \"not a number\""));
}

TEST_P(DataflowTest, TheStateAStepSawIsTheSameAfterACrashAndResume) {
  Register("a", Updating("k", Text("from a")));
  Register("b", Updating("k", Text("from b")));
  Register("c", Updating("count", Number(1)));
  Register("d", ShowingState());
  WorkflowDefinition definition = Parse(R"pb(
    name: "w"
    state {
      name: "count"
      reducer: REDUCER_SUM
      initial { number: 10 }
    }
    steps { name: "a" }
    steps { name: "b" depends_on: "a" }
    steps { name: "c" depends_on: "a" }
    steps {
      name: "d"
      depends_on: [ "b", "c" ]
    }
  )pb");
  Engine engine(store_.get(), &registry_, Options(2, ScheduleMode::kWave));
  absl::StatusOr<WorkflowState> whole = engine.Run("whole", definition, "");
  ASSERT_TRUE(whole.ok()) << whole.status();
  // A crash right after each event in turn, then a resume.
  const int events = static_cast<int>(Events("whole").size());
  for (int cut = 1; cut < events; ++cut) {
    SCOPED_TRACE(absl::StrCat("crash after seq ", cut));
    const std::string id = absl::StrCat("cut-", cut);
    SeedPrefix("whole", id, cut);
    absl::StatusOr<WorkflowState> resumed = engine.Resume(id);
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    for (const StepState& step : whole->steps) {
      EXPECT_EQ(resumed->FindStep(step.name)->output, step.output) << step.name;
    }
  }
  EXPECT_EQ(whole->FindStep("d")->output, "count=11;k=\"from b\";");
}

TEST_P(DataflowTest, NestedFanOutsAndAFanInThatWaitsForEveryBranch) {
  for (const char* name : {"start", "a", "b1", "b2", "b3", "report"}) {
    Register(name, [](StepContext& context) { return Ok(context.step()); });
  }
  Engine engine(store_.get(), &registry_, Options(4));
  absl::StatusOr<WorkflowState> state = engine.Run("nested",
                                                   DefinitionBuilder("nested")
                                                       .Step("start")
                                                       .FanOut("outer", {"start"})
                                                       .Step("a", {"outer"})
                                                       .FanOut("inner", {"outer"})
                                                       .Step("b1", {"inner"})
                                                       .Step("b2", {"inner"})
                                                       .FanIn("inner_join", {"b1", "b2"})
                                                       .Step("b3", {"inner_join"})
                                                       .FanIn("outer_join", {"a", "b3"})
                                                       .Step("report", {"outer_join"})
                                                       .Build(),
                                                   "");
  ASSERT_TRUE(state.ok()) << state.status();
  const int inner_join = IndexOf("nested", "step_started inner_join#1");
  EXPECT_GT(inner_join, IndexOf("nested", "step_completed b1#1"));
  EXPECT_GT(inner_join, IndexOf("nested", "step_completed b2#1"));
  const int outer_join = IndexOf("nested", "step_started outer_join#1");
  EXPECT_GT(outer_join, IndexOf("nested", "step_completed a#1"));
  EXPECT_GT(outer_join, IndexOf("nested", "step_completed b3#1"));
}

WorkflowDefinition MapDefinition(int map_concurrency) {
  return Parse(absl::StrCat(R"pb(
                              name: "map"
                              steps { name: "list" }
                              steps { name: "each" depends_on: "list" map_over: "list"
                                      map_concurrency:)pb",
                            map_concurrency, R"pb(}
                                                  steps { name: "join" depends_on: "each" }
  )pb"));
}

TEST_P(DataflowTest, AMapRunsAnInstancePerItemAndItsJoinSeesThemInIndexOrder) {
  constexpr int kLimit = 2;
  Mutex mu;
  int running = 0, most = 0;
  Register("list", [](StepContext&) { return Ok("x\ny\n\nz\nw\n"); });
  Register("each", [&](StepContext& context) -> absl::StatusOr<std::string> {
    {
      MutexLock lock(&mu);
      most = std::max(most, ++running);
      mu.AwaitWithDeadline([&]() { return most >= kLimit; }, absl::Now() + absl::Minutes(1));
      --running;
    }
    absl::SleepFor(absl::Milliseconds(4 - context.map_index()));  // later items finish first
    return absl::StrCat(context.map_index(), ":", context.map_item());
  });
  Register("join", [](StepContext& context) {
    std::vector<std::string> seen;
    for (const DependencyOutput& dep : context.dependencies()) {
      seen.push_back(absl::StrCat(dep.step, "=", dep.output));
    }
    return Ok(absl::StrJoin(seen, ","));
  });
  Engine engine(store_.get(), &registry_, Options(4));
  absl::StatusOr<WorkflowState> state = engine.Run("map", MapDefinition(kLimit), "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("join")->output, "each[0]=0:x,each[1]=1:y,each[2]=2:z,each[3]=3:w");
  EXPECT_THAT(Trace("map"), Contains("step_completed each[3]#1"));
  MutexLock lock(&mu);
  EXPECT_EQ(most, kLimit);
}

TEST_P(DataflowTest, AnEmptyMapGoesStraightToItsJoin) {
  Register("list", [](StepContext&) { return Ok(""); });
  Register("each", [](StepContext&) { return Ok("never"); });
  Register("join",
           [](StepContext& context) { return Ok(absl::StrCat(context.dependencies().size())); });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("empty-map", MapDefinition(0), "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("join")->output, "0");
  EXPECT_THAT(Trace("empty-map"),
              ElementsAre("workflow_started", "step_started list#1", "step_completed list#1",
                          "step_started each#1", "step_expanded each", "step_completed each#1",
                          "step_started join#1", "step_completed join#1", "workflow_completed"));
}

TEST_P(DataflowTest, AMapFailsOnceEveryInstanceHasEndedNamingTheFirstThatFailed) {
  Register("list", [](StepContext&) { return Ok("a\nb\nc\nd\ne\n"); });
  Register("each", [](StepContext& context) -> absl::StatusOr<std::string> {
    absl::SleepFor(absl::Milliseconds(3 * (5 - context.map_index())));  // later items end first
    if (context.map_item() == "b" || context.map_item() == "d") {
      return absl::UnavailableError(absl::StrCat("no ", context.map_item()));
    }
    return std::string(context.map_item());
  });
  Register("join", [](StepContext&) { return Ok("never"); });
  Engine engine(store_.get(), &registry_, Options(5));
  absl::StatusOr<WorkflowState> state =
      engine.Run("failing-map", Parse(R"pb(
                   name: "failing-map"
                   steps { name: "list" }
                   steps { name: "each" depends_on: "list" map_over: "list" non_critical: true }
                   steps { name: "join" depends_on: "each" }
                 )pb"),
                 "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED_WITH_FAILURES);
  const StepState* each = state->FindStep("each");
  EXPECT_EQ(each->status, StepStatus::kFailed);
  EXPECT_EQ(each->error.message(), "instance 'each[1]': no b");
  EXPECT_EQ(state->FindStep("join")->status, StepStatus::kSkipped);
  const int map_failed = IndexOf("failing-map", "step_failed each#1");
  for (const char* instance_ended :
       {"step_completed each[0]#1", "step_failed each[1]#1", "step_completed each[2]#1",
        "step_failed each[3]#1", "step_completed each[4]#1"}) {
    SCOPED_TRACE(instance_ended);
    EXPECT_GT(map_failed, IndexOf("failing-map", instance_ended));
  }
}

TEST_P(DataflowTest, ACrashMidMapResumesOnlyTheUnfinishedInstances) {
  Register("list", [](StepContext&) { return Ok("a\nb\nc\nd\n"); });
  Mutex mu;
  std::vector<std::string> ran;
  Register("each", [&](StepContext& context) {
    MutexLock lock(&mu);
    ran.push_back(std::string(context.step()));
    return Ok(context.map_item());
  });
  Register("join", [](StepContext&) { return Ok("joined"); });
  Engine engine(store_.get(), &registry_, Options(1));  // one instance at a time
  ASSERT_TRUE(engine.Run("whole-map", MapDefinition(0), "").ok());
  const int cut = IndexOf("whole-map", "step_completed each[1]#1") + 1;
  SeedPrefix("whole-map", "cut-map", cut);
  {
    MutexLock lock(&mu);
    ran.clear();
  }
  absl::StatusOr<WorkflowState> resumed = engine.Resume("cut-map");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  MutexLock lock(&mu);
  EXPECT_THAT(ran, ElementsAre("each[2]", "each[3]"));
  EXPECT_EQ(resumed->FindStep("join")->output, "joined");
}

// A step "flaky" retried up to `max_attempts`, after 2 ms, then 4 ms, ...
WorkflowDefinition RetryDefinition(int max_attempts, absl::string_view retry_options = "",
                                   absl::string_view step_options = "") {
  return Parse(absl::StrCat("name: 'retry' steps { name: 'flaky' retry { max_attempts: ",
                            max_attempts, " initial_backoff { nanos: 2000000 } multiplier: 2 ",
                            retry_options, " } ", step_options, " }"));
}

TEST_P(DataflowTest, RetriesWithBackoffUntilTheStepSucceeds) {
  Register("flaky", [](StepContext& context) -> absl::StatusOr<std::string> {
    if (context.attempt() < 3) return absl::UnavailableError("not yet");
    return std::string("third time");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("retry", RetryDefinition(3), "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(Trace("retry"),
              ElementsAre("workflow_started", "step_started flaky#1", "step_failed flaky#1",
                          "step_started flaky#2", "step_failed flaky#2", "step_started flaky#3",
                          "step_completed flaky#3", "workflow_completed"));
  std::vector<Event> events = Events("retry");
  for (int failed : {2, 4}) {
    ASSERT_TRUE(events[failed].step_failed().has_next_attempt_at());
    const absl::Time next =
        absl::FromUnixSeconds(events[failed].step_failed().next_attempt_at().seconds()) +
        absl::Nanoseconds(events[failed].step_failed().next_attempt_at().nanos());
    // The next attempt started no earlier than recorded, and the backoff doubled.
    EXPECT_GE(RecordedAt(events[failed + 1]), next);
    // The failure is recorded a moment after its retry time is computed from the backoff.
    const absl::Duration backoff = absl::Milliseconds(failed == 2 ? 2 : 4);
    EXPECT_GE(next - RecordedAt(events[failed]), backoff - absl::Milliseconds(1));
  }
}

TEST_P(DataflowTest, StopsRetryingOnANonRetryableCodeOrAfterTheLastAttempt) {
  const struct {
    const char* name;
    absl::StatusCode code;
    int max_attempts;
    int attempts;
  } cases[] = {
      {"non-retryable", absl::StatusCode::kInvalidArgument, 5, 1},
      {"exhausted", absl::StatusCode::kUnavailable, 2, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    StepRegistry registry;
    ASSERT_TRUE(registry
                    .Register("flaky",
                              [&c](StepContext&) -> absl::StatusOr<std::string> {
                                return absl::Status(c.code, "broken");
                              })
                    .ok());
    Engine engine(store_.get(), &registry);
    absl::Status status =
        engine
            .Run(c.name, RetryDefinition(c.max_attempts, "non_retryable_codes: 'INVALID_ARGUMENT'"),
                 "")
            .status();
    EXPECT_EQ(status.code(), c.code);
    absl::StatusOr<WorkflowState> state = engine.GetState(c.name);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->FindStep("flaky")->attempts, c.attempts);
    EXPECT_EQ(state->status, WORKFLOW_STATUS_FAILED);
  }
}

TEST_P(DataflowTest, ACrashDuringBackoffResumesTheWaitRatherThanRestartingIt) {
  const WorkflowDefinition definition = RetryDefinition(2);
  Event failed;
  failed.mutable_step_failed()->set_step("flaky");
  failed.mutable_step_failed()->set_attempt(1);
  failed.mutable_step_failed()->mutable_error()->set_code(14);
  const absl::Time next_attempt = absl::Now() + absl::Milliseconds(300);
  *failed.mutable_step_failed()->mutable_next_attempt_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(next_attempt));
  Seed("backoff", {Started(definition), StepStartedEvent("flaky", 1), failed});
  absl::Time ran_at;
  Register("flaky", [&](StepContext&) {
    ran_at = absl::Now();
    return Ok("done");
  });
  Engine engine(store_.get(), &registry_);
  ASSERT_TRUE(engine.Resume("backoff").ok());
  EXPECT_GE(ran_at, next_attempt);
  EXPECT_EQ(engine.GetState("backoff")->FindStep("flaky")->attempts, 2);
}

TEST_P(DataflowTest, ATimeoutCancelsTheAttemptRecordsItAndRetriesIt) {
  Register("flaky", [](StepContext& context) -> absl::StatusOr<std::string> {
    if (context.attempt() == 1) return WaitForCancellation(context);
    return std::string("fast this time");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state =
      engine.Run("timeout", RetryDefinition(2, "", "timeout { nanos: 50000000 }"), "");
  ASSERT_TRUE(state.ok()) << state.status();
  std::vector<Event> events = Events("timeout");
  ASSERT_TRUE(events[2].has_step_failed());
  EXPECT_TRUE(events[2].step_failed().timed_out());
  EXPECT_EQ(events[2].step_failed().error().code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(events[2].step_failed().error().message(), HasSubstr("timed out after 50ms"));
  EXPECT_EQ(state->FindStep("flaky")->output, "fast this time");
}

TEST_P(DataflowTest, ACancellationWhileARetryWaitsStopsTheRunWithoutWaitingForIt) {
  Register("flaky", [](StepContext&) -> absl::StatusOr<std::string> {
    return absl::UnavailableError("not yet");
  });
  CancellationToken token;
  EngineOptions options;
  // Cancelled once the failure and its retry, due in 30 s, are recorded: nothing runs then,
  // and no outcome will wake the driver.
  options.on_commit = [&](absl::string_view, absl::Span<const Event> batch) {
    for (const Event& event : batch) {
      if (event.has_step_failed()) token.Cancel("caller gave up");
    }
  };
  Engine engine(store_.get(), &registry_, options);
  const WorkflowDefinition definition = Parse(R"pb(
    name: "waiting"
    steps {
      name: "flaky"
      retry {
        max_attempts: 2
        initial_backoff { seconds: 30 }
      }
    }
  )pb");
  const absl::Time begin = absl::Now();
  const absl::Status result = engine.Run("waiting", definition, "", token).status();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
  EXPECT_LT(absl::Now() - begin, absl::Seconds(10));
  EXPECT_EQ(Trace("waiting").back(), "workflow_cancelled");
}

// Where each step ran, by step name.
class ThreadsOfSteps {
 public:
  StepFunction Record() {
    return [this](StepContext& context) {
      MutexLock lock(&mu_);
      threads_[std::string(context.step())] = std::this_thread::get_id();
      return Ok("");
    };
  }
  std::thread::id Of(absl::string_view step) {
    MutexLock lock(&mu_);
    return threads_.at(std::string(step));  // throws, failing the test, if it never ran
  }

 private:
  Mutex mu_;
  std::map<std::string, std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

TEST_P(DataflowTest, OnlyAStepThatRunsAloneWithoutATimeoutRunsInTheDrivingThread) {
  ThreadsOfSteps threads;
  for (const char* name : {"first", "left", "right", "timed", "last"}) {
    Register(name, threads.Record());
  }
  const WorkflowDefinition definition = Parse(R"pb(
    name: "threads"
    steps { name: "first" }
    steps { name: "left" depends_on: "first" }
    steps { name: "right" depends_on: "first" }
    steps {
      name: "timed"
      depends_on: [ "left", "right" ]
      timeout { seconds: 60 }
    }
    steps { name: "last" depends_on: "timed" }
  )pb");
  Engine engine(store_.get(), &registry_);
  ASSERT_TRUE(engine.Run("threads", definition, "").ok());
  const std::thread::id driving_thread = std::this_thread::get_id();
  EXPECT_EQ(threads.Of("first"), driving_thread);
  EXPECT_EQ(threads.Of("last"), driving_thread);
  // Started together, they run on the pool; so does a step whose timeout must be enforced.
  EXPECT_NE(threads.Of("left"), driving_thread);
  EXPECT_NE(threads.Of("right"), driving_thread);
  EXPECT_NE(threads.Of("timed"), driving_thread);
}

TEST_P(DataflowTest, AStepThatStartsWhileARetryWaitsRunsOnThePool) {
  ThreadsOfSteps threads;
  Register("flaky", [](StepContext& context) -> absl::StatusOr<std::string> {
    if (context.attempt() == 1) return absl::UnavailableError("not yet");
    return std::string("done");
  });
  absl::Notification failure_recorded;
  StepFunction record = threads.Record();
  Register("other", [&](StepContext& context) {
    failure_recorded.WaitForNotificationWithTimeout(absl::Minutes(1));
    return record(context);
  });
  Register("next", threads.Record());
  EngineOptions options;
  options.on_commit = [&](absl::string_view, absl::Span<const Event> batch) {
    for (const Event& event : batch) {
      if (event.has_step_failed() && !failure_recorded.HasBeenNotified()) {
        failure_recorded.Notify();
      }
    }
  };
  Engine engine(store_.get(), &registry_, options);
  const WorkflowDefinition definition = Parse(R"pb(
    name: "retrying"
    steps {
      name: "flaky"
      retry {
        max_attempts: 2
        initial_backoff { nanos: 200000000 }
      }
    }
    steps { name: "other" }
    steps { name: "next" depends_on: "other" }
  )pb");
  // `next` starts after `other`, once `flaky` failed: while its retry waits 200 ms.
  ASSERT_TRUE(engine.Run("retrying", definition, "").ok());
  EXPECT_NE(threads.Of("next"), std::this_thread::get_id());
}

TEST_P(DataflowTest, ANonCriticalFailureSkipsItsDependentsAndCompletesWithFailures) {
  Register("optional", [](StepContext&) -> absl::StatusOr<std::string> {
    return absl::UnavailableError("lint server down");
  });
  for (const char* name : {"after", "later", "main"}) {
    Register(name, [](StepContext& context) { return Ok(context.step()); });
  }
  WorkflowDefinition definition = Parse(R"pb(
    name: "partial"
    steps { name: "optional" non_critical: true }
    steps { name: "after" depends_on: "optional" }
    steps { name: "later" depends_on: "after" }
    steps { name: "main" }
  )pb");
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("partial", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED_WITH_FAILURES);
  EXPECT_THAT(state->failed_steps, ElementsAre("optional"));
  EXPECT_EQ(state->FindStep("after")->status, StepStatus::kSkipped);
  EXPECT_EQ(state->FindStep("later")->status, StepStatus::kSkipped);
  EXPECT_EQ(state->FindStep("main")->output, "main");
}

TEST_P(DataflowTest, TheContinuePolicyRunsEverythingThatDoesNotDependOnAFailure) {
  Latch both(2);
  Register("bad", [&](StepContext&) -> absl::StatusOr<std::string> {
    both.ArriveAndWait();
    return absl::InternalError("broken");
  });
  Register("after", [](StepContext&) { return Ok("never"); });
  Register("independent", [&](StepContext&) {
    both.ArriveAndWait();
    absl::SleepFor(absl::Milliseconds(20));  // still running when `bad` fails
    return Ok("finished");
  });
  WorkflowDefinition definition = Parse(R"pb(
    name: "continue"
    failure_policy: FAILURE_POLICY_CONTINUE
    steps { name: "bad" }
    steps { name: "after" depends_on: "bad" }
    steps { name: "independent" }
  )pb");
  Engine engine(store_.get(), &registry_, Options(2));
  absl::Status status = engine.Run("continue", definition, "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  std::vector<std::string> trace = Trace("continue");
  EXPECT_THAT(trace, Contains("step_completed independent#1"));
  EXPECT_THAT(trace, Contains("step_skipped after"));
  EXPECT_EQ(trace.back(), "workflow_failed");
}

TEST_P(DataflowTest, StepsSharingAResourceNeverExceedItsCapacity) {
  for (int capacity : {1, 2}) {
    SCOPED_TRACE(capacity);
    StepRegistry registry;
    Mutex mu;
    int inside = 0, most = 0;
    WorkflowDefinition definition = Parse(
        absl::StrCat("name: 'locks' resources { name: 'checkout' capacity: ", capacity, " }"));
    for (int i = 0; i < 4; ++i) {
      StepDefinition* step = definition.add_steps();
      step->set_name(absl::StrCat("s", i));
      step->add_locks("checkout");
      ASSERT_TRUE(registry
                      .Register(step->name(),
                                [&](StepContext&) {
                                  {
                                    MutexLock lock(&mu);
                                    most = std::max(most, ++inside);
                                  }
                                  absl::SleepFor(
                                      absl::Milliseconds(5));  // would overlap without the lock
                                  MutexLock lock(&mu);
                                  --inside;
                                  return Ok("");
                                })
                      .ok());
    }
    Engine engine(store_.get(), &registry, Options(4));
    const std::string id = absl::StrCat("locks-", capacity);
    ASSERT_TRUE(engine.Run(id, definition, "").ok());
    MutexLock lock(&mu);
    EXPECT_LE(most, capacity);
    EXPECT_THAT(Trace(id), Contains(absl::StrCat("step_blocked s", capacity)));
  }
}

TEST_P(DataflowTest, ExceedingTheBudgetFailsTheWorkflowAndCancelsRunningSteps) {
  Latch costly_done(3);
  for (const char* name : {"a", "b"}) {
    Register(name, [&](StepContext& context) {
      context.AddCost(6);
      costly_done.ArriveAndWait();
      return Ok("");
    });
  }
  Register("slow", [&](StepContext& context) {
    costly_done.ArriveAndWait();
    return WaitForCancellation(context);
  });
  WorkflowDefinition definition = Parse(R"pb(
    name: "budget"
    budget: 10
    steps { name: "a" }
    steps { name: "b" }
    steps { name: "slow" }
  )pb");
  Engine engine(store_.get(), &registry_, Options(3));
  absl::Status status = engine.Run("budget", definition, "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("budget exceeded: spent 12 of 10"));
  absl::StatusOr<WorkflowState> state = engine.GetState("budget");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->cost_spent, 12);
  EXPECT_EQ(state->FindStep("slow")->status, StepStatus::kCancelled);
}

TEST_P(DataflowTest, ABackgroundBranchRunsBesideTheMainLineUntilASyncPoint) {
  Latch overlap(2);
  Register("background", [&](StepContext&) -> absl::StatusOr<std::string> {
    if (!overlap.ArriveAndWait()) return absl::DeadlineExceededError("main line did not run");
    return std::string("bg");
  });
  Register("background_more", [](StepContext&) { return Ok("bg2"); });
  Register("main", [&](StepContext&) -> absl::StatusOr<std::string> {
    if (!overlap.ArriveAndWait()) return absl::DeadlineExceededError("no overlap");
    return std::string("main");
  });
  Register("after_sync", [](StepContext& context) {
    std::vector<std::string> seen;
    for (const DependencyOutput& dep : context.dependencies())
      seen.push_back(std::string(dep.step));
    return Ok(absl::StrJoin(seen, ","));
  });
  WorkflowDefinition definition = Parse(R"pb(
    name: "background"
    steps { name: "background" background: true }
    steps { name: "background_more" depends_on: "background" }
    steps { name: "main" }
    steps { name: "sync" kind: STEP_KIND_SYNC depends_on: "main" }
    steps { name: "after_sync" depends_on: "sync" }
  )pb");
  Engine engine(store_.get(), &registry_, Options(2));
  absl::StatusOr<WorkflowState> state = engine.Run("background", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_GT(IndexOf("background", "step_started sync#1"),
            IndexOf("background", "step_completed background_more#1"));
}

TEST_P(DataflowTest, AnOversizedOutputFailsTheStepAndStaysOutOfHistory) {
  Register("big", [](StepContext&) { return Ok(std::string(2000, 'x')); });
  EngineOptions options = Options(2);
  options.max_payload_bytes = 1000;
  Engine engine(store_.get(), &registry_, options);
  absl::Status status = engine.Run("big", DefinitionBuilder("w").Step("big").Build(), "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(),
              HasSubstr("step 'big' output 2000 bytes, more than the limit of 1000"));
  for (const Event& event : Events("big")) EXPECT_LT(event.ByteSizeLong(), 1000u);
  absl::Status input =
      engine.Run("big-input", DefinitionBuilder("w").Step("big").Build(), std::string(1001, 'i'))
          .status();
  EXPECT_EQ(input.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Events("big-input").empty());
}

TEST_P(DataflowTest, AHistoryAtItsLimitFailsTheWorkflowWithRoomToSaySo) {
  const WorkflowDefinition chain = Chain(20, [](StepContext&) { return Ok(""); });
  EngineOptions options = Options(1);
  options.max_history_events = 15;
  Engine engine(store_.get(), &registry_, options);
  absl::Status status = engine.Run("long", chain, "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("reached its limit of 15 events"));
  std::vector<Event> events = Events("long");
  EXPECT_LE(events.size(), 15u);
  EXPECT_TRUE(events.back().has_workflow_failed());
}

INSTANTIATE_TEST_SUITE_P(Stores, DataflowTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite), StoreName);

}  // namespace
}  // namespace chorus
