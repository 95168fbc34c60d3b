#include "event/state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "event/internal/status_macros.h"
#include "event/text.h"
#include "event/workflow_state.h"

namespace chorus {
namespace {

absl::string_view ReducerName(Reducer reducer) {
  switch (reducer) {
    case REDUCER_APPEND:
      return "append";
    case REDUCER_SUM:
      return "sum";
    case REDUCER_MIN:
      return "min";
    case REDUCER_MAX:
      return "max";
    default:
      return "last-write-wins";
  }
}

void Merge(Reducer reducer, const Value& update, Value& current) {
  switch (reducer) {
    case REDUCER_APPEND: {
      ValueList* list = current.mutable_list();
      if (update.has_list()) {
        for (const std::string& item : update.list().items()) list->add_items(item);
      } else {
        list->add_items(update.text());
      }
      break;
    }
    case REDUCER_SUM:
      current.set_number(current.number() + update.number());
      break;
    case REDUCER_MIN:
      current.set_number(current.has_number() ? std::min(current.number(), update.number())
                                              : update.number());
      break;
    case REDUCER_MAX:
      current.set_number(current.has_number() ? std::max(current.number(), update.number())
                                              : update.number());
      break;
    default:
      current = update;
  }
}

// A JSON string: quotes, backslashes and control characters escaped; other bytes as they are.
std::string Quoted(absl::string_view text) {
  std::string quoted = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      quoted.push_back('\\');
      quoted.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      absl::StrAppendFormat(&quoted, "\\u%04x", c);
    } else {
      quoted.push_back(static_cast<char>(c));
    }
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace

Reducer ReducerOf(const WorkflowDefinition& definition, absl::string_view key) {
  for (const StateKey& declared : definition.state()) {
    if (declared.name() == key) return declared.reducer();
  }
  return REDUCER_UNSPECIFIED;
}

absl::Status CheckUpdate(Reducer reducer, absl::string_view key, const Value& value) {
  bool fits = value.kind_case() != Value::KIND_NOT_SET;
  if (reducer == REDUCER_SUM || reducer == REDUCER_MIN || reducer == REDUCER_MAX) {
    fits = value.has_number();
  } else if (reducer == REDUCER_APPEND) {
    fits = value.has_text() || value.has_list();
  }
  if (fits) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("state key '", key, "' (", ReducerName(reducer),
                                                 ") cannot take ", ValueToJson(value)));
}

absl::Status CheckValueText(absl::string_view key, const Value& value) {
  bool valid = IsValidUtf8(value.text());
  for (const std::string& item : value.list().items()) valid = valid && IsValidUtf8(item);
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("state key '", key,
                   "': the value is not valid UTF-8 (state values are text; put bytes in "
                   "the step's output)"));
}

absl::Status ApplyUpdate(const WorkflowDefinition& definition, const StateUpdate& update,
                         StateValues& values) {
  const Reducer reducer = ReducerOf(definition, update.key());
  CHORUS_RETURN_IF_ERROR(CheckUpdate(reducer, update.key(), update.value()));
  Merge(reducer, update.value(), values[update.key()]);
  return absl::OkStatus();
}

StateValues InitialState(const WorkflowDefinition& definition) {
  StateValues values;
  for (const StateKey& key : definition.state()) {
    if (key.initial().kind_case() != Value::KIND_NOT_SET) values[key.name()] = key.initial();
  }
  return values;
}

StateValues MergeState(const WorkflowState& state, absl::Span<const int> steps) {
  StateValues values = InitialState(state.definition());
  for (int step : steps) {
    for (const StateUpdate& update : state.steps[step].details().state_updates) {
      ApplyUpdate(state.definition(), update, values).IgnoreError();  // checked when recorded
    }
  }
  return values;
}

std::vector<int> MergeOrder(const WorkflowState& state) {
  std::vector<int> order;
  const int defined =
      std::min(state.definition().steps_size(), static_cast<int>(state.steps.size()));
  for (int i = 0; i < defined; ++i) {
    order.push_back(i);
    const std::vector<int>& instances = state.steps[i].details().instances;
    order.insert(order.end(), instances.begin(), instances.end());
  }
  return order;
}

StateValues CompletedState(const WorkflowState& state) {
  // Only completions record updates: a step's are those of its completed visits, even when a
  // later visit failed or runs.
  return MergeState(state, MergeOrder(state));
}

std::string ValueToJson(const Value& value) {
  switch (value.kind_case()) {
    case Value::kText:
      return Quoted(value.text());
    case Value::kNumber:
      return absl::StrCat(value.number());
    case Value::kList: {
      std::vector<std::string> items;
      for (const std::string& item : value.list().items()) items.push_back(Quoted(item));
      return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
    }
    default:
      return "null";
  }
}

}  // namespace chorus
