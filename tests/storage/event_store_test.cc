// The EventStore contract, run against every store.
#include "storage/event_store.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "event/history.h"
#include "event/internal/status_macros.h"
#include "event/snapshot.h"
#include "event/workflow_state.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/forwarding_event_store.h"
#include "storage/load_state.h"
#include "storage/memory_event_store.h"
#include "storage/sqlite_event_store.h"
#include "tests/storage/storage_test_util.h"
#include "tests/temp_dir.h"

namespace chorus {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct StoreKind {
  const char* name;
  absl::StatusOr<std::unique_ptr<EventStore>> (*open)(const TempDir& dir);
};

void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

absl::StatusOr<std::unique_ptr<EventStore>> OpenMemory(const TempDir&) {
  return NewMemoryEventStore();
}

absl::StatusOr<std::unique_ptr<EventStore>> OpenSqlite(const TempDir& dir) {
  return OpenSqliteEventStore(dir.File("chorus.db"), SqliteOptions());
}

std::vector<int64_t> SeqsUpTo(int64_t last_seq) {
  std::vector<int64_t> seqs;
  for (int64_t seq = 1; seq <= last_seq; ++seq) seqs.push_back(seq);
  return seqs;
}

class EventStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventStore>> store = GetParam().open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Appends `events`, failing the test unless that works.
  void Append(absl::string_view workflow_id, int64_t expected_last_seq,
              const std::vector<Event>& events) {
    const absl::Status status = store_->Append(workflow_id, expected_last_seq, events);
    ASSERT_TRUE(status.ok()) << status;
  }

  WorkflowSummary Summary(absl::string_view workflow_id) {
    absl::StatusOr<WorkflowSummary> summary = store_->GetSummary(workflow_id);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.value_or(WorkflowSummary());
  }

  std::vector<WorkflowSummary> List() {
    absl::StatusOr<std::vector<WorkflowSummary>> summaries = store_->List();
    EXPECT_TRUE(summaries.ok()) << summaries.status();
    return summaries.value_or(std::vector<WorkflowSummary>());
  }

  // The seqs of the events of `workflow_id`, in the order read.
  std::vector<int64_t> SeqsOf(absl::string_view workflow_id) {
    std::vector<int64_t> seqs;
    absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read(workflow_id, 1);
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return seqs;
    while ((*stream)->Next()) seqs.push_back((*stream)->event().seq());
    EXPECT_TRUE((*stream)->status().ok()) << (*stream)->status();
    return seqs;
  }

  TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_P(EventStoreTest, ReadGivesBackWhatWasAppended) {
  const std::vector<Event> history = OrderHistory();
  Append("order-1", 0, {history[0], history[1]});
  Append("order-2", 0, {StartedEvent()});
  Append("order-1", 2, {history[2], history[3]});

  EXPECT_THAT(HistoryOf(*store_, "order-1"), ElementsAreArray(Texts(history)));
  EXPECT_THAT(HistoryOf(*store_, "order-2"), ElementsAre(StartedEvent().ShortDebugString()));
}

TEST_P(EventStoreTest, EachEventReadsBackWithoutTheFieldsOfTheOneBefore) {
  // Events of one kind in a row, each leaving unset what the one before set: a store that
  // parses every row into the same message must clear it in between.
  std::vector<Event> history = {StartedEvent(), StepStartedEvent(2), StepStartedEvent(3, 2),
                                StepCompletedEvent(4, 2), EventAt(5)};
  history[1].mutable_step_started()->set_log_path("logs/charge.1.log");
  StepCompleted* completed = history[3].mutable_step_completed();
  StateUpdate* update = completed->add_state_updates();
  update->set_key("charged");
  update->mutable_value()->mutable_list()->add_items("card");
  completed->set_cost(1.5);
  history[4].mutable_step_completed()->set_step("charge");
  Append("w", 0, history);

  EXPECT_THAT(HistoryOf(*store_, "w"), ElementsAreArray(Texts(history)));
}

TEST_P(EventStoreTest, SharedEventsOutliveReadingOn) {
  const std::vector<Event> history = OrderHistory();
  Append("w", 0, history);
  absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read("w", 1);
  ASSERT_EQ(stream.status(), absl::OkStatus());
  std::vector<std::shared_ptr<const Event>> shared;
  while ((*stream)->Next()) shared.push_back((*stream)->ShareEvent());
  EXPECT_EQ((*stream)->status(), absl::OkStatus());
  stream->reset();
  std::vector<std::string> texts;
  for (const auto& event : shared) texts.push_back(event->ShortDebugString());
  EXPECT_THAT(texts, ElementsAreArray(Texts(history)));
}

TEST_P(EventStoreTest, ReadGivesLargeAndManySmallEventsAlike) {
  // A large definition and large outputs (tens and hundreds of KiB) between many small events:
  // more than the SQLite store reads before it reads ahead on a thread of its own.
  std::vector<Event> history = {StartedEvent()};
  for (int i = 0; i < 2000; ++i) {
    history[0].mutable_workflow_started()->mutable_definition()->add_steps()->set_name(
        absl::StrCat("step-", i));
  }
  for (int64_t seq = 2; seq <= 10000; ++seq) {
    history.push_back(StepStartedEvent(seq, static_cast<int>(seq)));
    if (seq % 997 == 0) {
      history.back() = StepCompletedEvent(seq);
      history.back().mutable_step_completed()->set_output(std::string(40000, 'x'));
    }
    if (seq % 4999 == 0) {
      history.back() = StepCompletedEvent(seq);
      history.back().mutable_step_completed()->set_output(std::string(300000, 'y'));
    }
  }
  Append("w", 0, history);
  absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read("w", 1);
  ASSERT_EQ(stream.status(), absl::OkStatus());
  // Every third event is shared, and read once the stream has moved on.
  std::vector<std::string> read;
  std::vector<std::pair<size_t, std::shared_ptr<const Event>>> shared;
  while ((*stream)->Next()) {
    if (read.size() % 3 == 0) shared.emplace_back(read.size(), (*stream)->ShareEvent());
    read.push_back((*stream)->event().ShortDebugString());
  }
  EXPECT_EQ((*stream)->status(), absl::OkStatus());
  for (auto& [position, event] : shared) read[position] = event->ShortDebugString();
  EXPECT_THAT(read, ElementsAreArray(Texts(history)));
}

TEST_P(EventStoreTest, ReadStartsAtFromSeq) {
  const std::vector<Event> history = OrderHistory();
  Append("w", 0, history);
  constexpr struct {
    int64_t from_seq;
    int64_t first_seq;  // of the events read: first_seq .. 4
  } kCases[] = {{-3, 1}, {0, 1}, {1, 1}, {3, 3}, {4, 4}, {5, 5}, {100, 5}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrCat("from_seq ", c.from_seq));
    EXPECT_THAT(HistoryOf(*store_, "w", c.from_seq),
                ElementsAreArray(Texts(absl::MakeSpan(history).subspan(c.first_seq - 1))));
  }
}

