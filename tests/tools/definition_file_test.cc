#include "tools/definition_file.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string ExamplePath(absl::string_view file_name) {
  return absl::StrCat(CHORUS_SOURCE_DIR, "/tools/examples/", file_name);
}

// Writes `text` to `file_name` in the test's temporary directory; returns the path.
std::string WriteTempFile(absl::string_view file_name, absl::string_view text) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", file_name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

WorkflowDefinition ParseOrDie(absl::string_view text, DefinitionFormat format) {
  absl::StatusOr<WorkflowDefinition> definition = ParseDefinition(text, "test", format);
  EXPECT_TRUE(definition.ok()) << definition.status();
  return definition.value_or(WorkflowDefinition());
}

std::vector<std::string> StepNames(const WorkflowDefinition& definition) {
  std::vector<std::string> names;
  for (const StepDefinition& step : definition.steps()) names.push_back(step.name());
  return names;
}

TEST(ParseDefinition, ReadsDot) {
  WorkflowDefinition definition = ParseOrDie(R"dot(
    digraph etl {
      extract [cmd="curl -s \"$URL\""];
      split [type=fan_out];
      left [cmd="cut -f1 \"$CHORUS_DEP_EXTRACT\""];
      right [cmd="cut -f2 \"$CHORUS_DEP_EXTRACT\""];
      join [type=fan_in];
      extract -> split -> {left right} -> join;
    })dot",
                                             DefinitionFormat::kDot);
  WorkflowDefinition expected;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "etl"
        steps { name: "extract" command: "curl -s \"$URL\"" }
        steps { name: "split" depends_on: "extract" kind: STEP_KIND_FAN_OUT }
        steps { name: "left" depends_on: "split" command: "cut -f1 \"$CHORUS_DEP_EXTRACT\"" }
        steps { name: "right" depends_on: "split" command: "cut -f2 \"$CHORUS_DEP_EXTRACT\"" }
        steps {
          name: "join"
          depends_on: [ "left", "right" ]
          kind: STEP_KIND_FAN_IN
        }
      )pb",
      &expected));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition, expected))
      << definition.DebugString();
}

TEST(ParseDefinition, KeepsDotNodesInTheOrderTheyFirstAppear) {
  WorkflowDefinition definition = ParseOrDie(R"dot(
    digraph w {
      c -> a;
      b [cmd="echo b"];
      a [cmd="echo a"];
      c [cmd="echo c"];
      b -> a;
      c -> a;
    })dot",
                                             DefinitionFormat::kDot);
  EXPECT_THAT(StepNames(definition), ElementsAre("c", "a", "b"));
  // Dependencies in definition order; the repeated edge c -> a adds nothing.
  EXPECT_THAT(definition.steps(1).depends_on(), ElementsAre("c", "b"));
}

TEST(ParseDefinition, NamesTheWorkflowAfterTheDotGraph) {
  struct Case {
    const char* dot;
    const char* name;
  };
  constexpr Case kCases[] = {
      {"digraph pipeline { a [cmd=x] }", "pipeline"},
      {"digraph pipeline { label=\"nightly build\"; a [cmd=x] }", "nightly build"},
      {"strict digraph \"two words\" { a [cmd=x] }", "two words"},
      {"digraph { a [cmd=x] }", ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.dot);
    EXPECT_EQ(ParseOrDie(c.dot, DefinitionFormat::kDot).name(), c.name);
  }
}

TEST(ParseDefinition, ReadsTextProto) {
  WorkflowDefinition definition =
      ParseOrDie(R"pb(
                   name: "w"
                   steps { name: "a" command: "echo a" }
                   steps { name: "b" depends_on: "a" kind: STEP_KIND_FAN_IN }
                 )pb",
                 DefinitionFormat::kTextProto);
  EXPECT_EQ(definition.name(), "w");
  EXPECT_THAT(StepNames(definition), ElementsAre("a", "b"));
  EXPECT_EQ(definition.steps(0).command(), "echo a");
  EXPECT_EQ(definition.steps(1).kind(), STEP_KIND_FAN_IN);
}

