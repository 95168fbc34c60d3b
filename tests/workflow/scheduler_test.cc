// The scheduling rules as tables: a definition and a history prefix in, the decisions out. No
// threads, no store, no sleeps.
#include "workflow/internal/scheduler.h"

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "event/history.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// The fold of a workflow started with `definition` (text format) followed by `events` (text
// format, numbered from seq 2, each recorded a second after the one before).
WorkflowState Fold(const std::string& definition, const std::vector<std::string>& events) {
  History history("wf");
  Event started;
  *started.mutable_workflow_started()->mutable_definition() = Parse<WorkflowDefinition>(definition);
  started.set_seq(1);
  EXPECT_TRUE(history.Apply(started).ok());
  for (const std::string& text : events) {
    Event event = Parse<Event>(text);
    event.set_seq(history.state().last_seq + 1);
    SetRecordedAt(absl::FromUnixSeconds(1'700'000'000 + event.seq()), &event);
    const absl::Status applied = history.Apply(event);
    EXPECT_TRUE(applied.ok()) << applied << " at " << text;
  }
  return std::move(history).TakeState();
}

std::vector<std::string> Names(const WorkflowState& state, const std::vector<int>& steps) {
  std::vector<std::string> names;
  for (int step : steps) names.push_back(state.steps[step].name);
  return names;
}

// Seconds since the epoch of a scheduled retry, in history's Timestamp.
constexpr int64_t kRetryAt = 1'800'000'000;
const std::string kRetryScheduled = absl::StrCat("next_attempt_at { seconds: ", kRetryAt, " }");

// A definition, a history prefix, and the decisions expected.
struct RecordedCase {
  std::string name;
  std::string definition;           // text format
  std::vector<std::string> events;  // text format, without seq
  std::vector<std::string> ready;
  std::vector<std::string> retries;  // each at kRetryAt
  std::vector<std::string> tolerated;
  bool stopping = false;
  std::string failed_step;    // "" when nothing fails the run
  std::string failure;        // a part of the failure's message
  std::string cancel_reason;  // "" when the run is not cancelled

  RecordedCase Events(std::vector<std::string> v) && {
    events = std::move(v);
    return std::move(*this);
  }
  RecordedCase Ready(std::vector<std::string> v) && {
    ready = std::move(v);
    return std::move(*this);
  }
  RecordedCase Retries(std::vector<std::string> v) && {
    retries = std::move(v);
    return std::move(*this);
  }
  RecordedCase Tolerated(std::vector<std::string> v) && {
    tolerated = std::move(v);
    return std::move(*this);
  }
  RecordedCase Stopping() && {
    stopping = true;
    return std::move(*this);
  }
  RecordedCase Fails(std::string step, std::string message) && {
    failed_step = std::move(step);
    failure = std::move(message);
    return std::move(*this);
  }
  RecordedCase CancelledFor(std::string reason) && {
    cancel_reason = std::move(reason);
    return std::move(*this);
  }
};

void PrintTo(const RecordedCase& c, std::ostream* os) { *os << c.name; }

RecordedCase Case(std::string name, std::string definition) {
  RecordedCase c;
  c.name = std::move(name);
  c.definition = std::move(definition);
  return c;
}

const char kChain[] = R"pb(
  steps { name: "a" }
  steps { name: "b" depends_on: "a" }
  steps { name: "c" })pb";
const char kChainWithRetries[] = R"pb(
  steps {
    name: "a"
    retry { max_attempts: 3 }
  }
  steps { name: "b" depends_on: "a" }
  steps { name: "c" })pb";
const char kNonCritical[] = R"pb(
  steps { name: "a" non_critical: true }
  steps { name: "b" depends_on: "a" }
  steps { name: "c" })pb";
const char kContinue[] = R"pb(
  failure_policy: FAILURE_POLICY_CONTINUE
  steps { name: "a" }
  steps { name: "b" depends_on: "a" }
  steps { name: "c" })pb";
const char kBudget[] = R"pb(
  budget: 3
  steps { name: "a" }
  steps { name: "b" }
  steps { name: "c" depends_on: "a" depends_on: "b" })pb";
const char kMap[] = R"pb(
  steps { name: "list" }
  steps { name: "m" map_over: "list" }
  steps { name: "after" depends_on: "m" })pb";
const char kNonCriticalMap[] = R"pb(
  steps { name: "list" }
  steps { name: "m" map_over: "list" non_critical: true }
  steps { name: "after" depends_on: "m" })pb";
const char kBackground[] = R"pb(
  steps { name: "slow" background: true }
  steps { name: "fast" }
  steps { name: "sync" kind: STEP_KIND_SYNC }
  steps { name: "last" depends_on: "sync" })pb";
const char kLocked[] = R"pb(
  resources { name: "db" capacity: 1 }
  steps { name: "a" locks: "db" }
  steps { name: "b" locks: "db" })pb";
const char kFanOutIn[] = R"pb(
  steps { name: "split" kind: STEP_KIND_FAN_OUT }
  steps { name: "x" depends_on: "split" }
  steps { name: "y" depends_on: "split" }
  steps { name: "join" kind: STEP_KIND_FAN_IN depends_on: "x" depends_on: "y" })pb";

// implement -> test; test -> done when it succeeds, back to implement when it fails.
const char kFixLoop[] = R"pb(
  steps { name: "implement" }
  steps { name: "test" depends_on: "implement" }
  steps { name: "done" }
  edges { from: "test" to: "done" condition: "outcome=success" }
  edges { from: "test" to: "implement" condition: "outcome=fail" })pb";
// check routes to one of two paths on a state key; report joins both.
const char kBranch[] = R"pb(
  steps { name: "check" route: ROUTE_FIRST }
  steps { name: "quick" }
  steps { name: "full" }
  steps { name: "report" depends_on: [ "quick", "full" ] }
  edges { from: "check" to: "quick" condition: "context.size=small" }
  edges { from: "check" to: "full" condition: "context.size!=small" })pb";

