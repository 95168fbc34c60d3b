#include "event/snapshot.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "event/history.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/snapshot.pb.h"

namespace chorus {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

constexpr char kWorkflowId[] = "photos-7";

// A definition whose steps give a history every field of the state to set: "fetch" is
// retried, "resize" is a map step, "publish" a map step that is not critical and fails before
// it expands, "notify" is skipped.
WorkflowDefinition PhotoDefinition() {
  WorkflowDefinition definition;
  definition.set_name("photos");
  definition.add_steps()->set_name("fetch");
  StepDefinition* resize = definition.add_steps();
  resize->set_name("resize");
  resize->set_map_over("fetch");
  StepDefinition* publish = definition.add_steps();
  publish->set_name("publish");
  publish->set_map_over("fetch");
  publish->set_non_critical(true);
  definition.add_steps()->set_name("notify");
  return definition;
}

Event Started(const std::string& step, int attempt, const std::string& log_path = "") {
  Event event;
  event.mutable_step_started()->set_step(step);
  event.mutable_step_started()->set_attempt(attempt);
  event.mutable_step_started()->set_log_path(log_path);
  return event;
}

Event Completed(const std::string& step, int attempt, const std::string& output, double cost = 0) {
  Event event;
  event.mutable_step_completed()->set_step(step);
  event.mutable_step_completed()->set_attempt(attempt);
  event.mutable_step_completed()->set_output(output);
  event.mutable_step_completed()->set_cost(cost);
  return event;
}

Event Failed(const std::string& step, int attempt, const absl::Status& error) {
  Event event;
  event.mutable_step_failed()->set_step(step);
  event.mutable_step_failed()->set_attempt(attempt);
  *event.mutable_step_failed()->mutable_error() = ToError(error);
  return event;
}

// Every event of a run that touches every field: a retry with its time, a timeout and a cost,
// a wait for a resource, state updates, a map step's instances (one completed, one cancelled),
// a skip, a tolerated failure, and the workflow's failure. `at` gives each seq its time.
std::vector<Event> PhotoHistory(absl::Time (*at)(int64_t seq)) {
  std::vector<Event> events;
  Event started;
  *started.mutable_workflow_started()->mutable_definition() = PhotoDefinition();
  started.mutable_workflow_started()->set_fingerprint("fp-photos");
  started.mutable_workflow_started()->set_input("album 3");
  events.push_back(started);
  events.push_back(Started("fetch", 1, "logs/fetch.1.log"));
  Event failed = Failed("fetch", 1, absl::UnavailableError("network down"));
  failed.mutable_step_failed()->set_retryable(true);
  failed.mutable_step_failed()->set_timed_out(true);
  failed.mutable_step_failed()->set_cost(0.25);
  failed.mutable_step_failed()->mutable_next_attempt_at()->set_seconds(1'800'000'000);
  failed.mutable_step_failed()->mutable_next_attempt_at()->set_nanos(7);
  events.push_back(failed);
  Event blocked;
  blocked.mutable_step_blocked()->set_step("fetch");
  blocked.mutable_step_blocked()->set_resource("network");
  events.push_back(blocked);
  events.push_back(Started("fetch", 2, "logs/fetch.2.log"));
  Event fetched = Completed("fetch", 2, "a.png\nb\xff.png", 1.5);
  StateUpdate* update = fetched.mutable_step_completed()->add_state_updates();
  update->set_key("photos");
  update->mutable_value()->set_number(2);
  events.push_back(fetched);
  events.push_back(Started("resize", 1));
  Event expanded;
  expanded.mutable_step_expanded()->set_step("resize");
  SetMapItems({"a.png", "b\xff.png"}, expanded.mutable_step_expanded());  // bytes, not text
  events.push_back(expanded);
  events.push_back(Started("resize[0]", 1));
  events.push_back(Completed("resize[0]", 1, "a-small.png"));
  events.push_back(Started("publish", 1));
  events.push_back(Failed("publish", 1, absl::PermissionDeniedError("no access")));
  events.push_back(Started("resize[1]", 1));
  Event cancelled;
  cancelled.mutable_step_cancelled()->set_step("resize[1]");
  cancelled.mutable_step_cancelled()->set_attempt(1);
  cancelled.mutable_step_cancelled()->set_reason("the run is stopping");
  events.push_back(cancelled);
  Event skipped;
  skipped.mutable_step_skipped()->set_step("notify");
  events.push_back(skipped);
  Event workflow_failed;
  workflow_failed.mutable_workflow_failed()->set_step("resize[1]");
  *workflow_failed.mutable_workflow_failed()->mutable_error() =
      ToError(absl::CancelledError("the run is stopping"));
  events.push_back(workflow_failed);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].set_seq(static_cast<int64_t>(i) + 1);
    SetRecordedAt(at(events[i].seq()), &events[i]);
  }
  return events;
}

