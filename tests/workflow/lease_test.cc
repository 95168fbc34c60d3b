// The Engine's owner lease: one driver at a time, renewal while it runs, take-over after a
// crash, and a run that stops when it loses its lease.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/events.h"
#include "event/internal/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/forwarding_event_store.h"
#include "storage/load_state.h"
#include "storage/memory_event_store.h"
#include "storage/sqlite_event_store.h"
#include "tests/storage/storage_test_util.h"
#include "tests/temp_dir.h"
#include "tests/workflow/latch.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

enum class StoreKind { kMemory, kSqlite };

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

// A pid that no process has any more: a child that exited and was reaped.
pid_t DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

absl::StatusOr<std::string> Ok(absl::string_view output) { return std::string(output); }

// Waits (bounded) for the step's cancellation and reports it as the step's error.
absl::StatusOr<std::string> WaitForCancellation(const StepContext& context) {
  if (!context.cancellation().WaitFor(absl::Minutes(1))) {
    return absl::DeadlineExceededError("never cancelled");
  }
  return absl::CancelledError(context.cancellation().reason());
}

// The lease of another driver, as a crashed or live process would have left it.
LeaseRequest OtherDriver(absl::string_view host, int64_t pid, absl::Time now,
                         absl::Duration ttl = absl::Hours(1)) {
  LeaseRequest request;
  request.owner_id = "0ther";
  request.host = std::string(host);
  request.pid = pid;
  request.ttl = ttl;
  request.now = now;
  return request;
}

// The store fails renewals (as a locked database would) while `fail_renewals` is set.
class FlakyRenewalStore : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  absl::StatusOr<Lease> RenewLease(absl::string_view workflow_id, absl::string_view owner_id,
                                   absl::Time expires_at) override {
    if (fail_renewals) return absl::UnavailableError("database is locked");
    return ForwardingEventStore::RenewLease(workflow_id, owner_id, expires_at);
  }
  std::atomic<bool> fail_renewals{false};
};

// The store cannot read cancellation requests until told it can.
class FlakyRequestReadStore : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  absl::StatusOr<std::optional<std::string>> GetCancellationRequest(
      absl::string_view workflow_id) override {
    ++reads;
    if (fail_reads) return absl::UnavailableError("database is locked");
    return ForwardingEventStore::GetCancellationRequest(workflow_id);
  }
  std::atomic<bool> fail_reads{true};
  std::atomic<int> reads{0};
};

// The store cannot release leases (as after a disk fault).
class FailingReleaseStore : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  absl::Status ReleaseLease(absl::string_view, absl::string_view) override {
    return absl::UnavailableError("disk I/O error");
  }
};

// A driver's store with a place to stop the driver where a scheduler might: after its lease
// keeper has checked the lease, before the store appends. The first append that `pauses_before`
// picks calls `pause` first and `after_pause` with what it returned, in the driving thread.
// Once StopRenewals returns, the driver's lease keeper renews nothing more: its lease lapses.
class PausingStore : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;

  absl::Status AppendAsLeaseOwner(absl::string_view workflow_id, absl::string_view lease_owner_id,
                                  int64_t expected_last_seq,
                                  absl::Span<const Event> events) override {
    const bool pausing = !paused_ && pauses_before(events);
    if (pausing) {
      paused_ = true;
      pause();
    }
    const absl::Status appended = ForwardingEventStore::AppendAsLeaseOwner(
        workflow_id, lease_owner_id, expected_last_seq, events);
    if (pausing) after_pause(appended);
    return appended;
  }
  absl::StatusOr<Lease> RenewLease(absl::string_view workflow_id, absl::string_view owner_id,
                                   absl::Time expires_at) override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (!renewing_) return absl::UnavailableError("database is locked");
    return ForwardingEventStore::RenewLease(workflow_id, owner_id, expires_at);
  }
  // No renewal is under way once this returns: the lease's expiry stays as it is.
  void StopRenewals() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    renewing_ = false;
  }

  // Set before the driver starts.
  std::function<bool(absl::Span<const Event>)> pauses_before;
  std::function<void()> pause;
  std::function<void(const absl::Status&)> after_pause = [](const absl::Status&) {};

 private:
  bool paused_ = false;  // by the driving thread only
  Mutex mu_;
  bool renewing_ ABSL_GUARDED_BY(mu_) = true;
};

