#include "tools/definition_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
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
       "p.dot: node 'a' has unknown type 'fanout' (expected fan_out, fan_in or sync)"},
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

// Each node attribute gives the StepDefinition fields in `fields` (besides name and command).
TEST(ParseDefinition, ReadsEachDotNodeAttribute) {
  struct Case {
    const char* attributes;
    const char* fields;
  };
  constexpr Case kCases[] = {
      {"retries=2", "retry { max_attempts: 3 }"},
      {"retries=0", "retry { max_attempts: 1 }"},
      {"retries=1, backoff=\"1.5s\"",
       "retry { max_attempts: 2 initial_backoff { seconds: 1 nanos: 500000000 } }"},
      {"retries=3, backoff=\"100ms\", backoff_multiplier=2.5, max_backoff=\"1m\"",
       "retry { max_attempts: 4 initial_backoff { nanos: 100000000 } multiplier: 2.5 "
       "max_backoff { seconds: 60 } }"},
      {"retries=1, non_retryable=\"INVALID_ARGUMENT, NOT_FOUND\"",
       "retry { max_attempts: 2 non_retryable_codes: [ \"INVALID_ARGUMENT\", \"NOT_FOUND\" ] }"},
      {"timeout=\"5s\"", "timeout { seconds: 5 }"},
      {"timeout=\"1h30m\"", "timeout { seconds: 5400 }"},
      {"critical=false", "non_critical: true"},
      {"critical=true", ""},
      {"locks=\"checkout, db\"", "locks: [ \"checkout\", \"db\" ]"},
      {"locks=db", "locks: \"db\""},
      {"background=true", "background: true"},
      {"background=false", ""},
      {"map_over=up", "map_over: \"up\""},
      {"map_over=up, map_concurrency=4", "map_over: \"up\" map_concurrency: 4"},
      {"label=\"ignored\", color=red", ""},
      {"join=all", "join: JOIN_ALL"},
      {"join=any", "join: JOIN_ANY"},
      {"route=all", "route: ROUTE_ALL"},
      {"route=first", "route: ROUTE_FIRST"},
      {"max_visits=1", "max_visits: 1"},
      {"max_visits=1000000", "max_visits: 1000000"},
      {"join=any, route=first, max_visits=5", "join: JOIN_ANY route: ROUTE_FIRST max_visits: 5"},
      {"join=\"\", route=\"\", max_visits=\"\"", ""},
      {"condition=\"outcome=fail\", weight=3", ""},  // edge attributes, ignored on a node
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.attributes);
    WorkflowDefinition definition =
        ParseOrDie(absl::StrCat("digraph p { up [cmd=u]; a [cmd=x, ", c.attributes, "]; up -> a }"),
                   DefinitionFormat::kDot);
    StepDefinition expected;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat("name: 'a' command: 'x' depends_on: 'up' ", c.fields), &expected));
    ASSERT_EQ(definition.steps_size(), 2);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition.steps(1), expected))
        << definition.steps(1).DebugString();
  }
}

TEST(ParseDefinition, ReadsTypeSyncAsASyncStep) {
  WorkflowDefinition definition = ParseOrDie(
      "digraph p { a [cmd=x, background=true]; s [type=sync]; a -> s }", DefinitionFormat::kDot);
  EXPECT_EQ(definition.steps(1).kind(), STEP_KIND_SYNC);
  EXPECT_EQ(definition.steps(1).command(), "");
}

TEST(ParseDefinition, DotNodeDefaultsApplyToEveryNode) {
  WorkflowDefinition definition =
      ParseOrDie("digraph p { node [retries=1, timeout=\"2s\"]; a [cmd=x]; b [cmd=y, retries=4] }",
                 DefinitionFormat::kDot);
  EXPECT_EQ(definition.steps(0).retry().max_attempts(), 2);
  EXPECT_EQ(definition.steps(1).retry().max_attempts(), 5);
  EXPECT_EQ(definition.steps(1).timeout().seconds(), 2);
}

