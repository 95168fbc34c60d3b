// Edge conditions (Edge.condition): when a visit of a step that ended takes an edge.
//
// A condition is tested on the outcome of the visit and on the workflow state:
//
//   outcome=fail
//   outcome = success && context.approved = yes
//   preferred_label != retry && context.tries = 3
//   context.reason = " a && b "
//
//   absl::StatusOr<Condition> condition = Condition::Parse(edge.condition());
//   if (!condition.ok()) return condition.status();
//   const bool taken = condition->Holds({"success", preferred_label, &state});
//
// Grammar:
//
//   condition := clause ( "&&" clause )*
//   clause    := operand ( "=" | "!=" ) value
//   operand   := "outcome" | "preferred_label" | "context." key
//
// Spaces (tabs and newlines too) around tokens are allowed and ignored. A condition holds when
// every clause does; the empty condition (or one of spaces only) holds always.
//   - A key is one or more of [A-Za-z0-9_.-].
//   - A value is the text up to the next "&&" or the end, with the spaces around it trimmed. It
//     may be empty ("context.x=" holds when x is missing or empty) and may not contain "=" or
//     "!". A value in double quotes ("...") is taken as written, spaces, "&&", "=" and "!"
//     included; in it \" stands for " and \\ for \.
//   - `outcome` compares with the visit's outcome; its value must be success, fail or
//     partial_success.
//   - `preferred_label` compares with the label the visit preferred (empty if none).
//   - `context.key` compares with the state value of key as text: a text as it is, a number in
//     decimal ("42", "-3"), a list as its items joined by "," ("a,b"). A missing key, or a value
//     of no kind, compares as the empty text.
//
// A malformed condition is an InvalidArgument error that quotes it and names the position
// (counting characters from 1; one past the end for a condition that ends too soon) and what
// was expected there:
//
//   condition "outcome=sucess": at position 9: expected success, fail or partial_success
//
// Thread-compatible.
#ifndef CHORUS_WORKFLOW_CONDITION_H_
#define CHORUS_WORKFLOW_CONDITION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/state.h"

namespace chorus {

// What a condition is tested on.
struct ConditionInput {
  absl::string_view outcome;           // "success", "fail" or "partial_success"
  absl::string_view preferred_label;   // empty if the visit chose none
  const StateValues* state = nullptr;  // null: every key missing
};

class Condition {
 public:
  // The empty condition: holds always.
  Condition() = default;

  // Parses `text` as the header describes; InvalidArgument if it is malformed.
  static absl::StatusOr<Condition> Parse(absl::string_view text);

  bool Holds(const ConditionInput& input) const;

  // Whether a clause tests `outcome`. The engine takes an edge whose condition does not only
  // for a visit that succeeded.
  bool TestsOutcome() const;

 private:
  struct Clause {
    enum class Operand { kOutcome, kPreferredLabel, kContext };
    Operand operand;
    std::string key;  // of kContext
    bool equal;       // "=", or "!="
    std::string value;
  };

  std::vector<Clause> clauses_;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_CONDITION_H_
