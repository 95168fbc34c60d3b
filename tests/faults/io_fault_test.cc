// Disk faults under the SQLite store, through FaultyVfs (tests/faults/faulty_vfs.h): for every
// write (sync) of a whole run, that write failing, or the disk being full, must stop the
// engine with a clear error and leave only whole batches in history; once the disk works
// again, the workflow must finish as if nothing had happened.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "event/history.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite_event_store.h"
#include "tests/faults/crash_workflow.h"
#include "tests/faults/faulty_vfs.h"
#include "tests/faults/history_checks.h"
#include "tests/temp_dir.h"
#include "workflow/definition.h"
#include "workflow/engine.h"
#include "workflow/step_context.h"
#include "workflow/step_registry.h"

namespace chorus {
namespace {

using ::testing::HasSubstr;

constexpr char kId[] = "w";
constexpr char kInput[] = "io fault input";

// Seven steps: a diamond, then two in parallel, then a join.
WorkflowDefinition SmallWorkflow() {
  return DefinitionBuilder("small")
      .Step("a")
      .Step("b", {"a"})
      .Step("c", {"a"})
      .Step("d", {"b", "c"})
      .Step("e", {"d"})
      .Step("f", {"d"})
      .Step("g", {"e", "f"})
      .Build();
}

StepRegistry SmallWorkflowSteps() {
  StepRegistry registry;
  const WorkflowDefinition definition = SmallWorkflow();
  for (const StepDefinition& step : definition.steps()) {
    EXPECT_TRUE(registry
                    .Register(step.name(),
                              [](const StepContext& context) -> absl::StatusOr<std::string> {
                                std::vector<absl::string_view> outputs;
                                for (const DependencyOutput& dependency : context.dependencies()) {
                                  outputs.push_back(dependency.output);
                                }
                                return CrashStepOutput(context.step(), context.input(), outputs);
                              })
                    .ok());
  }
  return registry;
}

// An event without its time, which differs from run to run.
std::string Timeless(const Event& event) {
  Event copy = event;
  copy.clear_recorded_at();
  return copy.ShortDebugString();
}

// A fault and the status code it must surface as.
struct FaultCase {
  const char* name;
  FaultyVfs::Fault fault;
  absl::StatusCode code;
};

constexpr FaultCase kFaults[] = {
    {"failed write", FaultyVfs::Fault::kFailWrite, absl::StatusCode::kInternal},
    {"failed sync", FaultyVfs::Fault::kFailSync, absl::StatusCode::kInternal},
    {"full disk", FaultyVfs::Fault::kDiskFull, absl::StatusCode::kResourceExhausted},
};

class IoFaultTest : public testing::Test {
 protected:
  // A fresh database path for case `name`.
  std::string NewDatabase(const std::string& name) {
    const std::string path = absl::StrCat(dir_, "/", name, ".db");
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path + suffix);
    }
    return path;
  }

  // Wave mode gives the same history on every run: batches that runs can be compared by.
  static EngineOptions WaveOptions() {
    EngineOptions options;
    options.mode = ScheduleMode::kWave;
    return options;
  }

  // Runs (starts or resumes) the small workflow in `store`, adding to `batches` the last seq
  // of each batch the engine commits.
  absl::StatusOr<WorkflowState> RunSmallWorkflow(EventStore& store,
                                                 std::set<int64_t>* batches = nullptr) {
    EngineOptions options = WaveOptions();
    if (batches != nullptr) {
      options.on_commit = [batches](absl::string_view, absl::Span<const Event> events) {
        batches->insert(events.back().seq());
      };
    }
    Engine engine(&store, &registry_, options);
    return engine.Run(kId, SmallWorkflow(), kInput);
  }

  const TempDir test_dir_;
  const std::string dir_ = test_dir_.path();
  // The default VFS of the whole test.
  FaultyVfs vfs_;
  const StepRegistry registry_ = SmallWorkflowSteps();
};