const std::vector<RecordedCase>& RecordedCases() {
  static const auto* cases = new std::vector<RecordedCase>{
      Case("nothing recorded: every step without dependencies", kChain).Ready({"a", "c"}),
      Case("a completion makes its dependents ready", kChain)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_completed { step: "a" attempt: 1 output: "A" })pb"})
          .Ready({"b", "c"}),
      Case("an attempt cut off by a crash runs again", kChain)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_started { step: "c" attempt: 1 })pb",
                   R"pb(step_completed { step: "c" attempt: 1 })pb"})
          .Ready({"a"}),
      Case("a scheduled retry keeps its time; its dependents wait", kChainWithRetries)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   absl::StrCat(R"pb(step_failed { step: "a" attempt: 1
                                                   error { code: 13 })pb",
                                kRetryScheduled, " }")})
          .Ready({"c"})
          .Retries({"a"}),
      Case("a timed-out attempt with a retry left waits for it like any failure", kChainWithRetries)
          .Events(
              {R"pb(step_started { step: "a" attempt: 1 })pb",
               absl::StrCat(R"pb(step_failed { step: "a" attempt: 1 timed_out: true
                                               error { code: 4 message: "timed out after 1s" })pb",
                            kRetryScheduled, " }")})
          .Ready({"c"})
          .Retries({"a"}),
      Case("a failure for good stops the run under fail-fast", kChain)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "a"
                          attempt: 1
                          error { code: 13 message: "boom" }
                        })pb"})
          .Ready({"c"})
          .Stopping()
          .Fails("a", "boom"),
      Case("the first failed step by definition order is the run's failure", kChain)
          .Events({R"pb(step_started { step: "c" attempt: 1 })pb",
                   R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "c"
                          attempt: 1
                          error { code: 13 message: "c" }
                        })pb",
                   R"pb(step_failed {
                          step: "a"
                          attempt: 1
                          error { code: 13 message: "a" }
                        })pb"})
          .Stopping()
          .Fails("a", "a"),
      Case("a non-critical step's failure is tolerated and the run goes on", kNonCritical)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb", R"pb(step_failed {
                                                                          step: "a"
                                                                          attempt: 1
                                                                          error { code: 13 }
                                                                        })pb",
                   R"pb(step_skipped { step: "b" reason: "depends on failed step 'a'" })pb"})
          .Ready({"c"})
          .Tolerated({"a"}),
      Case("under the continue policy a failure fails the run at its end only", kContinue)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "a"
                          attempt: 1
                          error { code: 13 message: "boom" }
                        })pb",
                   R"pb(step_skipped { step: "b" reason: "depends on failed step 'a'" })pb"})
          .Ready({"c"})
          .Fails("a", "boom"),
      Case("a cancelled step means the run was stopping: it finishes stopping", kChain)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_cancelled { step: "a" attempt: 1 reason: "user asked" })pb"})
          .Ready({"c"})
          .Stopping()
          .CancelledFor("user asked"),
      Case("a spent budget stops the run, charged to the last step that cost", kBudget)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_started { step: "b" attempt: 1 })pb",
                   R"pb(step_completed { step: "a" attempt: 1 cost: 2 })pb",
                   R"pb(step_completed { step: "b" attempt: 1 cost: 2 })pb"})
          .Ready({"c"})
          .Stopping()
          .Fails("b", "budget exceeded: spent 4 of 3"),
      Case("a budget not yet spent lets the run go on", kBudget)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_completed { step: "a" attempt: 1 cost: 3 })pb"})
          .Ready({"b"}),
      Case("a map step is ready once what it maps over completed", kMap)
          .Events({R"pb(step_started { step: "list" attempt: 1 })pb",
                   R"pb(step_completed { step: "list" attempt: 1 output: "x\ny\n" })pb"})
          .Ready({"m"}),
      Case("an expanded map step's instances are ready in its place, not the map step", kMap)
          .Events({R"pb(step_started { step: "list" attempt: 1 })pb",
                   R"pb(step_completed { step: "list" attempt: 1 output: "x\ny\n" })pb",
                   R"pb(step_started { step: "m" attempt: 1 })pb",
                   R"pb(step_expanded { step: "m" items: "x" items: "y" })pb",
                   R"pb(step_started { step: "m[0]" attempt: 1 })pb",
                   R"pb(step_completed { step: "m[0]" attempt: 1 })pb"})
          .Ready({"m[1]"}),
      Case("an instance's failure for good stops the run under fail-fast", kMap)
          .Events({R"pb(step_started { step: "list" attempt: 1 })pb",
                   R"pb(step_completed { step: "list" attempt: 1 output: "x\ny\n" })pb",
                   R"pb(step_started { step: "m" attempt: 1 })pb",
                   R"pb(step_expanded { step: "m" items: "x" items: "y" })pb",
                   R"pb(step_started { step: "m[0]" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "m[0]"
                          attempt: 1
                          error { code: 13 message: "x" }
                        })pb"})
          .Ready({"m[1]"})
          .Stopping()
          .Fails("m[0]", "x"),
      Case("a non-critical instance's failure is its map step's to report, not its own",
           kNonCriticalMap)
          .Events({R"pb(step_started { step: "list" attempt: 1 })pb",
                   R"pb(step_completed { step: "list" attempt: 1 output: "x\ny\n" })pb",
                   R"pb(step_started { step: "m" attempt: 1 })pb",
                   R"pb(step_expanded { step: "m" items: "x" items: "y" })pb",
                   R"pb(step_started { step: "m[0]" attempt: 1 })pb", R"pb(step_failed {
                                                                             step: "m[0]"
                                                                             attempt: 1
                                                                             error { code: 13 }
                                                                           })pb"})
          .Ready({"m[1]"}),
      Case("a sync step waits for the background steps before it", kBackground)
          .Events({R"pb(step_started { step: "slow" attempt: 1 })pb",
                   R"pb(step_started { step: "fast" attempt: 1 })pb",
                   R"pb(step_completed { step: "fast" attempt: 1 })pb"})
          .Ready({"slow"}),
      Case("a sync step starts once the background steps completed", kBackground)
          .Events({R"pb(step_started { step: "slow" attempt: 1 })pb",
                   R"pb(step_completed { step: "slow" attempt: 1 })pb"})
          .Ready({"fast", "sync"}),
      Case("a step blocked on a lock is ready: the lock decides when it starts", kLocked)
          .Events({R"pb(step_started { step: "a" attempt: 1 })pb",
                   R"pb(step_blocked { step: "b" resource: "db" })pb"})
          .Ready({"a", "b"}),
      Case("a fan-in waits for every branch", kFanOutIn)
          .Events({R"pb(step_started { step: "split" attempt: 1 })pb",
                   R"pb(step_completed { step: "split" attempt: 1 })pb",
                   R"pb(step_started { step: "x" attempt: 1 })pb",
                   R"pb(step_completed { step: "x" attempt: 1 })pb"})
          .Ready({"y"}),
      Case("a loop no edge enters starts at its first step", kFixLoop).Ready({"implement"}),
      Case("a failure an edge takes is handled: the loop's next visit is ready", kFixLoop)
          .Events({R"pb(step_started { step: "implement" attempt: 1 })pb",
                   R"pb(step_completed { step: "implement" attempt: 1 taken: "test" })pb",
                   R"pb(step_started { step: "test" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "test"
                          attempt: 1
                          error { code: 13 message: "1 test fails" }
                          taken: "implement"
                        })pb"})
          .Ready({"implement"}),
      Case("a failure no edge takes stops the run", kFixLoop)
          .Events({R"pb(step_started { step: "implement" attempt: 1 })pb",
                   R"pb(step_completed { step: "implement" attempt: 1 taken: "test" })pb",
                   R"pb(step_started { step: "test" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "test"
                          attempt: 1
                          error { code: 13 message: "boom" }
                        })pb"})
          .Stopping()
          .Fails("test", "boom"),
      Case("a visit cut off by a crash runs again as its next attempt", kFixLoop)
          .Events({R"pb(step_started { step: "implement" attempt: 1 })pb",
                   R"pb(step_completed { step: "implement" attempt: 1 taken: "test" })pb",
                   R"pb(step_started { step: "test" attempt: 1 })pb",
                   R"pb(step_failed {
                          step: "test"
                          attempt: 1
                          error { code: 13 message: "1 test fails" }
                          taken: "implement"
                        })pb",
                   R"pb(step_started { step: "implement" attempt: 1 visit: 2 })pb"})
          .Ready({"implement"}),
      Case("a decision's path is ready; the join waits for the other path to resolve", kBranch)
          .Events({R"pb(step_started { step: "check" attempt: 1 })pb",
                   R"pb(step_completed { step: "check" attempt: 1 taken: "full" })pb"})
          .Ready({"full"}),
  };
  return *cases;
}