// Each graph attribute gives the WorkflowDefinition fields in `fields` (besides name and steps).
TEST(ParseDefinition, ReadsEachDotGraphAttribute) {
  struct Case {
    const char* attributes;
    const char* fields;
  };
  constexpr Case kCases[] = {
      {"failure_policy=continue", "failure_policy: FAILURE_POLICY_CONTINUE"},
      {"failure_policy=fail_fast", ""},
      {"budget=10.5", "budget: 10.5"},
      {"budget=3", "budget: 3"},
      {"state=\"total:sum=0; files:append; best:max; note\"",
       "state { name: 'total' reducer: REDUCER_SUM initial { number: 0 } } "
       "state { name: 'files' reducer: REDUCER_APPEND } "
       "state { name: 'best' reducer: REDUCER_MAX } "
       "state { name: 'note' }"},
      {"state=\"low:min=-3;note:last_write_wins=draft one;\"",
       "state { name: 'low' reducer: REDUCER_MIN initial { number: -3 } } "
       "state { name: 'note' initial { text: 'draft one' } }"},
      {"state=\"files:append=; seen:append=a.txt\"",
       "state { name: 'files' reducer: REDUCER_APPEND initial { list {} } } "
       "state { name: 'seen' reducer: REDUCER_APPEND initial { list { items: 'a.txt' } } }"},
      {"resources=\"db:2; checkout\"",
       "resources { name: 'db' capacity: 2 } resources { name: 'checkout' }"},
      {"max_visits=50", "max_visits: 50"},
      {"max_visits=1000000", "max_visits: 1000000"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.attributes);
    WorkflowDefinition definition = ParseOrDie(
        absl::StrCat("digraph p { ", c.attributes, "; a [cmd=x] }"), DefinitionFormat::kDot);
    WorkflowDefinition expected;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat("name: 'p' steps { name: 'a' command: 'x' } ", c.fields), &expected));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition, expected))
        << definition.DebugString();
  }
}

