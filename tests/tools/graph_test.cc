#include "tools/graph.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tools/xml_characters.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

WorkflowDefinition Diamond() {
  WorkflowDefinition definition = DefinitionBuilder("diamond")
                                      .ShellStep("a", "echo a")
                                      .Step("split", {"a"})
                                      .ShellStep("b", "echo b", {"split"})
                                      .ShellStep("c", "echo c", {"split"})
                                      .Step("join", {"b", "c"})
                                      .ShellStep("d", "echo d", {"join"})
                                      .Build();
  definition.mutable_steps(1)->set_kind(STEP_KIND_FAN_OUT);
  definition.mutable_steps(4)->set_kind(STEP_KIND_FAN_IN);
  return definition;
}

// The state of `definition` with each step in the given status and attempt count.
WorkflowState StateOf(const WorkflowDefinition& definition,
                      std::initializer_list<std::pair<StepStatus, int>> steps) {
  WorkflowState state;
  state.set_definition(std::make_shared<const WorkflowDefinition>(definition));
  int index = 0;
  for (auto [status, attempts] : steps) {
    StepState step;
    step.name = definition.steps(index++).name();
    step.status = status;
    step.attempts = attempts;
    if (status == StepStatus::kFailed) step.error = absl::UnavailableError("disk full");
    state.AddStep(step);
  }
  return state;
}

TEST(RenderDot, HasANodePerStepAndAnEdgePerDependency) {
  std::string dot = RenderDot(Diamond(), /*state=*/nullptr);
  EXPECT_THAT(dot, StartsWith("digraph \"diamond\" {"));
  EXPECT_THAT(dot,
              AllOf(HasSubstr("\"a\" [shape=box];"), HasSubstr("\"split\" [shape=triangle];"),
                    HasSubstr("\"b\" [shape=box];"), HasSubstr("\"c\" [shape=box];"),
                    HasSubstr("\"join\" [shape=invtriangle];"), HasSubstr("\"d\" [shape=box];")));
  EXPECT_THAT(dot, AllOf(HasSubstr("\"a\" -> \"split\";"), HasSubstr("\"split\" -> \"b\";"),
                         HasSubstr("\"split\" -> \"c\";"), HasSubstr("\"b\" -> \"join\";"),
                         HasSubstr("\"c\" -> \"join\";"), HasSubstr("\"join\" -> \"d\";")));
  EXPECT_THAT(dot, Not(HasSubstr("label=")));  // the legend comes with a state
}

TEST(RenderDot, FillsEachStepWithItsStatusColour) {
  WorkflowDefinition definition = Diamond();
  WorkflowState state = StateOf(definition, {{StepStatus::kCompleted, 1},
                                             {StepStatus::kCompleted, 1},
                                             {StepStatus::kFailed, 2},
                                             {StepStatus::kCancelled, 1},
                                             {StepStatus::kSkipped, 0},
                                             {StepStatus::kPending, 0}});
  std::string dot = RenderDot(definition, &state);
  struct Case {
    const char* node;
    const char* shape;
    StepStatus status;
    const char* tooltip;
  };
  constexpr Case kCases[] = {
      {"a", "box", StepStatus::kCompleted, "completed, 1 attempt"},
      {"b", "box", StepStatus::kFailed, "failed, 2 attempts: disk full"},
      {"c", "box", StepStatus::kCancelled, "cancelled, 1 attempt"},
      {"join", "invtriangle", StepStatus::kSkipped, "skipped, 0 attempts"},
      {"d", "box", StepStatus::kPending, "pending, 0 attempts"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.node);
    EXPECT_THAT(dot, HasSubstr(absl::StrCat("\"", c.node, "\" [shape=", c.shape, ", fillcolor=\"",
                                            StepStatusColor(c.status), "\", tooltip=\"", c.tooltip,
                                            "\"];")));
  }
  EXPECT_THAT(dot, HasSubstr("label=\"grey: pending   blue: running   green: completed"));
}

TEST(RenderDot, StepsMissingFromTheStateArePending) {
  WorkflowDefinition definition = Diamond();
  WorkflowState state = StateOf(definition, {{StepStatus::kRunning, 1}});
  std::string dot = RenderDot(definition, &state);
  EXPECT_THAT(dot, HasSubstr(absl::StrCat("\"a\" [shape=box, fillcolor=\"",
                                          StepStatusColor(StepStatus::kRunning), "\"")));
  EXPECT_THAT(dot, HasSubstr(absl::StrCat("\"d\" [shape=box, fillcolor=\"",
                                          StepStatusColor(StepStatus::kPending), "\"")));
}

