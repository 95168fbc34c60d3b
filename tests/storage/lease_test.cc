// The owner-lease contract of EventStore (AcquireLease, RenewLease, ReleaseLease, GetLease),
// run against every store, with an injected clock.
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_store.h"
#include "storage/forwarding_event_store.h"
#include "storage/memory_event_store.h"
#include "storage/sqlite_event_store.h"
#include "tests/storage/storage_test_util.h"
#include "tests/temp_dir.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// 2023-11-14 22:13:20 UTC.
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
constexpr absl::Duration kTtl = absl::Seconds(10);

LeaseRequest Request(absl::string_view owner_id, absl::string_view host, int64_t pid,
                     absl::Time now = kNow) {
  LeaseRequest request;
  request.owner_id = std::string(owner_id);
  request.host = std::string(host);
  request.pid = pid;
  request.ttl = kTtl;
  request.now = now;
  return request;
}

std::string Describe(const std::optional<Lease>& lease) {
  if (!lease.has_value()) return "no lease";
  return absl::StrCat(lease->workflow_id, " held by ", lease->owner_id, " on ", lease->host, ":",
                      lease->pid, " until ", absl::FormatTime(lease->expires_at));
}

struct StoreKind {
  const char* name;
  // Opens the store in `dir`; each call gives another connection to the same store.
  absl::StatusOr<std::unique_ptr<EventStore>> (*open)(const TempDir& dir,
                                                      EventStore* first_memory_store);
};

void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

absl::StatusOr<std::unique_ptr<EventStore>> OpenMemory(const TempDir&, EventStore* first) {
  if (first == nullptr) return NewMemoryEventStore();
  return std::make_unique<ForwardingEventStore>(*first);  // one store, shared
}

absl::StatusOr<std::unique_ptr<EventStore>> OpenSqlite(const TempDir& dir, EventStore*) {
  return OpenSqliteEventStore(dir.File("chorus.db"), SqliteOptions());
}

class LeaseTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventStore>> store = GetParam().open(dir_, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Another connection to the same store, as another process would have.
  std::unique_ptr<EventStore> Connect() {
    absl::StatusOr<std::unique_ptr<EventStore>> store = GetParam().open(dir_, store_.get());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Takes the lease, failing the test unless that works.
  void Acquire(absl::string_view workflow_id, const LeaseRequest& request) {
    absl::StatusOr<Lease> lease = store_->AcquireLease(workflow_id, request);
    ASSERT_TRUE(lease.ok()) << lease.status();
  }

  std::string Held(absl::string_view workflow_id) {
    absl::StatusOr<std::optional<Lease>> lease = store_->GetLease(workflow_id);
    if (!lease.ok()) return lease.status().ToString();
    return Describe(*lease);
  }

  TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_P(LeaseTest, AFreeLeaseIsGrantedEvenBeforeTheWorkflowExists) {
  EXPECT_EQ(Held("w"), "no lease");
  absl::StatusOr<Lease> lease = store_->AcquireLease("w", Request("A", "h1", 11));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(Describe(*lease), Describe(Lease{"w", "A", "h1", 11, kNow + kTtl}));
  EXPECT_EQ(Held("w"), Describe(*lease));
  EXPECT_EQ(store_->GetSummary("w").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(LeaseTest, ASecondOwnerIsRefusedWithAnErrorNamingTheHolder) {
  Acquire("w", Request("3f2a", "h1", 123));
  std::unique_ptr<EventStore> other = Connect();
  absl::StatusOr<Lease> refused = other->AcquireLease("w", Request("B", "h2", 7));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "workflow 'w' is being driven by owner 3f2a (host h1, pid 123) until "
            "2023-11-14 22:13:30 UTC");
  EXPECT_EQ(Held("w"), Describe(Lease{"w", "3f2a", "h1", 123, kNow + kTtl}));
}

TEST_P(LeaseTest, WhoMayTakeAHeldLease) {
  // The lease below is held by A on host h1, pid 11, until kNow + kTtl.
  const struct {
    const char* name;
    LeaseRequest request;
    bool granted;
  } cases[] = {
      {"another owner while it lasts", Request("B", "h2", 22), false},
      {"another owner a second before it lapses",
       Request("B", "h2", 22, kNow + kTtl - absl::Seconds(1)), false},
      {"another owner when it lapses", Request("B", "h2", 22, kNow + kTtl), true},
      {"another owner long after", Request("B", "h2", 22, kNow + absl::Hours(1)), true},
      {"the holder itself", Request("A", "h1", 11), true},
      {"the holder's name on another host", Request("A", "h9", 99), true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Acquire(c.name, Request("A", "h1", 11));
    absl::StatusOr<Lease> lease = store_->AcquireLease(c.name, c.request);
    EXPECT_EQ(lease.ok(), c.granted) << lease.status();
    const Lease expected = c.granted ? Lease{c.name, c.request.owner_id, c.request.host,
                                             c.request.pid, c.request.now + kTtl}
                                     : Lease{c.name, "A", "h1", 11, kNow + kTtl};
    EXPECT_EQ(Held(c.name), Describe(expected));
  }
}

TEST_P(LeaseTest, OnTheHoldersHostALeaseWhoseProcessIsGoneIsTakenOverAtOnce) {
  // The caller has seen that A's process is gone; only A's own host can tell.
  const struct {
    const char* name;
    const char* host;
    const char* replacing;
    bool granted;
  } cases[] = {
      {"same host, names the holder", "h1", "A", true},
      {"same host, names someone else", "h1", "C", false},
      {"another host, names the holder", "h2", "A", false},
      {"same host, names nobody", "h1", "", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Acquire(c.name, Request("A", "h1", 11));
    LeaseRequest request = Request("B", c.host, 22);
    request.replacing_owner_id = c.replacing;
    absl::StatusOr<Lease> lease = store_->AcquireLease(c.name, request);
    EXPECT_EQ(lease.ok(), c.granted) << lease.status();
    if (!c.granted) {
      EXPECT_EQ(lease.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(lease.status().message(), HasSubstr("owner A (host h1, pid 11)"));
    }
    EXPECT_EQ(Held(c.name), c.granted ? Describe(Lease{c.name, "B", c.host, 22, kNow + kTtl})
                                      : Describe(Lease{c.name, "A", "h1", 11, kNow + kTtl}));
  }
}

TEST_P(LeaseTest, RenewExtendsTheHoldersLeaseEvenAfterItLapsedButNobodyElses) {
  Acquire("w", Request("A", "h1", 11));
  const absl::Time later = kNow + absl::Minutes(5);  // lapsed, but nobody took it
  absl::StatusOr<Lease> renewed = store_->RenewLease("w", "A", later);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(Describe(*renewed), Describe(Lease{"w", "A", "h1", 11, later}));
  EXPECT_EQ(Held("w"), Describe(*renewed));

  absl::Status stolen = store_->RenewLease("w", "B", later + kTtl).status();
  EXPECT_EQ(stolen.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stolen.message(), AllOf(HasSubstr("workflow 'w'"), HasSubstr("owner B"),
                                      HasSubstr("held by owner A (host h1, pid 11)")));
  EXPECT_EQ(Held("w"), Describe(*renewed));

  absl::Status nobody = store_->RenewLease("free", "A", later).status();
  EXPECT_EQ(nobody.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(nobody.message(), HasSubstr("nobody does"));
  EXPECT_EQ(Held("free"), "no lease");
}

TEST_P(LeaseTest, ALeaseTakenOverIsLostToItsFormerHolder) {
  Acquire("w", Request("A", "h1", 11));
  Acquire("w", Request("B", "h2", 22, kNow + kTtl));
  absl::Status renewed = store_->RenewLease("w", "A", kNow + kTtl + kTtl).status();
  EXPECT_EQ(renewed.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(renewed.message(), HasSubstr("held by owner B (host h2, pid 22)"));
  ASSERT_TRUE(store_->ReleaseLease("w", "A").ok());
  EXPECT_EQ(Held("w"), Describe(Lease{"w", "B", "h2", 22, kNow + kTtl + kTtl}));
}

TEST_P(LeaseTest, ReleaseFreesOnlyTheHoldersLease) {
  Acquire("w", Request("A", "h1", 11));
  ASSERT_TRUE(store_->ReleaseLease("w", "B").ok());
  EXPECT_EQ(Held("w"), Describe(Lease{"w", "A", "h1", 11, kNow + kTtl}));
  ASSERT_TRUE(store_->ReleaseLease("w", "A").ok());
  EXPECT_EQ(Held("w"), "no lease");
  ASSERT_TRUE(store_->ReleaseLease("w", "A").ok()) << "releasing twice is harmless";
  Acquire("w", Request("B", "h2", 22));
}

TEST_P(LeaseTest, LeasesArePerWorkflow) {
  Acquire("w1", Request("A", "h1", 11));
  Acquire("w2", Request("B", "h2", 22));
  EXPECT_EQ(Held("w1"), Describe(Lease{"w1", "A", "h1", 11, kNow + kTtl}));
  EXPECT_EQ(Held("w2"), Describe(Lease{"w2", "B", "h2", 22, kNow + kTtl}));
}

TEST_P(LeaseTest, InvalidRequestsAreRefused) {
  const struct {
    const char* name;
    const char* owner_id;
    absl::Duration ttl;
    const char* message;
  } cases[] = {
      {"no owner", "", kTtl, "needs an owner id"},
      {"zero ttl", "A", absl::ZeroDuration(), "positive ttl"},
      {"negative ttl", "A", -kTtl, "positive ttl"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    LeaseRequest request = Request(c.owner_id, "h1", 11);
    request.ttl = c.ttl;
    absl::Status status = store_->AcquireLease("w", request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), AllOf(HasSubstr("workflow 'w'"), HasSubstr(c.message)));
    EXPECT_EQ(Held("w"), "no lease");
  }
}

TEST_P(LeaseTest, OfRacingOwnersExactlyOneWins) {
  constexpr int kRacers = 8;
  std::vector<std::unique_ptr<EventStore>> connections;
  for (int i = 0; i < kRacers; ++i) connections.push_back(Connect());
  std::vector<absl::Status> results(kRacers);
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      results[i] =
          connections[i]->AcquireLease("w", Request(absl::StrCat("owner", i), "h", i)).status();
    });
  }
  for (std::thread& racer : racers) racer.join();
  int winners = 0;
  for (int i = 0; i < kRacers; ++i) {
    SCOPED_TRACE(i);
    if (results[i].ok()) {
      ++winners;
      EXPECT_THAT(Held("w"), HasSubstr(absl::StrCat("held by owner", i, " ")));
    } else {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kFailedPrecondition) << results[i];
    }
  }
  EXPECT_EQ(winners, 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, LeaseTest,
                         ::testing::Values(StoreKind{"Memory", OpenMemory},
                                           StoreKind{"Sqlite", OpenSqlite}),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return std::string(info.param.name);
                         });

TEST(SqliteLeaseTest, AReadOnlyStoreShowsLeasesButTakesNone) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<EventStore>> writer =
      OpenSqliteEventStore(dir.File("chorus.db"), SqliteOptions());
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->AcquireLease("w", Request("A", "h1", 11)).ok());
  SqliteOptions read_only;
  read_only.read_only = true;
  absl::StatusOr<std::unique_ptr<EventStore>> reader =
      OpenSqliteEventStore(dir.File("chorus.db"), read_only);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::optional<Lease>> held = (*reader)->GetLease("w");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(Describe(*held), Describe(Lease{"w", "A", "h1", 11, kNow + kTtl}));
  const absl::Status refused[] = {
      (*reader)->AcquireLease("v", Request("B", "h2", 22)).status(),
      (*reader)->RenewLease("w", "A", kNow + kTtl).status(),
      (*reader)->ReleaseLease("w", "A"),
  };
  for (const absl::Status& status : refused) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(status.message(), AllOf(HasSubstr("read-only"), HasSubstr("lease")));
  }
  EXPECT_EQ(Describe(*(*writer)->GetLease("w")), Describe(Lease{"w", "A", "h1", 11, kNow + kTtl}));
}

}  // namespace
}  // namespace chorus
