#include "workflow/definition.h"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

WorkflowDefinition Parse(const std::string& text) {
  WorkflowDefinition definition;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &definition)) << text;
  return definition;
}

StepRegistry RegistryFor(std::initializer_list<absl::string_view> names) {
  StepRegistry registry;
  for (absl::string_view name : names) {
    EXPECT_TRUE(registry.Register(name, [](const StepContext&) { return std::string(); }).ok());
  }
  return registry;
}

TEST(ValidateDefinition, AcceptsADiamond) {
  WorkflowDefinition definition = DefinitionBuilder("diamond")
                                      .Step("a")
                                      .Step("b", {"a"})
                                      .Step("c", {"a"})
                                      .Step("d", {"b", "c"})
                                      .Build();
  StepRegistry registry = RegistryFor({"a", "b", "c", "d"});
  EXPECT_TRUE(ValidateDefinition(definition, &registry).ok());
}

TEST(ValidateDefinition, StructuralStepsNeedNoFunction) {
  WorkflowDefinition definition =
      DefinitionBuilder("fan").FanOut("split").Step("a", {"split"}).FanIn("join", {"a"}).Build();
  StepRegistry registry = RegistryFor({"a"});
  EXPECT_TRUE(ValidateDefinition(definition, &registry).ok());
}

TEST(ValidateDefinition, AcceptsBracketsThatNameNoInstance) {
  StepRegistry registry = RegistryFor({"a", "a[0]", "b", "b[x]"});
  EXPECT_TRUE(ValidateDefinition(Parse("name: 'w' steps { name: 'a' } steps { name: 'a[0]' }"
                                       " steps { name: 'b' depends_on: 'a' map_over: 'a' }"
                                       " steps { name: 'b[x]' }"),
                                 &registry)
                  .ok());
}

TEST(ValidateDefinition, NamesEachProblem) {
  struct Case {
    const char* name;
    const char* definition;
    const char* message;
  };
  const Case cases[] = {
      {"no steps", "name: 'w'", "the workflow has no steps"},
      {"empty name", "name: 'w' steps { name: 'a' } steps { name: '' }",
       "step #2 has an empty name"},
      {"duplicate", "name: 'w' steps { name: 'a' } steps { name: 'a' }",
       "step 'a' is defined twice (steps #1 and #2)"},
      {"unknown dependency", "name: 'w' steps { name: 'a' depends_on: 'zz' }",
       "step 'a' depends on unknown step 'zz'"},
      {"self dependency", "name: 'w' steps { name: 'a' depends_on: 'a' }",
       "step 'a' depends on itself"},
      {"self dependency of a step defined twice",
       "name: 'w' steps { name: 'a' } steps { name: 'b' } steps { name: 'a' depends_on: 'a' }",
       "step 'a' depends on itself"},
      {"cycle",
       "name: 'w' steps { name: 'a' depends_on: 'c' } steps { name: 'b' depends_on: 'a' }"
       " steps { name: 'c' depends_on: 'b' }",
       "cycle: a -> c -> b -> a"},
      {"unregistered", "name: 'w' steps { name: 'a' } steps { name: 'nobody' }",
       "step 'nobody' has no registered function"},
      {"map over a step it does not depend on",
       "name: 'w' steps { name: 'a' } steps { name: 'b' map_over: 'a' }",
       "step 'b' maps over 'a', which is not one of its dependencies"},
      {"a step named like a map instance",
       "name: 'w' steps { name: 'a' } steps { name: 'b' depends_on: 'a' map_over: 'a' }"
       " steps { name: 'b[0]' }",
       "step 'b[0]' is named like an instance of map step 'b'"},
      {"unknown status code", "name: 'w' steps { name: 'a' retry { non_retryable_codes: 'NOPE' } }",
       "step 'a': 'NOPE' is not a status code name"},
      {"state key declared twice",
       "name: 'w' steps { name: 'a' } state { name: 'k' } state { name: 'k' }",
       "state key 'k' is declared twice"},
      {"initial value of the wrong type",
       "name: 'w' steps { name: 'a' } state { name: 'k' reducer: REDUCER_SUM initial { text: 'x' } "
       "}",
       "state key 'k' (sum) cannot take \"x\""},
      {"negative budget", "name: 'w' steps { name: 'a' } budget: -1",
       "the budget -1 is not a finite number of at least 0"},
      {"budget not a number", "name: 'w' steps { name: 'a' } budget: nan",
       "the budget nan is not a finite number of at least 0"},
      {"infinite budget", "name: 'w' steps { name: 'a' } budget: inf",
       "the budget inf is not a finite number of at least 0"},
      {"backoff multiplier not a number",
       "name: 'w' steps { name: 'a' retry { max_attempts: 2 multiplier: nan } }",
       "step 'a' has a backoff multiplier of nan, not a finite number of at least 0"},
      {"infinite backoff multiplier",
       "name: 'w' steps { name: 'a' retry { max_attempts: 2 multiplier: inf } }",
       "step 'a' has a backoff multiplier of inf, not a finite number of at least 0"},
      {"negative backoff multiplier",
       "name: 'w' steps { name: 'a' retry { max_attempts: 2 multiplier: -2 } }",
       "step 'a' has a backoff multiplier of -2, not a finite number of at least 0"},
      {"negative timeout with positive nanos",
       "name: 'w' steps { name: 'a' timeout { seconds: -1 nanos: 5 } }",
       "step 'a' has a timeout that is not positive"},
      {"a sync point inside the background it waits for",
       "name: 'w' steps { name: 'a' background: true depends_on: 's' }"
       " steps { name: 's' kind: STEP_KIND_SYNC }",
       "cycle: a -> s -> a"},
      {"structural with a command",
       "name: 'w' steps { name: 'a' } steps { name: 'f' kind: STEP_KIND_FAN_OUT command: 'ls' }",
       "step 'f' is a fan_out step and cannot have a command"},
  };
  StepRegistry registry = RegistryFor({"a", "b", "c"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status status = ValidateDefinition(Parse(c.definition), &registry);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(),
                AllOf(HasSubstr("workflow definition 'w' is invalid"), HasSubstr(c.message)));
  }
}