TEST_F(IoFaultTest, EveryFaultOfARunStopsTheEngineLeavesWholeBatchesAndResumes) {
  // The fault-free run: its history, its batches, how many writes and syncs it makes.
  const std::string reference_path = NewDatabase("reference");
  std::set<int64_t> batches;
  int reference_writes = 0;
  int reference_syncs = 0;
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store =
        OpenSqliteEventStore(reference_path, SqliteOptions());
    ASSERT_TRUE(store.ok()) << store.status();
    vfs_.Disarm();
    ASSERT_TRUE(RunSmallWorkflow(**store, &batches).ok());
    reference_writes = vfs_.writes();
    reference_syncs = vfs_.syncs();
  }
  absl::StatusOr<std::vector<Event>> reference = ReadEvents(reference_path, kId);
  ASSERT_TRUE(reference.ok()) << reference.status();
  const absl::StatusOr<WorkflowState> expected = CheckCompletedOnce(kId, *reference);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_GT(batches.size(), 3);

  for (const FaultCase& c : kFaults) {
    int fault_points = 0;
    for (int n = 1;; ++n) {
      SCOPED_TRACE(absl::StrCat(c.name, " at ", n));
      const std::string path = NewDatabase(absl::StrCat(c.name, n));
      absl::StatusOr<std::unique_ptr<EventStore>> store =
          OpenSqliteEventStore(path, SqliteOptions());
      ASSERT_TRUE(store.ok()) << store.status();
      Engine engine(store->get(), &registry_, WaveOptions());
      vfs_.Arm(c.fault, n);
      const absl::StatusOr<WorkflowState> run = engine.Run(kId, SmallWorkflow(), kInput);
      const bool hit = vfs_.hit();
      vfs_.Disarm();
      if (!hit) {
        // The whole run makes fewer than n writes (syncs): every point has been tried.
        EXPECT_TRUE(run.ok()) << run.status();
        break;
      }
      ++fault_points;
      ASSERT_FALSE(run.ok()) << "the engine went on after a failed write";
      EXPECT_EQ(run.status().code(), c.code) << run.status();
      EXPECT_THAT(std::string(run.status().message()), HasSubstr(path));

      // What the disk kept, read on a connection of its own: whole batches of the fault-free
      // history, nothing else.
      absl::StatusOr<std::vector<Event>> kept = ReadEvents(path, kId);
      if (!absl::IsNotFound(kept.status())) {
        ASSERT_TRUE(kept.ok()) << kept.status();
        EXPECT_TRUE(FoldHistory(kId, *kept).ok());
        ASSERT_LE(kept->size(), reference->size());
        for (size_t i = 0; i < kept->size(); ++i) {
          EXPECT_EQ(Timeless((*kept)[i]), Timeless((*reference)[i]));
        }
        EXPECT_TRUE(kept->empty() || batches.count(kept->back().seq()))
            << "seq " << kept->back().seq() << " ends no batch of the fault-free run";
      }

      // Once the disk works again, the same engine finishes the workflow with the fault-free
      // outcome, as a service that outlives a full disk would.
      const absl::StatusOr<WorkflowState> resumed = engine.Run(kId, SmallWorkflow(), kInput);
      ASSERT_TRUE(resumed.ok()) << resumed.status();
      absl::StatusOr<std::vector<Event>> events = ReadEvents(path, kId);
      ASSERT_TRUE(events.ok()) << events.status();
      absl::StatusOr<WorkflowState> state = CheckCompletedOnce(kId, *events);
      ASSERT_TRUE(state.ok()) << state.status();
      EXPECT_EQ(OutputsOf(*state), OutputsOf(*expected));
      EXPECT_EQ(IntegrityCheck(path), "ok");
    }
    std::printf(
        "io faults, %s: %d fault points (the fault-free run makes %d writes, %d syncs "
        "in %zu batches)\n",
        c.name, fault_points, reference_writes, reference_syncs, batches.size());
    // Each commit writes and syncs at least once: fewer points would mean a vacuous sweep.
    EXPECT_GE(fault_points, static_cast<int>(batches.size()));
  }
}

// In WAL mode a batch's pages reach the disk at COMMIT, so that is where nearly every disk
// error surfaces; the error must still say which workflow and which seqs were lost.
TEST_F(IoFaultTest, AFailedCommitNamesTheWorkflowAndTheSeqs) {
  const std::string path = NewDatabase("commit");
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(path, SqliteOptions());
  ASSERT_TRUE(store.ok()) << store.status();
  EngineOptions options = WaveOptions();
  // After the first batch (seqs 1 and 2), the next write fails: the second batch's commit.
  options.on_commit = [this](absl::string_view, absl::Span<const Event> events) {
    if (events.back().seq() == 2) vfs_.Arm(FaultyVfs::Fault::kFailWrite, 1);
  };
  Engine engine(store->get(), &registry_, options);
  const absl::Status status = engine.Run(kId, SmallWorkflow(), kInput).status();
  ASSERT_TRUE(vfs_.hit());
  vfs_.Disarm();
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  EXPECT_THAT(std::string(status.message()), HasSubstr("workflow 'w'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("seq 3"));
}

// A snapshot is a cache of the fold, not history: saving one waits for no sync, and the durable
// commits after it still sync.
TEST_F(IoFaultTest, SavingASnapshotWaitsForNoSyncAndAppendsAfterItStillSync) {
  const std::string path = NewDatabase("snapshot");
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(path, SqliteOptions());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE(RunSmallWorkflow(**store).ok());
  vfs_.Disarm();
  const absl::Status saved = (*store)->SaveSnapshot(kId, 2, "a snapshot");
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_GT(vfs_.writes(), 0);
  EXPECT_EQ(vfs_.syncs(), 0);
  vfs_.Disarm();
  Event started;
  started.set_seq(1);
  *started.mutable_workflow_started()->mutable_definition() = SmallWorkflow();
  const absl::Status appended = (*store)->Append("after", 0, {started});
  ASSERT_TRUE(appended.ok()) << appended;
  EXPECT_GE(vfs_.syncs(), 1);
}

TEST_F(IoFaultTest, AFaultWhileCreatingTheDatabaseLeavesOneThatOpens) {
  for (const FaultCase& c : kFaults) {
    int fault_points = 0;
    for (int n = 1;; ++n) {
      SCOPED_TRACE(absl::StrCat(c.name, " at ", n));
      const std::string path = NewDatabase(absl::StrCat(c.name, n));
      vfs_.Arm(c.fault, n);
      absl::StatusOr<std::unique_ptr<EventStore>> store =
          OpenSqliteEventStore(path, SqliteOptions());
      const bool hit = vfs_.hit();
      store = absl::UnknownError("closed");  // closed on the failed disk
      vfs_.Disarm();
      if (!hit) break;
      ++fault_points;
      EXPECT_FALSE(store.ok());

      store = OpenSqliteEventStore(path, SqliteOptions());
      ASSERT_TRUE(store.ok()) << "reopening after the disk works again: " << store.status();
      const absl::StatusOr<WorkflowState> run = RunSmallWorkflow(**store);
      EXPECT_TRUE(run.ok()) << run.status();
      store = absl::UnknownError("closed");
      EXPECT_EQ(IntegrityCheck(path), "ok");
    }
    std::printf("io faults while creating the database, %s: %d fault points\n", c.name,
                fault_points);
    EXPECT_GT(fault_points, 0);
  }
}

}  // namespace
}  // namespace chorus