class DecideFromRecordedTest : public testing::TestWithParam<RecordedCase> {};

TEST_P(DecideFromRecordedTest, Decides) {
  const RecordedCase& c = GetParam();
  const WorkflowState state = Fold(c.definition, c.events);
  const RecordedDecisions decisions =
      DecideFromRecorded(state, EffectiveDependencies(state.definition()));
  EXPECT_THAT(Names(state, decisions.ready), ElementsAreArray(c.ready));
  std::vector<std::string> retries;
  for (const auto& [step, at] : decisions.retries) {
    retries.push_back(state.steps[step].name);
    EXPECT_EQ(at, absl::FromUnixSeconds(kRetryAt));
  }
  EXPECT_THAT(retries, ElementsAreArray(c.retries));
  EXPECT_THAT(Names(state, decisions.tolerated), ElementsAreArray(c.tolerated));
  EXPECT_EQ(decisions.stopping, c.stopping);
  if (c.failed_step.empty()) {
    EXPECT_FALSE(decisions.failure.has_value());
  } else {
    ASSERT_TRUE(decisions.failure.has_value());
    ASSERT_GE(decisions.failure->first, 0);
    EXPECT_EQ(state.steps[decisions.failure->first].name, c.failed_step);
    EXPECT_THAT(decisions.failure->second.message(), HasSubstr(c.failure));
  }
  EXPECT_EQ(decisions.cancel_reason.value_or(""), c.cancel_reason);
}

INSTANTIATE_TEST_SUITE_P(Histories, DecideFromRecordedTest, testing::ValuesIn(RecordedCases()),
                         [](const testing::TestParamInfo<RecordedCase>& info) {
                           return absl::StrCat("Case", info.index);
                         });

struct RetryCase {
  std::string name;
  std::string policy;
  int attempt;
  absl::StatusCode code;
  std::optional<absl::Duration> wait;  // nullopt: no further attempt
};