// Names and text from a definition file end up in history and on terminals (event/text.h).
TEST(ValidateDefinition, RefusesTextThatHistoryCannotHoldOrATerminalWouldObey) {
  struct Case {
    const char* name;
    std::function<void(WorkflowDefinition&)> change;
    const char* message;
  };
  const Case cases[] = {
      {"step name not UTF-8", [](WorkflowDefinition& d) { d.mutable_steps(0)->set_name("a\xff"); },
       "step \"a\\xFF\" is not valid UTF-8"},
      {"step name cut mid-character",
       [](WorkflowDefinition& d) { d.mutable_steps(0)->set_name("\xe2\x82"); },
       "step \"\\xE2\\x82\" is not valid UTF-8"},
      {"step name with an escape sequence",
       [](WorkflowDefinition& d) { d.mutable_steps(0)->set_name("a\x1b[2J"); },
       "step \"a\\x1B[2J\" contains a control character (\\x1B)"},
      {"step name with a newline",
       [](WorkflowDefinition& d) { d.mutable_steps(0)->set_name("a\nb"); },
       "step \"a\\nb\" contains a control character (\\n)"},
      {"definition name", [](WorkflowDefinition& d) { d.set_name("w\x7f"); },
       "definition name \"w\\x7F\" contains a control character (\\x7F)"},
      {"command", [](WorkflowDefinition& d) { d.mutable_steps(0)->set_command("echo \xe9t\xe9"); },
       "step 'a': the command is not valid UTF-8"},
      {"edge condition",
       [](WorkflowDefinition& d) {
         Edge* edge = d.add_edges();
         edge->set_from("a");
         edge->set_to("a");
         edge->set_condition("context.x=\xff");
       },
       "edge 'a' -> 'a': the condition is not valid UTF-8"},
      {"edge label",
       [](WorkflowDefinition& d) {
         Edge* edge = d.add_edges();
         edge->set_from("a");
         edge->set_to("a");
         edge->set_condition("outcome=fail");
         edge->set_label("l\xe9");
       },
       "edge 'a' -> 'a': the label is not valid UTF-8"},
      {"state key", [](WorkflowDefinition& d) { d.add_state()->set_name(std::string("k\0", 2)); },
       "state key \"k\\0\" contains a control character (\\0)"},
      {"initial state value",
       [](WorkflowDefinition& d) {
         StateKey* key = d.add_state();
         key->set_name("k");
         key->mutable_initial()->mutable_list()->add_items("\xc3");
       },
       "initial value: state key 'k': the value is not valid UTF-8"},
      {"resource", [](WorkflowDefinition& d) { d.add_resources()->set_name("db\xff"); },
       "resource \"db\\xFF\" is not valid UTF-8"},
      {"lock", [](WorkflowDefinition& d) { d.mutable_steps(0)->add_locks("gpu\n"); },
       "resource \"gpu\\n\" contains a control character (\\n)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Build();
    c.change(definition);
    const absl::Status status = ValidateDefinition(definition, /*registry=*/nullptr);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr(c.message));
    // A definition that a history recorded is run again as it is: its text is not checked.
    EXPECT_TRUE(ValidateRecordedDefinitionGraph(definition, /*registry=*/nullptr).ok());
  }
  WorkflowDefinition unicode = DefinitionBuilder("d\xc3\xa9ploiement")
                                   .ShellStep("\xe6\x97\xa5", "echo \xe2\x82\xac")
                                   .Build();
  EXPECT_TRUE(ValidateDefinition(unicode, /*registry=*/nullptr).ok());
}

