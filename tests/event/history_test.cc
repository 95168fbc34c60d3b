#include "event/history.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "event/started_outline.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kWorkflowId[] = "order-42";

// A little language for histories: each function makes one event without a seq, and
// Numbered() numbers a list of them from 1 and stamps each with TimeOf(seq). AtSeq() gives an
// event a seq of its own, which Numbered() keeps.

// recorded_at of the event numbered `seq`; sub-second, to see that nanoseconds survive.
absl::Time TimeOf(int64_t seq) {
  return absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(seq) + absl::Nanoseconds(seq);
}

WorkflowDefinition Definition(const std::vector<std::string>& step_names) {
  WorkflowDefinition definition;
  definition.set_name("resize-images");
  for (const std::string& name : step_names) definition.add_steps()->set_name(name);
  return definition;
}

Event WfStarted(const std::vector<std::string>& step_names) {
  Event event;
  WorkflowStarted* started = event.mutable_workflow_started();
  *started->mutable_definition() = Definition(step_names);
  started->set_fingerprint("fp-1");
  started->set_input("input");
  return event;
}

Event Started(const std::string& step, int attempt) {
  Event event;
  event.mutable_step_started()->set_step(step);
  event.mutable_step_started()->set_attempt(attempt);
  return event;
}

Event Completed(const std::string& step, int attempt, const std::string& output = "") {
  Event event;
  StepCompleted* completed = event.mutable_step_completed();
  completed->set_step(step);
  completed->set_attempt(attempt);
  completed->set_output(output);
  return event;
}

Event Failed(const std::string& step, int attempt,
             const absl::Status& error = absl::InternalError("boom"), bool retryable = false) {
  Event event;
  StepFailed* failed = event.mutable_step_failed();
  failed->set_step(step);
  failed->set_attempt(attempt);
  *failed->mutable_error() = ToError(error);
  failed->set_retryable(retryable);
  return event;
}

Event Cancelled(const std::string& step, int attempt, const std::string& reason = "stop") {
  Event event;
  StepCancelled* cancelled = event.mutable_step_cancelled();
  cancelled->set_step(step);
  cancelled->set_attempt(attempt);
  cancelled->set_reason(reason);
  return event;
}

Event Skipped(const std::string& step) {
  Event event;
  event.mutable_step_skipped()->set_step(step);
  event.mutable_step_skipped()->set_reason("not needed");
  return event;
}

Event WfCompleted() {
  Event event;
  event.mutable_workflow_completed();
  return event;
}

Event WfFailed(const std::string& step, const absl::Status& error = absl::InternalError("boom")) {
  Event event;
  event.mutable_workflow_failed()->set_step(step);
  *event.mutable_workflow_failed()->mutable_error() = ToError(error);
  return event;
}

Event WfCancelled(const std::string& reason) {
  Event event;
  event.mutable_workflow_cancelled()->set_reason(reason);
  return event;
}

Event NoKind() { return Event(); }

Event AtSeq(int64_t seq, Event event) {
  event.set_seq(seq);
  return event;
}

// `event`, a step started/completed/failed/cancelled event, of the step's visit `visit`.
Event InVisit(int visit, Event event) {
  switch (event.kind_case()) {
    case Event::kStepStarted:
      event.mutable_step_started()->set_visit(visit);
      break;
    case Event::kStepCompleted:
      event.mutable_step_completed()->set_visit(visit);
      break;
    case Event::kStepFailed:
      event.mutable_step_failed()->set_visit(visit);
      break;
    case Event::kStepCancelled:
      event.mutable_step_cancelled()->set_visit(visit);
      break;
    default:
      ADD_FAILURE() << "InVisit of an event that has no visit: " << event.ShortDebugString();
  }
  return event;
}

// `event`, a step completed/failed event, whose visit took the edges to the steps `to`.
Event Taking(const std::vector<std::string>& to, Event event) {
  auto* taken = event.has_step_completed() ? event.mutable_step_completed()->mutable_taken()
                                           : event.mutable_step_failed()->mutable_taken();
  for (const std::string& step : to) taken->Add(std::string(step));
  return event;
}

// `event`, a step failed event, with a retry scheduled: not a failure for good.
Event Retrying(Event event) {
  event.mutable_step_failed()->mutable_next_attempt_at()->set_seconds(1'700'000'100);
  return event;
}

// `event`, a step completed event, with one more state update: `key` set to `number`.
Event WithUpdate(const std::string& key, int64_t number, Event event) {
  StateUpdate* update = event.mutable_step_completed()->add_state_updates();
  update->set_key(key);
  update->mutable_value()->set_number(number);
  return event;
}

// A loop: implement, then test; test's success goes on to done, its failure back to implement.
Event WfStartedLoop() {
  Event event = WfStarted({"implement", "test", "done"});
  WorkflowDefinition* definition = event.mutable_workflow_started()->mutable_definition();
  definition->mutable_steps(1)->add_depends_on("implement");
  Edge* success = definition->add_edges();
  success->set_from("test");
  success->set_to("done");
  success->set_condition("outcome=success");
  Edge* fail = definition->add_edges();
  fail->set_from("test");
  fail->set_to("implement");
  fail->set_condition("outcome=fail");
  return event;
}

std::vector<Event> Numbered(std::vector<Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    Event& event = events[i];
    if (event.seq() == 0) event.set_seq(static_cast<int64_t>(i) + 1);
    SetRecordedAt(TimeOf(event.seq()), &event);
  }
  return events;
}

// The state right after WfStarted(step_names) at seq 1.
WorkflowState StartedState(const std::vector<std::string>& step_names) {
  WorkflowState state;
  state.workflow_id = kWorkflowId;
  state.status = WORKFLOW_STATUS_RUNNING;
  state.set_definition(std::make_shared<const WorkflowDefinition>(Definition(step_names)));
  state.fingerprint = "fp-1";
  state.input = "input";
  state.last_seq = 1;
  state.created_at = TimeOf(1);
  state.updated_at = TimeOf(1);
  return state;
}

// The state of a step with the fields a fold test checks; the others keep their defaults.
StepState ExpectedStep(std::string name, StepStatus status, int attempts, std::string output,
                       absl::Status error, bool retryable, absl::Time started_at,
                       absl::Time finished_at) {
  StepState step;
  step.name = std::move(name);
  step.status = status;
  step.attempts = attempts;
  step.output = std::move(output);
  step.error = std::move(error);
  step.retryable = retryable;
  step.started_at = started_at;
  step.finished_at = finished_at;
  return step;
}