// Picks the batch that records step `step`'s completion.
std::function<bool(absl::Span<const Event>)> CompletionOf(std::string step) {
  return [step](absl::Span<const Event> events) {
    return std::any_of(events.begin(), events.end(), [&](const Event& event) {
      return event.has_step_completed() && event.step_completed().step() == step;
    });
  };
}

class EngineLeaseTest : public testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { store_ = Connect(); }

  // A store on the same database, as another process would open it (for the memory store:
  // the same store).
  std::unique_ptr<EventStore> Connect() {
    if (GetParam() == StoreKind::kSqlite) {
      absl::StatusOr<std::unique_ptr<EventStore>> store =
          OpenSqliteEventStore(dir_.File("chorus.db"), SqliteOptions());
      EXPECT_TRUE(store.ok()) << store.status();
      return store.ok() ? *std::move(store) : nullptr;
    }
    if (memory_ == nullptr) memory_ = NewMemoryEventStore();
    return std::make_unique<ForwardingEventStore>(*memory_);
  }

  void Register(absl::string_view step, StepFunction function) {
    ASSERT_TRUE(registry_.Register(step, std::move(function)).ok());
  }

  // One "kind step#attempt" line per recorded event of workflow `id`.
  std::vector<std::string> Trace(absl::string_view id) {
    std::vector<std::string> trace;
    absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read(id, 1);
    if (!stream.ok()) return {stream.status().ToString()};
    while ((*stream)->Next()) {
      const Event& event = (*stream)->event();
      std::string line(KindName(event));
      if (!StepName(event).empty()) absl::StrAppend(&line, " ", StepName(event));
      if (Attempt(event) > 0) absl::StrAppend(&line, "#", Attempt(event));
      trace.push_back(line);
    }
    return trace;
  }

  std::optional<Lease> HeldLease(absl::string_view id) {
    absl::StatusOr<std::optional<Lease>> lease = store_->GetLease(id);
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *lease : std::nullopt;
  }

  // Records workflow `id` as started (step "a" of definition "w") with step a cut off by a crash.
  void SeedCutOffRun(absl::string_view id) {
    const WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Build();
    std::vector<Event> events(2);
    *events[0].mutable_workflow_started()->mutable_definition() = definition;
    events[0].mutable_workflow_started()->set_fingerprint(Fingerprint(definition));
    events[0].set_seq(1);
    events[1].mutable_step_started()->set_step("a");
    events[1].mutable_step_started()->set_attempt(1);
    events[1].set_seq(2);
    ASSERT_TRUE(store_->Append(id, 0, events).ok());
  }

  TempDir dir_;
  std::unique_ptr<EventStore> memory_;
  std::unique_ptr<EventStore> store_;
  StepRegistry registry_;
};

TEST_P(EngineLeaseTest, ASecondEngineIsRefusedWhileTheFirstRunsWithTheOwnerNamed) {
  Latch inside(2);
  CancellationToken release;
  Register("a", [&](const StepContext&) {
    inside.ArriveAndWait();
    release.WaitFor(absl::Minutes(1));
    return Ok("A");
  });
  const WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Build();
  Engine first(store_.get(), &registry_);
  absl::Status first_result;
  std::thread driver([&] { first_result = first.Run("busy", definition, "").status(); });
  ASSERT_TRUE(inside.ArriveAndWait());

  std::optional<Lease> held = HeldLease("busy");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->host, HostName());
  EXPECT_EQ(held->pid, getpid());
  std::unique_ptr<EventStore> other_store = Connect();
  Engine second(other_store.get(), &registry_);
  const absl::Status refused[] = {
      second.Run("busy", definition, "").status(),
      second.Resume("busy").status(),
      second.Cancel("busy"),
  };
  release.Cancel("let it finish");
  driver.join();

  for (const absl::Status& status : refused) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(status.message(),
                AllOf(HasSubstr("workflow 'busy' is being driven by owner " + held->owner_id),
                      HasSubstr(absl::StrCat("(host ", HostName(), ", pid ", getpid(), ")")),
                      HasSubstr(" until ")));
  }
  EXPECT_TRUE(first_result.ok()) << first_result;
  EXPECT_THAT(Trace("busy"), ElementsAre("workflow_started", "step_started a#1",
                                         "step_completed a#1", "workflow_completed"));
  EXPECT_EQ(HeldLease("busy"), std::nullopt) << "released when the run ended";
  EXPECT_TRUE(second.Resume("busy").ok()) << "free once the first run ended";
}