TEST(ParseDefinition, NamesTheFileAndWhereEachErrorIs) {
  struct Case {
    const char* name;
    DefinitionFormat format;
    const char* text;
    const char* message;
  };
  constexpr Case kCases[] = {
      {"DOT syntax error", DefinitionFormat::kDot, "digraph p {\n  a [cmd=x];\n  a -> -> b\n}",
       "p.dot:3: syntax error near '->'"},
      {"DOT unterminated string", DefinitionFormat::kDot, "digraph p {\n  a [cmd=\"x]\n}\n",
       "p.dot:2: syntax error scanning a quoted string (missing endquote? longer than 16384?)"},
      {"DOT ambiguity", DefinitionFormat::kDot, "digraph p {\n  a -> 1a\n}",
       "p.dot:2: syntax ambiguity - badly delimited number '1a' splits into two tokens"},
      {"no graph", DefinitionFormat::kDot, "  \n", "p.dot: no graph found"},
      {"node without cmd", DefinitionFormat::kDot,
       "digraph p { a [cmd=\"echo\"]; report; a -> report }",
       "p.dot: node 'report' has no cmd attribute"},
      {"node with empty cmd", DefinitionFormat::kDot, "digraph p { a [cmd=\"\"] }",
       "p.dot: node 'a' has no cmd attribute"},
      {"fan node with cmd", DefinitionFormat::kDot,
       "digraph p { split [type=fan_out, cmd=\"echo\"] }",
       "p.dot: node 'split' is a fan_out step and must not have a cmd attribute"},
      {"unknown type", DefinitionFormat::kDot, "digraph p { a [type=fanout] }",
       "p.dot: node 'a' has unknown type 'fanout' (expected fan_out or fan_in)"},
      {"undirected graph", DefinitionFormat::kDot, "graph p { a [cmd=x]; b [cmd=y]; a -- b }",
       "p.dot: the graph is undirected; a workflow is a digraph"},
      {"text format syntax error", DefinitionFormat::kTextProto,
       "name: \"w\"\nsteps {\n  name: \"a\"\n  depends_on \"b\"\n}\n",
       "p.dot:4:14: Expected \":\", found \"\"b\"\"."},
      {"text format unknown field", DefinitionFormat::kTextProto, "name: \"w\"\n  cmd: \"x\"\n",
       "p.dot:2:6: Message type \"chorus.WorkflowDefinition\" has no field named \"cmd\"."},
      // Protobuf places this error at the token after the value.
      {"text format unknown kind", DefinitionFormat::kTextProto,
       "steps { name: \"a\"\n  kind: FAN_OUT }",
       "p.dot:2:17: Unknown enumeration value of \"FAN_OUT\" for field \"kind\"."},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<WorkflowDefinition> definition = ParseDefinition(c.text, "p.dot", c.format);
    EXPECT_EQ(definition.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(definition.status().message()), c.message);
  }
}

// Graphviz's lexer is global: what one parse leaves behind (an error, a line count, the rest
// of the last line) must not leak into the next.
TEST(ParseDefinition, StartsEachDotParseAfresh) {
  EXPECT_FALSE(ParseDefinition("digraph p {\n\n -> }", "p.dot", DefinitionFormat::kDot).ok());
  EXPECT_EQ(std::string(ParseDefinition("digraph q {\n a [cmd=x];\n b -> }", "q.dot",
                                        DefinitionFormat::kDot)
                            .status()
                            .message()),
            "q.dot:3: syntax error near '}'");
  EXPECT_TRUE(ParseDefinition("digraph r { a [cmd=x] } digraph s { b }\n\n", "r.dot",
                              DefinitionFormat::kDot)
                  .ok());
  absl::StatusOr<WorkflowDefinition> t =
      ParseDefinition("digraph t {\n a [cmd=x] -> }", "t.dot", DefinitionFormat::kDot);
  EXPECT_EQ(std::string(t.status().message()), "t.dot:2: syntax error near '->'");
  EXPECT_EQ(ParseOrDie("digraph u { a [cmd=x] }", DefinitionFormat::kDot).name(), "u");
}