void ExpectSameStep(const StepState& actual, const StepState& expected) {
  SCOPED_TRACE(absl::StrCat("step '", expected.name, "'"));
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(StepStatusName(actual.status), StepStatusName(expected.status));
  EXPECT_EQ(actual.attempts, expected.attempts);
  EXPECT_EQ(actual.output, expected.output);
  EXPECT_EQ(actual.error, expected.error);
  EXPECT_EQ(actual.retryable, expected.retryable);
  EXPECT_EQ(actual.started_at, expected.started_at);
  EXPECT_EQ(actual.finished_at, expected.finished_at);
  EXPECT_EQ(actual.details().log_path, expected.details().log_path);
  EXPECT_EQ(actual.details().visit, expected.details().visit);
  EXPECT_EQ(actual.details().taken, expected.details().taken);
  EXPECT_EQ(actual.details().entered_by, expected.details().entered_by);
}

void ExpectSameState(const WorkflowState& actual, const WorkflowState& expected) {
  EXPECT_EQ(actual.workflow_id, expected.workflow_id);
  EXPECT_EQ(WorkflowStatus_Name(actual.status), WorkflowStatus_Name(expected.status));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(actual.definition(),
                                                                 expected.definition()))
      << actual.definition().DebugString();
  EXPECT_EQ(actual.fingerprint, expected.fingerprint);
  EXPECT_EQ(actual.input, expected.input);
  EXPECT_EQ(actual.last_seq, expected.last_seq);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.updated_at);
  EXPECT_EQ(actual.error, expected.error);
  EXPECT_EQ(actual.failed_step, expected.failed_step);
  ASSERT_EQ(actual.steps.size(), expected.steps.size());
  for (size_t i = 0; i < actual.steps.size(); ++i) {
    ExpectSameStep(actual.steps[i], expected.steps[i]);
    EXPECT_EQ(actual.IndexOf(expected.steps[i].name), static_cast<int>(i));
  }
}

// A history whose last event, and only that one, breaks an invariant.
struct BadHistory {
  std::string name;
  std::vector<Event> events;
  int64_t bad_seq;      // the seq the error must name
  std::string problem;  // what the error must say is wrong
};

std::vector<BadHistory> BadHistories() {
  const Event start_ab = WfStarted({"a", "b"});
  const Event loop = WfStartedLoop();
  // The loop's first turn (seq 1 to 5): test's failure is routed back to implement; then `tail`.
  const auto after_turn = [&loop](std::vector<Event> tail) {
    std::vector<Event> events = {loop, Started("implement", 1),
                                 Taking({"test"}, Completed("implement", 1)), Started("test", 1),
                                 Taking({"implement"}, Failed("test", 1))};
    events.insert(events.end(), tail.begin(), tail.end());
    return Numbered(std::move(events));
  };
  return {
      {"gap in seq", Numbered({start_ab, Started("a", 1), AtSeq(4, Completed("a", 1))}), 4,
       "expected seq 3"},
      {"seq not starting at 1", Numbered({AtSeq(2, start_ab)}), 2, "expected seq 1"},
      {"seq repeated", Numbered({start_ab, AtSeq(1, Started("a", 1))}), 1, "expected seq 2"},
      {"event without kind", Numbered({start_ab, NoKind()}), 2, "the event has no kind"},
      {"workflow_started twice", Numbered({start_ab, Started("a", 1), start_ab}), 3,
       "workflow_started again"},
      {"step event before workflow_started", Numbered({Started("a", 1)}), 1,
       "step_started before workflow_started"},
      {"workflow event before workflow_started", Numbered({WfCompleted()}), 1,
       "workflow_completed before workflow_started"},
      {"step event after workflow_completed",
       Numbered({start_ab, Skipped("a"), Skipped("b"), WfCompleted(), Started("a", 1)}), 5,
       "step_started after workflow_completed"},
      {"step event after workflow_failed",
       Numbered({start_ab, Started("a", 1), Failed("a", 1), WfFailed("a"), Started("a", 2)}), 5,
       "step_started after workflow_failed"},
      {"workflow event after workflow_cancelled",
       Numbered({start_ab, WfCancelled("user"), WfCompleted()}), 3,
       "workflow_completed after workflow_cancelled"},
      {"unknown step", Numbered({start_ab, Started("a", 1), Started("z", 1)}), 3,
       "step_started names step 'z', which the definition does not have"},
      {"completion without start", Numbered({start_ab, Started("a", 1), Completed("b", 1)}), 3,
       "step 'b' completed attempt 1 but it was never started"},
      {"completion of another attempt than started",
       Numbered({start_ab, Started("a", 1), Completed("a", 2)}), 3,
       "step 'a' completed attempt 2 but its latest start is attempt 1"},
      {"failure of an earlier attempt than the latest start",
       Numbered({start_ab, Started("a", 1), Started("a", 2), Failed("a", 1)}), 4,
       "step 'a' failed attempt 1 but its latest start is attempt 2"},
      {"double completion of one attempt",
       Numbered({start_ab, Started("a", 1), Completed("a", 1), Completed("a", 1)}), 4,
       "step 'a' completed attempt 1 but that attempt already ended (completed)"},
      {"cancellation after failure of one attempt",
       Numbered({start_ab, Started("a", 1), Failed("a", 1), Cancelled("a", 1)}), 4,
       "step 'a' cancelled attempt 1 but that attempt already ended (failed)"},
      {"attempt skipping a number", Numbered({start_ab, Started("a", 1), Started("a", 3)}), 3,
       "step 'a' started attempt 3 but its next attempt is 2"},
      {"first attempt not 1", Numbered({start_ab, Started("a", 0)}), 2,
       "step 'a' started attempt 0 but its next attempt is 1"},
      {"start after completion",
       Numbered({start_ab, Started("a", 1), Completed("a", 1), Started("a", 2)}), 4,
       "step 'a' started attempt 2 but it is already completed"},
      {"start after skip", Numbered({start_ab, Skipped("a"), Started("a", 1)}), 3,
       "step 'a' started attempt 1 but it is already skipped"},
      {"skip after start", Numbered({start_ab, Started("a", 1), Skipped("a")}), 3,
       "step 'a' skipped but it is already running"},
      {"skip after failure", Numbered({start_ab, Started("a", 1), Failed("a", 1), Skipped("a")}), 4,
       "step 'a' skipped but it is already failed"},
      {"workflow_completed with a step pending",
       Numbered({start_ab, Started("a", 1), Completed("a", 1), WfCompleted()}), 4,
       "workflow_completed but step 'b' is pending"},
      {"workflow_completed with a step running",
       Numbered({start_ab, Skipped("b"), Started("a", 1), WfCompleted()}), 4,
       "workflow_completed but step 'a' is running"},
      {"workflow_completed with a step failed",
       Numbered({start_ab, Skipped("b"), Started("a", 1), Failed("a", 1), WfCompleted()}), 5,
       "workflow_completed but step 'a' is failed"},
      {"duplicate step names in the definition", Numbered({WfStarted({"a", "b", "a"})}), 1,
       "the definition has two steps named 'a'"},
      // Visits and the edges they take.
      {"next visit started while the current one runs",
       Numbered({loop, Started("implement", 1), Taking({"test"}, Completed("implement", 1)),
                 Started("test", 1), InVisit(2, Started("test", 1))}),
       5, "step 'test' started visit 2 but visit 1 is running"},
      {"next visit started while a retry of the current one is due",
       Numbered({loop, Started("implement", 1), Taking({"test"}, Completed("implement", 1)),
                 Started("test", 1), Retrying(Failed("test", 1)), InVisit(2, Started("test", 1))}),
       6, "step 'test' started visit 2 but visit 1 is failed"},
      {"next visit with no edge taken into the step since its current visit started",
       // implement's edge into test was taken before test's visit 1 started, not since.
       Numbered({loop, Started("implement", 1), Taking({"test"}, Completed("implement", 1)),
                 Started("test", 1), Failed("test", 1), InVisit(2, Started("test", 1))}),
       6, "step 'test' started visit 2 but no edge into it was taken since visit 1 started"},
      {"next visit of a step no edge entered",
       Numbered({loop, Started("implement", 1), Completed("implement", 1),
                 InVisit(2, Started("implement", 1))}),
       4, "step 'implement' started visit 2 but no edge into it was taken since visit 1 started"},
      {"visit skipping a number", after_turn({InVisit(3, Started("implement", 1))}), 6,
       "step 'implement' started visit 3 but its current visit is 1 (visits increase by one)"},
      {"first start in visit 2", Numbered({loop, InVisit(2, Started("implement", 1))}), 2,
       "step 'implement' started visit 2 but its current visit is 0 (visits increase by one)"},
      {"next visit whose first attempt is not 1", after_turn({InVisit(2, Started("implement", 2))}),
       6, "step 'implement' started visit 2 with attempt 2 (a visit starts with attempt 1)"},
      {"start after completion without a next visit", after_turn({Started("implement", 2)}), 6,
       "step 'implement' started attempt 2 but it is already completed"},
      {"completion of an earlier visit than the current one",
       after_turn({InVisit(2, Started("implement", 1)), Completed("implement", 1)}), 7,
       "step 'implement' completed visit 1 but its current visit is 2"},
      {"failure of a later visit than the current one",
       Numbered({loop, Started("implement", 1), InVisit(2, Failed("implement", 1))}), 3,
       "step 'implement' failed visit 2 but its current visit is 1"},
      {"cancellation of another visit than the current one",
       after_turn({InVisit(2, Started("implement", 1)), InVisit(3, Cancelled("implement", 1))}), 7,
       "step 'implement' cancelled visit 3 but its current visit is 2"},
      {"edge taken to an unknown step",
       Numbered({loop, Started("implement", 1), Taking({"deploy"}, Completed("implement", 1))}), 3,
       "step 'implement' took an edge to 'deploy', which the definition does not have"},
      {"edge taken that the definition does not have",
       Numbered({loop, Started("implement", 1), Taking({"done"}, Completed("implement", 1))}), 3,
       "step 'implement' took an edge to 'done', which the definition does not have"},
      {"failure taking an edge the definition does not have",
       Numbered({loop, Started("implement", 1), Taking({"test"}, Completed("implement", 1)),
                 Started("test", 1), Taking({"implement", "test"}, Failed("test", 1))}),
       5, "step 'test' took an edge to 'test', which the definition does not have"},
      {"same edge taken twice in one event",
       Numbered(
           {loop, Started("implement", 1), Taking({"test", "test"}, Completed("implement", 1))}),
       3, "step 'implement' took its edge to 'test' twice"},
      {"failure with a retry scheduled that took edges",
       Numbered({loop, Started("implement", 1), Taking({"test"}, Completed("implement", 1)),
                 Started("test", 1), Retrying(Taking({"implement"}, Failed("test", 1)))}),
       5, "step 'test' failed with a retry scheduled and took edges"},
      {"workflow_completed with a critical step whose latest failure was not routed",
       // test's visit 1 failure was routed; its visit 2 failure took no edge.
       after_turn({InVisit(2, Started("implement", 1)),
                   InVisit(2, Taking({"test"}, Completed("implement", 1))),
                   InVisit(2, Started("test", 1)), InVisit(2, Failed("test", 1)), Skipped("done"),
                   WfCompleted()}),
       11, "workflow_completed but step 'test' is failed"},
  };
}