TEST_P(EngineLeaseTest, RenewsTheLeaseWhileItRuns) {
  constexpr absl::Duration kTtl = absl::Milliseconds(300);
  Latch inside(2);
  CancellationToken release;
  Register("a", [&](const StepContext&) {
    inside.ArriveAndWait();
    release.WaitFor(absl::Minutes(1));
    return Ok("A");
  });
  EngineOptions options;
  options.lease_ttl = kTtl;
  Engine first(store_.get(), &registry_, options);
  std::thread driver(
      [&] { EXPECT_TRUE(first.Run("long", DefinitionBuilder("w").Step("a").Build(), "").ok()); });
  ASSERT_TRUE(inside.ArriveAndWait());
  const absl::Time taken_until = HeldLease("long")->expires_at;
  absl::SleepFor(4 * kTtl);  // long past the first expiry: only renewal keeps the lease
  std::unique_ptr<EventStore> other_store = Connect();
  Engine second(other_store.get(), &registry_, options);
  const absl::Status refused = second.Resume("long").status();
  const std::optional<Lease> renewed = HeldLease("long");
  release.Cancel("let it finish");
  driver.join();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  ASSERT_TRUE(renewed.has_value());
  EXPECT_GT(renewed->expires_at, taken_until + 2 * kTtl);
}

TEST_P(EngineLeaseTest, TakesOverFromACrashedDriverOnceItsLeaseLapses) {
  Register("a",
           [](const StepContext& context) { return Ok(absl::StrCat("A", context.attempt())); });
  const struct {
    const char* name;
    absl::Time taken_at;  // by the crashed driver, on another host, for an hour
    bool taken_over;
  } cases[] = {
      {"lapsed", absl::Now() - absl::Hours(2), true},
      {"live", absl::Now(), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SeedCutOffRun(c.name);
    ASSERT_TRUE(store_->AcquireLease(c.name, OtherDriver("elsewhere", 42, c.taken_at)).ok());
    Engine engine(store_.get(), &registry_);
    absl::StatusOr<WorkflowState> state = engine.Resume(c.name);
    EXPECT_EQ(state.ok(), c.taken_over) << state.status();
    if (c.taken_over) {
      EXPECT_EQ(state->FindStep("a")->output, "A2");
      EXPECT_EQ(HeldLease(c.name), std::nullopt);
    } else {
      EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(state.status().message(),
                  HasSubstr("being driven by owner 0ther (host elsewhere, pid 42)"));
      EXPECT_THAT(Trace(c.name), ElementsAre("workflow_started", "step_started a#1"));
      EXPECT_EQ(HeldLease(c.name)->owner_id, "0ther");
    }
  }
}

TEST_P(EngineLeaseTest, AShortLeaseLeftBehindLapsesInRealTime) {
  constexpr absl::Duration kTtl = absl::Milliseconds(300);
  Register("a", [](const StepContext&) { return Ok("A"); });
  SeedCutOffRun("w");
  ASSERT_TRUE(store_->AcquireLease("w", OtherDriver("elsewhere", 42, absl::Now(), kTtl)).ok());
  Engine engine(store_.get(), &registry_);
  EXPECT_EQ(engine.Resume("w").status().code(), absl::StatusCode::kFailedPrecondition);
  absl::SleepFor(kTtl);
  absl::StatusOr<WorkflowState> state = engine.Resume("w");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
}

TEST_P(EngineLeaseTest, OnThisHostTakesOverAtOnceWhenTheOwnersProcessIsGone) {
  Register("a", [](const StepContext&) { return Ok("A"); });
  // A zombie has exited but is not reaped yet: it counts as gone.
  const pid_t zombie = fork();
  if (zombie == 0) _exit(0);
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, zombie, &info, WEXITED | WNOWAIT), 0);
  const struct {
    const char* name;
    std::string host;
    int64_t pid;
    bool taken_over;
  } cases[] = {
      {"dead pid, this host", HostName(), DeadPid(), true},
      {"zombie pid, this host", HostName(), zombie, true},
      {"live pid, this host", HostName(), getppid(), false},
      {"this very process, no run of it holding the lease", HostName(), getpid(), true},
      {"dead pid, another host", "elsewhere", DeadPid(), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SeedCutOffRun(c.name);
    ASSERT_TRUE(store_->AcquireLease(c.name, OtherDriver(c.host, c.pid, absl::Now())).ok());
    Engine engine(store_.get(), &registry_);
    absl::Status status = engine.Resume(c.name).status();
    EXPECT_EQ(status.ok(), c.taken_over) << status;
    if (!c.taken_over) {
      EXPECT_THAT(status.message(),
                  HasSubstr(absl::StrCat("owner 0ther (host ", c.host, ", pid ", c.pid, ")")));
    }
  }
  waitpid(zombie, nullptr, 0);
}