Event Skipped(const std::string& step) {
  Event event;
  event.mutable_step_skipped()->set_step(step);
  return event;
}

// A run whose non-critical step's failure is tolerated: it completes with failures.
std::vector<Event> ToleratedFailureHistory() {
  std::vector<Event> events(1);
  *events[0].mutable_workflow_started()->mutable_definition() = PhotoDefinition();
  events[0].mutable_workflow_started()->set_fingerprint("fp-photos");
  events.push_back(Started("fetch", 1));
  events.push_back(Completed("fetch", 1, ""));
  events.push_back(Skipped("resize"));
  events.push_back(Started("publish", 1));
  events.push_back(Failed("publish", 1, absl::PermissionDeniedError("no access")));
  events.push_back(Started("notify", 1));
  events.push_back(Completed("notify", 1, "sent"));
  Event completed;
  completed.mutable_workflow_completed()->add_failed_steps("publish");
  events.push_back(completed);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].set_seq(static_cast<int64_t>(i) + 1);
    SetRecordedAt(absl::FromUnixSeconds(1'600'000'000) + absl::Milliseconds(i), &events[i]);
  }
  return events;
}

// `event` of the step's visit `visit` (a step started/completed/failed event), whose visit took
// the edges to `taken` (a completed/failed event).
Event InVisit(int visit, Event event, const std::vector<std::string>& taken = {}) {
  if (event.has_step_started()) event.mutable_step_started()->set_visit(visit);
  if (event.has_step_completed()) {
    event.mutable_step_completed()->set_visit(visit);
    for (const std::string& to : taken) event.mutable_step_completed()->add_taken(to);
  }
  if (event.has_step_failed()) {
    event.mutable_step_failed()->set_visit(visit);
    for (const std::string& to : taken) event.mutable_step_failed()->add_taken(to);
  }
  return event;
}

// A loop with a parallel branch: implement -> {test, lint} -> done, and test's failure goes
// back to implement. test fails once, routed; its visit 2 passes.
std::vector<Event> LoopHistory() {
  WorkflowDefinition definition;
  definition.set_name("change");
  definition.add_steps()->set_name("implement");
  StepDefinition* test = definition.add_steps();
  test->set_name("test");
  test->add_depends_on("implement");
  StepDefinition* lint = definition.add_steps();
  lint->set_name("lint");
  lint->add_depends_on("implement");
  StepDefinition* done = definition.add_steps();
  done->set_name("done");
  done->add_depends_on("lint");
  Edge* pass = definition.add_edges();
  pass->set_from("test");
  pass->set_to("done");
  pass->set_condition("outcome=success");
  Edge* fail = definition.add_edges();
  fail->set_from("test");
  fail->set_to("implement");
  fail->set_condition("outcome=fail");
  std::vector<Event> events(1);
  *events[0].mutable_workflow_started()->mutable_definition() = definition;
  events[0].mutable_workflow_started()->set_fingerprint("fp-change");
  events.push_back(Started("implement", 1));                                        // 2
  events.push_back(InVisit(1, Completed("implement", 1, "v1"), {"test", "lint"}));  // 3
  events.push_back(Started("test", 1));                                             // 4
  events.push_back(Started("lint", 1));                                             // 5
  events.push_back(InVisit(1, Completed("lint", 1, "clean"), {"done"}));            // 6
  events.push_back(InVisit(1, Failed("test", 1, absl::InternalError("1 fails")), {"implement"}));
  events.push_back(InVisit(2, Started("implement", 1)));                            // 8
  events.push_back(InVisit(2, Completed("implement", 1, "v2"), {"test", "lint"}));  // 9
  events.push_back(InVisit(2, Started("test", 1)));                                 // 10
  events.push_back(InVisit(2, Completed("test", 1, "pass"), {"done"}));             // 11
  events.push_back(InVisit(2, Started("lint", 1)));                                 // 12
  events.push_back(InVisit(2, Completed("lint", 1, "clean"), {"done"}));            // 13
  events.push_back(Started("done", 1));                                             // 14
  events.push_back(Completed("done", 1, "merged"));                                 // 15
  events.push_back(Event());
  events.back().mutable_workflow_completed();  // 16
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].set_seq(static_cast<int64_t>(i) + 1);
    SetRecordedAt(absl::FromUnixSeconds(1'650'000'000) + absl::Seconds(i), &events[i]);
  }
  return events;
}