TEST(GuessDefinitionFormat, GoesByExtensionThenByContent) {
  struct Case {
    const char* file_name;
    const char* text;
    DefinitionFormat format;
  };
  constexpr Case kCases[] = {
      {"w.dot", "name: 'w'", DefinitionFormat::kDot},
      {"w.GV", "", DefinitionFormat::kDot},
      {"w.textproto", "digraph w {}", DefinitionFormat::kTextProto},
      {"w.txtpb", "", DefinitionFormat::kTextProto},
      {"w.pbtxt", "", DefinitionFormat::kTextProto},
      {"w", "digraph w {}", DefinitionFormat::kDot},
      {"dir.dot/w.txt", "strict digraph w {}", DefinitionFormat::kDot},
      {"w", "  // a pipeline\n/* two\nlines */ # line\nDiGraph{}", DefinitionFormat::kDot},
      {"w", "graph w { a -- b }", DefinitionFormat::kDot},
      {"w", "# proto-message: chorus.WorkflowDefinition\nname: 'w'", DefinitionFormat::kTextProto},
      {"w", "", DefinitionFormat::kTextProto},
      {"w", "digraphs: 1", DefinitionFormat::kTextProto},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.file_name, ": ", c.text));
    EXPECT_EQ(GuessDefinitionFormat(c.file_name, c.text), c.format);
  }
}

TEST(ReadDefinitionFile, ReadsEitherFormat) {
  std::string dot = WriteTempFile("read.dot", "digraph d { a [cmd=x] }");
  std::string text = WriteTempFile("read.textproto", "name: 't' steps { name: 'a' }");
  std::string sniffed = WriteTempFile("read-sniffed", "digraph s { a [cmd=x] }");
  EXPECT_EQ(ReadDefinitionFile(dot)->name(), "d");
  EXPECT_EQ(ReadDefinitionFile(text)->name(), "t");
  EXPECT_EQ(ReadDefinitionFile(sniffed)->name(), "s");
}

TEST(ReadDefinitionFile, ErrorsNameThePath) {
  std::string missing = absl::StrCat(::testing::TempDir(), "/no-such-file.dot");
  EXPECT_EQ(
      ReadDefinitionFile(missing).status(),
      absl::NotFoundError(absl::StrCat("cannot open ", missing, ": No such file or directory")));

  EXPECT_THAT(ReadDefinitionFile(::testing::TempDir()).status().message(),
              HasSubstr(absl::StrCat("cannot read ", ::testing::TempDir())));

  std::string bad = WriteTempFile("bad.dot", "digraph p { report }");
  EXPECT_EQ(std::string(ReadDefinitionFile(bad).status().message()),
            absl::StrCat(bad, ": node 'report' has no cmd attribute"));
}

TEST(Examples, AreValidWorkflows) {
  std::vector<std::string> checked;
  for (const auto& entry : std::filesystem::directory_iterator(ExamplePath(""))) {
    std::string path = entry.path().string();
    SCOPED_TRACE(path);
    absl::StatusOr<WorkflowDefinition> definition = ReadDefinitionFile(path);
    ASSERT_TRUE(definition.ok()) << definition.status();
    EXPECT_TRUE(ValidateDefinition(*definition, /*registry=*/nullptr).ok());
    checked.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(checked, testing::IsSupersetOf({"analyze.dot", "analyze.textproto", "diamond.dot",
                                              "diamond.textproto", "failing.dot"}));
}

TEST(Examples, BothFormatsGiveTheSameWorkflow) {
  for (const char* example : {"analyze", "diamond"}) {
    SCOPED_TRACE(example);
    absl::StatusOr<WorkflowDefinition> dot =
        ReadDefinitionFile(ExamplePath(absl::StrCat(example, ".dot")));
    absl::StatusOr<WorkflowDefinition> text =
        ReadDefinitionFile(ExamplePath(absl::StrCat(example, ".textproto")));
    ASSERT_TRUE(dot.ok()) << dot.status();
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(Fingerprint(*dot), Fingerprint(*text));
    EXPECT_THAT(DescribeChanges(*dot, *text), IsEmpty());
    // Equal as messages too, down to the order of dependencies.
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*dot, *text))
        << dot->DebugString() << "\nversus\n"
        << text->DebugString();
  }
}

}  // namespace
}  // namespace chorus