TEST_P(EventStoreTest, WrongExpectedSeqIsAbortedAndWritesNothing) {
  Append("w", 0, {StartedEvent(), StepStartedEvent(2)});
  const struct {
    const char* name;
    int64_t expected_last_seq;
    Event event;  // numbered expected_last_seq + 1
  } cases[] = {
      {"start again", 0, StartedEvent()},
      {"behind", 1, StepStartedEvent(2)},
      {"ahead", 3, StepCompletedEvent(4)},
      {"negative", -1, StepStartedEvent(0)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = store_->Append("w", c.expected_last_seq, {c.event});
    EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
    EXPECT_THAT(status.message(), HasSubstr("'w'"));
    EXPECT_THAT(status.message(),
                HasSubstr(absl::StrCat("expected last seq ", c.expected_last_seq)));
    EXPECT_THAT(status.message(), HasSubstr("it is 2"));
    EXPECT_THAT(HistoryOf(*store_, "w"), ElementsAre(StartedEvent().ShortDebugString(),
                                                     StepStartedEvent(2).ShortDebugString()));
    EXPECT_EQ(Summary("w"), SummaryAt("w", WORKFLOW_STATUS_RUNNING, 2));
  }
}

TEST_P(EventStoreTest, MalformedBatchIsInvalidAndWritesNothing) {
  Append("w", 0, {StartedEvent(), StepStartedEvent(2)});
  const struct {
    const char* name;
    const char* workflow_id;
    int64_t expected_last_seq;
    std::vector<Event> batch;
  } cases[] = {
      {"empty", "w", 2, {}},
      {"kind not set half-way", "w", 2, {StepCompletedEvent(3), EventAt(4), CompletedEvent(5)}},
      {"seq gap half-way", "w", 2, {StepCompletedEvent(3), CompletedEvent(5)}},
      {"seq repeated", "w", 2, {StepCompletedEvent(3), StepCompletedEvent(3)}},
      {"started again half-way", "w", 2, {StepCompletedEvent(3), StartedEvent(4)}},
      {"new workflow without start", "new", 0, {StepStartedEvent(1)}},
      {"new workflow from seq 2", "new", 0, {StartedEvent(2)}},
      {"new workflow, kind not set after start", "new", 0, {StartedEvent(), EventAt(2)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = store_->Append(c.workflow_id, c.expected_last_seq, c.batch);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("'", c.workflow_id, "'")));
    EXPECT_THAT(HistoryOf(*store_, "w"), ElementsAre(StartedEvent().ShortDebugString(),
                                                     StepStartedEvent(2).ShortDebugString()));
    EXPECT_EQ(Summary("w"), SummaryAt("w", WORKFLOW_STATUS_RUNNING, 2));
    EXPECT_EQ(store_->GetSummary("new").status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(List(), ElementsAre(SummaryAt("w", WORKFLOW_STATUS_RUNNING, 2)));
  }
}

// A lease for `owner`, taken at `now` for an hour.
LeaseRequest LeaseRequestOf(absl::string_view owner, absl::string_view host, int64_t pid,
                            absl::Time now) {
  LeaseRequest request;
  request.owner_id = std::string(owner);
  request.host = std::string(host);
  request.pid = pid;
  request.ttl = absl::Hours(1);
  request.now = now;
  return request;
}

// Owner A starts a workflow whose lease each row has left in another state: only A's own
// lease, live or lapsed, lets the start in.
TEST_P(EventStoreTest, AppendAsLeaseOwnerAppendsOnlyWhileTheOwnerHoldsTheLease) {
  const absl::Time now = absl::Now();
  const LeaseRequest a_live = LeaseRequestOf("A", "h1", 11, now);
  const LeaseRequest a_lapsed = LeaseRequestOf("A", "h1", 11, now - absl::Hours(2));
  const LeaseRequest b_live = LeaseRequestOf("B", "h2", 22, now);
  constexpr char kNobody[] = "owner A no longer holds its lease; nobody does";
  constexpr char kHeldByB[] =
      "owner A no longer holds its lease; it is held by owner B (host h2, pid 22)";
  const struct {
    const char* name;
    std::vector<LeaseRequest> taken;  // in this order
    bool released_by_a;
    const char* refusal;  // empty when A's start lands
  } cases[] = {
      {"A holds it", {a_live}, false, ""},
      {"A holds it, lapsed, nobody took it over", {a_lapsed}, false, ""},
      {"nobody ever held it", {}, false, kNobody},
      {"B holds it, A never did", {b_live}, false, kHeldByB},
      {"B took it over once A's lapsed", {a_lapsed, b_live}, false, kHeldByB},
      {"A released it", {a_live}, true, kNobody},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (const LeaseRequest& request : c.taken) {
      ASSERT_TRUE(store_->AcquireLease(c.name, request).ok());
    }
    if (c.released_by_a) {
      ASSERT_TRUE(store_->ReleaseLease(c.name, "A").ok());
    }
    const absl::Status status = store_->AppendAsLeaseOwner(c.name, "A", 0, {StartedEvent()});
    if (absl::string_view(c.refusal).empty()) {
      ASSERT_TRUE(status.ok()) << status;
      EXPECT_THAT(HistoryOf(*store_, c.name), ElementsAre(StartedEvent().ShortDebugString()));
      continue;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("workflow '", c.name, "': ", c.refusal)));
    EXPECT_EQ(store_->GetSummary(c.name).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(store_->Read(c.name, 1).status().code(), absl::StatusCode::kNotFound);
  }
}

// A driver that stopped for a while: its lease lapsed, owner B took the workflow over and
// appended. A's append, expecting the history it last saw, is refused for the lease.
TEST_P(EventStoreTest, AppendAsLeaseOwnerRefusesAnOwnerWhoLostTheLeaseWhateverSeqItExpects) {
  const absl::Time now = absl::Now();
  ASSERT_TRUE(store_->AcquireLease("w", LeaseRequestOf("A", "h1", 11, now - absl::Hours(2))).ok());
  ASSERT_TRUE(store_->AppendAsLeaseOwner("w", "A", 0, {StartedEvent()}).ok());
  ASSERT_TRUE(store_->AcquireLease("w", LeaseRequestOf("B", "h2", 22, now)).ok());
  ASSERT_TRUE(store_->AppendAsLeaseOwner("w", "B", 1, {StepStartedEvent(2, 2)}).ok());
  for (const int64_t expected_last_seq : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("A expects last seq ", expected_last_seq));
    const absl::Status status = store_->AppendAsLeaseOwner(
        "w", "A", expected_last_seq, {StepStartedEvent(expected_last_seq + 1)});
    EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
    EXPECT_THAT(
        status.message(),
        HasSubstr("workflow 'w': owner A no longer holds its lease; it is held by owner B"));
    EXPECT_THAT(HistoryOf(*store_, "w"), ElementsAre(StartedEvent().ShortDebugString(),
                                                     StepStartedEvent(2, 2).ShortDebugString()));
  }
}

TEST_P(EventStoreTest, UnknownWorkflowIsNotFound) {
  Append("w", 0, {StartedEvent()});
  const absl::Status read = store_->Read("x", 1).status();
  EXPECT_EQ(read.code(), absl::StatusCode::kNotFound) << read;
  EXPECT_THAT(read.message(), HasSubstr("'x'"));
  const absl::Status summary = store_->GetSummary("x").status();
  EXPECT_EQ(summary.code(), absl::StatusCode::kNotFound) << summary;
  EXPECT_THAT(summary.message(), HasSubstr("'x'"));
}

TEST_P(EventStoreTest, CancellationRequestKeepsTheFirstReason) {
  Append("w", 0, {StartedEvent()});
  absl::StatusOr<std::optional<std::string>> none = store_->GetCancellationRequest("w");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->RequestCancellation("w", "first").ok());
  ASSERT_TRUE(store_->RequestCancellation("w", "second").ok());
  absl::StatusOr<std::optional<std::string>> request = store_->GetCancellationRequest("w");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(*request, std::optional<std::string>("first"));
  EXPECT_EQ(store_->RequestCancellation("x", "r").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetCancellationRequest("x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Summary("w").last_seq, 1);  // a request is not history
}

TEST_P(EventStoreTest, SummaryFollowsEachAppend) {
  const struct {
    std::vector<Event> batch;
    WorkflowStatus status;
    int64_t last_seq;
  } steps[] = {
      {{StartedEvent()}, WORKFLOW_STATUS_RUNNING, 1},
      {{StepStartedEvent(2)}, WORKFLOW_STATUS_RUNNING, 2},
      {{StepCompletedEvent(3), CompletedEvent(4)}, WORKFLOW_STATUS_COMPLETED, 4},
  };
  int64_t last_seq = 0;
  for (const auto& step : steps) {
    SCOPED_TRACE(absl::StrCat("up to seq ", step.last_seq));
    Append("w", last_seq, step.batch);
    last_seq = step.last_seq;
    EXPECT_EQ(Summary("w"), SummaryAt("w", step.status, step.last_seq));
    EXPECT_THAT(List(), ElementsAre(SummaryAt("w", step.status, step.last_seq)));
  }
}

Event CompletedWithFailuresEvent(int64_t seq) {
  Event event = CompletedEvent(seq);
  event.mutable_workflow_completed()->add_failed_steps("lint");
  return event;
}

TEST_P(EventStoreTest, SummaryTakesTheTerminalStatus) {
  const struct {
    const char* workflow_id;
    Event last;
    WorkflowStatus status;
  } cases[] = {
      {"completed", CompletedEvent(3), WORKFLOW_STATUS_COMPLETED},
      {"completed with failures", CompletedWithFailuresEvent(3),
       WORKFLOW_STATUS_COMPLETED_WITH_FAILURES},
      {"failed", FailedEvent(3), WORKFLOW_STATUS_FAILED},
      {"cancelled", CancelledEvent(3), WORKFLOW_STATUS_CANCELLED},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.workflow_id);
    Append(c.workflow_id, 0, {StartedEvent(), StepStartedEvent(2), c.last});
    EXPECT_EQ(Summary(c.workflow_id), SummaryAt(c.workflow_id, c.status, 3));
  }
}

TEST_P(EventStoreTest, ListIsOrderedByWorkflowId) {
  EXPECT_THAT(List(), IsEmpty());
  Append("b", 0, {StartedEvent()});
  Append("c", 0, {StartedEvent(), StepStartedEvent(2)});
  Append("a", 0, OrderHistory());
  EXPECT_THAT(List(), ElementsAre(SummaryAt("a", WORKFLOW_STATUS_COMPLETED, 4),
                                  SummaryAt("b", WORKFLOW_STATUS_RUNNING, 1),
                                  SummaryAt("c", WORKFLOW_STATUS_RUNNING, 2)));
}

TEST_P(EventStoreTest, OpenStreamIsNotDisturbedByLaterAppends) {
  const std::vector<Event> history = OrderHistory();
  Append("w", 0, {history[0], history[1]});
  absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read("w", 1);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->Next());
  std::vector<std::string> seen = {(*stream)->event().ShortDebugString()};

  Append("w", 2, {history[2], history[3]});
  Append("other", 0, {StartedEvent()});
  while ((*stream)->Next()) seen.push_back((*stream)->event().ShortDebugString());

  EXPECT_TRUE((*stream)->status().ok()) << (*stream)->status();
  // As of the Read or later, but never a part of a batch.
  const std::vector<std::string> all = Texts(history);
  EXPECT_THAT(seen, AnyOf(ElementsAre(all[0], all[1]), ElementsAreArray(all)));
}