TEST(ParseDefinition, MalformedDotAttributesNameTheAttributeAndTheProblem) {
  struct Case {
    const char* dot;
    const char* message;
  };
  constexpr Case kCases[] = {
      {"a [cmd=x, retries=many]",
       "p.dot: node 'a' attribute retries=\"many\": expected a whole number from 0 to 1000"},
      {"a [cmd=x, retries=-1]",
       "p.dot: node 'a' attribute retries=\"-1\": expected a whole number from 0 to 1000"},
      {"a [cmd=x, retries=1, backoff=soon]",
       "p.dot: node 'a' attribute backoff=\"soon\": expected a positive duration such as "
       "\"500ms\", \"5s\" or \"1m30s\""},
      {"a [cmd=x, retries=1, backoff=\"-1s\"]",
       "p.dot: node 'a' attribute backoff=\"-1s\": expected a positive duration such as "
       "\"500ms\", \"5s\" or \"1m30s\""},
      {"a [cmd=x, backoff=\"1s\"]",
       "p.dot: node 'a' attribute backoff=\"1s\": needs a retries attribute on the same node"},
      {"a [cmd=x, retries=1, backoff_multiplier=0.5]",
       "p.dot: node 'a' attribute backoff_multiplier=\"0.5\": expected a number of at least 1"},
      {"a [cmd=x, retries=1, backoff_multiplier=nan]",
       "p.dot: node 'a' attribute backoff_multiplier=\"nan\": expected a number of at least 1"},
      {"a [cmd=x, retries=1, backoff_multiplier=fast]",
       "p.dot: node 'a' attribute backoff_multiplier=\"fast\": expected a number of at least 1"},
      {"a [cmd=x, backoff_multiplier=2]",
       "p.dot: node 'a' attribute backoff_multiplier=\"2\": needs a retries attribute on the "
       "same node"},
      {"a [cmd=x, retries=1, max_backoff=\"30\"]",
       "p.dot: node 'a' attribute max_backoff=\"30\": expected a positive duration such as "
       "\"500ms\", \"5s\" or \"1m30s\""},
      {"a [cmd=x, max_backoff=\"30s\"]",
       "p.dot: node 'a' attribute max_backoff=\"30s\": needs a retries attribute on the same "
       "node"},
      {"a [cmd=x, retries=1, non_retryable=\"NOT_FOUND,invalid\"]",
       "p.dot: node 'a' attribute non_retryable=\"NOT_FOUND,invalid\": 'invalid' is not an "
       "absl::StatusCode name such as INVALID_ARGUMENT"},
      {"a [cmd=x, retries=1, non_retryable=\"NOT_FOUND,,UNKNOWN\"]",
       "p.dot: node 'a' attribute non_retryable=\"NOT_FOUND,,UNKNOWN\": expected names "
       "separated by ','; a name has no spaces"},
      {"a [cmd=x, non_retryable=NOT_FOUND]",
       "p.dot: node 'a' attribute non_retryable=\"NOT_FOUND\": needs a retries attribute on "
       "the same node"},
      {"a [cmd=x, timeout=\"0s\"]",
       "p.dot: node 'a' attribute timeout=\"0s\": expected a positive duration such as "
       "\"500ms\", \"5s\" or \"1m30s\""},
      {"a [cmd=x, timeout=inf]",
       "p.dot: node 'a' attribute timeout=\"inf\": expected a positive duration such as "
       "\"500ms\", \"5s\" or \"1m30s\""},
      {"a [cmd=x, critical=no]",
       "p.dot: node 'a' attribute critical=\"no\": expected true or false"},
      {"a [cmd=x, background=1]",
       "p.dot: node 'a' attribute background=\"1\": expected true or false"},
      {"a [cmd=x, locks=\"db,,checkout\"]",
       "p.dot: node 'a' attribute locks=\"db,,checkout\": expected names separated by ','; a "
       "name has no spaces"},
      {"a [cmd=x, locks=\"big db\"]",
       "p.dot: node 'a' attribute locks=\"big db\": expected names separated by ','; a name "
       "has no spaces"},
      {"a [cmd=x, map_over=up, map_concurrency=0]",
       "p.dot: node 'a' attribute map_concurrency=\"0\": expected a whole number from 1 to "
       "1048576"},
      {"a [cmd=x, map_concurrency=2]",
       "p.dot: node 'a' attribute map_concurrency=\"2\": needs a map_over attribute on the "
       "same node"},
      {"s [type=sync, cmd=x]", "p.dot: node 's' is a sync step and must not have a cmd attribute"},
      {"failure_policy=ignore; a [cmd=x]",
       "p.dot: graph attribute failure_policy=\"ignore\": expected fail_fast or continue"},
      {"budget=0; a [cmd=x]",
       "p.dot: graph attribute budget=\"0\": expected a number greater than 0"},
      {"budget=lots; a [cmd=x]",
       "p.dot: graph attribute budget=\"lots\": expected a number greater than 0"},
      {"budget=nan; a [cmd=x]",
       "p.dot: graph attribute budget=\"nan\": expected a number greater than 0"},
      {"budget=inf; a [cmd=x]",
       "p.dot: graph attribute budget=\"inf\": expected a number greater than 0"},
      {"state=\"total:summ\"; a [cmd=x]",
       "p.dot: graph attribute state=\"total:summ\": key 'total': unknown reducer 'summ' "
       "(expected last_write_wins, append, sum, min or max)"},
      {"state=\"total:sum=1.5\"; a [cmd=x]",
       "p.dot: graph attribute state=\"total:sum=1.5\": key 'total': initial value '1.5' is "
       "not a whole number"},
      {"state=\"best:max=\"; a [cmd=x]",
       "p.dot: graph attribute state=\"best:max=\": key 'best': initial value '' is not a "
       "whole number"},
      {"state=\"note=\"; a [cmd=x]",
       "p.dot: graph attribute state=\"note=\": key 'note': empty initial value"},
      {"state=\":sum\"; a [cmd=x]",
       "p.dot: graph attribute state=\":sum\": ':sum' is not name[:reducer][=initial]; a name "
       "has no spaces"},
      {"state=\"my total:sum\"; a [cmd=x]",
       "p.dot: graph attribute state=\"my total:sum\": 'my total:sum' is not "
       "name[:reducer][=initial]; a name has no spaces"},
      {"state=\"n; n:sum\"; a [cmd=x]",
       "p.dot: graph attribute state=\"n; n:sum\": 'n' is given twice"},
      {"resources=\"db:two\"; a [cmd=x]",
       "p.dot: graph attribute resources=\"db:two\": resource 'db': capacity 'two' is not a "
       "whole number from 1"},
      {"resources=\"db:0\"; a [cmd=x]",
       "p.dot: graph attribute resources=\"db:0\": resource 'db': capacity '0' is not a whole "
       "number from 1"},
      {"resources=\"db; db:2\"; a [cmd=x]",
       "p.dot: graph attribute resources=\"db; db:2\": 'db' is given twice"},
      {"a [cmd=x, join=sometimes]",
       "p.dot: node 'a' attribute join=\"sometimes\": expected all or any"},
      {"a [cmd=x, join=ALL]", "p.dot: node 'a' attribute join=\"ALL\": expected all or any"},
      {"a [cmd=x, route=maybe]",
       "p.dot: node 'a' attribute route=\"maybe\": expected all or first"},
      {"a [cmd=x, max_visits=0]",
       "p.dot: node 'a' attribute max_visits=\"0\": expected a whole number from 1 to 1000000"},
      {"a [cmd=x, max_visits=x]",
       "p.dot: node 'a' attribute max_visits=\"x\": expected a whole number from 1 to 1000000"},
      {"a [cmd=x, max_visits=1000001]",
       "p.dot: node 'a' attribute max_visits=\"1000001\": expected a whole number from 1 to "
       "1000000"},
      {"max_visits=0; a [cmd=x]",
       "p.dot: graph attribute max_visits=\"0\": expected a whole number from 1 to 1000000"},
      {"max_visits=x; a [cmd=x]",
       "p.dot: graph attribute max_visits=\"x\": expected a whole number from 1 to 1000000"},
      {"a [cmd=x]; up -> a [weight=abc]",
       "p.dot: edge 'up' -> 'a' attribute weight=\"abc\": expected a whole number from -1000000 "
       "to 1000000"},
      {"a [cmd=x]; up -> a [condition=\"outcome=fail\", weight=2.5]",
       "p.dot: edge 'up' -> 'a' attribute weight=\"2.5\": expected a whole number from "
       "-1000000 to 1000000"},
      {"a [cmd=x]; up -> a [weight=-1000001]",
       "p.dot: edge 'up' -> 'a' attribute weight=\"-1000001\": expected a whole number from "
       "-1000000 to 1000000"},
      {"a [cmd=x]; \"two words\" [cmd=y]; a -> \"two words\" [weight=x]",
       "p.dot: edge 'a' -> 'two words' attribute weight=\"x\": expected a whole number from "
       "-1000000 to 1000000"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.dot);
    absl::StatusOr<WorkflowDefinition> definition = ParseDefinition(
        absl::StrCat("digraph p { up [cmd=u]; ", c.dot, " }"), "p.dot", DefinitionFormat::kDot);
    EXPECT_EQ(definition.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(definition.status().message()), c.message);
  }
}

