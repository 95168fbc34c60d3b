#include "storage/internal/recorded_event.h"

#include <string>

#include "event/text.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/event.pb.h"

namespace chorus {
namespace {

// The bytes an earlier version wrote for `event`: protobuf serializes a `string` field that is
// not UTF-8 as it is (and only logs), then refuses to parse it.
std::string AsAnEarlierVersionWroteIt(const Event& event) {
  google::protobuf::LogSilencer silence;
  return event.SerializeAsString();
}

TEST(ParseRecordedEvent, ParsesAValidEventAsProtobufDoes) {
  Event event;
  event.set_seq(3);
  event.mutable_step_completed()->set_step("r\xc3\xa9sum\xc3\xa9");
  event.mutable_step_completed()->set_output(std::string("\xff\x00", 2));
  Event parsed;
  ASSERT_TRUE(ParseRecordedEvent(event.SerializeAsString(), &parsed));
  EXPECT_EQ(parsed.SerializeAsString(), event.SerializeAsString());
}

TEST(ParseRecordedEvent, ReadsTextThatIsNotUtf8AsRecordableTextAtAnyDepth) {
  Event failed;
  failed.set_seq(4);
  failed.mutable_step_failed()->set_step("deploy");
  failed.mutable_step_failed()->mutable_error()->set_message("bad \xff bytes, cut \xe2\x82");
  failed.mutable_step_failed()->set_attempt(2);

  Event started;
  started.set_seq(1);
  WorkflowDefinition* definition = started.mutable_workflow_started()->mutable_definition();
  definition->set_name("w");
  definition->add_steps()->set_name("a\xff");
  definition->mutable_steps(0)->add_depends_on("\xfe");
  definition->mutable_steps(0)->set_command("echo \xe9t\xe9");
  started.mutable_workflow_started()->set_input(std::string("\xff", 1));  // bytes: kept

  Event expanded;
  expanded.set_seq(5);
  expanded.mutable_step_expanded()->set_step("each");
  expanded.mutable_step_expanded()->add_items("ok");
  expanded.mutable_step_expanded()->add_items("\xff\xfe");

  struct Row {
    const char* label;
    const Event& event;
    const char* expected;  // text format of the parsed event
  };
  const Row kRows[] = {
      {"an error message", failed,
       R"pb(seq: 4
            step_failed {
              step: "deploy"
              attempt: 2
              error { message: "bad \\xFF bytes, cut \\xE2\\x82" }
            })pb"},
      {"names deep in the definition", started,
       R"pb(seq: 1
            workflow_started {
              definition {
                name: "w"
                steps { name: "a\\xFF" depends_on: "\\xFE" command: "echo \\xE9t\\xE9" }
              }
              input: "\377"
            })pb"},
      {"repeated map items", expanded,
       R"pb(seq: 5
            step_expanded { step: "each" items: "ok" items: "\\xFF\\xFE" })pb"},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.label);
    const std::string stored = AsAnEarlierVersionWroteIt(row.event);
    {
      google::protobuf::LogSilencer silence;
      Event strict;
      ASSERT_FALSE(strict.ParseFromString(stored)) << "protobuf now parses it: nothing to repair";
    }
    google::protobuf::LogSilencer silence;
    Event parsed;
    ASSERT_TRUE(ParseRecordedEvent(stored, &parsed));
    Event expected;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(row.expected, &expected));
    EXPECT_EQ(parsed.ShortDebugString(), expected.ShortDebugString());
    Event again;
    EXPECT_TRUE(again.ParseFromString(parsed.SerializeAsString()));
  }
}

TEST(ParseRecordedEvent, RefusesBytesThatAreNoEvent) {
  google::protobuf::LogSilencer silence;
  Event event;
  EXPECT_FALSE(
      ParseRecordedEvent("\x0a\x05"
                         "ab",
                         &event));                                           // cut short
  EXPECT_FALSE(ParseRecordedEvent(std::string("\xff\xff\xff", 3), &event));  // no field
  // A field the schema calls a message that holds no message.
  EXPECT_FALSE(ParseRecordedEvent("\x52\x02\xff\xff", &event));
}

}  // namespace
}  // namespace chorus
