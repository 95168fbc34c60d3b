#include "event/started_outline.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "gtest/gtest.h"
#include "proto/event.pb.h"

namespace chorus {
namespace {

using ::google::protobuf::internal::WireFormatLite;
using ::testing::ElementsAre;

Event StartedEvent(int64_t seq, const std::vector<std::string>& step_names) {
  Event event;
  event.set_seq(seq);
  event.mutable_recorded_at()->set_seconds(1'700'000'000);
  WorkflowStarted* started = event.mutable_workflow_started();
  started->set_fingerprint("fp");
  started->set_input("in");
  WorkflowDefinition* definition = started->mutable_definition();
  definition->set_name("resize-images");
  definition->add_state()->set_name("count");
  for (const std::string& name : step_names) {
    StepDefinition* step = definition->add_steps();
    step->set_name(name);
    step->set_command("echo " + name);
    step->mutable_retry()->set_max_attempts(3);
    if (definition->steps_size() > 1) step->add_depends_on(definition->steps(0).name());
  }
  return event;
}

// Hand-made wire format, for layouts a serializer does not write.
std::string Tag(int number, WireFormatLite::WireType type) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.WriteTag(WireFormatLite::MakeTag(number, type));
  out.Trim();
  return bytes;
}
std::string Varint(uint64_t value) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.WriteVarint64(value);
  out.Trim();
  return bytes;
}
std::string LengthField(int number, absl::string_view value) {
  return Tag(number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED) + Varint(value.size()) +
         std::string(value);
}
std::string VarintField(int number, uint64_t value) {
  return Tag(number, WireFormatLite::WIRETYPE_VARINT) + Varint(value);
}
// An event whose workflow_started field holds a definition whose steps are `steps`, each the
// bytes of one StepDefinition.
std::string StartedWithSteps(const std::vector<std::string>& steps) {
  std::string definition;
  for (const std::string& step : steps) definition += LengthField(2, step);
  return VarintField(1, 1) + LengthField(10, LengthField(1, definition));
}

std::vector<std::string> NamesOf(const StartedOutline& outline) {
  std::vector<std::string> names;
  outline.ForEachStepName([&names](absl::string_view name) { names.emplace_back(name); });
  return names;
}

// Expects `bytes` to have an outline, and to parse into what it says.
void ExpectOutlineAsParsed(const std::string& bytes) {
  const std::optional<StartedOutline> outline = ReadStartedOutline(bytes);
  ASSERT_TRUE(outline.has_value());
  Event event;
  ASSERT_TRUE(event.ParseFromString(bytes));
  ASSERT_TRUE(event.has_workflow_started());
  EXPECT_EQ(outline->seq, event.seq());
  std::vector<std::string> parsed_names;
  bool has_map_steps = false;
  for (const StepDefinition& step : event.workflow_started().definition().steps()) {
    parsed_names.push_back(step.name());
    has_map_steps = has_map_steps || !step.map_over().empty();
  }
  EXPECT_EQ(outline->steps, static_cast<int>(parsed_names.size()));
  EXPECT_EQ(NamesOf(*outline), parsed_names);
  EXPECT_EQ(outline->has_map_steps, has_map_steps);
}

TEST(ReadStartedOutline, ReadsTheSeqAndTheStepsOffTheBytes) {
  Event event = StartedEvent(1, {"fetch", "resize", "notify"});
  const std::string plain = event.SerializeAsString();
  event.mutable_workflow_started()->mutable_definition()->mutable_steps(1)->set_map_over("fetch");
  const std::string with_map_step = event.SerializeAsString();

  const std::optional<StartedOutline> outline = ReadStartedOutline(plain);
  ASSERT_TRUE(outline.has_value());
  EXPECT_EQ(outline->seq, 1);
  EXPECT_EQ(outline->steps, 3);
  EXPECT_FALSE(outline->has_map_steps);
  EXPECT_THAT(NamesOf(*outline), ElementsAre("fetch", "resize", "notify"));
  outline->ForEachStepName([&plain](absl::string_view name) {
    EXPECT_GE(name.data(), plain.data());
    EXPECT_LE(name.data() + name.size(), plain.data() + plain.size());
  });

  const std::optional<StartedOutline> mapped = ReadStartedOutline(with_map_step);
  ASSERT_TRUE(mapped.has_value());
  EXPECT_TRUE(mapped->has_map_steps);
  EXPECT_THAT(NamesOf(*mapped), ElementsAre("fetch", "resize", "notify"));
}

TEST(ReadStartedOutline, ReadsAStartedEventWithoutStepsOrWithUnnamedOnes) {
  ExpectOutlineAsParsed(StartedEvent(1, {}).SerializeAsString());
  ExpectOutlineAsParsed(StartedWithSteps({"", LengthField(3, "echo")}));
}

TEST(ReadStartedOutline, ReadsWhatAParserReadsInLayoutsNoSerializerWrites) {
  const std::string first = StartedEvent(1, {"a", "b"}).SerializeAsString();
  const std::string second = StartedEvent(7, {"c"}).SerializeAsString();
  struct Case {
    std::string name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      // Fields that occur again merge: the steps append, the seq is the last one.
      {"two events in a row", first + second},
      {"a step named twice", StartedWithSteps({LengthField(1, "x") + LengthField(1, "y")})},
      {"a map step unmapped again",
       StartedWithSteps({LengthField(1, "x") + LengthField(9, "list") + LengthField(9, "")})},
      // A parser keeps a field of the right number and the wrong wire type as unknown.
      {"a name of the wrong wire type",
       StartedWithSteps({LengthField(1, "x") + VarintField(1, 5)})},
      {"a seq of the wrong wire type", first + LengthField(1, "7")},
      {"unknown fields everywhere",
       VarintField(99, 1) +
           LengthField(10, LengthField(98, "?") +
                               LengthField(1, LengthField(97, "?") +
                                                  LengthField(2, LengthField(96, "?") +
                                                                     LengthField(1, "z"))))},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectOutlineAsParsed(c.bytes);
  }
}

TEST(ReadStartedOutline, RefusesWhatIsNotAWholeWorkflowStartedEvent) {
  const std::string started = StartedEvent(1, {"a", "b"}).SerializeAsString();
  Event step_started;
  step_started.set_seq(2);
  step_started.mutable_step_started()->set_step("a");
  struct Case {
    std::string name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"no bytes", ""},
      {"another kind", step_started.SerializeAsString()},
      // A later kind field replaces workflow_started.
      {"workflow_started then another kind", started + step_started.SerializeAsString()},
      {"workflow_started of the wrong wire type", VarintField(10, 1)},
      {"cut short", started.substr(0, started.size() - 3)},
      {"a length past the end",
       started + Tag(10, WireFormatLite::WIRETYPE_LENGTH_DELIMITED) + Varint(1000)},
      {"an end of group never begun", started + Tag(5, WireFormatLite::WIRETYPE_END_GROUP)},
      {"a step that is not a message", StartedWithSteps({"\xff"})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(ReadStartedOutline(c.bytes).has_value());
  }
}

}  // namespace
}  // namespace chorus