TEST(NextAttemptAtTest, FollowsThePolicy) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  const std::vector<RetryCase> cases = {
      {"no policy: no retry", "", 1, absl::StatusCode::kInternal, std::nullopt},
      {"one attempt allowed: no retry", "max_attempts: 1", 1, absl::StatusCode::kInternal,
       std::nullopt},
      {"no backoff: at once", "max_attempts: 2", 1, absl::StatusCode::kInternal,
       absl::ZeroDuration()},
      {"the last attempt: no retry", "max_attempts: 3", 3, absl::StatusCode::kInternal,
       std::nullopt},
      {"first backoff", "max_attempts: 5 initial_backoff { seconds: 2 } multiplier: 3", 1,
       absl::StatusCode::kInternal, absl::Seconds(2)},
      {"backoff grows by the multiplier",
       "max_attempts: 5 initial_backoff { seconds: 2 } multiplier: 3", 3,
       absl::StatusCode::kInternal, absl::Seconds(18)},
      {"a multiplier of 0 is 1", "max_attempts: 5 initial_backoff { seconds: 2 }", 4,
       absl::StatusCode::kInternal, absl::Seconds(2)},
      {"max_backoff caps it",
       "max_attempts: 9 initial_backoff { seconds: 1 } multiplier: 10 max_backoff { seconds: 60 }",
       4, absl::StatusCode::kInternal, absl::Seconds(60)},
      {"a code named not retryable: no retry",
       "max_attempts: 5 non_retryable_codes: \"INVALID_ARGUMENT\"", 1,
       absl::StatusCode::kInvalidArgument, std::nullopt},
      {"other codes are retried", "max_attempts: 5 non_retryable_codes: \"INVALID_ARGUMENT\"", 1,
       absl::StatusCode::kUnavailable, absl::ZeroDuration()},
  };
  for (const RetryCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::optional<absl::Time> next =
        NextAttemptAt(Parse<RetryPolicy>(c.policy), c.attempt, absl::Status(c.code, "failed"), now);
    ASSERT_EQ(next.has_value(), c.wait.has_value());
    if (next) {
      EXPECT_EQ(*next - now, *c.wait);
    }
  }
}

TEST(EffectOfFinalFailureTest, NonCriticalThenPolicy) {
  const auto effect = [](const std::string& definition, const std::string& step) {
    return EffectOfFinalFailure(Parse<WorkflowDefinition>(definition), Parse<StepDefinition>(step));
  };
  EXPECT_EQ(effect("", "name: 'a'"), FinalFailure::kStopsTheRun);
  EXPECT_EQ(effect("", "name: 'a' non_critical: true"), FinalFailure::kTolerated);
  EXPECT_EQ(effect("failure_policy: FAILURE_POLICY_CONTINUE", "name: 'a'"),
            FinalFailure::kFailsAtTheEnd);
  EXPECT_EQ(effect("failure_policy: FAILURE_POLICY_CONTINUE", "name: 'a' non_critical: true"),
            FinalFailure::kTolerated);
}

TEST(BudgetTest, OverOnlyWhenSpentIsMoreThanTheBudget) {
  const std::string definition = R"pb(budget: 3
                                      steps { name: "a" }
                                      steps { name: "b" })pb";
  EXPECT_FALSE(OverBudget(Fold(definition, {})));
  EXPECT_FALSE(
      OverBudget(Fold(definition, {R"pb(step_started { step: "a" attempt: 1 })pb",
                                   R"pb(step_completed { step: "a" attempt: 1 cost: 3 })pb"})));
  const WorkflowState over =
      Fold(definition, {R"pb(step_started { step: "a" attempt: 1 })pb", R"pb(step_failed {
                                                                               step: "a"
                                                                               attempt: 1
                                                                               cost: 3.5
                                                                               error { code: 13 }
                                                                             })pb"});
  EXPECT_TRUE(OverBudget(over));
  EXPECT_EQ(BudgetExceeded(over).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(OverBudget(Fold(R"pb(steps { name: "a" })pb",
                               {R"pb(step_started { step: "a" attempt: 1 })pb",
                                R"pb(step_completed { step: "a" attempt: 1 cost: 99 })pb"})))
      << "no budget: nothing is over it";
}

// A run's scheduling as a script: a definition and a history prefix, then actions, each with the
// events the scheduler records for it (each event as its text format on one line, without seq
// and time) and the runs it asks to cancel.
struct Action {
  enum Kind {
    kStart,
    kComplete,
    kFail,
    kTimeOut,
    kCancel,
    kRetriesDue,
    kStopForCancellation,
    kEnd
  };
  Kind kind;
  std::string step;                   // for outcomes
  std::string text;                   // kComplete: output; kFail: error message; kCancel: reason
  int64_t at = 0;                     // kFail, kRetriesDue: seconds since kStart's time
  double cost = 0;                    // outcomes
  std::vector<std::string> expected;  // the events recorded
  std::vector<std::string> cancelled_running;  // the reasons running steps are cancelled for
};

Action Start(std::vector<std::string> expected) {
  return {Action::kStart, "", "", 0, 0, std::move(expected), {}};
}
Action Complete(std::string step, std::vector<std::string> expected, double cost = 0) {
  return {Action::kComplete, std::move(step), "out", 0, cost, std::move(expected), {}};
}
Action Fail(std::string step, std::string error, std::vector<std::string> expected,
            std::vector<std::string> cancelled = {}, int64_t at = 0) {
  return {Action::kFail,       std::move(step),     std::move(error), at, 0,
          std::move(expected), std::move(cancelled)};
}
Action RetriesDue(int64_t at, std::vector<std::string> expected) {
  Action action{Action::kRetriesDue, "", "", at, 0, {}, {}};
  action.expected = std::move(expected);  // what the StartReady after it records
  return action;
}
Action End(std::vector<std::string> expected) {
  return {Action::kEnd, "", "", 0, 0, std::move(expected), {}};
}

struct RunCase {
  std::string name;
  std::string definition;
  std::vector<std::string> history;
  SchedulerLimits limits;
  std::vector<Action> actions;
};

void PrintTo(const RunCase& c, std::ostream* os) { *os << c.name; }

constexpr int64_t kNow = 1'700'000'000;

// The event without seq and time, on one line.
std::string Text(Event event) {
  event.clear_seq();
  event.clear_recorded_at();
  return event.ShortDebugString();
}

