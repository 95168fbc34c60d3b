#include "tools/timeline.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tools/xml_characters.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kSvgNamespace[] = "http://www.w3.org/2000/svg";
constexpr char kBar[] = "<rect class=\"bar ";
constexpr int kLegendBars = 4;  // the legend's sample bars come before the rows' bars

// Builds a history one event at a time, each recorded `seconds` after the start:
//   Start(0).Step("a", 1, 0.5).Completed("a", 1, 2.0).WorkflowCompleted(2.5);
class HistoryBuilder {
 public:
  HistoryBuilder& Start(double seconds, absl::string_view definition_name = "pipeline") {
    Add(seconds).mutable_workflow_started()->mutable_definition()->set_name(
        std::string(definition_name));
    return *this;
  }
  HistoryBuilder& Step(absl::string_view step, int attempt, double seconds) {
    StepStarted* started = Add(seconds).mutable_step_started();
    started->set_step(std::string(step));
    started->set_attempt(attempt);
    return *this;
  }
  HistoryBuilder& Completed(absl::string_view step, int attempt, double seconds) {
    StepCompleted* completed = Add(seconds).mutable_step_completed();
    completed->set_step(std::string(step));
    completed->set_attempt(attempt);
    return *this;
  }
  HistoryBuilder& Failed(absl::string_view step, int attempt, double seconds,
                         absl::string_view error) {
    StepFailed* failed = Add(seconds).mutable_step_failed();
    failed->set_step(std::string(step));
    failed->set_attempt(attempt);
    failed->mutable_error()->set_message(std::string(error));
    return *this;
  }
  HistoryBuilder& Cancelled(absl::string_view step, int attempt, double seconds) {
    StepCancelled* cancelled = Add(seconds).mutable_step_cancelled();
    cancelled->set_step(std::string(step));
    cancelled->set_attempt(attempt);
    cancelled->set_reason("a sibling failed");
    return *this;
  }
  HistoryBuilder& TimedOut(absl::string_view step, int attempt, double seconds) {
    Failed(step, attempt, seconds, "deadline passed");
    events_.back().mutable_step_failed()->set_timed_out(true);
    return *this;
  }
  HistoryBuilder& CompletedWithFailures(std::vector<std::string> failed_steps, double seconds) {
    WorkflowCompleted* completed = Add(seconds).mutable_workflow_completed();
    for (std::string& step : failed_steps) completed->add_failed_steps(std::move(step));
    return *this;
  }
  HistoryBuilder& WorkflowFailed(absl::string_view step, double seconds) {
    Add(seconds).mutable_workflow_failed()->set_step(std::string(step));
    return *this;
  }
  // Puts the last event, of a step, in the step's visit `visit`.
  HistoryBuilder& InVisit(int visit) {
    Event& event = events_.back();
    if (event.has_step_started()) event.mutable_step_started()->set_visit(visit);
    if (event.has_step_completed()) event.mutable_step_completed()->set_visit(visit);
    if (event.has_step_failed()) event.mutable_step_failed()->set_visit(visit);
    if (event.has_step_cancelled()) event.mutable_step_cancelled()->set_visit(visit);
    return *this;
  }
  std::vector<Event> Build() const { return events_; }

 private:
  Event& Add(double seconds) {
    Event& event = events_.emplace_back();
    event.set_seq(events_.size());
    SetRecordedAt(absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(seconds), &event);
    return event;
  }

  std::vector<Event> events_;
};

// Every value of attribute `name` in the elements of `svg` that start with `element_start`
// (e.g. kBar).
std::vector<double> AttributeValues(absl::string_view svg, absl::string_view element_start,
                                    absl::string_view name) {
  std::vector<double> values;
  std::string key = absl::StrCat(" ", name, "=\"");
  for (size_t at = svg.find(element_start); at != absl::string_view::npos;
       at = svg.find(element_start, at + 1)) {
    absl::string_view element = svg.substr(at, svg.find('>', at) - at);
    size_t value_at = element.find(key) + key.size();
    double value = 0;
    EXPECT_TRUE(
        absl::SimpleAtod(element.substr(value_at, element.find('"', value_at) - value_at), &value))
        << element;
    values.push_back(value);
  }
  return values;
}

