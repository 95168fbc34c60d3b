#include "workflow/engine.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "event/events.h"
#include "event/history.h"
#include "event/snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/forwarding_event_store.h"
#include "storage/memory_event_store.h"
#include "storage/sqlite_event_store.h"
#include "tests/workflow/engine_fixture.h"
#include "tests/workflow/latch.h"
#include "workflow/definition.h"
#include "workflow/file_name.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_P(EngineTest, IndependentStepsRunConcurrently) {
  for (int width : {2, 3, 5, 8}) {
    SCOPED_TRACE(width);
    StepRegistry registry;
    Latch all_running(width);
    DefinitionBuilder builder("wide");
    for (int i = 0; i < width; ++i) {
      const std::string name = absl::StrCat("s", i);
      builder.Step(name);
      ASSERT_TRUE(registry
                      .Register(name,
                                [&](const StepContext&) -> absl::StatusOr<std::string> {
                                  if (!all_running.ArriveAndWait()) {
                                    return absl::DeadlineExceededError("steps did not overlap");
                                  }
                                  return Ok("done");
                                })
                      .ok());
    }
    Engine engine(store_.get(), &registry, Options(width));
    absl::StatusOr<WorkflowState> state =
        engine.Run(absl::StrCat("wide", width), builder.Build(), "");
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
  }
}