TEST(History, RejectsEachViolationAsDataLossNamingWorkflowAndSeq) {
  for (const BadHistory& row : BadHistories()) {
    SCOPED_TRACE(row.name);
    History history(kWorkflowId);
    for (size_t i = 0; i + 1 < row.events.size(); ++i) {
      ASSERT_EQ(history.Apply(row.events[i]), absl::OkStatus());
    }
    const absl::Status status = history.Apply(row.events.back());
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_THAT(status.message(),
                HasSubstr(absl::StrCat("workflow 'order-42', seq ", row.bad_seq, ": ")));
    EXPECT_THAT(status.message(), HasSubstr(row.problem));
  }
}

TEST(History, RejectedEventLeavesStateUnchanged) {
  for (const BadHistory& row : BadHistories()) {
    SCOPED_TRACE(row.name);
    History history(kWorkflowId);
    for (size_t i = 0; i + 1 < row.events.size(); ++i) {
      ASSERT_EQ(history.Apply(row.events[i]), absl::OkStatus());
    }
    const WorkflowState before = history.state();
    ASSERT_FALSE(history.Apply(row.events.back()).ok());
    ExpectSameState(history.state(), before);
  }
}

TEST(History, RejectedSharedEventLeavesStateUnchanged) {
  for (const BadHistory& row : BadHistories()) {
    SCOPED_TRACE(row.name);
    History history(kWorkflowId);
    for (size_t i = 0; i + 1 < row.events.size(); ++i) {
      ASSERT_EQ(history.Apply(std::make_shared<const Event>(row.events[i])), absl::OkStatus());
    }
    const WorkflowState before = history.state();
    ASSERT_EQ(history.Apply(std::make_shared<const Event>(row.events.back())).code(),
              absl::StatusCode::kDataLoss);
    ExpectSameState(history.state(), before);
  }
}

TEST(History, RejectedEventLeavesFailedStepAsItWas) {
  History history(kWorkflowId);
  for (const Event& event :
       Numbered({WfStarted({"a"}), Started("a", 1),
                 Failed("a", 1, absl::UnavailableError("disk full"), /*retryable=*/true)})) {
    ASSERT_EQ(history.Apply(event), absl::OkStatus());
  }
  const WorkflowState before = history.state();

  EXPECT_FALSE(history.Apply(AtSeq(4, Started("a", 3))).ok());

  ExpectSameState(history.state(), before);
  ASSERT_EQ(history.Apply(AtSeq(4, Started("a", 2))), absl::OkStatus());
  EXPECT_EQ(history.state().steps[0].attempts, 2);
}