absl::Time Ordinary(int64_t seq) {
  return absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(seq) + absl::Nanoseconds(seq);
}

// PhotoHistory with times a corrupted history may hold, as the fold reads them: the last
// finite second, InfiniteFuture and InfinitePast (by saturation), and before 1970.
std::vector<Event> ExtremeTimesHistory() {
  std::vector<Event> events = PhotoHistory(Ordinary);
  const struct {
    int64_t seconds;
    int32_t nanos;
  } kTimes[] = {{std::numeric_limits<int64_t>::max(), 999'999'999},
                {std::numeric_limits<int64_t>::max(), 1'000'000'000},
                {std::numeric_limits<int64_t>::min(), -1},
                {-5, 3}};
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].mutable_recorded_at()->set_seconds(kTimes[i % 4].seconds);
    events[i].mutable_recorded_at()->set_nanos(kTimes[i % 4].nanos);
  }
  return events;
}

void ExpectSameStep(const StepState& actual, const StepState& expected) {
  SCOPED_TRACE(absl::StrCat("step '", expected.name, "'"));
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_EQ(actual.attempts, expected.attempts);
  EXPECT_EQ(actual.output, expected.output);
  EXPECT_EQ(actual.error, expected.error);
  EXPECT_EQ(actual.retryable, expected.retryable);
  EXPECT_EQ(actual.timed_out, expected.timed_out);
  EXPECT_EQ(actual.expanded, expected.expanded);
  EXPECT_EQ(actual.map_of, expected.map_of);
  EXPECT_EQ(actual.started_at, expected.started_at);
  EXPECT_EQ(actual.finished_at, expected.finished_at);
  const StepDetails& a = actual.details();
  const StepDetails& e = expected.details();
  EXPECT_EQ(a.log_path, e.log_path);
  ASSERT_EQ(a.state_updates.size(), e.state_updates.size());
  for (size_t i = 0; i < a.state_updates.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(a.state_updates[i], e.state_updates[i]));
  }
  EXPECT_EQ(a.cost, e.cost);
  EXPECT_EQ(a.retry_at, e.retry_at);
  EXPECT_EQ(a.blocked_on, e.blocked_on);
  EXPECT_EQ(a.map_index, e.map_index);
  EXPECT_EQ(a.map_item, e.map_item);
  EXPECT_EQ(a.instances, e.instances);
  EXPECT_EQ(a.visit, e.visit);
  EXPECT_EQ(a.taken, e.taken);
  EXPECT_EQ(a.entered_by, e.entered_by);
}

// Every field of the state.
void ExpectSameState(const WorkflowState& actual, const WorkflowState& expected) {
  EXPECT_EQ(actual.workflow_id, expected.workflow_id);
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_TRUE(MessageDifferencer::Equals(actual.definition(), expected.definition()));
  EXPECT_EQ(actual.fingerprint, expected.fingerprint);
  EXPECT_EQ(actual.input, expected.input);
  EXPECT_EQ(actual.last_seq, expected.last_seq);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.updated_at);
  EXPECT_EQ(actual.cost_spent, expected.cost_spent);
  EXPECT_EQ(actual.failed_steps, expected.failed_steps);
  EXPECT_EQ(actual.error, expected.error);
  EXPECT_EQ(actual.failed_step, expected.failed_step);
  ASSERT_EQ(actual.steps.size(), expected.steps.size());
  for (size_t i = 0; i < actual.steps.size(); ++i) {
    ExpectSameStep(actual.steps[i], expected.steps[i]);
    EXPECT_EQ(actual.IndexOf(expected.steps[i].name), static_cast<int>(i));
  }
}