TEST(Timeline, HasARowPerAttemptIncludingUnfinishedOnes) {
  std::vector<Event> events = HistoryBuilder()
                                  .Start(0)
                                  .Step("fetch", 1, 0)
                                  .Completed("fetch", 1, 1)
                                  .Step("parse", 1, 1)
                                  .Step("index", 1, 1)
                                  .Failed("parse", 1, 2, "bad <input> & \"worse\"")
                                  .Cancelled("index", 1, 2)
                                  .Step("parse", 2, 3)  // cut off: never finished
                                  .Step("index", 2, 3)
                                  .Completed("index", 2, 4)
                                  .Build();
  std::string svg = RenderTimelineSvg("w-1", events);
  EXPECT_THAT(svg, AllOf(HasSubstr(">fetch #1<"), HasSubstr(">parse #1<"), HasSubstr(">index #1<"),
                         HasSubstr(">parse #2<"), HasSubstr(">index #2<")));
  EXPECT_THAT(AttributeValues(svg, kBar, "y"), SizeIs(kLegendBars + 5));
  struct Case {
    const char* label;
    const char* bar_class;
    double start_seconds;
    double end_seconds;
    const char* title;
  };
  constexpr Case kCases[] = {
      {"fetch #1", "completed", 0, 1, "fetch attempt 1: completed"},
      {"parse #1", "failed", 1, 2, "error: bad &lt;input&gt; &amp; &quot;worse&quot;"},
      {"index #1", "cancelled", 1, 2, "reason: a sibling failed"},
      {"parse #2", "unfinished", 3, 4, "no outcome recorded: still running, or cut off"},
      {"index #2", "completed", 3, 4, "duration 1.000 s"},
  };
  // The chart spans 4 s; the bars start at the x of 0 s, the first bar's.
  std::vector<double> x = AttributeValues(svg, kBar, "x");
  std::vector<double> width = AttributeValues(svg, kBar, "width");
  double origin = x[kLegendBars], pixels_per_second = width[kLegendBars];
  for (int i = 0; i < 5; ++i) {
    const Case& c = kCases[i];
    SCOPED_TRACE(c.label);
    size_t row = svg.find(absl::StrCat(">", c.label, "<"));
    size_t group = svg.rfind("<g>", row);
    absl::string_view row_svg = absl::string_view(svg).substr(group, svg.find("</g>", row) - group);
    EXPECT_THAT(row_svg, AllOf(HasSubstr(c.title),
                               HasSubstr(absl::StrCat("class=\"bar ", c.bar_class, "\""))));
    EXPECT_NEAR(x[kLegendBars + i], origin + c.start_seconds * pixels_per_second, 0.1);
    EXPECT_NEAR(width[kLegendBars + i], (c.end_seconds - c.start_seconds) * pixels_per_second, 0.1);
  }
}

// Each visit of a step (a loop ran it again) has attempts of its own, each a row.
TEST(Timeline, HasARowPerAttemptOfEachVisit) {
  std::vector<Event> events = HistoryBuilder()
                                  .Start(0)
                                  .Step("implement", 1, 0)
                                  .Completed("implement", 1, 1)
                                  .Step("test", 1, 1)
                                  .Failed("test", 1, 2, "3 tests fail")
                                  .Step("implement", 1, 2)
                                  .InVisit(2)
                                  .Completed("implement", 1, 3)
                                  .InVisit(2)
                                  .Step("test", 1, 3)
                                  .InVisit(2)
                                  .Failed("test", 1, 4, "1 test fails")
                                  .InVisit(2)
                                  .Step("test", 2, 4)
                                  .InVisit(2)
                                  .Completed("test", 2, 5)
                                  .InVisit(2)
                                  .Build();
  std::string svg = RenderTimelineSvg("loop", events);
  EXPECT_THAT(AttributeValues(svg, kBar, "y"), SizeIs(kLegendBars + 5));
  struct Case {
    const char* label;
    const char* bar_class;
    double start_seconds;
    const char* title;
  };
  constexpr Case kCases[] = {
      {"implement #1", "completed", 0, "implement attempt 1: completed"},
      {"test #1", "failed", 1, "test attempt 1: failed"},
      {"implement#2 #1", "completed", 2, "implement visit 2 attempt 1: completed"},
      {"test#2 #1", "failed", 3, "test visit 2 attempt 1: failed"},
      {"test#2 #2", "completed", 4, "test visit 2 attempt 2: completed"},
  };
  std::vector<double> x = AttributeValues(svg, kBar, "x");
  std::vector<double> width = AttributeValues(svg, kBar, "width");
  double origin = x[kLegendBars], pixels_per_second = width[kLegendBars];
  for (int i = 0; i < 5; ++i) {
    const Case& c = kCases[i];
    SCOPED_TRACE(c.label);
    size_t row = svg.find(absl::StrCat(">", c.label, "<"));
    ASSERT_NE(row, std::string::npos);
    size_t group = svg.rfind("<g>", row);
    absl::string_view row_svg = absl::string_view(svg).substr(group, svg.find("</g>", row) - group);
    EXPECT_THAT(row_svg, AllOf(HasSubstr(c.title),
                               HasSubstr(absl::StrCat("class=\"bar ", c.bar_class, "\""))));
    EXPECT_NEAR(x[kLegendBars + i], origin + c.start_seconds * pixels_per_second, 0.1);
    EXPECT_NEAR(width[kLegendBars + i], pixels_per_second, 0.1);  // each took 1 s
  }
  EXPECT_THAT(svg, AllOf(HasSubstr("error: 1 test fails"), Not(HasSubstr("implement#1"))));
}