// Parallel steps, a crash, a retried failure, a cancellation, a skip: a completed workflow.
std::vector<Event> ResizeHistory() {
  return Numbered({
      WfStarted({"fetch", "resize", "thumb", "notify"}),  // 1
      Started("fetch", 1),                                // 2
      Started("resize", 1),                               // 3: in parallel
      Completed("fetch", 1, "raw"),                       // 4
      Started("thumb", 1),                                // 5: cut off
      Failed("resize", 1, absl::UnavailableError("disk full"), /*retryable=*/true),  // 6
      Started("resize", 2),                                                          // 7
      Started("thumb", 2),                // 8: after crash
      Cancelled("thumb", 2, "deadline"),  // 9
      Completed("resize", 2, "small"),    // 10
      Started("thumb", 3),                // 11
      Completed("thumb", 3, "tiny"),      // 12
      Skipped("notify"),                  // 13
      WfCompleted(),                      // 14
  });
}

TEST(FoldHistory, FoldsRetriesCrashesAndSkipsIntoCompletedWorkflow) {
  const std::vector<Event> events = ResizeHistory();

  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, events);

  ASSERT_EQ(state.status(), absl::OkStatus());
  WorkflowState expected = StartedState({"fetch", "resize", "thumb", "notify"});
  expected.status = WORKFLOW_STATUS_COMPLETED;
  expected.last_seq = 14;
  expected.updated_at = TimeOf(14);
  // name, status, attempts, output, error, retryable, started_at, finished_at
  expected.steps = {
      ExpectedStep("fetch", StepStatus::kCompleted, 1, "raw", absl::OkStatus(), false, TimeOf(2),
                   TimeOf(4)),
      ExpectedStep("resize", StepStatus::kCompleted, 2, "small", absl::OkStatus(), false, TimeOf(7),
                   TimeOf(10)),
      ExpectedStep("thumb", StepStatus::kCompleted, 3, "tiny", absl::OkStatus(), false, TimeOf(11),
                   TimeOf(12)),
      ExpectedStep("notify", StepStatus::kSkipped, 0, "", absl::OkStatus(), false,
                   absl::InfinitePast(), TimeOf(13)),
  };
  ExpectSameState(*state, expected);
}

// A loop (WfStartedLoop): test fails twice and each failure is routed back to implement, the
// second after a retry within its visit; test's third visit succeeds and goes on to done.
std::vector<Event> LoopHistory() {
  return Numbered({
      WfStartedLoop(),                                                                // 1
      Started("implement", 1),                                                        // 2
      Taking({"test"}, Completed("implement", 1, "v1")),                              // 3
      Started("test", 1),                                                             // 4
      Taking({"implement"}, Failed("test", 1, absl::InternalError("2 tests fail"))),  // 5
      InVisit(2, Started("implement", 1)),                                            // 6
      InVisit(2, Taking({"test"}, Completed("implement", 1, "v2"))),                  // 7
      InVisit(2, Started("test", 1)),                                                 // 8
      InVisit(2, Retrying(Failed("test", 1, absl::UnavailableError("busy"), true))),  // 9
      InVisit(2, Started("test", 2)),                                                 // 10
      InVisit(2, Taking({"implement"}, Failed("test", 2, absl::InternalError("1 test fails")))),
      InVisit(3, Started("implement", 1)),                             // 12
      InVisit(3, Taking({"test"}, Completed("implement", 1, "v3"))),   // 13
      InVisit(3, Started("test", 1)),                                  // 14
      InVisit(3, Taking({"done"}, Completed("test", 1, "all pass"))),  // 15
      Started("done", 1),                                              // 16
      Completed("done", 1, "shipped"),                                 // 17
      WfCompleted(),                                                   // 18
  });
}

TEST(FoldHistory, FoldsALoopWhoseRoutedFailuresAreNotFailures) {
  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, LoopHistory());

  ASSERT_EQ(state.status(), absl::OkStatus());
  WorkflowState expected = StartedState({"implement", "test", "done"});
  expected.set_definition(
      std::make_shared<const WorkflowDefinition>(WfStartedLoop().workflow_started().definition()));
  expected.status = WORKFLOW_STATUS_COMPLETED;
  expected.last_seq = 18;
  expected.updated_at = TimeOf(18);
  // name, status, attempts (of the latest visit), output, error, retryable, started_at,
  // finished_at
  expected.steps = {
      ExpectedStep("implement", StepStatus::kCompleted, 1, "v3", absl::OkStatus(), false,
                   TimeOf(12), TimeOf(13)),
      ExpectedStep("test", StepStatus::kCompleted, 1, "all pass", absl::OkStatus(), false,
                   TimeOf(14), TimeOf(15)),
      ExpectedStep("done", StepStatus::kCompleted, 1, "shipped", absl::OkStatus(), false,
                   TimeOf(16), TimeOf(17)),
  };
  expected.steps[0].mutable_details().visit = 3;
  expected.steps[0].mutable_details().taken = {1};  // test
  expected.steps[1].mutable_details().visit = 3;
  expected.steps[1].mutable_details().taken = {2};  // done
  // Each step's entering edges were taken by its latest start: entered_by is empty again.
  ExpectSameState(*state, expected);
  EXPECT_THAT(state->failed_steps, IsEmpty());
  EXPECT_EQ(VisitOf(state->steps[0]), 3);
  EXPECT_EQ(VisitOf(state->steps[1]), 3);
  EXPECT_EQ(VisitOf(state->steps[2]), 1);
}