TEST(RenderDot, ShowsMapSyncAndBackgroundStepsByShapeAndStyle) {
  WorkflowDefinition definition = DefinitionBuilder("shapes")
                                      .ShellStep("list", "ls")
                                      .ShellStep("each", "cat", {"list"})
                                      .ShellStep("side", "true")
                                      .Step("sync", {"each"})
                                      .Build();
  definition.mutable_steps(1)->set_map_over("list");
  definition.mutable_steps(2)->set_background(true);
  definition.mutable_steps(3)->set_kind(STEP_KIND_SYNC);
  std::string dot = RenderDot(definition, nullptr);
  EXPECT_THAT(dot, AllOf(HasSubstr("\"each\" [shape=box3d];"),
                         HasSubstr("\"side\" [shape=box, style=\"rounded,filled,dashed\"];"),
                         HasSubstr("\"sync\" [shape=octagon];")));
  EXPECT_TRUE(RenderSvg(dot).ok());
  WorkflowState state = StateOf(definition, {});
  EXPECT_THAT(RenderDot(definition, &state),
              HasSubstr("\\nbox3d: map step (its instances below it)   octagon: sync point   "
                        "dashed: background step\";"));
}

// A map step "each" over "list", expanded into `count` instances, the first of them failed.
WorkflowState ExpandedMap(int count, bool non_critical) {
  WorkflowDefinition definition =
      DefinitionBuilder("map").ShellStep("list", "ls").ShellStep("each", "cat", {"list"}).Build();
  definition.mutable_steps(1)->set_map_over("list");
  definition.mutable_steps(1)->set_non_critical(non_critical);
  WorkflowState state =
      StateOf(definition, {{StepStatus::kCompleted, 1}, {StepStatus::kRunning, 1}});
  state.steps[1].expanded = true;
  for (int i = 0; i < count; ++i) {
    StepState instance;
    instance.name = absl::StrCat("each[", i, "]");
    instance.status = i == 0 ? StepStatus::kFailed : StepStatus::kCompleted;
    instance.attempts = 1;
    instance.map_of = 1;
    instance.mutable_details().map_index = i;
    instance.mutable_details().map_item = absl::StrCat("item ", i);
    state.steps[1].mutable_details().instances.push_back(static_cast<int>(state.steps.size()));
    state.AddStep(instance);
  }
  return state;
}

TEST(RenderDot, DrawsTheInstancesOfAMapStepInTheirColours) {
  WorkflowState state = ExpandedMap(2, /*non_critical=*/false);
  std::string dot = RenderDot(state.definition(), &state);
  EXPECT_THAT(dot, AllOf(HasSubstr(absl::StrCat("\"each[0]\" [shape=box, fontsize=10, fillcolor=\"",
                                                StepStatusColor(StepStatus::kFailed),
                                                "\", tooltip=\"item 0: failed, 1 attempt: \"];")),
                         HasSubstr(absl::StrCat("\"each[1]\" [shape=box, fontsize=10, fillcolor=\"",
                                                StepStatusColor(StepStatus::kCompleted), "\"")),
                         HasSubstr("\"each\" -> \"each[0]\" [style=dotted, arrowhead=none];"),
                         HasSubstr("\"each\" -> \"each[1]\" [style=dotted, arrowhead=none];")));
  EXPECT_TRUE(RenderSvg(dot).ok());
}

TEST(RenderDot, CountsTheInstancesPastTwelveInOneNode) {
  WorkflowState state = ExpandedMap(30, /*non_critical=*/false);
  std::string dot = RenderDot(state.definition(), &state);
  EXPECT_THAT(dot, AllOf(HasSubstr("\"each[11]\" [shape=box"), Not(HasSubstr("\"each[12]\"")),
                         HasSubstr("\"each[12..29]\" [shape=plaintext, style=\"\", label=\"18 "
                                   "more instances\"];")));
  EXPECT_TRUE(RenderSvg(dot).ok());
}