// The run's lease stays behind, held by this process, after its release failed: another
// engine here need not wait for it to lapse, since no run of this process holds it.
TEST_P(EngineLeaseTest, AnotherEngineHereTakesOverALeaseWhoseReleaseFailed) {
  Register("a", [](const StepContext&) { return Ok("A"); });
  const WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Build();
  FailingReleaseStore failing(*store_);
  Engine first(&failing, &registry_);  // the default ttl: 15 s
  const absl::Status released = first.Run("left", definition, "").status();
  EXPECT_EQ(released.code(), absl::StatusCode::kUnavailable) << released;
  const std::optional<Lease> left = HeldLease("left");
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->pid, getpid());

  std::unique_ptr<EventStore> other_store = Connect();
  Engine second(other_store.get(), &registry_);
  absl::StatusOr<WorkflowState> resumed = second.Resume("left");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->FindStep("a")->output, "A");
  EXPECT_EQ(HeldLease("left"), std::nullopt) << "the second engine released it";
}

TEST_P(EngineLeaseTest, ALostLeaseStopsTheRunWhichAppendsNothingMore) {
  Latch inside(2);
  std::string step_saw;
  Register("a", [&](const StepContext& context) {
    inside.ArriveAndWait();
    absl::StatusOr<std::string> result = WaitForCancellation(context);
    step_saw = context.cancellation().reason();
    return result;
  });
  Register("b", [](const StepContext&) { return Ok("never"); });
  EngineOptions options;
  options.lease_ttl = absl::Milliseconds(300);
  Engine engine(store_.get(), &registry_, options);
  absl::Status result;
  std::thread driver([&] {
    result =
        engine.Run("lost", DefinitionBuilder("w").Step("a").Step("b", {"a"}).Build(), "").status();
  });
  ASSERT_TRUE(inside.ArriveAndWait());
  // Another driver whose clock says the lease has lapsed takes it over.
  std::unique_ptr<EventStore> other_store = Connect();
  ASSERT_TRUE(
      other_store->AcquireLease("lost", OtherDriver("elsewhere", 42, absl::Now() + absl::Hours(1)))
          .ok());
  driver.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kAborted) << result;
  EXPECT_THAT(result.message(),
              AllOf(HasSubstr("workflow 'lost'"), HasSubstr("no longer holds its lease"),
                    HasSubstr("held by owner 0ther (host elsewhere, pid 42)"),
                    HasSubstr("this run stopped driving it")));
  EXPECT_THAT(step_saw, HasSubstr("held by owner 0ther"));
  EXPECT_THAT(Trace("lost"), ElementsAre("workflow_started", "step_started a#1"));
  EXPECT_EQ(HeldLease("lost")->owner_id, "0ther") << "the new owner keeps it";
}