// Also a long history, which the SQLite store reads ahead on a thread of its own.
TEST_P(EventStoreTest, OpenLongStreamIsNotDisturbedByLaterAppends) {
  constexpr int64_t kEvents = 6000;
  std::vector<Event> history = {StartedEvent()};
  for (int64_t seq = 2; seq <= kEvents; ++seq) history.push_back(StepStartedEvent(seq));
  Append("w", 0, history);
  absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read("w", 1);
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5000 && (*stream)->Next(); ++i) seqs.push_back((*stream)->event().seq());

  Append("w", kEvents, {StepStartedEvent(kEvents + 1)});
  while ((*stream)->Next()) seqs.push_back((*stream)->event().seq());

  EXPECT_TRUE((*stream)->status().ok()) << (*stream)->status();
  EXPECT_THAT(seqs,
              AnyOf(ElementsAreArray(SeqsUpTo(kEvents)), ElementsAreArray(SeqsUpTo(kEvents + 1))));
}

// A reader may stop anywhere, also while the store reads ahead; the store goes on as usual.
TEST_P(EventStoreTest, AStreamLeftHalfReadEndsCleanly) {
  constexpr int64_t kEvents = 20000;
  std::vector<Event> history = {StartedEvent()};
  for (int64_t seq = 2; seq <= kEvents; ++seq) history.push_back(StepStartedEvent(seq));
  Append("w", 0, history);
  for (const int read : {0, 1, 4096, 4097, 6000, 19999}) {
    SCOPED_TRACE(read);
    absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read("w", 1);
    ASSERT_TRUE(stream.ok()) << stream.status();
    for (int i = 0; i < read; ++i) ASSERT_TRUE((*stream)->Next());
    EXPECT_EQ(read == 0 ? 0 : (*stream)->event().seq(), read);
  }
  Append("w", kEvents, {StepStartedEvent(kEvents + 1)});
  EXPECT_EQ(SeqsOf("w"), SeqsUpTo(kEvents + 1));
}