TEST(RenderDot, FillsATolerableFailurePinkNotRed) {
  WorkflowState state = ExpandedMap(1, /*non_critical=*/true);
  state.steps[1].status = StepStatus::kFailed;
  std::string dot = RenderDot(state.definition(), &state);
  EXPECT_THAT(dot, AllOf(HasSubstr("\"each\" [shape=box3d, fillcolor=\"#f4cccc\""),
                         HasSubstr("\"each[0]\" [shape=box, fontsize=10, fillcolor=\"#f4cccc\""),
                         HasSubstr("pink: failed, tolerated (non-critical)")));
}

// The fix loop of tools/definition_file.h, with a report after it: its edges from test are
// labelled in each way an edge can be, and done -> report has only a weight.
WorkflowDefinition FixLoop() {
  WorkflowDefinition definition = DefinitionBuilder("fix_loop")
                                      .ShellStep("implement", "./implement.sh")
                                      .ShellStep("test", "./test.sh", {"implement"})
                                      .ShellStep("done", "echo done")
                                      .ShellStep("report", "./report.sh")
                                      .Build();
  struct {
    const char* from;
    const char* to;
    const char* condition;
    const char* label;
  } edges[] = {{"test", "done", "outcome=success", ""},
               {"test", "implement", "outcome=fail", "retry"},
               {"test", "report", "", "always"},
               {"done", "report", "", ""}};
  for (const auto& e : edges) {
    Edge* edge = definition.add_edges();
    edge->set_from(e.from);
    edge->set_to(e.to);
    edge->set_condition(e.condition);
    edge->set_label(e.label);
  }
  definition.mutable_edges(3)->set_weight(2);
  return definition;
}

// Step `step` of `state` on its visit `visit`, whose latest ended visit took the edges to `taken`.
void SetVisit(WorkflowState& state, const std::string& step, int visit,
              std::initializer_list<const char*> taken) {
  StepDetails& details = state.steps[state.IndexOf(step)].mutable_details();
  details.visit = visit;
  for (const char* to : taken) details.taken.push_back(state.IndexOf(to));
}

TEST(RenderDot, LabelsEachEdgeWithItsConditionAndLabel) {
  const std::string dot = RenderDot(FixLoop(), /*state=*/nullptr);
  EXPECT_THAT(dot,
              AllOf(HasSubstr("  \"implement\" -> \"test\";\n"),
                    HasSubstr("  \"test\" -> \"done\" [label=\"outcome=success\"];\n"),
                    HasSubstr("  \"test\" -> \"implement\" [label=\"retry: outcome=fail\"];\n"),
                    HasSubstr("  \"test\" -> \"report\" [label=\"always\"];\n"),
                    HasSubstr("  \"done\" -> \"report\";\n"), Not(HasSubstr("weight"))));
  absl::StatusOr<std::string> svg = RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, AllOf(HasSubstr(">outcome=success</text>"),
                          HasSubstr(">retry: outcome=fail</text>"), HasSubstr(">always</text>")));
}

constexpr char kTaken[] = "color=\"#38761d\", penwidth=2";
constexpr char kNotTaken[] = "color=\"#9e9e9e\", fontcolor=\"#9e9e9e\", style=dashed";

TEST(RenderDot, ColoursTheEdgesThatTheLatestEndedVisitsTookAndDidNotTake) {
  const WorkflowDefinition definition = FixLoop();
  // implement's visit 3 completed, test's visit 2 failed and was routed back to implement.
  WorkflowState state = StateOf(definition, {{StepStatus::kCompleted, 1},
                                             {StepStatus::kFailed, 1},
                                             {StepStatus::kPending, 0},
                                             {StepStatus::kPending, 0}});
  SetVisit(state, "implement", 3, {"test"});
  SetVisit(state, "test", 2, {"implement"});
  const std::string dot = RenderDot(definition, &state);
  EXPECT_THAT(
      dot,
      AllOf(HasSubstr(absl::StrCat("  \"implement\" -> \"test\" [", kTaken, "];\n")),
            HasSubstr(absl::StrCat("  \"test\" -> \"implement\" [label=\"retry: outcome=fail\", ",
                                   kTaken, "];\n")),
            HasSubstr(absl::StrCat("  \"test\" -> \"done\" [label=\"outcome=success\", ", kNotTaken,
                                   "];\n")),
            HasSubstr(
                absl::StrCat("  \"test\" -> \"report\" [label=\"always\", ", kNotTaken, "];\n")),
            HasSubstr("  \"done\" -> \"report\";\n")));  // done has not run: undecided
  EXPECT_THAT(dot, AllOf(HasSubstr("\"implement\" [shape=box, label=\"implement ×3\", fillcolor="),
                         HasSubstr("tooltip=\"completed, visit 3, 1 attempt\""),
                         HasSubstr("\"test\" [shape=box, label=\"test ×2\", fillcolor="),
                         HasSubstr("tooltip=\"failed, visit 2, 1 attempt: disk full\""),
                         HasSubstr("\"done\" [shape=box, fillcolor="),
                         HasSubstr("\\nbold green edge: taken   dashed grey edge: not taken   "
                                   "black edge: not yet decided   ×N: on its visit N\";")));
  absl::StatusOr<std::string> svg = RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, AllOf(HasSubstr(">implement ×3</text>"), HasSubstr("stroke-dasharray")));
}