TEST(ParseDefinition, ReadsALoopOfEdgesWithConditions) {
  WorkflowDefinition definition = ParseOrDie(R"dot(
    digraph fix_loop {
      implement [cmd="./implement.sh"];
      test [cmd="./test.sh"];
      done [cmd="echo done"];
      implement -> test;
      test -> done [condition="outcome=success"];
      test -> implement [condition="outcome=fail"];
    })dot",
                                             DefinitionFormat::kDot);
  // The edges with attributes, grouped by tail, each tail's by head in node order.
  WorkflowDefinition expected = ParseOrDie(
      R"pb(
        name: "fix_loop"
        steps { name: "implement" command: "./implement.sh" }
        steps { name: "test" depends_on: "implement" command: "./test.sh" }
        steps { name: "done" command: "echo done" }
        edges { from: "test" to: "implement" condition: "outcome=fail" }
        edges { from: "test" to: "done" condition: "outcome=success" }
      )pb",
      DefinitionFormat::kTextProto);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition, expected))
      << definition.DebugString();
}

// An edge without condition, label or weight is a dependency, as before edges had attributes,
// even where other edges declare those attributes (Graphviz then gives it their default, "").
TEST(ParseDefinition, PlainDotEdgesAreDependenciesOnly) {
  WorkflowDefinition definition = ParseOrDie(R"dot(
    digraph p {
      a [cmd=x]; b [cmd=y]; c [cmd=z]; d [cmd=w];
      a -> b -> c [color=red];
      b -> d [condition="", label="", weight=""];
      c -> d [condition="outcome=success"];
    })dot",
                                             DefinitionFormat::kDot);
  ASSERT_EQ(definition.steps_size(), 4);
  EXPECT_THAT(definition.steps(1).depends_on(), ElementsAre("a"));
  EXPECT_THAT(definition.steps(2).depends_on(), ElementsAre("b"));
  EXPECT_THAT(definition.steps(3).depends_on(), ElementsAre("b"));
  ASSERT_EQ(definition.edges_size(), 1);
  EXPECT_EQ(definition.edges(0).from(), "c");
  EXPECT_EQ(definition.edges(0).to(), "d");
  // Without edge attributes, the same bytes (so fingerprint) as before: no edges, no new fields.
  WorkflowDefinition plain =
      ParseOrDie("digraph p { a [cmd=x]; b [cmd=y]; a -> b; a -> b }", DefinitionFormat::kDot);
  WorkflowDefinition expected = ParseOrDie(
      "name: 'p' steps { name: 'a' command: 'x' } steps { name: 'b' depends_on: 'a' command: 'y' }",
      DefinitionFormat::kTextProto);
  EXPECT_EQ(plain.SerializeAsString(), expected.SerializeAsString()) << plain.DebugString();
}