const std::vector<RunCase>& RunCases() {
  static const auto* cases = new std::vector<RunCase>{
      {"starts ready steps in definition order within the concurrency",
       R"pb(steps { name: "a" }
            steps { name: "b" }
            steps { name: "c" })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })",
               R"(step_started { step: "b" attempt: 1 })"}),
        Complete("b", {R"(step_completed { step: "b" attempt: 1 output: "out" })"}),
        Start({R"(step_started { step: "c" attempt: 1 })"})}},
      {"a completion starts its dependents; the last ends the run with the final state",
       R"pb(steps { name: "a" }
            steps { name: "b" depends_on: "a" })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })"}), Start({}),
        Complete("a", {R"(step_completed { step: "a" attempt: 1 output: "out" })"}),
        Start({R"(step_started { step: "b" attempt: 1 })"}),
        Complete("b", {R"(step_completed { step: "b" attempt: 1 output: "out" })"}),
        End({R"(workflow_completed { })"})}},
      {"a failure with attempts left waits for its backoff, then runs again",
       R"pb(steps {
              name: "a"
              retry {
                max_attempts: 3
                initial_backoff { seconds: 10 }
                multiplier: 2
              }
            })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })"}),
        Fail(
            "a", "flaky",
            {absl::StrCat(
                R"(step_failed { step: "a" attempt: 1 error { code: 13 message: "flaky" } next_attempt_at { seconds: )",
                kNow + 10, " } }")}),
        RetriesDue(9, {}), RetriesDue(10, {R"(step_started { step: "a" attempt: 2 })"}),
        Fail(
            "a", "flaky",
            {absl::StrCat(
                R"(step_failed { step: "a" attempt: 2 error { code: 13 message: "flaky" } next_attempt_at { seconds: )",
                kNow + 20 + 20, " } }")},
            {}, 20),
        RetriesDue(40, {R"(step_started { step: "a" attempt: 3 })"}),
        Fail("a", "flaky",
             {R"(step_failed { step: "a" attempt: 3 error { code: 13 message: "flaky" } })"},
             {"step 'a' failed"}),
        End({R"(workflow_failed { step: "a" error { code: 13 message: "flaky" } })"})}},
      {"a timed-out attempt is a failure that says so",
       R"pb(steps {
              name: "a"
              timeout { seconds: 1 }
            })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })"}),
        {Action::kTimeOut,
         "a",
         "timed out",
         0,
         0,
         {R"(step_failed { step: "a" attempt: 1 error { code: 4 message: "timed out" } timed_out: true })"},
         {"step 'a' failed"}},
        End({R"(workflow_failed { step: "a" error { code: 4 message: "timed out" } })"})}},
      {"fail-fast cancels the running siblings, starts nothing more and fails the run",
       R"pb(steps { name: "a" }
            steps { name: "b" }
            steps { name: "c" depends_on: "a" }
            steps { name: "d" })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })",
               R"(step_started { step: "b" attempt: 1 })"}),
        Fail("a", "boom",
             {R"(step_failed { step: "a" attempt: 1 error { code: 13 message: "boom" } })"},
             {"step 'a' failed"}),
        Start({}),
        {Action::kCancel,
         "b",
         "step 'a' failed",
         0,
         0,
         {R"(step_cancelled { step: "b" attempt: 1 reason: "step \'a\' failed" })"},
         {}},
        End({R"(workflow_failed { step: "a" error { code: 13 message: "boom" } })"})}},
      {"a non-critical failure skips its dependents and the run completes with it",
       R"pb(steps { name: "a" non_critical: true }
            steps { name: "b" depends_on: "a" }
            steps { name: "c" depends_on: "b" }
            steps { name: "d" })pb",
       {},
       {1, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })"}),
        Fail("a", "meh",
             {R"(step_failed { step: "a" attempt: 1 error { code: 13 message: "meh" } })",
              R"(step_skipped { step: "b" reason: "depends on failed step \'a\'" })",
              R"(step_skipped { step: "c" reason: "depends on failed step \'a\'" })"}),
        Start({R"(step_started { step: "d" attempt: 1 })"}),
        Complete("d", {R"(step_completed { step: "d" attempt: 1 output: "out" })"}),
        End({R"(workflow_completed { failed_steps: "a" })"})}},
      {"under the continue policy the others run on and the run fails at its end",
       R"pb(failure_policy: FAILURE_POLICY_CONTINUE
            steps { name: "a" }
            steps { name: "b" depends_on: "a" }
            steps { name: "c" })pb",
       {},
       {1, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })"}),
        Fail("a", "boom",
             {R"(step_failed { step: "a" attempt: 1 error { code: 13 message: "boom" } })",
              R"(step_skipped { step: "b" reason: "depends on failed step \'a\'" })"}),
        Start({R"(step_started { step: "c" attempt: 1 })"}),
        Complete("c", {R"(step_completed { step: "c" attempt: 1 output: "out" })"}),
        End({R"(workflow_failed { step: "a" error { code: 13 message: "boom" } })"})}},
      {"a lock held makes the next holder wait, recorded once",
       R"pb(steps { name: "a" locks: "db" }
            steps { name: "b" locks: "db" }
            steps { name: "c" })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })",
               R"(step_blocked { step: "b" resource: "db" })",
               R"(step_started { step: "c" attempt: 1 })"}),
        Start({}), Complete("a", {R"(step_completed { step: "a" attempt: 1 output: "out" })"}),
        Start({R"(step_started { step: "b" attempt: 1 })"})}},
      {"a semaphore lets its capacity in at once",
       R"pb(resources { name: "gpu" capacity: 2 }
            steps { name: "a" locks: "gpu" }
            steps { name: "b" locks: "gpu" }
            steps { name: "c" locks: "gpu" })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })",
               R"(step_started { step: "b" attempt: 1 })",
               R"(step_blocked { step: "c" resource: "gpu" })"})}},
      {"a map step records its items and starts its instances within its concurrency",
       R"pb(steps { name: "list" }
            steps { name: "m" map_over: "list" map_concurrency: 2 }
            steps { name: "after" depends_on: "m" })pb",
       {R"pb(step_started { step: "list" attempt: 1 })pb",
        R"pb(step_completed { step: "list" attempt: 1 output: "x\ny\nz\n" })pb"},
       {8, 1000},
       {Start({R"(step_started { step: "m" attempt: 1 })",
               R"(step_expanded { step: "m" items: "x" items: "y" items: "z" })",
               R"(step_started { step: "m[0]" attempt: 1 })",
               R"(step_started { step: "m[1]" attempt: 1 })"}),
        Complete("m[1]", {R"(step_completed { step: "m[1]" attempt: 1 output: "out" })"}),
        Start({R"(step_started { step: "m[2]" attempt: 1 })"}),
        Complete("m[2]", {R"(step_completed { step: "m[2]" attempt: 1 output: "out" })"}),
        Complete("m[0]", {R"(step_completed { step: "m[0]" attempt: 1 output: "out" })",
                          R"(step_completed { step: "m" attempt: 1 })"}),
        Start({R"(step_started { step: "after" attempt: 1 })"})}},
      {"a map over nothing completes at once",
       R"pb(steps { name: "list" }
            steps { name: "m" map_over: "list" })pb",
       {R"pb(step_started { step: "list" attempt: 1 })pb",
        R"pb(step_completed { step: "list" attempt: 1 output: "" })pb"},
       {8, 1000},
       {Start({R"(step_started { step: "m" attempt: 1 })", R"(step_expanded { step: "m" })",
               R"(step_completed { step: "m" attempt: 1 })"}),
        End({R"(workflow_completed { })"})}},
      {"a non-critical map fails like its first failed instance once all have ended",
       R"pb(steps { name: "list" }
            steps { name: "m" map_over: "list" non_critical: true }
            steps { name: "after" depends_on: "m" })pb",
       {R"pb(step_started { step: "list" attempt: 1 })pb",
        R"pb(step_completed { step: "list" attempt: 1 output: "x\ny\n" })pb"},
       {8, 1000},
       {Start({R"(step_started { step: "m" attempt: 1 })",
               R"(step_expanded { step: "m" items: "x" items: "y" })",
               R"(step_started { step: "m[0]" attempt: 1 })",
               R"(step_started { step: "m[1]" attempt: 1 })"}),
        Fail("m[0]", "bad item",
             {R"(step_failed { step: "m[0]" attempt: 1 error { code: 13 message: "bad item" } })"}),
        Complete(
            "m[1]",
            {R"(step_completed { step: "m[1]" attempt: 1 output: "out" })",
             R"(step_failed { step: "m" attempt: 1 error { code: 13 message: "instance \'m[0]\': bad item" } })",
             R"(step_skipped { step: "after" reason: "depends on failed step \'m\'" })"}),
        End({R"(workflow_completed { failed_steps: "m" })"})}},
      {"spending more than the budget stops the run, charged to the step that spent it",
       R"pb(budget: 5
            steps { name: "a" }
            steps { name: "b" }
            steps { name: "c" depends_on: "a" })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "a" attempt: 1 })",
               R"(step_started { step: "b" attempt: 1 })"}),
        Complete("b", {R"(step_completed { step: "b" attempt: 1 output: "out" cost: 3 })"}, 3),
        {Action::kComplete,
         "a",
         "out",
         0,
         3,
         {R"(step_completed { step: "a" attempt: 1 output: "out" cost: 3 })"},
         {"step 'a' failed"}},
        Start({}),
        End({R"(workflow_failed { step: "a" error { code: 8 message: "budget exceeded: spent 6 of 5" } })"})}},
      {"the history limit stops the run before it could not record its end",
       R"pb(steps { name: "a" }
            steps { name: "b" }
            steps { name: "c" })pb",
       {},
       {4, 7},
       {{Action::kStart,
         "",
         "",
         0,
         0,
         {R"(step_started { step: "a" attempt: 1 })", R"(step_started { step: "b" attempt: 1 })"},
         {"the history of workflow 'wf' reached its limit of 7 events"}},
        Start({}),
        Complete("a", {R"(step_completed { step: "a" attempt: 1 output: "out" })"}),
        Complete("b", {R"(step_completed { step: "b" attempt: 1 output: "out" })"}),
        End({R"(workflow_failed { error { code: 8 message: "the history of workflow \'wf\' reached its limit of 7 events" } })"})}},
      {"a sync step waits for the background steps before it",
       R"pb(steps { name: "slow" background: true }
            steps { name: "fast" }
            steps { name: "sync" kind: STEP_KIND_SYNC }
            steps { name: "last" depends_on: "sync" })pb",
       {},
       {4, 1000},
       {Start({R"(step_started { step: "slow" attempt: 1 })",
               R"(step_started { step: "fast" attempt: 1 })"}),
        Complete("fast", {R"(step_completed { step: "fast" attempt: 1 output: "out" })"}),
        Start({}),
        Complete("slow", {R"(step_completed { step: "slow" attempt: 1 output: "out" })"}),
        Start({R"(step_started { step: "sync" attempt: 1 })"})}},
      {"a cancelled run starts nothing more and cancels what a crash cut off",
       R"pb(steps { name: "a" }
            steps { name: "b" }
            steps { name: "c" depends_on: "b" })pb",
       {R"pb(step_started { step: "b" attempt: 1 })pb"},
       {1, 1000},
       {{Action::kStopForCancellation, "", "user asked", 0, 0, {}, {}},
        Start({}),
        End({R"(step_cancelled { step: "b" attempt: 1 reason: "user asked" })",
             R"(workflow_cancelled { reason: "user asked" })"})}},
      {"a run resumed after a failure for good finishes failing",
       R"pb(steps { name: "a" }
            steps { name: "b" })pb",
       {R"pb(step_started { step: "a" attempt: 1 })pb",
        R"pb(step_started { step: "b" attempt: 1 })pb", R"pb(step_failed {
                                                               step: "a"
                                                               attempt: 1
                                                               error { code: 13 message: "boom" }
                                                             })pb"},
       {4, 1000},
       {Start({}), End({R"(step_cancelled { step: "b" attempt: 1 reason: "step \'a\' failed" })",
                        R"(workflow_failed { step: "a" error { code: 13 message: "boom" } })"})}},
      {"a loop runs until its test passes: failures routed back, each visit its own attempts",
       kFixLoop,
       {},
       {2, 1000},
       {Start({R"(step_started { step: "implement" attempt: 1 })"}),
        Complete("implement",
                 {R"(step_completed { step: "implement" attempt: 1 output: "out" taken: "test" })"}),
        Start({R"(step_started { step: "test" attempt: 1 })"}),
        Fail("test", "1 test fails",
             {R"(step_failed { step: "test" attempt: 1 error { code: 13 message: "1 test fails" } taken: "implement" })"}),
        Start({R"(step_started { step: "implement" attempt: 1 visit: 2 })"}),
        Complete(
            "implement",
            {R"(step_completed { step: "implement" attempt: 1 output: "out" visit: 2 taken: "test" })"}),
        Start({R"(step_started { step: "test" attempt: 1 visit: 2 })"}),
        Complete("test",
                 {R"(step_completed { step: "test" attempt: 1 output: "out" visit: 2 taken: "done" })"}),
        Start({R"(step_started { step: "done" attempt: 1 })"}),
        Complete("done", {R"(step_completed { step: "done" attempt: 1 output: "out" })"}),
        End({R"(workflow_completed { })"})}},
      {"a decision takes one path; the other is skipped and the join runs",
       kBranch,
       {},
       {2, 1000},
       {Start({R"(step_started { step: "check" attempt: 1 })"}),
        Complete("check",
                 {R"(step_completed { step: "check" attempt: 1 output: "out" taken: "full" })",
                  R"(step_skipped { step: "quick" reason: "no edge into it was taken" })"}),
        Start({R"(step_started { step: "full" attempt: 1 })"}),
        Complete("full", {R"(step_completed { step: "full" attempt: 1 output: "out" taken: "report" })"}),
        Start({R"(step_started { step: "report" attempt: 1 })"}),
        Complete("report", {R"(step_completed { step: "report" attempt: 1 output: "out" })"}),
        End({R"(workflow_completed { })"})}},
      {"route first takes the greater weight, then the target name",
       R"pb(steps { name: "pick" route: ROUTE_FIRST }
            steps { name: "b" }
            steps { name: "a" }
            steps { name: "c" }
            edges { from: "pick" to: "b" weight: 1 }
            edges { from: "pick" to: "a" weight: 1 }
            edges { from: "pick" to: "c" weight: 0 })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "pick" attempt: 1 })"}),
        Complete("pick", {R"(step_completed { step: "pick" attempt: 1 output: "out" taken: "a" })",
                          R"(step_skipped { step: "b" reason: "no edge into it was taken" })",
                          R"(step_skipped { step: "c" reason: "no edge into it was taken" })"})}},
      {"the exit of a loop waits until the loop can no longer take it",
       R"pb(steps { name: "poll" max_visits: 2 }
            steps { name: "after" }
            edges { from: "poll" to: "poll" condition: "outcome=success" }
            edges { from: "poll" to: "after" condition: "outcome=fail" })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "poll" attempt: 1 })"}),
        Complete("poll",
                 {R"(step_completed { step: "poll" attempt: 1 output: "out" taken: "poll" })"}),
        Start({R"(step_started { step: "poll" attempt: 1 visit: 2 })"}),
        Fail("poll", "gave up",
             {R"(step_failed { step: "poll" attempt: 1 error { code: 13 message: "gave up" } visit: 2 taken: "after" })"}),
        Start({R"(step_started { step: "after" attempt: 1 })"})}},
      {"a visit past the step's bound fails the run, naming the step and the bound",
       R"pb(steps { name: "spin" max_visits: 2 }
            edges { from: "spin" to: "spin" condition: "outcome=success" })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "spin" attempt: 1 })"}),
        Complete("spin",
                 {R"(step_completed { step: "spin" attempt: 1 output: "out" taken: "spin" })"}),
        Start({R"(step_started { step: "spin" attempt: 1 visit: 2 })"}),
        {Action::kComplete,
         "spin",
         "out",
         0,
         0,
         {R"(step_completed { step: "spin" attempt: 1 output: "out" visit: 2 taken: "spin" })"},
         {"step 'spin' reached its limit of 2 visits (max_visits)"}},
        Start({}),
        End({R"x(workflow_failed { error { code: 8 message: "step \'spin\' reached its limit of 2 visits (max_visits)" } })x"})}},
      {"a map step that failed in a routed graph skips what depends on it",
       R"pb(steps { name: "list" }
            steps {
              name: "each"
              depends_on: "list"
              map_over: "list"
              non_critical: true
            }
            steps { name: "after" depends_on: "each" }
            steps { name: "other" }
            edges { from: "list" to: "other" label: "also" })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "list" attempt: 1 })"}),
        {Action::kComplete,
         "list",
         "x\n",
         0,
         0,
         {R"(step_completed { step: "list" attempt: 1 output: "x\n" taken: "each" taken: "other" })"},
         {}},
        Start({R"(step_started { step: "each" attempt: 1 })",
               R"(step_expanded { step: "each" items: "x" })",
               R"(step_started { step: "each[0]" attempt: 1 })",
               R"(step_started { step: "other" attempt: 1 })"}),
        Fail("each[0]", "bad item",
             {R"(step_failed { step: "each[0]" attempt: 1 error { code: 13 message: "bad item" } })",
              R"(step_failed { step: "each" attempt: 1 error { code: 13 message: "instance \'each[0]\': bad item" } })",
              R"(step_skipped { step: "after" reason: "depends on failed step \'each\'" })"}),
        Complete("other", {R"(step_completed { step: "other" attempt: 1 output: "out" })"}),
        End({R"(workflow_completed { failed_steps: "each" })"})}},
      {"a non-critical failure skips what its edges lead to",
       R"pb(steps { name: "lint" non_critical: true }
            steps { name: "fix" }
            steps { name: "report" depends_on: "fix" }
            edges { from: "lint" to: "fix" condition: "context.style=bad" })pb",
       {},
       {2, 1000},
       {Start({R"(step_started { step: "lint" attempt: 1 })"}),
        Fail("lint", "crashed",
             {R"(step_failed { step: "lint" attempt: 1 error { code: 13 message: "crashed" } })",
              R"(step_skipped { step: "fix" reason: "depends on failed step \'lint\'" })",
              R"(step_skipped { step: "report" reason: "depends on failed step \'lint\'" })"}),
        End({R"(workflow_completed { failed_steps: "lint" })"})}},
  };
  return *cases;
}