TEST(Timeline, HasATimeAxisInSeconds) {
  std::string svg = RenderTimelineSvg(
      "w", HistoryBuilder().Start(0).Step("a", 1, 0).Completed("a", 1, 10).Build());
  for (int second = 0; second <= 10; ++second) {
    SCOPED_TRACE(second);
    EXPECT_THAT(svg, HasSubstr(absl::StrCat(">", second, "s</text>")));
  }
  EXPECT_THAT(svg, Not(HasSubstr(">11s</text>")));
}

TEST(Timeline, EscapesNames) {
  std::string svg = RenderTimelineSvg(
      "<id & \"quotes\">",
      HistoryBuilder().Start(0).Step("a<b>&c\x01", 1, 0).Completed("a<b>&c\x01", 1, 1).Build());
  EXPECT_THAT(svg, AllOf(HasSubstr(">a&lt;b&gt;&amp;c\\x01 #1<"),
                         HasSubstr("&lt;id &amp; &quot;quotes&quot;&gt;"), Not(HasSubstr("a<b>")),
                         Not(HasSubstr("\x01"))));
}

// Names and messages as a history recorded before names were checked may hold them: shown as
// TerminalText shows them (a message keeps its lines), with only characters XML allows.
TEST(Timeline, ShowsNamesWithControlCharactersInValidXml) {
  const std::string names[] = {"esc\x1b[2J", std::string("nul\0x", 5), "two\nlines", "say \"hi\"",
                               "<tag>&amp;", "bad\xff\xfe utf8"};
  HistoryBuilder history;
  history.Start(0, "def\x1b]0;title\x07 <&>");
  for (const std::string& name : names) {
    history.Step(name, 1, 0).Failed(name, 1, 1, "no\x1b[1m way\nout\xff");
  }
  const std::vector<Event> events = history.WorkflowFailed(names[2], 2).Build();
  const std::string id = "w\x1b[31m\nid <&>";
  for (const std::string& document :
       {RenderTimelineSvg(id, events), RenderTimelineHtml(id, events)}) {
    EXPECT_EQ(XmlCharacterProblem(document), "") << document;
    EXPECT_THAT(document,
                AllOf(HasSubstr(">esc\\x1B[2J #1<"), HasSubstr(">nul\\0x #1<"),
                      HasSubstr(">two\\nlines #1<"), HasSubstr(">say &quot;hi&quot; #1<"),
                      HasSubstr(">&lt;tag&gt;&amp;amp; #1<"), HasSubstr(">bad\\xFF\\xFE utf8 #1<"),
                      HasSubstr("error: no\\x1B[1m way\nout\\xFF</title>"),
                      HasSubstr("workflow w\\x1B[31m\\nid &lt;&amp;&gt;")));
  }
  EXPECT_THAT(RenderTimelineHtml(id, events),
              AllOf(HasSubstr("<b>def\\x1B]0;title\\x07 &lt;&amp;&gt;</b>"),
                    HasSubstr("<b>failed (step 'two\\nlines')</b>")));
}