TEST(ValidateDefinition, ReportsEveryProblemAtOnce) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "w"
    steps { name: "a" depends_on: "ghost" }
    steps { name: "a" }
    steps { name: "b" depends_on: "b" }
    steps { name: "" }
  )pb");
  absl::Status status = ValidateDefinition(definition, /*registry=*/nullptr);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("step 'a' depends on unknown step 'ghost'"),
                    HasSubstr("step 'a' is defined twice"), HasSubstr("step 'b' depends on itself"),
                    HasSubstr("step #4 has an empty name")));
}

// A dependency listed twice is one problem, said once.
TEST(ValidateDefinition, ReportsADependencyListedTwiceOnce) {
  const struct {
    const char* name;
    const char* definition;
    const char* problem;
  } kCases[] = {
      {"itself", "name: 'w' steps { name: 'a' depends_on: 'a' }", "step 'a' depends on itself"},
      {"itself twice", "name: 'w' steps { name: 'a' depends_on: ['a', 'a'] }",
       "step 'a' depends on itself"},
      {"itself twice, among others",
       "name: 'w' steps { name: 'b' } steps { name: 'a' depends_on: ['a', 'b', 'a'] }",
       "step 'a' depends on itself"},
      {"an unknown step twice", "name: 'w' steps { name: 'a' depends_on: ['zz', 'zz'] }",
       "step 'a' depends on unknown step 'zz'"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const std::string message(ValidateDefinition(Parse(c.definition), nullptr).message());
    const std::vector<absl::string_view> around = absl::StrSplit(message, c.problem);
    EXPECT_EQ(around.size(), 2u) << message;
  }
}

// The problems of a failed validation, one a line after the heading line.
std::vector<std::string> ProblemsOf(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  std::vector<std::string> lines = absl::StrSplit(status.message(), '\n');
  EXPECT_FALSE(lines.empty());
  if (!lines.empty()) lines.erase(lines.begin());  // "workflow definition 'w' is invalid:"
  for (std::string& line : lines) {
    EXPECT_EQ(line.substr(0, 2), "  ") << line;
    line.erase(0, 2);
  }
  return lines;
}

// Graphs (edges with conditions, joins, routes, loops): every problem of a definition is
// listed at once, a problem per line, each named.
TEST(ValidateDefinition, ReportsEveryProblemOfAGraphAtOnce) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "w"
    # A loop whose way back has a malformed condition, and a way out given twice.
    steps { name: "write" }
    steps { name: "check" depends_on: "write" }
    steps { name: "ship" }
    edges { from: "check" to: "write" condition: "outcome=sucess" }
    edges { from: "check" to: "ship" condition: "outcome=success" }
    edges { from: "check" to: "ship" condition: "outcome=success" }
    # Edges of steps that do not exist.
    edges { from: "ship" to: "nowhere" }
    edges { from: "nobody" to: "ship" condition: "outcome=fail" }
    # An edge that repeats a dependency.
    steps { name: "lint" depends_on: "ship" }
    edges { from: "ship" to: "lint" label: "again" }
    # A step on a loop that joins all.
    steps { name: "poll" join: JOIN_ALL }
    edges { from: "poll" to: "poll" condition: "outcome=success" }
    # A map step on a loop.
    steps { name: "list" }
    steps { name: "each" depends_on: "list" map_over: "list" }
    edges { from: "each" to: "list" condition: "outcome=fail" }
    # A cycle no condition can leave.
    steps { name: "ping" }
    steps { name: "pong" }
    edges { from: "ping" to: "pong" label: "serve" }
    edges { from: "pong" to: "ping" weight: 2 }
  )pb");
  const absl::Status status = ValidateDefinition(definition, /*registry=*/nullptr);
  EXPECT_THAT(status.message(), HasSubstr("workflow definition 'w' is invalid:\n"));
  std::vector<std::string> problems = ProblemsOf(status);
  std::sort(problems.begin(), problems.end());
  std::vector<std::string> expected = {
      "edge 'check' -> 'write': condition \"outcome=sucess\": at position 9: expected success, "
      "fail or partial_success",
      "edge 'check' -> 'ship' is given twice",
      "edge 'ship' -> 'nowhere': unknown step 'nowhere'",
      "edge 'nobody' -> 'ship': unknown step 'nobody'",
      "edge 'ship' -> 'lint' is given twice (as a dependency and as an edge)",
      "step 'poll' is on a loop and joins all: it could never start again",
      "step 'each' is on a loop, which a map, background or sync step cannot be",
      "cycle: ping -> pong -> ping",
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(problems, expected) << status.message();
}