// Hooks that fold what the scheduler records into `history` and note each event's text in
// `recorded`, and each reason it cancels the running steps for in `cancelled`. No log files.
SchedulerHooks HooksInto(History& history, std::vector<std::string>* recorded,
                         std::vector<std::string>* cancelled) {
  SchedulerHooks hooks;
  hooks.record = [&history, recorded](Event event) {
    event.set_seq(history.state().last_seq + 1);
    const absl::Status applied = history.Apply(event);
    ASSERT_TRUE(applied.ok()) << applied;
    recorded->push_back(Text(event));
  };
  hooks.cancel_running = [cancelled](const std::string& reason) { cancelled->push_back(reason); };
  hooks.log_path = [](int, int, int) { return std::string(); };
  return hooks;
}

class SchedulerRunTest : public testing::TestWithParam<RunCase> {};

TEST_P(SchedulerRunTest, RecordsWhatItDecides) {
  const RunCase& c = GetParam();
  History history("wf");
  {
    const WorkflowState folded = Fold(c.definition, c.history);
    history = History(folded);
  }
  std::vector<std::string> recorded;
  std::vector<std::string> cancelled;
  Scheduler scheduler(history.state(), EffectiveDependencies(history.state().definition()),
                      c.limits, HooksInto(history, &recorded, &cancelled));
  const absl::Time now = absl::FromUnixSeconds(kNow);
  for (size_t i = 0; i < c.actions.size(); ++i) {
    const Action& action = c.actions[i];
    SCOPED_TRACE(absl::StrCat("action ", i));
    recorded.clear();
    cancelled.clear();
    const int step = action.step.empty() ? -1 : history.state().IndexOf(action.step);
    const int attempt = step < 0 ? 0 : history.state().steps[step].attempts;
    switch (action.kind) {
      case Action::kStart:
        scheduler.StartReady();
        break;
      case Action::kComplete:
        scheduler.Ended(step);
        scheduler.Completed(step, attempt, action.text, {}, action.cost);
        break;
      case Action::kFail:
        scheduler.Ended(step);
        scheduler.Failed(step, attempt, absl::InternalError(action.text), /*timed_out=*/false,
                         action.cost, now + absl::Seconds(action.at));
        break;
      case Action::kTimeOut:
        scheduler.Ended(step);
        scheduler.Failed(step, attempt, absl::DeadlineExceededError(action.text),
                         /*timed_out=*/true, action.cost, now);
        break;
      case Action::kCancel:
        scheduler.Ended(step);
        scheduler.Cancelled(step, attempt, action.text);
        break;
      case Action::kRetriesDue:
        scheduler.ReadyDueRetries(now + absl::Seconds(action.at));
        scheduler.StartReady();
        break;
      case Action::kStopForCancellation:
        scheduler.StopForCancellation(action.text);
        break;
      case Action::kEnd:
        ASSERT_TRUE(scheduler.End().ok());
        break;
    }
    EXPECT_THAT(recorded, ElementsAreArray(action.expected));
    EXPECT_THAT(cancelled, ElementsAreArray(action.cancelled_running));
  }
}

