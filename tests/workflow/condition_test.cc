#include "workflow/condition.h"

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

Value Text(absl::string_view text) {
  Value value;
  value.set_text(std::string(text));
  return value;
}

Value Number(int64_t number) {
  Value value;
  value.set_number(number);
  return value;
}

Value List(std::initializer_list<const char*> items) {
  Value value;
  ValueList* list = value.mutable_list();  // a list even with no items
  for (const char* item : items) list->add_items(item);
  return value;
}

const StateValues& TestState() {
  static const StateValues* const kState = new StateValues{
      {"name", Text("alice")},
      {"count", Number(42)},
      {"negative", Number(-3)},
      {"tags", List({"a", "b"})},
      {"no_tags", List({})},
      {"blank", Text("")},
      {"no_kind", Value()},
      {"padded", Text(" x ")},
      {"phrase", Text("hello world")},
      {"formula", Text("a=b && !c")},
      {"quoted", Text("say \"hi\"")},
      {"path", Text("a\\b")},
      {"ampersand", Text("a&b")},
      {"inner_quote", Text("a\"b")},
      {"city", Text("Z\xc3\xbcrich")},
      {"dotted.key-1", Text("v")},
  };
  return *kState;
}

TEST(Condition, HoldsOnOutcomeLabelAndState) {
  struct Row {
    absl::string_view condition;
    absl::string_view outcome;
    absl::string_view preferred_label;
    bool holds;
  };
  const Row kRows[] = {
      // The empty condition.
      {"", "success", "", true},
      {"", "fail", "", true},
      {"   ", "partial_success", "", true},
      // outcome.
      {"outcome=success", "success", "", true},
      {"outcome=success", "fail", "", false},
      {"outcome = fail", "fail", "", true},
      {"outcome=partial_success", "partial_success", "", true},
      {"outcome=partial_success", "success", "", false},
      {"outcome!=success", "fail", "", true},
      {"outcome != success", "success", "", false},
      {"\toutcome\t=\tsuccess\n", "success", "", true},
      // preferred_label.
      {"preferred_label=retry", "success", "retry", true},
      {"preferred_label=retry", "success", "done", false},
      {"preferred_label=retry", "success", "", false},
      {"preferred_label=", "success", "", true},
      {"preferred_label!=", "success", "", false},
      {"preferred_label != retry", "success", "done", true},
      // context: text, compared exactly.
      {"context.name=alice", "success", "", true},
      {"context.name = alice ", "success", "", true},
      {"context.name=Alice", "success", "", false},
      {"context.name=alic", "success", "", false},
      {"context.name!=bob", "success", "", true},
      {"context.name!=alice", "success", "", false},
      {"context.phrase = hello world", "success", "", true},
      {"context.ampersand=a&b", "success", "", true},
      {"context.inner_quote=a\"b", "success", "", true},
      {"context.city=Z\xc3\xbcrich", "success", "", true},
      {"context.dotted.key-1=v", "success", "", true},
      // context: numbers in decimal.
      {"context.count=42", "success", "", true},
      {"context.count=042", "success", "", false},
      {"context.count!=41", "success", "", true},
      {"context.negative=-3", "success", "", true},
      // context: lists joined by ",".
      {"context.tags=a,b", "success", "", true},
      {"context.tags=a, b", "success", "", false},
      {"context.tags=a", "success", "", false},
      {"context.no_tags=", "success", "", true},
      // context: a missing key, an empty text and a value of no kind compare as empty.
      {"context.missing=", "success", "", true},
      {"context.missing = ", "success", "", true},
      {"context.missing!=", "success", "", false},
      {"context.missing=x", "success", "", false},
      {"context.missing!=x", "success", "", true},
      {"context.blank=", "success", "", true},
      {"context.no_kind=", "success", "", true},
      {"context.name=", "success", "", false},
      // Quoted values: as written, with \" and \\ escapes.
      {"context.padded=\" x \"", "success", "", true},
      {"context.padded= x ", "success", "", false},
      {"context.formula=\"a=b && !c\"", "success", "", true},
      {"context.quoted=\"say \\\"hi\\\"\"", "success", "", true},
      {"context.path=\"a\\\\b\"", "success", "", true},
      {"context.missing=\"\"", "success", "", true},
      {"context.name = \"alice\" && outcome = success", "success", "", true},
      {"outcome=\"fail\"", "fail", "", true},
      // && chains: every clause must hold.
      {"outcome=success && context.name=alice", "success", "", true},
      {"outcome=success&&context.name=alice", "success", "", true},
      {"outcome=success && context.name=bob", "success", "", false},
      {"outcome=success && context.name=alice", "fail", "", false},
      {"outcome!=fail && preferred_label=a && context.count=42", "success", "a", true},
      {"outcome!=fail && preferred_label=a && context.count=42", "success", "b", false},
      {"context.missing= && context.count!=0", "success", "", true},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.condition)));
    const absl::StatusOr<Condition> condition = Condition::Parse(row.condition);
    ASSERT_TRUE(condition.ok()) << condition.status();
    EXPECT_EQ(condition->Holds({row.outcome, row.preferred_label, &TestState()}), row.holds);
  }
}

TEST(Condition, WithoutAStateEveryKeyIsMissing) {
  const ConditionInput input = {"success", "", nullptr};
  EXPECT_TRUE(Condition::Parse("context.name=").value().Holds(input));
  EXPECT_FALSE(Condition::Parse("context.name=alice").value().Holds(input));
  EXPECT_TRUE(Condition::Parse("context.name!=alice && outcome=success").value().Holds(input));
}