TEST(Timeline, HtmlIsSelfContained) {
  std::string html = RenderTimelineHtml("w-7", HistoryBuilder()
                                                   .Start(0, "nightly")
                                                   .Step("a", 1, 0.25)
                                                   .Failed("a", 1, 1.5, "boom")
                                                   .WorkflowFailed("a", 1.75)
                                                   .Build());
  EXPECT_THAT(html, AllOf(HasSubstr("<h1>Workflow w-7</h1>"), HasSubstr("<b>nightly</b>"),
                          HasSubstr("<b>failed (step 'a')</b>"), HasSubstr("<b>1.750 s</b>"),
                          HasSubstr("<svg"), HasSubstr(">a #1<")));
  std::string without_namespace = html;
  size_t at = without_namespace.find(kSvgNamespace);
  ASSERT_NE(at, std::string::npos);
  without_namespace.erase(at, sizeof(kSvgNamespace) - 1);
  for (const char* fetches :
       {"http://", "https://", "<script", "src=", "href", "url(", "@import"}) {
    SCOPED_TRACE(fetches);
    EXPECT_THAT(without_namespace, Not(HasSubstr(fetches)));
  }
}

TEST(Timeline, SaysWhichAttemptTimedOut) {
  std::string svg = RenderTimelineSvg(
      "w-8", HistoryBuilder().Start(0).Step("slow", 1, 0).TimedOut("slow", 1, 2).Build());
  EXPECT_THAT(svg, HasSubstr("error: timed out: deadline passed"));
}

TEST(Timeline, HeaderNamesTheFailedStepsOfAWorkflowCompletedWithFailures) {
  std::string html = RenderTimelineHtml("w-9", HistoryBuilder()
                                                   .Start(0)
                                                   .Step("a", 1, 0)
                                                   .Failed("a", 1, 1, "no")
                                                   .Step("b", 1, 0)
                                                   .Failed("b", 1, 1, "no")
                                                   .CompletedWithFailures({"a", "b"}, 2)
                                                   .Build());
  EXPECT_THAT(html, HasSubstr("status <b>completed with failures (a, b)</b>"));
}

TEST(Timeline, EmptyHistoryGivesAnEmptyChart) {
  std::string html = RenderTimelineHtml("nothing", {});
  EXPECT_THAT(html, AllOf(HasSubstr("<b>running</b>"), HasSubstr("</svg>")));
  EXPECT_THAT(AttributeValues(html, kBar, "y"), SizeIs(kLegendBars));
}

TEST(Timeline, ThousandStepsGetRowsOfTheirOwn) {
  HistoryBuilder history;
  history.Start(0);
  for (int i = 0; i < 1000; ++i) {
    std::string step =
        absl::StrCat("step_", i, i % 10 == 0 ? "_with_a_name_far_too_long_to_show_whole" : "");
    history.Step(step, 1, i * 0.01).Completed(step, 1, i * 0.01 + 0.5);
  }
  std::string svg = RenderTimelineSvg("big", history.Build());
  EXPECT_LT(svg.size(), 1'000'000u);

  std::vector<double> bar_y = AttributeValues(svg, kBar, "y");
  std::vector<double> label_y = AttributeValues(svg, "<text class=\"label\"", "y");
  ASSERT_THAT(label_y, SizeIs(1000));
  bar_y.erase(bar_y.begin(), bar_y.begin() + kLegendBars);
  ASSERT_THAT(bar_y, SizeIs(1000));
  std::vector<double> heights = AttributeValues(svg, kBar, "height");
  double bar_height = heights.back();
  for (std::vector<double>* ys : {&bar_y, &label_y}) {
    std::sort(ys->begin(), ys->end());
    for (size_t i = 1; i < ys->size(); ++i) EXPECT_GE((*ys)[i] - (*ys)[i - 1], bar_height);
  }
  // Labels are shortened so they never run into the bars.
  std::vector<double> label_x = AttributeValues(svg, "<text class=\"label\"", "x");
  double first_bar_x = AttributeValues(svg, kBar, "x")[kLegendBars];
  EXPECT_THAT(svg, HasSubstr(">step_990_with_a_name_far_too_long_to_show_who...<"));
  EXPECT_GT(first_bar_x, label_x[0] + 48 * 7.2);  // 48 characters of 12px monospace
}

}  // namespace
}  // namespace chorus