INSTANTIATE_TEST_SUITE_P(Runs, SchedulerRunTest, testing::ValuesIn(RunCases()),
                         [](const testing::TestParamInfo<RunCase>& info) {
                           return absl::StrCat("Case", info.index);
                         });

TEST(SchedulerTest, TheNextRetryIsTheEarliestAndNoneWhileStopping) {
  History history("wf");
  history = History(Fold(R"pb(steps {
                                name: "a"
                                retry {
                                  max_attempts: 2
                                  initial_backoff { seconds: 30 }
                                }
                              }
                              steps {
                                name: "b"
                                retry {
                                  max_attempts: 2
                                  initial_backoff { seconds: 5 }
                                }
                              })pb",
                         {}));
  std::vector<std::string> recorded;
  std::vector<std::string> cancelled;
  Scheduler scheduler(history.state(), EffectiveDependencies(history.state().definition()),
                      SchedulerLimits{4, 1000}, HooksInto(history, &recorded, &cancelled));
  EXPECT_EQ(scheduler.NextRetryAt(), std::nullopt);
  EXPECT_EQ(scheduler.StartReady(), (std::vector<int>{0, 1}));
  const absl::Time now = absl::FromUnixSeconds(kNow);
  for (int step : {0, 1}) {
    scheduler.Ended(step);
    scheduler.Failed(step, 1, absl::UnavailableError("down"), false, 0, now);
  }
  EXPECT_EQ(scheduler.NextRetryAt(), now + absl::Seconds(5));
  scheduler.StopForCancellation("enough");
  EXPECT_EQ(scheduler.NextRetryAt(), std::nullopt);
}

TEST(DeadlineTest, TimeoutFromTheAttemptsStart) {
  const absl::Time started = absl::FromUnixSeconds(kNow);
  EXPECT_EQ(DeadlineOf(Parse<StepDefinition>("name: 'a'"), started), absl::InfiniteFuture());
  EXPECT_EQ(
      DeadlineOf(Parse<StepDefinition>("name: 'a' timeout { seconds: 3 nanos: 500 }"), started),
      started + absl::Seconds(3) + absl::Nanoseconds(500));
}

}  // namespace
}  // namespace chorus