// A running visit, or a failure with a retry to come, has not decided its edges yet: whatever
// an earlier visit took, they are drawn plain.
TEST(RenderDot, EdgesFromAStepThatHasNotEndedAreUndecided) {
  const WorkflowDefinition definition = FixLoop();
  for (StepStatus status : {StepStatus::kRunning, StepStatus::kFailed}) {
    SCOPED_TRACE(StepStatusName(status));
    WorkflowState state = StateOf(definition, {{StepStatus::kCompleted, 1}, {status, 1}});
    SetVisit(state, "implement", 2, {"test"});
    SetVisit(state, "test", 2, {});
    state.steps[1].mutable_details().retry_at = absl::FromUnixSeconds(1'700'000'000);
    const std::string dot = RenderDot(definition, &state);
    EXPECT_THAT(dot,
                AllOf(HasSubstr(absl::StrCat("  \"implement\" -> \"test\" [", kTaken, "];\n")),
                      HasSubstr("  \"test\" -> \"done\" [label=\"outcome=success\"];\n"),
                      HasSubstr("  \"test\" -> \"implement\" [label=\"retry: outcome=fail\"];\n"),
                      HasSubstr("  \"test\" -> \"report\" [label=\"always\"];\n")));
  }
}

TEST(RenderDot, DrawsTheEdgesOfADagRunPlain) {
  const WorkflowDefinition definition = Diamond();
  WorkflowState state = StateOf(definition, {{StepStatus::kCompleted, 1},
                                             {StepStatus::kCompleted, 1},
                                             {StepStatus::kFailed, 1},
                                             {StepStatus::kCompleted, 1},
                                             {StepStatus::kSkipped, 0},
                                             {StepStatus::kSkipped, 0}});
  std::string dot = RenderDot(definition, &state);
  EXPECT_THAT(dot, AllOf(HasSubstr("  \"a\" -> \"split\";\n"), HasSubstr("  \"b\" -> \"join\";\n"),
                         Not(HasSubstr("penwidth")), Not(HasSubstr("dashed")),
                         Not(HasSubstr(" edge")), Not(HasSubstr("×"))));

  // Were a step of a DAG visited again, its edges would be drawn as a graph's: taken when
  // their source completed (a DAG's histories list no edges taken).
  state.steps[0].mutable_details().visit = 2;
  dot = RenderDot(definition, &state);
  EXPECT_THAT(dot, AllOf(HasSubstr(absl::StrCat("  \"a\" -> \"split\" [", kTaken, "];\n")),
                         HasSubstr(absl::StrCat("  \"b\" -> \"join\" [", kNotTaken, "];\n")),
                         HasSubstr(absl::StrCat("  \"join\" -> \"d\" [", kNotTaken, "];\n")),
                         HasSubstr("\"a\" [shape=box, label=\"a ×2\"")));
}

TEST(StepStatusColor, DiffersPerStatus) {
  const StepStatus statuses[] = {StepStatus::kPending,   StepStatus::kRunning,
                                 StepStatus::kCompleted, StepStatus::kFailed,
                                 StepStatus::kCancelled, StepStatus::kSkipped};
  for (StepStatus a : statuses) {
    for (StepStatus b : statuses) {
      if (a == b) continue;
      EXPECT_NE(StepStatusColor(a), StepStatusColor(b));
    }
  }
}

TEST(RenderDot, EscapesQuotesBackslashesAndNewlines) {
  WorkflowDefinition definition = DefinitionBuilder("say \"hi\"")
                                      .ShellStep("say \"hi\"\\", "echo")
                                      .ShellStep("two\nlines", "echo", {"say \"hi\"\\"})
                                      .Build();
  std::string dot = RenderDot(definition, nullptr);
  EXPECT_THAT(dot, StartsWith("digraph \"say \\\"hi\\\"\" {"));
  EXPECT_THAT(dot, HasSubstr("\"say \\\"hi\\\"\\\\\" -> \"two\\\\nlines\";"));
  // Graphviz reads it back and draws the names as they are, a line break in one as \n.
  absl::StatusOr<std::string> svg = RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg,
              AllOf(HasSubstr(">say &quot;hi&quot;\\</text>"), HasSubstr(">two\\nlines</text>")));
}