TEST(History, FoldsEachVisitAndTheEdgesItTookIntoTheStepsItEntered) {
  const std::vector<Event> events = LoopHistory();
  const struct {
    int64_t seq;  // the state after it
    const char* step;
    StepStatus status;
    int visit;  // VisitOf
    int attempts;
    std::vector<int> taken;
    std::vector<int> entered_by;
    bool routed;  // FailureRouted
  } kRows[] = {
      {2, "implement", StepStatus::kRunning, 1, 1, {}, {}, false},
      {3, "implement", StepStatus::kCompleted, 1, 1, {1}, {}, false},
      {3, "test", StepStatus::kPending, 0, 0, {}, {0}, false},
      {4, "test", StepStatus::kRunning, 1, 1, {}, {}, false},
      {5, "test", StepStatus::kFailed, 1, 1, {0}, {}, true},
      {5, "implement", StepStatus::kCompleted, 1, 1, {1}, {1}, false},
      {6, "implement", StepStatus::kRunning, 2, 1, {}, {}, false},
      {6, "test", StepStatus::kFailed, 1, 1, {0}, {}, true},
      {7, "test", StepStatus::kFailed, 1, 1, {0}, {0}, true},
      {8, "test", StepStatus::kRunning, 2, 1, {}, {}, false},
      {9, "test", StepStatus::kFailed, 2, 1, {}, {}, false},  // a retry is due: not routed
      {10, "test", StepStatus::kRunning, 2, 2, {}, {}, false},
      {11, "test", StepStatus::kFailed, 2, 2, {0}, {}, true},
      {11, "implement", StepStatus::kCompleted, 2, 1, {1}, {1}, false},
      {12, "implement", StepStatus::kRunning, 3, 1, {}, {}, false},
      {15, "test", StepStatus::kCompleted, 3, 1, {2}, {}, false},
      {15, "done", StepStatus::kPending, 0, 0, {}, {1}, false},
      {16, "done", StepStatus::kRunning, 1, 1, {}, {}, false},
  };
  for (const auto& row : kRows) {
    SCOPED_TRACE(absl::StrCat("after seq ", row.seq, ", step '", row.step, "'"));
    const absl::StatusOr<WorkflowState> state =
        FoldHistory(kWorkflowId, absl::MakeConstSpan(events).first(row.seq));
    ASSERT_EQ(state.status(), absl::OkStatus());
    const StepState* step = state->FindStep(row.step);
    ASSERT_NE(step, nullptr);
    EXPECT_EQ(StepStatusName(step->status), StepStatusName(row.status));
    EXPECT_EQ(VisitOf(*step), row.visit);
    EXPECT_EQ(step->attempts, row.attempts);
    EXPECT_EQ(step->details().taken, row.taken);
    EXPECT_EQ(step->details().entered_by, row.entered_by);
    EXPECT_EQ(FailureRouted(*step), row.routed);
  }
}

TEST(History, AStepEnteredByEdgesFromSeveralStepsListsEachOnce) {
  // join waits for a and b (depends_on); a's visit 2 takes its edge into join again.
  Event start = WfStarted({"a", "b", "join"});
  WorkflowDefinition* definition = start.mutable_workflow_started()->mutable_definition();
  definition->mutable_steps(2)->add_depends_on("a");
  definition->mutable_steps(2)->add_depends_on("b");
  Edge* again = definition->add_edges();
  again->set_from("b");
  again->set_to("a");
  const absl::StatusOr<WorkflowState> state = FoldHistory(
      kWorkflowId,
      Numbered({start, Started("a", 1), Taking({"join"}, Completed("a", 1)), Started("b", 1),
                Taking({"join", "a"}, Completed("b", 1)), InVisit(2, Started("a", 1)),
                InVisit(2, Taking({"join"}, Completed("a", 1)))}));
  ASSERT_EQ(state.status(), absl::OkStatus());
  EXPECT_THAT(state->FindStep("join")->details().entered_by, ElementsAre(0, 1));
  EXPECT_THAT(state->FindStep("b")->details().taken, ElementsAre(2, 0));
  EXPECT_EQ(VisitOf(*state->FindStep("a")), 2);
}

TEST(History, AWorkflowCompletesWhenAStepsLatestVisitFailedAndWasRouted) {
  // check's failure goes to recover: the workflow completes, with no failed step.
  Event start = WfStarted({"check", "recover"});
  Edge* on_fail = start.mutable_workflow_started()->mutable_definition()->add_edges();
  on_fail->set_from("check");
  on_fail->set_to("recover");
  on_fail->set_condition("outcome=fail");
  const std::vector<Event> events =
      Numbered({start, Started("check", 1), Taking({"recover"}, Failed("check", 1)),
                Started("recover", 1), Completed("recover", 1), WfCompleted()});

  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, events);

  ASSERT_EQ(state.status(), absl::OkStatus());
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
  EXPECT_EQ(state->FindStep("check")->status, StepStatus::kFailed);
  EXPECT_TRUE(FailureRouted(*state->FindStep("check")));
  EXPECT_THAT(state->failed_steps, IsEmpty());

  // The same failure not routed fails the completion.
  std::vector<Event> unrouted = events;
  unrouted[2] = AtSeq(3, Failed("check", 1));
  SetRecordedAt(TimeOf(3), &unrouted[2]);
  const absl::Status refused = FoldHistory(kWorkflowId, unrouted).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.message(), HasSubstr("seq 6: workflow_completed but step 'check' is failed"));
}

TEST(History, ALaterVisitsStateUpdatesAreAppendedToTheEarlierVisits) {
  const std::vector<Event> events = Numbered({
      WfStartedLoop(),                                                       // 1
      Started("implement", 1),                                               // 2
      WithUpdate("lines", 10, Taking({"test"}, Completed("implement", 1))),  // 3
      Started("test", 1),                                                    // 4
      Taking({"implement"}, Failed("test", 1)),                              // 5
      InVisit(2, Started("implement", 1)),                                   // 6
      InVisit(2, WithUpdate("fixes", 1,
                            WithUpdate("lines", 3, Taking({"test"}, Completed("implement", 1))))),
      InVisit(2, Started("test", 1)),                           // 8
      InVisit(2, Taking({"implement"}, Failed("test", 1))),     // 9
      InVisit(3, Started("implement", 1)),                      // 10
      InVisit(3, Taking({"test"}, Completed("implement", 1))),  // 11: none
  });
  const auto updates_after = [&events](int64_t seq) {
    const absl::StatusOr<WorkflowState> state =
        FoldHistory(kWorkflowId, absl::MakeConstSpan(events).first(seq));
    EXPECT_EQ(state.status(), absl::OkStatus());
    std::vector<std::string> updates;
    if (!state.ok()) return updates;
    for (const StateUpdate& update : state->FindStep("implement")->details().state_updates) {
      updates.push_back(absl::StrCat(update.key(), "=", update.value().number()));
    }
    return updates;
  };
  // The first visit's updates are the step's; each later visit's follow them, in visit order.
  EXPECT_THAT(updates_after(3), ElementsAre("lines=10"));
  EXPECT_THAT(updates_after(6), ElementsAre("lines=10"));  // a visit's start keeps them
  EXPECT_THAT(updates_after(7), ElementsAre("lines=10", "lines=3", "fixes=1"));
  EXPECT_THAT(updates_after(11), ElementsAre("lines=10", "lines=3", "fixes=1"));
}

TEST(History, KeepsTheLogPathOfTheLatestAttempt) {
  Event first = Started("a", 1);
  first.mutable_step_started()->set_log_path("logs/a.1.log");
  Event second = Started("a", 2);
  second.mutable_step_started()->set_log_path("logs/a.2.log");
  const absl::StatusOr<WorkflowState> state =
      FoldHistory(kWorkflowId, Numbered({WfStarted({"a"}), first}));
  ASSERT_EQ(state.status(), absl::OkStatus());
  EXPECT_EQ(state->FindStep("a")->details().log_path, "logs/a.1.log");
  const absl::StatusOr<WorkflowState> retried =
      FoldHistory(kWorkflowId, Numbered({WfStarted({"a"}), first, second}));
  ASSERT_EQ(retried.status(), absl::OkStatus());
  EXPECT_EQ(retried->FindStep("a")->details().log_path, "logs/a.2.log");
}