TEST(ValidateDefinition, NamesEachProblemOfAGraph) {
  struct Case {
    const char* name;
    const char* definition;
    const char* message;
  };
  const Case cases[] = {
      {"edge to an unknown step",
       "name: 'w' steps { name: 'a' } edges { from: 'a' to: 'zz' condition: 'outcome=fail' }",
       "edge 'a' -> 'zz': unknown step 'zz'"},
      {"edge from an unknown step",
       "name: 'w' steps { name: 'a' } edges { from: 'zz' to: 'a' label: 'x' }",
       "edge 'zz' -> 'a': unknown step 'zz'"},
      {"edge of an empty name", "name: 'w' steps { name: 'a' } edges { from: 'a' }",
       "edge 'a' -> '': unknown step ''"},
      {"malformed condition",
       "name: 'w' steps { name: 'a' } steps { name: 'b' }"
       " edges { from: 'a' to: 'b' condition: 'outcome=sucess' }",
       "edge 'a' -> 'b': condition \"outcome=sucess\": at position 9: expected success, fail or "
       "partial_success"},
      {"condition that ends too soon",
       "name: 'w' steps { name: 'a' } steps { name: 'b' }"
       " edges { from: 'a' to: 'b' condition: 'outcome' }",
       "edge 'a' -> 'b': condition \"outcome\": at position 8: expected = or !="},
      {"condition with an unknown operand",
       "name: 'w' steps { name: 'a' } steps { name: 'b' }"
       " edges { from: 'a' to: 'b' condition: 'outcome=fail && state.x=1' }",
       "edge 'a' -> 'b': condition \"outcome=fail && state.x=1\": at position 17: expected "
       "outcome, preferred_label or context.<key>, not \"state.x\""},
      {"condition of spaces only: it holds always, so the self-loop could never end",
       "name: 'w' steps { name: 'a' } edges { from: 'a' to: 'a' condition: '  ' }",
       "cycle: a -> a"},
      {"negative max_visits of a step", "name: 'w' steps { name: 'a' max_visits: -1 }",
       "step 'a' has negative max_visits"},
      {"negative max_visits of the workflow", "name: 'w' max_visits: -2 steps { name: 'a' }",
       "the workflow has negative max_visits"},
      {"unknown join", "name: 'w' steps { name: 'a' join: 7 }", "step 'a' has an unknown join 7"},
      {"unknown route", "name: 'w' steps { name: 'a' route: 9 }",
       "step 'a' has an unknown route 9"},
      {"edge given twice",
       "name: 'w' steps { name: 'a' } steps { name: 'b' }"
       " edges { from: 'a' to: 'b' condition: 'outcome=fail' }"
       " edges { from: 'a' to: 'b' label: 'again' }",
       "edge 'a' -> 'b' is given twice"},
      {"edge that repeats a dependency",
       "name: 'w' steps { name: 'a' } steps { name: 'b' depends_on: 'a' }"
       " edges { from: 'a' to: 'b' condition: 'outcome=success' }",
       "edge 'a' -> 'b' is given twice (as a dependency and as an edge)"},
      {"loop step that joins all",
       "name: 'w' steps { name: 'a' } steps { name: 'b' depends_on: 'a' join: JOIN_ALL }"
       " edges { from: 'b' to: 'a' condition: 'outcome=fail' }",
       "step 'b' is on a loop and joins all: it could never start again"},
      {"map step on a loop",
       "name: 'w' steps { name: 'a' } steps { name: 'b' depends_on: 'a' map_over: 'a' }"
       " edges { from: 'b' to: 'a' condition: 'outcome=fail' }",
       "step 'b' is on a loop, which a map, background or sync step cannot be"},
      {"background step on a loop",
       "name: 'w' steps { name: 'a' background: true }"
       " edges { from: 'a' to: 'a' condition: 'outcome=success' }",
       "step 'a' is on a loop, which a map, background or sync step cannot be"},
      {"sync step on a loop",
       "name: 'w' steps { name: 'a' } steps { name: 's' kind: STEP_KIND_SYNC depends_on: 'a' }"
       " edges { from: 's' to: 'a' condition: 'outcome=success' }",
       "step 's' is on a loop, which a map, background or sync step cannot be"},
      {"cycle of unconditional edges",
       "name: 'w' steps { name: 'a' } steps { name: 'b' }"
       " edges { from: 'a' to: 'b' label: 'there' } edges { from: 'b' to: 'a' weight: 3 }",
       "cycle: a -> b -> a"},
      {"cycle of a dependency and an unconditional edge",
       "name: 'w' steps { name: 'a' } steps { name: 'b' depends_on: 'a' }"
       " edges { from: 'b' to: 'a' label: 'back' }",
       "cycle: a -> b -> a"},
      {"self-loop without a condition",
       "name: 'w' steps { name: 'a' } edges { from: 'a' to: 'a' label: 'again' }",
       "cycle: a -> a"},
      {"cycle of dependencies in a graph that routes",
       "name: 'w' max_visits: 5 steps { name: 'a' depends_on: 'c' }"
       " steps { name: 'b' depends_on: 'a' } steps { name: 'c' depends_on: 'b' }",
       "cycle: a -> c -> b -> a"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = ValidateDefinition(Parse(c.definition), /*registry=*/nullptr);
    // The one problem, on its own line.
    EXPECT_THAT(ProblemsOf(status), ElementsAre(c.message)) << status.message();
  }
}

// The examples of tools/examples/ and tools/definition_file.h, and other graphs that can run.
TEST(ValidateDefinition, AcceptsGraphsThatCanRun) {
  struct Case {
    const char* name;
    const char* definition;
  };
  const Case cases[] = {
      {"fix_loop", R"pb(
         name: "fix_loop"
         steps { name: "implement" command: "echo fix" }
         steps { name: "test" depends_on: "implement" command: "./test.sh" }
         steps { name: "done" command: "echo done" }
         edges { from: "test" to: "done" condition: "outcome=success" }
         edges { from: "test" to: "implement" condition: "outcome=fail" }
       )pb"},
      {"branch", R"pb(
         name: "branch"
         state { name: "size" }
         steps { name: "check" command: "echo size=big" route: ROUTE_FIRST }
         steps { name: "quick_review" command: "echo quick" }
         steps { name: "full_review" command: "echo full" }
         steps {
           name: "report"
           depends_on: [ "quick_review", "full_review" ]
           command: "cat"
         }
         edges { from: "check" to: "quick_review" condition: "context.size=small" label: "small" }
         edges { from: "check" to: "full_review" condition: "context.size=big" label: "big" }
       )pb"},
      {"loop_forever", R"pb(
         name: "loop_forever"
         steps { name: "poll" command: "echo not ready" max_visits: 5 }
         steps { name: "give_up" command: "echo giving up" }
         edges { from: "poll" to: "poll" condition: "outcome=success" }
         edges { from: "poll" to: "give_up" condition: "outcome=fail" }
       )pb"},
      {"a self-loop with a condition and no bound anywhere", R"pb(
         name: "w"
         steps { name: "a" }
         edges { from: "a" to: "a" condition: "context.done != yes" }
       )pb"},
      {"a loop of three with a weighted, labelled way out", R"pb(
         name: "w"
         steps { name: "a" }
         steps { name: "b" depends_on: "a" join: JOIN_ANY }
         steps { name: "c" depends_on: "b" route: ROUTE_FIRST }
         steps { name: "out" join: JOIN_ALL }
         edges { from: "c" to: "a" condition: "outcome=fail" weight: 1 }
         edges { from: "c" to: "out" condition: "outcome = success && preferred_label = ship"
                 label: "ship" weight: -1 }
         max_visits: 20
       )pb"},
      {"edges with neither condition nor label, on no loop", R"pb(
         name: "w"
         steps { name: "a" }
         steps { name: "b" }
         edges { from: "a" to: "b" }
         edges { from: "b" to: "c" label: "on" }
         steps { name: "c" }
       )pb"},
      {"a condition of spaces only, on no loop", R"pb(
         name: "w"
         steps { name: "a" }
         steps { name: "b" }
         edges { from: "a" to: "b" condition: "   " }
       )pb"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const WorkflowDefinition definition = Parse(c.definition);
    EXPECT_TRUE(ValidateDefinition(definition, /*registry=*/nullptr).ok())
        << ValidateDefinition(definition, nullptr);
    EXPECT_TRUE(ValidateRecordedDefinitionGraph(definition, /*registry=*/nullptr).ok());
  }
}

// The fix loop built with the proto API: its edges are dependencies too.
TEST(ValidateDefinitionGraph, CountsEdgesAsDependencies) {
  WorkflowDefinition definition = DefinitionBuilder("fix_loop")
                                      .ShellStep("implement", "echo fix")
                                      .ShellStep("test", "./test.sh", {"implement"})
                                      .ShellStep("done", "echo done")
                                      .Build();
  for (const char* to : {"done", "implement"}) {
    Edge* edge = definition.add_edges();
    edge->set_from("test");
    edge->set_to(to);
    edge->set_condition(to == std::string("done") ? "outcome=success" : "outcome=fail");
  }
  absl::StatusOr<DefinitionGraph> graph = ValidateDefinitionGraph(definition, nullptr);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_THAT(graph->dependencies, ElementsAre(ElementsAre(1), ElementsAre(0), ElementsAre(1)));
  EXPECT_EQ(graph->dependencies, EffectiveDependencies(definition));

  // The way back without its condition: implement and test wait for each other for ever.
  definition.mutable_edges(1)->clear_condition();
  definition.mutable_edges(1)->set_label("again");
  EXPECT_THAT(ProblemsOf(ValidateDefinition(definition, nullptr)),
              ElementsAre("cycle: implement -> test -> implement"));
}

// A definition with no graph feature validates as it always has: a cycle of dependencies is
// one, whatever it passes through.
TEST(ValidateDefinition, APlainDagValidatesAsBefore) {
  const WorkflowDefinition plain = Parse(
      "name: 'w' steps { name: 'a' depends_on: 'c' } steps { name: 'b' depends_on: 'a' }"
      " steps { name: 'c' depends_on: 'b' } steps { name: 'd' depends_on: 'zz' }");
  EXPECT_THAT(ProblemsOf(ValidateDefinition(plain, nullptr)),
              ElementsAre("step 'd' depends on unknown step 'zz'", "cycle: a -> c -> b -> a"));
  // A step that routes is no licence for a cycle of dependencies either.
  WorkflowDefinition routed = plain;
  routed.mutable_steps(1)->set_route(ROUTE_FIRST);
  EXPECT_THAT(ProblemsOf(ValidateDefinition(routed, nullptr)),
              ElementsAre("step 'd' depends on unknown step 'zz'", "cycle: a -> c -> b -> a"));
}

TEST(ValidateDefinitionGraph, GivesTheEffectiveDependenciesAndEachTaskStepsFunction) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "w"
    steps { name: "bg" background: true }
    steps { name: "main" }
    steps { name: "join" kind: STEP_KIND_FAN_IN depends_on: "main" }
    steps { name: "sync" kind: STEP_KIND_SYNC depends_on: "join" }
    steps { name: "last" depends_on: "sync" depends_on: "main" }
  )pb");
  StepRegistry registry = RegistryFor({"bg", "main", "last"});
  absl::StatusOr<DefinitionGraph> graph = ValidateDefinitionGraph(definition, &registry);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->dependencies, EffectiveDependencies(definition));
  EXPECT_THAT(graph->dependencies[3], ElementsAre(2, 0));  // join as listed, then bg
  EXPECT_THAT(graph->functions, ElementsAre(registry.Find("bg"), registry.Find("main"), nullptr,
                                            nullptr, registry.Find("last")));
  EXPECT_NE(graph->functions[0], graph->functions[1]);

  absl::StatusOr<DefinitionGraph> without_registry =
      ValidateDefinitionGraph(definition, /*registry=*/nullptr);
  ASSERT_TRUE(without_registry.ok()) << without_registry.status();
  EXPECT_EQ(without_registry->dependencies, graph->dependencies);
  EXPECT_THAT(without_registry->functions,
              ElementsAre(nullptr, nullptr, nullptr, nullptr, nullptr));
}