// Names as a history recorded before names were checked may hold them.
std::vector<std::string> OddNames() {
  return {"esc\x1b[2J", std::string("nul\0x", 5), "two\nlines", "say \"hi\"",
          "<tag>&amp;", "bad\xff\xfe utf8",       "dash--dash"};
}

// A chain of steps named OddNames(), each failed with an error of two lines.
WorkflowState OddChain() {
  WorkflowDefinition definition;
  definition.set_name("odd\x1b]0;title\x07 <&>");
  const std::vector<std::string> names = OddNames();
  for (size_t i = 0; i < names.size(); ++i) {
    StepDefinition* step = definition.add_steps();
    step->set_name(names[i]);
    if (i > 0) step->add_depends_on(names[i - 1]);
  }
  WorkflowState state = StateOf(definition, {});
  for (const std::string& name : names) {
    StepState step;
    step.name = name;
    step.status = StepStatus::kFailed;
    step.attempts = 1;
    step.error = absl::UnknownError("no\x1b[1m way\nout\xff");
    state.AddStep(step);
  }
  return state;
}

// Graphviz reads every name back as one node, and the SVG it draws holds only characters XML
// allows, the names shown as TerminalText shows them.
TEST(RenderDot, QuotesNamesWithControlCharactersForGraphvizAndValidXml) {
  const WorkflowState state = OddChain();
  for (const WorkflowState* drawn : {static_cast<const WorkflowState*>(nullptr), &state}) {
    SCOPED_TRACE(drawn == nullptr ? "definition" : "state");
    const std::string dot = RenderDot(state.definition(), drawn);
    EXPECT_TRUE(IsValidUtf8(dot));
    EXPECT_EQ(TerminalText(dot), absl::StrReplaceAll(dot, {{"\n", "\\n"}}))
        << "a control character other than a line break in " << dot;
    absl::StatusOr<std::string> svg = RenderSvg(dot);
    ASSERT_TRUE(svg.ok()) << svg.status();
    EXPECT_EQ(XmlCharacterProblem(*svg), "") << *svg;
    const std::vector<absl::string_view> nodes = absl::StrSplit(*svg, "class=\"node\"");
    EXPECT_EQ(nodes.size(), OddNames().size() + 1) << *svg;
    EXPECT_THAT(
        *svg,
        AllOf(HasSubstr(">esc\\x1B[2J</text>"), HasSubstr(">nul\\0x</text>"),
              HasSubstr(">two\\nlines</text>"), HasSubstr(">say &quot;hi&quot;</text>"),
              HasSubstr(">&lt;tag&gt;&amp;amp;</text>"), HasSubstr(">bad\\xFF\\xFE utf8</text>")));
  }
}

TEST(RenderSvg, DrawsTheGraph) {
  WorkflowDefinition definition = Diamond();
  WorkflowState state =
      StateOf(definition, {{StepStatus::kCompleted, 1}, {StepStatus::kFailed, 3}});
  absl::StatusOr<std::string> svg = RenderSvg(RenderDot(definition, &state));
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, AllOf(StartsWith("<?xml"), HasSubstr("<svg"), HasSubstr(">split<"),
                          HasSubstr(StepStatusColor(StepStatus::kFailed)),
                          HasSubstr("failed, 3 attempts: disk full")));
}

TEST(RenderSvg, RejectsBadDot) {
  absl::StatusOr<std::string> svg = RenderSvg("digraph {\n a -> -> b }");
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(svg.status().message()), HasSubstr("syntax error in line 2 near '->'"));
}

}  // namespace
}  // namespace chorus