// A workflow whose step "each" maps over the output of step "list".
Event WfStartedWithMap() {
  Event event = WfStarted({"list", "each", "join"});
  WorkflowDefinition* definition = event.mutable_workflow_started()->mutable_definition();
  definition->mutable_steps(1)->add_depends_on("list");
  definition->mutable_steps(1)->set_map_over("list");
  definition->mutable_steps(2)->add_depends_on("each");
  return event;
}

Event Expanded(const std::string& step, const std::vector<std::string>& items) {
  Event event;
  event.mutable_step_expanded()->set_step(step);
  for (const std::string& item : items) event.mutable_step_expanded()->add_items(item);
  return event;
}

TEST(History, ExpandingAMapStepAddsAnInstancePerItem) {
  const absl::StatusOr<WorkflowState> state = FoldHistory(
      kWorkflowId, Numbered({WfStartedWithMap(), Started("list", 1), Completed("list", 1, "x\ny"),
                             Started("each", 1), Expanded("each", {"x", "y"}),
                             Started("each[1]", 1), Completed("each[1]", 1, "Y")}));
  ASSERT_EQ(state.status(), absl::OkStatus());
  ASSERT_EQ(state->steps.size(), 5u);
  const StepState* second = state->FindStep("each[1]");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->map_of, 1);
  EXPECT_EQ(second->details().map_index, 1);
  EXPECT_EQ(second->details().map_item, "y");
  EXPECT_EQ(second->output, "Y");
  EXPECT_THAT(state->FindStep("each")->details().instances, ElementsAre(3, 4));
}

TEST(History, MapItemsThatAreNotTextFoldFromTheirBytesField) {
  Event expanded;
  expanded.mutable_step_expanded()->set_step("each");
  SetMapItems({"x", "\xff\xfe"}, expanded.mutable_step_expanded());
  ASSERT_EQ(expanded.step_expanded().item_bytes_size(), 2);
  const absl::StatusOr<WorkflowState> state = FoldHistory(
      kWorkflowId, Numbered({WfStartedWithMap(), Started("list", 1),
                             Completed("list", 1, "x\n\xff\xfe"), Started("each", 1), expanded}));
  ASSERT_EQ(state.status(), absl::OkStatus());
  EXPECT_EQ(state->FindStep("each[1]")->details().map_item, "\xff\xfe");

  Event both = Expanded("each", {"x"});
  both.mutable_step_expanded()->add_item_bytes("\xff");
  const absl::Status refused =
      FoldHistory(kWorkflowId, Numbered({WfStartedWithMap(), Started("list", 1),
                                         Completed("list", 1, "x"), Started("each", 1), both}))
          .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.message(), HasSubstr("items both as text and as bytes"));
}

TEST(History, RejectsMapStepsCompletedEarlyOrExpandedTwice) {
  const std::vector<Event> prefix = {WfStartedWithMap(), Started("list", 1),
                                     Completed("list", 1, "x"), Started("each", 1)};
  const struct {
    const char* name;
    std::vector<Event> tail;
    const char* problem;
  } cases[] = {
      {"completed before expansion", {Completed("each", 1)}, "completed before its expansion"},
      {"completed before its instances",
       {Expanded("each", {"x"}), Completed("each", 1)},
       "completed while its instance 'each[0]' is pending"},
      {"expanded twice", {Expanded("each", {"x"}), Expanded("each", {"x"})}, "already expanded"},
      {"not a map step", {Expanded("list", {"x"})}, "is not a map step"},
      {"an instance expanded",
       {Expanded("each", {"x"}), Started("each[0]", 1), Expanded("each[0]", {"y"})},
       "step 'each[0]' expanded but it is not a map step"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Event> events = prefix;
    events.insert(events.end(), c.tail.begin(), c.tail.end());
    const absl::Status status = FoldHistory(kWorkflowId, Numbered(events)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(status.message(), HasSubstr(c.problem));
  }
}

TEST(History, RejectsAnExpansionIntoAnotherStepsName) {
  Event start = WfStartedWithMap();
  start.mutable_workflow_started()->mutable_definition()->add_steps()->set_name("each[1]");
  const absl::Status status =
      FoldHistory(kWorkflowId, Numbered({start, Started("list", 1), Completed("list", 1, "x"),
                                         Started("each", 1), Expanded("each", {"x", "y"})}))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("map step 'each' expanded into 'each[1]', the name of "
                                          "another step"));
}

TEST(History, FoldsRetriesCostsBlocksAndToleratedFailures) {
  Event start = WfStarted({"a", "b"});
  start.mutable_workflow_started()->mutable_definition()->mutable_steps(0)->set_non_critical(true);
  Event retry = Failed("a", 1);
  retry.mutable_step_failed()->mutable_next_attempt_at()->set_seconds(100);
  retry.mutable_step_failed()->set_cost(1.5);
  Event blocked;
  blocked.mutable_step_blocked()->set_step("b");
  blocked.mutable_step_blocked()->set_resource("db");
  Event done = Completed("b", 1);
  done.mutable_step_completed()->set_cost(2);
  Event completed = WfCompleted();
  completed.mutable_workflow_completed()->add_failed_steps("a");

  const absl::StatusOr<WorkflowState> waiting =
      FoldHistory(kWorkflowId, Numbered({start, Started("a", 1), retry, blocked}));
  ASSERT_EQ(waiting.status(), absl::OkStatus());
  EXPECT_EQ(waiting->FindStep("a")->details().retry_at, absl::FromUnixSeconds(100));
  EXPECT_EQ(waiting->FindStep("b")->details().blocked_on, "db");

  const absl::StatusOr<WorkflowState> ended =
      FoldHistory(kWorkflowId, Numbered({start, Started("a", 1), retry, blocked, Started("a", 2),
                                         Failed("a", 2), Started("b", 1), done, completed}));
  ASSERT_EQ(ended.status(), absl::OkStatus());
  EXPECT_EQ(ended->status, WORKFLOW_STATUS_COMPLETED_WITH_FAILURES);
  EXPECT_THAT(ended->failed_steps, ElementsAre("a"));
  EXPECT_EQ(ended->FindStep("a")->details().retry_at, absl::InfinitePast());
  EXPECT_EQ(ended->FindStep("b")->details().blocked_on, "");
  EXPECT_EQ(ended->cost_spent, 3.5);
}

TEST(History, ContinuesFoldingFromAFoldedState) {
  const std::vector<Event> events = ResizeHistory();
  const absl::Span<const Event> all(events);
  const absl::StatusOr<WorkflowState> prefix = FoldHistory(kWorkflowId, all.subspan(0, 8));
  ASSERT_EQ(prefix.status(), absl::OkStatus());

  History history(*prefix);
  for (const Event& event : all.subspan(8)) ASSERT_EQ(history.Apply(event), absl::OkStatus());

  const absl::StatusOr<WorkflowState> whole = FoldHistory(kWorkflowId, all);
  ASSERT_EQ(whole.status(), absl::OkStatus());
  ExpectSameState(std::move(history).TakeState(), *whole);
}

TEST(History, SharingEventsFoldsTheSameAsCopyingThem) {
  const std::vector<Event> events = ResizeHistory();
  History copied(kWorkflowId);
  History shared(kWorkflowId);
  for (const Event& event : events) {
    ASSERT_EQ(copied.Apply(event), absl::OkStatus());
    ASSERT_EQ(shared.Apply(std::make_shared<const Event>(event)), absl::OkStatus());
  }
  ASSERT_GT(shared.state().definition().steps_size(), 0);
  ExpectSameState(shared.state(), copied.state());
}

TEST(History, StateSharesTheDefinitionOfASharedStartedEvent) {
  const auto started = std::make_shared<const Event>(Numbered({WfStarted({"a", "b"})})[0]);
  History history(kWorkflowId);
  ASSERT_EQ(history.Apply(started), absl::OkStatus());
  EXPECT_EQ(&history.state().definition(), &started->workflow_started().definition());
  const WorkflowState copy = history.state();
  EXPECT_EQ(&copy.definition(), &started->workflow_started().definition());
}

TEST(FoldHistory, FoldsFailFastIntoFailedWorkflow) {
  const std::vector<Event> events = Numbered({
      WfStarted({"a", "b", "c"}),                                               // 1
      Started("a", 1),                                                          // 2
      Started("b", 1),                                                          // 3
      Failed("a", 1, absl::UnavailableError("disk full"), /*retryable=*/true),  // 4
      Cancelled("b", 1, "sibling a failed"),                                    // 5
      WfFailed("a", absl::UnavailableError("disk full")),                       // 6
  });

  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, events);

  ASSERT_EQ(state.status(), absl::OkStatus());
  WorkflowState expected = StartedState({"a", "b", "c"});
  expected.status = WORKFLOW_STATUS_FAILED;
  expected.last_seq = 6;
  expected.updated_at = TimeOf(6);
  expected.error = absl::UnavailableError("disk full");
  expected.failed_step = "a";
  // name, status, attempts, output, error, retryable, started_at, finished_at
  expected.steps = {
      ExpectedStep("a", StepStatus::kFailed, 1, "", absl::UnavailableError("disk full"), true,
                   TimeOf(2), TimeOf(4)),
      ExpectedStep("b", StepStatus::kCancelled, 1, "", absl::CancelledError("sibling a failed"),
                   false, TimeOf(3), TimeOf(5)),
      ExpectedStep("c", StepStatus::kPending, 0, "", absl::OkStatus(), false, absl::InfinitePast(),
                   absl::InfinitePast()),
  };
  ExpectSameState(*state, expected);
}

