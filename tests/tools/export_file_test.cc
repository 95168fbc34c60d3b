#include "tools/export_file.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "workflow/definition.h"
#include "workflow/engine_options.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The largest payload import takes: the engine's by default.
size_t PayloadLimit() { return EngineOptions().max_payload_bytes; }

// `definition` with the fingerprint the engine records for it.
WorkflowStarted StartedWith(const WorkflowDefinition& definition) {
  WorkflowStarted started;
  *started.mutable_definition() = definition;
  started.set_fingerprint(Fingerprint(definition));
  return started;
}

// The history of a one-step workflow whose step printed `output`.
std::vector<Event> OneStepHistory(const std::string& output) {
  std::vector<Event> events(4);
  for (int i = 0; i < 4; ++i) events[i].set_seq(i + 1);
  *events[0].mutable_workflow_started() = StartedWith(DefinitionBuilder("one").Step("a").Build());
  events[1].mutable_step_started()->set_step("a");
  events[1].mutable_step_started()->set_attempt(1);
  events[2].mutable_step_completed()->set_step("a");
  events[2].mutable_step_completed()->set_attempt(1);
  events[2].mutable_step_completed()->set_output(output);
  events[3].mutable_workflow_completed();
  return events;
}

// OneStepHistory's, with its step's attempt failed (`message`) and then the workflow.
std::vector<Event> FailedHistory(const std::string& message) {
  std::vector<Event> events = OneStepHistory("");
  StepFailed* failed = events[2].mutable_step_failed();
  failed->set_step("a");
  failed->set_attempt(1);
  failed->mutable_error()->set_code(2);
  failed->mutable_error()->set_message(message);
  events[3].mutable_workflow_failed()->set_step("a");
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

// `events` of workflow "w" as `chorus import` reads them from the file h.jsonl, whose first
// line is blank: seq N is on line N + 1.
ExportedHistory Imported(const std::vector<Event>& events) {
  absl::StatusOr<ExportedHistory> parsed =
      ParseExport(absl::StrCat("\n", ExportText("w", events)), "h.jsonl");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.value_or(ExportedHistory());
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

// A workflow id goes into JSON as a string, which protobuf's printer writes lossily when it is
// not UTF-8: the file would import as another workflow.
TEST(ExportFile, LineRefusesAWorkflowIdThatIsNotAName) {
  const struct {
    const char* name;
    std::string id;
    const char* message;
  } cases[] = {
      {"not UTF-8", "w\xff", "workflow id \"w\\xFF\" is not valid UTF-8"},
      {"a control character", "w\t1", "workflow id \"w\\t1\" contains a control character"},
      {"empty", "", "workflow id \"\" is empty"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<std::string> line = ExportLine(c.id, OneStepHistory("")[0]);
    EXPECT_EQ(line.status().code(), absl::StatusCode::kInvalidArgument) << line.status();
    EXPECT_THAT(line.status().message(), HasSubstr(c.message));
  }
}

TEST(ExportFile, ImportableUpToTheDefaultLimits) {
  const struct {
    const char* name;
    std::vector<Event> events;
  } cases[] = {
      {"an output at the payload limit", OneStepHistory(std::string(PayloadLimit(), 'x'))},
      {"an error message at the text limit",
       FailedHistory(std::string(kMaxRecordedTextBytes, 'x'))},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status importable = CheckImportable(Imported(c.events));
    EXPECT_TRUE(importable.ok()) << importable;
  }
}

// Changes of OneStepHistory or FailedHistory that no engine could have recorded. Each is
// refused naming the file's line, the seq and the field.
TEST(ExportFile, ImportRefusesWhatTheEngineCouldNotHaveRecorded) {
  const std::string too_long(kMaxRecordedTextBytes + 1, 'x');
  const std::string fingerprint = Fingerprint(DefinitionBuilder("one").Step("a").Build());
  const struct {
    const char* name;
    std::vector<Event> events;
    std::function<void(std::vector<Event>&)> change;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {"a seq out of place", OneStepHistory(""),
       [](std::vector<Event>& events) { events.erase(events.begin() + 1); },
       absl::StatusCode::kDataLoss, "h.jsonl:3: workflow 'w', seq 3: expected seq 2"},
      {"a definition with a cycle", OneStepHistory(""),
       [](std::vector<Event>& events) {
         *events[0].mutable_workflow_started() =
             StartedWith(DefinitionBuilder("one").Step("a", {"b"}).Step("b", {"a"}).Build());
       },
       absl::StatusCode::kInvalidArgument,
       "h.jsonl:2: workflow 'w', seq 1: workflow_started.definition: workflow definition 'one' "
       "is invalid:\n  cycle: a -> b -> a"},
      {"another definition's fingerprint", OneStepHistory(""),
       [](std::vector<Event>& events) {
         events[0].mutable_workflow_started()->set_fingerprint("0123456789abcdef");
       },
       absl::StatusCode::kDataLoss,
       absl::StrCat("h.jsonl:2: workflow 'w', seq 1: workflow_started.fingerprint is "
                    "0123456789abcdef, but the recorded definition's is ",
                    fingerprint)},
      {"an input over the payload limit", OneStepHistory(""),
       [](std::vector<Event>& events) {
         events[0].mutable_workflow_started()->set_input(std::string(PayloadLimit() + 1, 'x'));
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:2: workflow 'w', seq 1: workflow_started.input: ", PayloadLimit() + 1,
                    " bytes, more than the payload limit of ", PayloadLimit())},
      {"an output over the payload limit", OneStepHistory(std::string(PayloadLimit() + 1, 'x')),
       [](std::vector<Event>&) {}, absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:4: workflow 'w', seq 3: step_completed.output and state_updates: ",
                    PayloadLimit() + 1, " bytes, more than the payload limit of ", PayloadLimit())},
      {"state updates that take the output over the payload limit",
       OneStepHistory(std::string(PayloadLimit() - 8, 'x')),
       [](std::vector<Event>& events) {
         StateUpdate* update = events[2].mutable_step_completed()->add_state_updates();
         update->set_key("k");
         update->mutable_value()->set_text("12345678");
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("step_completed.output and state_updates: ", PayloadLimit() + 7, " bytes")},
      {"a state key that is not a name", OneStepHistory(""),
       [](std::vector<Event>& events) {
         events[2].mutable_step_completed()->add_state_updates()->set_key("k\n");
       },
       absl::StatusCode::kInvalidArgument,
       "h.jsonl:4: workflow 'w', seq 3: step_completed.state_updates[0].key \"k\\n\" contains a "
       "control character"},
      {"a final state key that is not a name", OneStepHistory(""),
       [](std::vector<Event>& events) {
         events[3].mutable_workflow_completed()->add_final_state();
       },
       absl::StatusCode::kInvalidArgument,
       "h.jsonl:5: workflow 'w', seq 4: workflow_completed.final_state[0].key \"\" is empty"},
      {"a failed step that is not a name", OneStepHistory(""),
       [](std::vector<Event>& events) {
         events[3].mutable_workflow_completed()->add_failed_steps("a\x7f");
       },
       absl::StatusCode::kInvalidArgument,
       "h.jsonl:5: workflow 'w', seq 4: workflow_completed.failed_steps[0] \"a\\x7F\" contains a "
       "control character"},
      {"a step named with a control character", OneStepHistory(""),
       [](std::vector<Event>& events) {
         *events[0].mutable_workflow_started() =
             StartedWith(DefinitionBuilder("one").Step("a\x01").Build());
         events[1].mutable_step_started()->set_step("a\x01");
         events[2].mutable_step_completed()->set_step("a\x01");
       },
       absl::StatusCode::kInvalidArgument, "\"a\\x01\" contains a control character"},
      {"a resource that is not a name", OneStepHistory(""),
       [](std::vector<Event>& events) {
         Event blocked;
         blocked.mutable_step_blocked()->set_step("a");
         events.insert(events.begin() + 1, blocked);
         for (size_t i = 0; i < events.size(); ++i) events[i].set_seq(i + 1);
       },
       absl::StatusCode::kInvalidArgument,
       "h.jsonl:3: workflow 'w', seq 2: step_blocked.resource \"\" is empty"},
      {"an error message over the text limit", FailedHistory(too_long), [](std::vector<Event>&) {},
       absl::StatusCode::kResourceExhausted,
       absl::StrCat(
           "h.jsonl:4: workflow 'w', seq 3: step_failed.error.message: ", kMaxRecordedTextBytes + 1,
           " bytes, more than the limit of ", kMaxRecordedTextBytes, " for recorded text")},
      {"a workflow's error message over the text limit", FailedHistory(""),
       [&too_long](std::vector<Event>& events) {
         events[3].mutable_workflow_failed()->mutable_error()->set_message(too_long);
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:5: workflow 'w', seq 4: workflow_failed.error.message: ",
                    kMaxRecordedTextBytes + 1, " bytes")},
      {"a failing step that is not a name", FailedHistory(""),
       [](std::vector<Event>& events) { events[3].mutable_workflow_failed()->set_step("a\n"); },
       absl::StatusCode::kInvalidArgument,
       "h.jsonl:5: workflow 'w', seq 4: workflow_failed.step \"a\\n\" contains a control"},
      {"a cancellation reason over the text limit", OneStepHistory(""),
       [&too_long](std::vector<Event>& events) {
         StepCancelled* cancelled = events[2].mutable_step_cancelled();
         cancelled->set_step("a");
         cancelled->set_attempt(1);
         cancelled->set_reason(too_long);
         events[3].mutable_workflow_cancelled();
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:4: workflow 'w', seq 3: step_cancelled.reason: ",
                    kMaxRecordedTextBytes + 1, " bytes")},
      {"a workflow's cancellation reason over the text limit", OneStepHistory(""),
       [&too_long](std::vector<Event>& events) {
         events[2].mutable_step_cancelled()->set_step("a");
         events[2].mutable_step_cancelled()->set_attempt(1);
         events[3].mutable_workflow_cancelled()->set_reason(too_long);
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:5: workflow 'w', seq 4: workflow_cancelled.reason: ",
                    kMaxRecordedTextBytes + 1, " bytes")},
      {"a skip reason over the text limit", OneStepHistory(""),
       [&too_long](std::vector<Event>& events) {
         events[1].mutable_step_skipped()->set_step("a");
         events[1].mutable_step_skipped()->set_reason(too_long);
         events[2].mutable_workflow_completed();
         events.pop_back();
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:3: workflow 'w', seq 2: step_skipped.reason: ",
                    kMaxRecordedTextBytes + 1, " bytes")},
      {"map items over the payload limit", OneStepHistory(""),
       [](std::vector<Event>& events) {
         WorkflowDefinition definition =
             DefinitionBuilder("one").Step("a").Step("m", {"a"}).Build();
         definition.mutable_steps(1)->set_map_over("a");
         *events[0].mutable_workflow_started() = StartedWith(definition);
         events[3].mutable_step_started()->set_step("m");
         events[3].mutable_step_started()->set_attempt(1);
         Event expanded;
         expanded.set_seq(5);
         expanded.mutable_step_expanded()->set_step("m");
         expanded.mutable_step_expanded()->add_items(std::string(PayloadLimit() / 2, 'x'));
         expanded.mutable_step_expanded()->add_items(std::string(PayloadLimit() / 2 + 1, 'y'));
         events.push_back(expanded);
       },
       absl::StatusCode::kResourceExhausted,
       absl::StrCat("h.jsonl:6: workflow 'w', seq 5: step_expanded.items: ", PayloadLimit() + 1,
                    " bytes, more than the payload limit of ", PayloadLimit())},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Event> events = c.events;
    c.change(events);
    const absl::Status importable = CheckImportable(Imported(events));
    EXPECT_EQ(importable.code(), c.code) << importable;
    EXPECT_THAT(importable.message(), HasSubstr(c.message));
  }
}

// A workflow id comes from the line's workflowId, which ExportLine will not write.
TEST(ExportFile, ImportRefusesAWorkflowIdThatIsNotAName) {
  const std::string text = absl::StrReplaceAll(
      ExportText("w", OneStepHistory("")), {{"\"workflowId\":\"w\"", "\"workflowId\":\"w\\t\""}});
  absl::StatusOr<ExportedHistory> parsed = ParseExport(text, "h.jsonl");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const absl::Status importable = CheckImportable(*parsed);
  EXPECT_EQ(importable.code(), absl::StatusCode::kInvalidArgument) << importable;
  EXPECT_THAT(importable.message(),
              HasSubstr("h.jsonl:1: workflow id \"w\\t\" contains a control character"));
}

// JSON cannot carry text that is not UTF-8 (ParseExport refuses it), but a history handed to
// CheckImportable may hold some.
TEST(ExportFile, ImportRefusesRecordedTextThatIsNotUtf8) {
  ExportedHistory history = Imported(FailedHistory(""));
  history.events[2].mutable_step_failed()->mutable_error()->set_message("boom \xff");
  const absl::Status importable = CheckImportable(history);
  EXPECT_EQ(importable.code(), absl::StatusCode::kInvalidArgument) << importable;
  EXPECT_THAT(importable.message(),
              AllOf(HasSubstr("h.jsonl:4: workflow 'w', seq 3: step_failed.error.message"),
                    HasSubstr("is not valid UTF-8")));
}

}  // namespace
}  // namespace chorus