WorkflowState Fold(absl::Span<const Event> events) {
  History history(kWorkflowId);
  for (const Event& event : events) {
    const absl::Status applied = history.Apply(event);
    EXPECT_TRUE(applied.ok()) << applied;
  }
  return std::move(history).TakeState();
}

TEST(Snapshot, RestoresTheStateAfterEveryEventOfAHistoryExactly) {
  const struct {
    const char* name;
    std::vector<Event> events;
  } kHistories[] = {{"photos", PhotoHistory(Ordinary)},
                    {"tolerated failure", ToleratedFailureHistory()},
                    {"loop", LoopHistory()},
                    {"extreme times", ExtremeTimesHistory()}};
  for (const auto& h : kHistories) {
    const absl::Span<const Event> events = h.events;
    for (size_t folded = 1; folded <= events.size(); ++folded) {
      SCOPED_TRACE(absl::StrCat(h.name, ", after seq ", folded));
      const WorkflowState state = Fold(events.first(folded));
      absl::StatusOr<WorkflowState> restored =
          RestoreSnapshot(SerializeSnapshot(state), Fold(events.first(1)));
      ASSERT_TRUE(restored.ok()) << restored.status();
      ExpectSameState(*restored, state);
      // The fold goes on from the restored state as from the folded one.
      History rest(*std::move(restored));
      for (const Event& event : events.subspan(folded)) {
        const absl::Status applied = rest.Apply(event);
        ASSERT_TRUE(applied.ok()) << applied;
      }
      ExpectSameState(rest.state(), Fold(events));
    }
  }
}

TEST(Snapshot, RestoresAStateMidLoopWithItsVisitsAndTheEdgesTaken) {
  const std::vector<Event> events = LoopHistory();
  // After seq 10: implement's visit 2 completed and took its edges to test and lint again;
  // test's visit 2 runs; lint, entered again, has not started its visit 2.
  const WorkflowState state = Fold(absl::MakeConstSpan(events).first(10));
  const StepState& implement = state.steps[0];
  const StepState& test = state.steps[1];
  const StepState& lint = state.steps[2];
  const StepState& done = state.steps[3];
  ASSERT_EQ(test.status, StepStatus::kRunning);
  ASSERT_EQ(test.details().visit, 2);
  ASSERT_EQ(implement.details().visit, 2);
  ASSERT_EQ(implement.details().taken, (std::vector<int>{1, 2}));
  ASSERT_EQ(lint.status, StepStatus::kCompleted);
  ASSERT_EQ(lint.details().taken, (std::vector<int>{3}));
  ASSERT_EQ(lint.details().entered_by, (std::vector<int>{0}));
  ASSERT_EQ(done.details().entered_by, (std::vector<int>{2}));

  absl::StatusOr<WorkflowState> restored =
      RestoreSnapshot(SerializeSnapshot(state), Fold(absl::MakeConstSpan(events).first(1)));

  ASSERT_TRUE(restored.ok()) << restored.status();
  ExpectSameState(*restored, state);
  EXPECT_EQ(VisitOf(restored->steps[1]), 2);
  EXPECT_EQ(VisitOf(restored->steps[3]), 0);
  // The restored state takes test's visit 2 and lint's on to the workflow's completion.
  History rest(*std::move(restored));
  for (const Event& event : absl::MakeConstSpan(events).subspan(10)) {
    ASSERT_EQ(rest.Apply(event), absl::OkStatus());
  }
  EXPECT_EQ(rest.state().status, WORKFLOW_STATUS_COMPLETED);
  ExpectSameState(rest.state(), Fold(events));
}

// A column of a snapshot: `values` as varints.
std::string Varints(std::initializer_list<uint64_t> values) {
  std::string column;
  for (uint64_t value : values) {
    uint8_t bytes[10];  // a 64-bit varint takes at most 10
    const uint8_t* end =
        google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, bytes);
    column.append(reinterpret_cast<const char*>(bytes), end - bytes);
  }
  return column;
}