TEST(ValidateDefinitionGraph, FailsAsValidateDefinitionDoes) {
  WorkflowDefinition definition = Parse("name: 'w' steps { name: 'a' depends_on: 'zz' }");
  StepRegistry registry = RegistryFor({"a"});
  EXPECT_EQ(ValidateDefinitionGraph(definition, &registry).status(),
            ValidateDefinition(definition, &registry));
  EXPECT_FALSE(ValidateDefinition(definition, &registry).ok());
}

TEST(Fingerprint, IgnoresDependencyOrderAndFormatting) {
  WorkflowDefinition one = Parse(
      "name: 'w' steps { name: 'a' } steps { name: 'b' }"
      " steps { name: 'c' depends_on: ['a', 'b'] }");
  WorkflowDefinition two = Parse(R"pb(
    name: "w"
    steps { name: "a" }
    steps { name: "b" }
    steps { name: "c" depends_on: "b" depends_on: "a" }
  )pb");
  EXPECT_EQ(Fingerprint(one), Fingerprint(two));
  EXPECT_EQ(Fingerprint(one).size(), 16u);
}

// Every step's dependencies count as a set, whatever the step's place and size.
TEST(Fingerprint, IgnoresDependencyOrderInEveryStep) {
  WorkflowDefinition sorted;
  sorted.set_name("w");
  for (int i = 0; i < 40; ++i) {
    StepDefinition* step = sorted.add_steps();
    step->set_name(absl::StrCat("s", 100 + i));
    for (int d = 0; d < i; ++d) step->add_depends_on(absl::StrCat("s", 100 + d));
    if (i % 3 == 0) step->set_command(std::string(i * 10, 'x'));
  }
  WorkflowDefinition reversed = sorted;
  for (StepDefinition& step : *reversed.mutable_steps()) {
    std::reverse(step.mutable_depends_on()->begin(), step.mutable_depends_on()->end());
  }
  EXPECT_EQ(Fingerprint(reversed), Fingerprint(sorted));
  reversed.mutable_steps(20)->mutable_depends_on()->RemoveLast();
  EXPECT_NE(Fingerprint(reversed), Fingerprint(sorted));
}

