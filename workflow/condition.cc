#include "workflow/condition.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace chorus {
namespace {

constexpr absl::string_view kContext = "context.";
constexpr absl::string_view kExpectedOperand = "expected outcome, preferred_label or context.<key>";

bool IsKeyChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-'; }

bool IsOutcome(absl::string_view value) {
  return value == "success" || value == "fail" || value == "partial_success";
}

// The text the value of `key` in `state` compares as.
std::string StateText(const StateValues* state, const std::string& key) {
  if (state == nullptr) return "";
  const auto it = state->find(key);
  if (it == state->end()) return "";
  const Value& value = it->second;
  switch (value.kind_case()) {
    case Value::kText:
      return value.text();
    case Value::kNumber:
      return absl::StrCat(value.number());
    case Value::kList:
      return absl::StrJoin(value.list().items(), ",");
    case Value::KIND_NOT_SET:
      break;
  }
  return "";
}

// A condition read from left to right. Offsets are in bytes; errors show them as positions.
class Reader {
 public:
  explicit Reader(absl::string_view text) : text_(text) {}

  // Skips spaces; the offset of the next character (the text's size at its end).
  size_t Next() {
    while (at_ < text_.size() && absl::ascii_isspace(text_[at_])) ++at_;
    return at_;
  }

  bool AtEnd() { return Next() == text_.size(); }

  // Reads `token` if it comes next.
  bool Consume(absl::string_view token) {
    if (!absl::StartsWith(text_.substr(Next()), token)) return false;
    at_ += token.size();
    return true;
  }

  // Reads the longest run of key characters that comes next (maybe none).
  absl::string_view ReadWord() {
    const size_t start = Next();
    while (at_ < text_.size() && IsKeyChar(text_[at_])) ++at_;
    return text_.substr(start, at_ - start);
  }

  // Reads a value: a quoted one, or the text up to "&&", "=", "!" or the end, trimmed.
  absl::StatusOr<std::string> ReadValue() {
    if (Next() < text_.size() && text_[at_] == '"') return ReadQuoted();
    const size_t start = at_;
    while (at_ < text_.size() && text_[at_] != '=' && text_[at_] != '!' &&
           !absl::StartsWith(text_.substr(at_), "&&")) {
      ++at_;
    }
    return std::string(absl::StripAsciiWhitespace(text_.substr(start, at_ - start)));
  }

  // InvalidArgument: `expected` at offset `at`.
  absl::Status Error(size_t at, absl::string_view expected) const {
    return absl::InvalidArgumentError(
        absl::StrCat("condition \"", text_, "\": at position ", Position(at), ": ", expected));
  }

 private:
  // The 1-based position, in characters, of offset `at`: UTF-8 continuation bytes do not count.
  size_t Position(size_t at) const {
    const absl::string_view before = text_.substr(0, at);
    return 1 + std::count_if(before.begin(), before.end(),
                             [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; });
  }

  absl::StatusOr<std::string> ReadQuoted() {
    const size_t open = at_++;
    std::string value;
    while (at_ < text_.size()) {
      char c = text_[at_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (at_ == text_.size() || (text_[at_] != '"' && text_[at_] != '\\')) {
          return Error(at_, "expected \" or \\ after \\");
        }
        c = text_[at_++];
      }
      value += c;
    }
    return Error(
        at_, absl::StrCat("expected \" to close the value quoted at position ", Position(open)));
  }

  absl::string_view text_;
  size_t at_ = 0;
};

}  // namespace

absl::StatusOr<Condition> Condition::Parse(absl::string_view text) {
  Reader reader(text);
  Condition condition;
  if (reader.AtEnd()) return condition;
  do {
    Clause clause;
    const size_t operand_at = reader.Next();
    const absl::string_view word = reader.ReadWord();
    if (word == "outcome") {
      clause.operand = Clause::Operand::kOutcome;
    } else if (word == "preferred_label") {
      clause.operand = Clause::Operand::kPreferredLabel;
    } else if (absl::StartsWith(word, kContext)) {
      clause.operand = Clause::Operand::kContext;
      clause.key = std::string(word.substr(kContext.size()));
      if (clause.key.empty()) {
        return reader.Error(operand_at + kContext.size(),
                            "expected a key (letters, digits, _, . or -) after context.");
      }
    } else if (word.empty()) {
      return reader.Error(operand_at, kExpectedOperand);
    } else {
      return reader.Error(operand_at, absl::StrCat(kExpectedOperand, ", not \"", word, "\""));
    }
    if (reader.Consume("=")) {
      clause.equal = true;
    } else if (reader.Consume("!=")) {
      clause.equal = false;
    } else {
      return reader.Error(reader.Next(), "expected = or !=");
    }
    const size_t value_at = reader.Next();
    absl::StatusOr<std::string> value = reader.ReadValue();
    if (!value.ok()) return value.status();
    if (clause.operand == Clause::Operand::kOutcome && !IsOutcome(*value)) {
      return reader.Error(value_at, "expected success, fail or partial_success");
    }
    clause.value = *std::move(value);
    condition.clauses_.push_back(std::move(clause));
  } while (reader.Consume("&&"));
  if (!reader.AtEnd()) {
    const size_t at = reader.Next();
    return reader.Error(at, text[at] == '=' || text[at] == '!'
                                ? "expected && or the end (a value with = or ! must be quoted)"
                                : "expected && or the end");
  }
  return condition;
}

bool Condition::Holds(const ConditionInput& input) const {
  for (const Clause& clause : clauses_) {
    std::string actual;
    switch (clause.operand) {
      case Clause::Operand::kOutcome:
        actual = std::string(input.outcome);
        break;
      case Clause::Operand::kPreferredLabel:
        actual = std::string(input.preferred_label);
        break;
      case Clause::Operand::kContext:
        actual = StateText(input.state, clause.key);
        break;
    }
    if ((actual == clause.value) != clause.equal) return false;
  }
  return true;
}

bool Condition::TestsOutcome() const {
  return std::any_of(clauses_.begin(), clauses_.end(), [](const Clause& clause) {
    return clause.operand == Clause::Operand::kOutcome;
  });
}

}  // namespace chorus