// Each set of edge attributes on up -> a gives the Edge `edge` (besides from and to) and no
// dependency.
TEST(ParseDefinition, ReadsEachDotEdgeAttribute) {
  struct Case {
    const char* attributes;
    const char* edge;
  };
  constexpr Case kCases[] = {
      {"condition=\"outcome=fail\"", "condition: 'outcome=fail'"},
      {"condition=\"outcome=success and tries < 3\"", "condition: 'outcome=success and tries < 3'"},
      {"label=\"retry\"", "label: 'retry'"},
      {"weight=2", "weight: 2"},
      {"weight=-7", "weight: -7"},
      {"weight=0", ""},  // given, so an edge, though its weight is the default
      {"weight=1000000", "weight: 1000000"},
      {"weight=-1000000", "weight: -1000000"},
      {"condition=\"outcome=success\", label=\"ok\", weight=5",
       "condition: 'outcome=success' label: 'ok' weight: 5"},
      // As written: DOT unescapes only \" (Graphviz expands \n when it draws the label).
      {"label=\"say \\\"two\\nlines\\\"\", color=red", "label: 'say \"two\\\\nlines\"'"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.attributes);
    WorkflowDefinition definition = ParseOrDie(
        absl::StrCat("digraph p { up [cmd=u]; a [cmd=x]; up -> a [", c.attributes, "] }"),
        DefinitionFormat::kDot);
    Edge expected;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat("from: 'up' to: 'a' ", c.edge), &expected));
    ASSERT_EQ(definition.steps_size(), 2);
    EXPECT_THAT(definition.steps(1).depends_on(), IsEmpty());
    ASSERT_EQ(definition.edges_size(), 1);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition.edges(0), expected))
        << definition.edges(0).DebugString();
  }
}

TEST(ParseDefinition, DotEdgeDefaultsApplyToEveryLaterEdge) {
  WorkflowDefinition definition = ParseOrDie(
      "digraph p { a [cmd=x]; b [cmd=y]; c [cmd=z]; a -> b; edge [weight=3]; a -> c; b -> c }",
      DefinitionFormat::kDot);
  EXPECT_THAT(definition.steps(1).depends_on(), ElementsAre("a"));
  EXPECT_THAT(definition.steps(2).depends_on(), IsEmpty());
  WorkflowDefinition expected = definition;
  expected.clear_edges();
  ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(
      "edges { from: 'a' to: 'c' weight: 3 } edges { from: 'b' to: 'c' weight: 3 }", &expected));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition, expected))
      << definition.DebugString();
}

// A repeated plain edge adds no dependency; a repeated edge with attributes is listed again
// (the validator reports it), after the plain one's dependency.
TEST(ParseDefinition, ListsARepeatedDotEdgeWithAttributesAsWritten) {
  WorkflowDefinition definition = ParseOrDie(R"dot(
    digraph p {
      a [cmd=x]; b [cmd=y]; c [cmd=z];
      a -> b; a -> b;
      b -> c [condition="outcome=fail"];
      a -> c [weight=1];
      b -> c [condition="outcome=fail"];
      a -> b [label="again"];
    })dot",
                                             DefinitionFormat::kDot);
  EXPECT_THAT(definition.steps(1).depends_on(), ElementsAre("a"));
  EXPECT_THAT(definition.steps(2).depends_on(), IsEmpty());
  WorkflowDefinition expected = definition;
  expected.clear_edges();
  ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(
      R"pb(
        edges { from: "a" to: "b" label: "again" }
        edges { from: "a" to: "c" weight: 1 }
        edges { from: "b" to: "c" condition: "outcome=fail" }
        edges { from: "b" to: "c" condition: "outcome=fail" }
      )pb",
      &expected));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(definition, expected))
      << definition.DebugString();
}