TEST(Fingerprint, ChangesWithAnythingThatAffectsARun) {
  const WorkflowDefinition base =
      DefinitionBuilder("w").ShellStep("a", "echo a").Step("b", {"a"}).Build();
  const WorkflowDefinition variants[] = {
      DefinitionBuilder("other").ShellStep("a", "echo a").Step("b", {"a"}).Build(),
      DefinitionBuilder("w").ShellStep("a", "echo A").Step("b", {"a"}).Build(),
      DefinitionBuilder("w").ShellStep("a", "echo a").Step("b").Build(),
      DefinitionBuilder("w").Step("b").ShellStep("a", "echo a").Build(),
      DefinitionBuilder("w").ShellStep("a", "echo a").Step("b", {"a"}).Step("c").Build(),
      DefinitionBuilder("w").ShellStep("a", "echo a").FanIn("b", {"a"}).Build(),
  };
  for (const WorkflowDefinition& variant : variants) {
    SCOPED_TRACE(variant.ShortDebugString());
    EXPECT_NE(Fingerprint(base), Fingerprint(variant));
  }
}

// Each attribute of a graph changes how it runs, so it changes the fingerprint, and the
// changes a resume would report.
TEST(Fingerprint, ChangesWithEveryAttributeOfAGraph) {
  const WorkflowDefinition base = Parse(R"pb(
    name: "fix_loop"
    steps { name: "implement" command: "echo fix" }
    steps { name: "test" depends_on: "implement" command: "./test.sh" route: ROUTE_FIRST }
    steps { name: "done" command: "echo done" join: JOIN_ANY }
    edges { from: "test" to: "done" condition: "outcome=success" label: "pass" weight: 1 }
    edges { from: "test" to: "implement" condition: "outcome=fail" }
  )pb");
  const struct {
    const char* name;
    std::function<void(WorkflowDefinition&)> change;
  } kVariants[] = {
      {"condition", [](WorkflowDefinition& d) { d.mutable_edges(0)->set_condition("outcome=fail"); }},
      {"no condition", [](WorkflowDefinition& d) { d.mutable_edges(0)->clear_condition(); }},
      {"label", [](WorkflowDefinition& d) { d.mutable_edges(0)->set_label("ok"); }},
      {"no label", [](WorkflowDefinition& d) { d.mutable_edges(0)->clear_label(); }},
      {"weight", [](WorkflowDefinition& d) { d.mutable_edges(0)->set_weight(2); }},
      {"no weight", [](WorkflowDefinition& d) { d.mutable_edges(0)->clear_weight(); }},
      {"negative weight", [](WorkflowDefinition& d) { d.mutable_edges(0)->set_weight(-1); }},
      {"edge target", [](WorkflowDefinition& d) { d.mutable_edges(1)->set_to("test"); }},
      {"edge removed", [](WorkflowDefinition& d) { d.mutable_edges()->RemoveLast(); }},
      {"join all", [](WorkflowDefinition& d) { d.mutable_steps(2)->set_join(JOIN_ALL); }},
      {"join by default (all)", [](WorkflowDefinition& d) { d.mutable_steps(2)->clear_join(); }},
      {"join any elsewhere", [](WorkflowDefinition& d) { d.mutable_steps(0)->set_join(JOIN_ANY); }},
      {"route all", [](WorkflowDefinition& d) { d.mutable_steps(1)->set_route(ROUTE_ALL); }},
      {"route by default (all)", [](WorkflowDefinition& d) { d.mutable_steps(1)->clear_route(); }},
      {"step max_visits", [](WorkflowDefinition& d) { d.mutable_steps(0)->set_max_visits(3); }},
      {"another step's max_visits",
       [](WorkflowDefinition& d) { d.mutable_steps(1)->set_max_visits(3); }},
      {"workflow max_visits", [](WorkflowDefinition& d) { d.set_max_visits(3); }},
  };
  std::vector<std::string> seen = {Fingerprint(base)};
  for (const auto& v : kVariants) {
    SCOPED_TRACE(v.name);
    WorkflowDefinition variant = base;
    v.change(variant);
    EXPECT_NE(Fingerprint(variant), Fingerprint(base));
    EXPECT_THAT(seen, Not(Contains(Fingerprint(variant))));
    seen.push_back(Fingerprint(variant));
    EXPECT_THAT(DescribeChanges(base, variant), Not(IsEmpty()));
    // The same change made again fingerprints the same.
    WorkflowDefinition again = base;
    v.change(again);
    EXPECT_EQ(Fingerprint(again), Fingerprint(variant));
  }
  // A graph's dependencies count as a set too.
  WorkflowDefinition reordered = base;
  reordered.mutable_steps(1)->add_depends_on("done");
  WorkflowDefinition sorted = reordered;
  std::swap(*sorted.mutable_steps(1)->mutable_depends_on(0),
            *sorted.mutable_steps(1)->mutable_depends_on(1));
  EXPECT_EQ(Fingerprint(reordered), Fingerprint(sorted));
}