// A driver stopped between its lease keeper's check and its append (descheduled, say) while
// its lease lapses and a second driver takes the workflow over and drives it to its end. The
// stopped append goes on either before the second driver's first append or after its last; the
// store refuses it both times, and from the takeover on the history is the second driver's.
TEST_P(EngineLeaseTest, APausedDriverThatLostItsLeaseAppendsNothing) {
  Register("a",
           [](const StepContext& context) { return Ok(absl::StrCat("A", context.attempt())); });
  Register("b", [](const StepContext&) { return Ok("B"); });
  const WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Step("b", {"a"}).Build();
  const struct {
    const char* id;
    bool goes_on_before_the_second_appends;  // else once the second driver has finished
  } cases[] = {
      {"on before the second driver appends", true},
      {"on after the second driver finished", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    Latch paused(2);      // the first driver is stopped before its append
    Latch taken_over(2);  // the second driver holds the lease: the first goes on
    Latch refused(2);     // the first driver's append has returned: the second goes on
    PausingStore first_store(*store_);
    absl::Status paused_append;
    first_store.pauses_before = CompletionOf("a");
    first_store.pause = [&] {
      first_store.StopRenewals();
      paused.ArriveAndWait();
      taken_over.ArriveAndWait();
    };
    first_store.after_pause = [&](const absl::Status& appended) {
      paused_append = appended;
      if (c.goes_on_before_the_second_appends) refused.ArriveAndWait();
    };
    EngineOptions short_lease;
    short_lease.lease_ttl = absl::Milliseconds(300);
    Engine first(&first_store, &registry_, short_lease);
    absl::Status first_result;
    std::thread first_driver([&] { first_result = first.Run(c.id, definition, "").status(); });
    ASSERT_TRUE(paused.ArriveAndWait());
    const std::vector<std::string> before_takeover = HistoryOf(*store_, c.id);
    const std::optional<Lease> first_lease = HeldLease(c.id);
    ASSERT_TRUE(first_lease.has_value());
    // Nobody renews the lease any more: waiting out its expiry is what lets it lapse.
    absl::SleepFor(first_lease->expires_at - absl::Now());

    std::unique_ptr<EventStore> other_store = Connect();
    PausingStore second_store(*other_store);
    std::string second_owner;
    second_store.pauses_before = [](absl::Span<const Event>) { return true; };  // the first
    second_store.pause = [&] {
      second_owner = HeldLease(c.id)->owner_id;
      if (!c.goes_on_before_the_second_appends) return;
      taken_over.ArriveAndWait();
      refused.ArriveAndWait();
    };
    std::vector<std::string> second_wrote;
    EngineOptions options;
    options.on_commit = [&](absl::string_view, absl::Span<const Event> events) {
      for (const Event& event : events) second_wrote.push_back(event.ShortDebugString());
    };
    Engine second(&second_store, &registry_, options);
    const absl::StatusOr<WorkflowState> second_result = second.Resume(c.id);
    if (!c.goes_on_before_the_second_appends) taken_over.ArriveAndWait();
    first_driver.join();

    EXPECT_EQ(paused_append.code(), absl::StatusCode::kAborted) << paused_append;
    EXPECT_THAT(
        paused_append.message(),
        HasSubstr(absl::StrCat(
            "workflow '", c.id, "': owner ", first_lease->owner_id, " no longer holds its lease; ",
            c.goes_on_before_the_second_appends ? absl::StrCat("it is held by owner ", second_owner)
                                                : "nobody does")));
    EXPECT_EQ(first_result.code(), absl::StatusCode::kAborted) << first_result;
    ASSERT_TRUE(second_result.ok()) << second_result.status();
    std::vector<std::string> history = before_takeover;
    history.insert(history.end(), second_wrote.begin(), second_wrote.end());
    EXPECT_THAT(HistoryOf(*store_, c.id), ElementsAreArray(history));
    const absl::StatusOr<WorkflowState> folded = LoadWorkflowState(*store_, c.id);
    ASSERT_TRUE(folded.ok()) << folded.status();
    EXPECT_EQ(folded->status, WORKFLOW_STATUS_COMPLETED);
    EXPECT_EQ(folded->FindStep("a")->output, "A2");
  }
}

TEST_P(EngineLeaseTest, ALeaseThatCannotBeRenewedBeforeItLapsesStopsTheRun) {
  FlakyRenewalStore flaky(*store_);
  Latch inside(2);
  Register("a", [&](const StepContext& context) {
    inside.ArriveAndWait();
    return WaitForCancellation(context);
  });
  EngineOptions options;
  options.lease_ttl = absl::Milliseconds(300);
  Engine engine(&flaky, &registry_, options);
  absl::Status result;
  std::thread driver(
      [&] { result = engine.Run("stale", DefinitionBuilder("w").Step("a").Build(), "").status(); });
  ASSERT_TRUE(inside.ArriveAndWait());
  flaky.fail_renewals = true;
  driver.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kAborted) << result;
  EXPECT_THAT(result.message(),
              AllOf(HasSubstr("workflow 'stale'"), HasSubstr("expired before it could be renewed"),
                    HasSubstr("database is locked")));
  EXPECT_THAT(Trace("stale"), ElementsAre("workflow_started", "step_started a#1"));
  EXPECT_EQ(HeldLease("stale"), std::nullopt) << "nobody took it: released";
}

