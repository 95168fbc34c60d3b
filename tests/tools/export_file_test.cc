#include "tools/export_file.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

using ::testing::HasSubstr;

// The history of a one-step workflow whose step printed `output`.
std::vector<Event> OneStepHistory(const std::string& output) {
  std::vector<Event> events(4);
  for (int i = 0; i < 4; ++i) events[i].set_seq(i + 1);
  events[0].mutable_workflow_started()->mutable_definition()->add_steps()->set_name("a");
  events[1].mutable_step_started()->set_step("a");
  events[1].mutable_step_started()->set_attempt(1);
  events[2].mutable_step_completed()->set_step("a");
  events[2].mutable_step_completed()->set_attempt(1);
  events[2].mutable_step_completed()->set_output(output);
  events[3].mutable_workflow_completed();
  return events;
}

std::string ExportText(const std::string& id, const std::vector<Event>& events) {
  std::string text;
  for (const Event& event : events) {
    absl::StatusOr<std::string> line = ExportLine(id, event);
    EXPECT_TRUE(line.ok()) << line.status();
    absl::StrAppend(&text, line.value_or(""), "\n");
  }
  return text;
}

TEST(ExportFile, LinesParseBackToTheSameHistory) {
  const std::vector<Event> events = OneStepHistory("out\n\xff");
  absl::StatusOr<ExportedHistory> parsed =
      ParseExport(absl::StrCat("\n", ExportText("w1", events), "  \n"), "w1.jsonl");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->workflow_id, "w1");
  ASSERT_EQ(parsed->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed->events[i], events[i]))
        << parsed->events[i].ShortDebugString();
  }
  EXPECT_TRUE(CheckImportable(*parsed).ok()) << CheckImportable(*parsed);
}

TEST(ExportFile, BadFilesAreRefusedNamingFileAndLine) {
  const std::string first = ExportText("w1", {OneStepHistory("")[0]});
  const struct {
    const char* name;
    std::string text;
    const char* message;
  } cases[] = {
      {"not JSON", first + "{oops\n", "h.jsonl:2: not an exported event"},
      {"unknown field", "{\"workflowId\":\"w1\",\"colour\":1}\n", "h.jsonl:1: not an exported"},
      {"another workflow", first + ExportText("w2", {OneStepHistory("")[1]}),
       "h.jsonl:2: event of workflow 'w2' in the history of 'w1'"},
      {"empty", "\n \n", "h.jsonl: no events"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = ParseExport(c.text, "h.jsonl").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message));
  }
}

TEST(ExportFile, ImportableOnlyWithinTheInvariantsAndDefaultLimits) {
  ExportedHistory broken{"w", OneStepHistory("")};
  broken.events.erase(broken.events.begin() + 1);  // a completion without its start
  const absl::Status unsound = CheckImportable(broken);
  EXPECT_EQ(unsound.code(), absl::StatusCode::kDataLoss) << unsound;
  EXPECT_THAT(unsound.message(), HasSubstr("workflow 'w'"));

  const ExportedHistory at_limit{"w", OneStepHistory(std::string(16 << 20, 'x'))};
  EXPECT_TRUE(CheckImportable(at_limit).ok()) << CheckImportable(at_limit);
  const ExportedHistory over{"w", OneStepHistory(std::string((16 << 20) + 1, 'x'))};
  const absl::Status too_big = CheckImportable(over);
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted) << too_big;
  EXPECT_THAT(too_big.message(), HasSubstr("workflow 'w': seq 3 records 16777217 bytes, more "
                                           "than the payload limit of 16777216"));
}

}  // namespace
}  // namespace chorus
