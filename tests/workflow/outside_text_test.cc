// Text from outside the engine (a step's error, its map items, a caller's id or cancellation
// reason) never makes a history unreadable (event/text.h).
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/load_state.h"
#include "tests/workflow/engine_fixture.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class OutsideTextTest : public EngineTest {
 protected:
  // Every event of `id` as the store gives it back, each also parsed again from its bytes as
  // a store that serializes (SQLite) reads it: a string field that is not UTF-8 fails here.
  std::vector<Event> ReadableEvents(absl::string_view id) {
    std::vector<Event> events = Events(id);
    for (const Event& event : events) {
      Event parsed;
      EXPECT_TRUE(parsed.ParseFromString(event.SerializeAsString())) << event.ShortDebugString();
    }
    return events;
  }
};

TEST_P(OutsideTextTest, AStepErrorThatIsNotUtf8IsRecordedReadably) {
  Register("deploy", [](const StepContext&) -> absl::StatusOr<std::string> {
    return absl::UnknownError("bad \xff bytes, cut \xe2\x82");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> result =
      engine.Run("w", DefinitionBuilder("w").Step("deploy").Build(), "");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnknown);
  const std::vector<Event> events = ReadableEvents("w");
  ASSERT_THAT(Trace("w"), ElementsAre("workflow_started", "step_started deploy#1",
                                      "step_failed deploy#1", "workflow_failed"));
  EXPECT_EQ(events[2].step_failed().error().message(), "bad \\xFF bytes, cut \\xE2\\x82");
  EXPECT_EQ(events[3].workflow_failed().error().message(), "bad \\xFF bytes, cut \\xE2\\x82");
  absl::StatusOr<WorkflowState> folded = LoadWorkflowState(*store_, "w");
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(folded->status, WORKFLOW_STATUS_FAILED);
}

TEST_P(OutsideTextTest, AHugeStepErrorIsCut) {
  Register("deploy", [](const StepContext&) -> absl::StatusOr<std::string> {
    return absl::UnknownError(std::string(40 << 20, 'e'));
  });
  Engine engine(store_.get(), &registry_);
  EXPECT_FALSE(engine.Run("w", DefinitionBuilder("w").Step("deploy").Build(), "").ok());
  const std::vector<Event> events = ReadableEvents("w");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_LE(events[2].step_failed().error().message().size(), kMaxRecordedTextBytes);
  EXPECT_LE(events[3].workflow_failed().error().message().size(), kMaxRecordedTextBytes);
}

// A map over lines that are not text: each instance gets its item's exact bytes, and the
// history carries them as bytes.
TEST_P(OutsideTextTest, MapItemsThatAreNotTextAreCarriedAsBytes) {
  const std::vector<std::string> items = {"a.txt", "caf\xe9.txt", std::string("\xff\x00\xfe", 3)};
  Register("list", [&](const StepContext&) {
    return Ok(absl::StrCat(items[0], "\n", items[1], "\n", items[2], "\n"));
  });
  Register("each", [](const StepContext& context) { return Ok(context.map_item()); });
  WorkflowDefinition definition =
      DefinitionBuilder("w").Step("list").Step("each", {"list"}).Build();
  definition.mutable_steps(1)->set_map_over("list");
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> result = engine.Run("w", definition, "");
  ASSERT_TRUE(result.ok()) << result.status();
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(result->FindStep(absl::StrCat("each[", i, "]"))->output, items[i]);
  }
  bool expanded = false;
  for (const Event& event : ReadableEvents("w")) {
    if (!event.has_step_expanded()) continue;
    expanded = true;
    EXPECT_THAT(event.step_expanded().items(), IsEmpty());
    EXPECT_THAT(event.step_expanded().item_bytes(), ElementsAre(items[0], items[1], items[2]));
  }
  EXPECT_TRUE(expanded);
  absl::StatusOr<WorkflowState> folded = LoadWorkflowState(*store_, "w");
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(folded->FindStep("each[1]")->details().map_item, items[1]);
}