// Recorded histories keep the fingerprint of their definition, and a resume compares it: the
// same definition must fingerprint the same in every version. These values were computed when
// the test was written; a change to them breaks every recorded workflow.
TEST(Fingerprint, IsTheSameInEveryVersion) {
  const struct {
    const char* name;
    const char* definition;
    const char* fingerprint;
  } kCases[] = {
      {"two steps", "name: 'w' steps { name: 'a' } steps { name: 'b' depends_on: 'a' }",
       "677a73fa437b4fc4"},
      {"every field",
       R"pb(
         name: "every"
         steps {
           name: "a"
           command: "echo a"
           retry {
             max_attempts: 3
             initial_backoff { seconds: 1 }
             multiplier: 2
             max_backoff { seconds: 10 }
             non_retryable_codes: "INVALID_ARGUMENT"
           }
           timeout { seconds: 5 nanos: 500 }
           non_critical: true
           locks: "gpu"
           background: true
         }
         steps { name: "list" }
         steps {
           name: "each"
           depends_on: [ "list", "a" ]
           map_over: "list"
           map_concurrency: 2
         }
         steps { name: "join" kind: STEP_KIND_FAN_IN depends_on: "each" }
         steps { name: "sync" kind: STEP_KIND_SYNC }
         state {
           name: "total"
           reducer: REDUCER_SUM
           initial { number: 1 }
         }
         state {
           name: "names"
           reducer: REDUCER_APPEND
           initial { list { items: "x" } }
         }
         failure_policy: FAILURE_POLICY_CONTINUE
         budget: 2.5
         resources { name: "gpu" capacity: 1 }
       )pb",
       "01a142736b0e862c"},
      // A graph: edges with conditions, labels and weights, joins, routes and bounds. Checked
      // against `protoc --encode` of this text and FNV-1a 64 of "<size>:<bytes>".
      {"a graph",
       R"pb(
         name: "fix_loop"
         steps { name: "implement" command: "echo fix" join: JOIN_ANY max_visits: 4 }
         steps { name: "test" depends_on: "implement" command: "./test.sh" route: ROUTE_FIRST }
         steps { name: "done" command: "echo done" join: JOIN_ALL }
         edges { from: "test" to: "done" condition: "outcome=success" label: "pass" weight: 2 }
         edges { from: "test" to: "implement" condition: "outcome=fail" weight: -1 }
         max_visits: 10
       )pb",
       "278581b339581e28"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Fingerprint(Parse(c.definition)), c.fingerprint);
  }
}