TEST(FoldHistory, FoldsCancellationIntoCancelledWorkflow) {
  const std::vector<Event> events =
      Numbered({WfStarted({"a"}), Started("a", 1), WfCancelled("user asked")});

  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, events);

  ASSERT_EQ(state.status(), absl::OkStatus());
  WorkflowState expected = StartedState({"a"});
  expected.status = WORKFLOW_STATUS_CANCELLED;
  expected.last_seq = 3;
  expected.updated_at = TimeOf(3);
  expected.error = absl::CancelledError("user asked");
  expected.steps = {ExpectedStep("a", StepStatus::kRunning, 1, "", absl::OkStatus(), false,
                                 TimeOf(2), absl::InfinitePast())};
  ExpectSameState(*state, expected);
}

TEST(FoldHistory, EmptyHistoryGivesUnspecifiedState) {
  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, {});

  ASSERT_EQ(state.status(), absl::OkStatus());
  WorkflowState expected;
  expected.workflow_id = kWorkflowId;
  ExpectSameState(*state, expected);
}

TEST(FoldHistory, StopsAtFirstViolation) {
  const std::vector<Event> events = Numbered(
      {WfStarted({"a"}), Started("a", 1), Completed("a", 2), Completed("a", 1), WfCompleted()});

  const absl::StatusOr<WorkflowState> state = FoldHistory(kWorkflowId, events);

  EXPECT_EQ(state.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(state.status().message(), HasSubstr("workflow 'order-42', seq 3: "));
}

// A long history of crash restarts folds in one pass without growing the state; this is the
// hot path of every replay, so it must stay cheap per event.
TEST(History, FindsStepsNamedInAnyOrder) {
  // Parallel steps: their events interleave, out of definition order.
  const absl::StatusOr<WorkflowState> state = FoldHistory(
      kWorkflowId, Numbered({WfStarted({"a", "b", "c", "d"}), Started("c", 1), Started("a", 1),
                             Completed("c", 1, "C"), Started("d", 1), Completed("a", 1, "A"),
                             Started("b", 1), Completed("d", 1, "D"), Completed("b", 1, "B")}));
  ASSERT_EQ(state.status(), absl::OkStatus());
  for (const StepState& step : state->steps) {
    SCOPED_TRACE(step.name);
    EXPECT_EQ(step.status, StepStatus::kCompleted);
    EXPECT_EQ(step.output, absl::AsciiStrToUpper(step.name));
  }
}

TEST(History, FoldsAMillionEvents) {
  constexpr int kEvents = 1'000'000;
  History history(kWorkflowId);
  ASSERT_EQ(history.Apply(Numbered({WfStarted({"a", "b"})})[0]), absl::OkStatus());
  Event restart = Started("a", 0);
  for (int seq = 2; seq <= kEvents; ++seq) {
    restart.set_seq(seq);
    restart.mutable_step_started()->set_attempt(seq - 1);
    ASSERT_EQ(history.Apply(restart), absl::OkStatus());
  }

  EXPECT_EQ(history.state().last_seq, kEvents);
  EXPECT_EQ(history.state().steps[0].attempts, kEvents - 1);
}

// Begins `history` with the outline of `started`, whose parse, counted in `*parses`, hands
// `started` over when History asks.
absl::Status ApplyOutlineOf(const Event& started, History& history, int* parses) {
  const std::string serialized = started.SerializeAsString();
  const std::optional<StartedOutline> outline = ReadStartedOutline(serialized);
  if (!outline.has_value()) return absl::InternalError("no outline");
  auto shared = std::make_shared<const Event>(started);
  return history.ApplyOutline(*outline, [shared, parses] {
    ++*parses;
    return shared;
  });
}

// Folds `events`, the first a workflow_started event, into `history` through the first one's
// outline.
absl::Status FoldThroughOutline(const std::vector<Event>& events, History& history, int* parses) {
  CHORUS_RETURN_IF_ERROR(ApplyOutlineOf(events[0], history, parses));
  for (size_t i = 1; i < events.size(); ++i) CHORUS_RETURN_IF_ERROR(history.Apply(events[i]));
  return history.AwaitStarted();
}

Event WfStartedWithToleratedStep() {
  Event start = WfStarted({"a", "b"});
  start.mutable_workflow_started()->mutable_definition()->mutable_steps(0)->set_non_critical(true);
  return start;
}

TEST(History, FoldsFromAnOutlineAsFromTheEventItself) {
  Event tolerated = WfCompleted();
  tolerated.mutable_workflow_completed()->add_failed_steps("a");
  const std::vector<std::vector<Event>> histories = {
      ResizeHistory(),
      Numbered(
          {WfStartedWithToleratedStep(), Started("a", 1), Failed("a", 1), Skipped("b"), tolerated}),
      Numbered({WfStartedWithMap(), Started("list", 1), Completed("list", 1, "x\ny"),
                Started("each", 1), Expanded("each", {"x", "y"}), Started("each[1]", 1)}),
      Numbered({WfStarted({"a"})}),
      LoopHistory(),  // edges taken are checked against the definition
  };
  for (const std::vector<Event>& events : histories) {
    SCOPED_TRACE(events.back().ShortDebugString());
    History outlined(kWorkflowId);
    int parses = 0;
    ASSERT_EQ(FoldThroughOutline(events, outlined, &parses), absl::OkStatus());
    EXPECT_EQ(parses, 1);
    const absl::StatusOr<WorkflowState> applied = FoldHistory(kWorkflowId, events);
    ASSERT_EQ(applied.status(), absl::OkStatus());
    ExpectSameState(outlined.state(), *applied);
    EXPECT_EQ(outlined.state().failed_steps, applied->failed_steps);
  }
}

TEST(History, WaitsForAnOutlinedEventOnlyWhenAnEventNeedsMoreThanItsNames) {
  Event tolerated = WfCompleted();
  tolerated.mutable_workflow_completed()->add_failed_steps("a");
  const std::vector<Event> events = Numbered(
      {WfStartedWithToleratedStep(), Started("a", 1), Failed("a", 1), Skipped("b"), tolerated});
  int parses = 0;
  History history(kWorkflowId);
  ASSERT_EQ(ApplyOutlineOf(events[0], history, &parses), absl::OkStatus());
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(history.Apply(events[i]), absl::OkStatus());
  EXPECT_EQ(parses, 0);
  EXPECT_EQ(history.state().definition().steps_size(), 0);

  // Whether a failed step fails the completion depends on the definition.
  ASSERT_EQ(history.Apply(events[4]), absl::OkStatus());
  EXPECT_EQ(parses, 1);
  EXPECT_EQ(history.state().status, WORKFLOW_STATUS_COMPLETED_WITH_FAILURES);
  ASSERT_EQ(history.AwaitStarted(), absl::OkStatus());
  EXPECT_EQ(parses, 1);
}

TEST(History, WaitsForAnOutlinedEventWithMapStepsAtTheFirstCompletion) {
  // Whether a completed step is a map step that has not expanded depends on the definition.
  const std::vector<Event> events =
      Numbered({WfStartedWithMap(), Started("list", 1), Completed("list", 1, "x")});
  int parses = 0;
  History history(kWorkflowId);
  ASSERT_EQ(ApplyOutlineOf(events[0], history, &parses), absl::OkStatus());
  ASSERT_EQ(history.Apply(events[1]), absl::OkStatus());
  EXPECT_EQ(parses, 0);
  ASSERT_EQ(history.Apply(events[2]), absl::OkStatus());
  EXPECT_EQ(parses, 1);
}

TEST(History, RejectsAnOutlineAsItRejectsTheEvent) {
  const Event duplicate = Numbered({WfStarted({"a", "b", "a"})})[0];
  const Event at_seq_2 = Numbered({AtSeq(2, WfStarted({"a"}))})[0];
  struct Case {
    std::string name;
    std::vector<Event> before;
    Event started;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"duplicate step names", {}, duplicate, "seq 1: the definition has two steps named 'a'"},
      {"seq not 1", {}, at_seq_2, "seq 2: expected seq 1"},
      {"started again", {}, Numbered({WfStarted({"a"})})[0], ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    History history(kWorkflowId);
    if (c.problem.empty()) {
      ASSERT_EQ(history.Apply(c.started), absl::OkStatus());
    }
    const std::string serialized =
        (c.problem.empty() ? AtSeq(2, c.started) : c.started).SerializeAsString();
    const std::optional<StartedOutline> outline = ReadStartedOutline(serialized);
    ASSERT_TRUE(outline.has_value());
    const std::string before = history.state().steps.empty() ? "" : history.state().steps[0].name;
    const absl::Status status =
        history.ApplyOutline(*outline, []() -> absl::StatusOr<std::shared_ptr<const Event>> {
          return absl::InternalError("not to be parsed");
        });
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(status.message(),
                HasSubstr(c.problem.empty() ? "seq 2: workflow_started again" : c.problem));
    EXPECT_EQ(history.state().steps.empty() ? "" : history.state().steps[0].name, before);
    EXPECT_EQ(history.AwaitStarted(), absl::OkStatus());  // nothing is waited for
  }
}

TEST(History, AwaitStartedReportsAParseThatFailedOrGaveAnotherEvent) {
  const Event started = Numbered({WfStarted({"a", "b"})})[0];
  const std::string serialized = started.SerializeAsString();
  const std::optional<StartedOutline> outline = ReadStartedOutline(serialized);
  ASSERT_TRUE(outline.has_value());

  History failed(kWorkflowId);
  ASSERT_EQ(failed.ApplyOutline(*outline,
                                []() -> absl::StatusOr<std::shared_ptr<const Event>> {
                                  return absl::DataLossError("seq 1 cannot be parsed");
                                }),
            absl::OkStatus());
  EXPECT_EQ(failed.AwaitStarted(), absl::DataLossError("seq 1 cannot be parsed"));

  auto other = std::make_shared<const Event>(Numbered({WfStarted({"a", "c"})})[0]);
  History differs(kWorkflowId);
  ASSERT_EQ(differs.ApplyOutline(*outline, [other] { return other; }), absl::OkStatus());
  const absl::Status status = differs.AwaitStarted();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("does not parse into the workflow_started event"));
}

}  // namespace
}  // namespace chorus