TEST(Condition, DefaultIsTheEmptyConditionWhichHoldsAlways) {
  const Condition condition;
  EXPECT_TRUE(condition.Holds({"fail", "", nullptr}));
  EXPECT_FALSE(condition.TestsOutcome());
}

TEST(Condition, TestsOutcomeWhenAClauseDoes) {
  struct Row {
    absl::string_view condition;
    bool tests_outcome;
  };
  const Row kRows[] = {
      {"", false},
      {"preferred_label=retry", false},
      {"context.outcome=fail", false},
      {"context.x=\"outcome=fail\"", false},
      {"outcome=fail", true},
      {"outcome!=success", true},
      {"context.x=1 && outcome=partial_success", true},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.condition)));
    const absl::StatusOr<Condition> condition = Condition::Parse(row.condition);
    ASSERT_TRUE(condition.ok()) << condition.status();
    EXPECT_EQ(condition->TestsOutcome(), row.tests_outcome);
  }
}

TEST(Condition, MalformedConditionsNameThePositionAndWhatWasExpected) {
  struct Row {
    absl::string_view condition;
    absl::string_view message;
  };
  const Row kRows[] = {
      // Outcomes.
      {"outcome=sucess",
       "condition \"outcome=sucess\": at position 9: expected success, fail or partial_success"},
      {"outcome = Success",
       "condition \"outcome = Success\": at position 11: "
       "expected success, fail or partial_success"},
      {"outcome=",
       "condition \"outcome=\": at position 9: expected success, fail or partial_success"},
      {"outcome == success",
       "condition \"outcome == success\": at position 10: "
       "expected success, fail or partial_success"},
      {"outcome = \"sucess\"",
       "condition \"outcome = \"sucess\"\": at position 11: "
       "expected success, fail or partial_success"},
      // Operands.
      {"outcome = success &&",
       "condition \"outcome = success &&\": at position 21: "
       "expected outcome, preferred_label or context.<key>"},
      {"outcome = fail &&   ",
       "condition \"outcome = fail &&   \": at position 21: "
       "expected outcome, preferred_label or context.<key>"},
      {"outcome = fail && && context.x = 1",
       "condition \"outcome = fail && && context.x = 1\": at position 19: "
       "expected outcome, preferred_label or context.<key>"},
      {"&& outcome = fail",
       "condition \"&& outcome = fail\": at position 1: "
       "expected outcome, preferred_label or context.<key>"},
      {"= success",
       "condition \"= success\": at position 1: "
       "expected outcome, preferred_label or context.<key>"},
      {"outcom=success",
       "condition \"outcom=success\": at position 1: "
       "expected outcome, preferred_label or context.<key>, not \"outcom\""},
      {"  state.x = 1",
       "condition \"  state.x = 1\": at position 3: "
       "expected outcome, preferred_label or context.<key>, not \"state.x\""},
      {"context=x",
       "condition \"context=x\": at position 1: "
       "expected outcome, preferred_label or context.<key>, not \"context\""},
      // Keys.
      {"context.=x",
       "condition \"context.=x\": at position 9: "
       "expected a key (letters, digits, _, . or -) after context."},
      {"context. x = 1",
       "condition \"context. x = 1\": at position 9: "
       "expected a key (letters, digits, _, . or -) after context."},
      // Operators.
      {"outcome", "condition \"outcome\": at position 8: expected = or !="},
      {"outcome success", "condition \"outcome success\": at position 9: expected = or !="},
      {"outcome ! = success", "condition \"outcome ! = success\": at position 9: expected = or !="},
      {"context.a b = c", "condition \"context.a b = c\": at position 11: expected = or !="},
      {"context.a/b = c", "condition \"context.a/b = c\": at position 10: expected = or !="},
      // What follows a value.
      {"context.x = a=b",
       "condition \"context.x = a=b\": at position 14: "
       "expected && or the end (a value with = or ! must be quoted)"},
      {"context.x = wow!",
       "condition \"context.x = wow!\": at position 16: "
       "expected && or the end (a value with = or ! must be quoted)"},
      {"context.x == y",
       "condition \"context.x == y\": at position 12: "
       "expected && or the end (a value with = or ! must be quoted)"},
      {"context.x = \"a\" b",
       "condition \"context.x = \"a\" b\": at position 17: expected && or the end"},
      {"context.x = \"a\"\"b\"",
       "condition \"context.x = \"a\"\"b\"\": at position 16: expected && or the end"},
      // Quoted values.
      {"context.x = \"abc",
       "condition \"context.x = \"abc\": at position 17: "
       "expected \" to close the value quoted at position 13"},
      {"context.x = \"a\\\" && outcome = fail",
       "condition \"context.x = \"a\\\" && outcome = fail\": at position 35: "
       "expected \" to close the value quoted at position 13"},
      {"context.x = \"a\\nb\"",
       "condition \"context.x = \"a\\nb\"\": at position 16: expected \" or \\ after \\"},
      {"context.x = \"a\\",
       "condition \"context.x = \"a\\\": at position 16: expected \" or \\ after \\"},
      // Positions count characters, not bytes: "ü" is two bytes.
      {"context.city = Z\xc3\xbcrich = x",
       "condition \"context.city = Z\xc3\xbcrich = x\": at position 23: "
       "expected && or the end (a value with = or ! must be quoted)"},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.condition)));
    const absl::StatusOr<Condition> condition = Condition::Parse(row.condition);
    EXPECT_EQ(condition.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(condition.status().message(), row.message);
  }
}

}  // namespace
}  // namespace chorus