TEST_P(EventStoreTest, ConcurrentAppendsToDifferentWorkflowsAllLand) {
  constexpr int kWorkflowsPerThread = 3;
  for (const int threads : {1, 2, 4, 8}) {
    SCOPED_TRACE(absl::StrCat(threads, " threads"));
    std::vector<std::vector<absl::Status>> errors(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([this, threads, t, &errors] {
        for (int w = 0; w < kWorkflowsPerThread; ++w) {
          const std::string id = absl::StrCat(threads, "-", t, "-", w);
          int64_t last_seq = 0;
          for (const Event& event : OrderHistory()) {
            absl::Status status = store_->Append(id, last_seq++, {event});
            if (status.ok()) status = store_->GetSummary(id).status();
            if (!status.ok()) errors[t].push_back(status);
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();

    for (const std::vector<absl::Status>& thread_errors : errors) {
      EXPECT_THAT(thread_errors, IsEmpty());
    }
    for (int t = 0; t < threads; ++t) {
      for (int w = 0; w < kWorkflowsPerThread; ++w) {
        const std::string id = absl::StrCat(threads, "-", t, "-", w);
        EXPECT_EQ(Summary(id), SummaryAt(id, WORKFLOW_STATUS_COMPLETED, 4));
        EXPECT_THAT(HistoryOf(*store_, id), ElementsAreArray(Texts(OrderHistory())));
      }
    }
  }
}

TEST_P(EventStoreTest, RacingWritersOfOneWorkflowWinOneSeqEach) {
  constexpr int64_t kLastSeq = 40;
  for (const int threads : {2, 4, 8}) {
    SCOPED_TRACE(absl::StrCat(threads, " threads"));
    const std::string id = absl::StrCat("race-", threads);
    Append(id, 0, {StartedEvent()});
    std::vector<int> wins(threads, 0);
    std::vector<std::vector<absl::Status>> errors(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([this, &id, t, &wins, &errors] {
        while (true) {
          absl::StatusOr<WorkflowSummary> summary = store_->GetSummary(id);
          if (!summary.ok()) {
            errors[t].push_back(summary.status());
            return;
          }
          const int64_t last_seq = summary->last_seq;
          if (last_seq == kLastSeq) return;
          const absl::Status status =
              store_->Append(id, last_seq, {StepStartedEvent(last_seq + 1, t)});
          if (status.ok()) {
            ++wins[t];
          } else if (!absl::IsAborted(status)) {
            errors[t].push_back(status);
            return;
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();

    for (const std::vector<absl::Status>& thread_errors : errors) {
      EXPECT_THAT(thread_errors, IsEmpty());
    }
    int total_wins = 0;
    for (const int w : wins) total_wins += w;
    EXPECT_EQ(total_wins, kLastSeq - 1);
    EXPECT_THAT(SeqsOf(id), ElementsAreArray(SeqsUpTo(kLastSeq)));
  }
}

TEST_P(EventStoreTest, LoadWorkflowStateFoldsTheHistory) {
  Append("w", 0, OrderHistory());
  constexpr struct {
    int64_t up_to_seq;
    WorkflowStatus status;
    StepStatus step;
    int64_t last_seq;
  } kCases[] = {
      {std::numeric_limits<int64_t>::max(), WORKFLOW_STATUS_COMPLETED, StepStatus::kCompleted, 4},
      {3, WORKFLOW_STATUS_RUNNING, StepStatus::kCompleted, 3},
      {2, WORKFLOW_STATUS_RUNNING, StepStatus::kRunning, 2},
      {1, WORKFLOW_STATUS_RUNNING, StepStatus::kPending, 1},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrCat("up to seq ", c.up_to_seq));
    absl::StatusOr<WorkflowState> state = LoadWorkflowState(*store_, "w", c.up_to_seq);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->workflow_id, "w");
    EXPECT_EQ(state->status, c.status);
    EXPECT_EQ(state->last_seq, c.last_seq);
    const StepState* charge = state->FindStep("charge");
    ASSERT_NE(charge, nullptr);
    EXPECT_EQ(charge->status, c.step);
  }
}

TEST_P(EventStoreTest, LoadWorkflowStateRunsWorkAlongsideOnTheRecordedDefinition) {
  Append("w", 0, OrderHistory());
  std::vector<std::string> seen;
  absl::StatusOr<WorkflowState> state =
      LoadWorkflowState(*store_, "w", [&seen](const WorkflowDefinition& definition) {
        seen.push_back(definition.ShortDebugString());
      });
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(seen, ElementsAre(StartedEvent().workflow_started().definition().ShortDebugString()));
  EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
  EXPECT_EQ(state->last_seq, 4);
  EXPECT_EQ(state->definition().ShortDebugString(), seen[0]);
}

TEST_P(EventStoreTest, LoadWorkflowStateRunsWorkAlongsideEvenIfWorkflowStartedIsBroken) {
  // Two steps of one name: the store keeps such an event, the fold refuses it.
  Event started = StartedEvent();
  started.mutable_workflow_started()->mutable_definition()->add_steps()->set_name("charge");
  Append("w", 0, {started});
  int calls = 0;
  const absl::StatusOr<WorkflowState> state =
      LoadWorkflowState(*store_, "w", [&calls](const WorkflowDefinition&) { ++calls; });
  EXPECT_EQ(state.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(state.status().message(), HasSubstr("two steps named 'charge'"));
  EXPECT_EQ(calls, 1);
}

TEST_P(EventStoreTest, LoadWorkflowStateOfUnknownWorkflowIsNotFound) {
  EXPECT_EQ(LoadWorkflowState(*store_, "x").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(EventStoreTest, SnapshotOfMoreEventsReplacesAnEarlierOne) {
  Append("w", 0, OrderHistory());
  const absl::StatusOr<std::optional<StoredSnapshot>> none = store_->LoadSnapshot("w");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  const struct {
    int64_t seq;
    const char* state;
    int64_t kept_seq;
    const char* kept_state;
  } kSaves[] = {
      {2, "two", 2, "two"},            // the first
      {3, "three", 3, "three"},        // of more events: it replaces the first
      {2, "two again", 3, "three"},    // fewer events: the later snapshot stays
      {3, "three again", 3, "three"},  // as many: the first stays
      {4, "four", 4, "four"},
  };
  for (const auto& save : kSaves) {
    SCOPED_TRACE(absl::StrCat("saving ", save.state));
    const absl::Status saved = store_->SaveSnapshot("w", save.seq, save.state);
    ASSERT_TRUE(saved.ok()) << saved;
    const absl::StatusOr<std::optional<StoredSnapshot>> loaded = store_->LoadSnapshot("w");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_TRUE(loaded->has_value());
    EXPECT_EQ((*loaded)->seq, save.kept_seq);
    EXPECT_EQ((*loaded)->state, save.kept_state);
  }
  EXPECT_THAT(SeqsOf("w"), ElementsAre(1, 2, 3, 4));  // history is untouched
}

TEST_P(EventStoreTest, SnapshotOutsideTheHistoryIsRefusedAndSavesNothing) {
  Append("w", 0, {StartedEvent(), StepStartedEvent(2)});
  const struct {
    const char* workflow_id;
    int64_t seq;
    absl::StatusCode code;
    const char* problem;
  } kCases[] = {
      {"w", 3, absl::StatusCode::kInvalidArgument,
       "workflow 'w': a snapshot at seq 3, but its history has 2 events"},
      {"w", 0, absl::StatusCode::kInvalidArgument,
       "workflow 'w': a snapshot at seq 0, but its history has 2 events"},
      {"x", 1, absl::StatusCode::kNotFound, "workflow 'x' not found"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.problem);
    const absl::Status saved = store_->SaveSnapshot(c.workflow_id, c.seq, "state");
    EXPECT_EQ(saved.code(), c.code) << saved;
    EXPECT_THAT(saved.message(), HasSubstr(c.problem));
  }
  const absl::StatusOr<std::optional<StoredSnapshot>> loaded = store_->LoadSnapshot("w");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
  EXPECT_EQ(store_->LoadSnapshot("x").status().code(), absl::StatusCode::kNotFound);
}

// The snapshot of the first `seq` events of workflow "w", changed by `change`.
std::string SnapshotOf(EventStore& store, int64_t seq, void (*change)(WorkflowState& state)) {
  absl::StatusOr<WorkflowState> state = LoadWorkflowState(store, "w", seq);
  EXPECT_TRUE(state.ok()) << state.status();
  if (!state.ok()) return "";
  change(*state);
  return SerializeSnapshot(*state);
}

void MarkCharge(WorkflowState& state) { state.steps[0].output = "from the snapshot"; }

// A snapshot whose charge output no event gives shows which events were folded.
TEST_P(EventStoreTest, LoadWorkflowStateStartsFromTheSnapshotAndFoldsTheEventsAfterIt) {
  Append("w", 0, OrderHistory());
  const absl::Status saved = store_->SaveSnapshot("w", 3, SnapshotOf(*store_, 3, MarkCharge));
  ASSERT_TRUE(saved.ok()) << saved;
  const struct {
    int64_t up_to_seq;
    int64_t last_seq;
    WorkflowStatus status;
    const char* charge_output;
  } kCases[] = {
      {std::numeric_limits<int64_t>::max(), 4, WORKFLOW_STATUS_COMPLETED, "from the snapshot"},
      {3, 3, WORKFLOW_STATUS_RUNNING, "from the snapshot"},
      {2, 2, WORKFLOW_STATUS_RUNNING, ""},  // before the snapshot: the events alone
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrCat("up to seq ", c.up_to_seq));
    absl::StatusOr<WorkflowState> state = LoadWorkflowState(*store_, "w", c.up_to_seq);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->last_seq, c.last_seq);
    EXPECT_EQ(state->status, c.status);
    EXPECT_EQ(state->steps[0].output, c.charge_output);
    EXPECT_EQ(state->updated_at, TimeOfSeq(c.last_seq));
  }
}

// A snapshot that does not fit the history is passed over: the history is the truth.
TEST_P(EventStoreTest, LoadWorkflowStateFoldsEveryEventPastASnapshotThatDoesNotFit) {
  Append("w", 0, OrderHistory());
  const struct {
    const char* name;
    std::string snapshot;
  } kCases[] = {
      {"not a snapshot", "\xff not a snapshot"},
      {"another definition", SnapshotOf(*store_, 3,
                                        [](WorkflowState& state) {
                                          MarkCharge(state);
                                          state.fingerprint = "another";
                                        })},
      {"of fewer events than it claims", SnapshotOf(*store_, 2, MarkCharge)},
      {"of another history's seq 3", SnapshotOf(*store_, 3,
                                                [](WorkflowState& state) {
                                                  MarkCharge(state);
                                                  state.updated_at += absl::Seconds(1);
                                                })},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const TempDir dir;
    absl::StatusOr<std::unique_ptr<EventStore>> store = GetParam().open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Append("w", 0, OrderHistory()).ok());
    const absl::Status saved = (*store)->SaveSnapshot("w", 3, c.snapshot);
    ASSERT_TRUE(saved.ok()) << saved;
    absl::StatusOr<WorkflowState> state = LoadWorkflowState(**store, "w");
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->last_seq, 4);
    EXPECT_EQ(state->status, WORKFLOW_STATUS_COMPLETED);
    EXPECT_EQ(state->steps[0].output, "charged");
  }
}

// A stream that stops with DataLoss after `events` events of the stream it wraps.
class CutOffStream : public EventStream {
 public:
  CutOffStream(std::unique_ptr<EventStream> stream, int events)
      : stream_(std::move(stream)), left_(events) {}
  bool Next() override {
    if (left_ == 0) {
      status_ = absl::DataLossError("the read was cut off");
      return false;
    }
    --left_;
    return stream_->Next();
  }
  const Event& event() const override { return stream_->event(); }
  absl::Status status() const override { return status_.ok() ? stream_->status() : status_; }

 private:
  std::unique_ptr<EventStream> stream_;
  int left_;
  absl::Status status_;
};

// A store whose reads from `failing_seq` on fail: at once, or after `events_read` events.
class FailingReadStore : public ForwardingEventStore {
 public:
  FailingReadStore(EventStore& store, int64_t failing_seq, std::optional<int> events_read)
      : ForwardingEventStore(store), failing_seq_(failing_seq), events_read_(events_read) {}
  absl::StatusOr<std::unique_ptr<EventStream>> Read(absl::string_view workflow_id,
                                                    int64_t from_seq) override {
    if (from_seq != failing_seq_) return ForwardingEventStore::Read(workflow_id, from_seq);
    if (!events_read_.has_value()) return absl::UnavailableError("the disk is gone");
    CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream,
                            ForwardingEventStore::Read(workflow_id, from_seq));
    return std::make_unique<CutOffStream>(std::move(stream), *events_read_);
  }

 private:
  const int64_t failing_seq_;
  const std::optional<int> events_read_;
};

// Reading the events after the snapshot fails the load, as reading the history does; it does
// not fall back to folding the history without the snapshot.
TEST_P(EventStoreTest, LoadWorkflowStateFailsWhenTheEventsAfterTheSnapshotCannotBeRead) {
  Append("w", 0, OrderHistory());
  const absl::Status saved = store_->SaveSnapshot("w", 3, SnapshotOf(*store_, 3, MarkCharge));
  ASSERT_TRUE(saved.ok()) << saved;
  const struct {
    const char* name;
    std::optional<int> events_read;
    absl::StatusCode code;
    const char* message;
  } kCases[] = {
      {"the read fails", std::nullopt, absl::StatusCode::kUnavailable, "the disk is gone"},
      {"before the snapshot's own event", 0, absl::StatusCode::kDataLoss, "cut off"},
      {"after the snapshot's own event", 1, absl::StatusCode::kDataLoss, "cut off"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    FailingReadStore failing(*store_, /*failing_seq=*/3, c.events_read);
    const absl::StatusOr<WorkflowState> state = LoadWorkflowState(failing, "w");
    EXPECT_EQ(state.status().code(), c.code) << state.status();
    EXPECT_THAT(state.status().message(), HasSubstr(c.message));
  }
  // The same reads with the snapshot's seq unharmed give the snapshot's state.
  FailingReadStore elsewhere(*store_, /*failing_seq=*/4, std::nullopt);
  const absl::StatusOr<WorkflowState> state = LoadWorkflowState(elsewhere, "w");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->steps[0].output, "from the snapshot");
}

// What LoadWorkflowState must agree with FoldHistory on.
void ExpectFoldedAlike(const WorkflowState& loaded, const WorkflowState& folded) {
  EXPECT_EQ(loaded.status, folded.status);
  EXPECT_EQ(loaded.last_seq, folded.last_seq);
  EXPECT_EQ(loaded.created_at, folded.created_at);
  EXPECT_EQ(loaded.updated_at, folded.updated_at);
  EXPECT_EQ(loaded.fingerprint, folded.fingerprint);
  EXPECT_EQ(loaded.input, folded.input);
  EXPECT_EQ(loaded.definition().SerializeAsString(), folded.definition().SerializeAsString());
  ASSERT_EQ(loaded.steps.size(), folded.steps.size());
  for (size_t i = 0; i < loaded.steps.size(); ++i) {
    EXPECT_EQ(loaded.steps[i].name, folded.steps[i].name);
    EXPECT_EQ(loaded.steps[i].status, folded.steps[i].status);
    EXPECT_EQ(loaded.steps[i].output, folded.steps[i].output);
    EXPECT_EQ(loaded.IndexOf(folded.steps[i].name), static_cast<int>(i));
  }
}

// A definition large enough to be parsed beside the fold (storage/load_state.cc).
TEST_P(EventStoreTest, LoadWorkflowStateFoldsALargeDefinitionAsASmallOne) {
  Event extra = StepStartedEvent(4);
  extra.mutable_step_started()->set_step("extra-0");
  const std::vector<Event> history = {LargeStartedEvent(), StepStartedEvent(2),
                                      StepCompletedEvent(3), extra};
  Append("w", 0, history);
  for (const int64_t up_to_seq : {0, 1, 3, 4}) {
    SCOPED_TRACE(absl::StrCat("up to seq ", up_to_seq));
    const absl::StatusOr<WorkflowState> loaded = LoadWorkflowState(*store_, "w", up_to_seq);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    const absl::StatusOr<WorkflowState> folded = FoldHistory(
        "w", absl::Span<const Event>(history).subspan(0, static_cast<size_t>(up_to_seq)));
    ASSERT_TRUE(folded.ok()) << folded.status();
    ExpectFoldedAlike(*loaded, *folded);
  }

  int calls = 0;
  const absl::StatusOr<WorkflowState> alongside =
      LoadWorkflowState(*store_, "w", [&calls](const WorkflowDefinition& definition) {
        EXPECT_EQ(definition.steps_size(), 40001);
        ++calls;
      });
  ASSERT_TRUE(alongside.ok()) << alongside.status();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(alongside->last_seq, 4);

  ASSERT_EQ(store_->SaveSnapshot("w", 3, SnapshotOf(*store_, 3, MarkCharge)), absl::OkStatus());
  const absl::StatusOr<WorkflowState> restored = LoadWorkflowState(*store_, "w");
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->steps[0].output, "from the snapshot");
  EXPECT_EQ(restored->FindStep("extra-0")->status, StepStatus::kRunning);
  EXPECT_EQ(restored->definition().steps_size(), 40001);
  EXPECT_EQ(restored->last_seq, 4);
}

TEST_P(EventStoreTest, StreamLeavesOnlyLargeEventsUnparsedAndOnlyIfItReadsThemSerialized) {
  const std::vector<Event> history = {LargeStartedEvent(), StepStartedEvent(2)};
  Append("w", 0, history);
  absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read("w", 1);
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::optional<UnparsedEvent> unparsed;
  ASSERT_TRUE((*stream)->NextLeavingLargeUnparsed(1 << 20, &unparsed));
  if (GetParam().open == OpenMemory) {
    EXPECT_FALSE(unparsed.has_value());  // its events are parsed already
    EXPECT_EQ((*stream)->event().ShortDebugString(), history[0].ShortDebugString());
  } else {
    ASSERT_TRUE(unparsed.has_value());
    EXPECT_EQ(*unparsed->serialized, history[0].SerializeAsString());
    const absl::StatusOr<std::shared_ptr<const Event>> parsed = unparsed->parse();
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ((*parsed)->ShortDebugString(), history[0].ShortDebugString());
  }
  ASSERT_TRUE((*stream)->NextLeavingLargeUnparsed(1 << 20, &unparsed));
  EXPECT_FALSE(unparsed.has_value());
  EXPECT_EQ((*stream)->event().ShortDebugString(), history[1].ShortDebugString());
  EXPECT_FALSE((*stream)->Next());
  EXPECT_EQ((*stream)->status(), absl::OkStatus());
}

INSTANTIATE_TEST_SUITE_P(Stores, EventStoreTest,
                         ::testing::Values(StoreKind{"Memory", OpenMemory},
                                           StoreKind{"Sqlite", OpenSqlite}),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace chorus