TEST(Snapshot, RefusesASnapshotThatDoesNotFitTheDefinition) {
  const std::vector<Event> events = PhotoHistory(Ordinary);
  const WorkflowState state = Fold(absl::MakeConstSpan(events).first(10));
  ASSERT_EQ(state.steps.size(), 6u);  // four defined steps and resize's two instances
  WorkflowSnapshot good;
  ASSERT_TRUE(good.ParseFromString(SerializeSnapshot(state)));
  const struct {
    const char* name;
    void (*spoil)(WorkflowSnapshot& snapshot);
    const char* problem;
  } kCases[] = {
      {"another definition", [](WorkflowSnapshot& s) { s.set_fingerprint("fp-other"); },
       "it is of definition 'fp-other', the history's is 'fp-photos'"},
      {"no workflow status", [](WorkflowSnapshot& s) { s.set_status(WORKFLOW_STATUS_UNSPECIFIED); },
       "workflow status 0"},
      {"fewer steps than defined", [](WorkflowSnapshot& s) { s.set_step_flags(Varints({2})); },
       "its flags column holds 1 whole steps, the definition 4"},
      {"a flags entry cut short", [](WorkflowSnapshot& s) { s.set_step_flags("\xff"); },
       "its flags column holds 0 whole steps, the definition 4"},
      {"a status out of range",
       [](WorkflowSnapshot& s) {
         s.set_step_flags(Varints({7, 0, 0, 0, 0, 0}));
       },
       "step 0 has flags 7"},
      {"attempts out of range",
       [](WorkflowSnapshot& s) {
         s.set_step_flags(Varints({0, uint64_t{1} << 40, 0, 0, 0, 0}));
       },
       "step 1 has flags 1099511627776"},
      {"a time missing", [](WorkflowSnapshot& s) { s.mutable_started_at()->pop_back(); },
       "its columns of times or outputs do not match its steps"},
      {"a time too many",
       [](WorkflowSnapshot& s) { s.mutable_finished_at()->append(Varints({2})); },
       "its columns of times or outputs do not match its steps"},
      {"an output size missing",
       [](WorkflowSnapshot& s) {
         s.set_output_sizes(Varints({0, 0, 0, 0, 0}));
       },
       "its columns of times or outputs do not match its steps"},
      {"outputs cut short", [](WorkflowSnapshot& s) { s.mutable_outputs()->pop_back(); },
       "its columns of times or outputs do not match its steps"},
      {"an instance of a step that is not a map step",
       [](WorkflowSnapshot& s) { s.mutable_extras(s.extras_size() - 1)->set_map_of(0); },
       "step 5 is not an instance of a map step"},
      {"an instance out of range",
       [](WorkflowSnapshot& s) {
         for (StepExtras& extras : *s.mutable_extras()) {
           if (extras.instances_size() > 0) extras.set_instances(1, 6);
         }
       },
       "step 1 lists step 6 as its instance"},
      {"two instances of one name",
       [](WorkflowSnapshot& s) { s.mutable_extras(s.extras_size() - 1)->set_map_index(0); },
       "step 5 has the name of another"},
      {"an instance listed by another map step",
       [](WorkflowSnapshot& s) {
         s.mutable_extras(s.extras_size() - 1)->set_map_of(2);
         s.mutable_extras(s.extras_size() - 2)->set_map_of(2);
       },
       "step 1 lists step 4, an instance of another"},
      {"extras out of order", [](WorkflowSnapshot& s) { s.mutable_extras()->SwapElements(0, 1); },
       "extras of step 0 out of order"},
      {"an instance without its extras",
       [](WorkflowSnapshot& s) { s.mutable_extras()->RemoveLast(); },
       "2 steps past the definition's, 1 of them map instances"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    WorkflowSnapshot spoilt = good;
    c.spoil(spoilt);
    const absl::StatusOr<WorkflowState> restored =
        RestoreSnapshot(spoilt.SerializeAsString(), Fold(absl::MakeConstSpan(events).first(1)));
    EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
    EXPECT_THAT(restored.status().message(),
                HasSubstr(absl::StrCat("workflow 'photos-7': snapshot at seq 10: ", c.problem)));
  }
  const absl::StatusOr<WorkflowState> garbage =
      RestoreSnapshot("\xff\xff not a snapshot", Fold(absl::MakeConstSpan(events).first(1)));
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(garbage.status().message(),
              HasSubstr("workflow 'photos-7': the snapshot cannot be parsed"));
}

}  // namespace
}  // namespace chorus
