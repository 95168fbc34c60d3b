// A fault of the driver's own (MarkDriverFault) is never charged to a step: the run stops,
// records nothing of the attempt, and a resume once the cause is fixed finishes the workflow.
#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/load_state.h"
#include "tests/workflow/engine_fixture.h"
#include "workflow/definition.h"
#include "workflow/engine.h"
#include "workflow/step_registry.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DriverFaultTest : public EngineTest {};

absl::Status DiskFull() {
  return MarkDriverFault(
      absl::ResourceExhaustedError("writing /logs/w/b.1.log: No space left on device"));
}

TEST_P(DriverFaultTest, StopsTheRunRecordingNothingOfTheAttemptAndAResumeFinishes) {
  std::atomic<bool> disk_full{true};
  Register("a", [](const StepContext&) { return Ok("a"); });
  Register("b", [&](const StepContext&) -> absl::StatusOr<std::string> {
    if (disk_full) return DiskFull();
    return std::string("b");
  });
  Register("c", [](const StepContext&) { return Ok("c"); });
  // b has no retries to use up: a fault charged to it would fail the workflow.
  WorkflowDefinition definition =
      DefinitionBuilder("w").Step("a").Step("b", {"a"}).Step("c", {"b"}).Build();
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> stopped = engine.Run("w", definition, "");
  ASSERT_FALSE(stopped.ok());
  EXPECT_TRUE(IsDriverFault(stopped.status())) << stopped.status();
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(stopped.status().message()),
              HasSubstr("workflow 'w' stopped: step 'b' (attempt 1) could not run: writing "
                        "/logs/w/b.1.log: No space left on device"));
  EXPECT_THAT(Trace("w"), ElementsAre("workflow_started", "step_started a#1", "step_completed a#1",
                                      "step_started b#1"));
  absl::StatusOr<WorkflowState> recorded = LoadWorkflowState(*store_, "w");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->status, WORKFLOW_STATUS_RUNNING);

  disk_full = false;  // the cause is fixed
  absl::StatusOr<WorkflowState> resumed = engine.Resume("w");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->status, WORKFLOW_STATUS_COMPLETED);
  EXPECT_THAT(Trace("w"),
              ElementsAre("workflow_started", "step_started a#1", "step_completed a#1",
                          "step_started b#1", "step_started b#2", "step_completed b#2",
                          "step_started c#1", "step_completed c#1", "workflow_completed"));
}

// The siblings a fault stops are left cut off as well, and run again on resume; what had
// completed stays completed.
TEST_P(DriverFaultTest, SiblingsItStopsAreLeftToRunAgain) {
  std::atomic<bool> disk_full{true};
  Register("fast", [](const StepContext&) { return Ok("fast"); });
  Register("slow", [&](const StepContext& context) -> absl::StatusOr<std::string> {
    if (disk_full) return WaitForCancellation(context);
    return std::string("slow");
  });
  Register("faulty", [&](const StepContext&) -> absl::StatusOr<std::string> {
    if (disk_full) return DiskFull();
    return std::string("faulty");
  });
  WorkflowDefinition definition =
      DefinitionBuilder("w").Step("fast").Step("slow").Step("faulty").Build();
  for (ScheduleMode mode : {ScheduleMode::kEager, ScheduleMode::kWave}) {
    SCOPED_TRACE(mode == ScheduleMode::kEager ? "eager" : "wave");
    disk_full = true;
    const std::string id = mode == ScheduleMode::kEager ? "eager" : "wave";
    Engine engine(store_.get(), &registry_, Options(4, mode));
    absl::StatusOr<WorkflowState> stopped = engine.Run(id, definition, "");
    ASSERT_TRUE(IsDriverFault(stopped.status())) << stopped.status();
    absl::StatusOr<WorkflowState> recorded = LoadWorkflowState(*store_, id);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    EXPECT_EQ(recorded->status, WORKFLOW_STATUS_RUNNING);
    EXPECT_EQ(recorded->FindStep("fast")->status, StepStatus::kCompleted);
    EXPECT_EQ(recorded->FindStep("slow")->status, StepStatus::kRunning);  // cut off
    EXPECT_EQ(recorded->FindStep("faulty")->status, StepStatus::kRunning);

    disk_full = false;
    absl::StatusOr<WorkflowState> resumed = engine.Resume(id);
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    EXPECT_EQ(resumed->FindStep("fast")->attempts, 1);
    EXPECT_EQ(resumed->FindStep("slow")->attempts, 2);
    EXPECT_EQ(resumed->FindStep("faulty")->attempts, 2);
  }
}

// A step's own failure in the same run is still recorded as the step's.
TEST_P(DriverFaultTest, AStepsOwnFailureIsStillRecorded) {
  Register("fails", [](const StepContext&) -> absl::StatusOr<std::string> {
    return absl::UnknownError("exit 1");
  });
  WorkflowDefinition definition = DefinitionBuilder("w").Step("fails").Build();
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> result = engine.Run("w", definition, "");
  EXPECT_FALSE(IsDriverFault(result.status()));
  EXPECT_THAT(Trace("w"), ElementsAre("workflow_started", "step_started fails#1",
                                      "step_failed fails#1", "workflow_failed"));
}

INSTANTIATE_TEST_SUITE_P(Stores, DriverFaultTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite), StoreName);

}  // namespace
}  // namespace chorus