TEST_P(EngineLeaseTest, ACancellationRequestThatCannotBeReadIsReadAgainLater) {
  FlakyRequestReadStore flaky(*store_);
  Latch inside(2);
  Register("a", [&](const StepContext& context) {
    inside.ArriveAndWait();
    return WaitForCancellation(context);
  });
  Engine engine(&flaky, &registry_);
  absl::Status result;
  std::thread driver(
      [&] { result = engine.Run("asked", DefinitionBuilder("w").Step("a").Build(), "").status(); });
  ASSERT_TRUE(inside.ArriveAndWait());
  ASSERT_TRUE(store_->RequestCancellation("asked", "stopped from elsewhere").ok());
  // Two reads of the request fail, and the run goes on.
  const int failed_before = flaky.reads;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (flaky.reads < failed_before + 2 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  flaky.fail_reads = false;
  driver.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
  EXPECT_THAT(result.message(), HasSubstr("stopped from elsewhere"));
  EXPECT_EQ(Trace("asked").back(), "workflow_cancelled");
}

TEST_P(EngineLeaseTest, CancelRecordsDirectlyOnlyWhenNoLiveLeaseIsHeldElsewhere) {
  Engine engine(store_.get(), &registry_);
  SeedCutOffRun("live");
  ASSERT_TRUE(store_->AcquireLease("live", OtherDriver("elsewhere", 42, absl::Now())).ok());
  const absl::Status refused = engine.Cancel("live");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("owner 0ther (host elsewhere, pid 42)"));
  EXPECT_THAT(Trace("live"), ElementsAre("workflow_started", "step_started a#1"));

  SeedCutOffRun("lapsed");
  ASSERT_TRUE(
      store_->AcquireLease("lapsed", OtherDriver("elsewhere", 42, absl::Now() - absl::Hours(2)))
          .ok());
  ASSERT_TRUE(engine.Cancel("lapsed").ok());
  EXPECT_THAT(Trace("lapsed"), ElementsAre("workflow_started", "step_started a#1",
                                           "step_cancelled a#1", "workflow_cancelled"));
  EXPECT_EQ(HeldLease("lapsed"), std::nullopt);
}

TEST_P(EngineLeaseTest, ReleasesTheLeaseHoweverTheRunEnds) {
  Register("ok", [](const StepContext&) { return Ok(""); });
  Register("fails", [](const StepContext&) -> absl::StatusOr<std::string> {
    return absl::InternalError("boom");
  });
  Engine engine(store_.get(), &registry_);
  CancellationToken cancelled;
  cancelled.Cancel("not today");
  const struct {
    const char* name;
    const char* id;
    std::function<absl::Status()> run;
    absl::StatusCode code;
  } cases[] = {
      {"completes", "completes",
       [&] {
         return engine.Run("completes", DefinitionBuilder("w").Step("ok").Build(), "").status();
       },
       absl::StatusCode::kOk},
      {"fails", "fails",
       [&] {
         return engine.Run("fails", DefinitionBuilder("w").Step("fails").Build(), "").status();
       },
       absl::StatusCode::kInternal},
      {"cancelled", "cancelled",
       [&] {
         return engine.Run("cancelled", DefinitionBuilder("w").Step("ok").Build(), "", cancelled)
             .status();
       },
       absl::StatusCode::kCancelled},
      {"changed definition", "completes",
       [&] {
         return engine.Run("completes", DefinitionBuilder("w").Step("fails").Build(), "").status();
       },
       absl::StatusCode::kFailedPrecondition},
      {"unknown", "unknown", [&] { return engine.Resume("unknown").status(); },
       absl::StatusCode::kNotFound},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = c.run();
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_THAT(status.message(), Not(HasSubstr("lease")));
    EXPECT_EQ(HeldLease(c.id), std::nullopt);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, EngineLeaseTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite),
                         [](const testing::TestParamInfo<StoreKind>& info) {
                           return info.param == StoreKind::kMemory ? "Memory" : "Sqlite";
                         });

}  // namespace
}  // namespace chorus
