#include "event/events.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

TEST(Events, NamesStepAndAttemptOfEachKind) {
  struct Row {
    const char* event;  // text format
    absl::string_view kind;
    absl::string_view step;
    int attempt;
    bool workflow_terminal;
  };
  constexpr Row kRows[] = {
      {"", "unset", "", 0, false},
      {"workflow_started { fingerprint: 'fp' }", "workflow_started", "", 0, false},
      {"step_started { step: 'a' attempt: 3 }", "step_started", "a", 3, false},
      {"step_completed { step: 'b' attempt: 1 output: 'x' }", "step_completed", "b", 1, false},
      {"step_failed { step: 'c' attempt: 2 retryable: true }", "step_failed", "c", 2, false},
      {"step_cancelled { step: 'd' attempt: 4 reason: 'r' }", "step_cancelled", "d", 4, false},
      {"step_skipped { step: 'e' reason: 'r' }", "step_skipped", "e", 0, false},
      {"workflow_completed {}", "workflow_completed", "", 0, true},
      {"workflow_failed { step: 'c' }", "workflow_failed", "", 0, true},
      {"workflow_cancelled { reason: 'r' }", "workflow_cancelled", "", 0, true},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.kind);
    Event event;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(row.event, &event));
    EXPECT_EQ(KindName(event), row.kind);
    EXPECT_EQ(StepName(event), row.step);
    EXPECT_EQ(Attempt(event), row.attempt);
    EXPECT_EQ(IsWorkflowTerminal(event), row.workflow_terminal);
  }
}

TEST(Events, ErrorRoundTripKeepsCodeAndMessage) {
  struct Row {
    absl::StatusCode code;
    const char* message;
  };
  constexpr Row kRows[] = {
      {absl::StatusCode::kOk, ""},
      {absl::StatusCode::kCancelled, "deadline"},
      {absl::StatusCode::kUnknown, "?"},
      {absl::StatusCode::kInvalidArgument, "bad input"},
      {absl::StatusCode::kUnavailable, "disk full"},
      {absl::StatusCode::kDataLoss, "seq 7"},
      {absl::StatusCode::kUnauthenticated, "who are you"},
  };
  for (const Row& row : kRows) {
    const absl::Status status(row.code, row.message);
    SCOPED_TRACE(status.ToString());
    const Error error = ToError(status);
    EXPECT_EQ(error.code(), static_cast<int>(row.code));
    EXPECT_EQ(error.message(), row.message);
    EXPECT_EQ(FromError(error), status);
  }
}

TEST(Events, OutOfRangeErrorCodeReadsAsUnknown) {
  constexpr int kCodes[] = {-1, 17, 1000};
  for (const int code : kCodes) {
    SCOPED_TRACE(code);
    Error error;
    error.set_code(code);
    error.set_message("from a newer version");
    EXPECT_EQ(FromError(error), absl::UnknownError("from a newer version"));
  }
}

TEST(Events, RecordedAtRoundTripKeepsNanoseconds) {
  constexpr int64_t kUnixNanos[] = {
      0, 1, 999'999'999, 1'700'000'000'123'456'789, -1, -1'500'000'000,
  };
  for (const int64_t nanos : kUnixNanos) {
    SCOPED_TRACE(nanos);
    const absl::Time time = absl::FromUnixNanos(nanos);
    Event event;
    SetRecordedAt(time, &event);
    EXPECT_EQ(RecordedAt(event), time);
  }
}

}  // namespace
}  // namespace chorus