TEST(DescribeChanges, ListsExpectedVersusFound) {
  WorkflowDefinition recorded =
      DefinitionBuilder("w").ShellStep("a", "echo a").Step("b", {"a"}).Step("gone").Build();
  WorkflowDefinition current =
      DefinitionBuilder("w").ShellStep("a", "echo A").Step("b", {"a", "new"}).Step("new").Build();
  EXPECT_THAT(DescribeChanges(recorded, current),
              ElementsAre("step 'a': command changed: expected \"echo a\", found \"echo A\"",
                          "step 'b': dependencies changed: expected [a], found [a, new]",
                          "step 'gone' removed", "step 'new' added"));
}

TEST(DescribeChanges, ReportsReordering) {
  EXPECT_THAT(DescribeChanges(DefinitionBuilder("w").Step("a").Step("b").Build(),
                              DefinitionBuilder("w").Step("b").Step("a").Build()),
              ElementsAre("steps reordered: expected [a, b], found [b, a]"));
}

TEST(DescribeChanges, ReportsChangedStepAndWorkflowOptions) {
  EXPECT_THAT(DescribeChanges(Parse("name: 'w' steps { name: 'a' retry { max_attempts: 2 } }"),
                              Parse("name: 'w' steps { name: 'a' retry { max_attempts: 3 } }")),
              ElementsAre("step 'a': options changed: expected {retry { max_attempts: 2 }}, "
                          "found {retry { max_attempts: 3 }}"));
  EXPECT_THAT(DescribeChanges(Parse("name: 'w' steps { name: 'a' } budget: 1"),
                              Parse("name: 'w' steps { name: 'a' } budget: 2")),
              ElementsAre("workflow options changed: expected {budget: 1}, found {budget: 2}"));
}

TEST(EffectiveDependencies, ASyncPointWaitsForEveryBackgroundBranchDefinedBeforeIt) {
  WorkflowDefinition definition = Parse(R"pb(
    name: "w"
    steps { name: "bg" background: true }
    steps { name: "bg_child" depends_on: "bg" }
    steps { name: "main" }
    steps { name: "sync" kind: STEP_KIND_SYNC depends_on: "main" }
    steps { name: "late_bg" background: true }
  )pb");
  std::vector<std::vector<int>> dependencies = EffectiveDependencies(definition);
  EXPECT_THAT(dependencies[3], ElementsAre(2, 0, 1));  // main as listed, then bg and bg_child
  EXPECT_THAT(dependencies[4], IsEmpty());
}

TEST(DescribeChanges, EmptyForTheSameDefinition) {
  WorkflowDefinition definition = DefinitionBuilder("w").Step("a").Step("b", {"a"}).Build();
  EXPECT_THAT(DescribeChanges(definition, definition), IsEmpty());
}

}  // namespace
}  // namespace chorus