// The text format expresses every option natively; DOT and text format agree on them.
TEST(ParseDefinition, DotAndTextFormatExpressTheSameOptions) {
  WorkflowDefinition dot = ParseOrDie(R"dot(
    digraph all {
      failure_policy=continue; budget=2.5;
      state="total:sum=0; files:append"; resources="db:2";
      list [cmd="ls", retries=2, backoff="1s", backoff_multiplier=2, max_backoff="10s",
            non_retryable="NOT_FOUND", timeout="3s", critical=false, locks="db"];
      each [cmd="cat", map_over=list, map_concurrency=3];
      side [cmd="true", background=true];
      sync [type=sync];
      list -> each -> sync;
      side -> sync;
    })dot",
                                      DefinitionFormat::kDot);
  WorkflowDefinition text = ParseOrDie(
      R"pb(
        name: "all"
        failure_policy: FAILURE_POLICY_CONTINUE
        budget: 2.5
        state {
          name: "total"
          reducer: REDUCER_SUM
          initial { number: 0 }
        }
        state { name: "files" reducer: REDUCER_APPEND }
        resources { name: "db" capacity: 2 }
        steps {
          name: "list"
          command: "ls"
          retry {
            max_attempts: 3
            initial_backoff { seconds: 1 }
            multiplier: 2
            max_backoff { seconds: 10 }
            non_retryable_codes: "NOT_FOUND"
          }
          timeout { seconds: 3 }
          non_critical: true
          locks: "db"
        }
        steps { name: "each" depends_on: "list" command: "cat" map_over: "list" map_concurrency: 3 }
        steps { name: "side" command: "true" background: true }
        steps {
          name: "sync"
          depends_on: [ "each", "side" ]
          kind: STEP_KIND_SYNC
        }
      )pb",
      DefinitionFormat::kTextProto);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(dot, text))
      << dot.DebugString() << "\nversus\n"
      << text.DebugString();
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
  EXPECT_EQ(ReadDefinitionFile(missing).status(),
            absl::NotFoundError(absl::StrCat("cannot open definition file ", missing,
                                             ": No such file or directory")));

  EXPECT_EQ(ReadDefinitionFile(::testing::TempDir()).status(),
            absl::FailedPreconditionError(absl::StrCat(
                "cannot read definition file ", ::testing::TempDir(), ": it is a directory")));

  EXPECT_EQ(ReadDefinitionFile("/dev/zero").status(),
            absl::ResourceExhaustedError(
                "cannot read definition file /dev/zero: it holds more than 64 MiB, the limit"));

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
  EXPECT_THAT(checked, testing::IsSupersetOf(
                           {"analyze.dot", "analyze.textproto", "diamond.dot", "diamond.textproto",
                            "failing.dot", "state.dot", "state.textproto", "fanout_nested.dot",
                            "map.dot", "map.textproto", "retry.dot", "timeout.dot",
                            "partial_failure.dot", "locks.dot", "budget.dot", "background.dot"}));
}

// The README's feature list links one runnable example per feature.
TEST(Examples, AreEachLinkedFromTheReadme) {
  std::ifstream file(absl::StrCat(CHORUS_SOURCE_DIR, "/README.md"));
  std::stringstream readme;
  readme << file.rdbuf();
  for (const auto& entry : std::filesystem::directory_iterator(ExamplePath(""))) {
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    const std::string link = absl::StrCat("(tools/examples/", name, ")");
    EXPECT_TRUE(absl::StrContains(readme.str(), link)) << "README.md does not link " << link;
  }
}

TEST(Examples, BothFormatsGiveTheSameWorkflow) {
  for (const char* example : {"analyze", "diamond", "state", "map"}) {
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
