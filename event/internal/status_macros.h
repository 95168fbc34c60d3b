// Status propagation macros, defined once for every module. Debian 12's Abseil (20220623)
// has none. (event/ is the lowest C++ module, so helpers that all modules share live here.)
//
//   CHORUS_RETURN_IF_ERROR(store.Append(id, seq, events));
//   CHORUS_ASSIGN_OR_RETURN(WorkflowState state, FoldHistory(id, events));
#ifndef CHORUS_EVENT_INTERNAL_STATUS_MACROS_H_
#define CHORUS_EVENT_INTERNAL_STATUS_MACROS_H_

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function if not OK.
#define CHORUS_RETURN_IF_ERROR(expr)                                     \
  do {                                                                   \
    absl::Status chorus_status_ = (expr);                                \
    if (ABSL_PREDICT_FALSE(!chorus_status_.ok())) return chorus_status_; \
  } while (false)

// Evaluates `expr` (an absl::StatusOr<T>); returns its status if not OK, else moves its value
// into `lhs`, which may be a declaration.
#define CHORUS_ASSIGN_OR_RETURN(lhs, expr) \
  CHORUS_ASSIGN_OR_RETURN_IMPL_(CHORUS_STATUS_CONCAT_(chorus_statusor_, __LINE__), lhs, expr)

#define CHORUS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)          \
  auto statusor = (expr);                                           \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) return statusor.status(); \
  lhs = std::move(statusor).value()

#define CHORUS_STATUS_CONCAT_(a, b) CHORUS_STATUS_CONCAT_IMPL_(a, b)
#define CHORUS_STATUS_CONCAT_IMPL_(a, b) a##b

#endif  // CHORUS_EVENT_INTERNAL_STATUS_MACROS_H_