TEST_P(OutsideTextTest, MapItemsThatAreTextStayText) {
  Register("list", [](const StepContext&) { return Ok("r\xc3\xa9sum\xc3\xa9\nb\n"); });
  Register("each", [](const StepContext& context) { return Ok(context.map_item()); });
  WorkflowDefinition definition =
      DefinitionBuilder("w").Step("list").Step("each", {"list"}).Build();
  definition.mutable_steps(1)->set_map_over("list");
  Engine engine(store_.get(), &registry_);
  ASSERT_TRUE(engine.Run("w", definition, "").ok());
  for (const Event& event : ReadableEvents("w")) {
    if (!event.has_step_expanded()) continue;
    EXPECT_THAT(event.step_expanded().items(), ElementsAre("r\xc3\xa9sum\xc3\xa9", "b"));
    EXPECT_THAT(event.step_expanded().item_bytes(), IsEmpty());
  }
}

TEST_P(OutsideTextTest, AnIdThatIsNotANameStartsNothing) {
  Register("a", [](const StepContext&) { return Ok(""); });
  Engine engine(store_.get(), &registry_);
  for (const std::string& id : {std::string(""), std::string("\xff"), std::string("a\nb"),
                                std::string("\x1b[31mred"), std::string("nul\0", 4)}) {
    SCOPED_TRACE(testing::PrintToString(id));
    absl::StatusOr<WorkflowState> result =
        engine.Run(id, DefinitionBuilder("w").Step("a").Build(), "");
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("workflow id"));
  }
  absl::StatusOr<std::vector<WorkflowSummary>> listed = store_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(*listed, IsEmpty());
}

// Names accepted before the rule for names existed stay usable: such a workflow resumes.
TEST_P(OutsideTextTest, AWorkflowRecordedWithNamesNowRefusedStillResumes) {
  WorkflowDefinition definition =
      DefinitionBuilder("old\x1b").Step("a\nb").Step("c", {"a\nb"}).Build();
  const std::string id = "id\x1b[0m";
  Seed(id, {Started(definition), StepStartedEvent("a\nb", 1)});
  Register("a\nb", [](const StepContext&) { return Ok("x"); });
  Register("c", [](const StepContext&) { return Ok("y"); });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> result = engine.Resume(id);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, WORKFLOW_STATUS_COMPLETED);
  EXPECT_EQ(result->FindStep("a\nb")->attempts, 2);
}

TEST_P(OutsideTextTest, ACancellationReasonThatIsNotUtf8IsRecordedReadably) {
  Register("a", [](const StepContext& context) { return WaitForCancellation(context); });
  Engine engine(store_.get(), &registry_);
  CancellationToken token;
  token.Cancel("stopped by \xff");
  EXPECT_EQ(engine.Run("w", DefinitionBuilder("w").Step("a").Build(), "", token).status().code(),
            absl::StatusCode::kCancelled);
  const std::vector<Event> events = ReadableEvents("w");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().workflow_cancelled().reason(), "stopped by \\xFF");
}

TEST_P(OutsideTextTest, AStateUpdateThatIsNotTextFailsItsStep) {
  Register("a", [](StepContext& context) -> absl::StatusOr<std::string> {
    Value value;
    value.set_text("caf\xe9");
    if (absl::Status updated = context.UpdateState("name", value); !updated.ok()) return updated;
    return std::string("done");
  });
  Engine engine(store_.get(), &registry_);
  absl::StatusOr<WorkflowState> result =
      engine.Run("w", DefinitionBuilder("w").Step("a").Build(), "");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("state key 'name': the value is not valid UTF-8"));
  ReadableEvents("w");
}

TEST_P(OutsideTextTest, ALogDirectoryThatIsNotUtf8IsRefused) {
  Register("a", [](const StepContext&) { return Ok(""); });
  EngineOptions options;
  options.log_directory = "/logs/\xe9t\xe9";
  Engine engine(store_.get(), &registry_, options);
  absl::StatusOr<WorkflowState> result =
      engine.Run("w", DefinitionBuilder("w").Step("a").Build(), "");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("\"/logs/\\xE9t\\xE9\""));
  EXPECT_TRUE(Events("w").empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, OutsideTextTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite), StoreName);

}  // namespace
}  // namespace chorus