TEST_P(EngineTest, StepSeesItsDependencyFinishedAndItsOutput) {
  std::atomic<bool> a_finished{false};
  Register("a", [&](const StepContext&) {
    a_finished = true;
    return Ok("A");
  });
  Register("b", [&](const StepContext& context) -> absl::StatusOr<std::string> {
    if (!a_finished) return absl::InternalError("b ran before a finished");
    absl::StatusOr<absl::string_view> a = context.DependencyOutputOf("a");
    if (!a.ok()) return a.status();
    return absl::StrCat("B(", *a, ")");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state =
      engine.Run("chain", DefinitionBuilder("chain").Step("a").Step("b", {"a"}).Build(), "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("b")->output, "B(A)");
  EXPECT_THAT(Trace("chain"),
              ElementsAre("workflow_started", "step_started a#1", "step_completed a#1",
                          "step_started b#1", "step_completed b#1", "workflow_completed"));
}

TEST_P(EngineTest, DiamondRunsItsMiddleConcurrentlyAndJoinsInDefinitionOrder) {
  Latch middle(2);
  auto middle_step = [&](absl::string_view name) {
    return [&middle, name](const StepContext& context) -> absl::StatusOr<std::string> {
      if (!middle.ArriveAndWait()) return absl::DeadlineExceededError("b and c did not overlap");
      return absl::StrCat(name, "(", *context.DependencyOutputOf("a"), ")");
    };
  };
  Register("a", [](const StepContext& context) { return Ok(context.input()); });
  Register("b", middle_step("b"));
  Register("c", middle_step("c"));
  Register("d", [](const StepContext& context) {
    std::string joined;
    for (const DependencyOutput& dep : context.dependencies())
      absl::StrAppend(&joined, dep.output, ";");
    return Ok(joined);
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("diamond",
                                                   DefinitionBuilder("diamond")
                                                       .Step("a")
                                                       .Step("b", {"a"})
                                                       .Step("c", {"a"})
                                                       .Step("d", {"c", "b"})
                                                       .Build(),
                                                   "in");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("d")->output, "c(in);b(in);");
}

TEST_P(EngineTest, MixedGraphStartsEveryStepAfterItsDependenciesComplete) {
  // a -> b -> c (a chain) beside p1, p2, p3 (parallel), all joined by z.
  Latch parallel(3);
  for (const char* name : {"a", "b", "c", "z"})
    Register(name, [](const StepContext&) { return Ok("x"); });
  for (const char* name : {"p1", "p2", "p3"}) {
    Register(name, [&](const StepContext&) -> absl::StatusOr<std::string> {
      if (!parallel.ArriveAndWait()) return absl::DeadlineExceededError("no overlap");
      return Ok("p");
    });
  }
  WorkflowDefinition definition = DefinitionBuilder("mixed")
                                      .Step("a")
                                      .Step("p1")
                                      .Step("b", {"a"})
                                      .Step("p2")
                                      .Step("c", {"b"})
                                      .Step("p3")
                                      .Step("z", {"c", "p1", "p2", "p3"})
                                      .Build();
  Engine engine(store_.get(), &registry_, Options(4));
  absl::StatusOr<WorkflowState> state = engine.Run("mixed", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  std::map<std::string, int64_t> completed_at;
  for (const Event& event : Events("mixed")) {
    if (event.has_step_completed()) completed_at[event.step_completed().step()] = event.seq();
    if (!event.has_step_started()) continue;
    const StepDefinition& step =
        definition.steps(state->IndexOf(event.step_started().step()));
    for (const std::string& dep : step.depends_on()) {
      ASSERT_TRUE(completed_at.count(dep)) << step.name() << " started before " << dep;
    }
  }
  EXPECT_EQ(completed_at.size(), 7u);
}

TEST_P(EngineTest, AllParallelStepsSucceed) {
  DefinitionBuilder builder("fan");
  for (int i = 0; i < 6; ++i) {
    const std::string name = absl::StrCat("s", i);
    builder.Step(name);
    Register(name, [name](const StepContext&) { return Ok(name + "!"); });
  }
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("fan", builder.Build(), "");
  ASSERT_TRUE(state.ok()) << state.status();
  for (const StepState& step : state->steps) {
    EXPECT_EQ(step.status, StepStatus::kCompleted) << step.name;
    EXPECT_EQ(step.output, step.name + "!");
  }
  EXPECT_EQ(Trace("fan").back(), "workflow_completed");
}

TEST_P(EngineTest, FailFastCancelsRunningSiblingsAndRecordsEverythingBeforeReturning) {
  for (ScheduleMode mode : {ScheduleMode::kWave, ScheduleMode::kEager}) {
    SCOPED_TRACE(mode == ScheduleMode::kWave ? "wave" : "eager");
    StepRegistry registry;
    Latch all_running(3);
    std::atomic<bool> slow_saw_cancellation{false};
    ASSERT_TRUE(registry
                    .Register("fast",
                              [&](const StepContext&) -> absl::StatusOr<std::string> {
                                all_running.ArriveAndWait();
                                return Ok("kept");
                              })
                    .ok());
    ASSERT_TRUE(registry
                    .Register("bad",
                              [&](const StepContext&) -> absl::StatusOr<std::string> {
                                all_running.ArriveAndWait();
                                return absl::UnavailableError("disk on fire");
                              })
                    .ok());
    ASSERT_TRUE(registry
                    .Register("slow",
                              [&](const StepContext& context) {
                                all_running.ArriveAndWait();
                                absl::StatusOr<std::string> result = WaitForCancellation(context);
                                slow_saw_cancellation = absl::IsCancelled(result.status());
                                return result;
                              })
                    .ok());
    ASSERT_TRUE(registry.Register("after", [](const StepContext&) { return Ok("never"); }).ok());
    const std::string id = mode == ScheduleMode::kWave ? "ff-wave" : "ff-eager";
    Engine engine(store_.get(), &registry, Options(3, mode));
    absl::StatusOr<WorkflowState> state = engine.Run(id,
                                                     DefinitionBuilder("ff")
                                                         .Step("fast")
                                                         .Step("bad")
                                                         .Step("slow")
                                                         .Step("after", {"fast", "bad", "slow"})
                                                         .Build(),
                                                     "");
    // Everything is recorded by the time the error is returned.
    std::vector<std::string> trace = Trace(id);
    EXPECT_EQ(state.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(state.status().message(),
                AllOf(HasSubstr("workflow '" + id + "'"), HasSubstr("step 'bad'"),
                      HasSubstr("disk on fire")));
    EXPECT_TRUE(slow_saw_cancellation);
    EXPECT_THAT(trace, ::testing::Contains("step_completed fast#1"));
    EXPECT_THAT(trace, ::testing::Contains("step_failed bad#1"));
    EXPECT_THAT(trace, ::testing::Contains("step_cancelled slow#1"));
    EXPECT_THAT(trace, ::testing::Not(::testing::Contains("step_started after#1")));
    EXPECT_EQ(trace.back(), "workflow_failed");
    absl::StatusOr<WorkflowState> recorded = engine.GetState(id);
    ASSERT_TRUE(recorded.ok());
    EXPECT_EQ(recorded->FindStep("fast")->output, "kept");
    EXPECT_EQ(recorded->FindStep("slow")->error.message(), "step 'bad' failed");
    EXPECT_EQ(recorded->status, WORKFLOW_STATUS_FAILED);
  }
}

TEST_P(EngineTest, WaveModeGivesTheSameHistoryWhateverTheTiming) {
  std::mt19937 random(20261121);
  std::uniform_int_distribution<int> delay_us(0, 2000);
  DefinitionBuilder builder("waves");
  builder.Step("root").Step("l1", {"root"}).Step("l2", {"root"}).Step("l3", {"root"});
  builder.Step("m1", {"l1", "l2"})
      .Step("m2", {"l3"})
      .Step("m3", {"l1"})
      .Step("end", {"m1", "m2", "m3"});
  Mutex mu;
  for (const char* name : {"root", "l1", "l2", "l3", "m1", "m2", "m3", "end"}) {
    Register(name, [&](const StepContext& context) {
      int delay;
      {
        MutexLock lock(&mu);
        delay = delay_us(random);
      }
      absl::SleepFor(absl::Microseconds(delay));
      return Ok(context.step());
    });
  }
  Engine engine(store_.get(), &registry_, Options(4, ScheduleMode::kWave));
  std::vector<std::string> first;
  for (int run = 0; run < 20; ++run) {
    const std::string id = absl::StrCat("wave-", run);
    ASSERT_TRUE(engine.Run(id, builder.Build(), "").ok());
    if (run == 0) {
      first = Trace(id);
    } else {
      EXPECT_EQ(Trace(id), first) << "run " << run;
    }
  }
}

TEST_P(EngineTest, SequenceNumbersAreContiguousFromOneAndEveryEventIsStored) {
  DefinitionBuilder builder("seq");
  for (int i = 0; i < 30; ++i) {
    const std::string name = absl::StrCat("s", i);
    if (i < 10) {
      builder.Step(name);
    } else {
      builder.Step(name, {absl::StrCat("s", i - 10)});
    }
    Register(name, [](const StepContext&) { return Ok("x"); });
  }
  Engine engine(store_.get(), &registry_, Options(4, ScheduleMode::kEager));
  absl::StatusOr<WorkflowState> state = engine.Run("seq", builder.Build(), "");
  ASSERT_TRUE(state.ok()) << state.status();
  std::vector<Event> events = Events("seq");
  ASSERT_EQ(static_cast<int64_t>(events.size()), state->last_seq);
  for (size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(events[i].seq(), static_cast<int64_t>(i) + 1);
  EXPECT_EQ(events.size(), 1 + 2 * 30 + 1u);  // started, 30 x (started, completed), completed
}

TEST_P(EngineTest, ResumeRunsOnlyWhatTheHistoryShowsUnfinished) {
  WorkflowDefinition definition =
      DefinitionBuilder("partial").Step("a").Step("b").Step("c").Step("d", {"a", "b", "c"}).Build();
  Seed("partial", {Started(definition), StepStartedEvent("a", 1), StepStartedEvent("b", 1),
                   StepStartedEvent("c", 1), StepCompletedEvent("a", 1, "A"),
                   StepCompletedEvent("b", 1, "B")});  // c was cut off by a crash
  std::atomic<int> calls{0};
  int c_attempt = 0;
  std::string d_saw;
  for (const char* name : {"a", "b"}) {
    Register(name, [&](const StepContext&) {
      calls++;
      return Ok("again");
    });
  }
  Register("c", [&](const StepContext& context) {
    c_attempt = context.attempt();
    return Ok("C");
  });
  Register("d", [&](const StepContext& context) {
    for (const DependencyOutput& dep : context.dependencies()) d_saw += std::string(dep.output);
    return Ok("D");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Resume("partial");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(c_attempt, 2);
  EXPECT_EQ(d_saw, "ABC");
  std::vector<std::string> trace = Trace("partial");
  EXPECT_THAT(std::vector<std::string>(trace.begin() + 6, trace.end()),
              ElementsAre("step_started c#2", "step_completed c#2", "step_started d#1",
                          "step_completed d#1", "workflow_completed"));
}

// Records each snapshot the engine saves, and saves it.
class SnapshotRecorder : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;

  absl::Status SaveSnapshot(absl::string_view workflow_id, int64_t seq,
                            absl::string_view state) override {
    saved_.push_back(StoredSnapshot{seq, std::string(state)});
    return ForwardingEventStore::SaveSnapshot(workflow_id, seq, state);
  }
  const std::vector<StoredSnapshot>& saved() const { return saved_; }

 private:
  std::vector<StoredSnapshot> saved_;  // the engine's driving thread's
};

TEST_P(EngineTest, SavesSnapshotsOfTheFoldOfItsHistoryEverySoManyEvents) {
  const WorkflowDefinition chain =
      Chain(12, [](const StepContext& context) { return Ok(context.step()); });
  for (const int64_t min_events : {5, 0}) {
    SCOPED_TRACE(absl::StrCat("snapshot_min_events ", min_events));
    const std::string id = absl::StrCat("chain-", min_events);
    SnapshotRecorder recorder(*store_);
    EngineOptions options = Options(2);
    options.snapshot_min_events = min_events;
    Engine engine(&recorder, &registry_, options);
    absl::StatusOr<WorkflowState> state = engine.Run(id, chain, "");
    ASSERT_TRUE(state.ok()) << state.status();
    const std::vector<Event> events = Events(id);
    ASSERT_EQ(events.size(), 26u);
    if (min_events == 0) {
      EXPECT_TRUE(recorder.saved().empty());
      continue;
    }
    // A chained step's commit holds two events: one snapshot every third commit.
    ASSERT_EQ(recorder.saved().size(), 4u);
    int64_t previous = 0;
    for (const StoredSnapshot& saved : recorder.saved()) {
      SCOPED_TRACE(absl::StrCat("snapshot at seq ", saved.seq));
      EXPECT_GE(saved.seq - previous, min_events);
      previous = saved.seq;
      const absl::StatusOr<WorkflowState> folded =
          FoldHistory(id, absl::MakeConstSpan(events).first(saved.seq));
      ASSERT_TRUE(folded.ok()) << folded.status();
      EXPECT_EQ(saved.state, SerializeSnapshot(*folded));
    }
    const absl::StatusOr<std::optional<StoredSnapshot>> kept = store_->LoadSnapshot(id);
    ASSERT_TRUE(kept.ok()) << kept.status();
    ASSERT_TRUE(kept->has_value());
    EXPECT_EQ((*kept)->seq, previous);
  }
}

// A store whose snapshots cannot be saved.
class NoRoomForSnapshots : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;

  absl::Status SaveSnapshot(absl::string_view, int64_t, absl::string_view) override {
    return absl::ResourceExhaustedError("no room for a snapshot");
  }
};

TEST_P(EngineTest, ASnapshotThatCannotBeSavedStopsTheRunWhichResumesLater) {
  std::atomic<int> runs{0};
  const WorkflowDefinition chain = Chain(6, [&runs](const StepContext&) {
    ++runs;
    return Ok("");
  });
  EngineOptions options = Options(2);
  options.snapshot_min_events = 4;
  {
    NoRoomForSnapshots full(*store_);
    Engine engine(&full, &registry_, options);
    const absl::StatusOr<WorkflowState> state = engine.Run("chain", chain, "");
    EXPECT_EQ(state.status().code(), absl::StatusCode::kResourceExhausted) << state.status();
    EXPECT_THAT(state.status().message(), HasSubstr("no room for a snapshot"));
  }
  const std::vector<std::string> cut_off = Trace("chain");
  EXPECT_NE(cut_off.back(), "workflow_completed");
  Engine engine(store_.get(), &registry_, options);
  const absl::StatusOr<WorkflowState> resumed = engine.Resume("chain");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->status, WORKFLOW_STATUS_COMPLETED);
  EXPECT_GE(runs, 6);
}

// The snapshot gives a's output a value no event gives it, to show where the state came from.
TEST_P(EngineTest, ResumeFromASnapshotRunsOnlyWhatIsLeftAfterIt) {
  WorkflowDefinition definition =
      DefinitionBuilder("partial").Step("a").Step("b").Step("c", {"a", "b"}).Build();
  Seed("partial", {Started(definition), StepStartedEvent("a", 1), StepStartedEvent("b", 1),
                   StepCompletedEvent("a", 1, "A"), StepCompletedEvent("b", 1, "B"),
                   StepStartedEvent("c", 1)});  // c was cut off by a crash
  // Of the history before c started, which the resume folds after it.
  absl::StatusOr<WorkflowState> folded =
      FoldHistory("partial", absl::MakeConstSpan(Events("partial")).first(5));
  ASSERT_TRUE(folded.ok()) << folded.status();
  folded->steps[0].output = "A from the snapshot";
  ASSERT_TRUE(store_->SaveSnapshot("partial", 5, SerializeSnapshot(*folded)).ok());
  std::atomic<int> calls{0};
  for (const char* name : {"a", "b"}) {
    Register(name, [&](const StepContext&) {
      calls++;
      return Ok("again");
    });
  }
  std::string c_saw;
  Register("c", [&](const StepContext& context) {
    for (const DependencyOutput& dep : context.dependencies()) {
      absl::StrAppend(&c_saw, dep.output, ";");
    }
    return Ok("C");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Resume("partial");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(c_saw, "A from the snapshot;B;");
  EXPECT_EQ(state->FindStep("c")->attempts, 2);
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
}

TEST_P(EngineTest, ReplayOfACompletedHistoryRunsNothingAndGivesTheSameResult) {
  std::atomic<int> calls{0};
  for (const char* name : {"a", "b"}) {
    Register(name, [&, name](const StepContext&) {
      calls++;
      return Ok(absl::StrCat(name, calls.load()));
    });
  }
  WorkflowDefinition definition = DefinitionBuilder("replay").Step("a").Step("b", {"a"}).Build();
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> first = engine.Run("replay", definition, "");
  ASSERT_TRUE(first.ok());
  const size_t events = Events("replay").size();
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<WorkflowState> again =
        i == 0 ? engine.Run("replay", definition, "") : engine.Resume("replay");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->FindStep("b")->output, first->FindStep("b")->output);
  }
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Events("replay").size(), events);
}

TEST_P(EngineTest, ReplayOfAFailedHistoryReturnsTheSameError) {
  Register("a", [](const StepContext&) -> absl::StatusOr<std::string> {
    return absl::NotFoundError("no such file");
  });
  Engine engine(store_.get(), &registry_);
  WorkflowDefinition definition = DefinitionBuilder("fails").Step("a").Build();
  absl::Status first = engine.Run("fails", definition, "").status();
  absl::Status again = engine.Resume("fails").status();
  EXPECT_EQ(first.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(again, first);
}

TEST_P(EngineTest, AChangedDefinitionIsANondeterminismErrorAndChangesNothing) {
  Register("a", [](const StepContext&) { return Ok("A"); });
  Register("b", [](const StepContext&) { return Ok("B"); });
  Seed("changed", {Started(DefinitionBuilder("w").Step("a").Build()), StepStartedEvent("a", 1)});
  Engine engine(store_.get(), &registry_);
  absl::Status status =
      engine.Run("changed", DefinitionBuilder("w").Step("a").Step("b", {"a"}).Build(), "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), AllOf(HasSubstr("workflow 'changed'"), HasSubstr("nondeterminism"),
                                      HasSubstr("step 'b' added")));
  EXPECT_EQ(Events("changed").size(), 2u);
}

TEST_P(EngineTest, ConcurrencyLimitHolds) {
  constexpr int kLimit = 3;
  Mutex mu;
  int running = 0, most = 0;
  DefinitionBuilder builder("limited");
  for (int i = 0; i < 20; ++i) {
    const std::string name = absl::StrCat("s", i);
    builder.Step(name);
    Register(name, [&](const StepContext&) -> absl::StatusOr<std::string> {
      MutexLock lock(&mu);
      most = std::max(most, ++running);
      // Hold the slot until the limit has been reached once, so that the maximum is observed.
      bool reached =
          mu.AwaitWithDeadline([&]() { return most >= kLimit; }, absl::Now() + absl::Minutes(1));
      --running;
      if (!reached) return absl::DeadlineExceededError("limit never reached");
      return Ok("");
    });
  }
  Engine engine(store_.get(), &registry_, Options(8, ScheduleMode::kEager, kLimit));
  ASSERT_TRUE(engine.Run("limited", builder.Build(), "").ok());
  MutexLock lock(&mu);
  EXPECT_EQ(most, kLimit);
}

TEST_P(EngineTest, CancelStopsEveryRunningStepAndRecordsIt) {
  for (bool by_token : {false, true}) {
    SCOPED_TRACE(by_token ? "caller's token" : "Engine::Cancel");
    StepRegistry registry;
    Latch running(3);  // both steps and this thread
    for (const char* name : {"x", "y"}) {
      ASSERT_TRUE(registry
                      .Register(name,
                                [&](const StepContext& context) {
                                  running.ArriveAndWait();
                                  return WaitForCancellation(context);
                                })
                      .ok());
    }
    ASSERT_TRUE(registry.Register("z", [](const StepContext&) { return Ok("never"); }).ok());
    // Wave mode: both cancellations are collected into one batch, in definition order.
    Engine engine(store_.get(), &registry, Options(2, ScheduleMode::kWave));
    const std::string id = by_token ? "cancel-token" : "cancel-engine";
    CancellationToken token;
    absl::Status result;
    std::thread driver([&] {
      result = engine
                   .Run(id, DefinitionBuilder("c").Step("x").Step("y").Step("z", {"x"}).Build(), "",
                        token)
                   .status();
    });
    ASSERT_TRUE(running.ArriveAndWait());
    if (by_token) {
      token.Cancel("caller gave up");
    } else {
      ASSERT_TRUE(engine.Cancel(id).ok());
    }
    driver.join();
    const std::string reason = by_token ? "caller gave up" : "cancelled by request";
    EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);
    EXPECT_THAT(result.message(), HasSubstr(reason));
    EXPECT_THAT(Trace(id),
                ElementsAre("workflow_started", "step_started x#1", "step_started y#1",
                            "step_cancelled x#1", "step_cancelled y#1", "workflow_cancelled"));
    absl::StatusOr<WorkflowState> state = engine.GetState(id);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->status, WORKFLOW_STATUS_CANCELLED);
    EXPECT_EQ(state->FindStep("x")->error.message(), reason);
  }
}

TEST_P(EngineTest, HonoursACancellationRequestMadeThroughTheStore) {
  Latch running(2);
  std::thread::id step_thread;
  Register("a", [&](const StepContext& context) {
    step_thread = std::this_thread::get_id();
    running.ArriveAndWait();
    return WaitForCancellation(context);
  });
  Engine engine(store_.get(), &registry_);
  absl::Status result;
  std::thread driver(
      [&] { result = engine.Run("asked", DefinitionBuilder("w").Step("a").Build(), "").status(); });
  const std::thread::id driving_thread = driver.get_id();
  ASSERT_TRUE(running.ArriveAndWait());
  // As another process would: only through the store.
  ASSERT_TRUE(store_->RequestCancellation("asked", "stopped from elsewhere").ok());
  driver.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(result.message(), HasSubstr("stopped from elsewhere"));
  EXPECT_EQ(Trace("asked").back(), "workflow_cancelled");
  // The request reached the step although it ran alone, in the thread that drives the run.
  EXPECT_EQ(step_thread, driving_thread);
}

TEST_P(EngineTest, StructuralStepsRunNoFunctionAndPassTheJoinAlong) {
  Register("start", [](const StepContext&) { return Ok("S"); });
  Register("left", [](const StepContext& context) { return Ok(context.step()); });
  Register("right", [](const StepContext& context) { return Ok(context.step()); });
  Register("report", [](const StepContext& context) {
    std::string seen;
    for (const DependencyOutput& dep : context.dependencies()) {
      absl::StrAppend(&seen, dep.step, "=", dep.output, ";");
    }
    return Ok(seen);
  });
  WorkflowDefinition definition = DefinitionBuilder("fan")
                                      .Step("start")
                                      .FanOut("split", {"start"})
                                      .Step("left", {"split"})
                                      .Step("right", {"split"})
                                      .FanIn("join", {"left", "right"})
                                      .Step("report", {"join", "left", "right"})
                                      .Build();
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> state = engine.Run("fan", definition, "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->FindStep("join")->status, StepStatus::kCompleted);
  EXPECT_EQ(state->FindStep("report")->output, "join=;left=left;right=right;");
}

TEST_P(EngineTest, GivesEachAttemptALogPathAndReportsEveryCommit) {
  std::string seen_log_path;
  Register("a b", [&](const StepContext& context) {
    seen_log_path = std::string(context.log_path());
    return Ok("");
  });
  std::vector<std::string> committed;
  EngineOptions options = Options(2);
  options.log_directory = "/logs";
  options.on_commit = [&](absl::string_view id, absl::Span<const Event> events) {
    for (const Event& event : events) committed.push_back(absl::StrCat(id, ":", event.seq()));
  };
  Engine engine(store_.get(), &registry_, options);
  absl::StatusOr<WorkflowState> state =
      engine.Run("wf/1", DefinitionBuilder("w").Step("a b").Build(), "");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(seen_log_path, "/logs/wf%2F1/a%20b.1.log");
  EXPECT_EQ(state->FindStep("a b")->details().log_path, seen_log_path);
  EXPECT_THAT(committed, ElementsAre("wf/1:1", "wf/1:2", "wf/1:3", "wf/1:4"));
}

TEST_P(EngineTest, LogPathsStayInsideTheLogDirectoryWhateverTheNames) {
  const std::string long_name(300, 'n');
  const std::string multibyte = "\xe6\x97\xa5\xe6\x9c\xac/\xc3\xa9";
  for (const std::string& name : {std::string(".."), std::string("."), std::string("/"),
                                  std::string("../.."), long_name, multibyte}) {
    Register(name, [](const StepContext&) { return Ok(""); });
  }
  EngineOptions options = Options(2);
  options.log_directory = "/logs";
  Engine engine(store_.get(), &registry_, options);
  std::set<std::string> workflow_folders;
  for (const std::string& id : {std::string(".."), std::string("."), std::string("/"),
                                std::string("a/../.."), long_name, multibyte}) {
    SCOPED_TRACE(id);
    DefinitionBuilder builder("w");
    for (const std::string& step : {std::string(".."), std::string("."), std::string("/"),
                                    std::string("../.."), long_name, multibyte}) {
      builder.Step(step);
    }
    absl::StatusOr<WorkflowState> state = engine.Run(id, builder.Build(), "");
    ASSERT_TRUE(state.ok()) << state.status();
    std::set<std::string> folders;
    for (const StepState& step : state->steps) {
      const std::vector<std::string> parts = absl::StrSplit(step.details().log_path, '/');
      ASSERT_EQ(parts.size(), 4u) << step.details().log_path;  // "", "logs", id, file
      EXPECT_EQ(parts[1], "logs");
      for (const std::string& part : {parts[2], parts[3]}) {
        EXPECT_NE(part, ".");
        EXPECT_NE(part, "..");
        EXPECT_LE(part.size(), kMaxFileNameBytes + std::string(".1.log").size());
      }
      folders.insert(parts[2]);
    }
    EXPECT_EQ(folders.size(), 1u);  // each workflow's files in one folder of its own
    workflow_folders.insert(folders.begin(), folders.end());
  }
  EXPECT_EQ(workflow_folders.size(), 6u);
}

TEST_P(EngineTest, CancelOfAWorkflowLeftByACrashRecordsItsCancellation) {
  Seed("orphan", {Started(DefinitionBuilder("w").Step("a").Build()), StepStartedEvent("a", 1)});
  Engine engine(store_.get(), &registry_);  // no step functions needed to cancel
  ASSERT_TRUE(engine.Cancel("orphan").ok());
  EXPECT_THAT(Trace("orphan"), ElementsAre("workflow_started", "step_started a#1",
                                           "step_cancelled a#1", "workflow_cancelled"));
  absl::Status again = engine.Cancel("orphan");
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("already ended"));
  EXPECT_EQ(engine.Cancel("nobody").code(), absl::StatusCode::kNotFound);
}

TEST_P(EngineTest, AStepThatThrowsFailsTheWorkflow) {
  Register("a", [](const StepContext&) -> absl::StatusOr<std::string> {
    throw std::runtime_error("boom");
  });
  Engine engine(store_.get(), &registry_);
  absl::Status status = engine.Run("throws", DefinitionBuilder("w").Step("a").Build(), "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("boom"));
  EXPECT_EQ(Trace("throws").back(), "workflow_failed");
}

TEST_P(EngineTest, RecordsWhetherAFailureIsRetryable) {
  Register("a", [](const StepContext&) -> absl::StatusOr<std::string> {
    return MarkRetryable(absl::UnavailableError("try later"));
  });
  Engine engine(store_.get(), &registry_);
  EXPECT_FALSE(engine.Run("retryable", DefinitionBuilder("w").Step("a").Build(), "").ok());
  absl::StatusOr<WorkflowState> state = engine.GetState("retryable");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->FindStep("a")->retryable);
}

TEST_P(EngineTest, RefusesBadRequestsWithoutRecordingAnything) {
  Register("a", [](const StepContext&) { return Ok(""); });
  Engine engine(store_.get(), &registry_);
  absl::Status invalid =
      engine.Run("bad", DefinitionBuilder("w").Step("a").Step("b", {"nope"}).Build(), "").status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.message(), AllOf(HasSubstr("step 'b' depends on unknown step 'nope'"),
                                       HasSubstr("step 'b' has no registered function")));
  EXPECT_EQ(engine.Resume("bad").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine.GetState("bad").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Events("bad").empty());
}

TEST_P(EngineTest, ASecondDriverOfTheSameWorkflowIsRefused) {
  Latch inside(2);
  CancellationToken release;
  Register("a", [&](const StepContext&) {
    inside.ArriveAndWait();
    release.WaitFor(absl::Minutes(1));
    return Ok("");
  });
  Engine engine(store_.get(), &registry_);
  WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Build();
  std::thread driver([&] { EXPECT_TRUE(engine.Run("busy", definition, "").ok()); });
  ASSERT_TRUE(inside.ArriveAndWait());
  absl::Status second = engine.Run("busy", definition, "").status();
  release.Cancel("let it finish");
  driver.join();
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.message(), HasSubstr("workflow 'busy' is already being driven"));
}

INSTANTIATE_TEST_SUITE_P(Stores, EngineTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite), StoreName);

}  // namespace
}  // namespace chorus
