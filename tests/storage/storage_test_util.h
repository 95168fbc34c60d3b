// Events and files for the storage tests: a one-step workflow ("order", whose step is
// "charge"), each event recorded at TimeOfSeq(seq), and helpers that show a history as text.
#ifndef CHORUS_TESTS_STORAGE_STORAGE_TEST_UTIL_H_
#define CHORUS_TESTS_STORAGE_STORAGE_TEST_UTIL_H_

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/events.h"
#include "gtest/gtest.h"
#include "proto/event.pb.h"
#include "storage/event_store.h"

namespace chorus {

// Nanoseconds included, to check that stores keep them.
inline absl::Time TimeOfSeq(int64_t seq) {
  return absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(seq) + absl::Nanoseconds(seq);
}

inline Event EventAt(int64_t seq) {
  Event event;
  event.set_seq(seq);
  SetRecordedAt(TimeOfSeq(seq), &event);
  return event;
}

inline Event StartedEvent(int64_t seq = 1) {
  Event event = EventAt(seq);
  WorkflowStarted* started = event.mutable_workflow_started();
  started->mutable_definition()->set_name("order");
  started->mutable_definition()->add_steps()->set_name("charge");
  started->set_input("42");
  return event;
}

// StartedEvent() with `extra_steps` more steps, "extra-0", "extra-1"...: with the default, a
// row of about 2 MB, which LoadWorkflowState parses on a thread of its own while it folds.
inline Event LargeStartedEvent(int extra_steps = 40000) {
  Event event = StartedEvent();
  WorkflowDefinition* definition = event.mutable_workflow_started()->mutable_definition();
  for (int i = 0; i < extra_steps; ++i) {
    StepDefinition* step = definition->add_steps();
    step->set_name(absl::StrCat("extra-", i));
    step->set_command("echo a step of a large workflow");
  }
  return event;
}

inline Event StepStartedEvent(int64_t seq, int attempt = 1) {
  Event event = EventAt(seq);
  event.mutable_step_started()->set_step("charge");
  event.mutable_step_started()->set_attempt(attempt);
  return event;
}

inline Event StepCompletedEvent(int64_t seq, int attempt = 1) {
  Event event = EventAt(seq);
  event.mutable_step_completed()->set_step("charge");
  event.mutable_step_completed()->set_attempt(attempt);
  event.mutable_step_completed()->set_output("charged");
  return event;
}

inline Event CompletedEvent(int64_t seq) {
  Event event = EventAt(seq);
  event.mutable_workflow_completed();
  return event;
}

inline Event FailedEvent(int64_t seq) {
  Event event = EventAt(seq);
  event.mutable_workflow_failed()->set_step("charge");
  event.mutable_workflow_failed()->mutable_error()->set_message("card declined");
  return event;
}

inline Event CancelledEvent(int64_t seq) {
  Event event = EventAt(seq);
  event.mutable_workflow_cancelled()->set_reason("customer left");
  return event;
}

// A complete, valid history: started, charge started, charge completed, completed.
inline std::vector<Event> OrderHistory() {
  return {StartedEvent(), StepStartedEvent(2), StepCompletedEvent(3), CompletedEvent(4)};
}

inline std::vector<std::string> Texts(absl::Span<const Event> events) {
  std::vector<std::string> texts;
  for (const Event& event : events) texts.push_back(event.ShortDebugString());
  return texts;
}

// The events of `workflow_id` from `from_seq` on, as text; or the error, as the last line.
inline std::vector<std::string> HistoryOf(EventStore& store, absl::string_view workflow_id,
                                          int64_t from_seq = 1) {
  absl::StatusOr<std::unique_ptr<EventStream>> stream = store.Read(workflow_id, from_seq);
  if (!stream.ok()) return {stream.status().ToString()};
  std::vector<std::string> texts;
  while ((*stream)->Next()) texts.push_back((*stream)->event().ShortDebugString());
  if (!(*stream)->status().ok()) texts.push_back((*stream)->status().ToString());
  return texts;
}

// The summary a store should hold after events 1..last_seq of OrderHistory-like events.
inline WorkflowSummary SummaryAt(absl::string_view workflow_id, WorkflowStatus status,
                                 int64_t last_seq) {
  WorkflowSummary summary;
  summary.workflow_id = std::string(workflow_id);
  summary.definition_name = "order";
  summary.status = status;
  summary.last_seq = last_seq;
  summary.created_at = TimeOfSeq(1);
  summary.updated_at = TimeOfSeq(last_seq);
  return summary;
}

inline bool operator==(const WorkflowSummary& a, const WorkflowSummary& b) {
  return a.workflow_id == b.workflow_id && a.definition_name == b.definition_name &&
         a.status == b.status && a.last_seq == b.last_seq && a.created_at == b.created_at &&
         a.updated_at == b.updated_at;
}

inline void PrintTo(const WorkflowSummary& summary, std::ostream* os) {
  *os << "{" << summary.workflow_id << ", " << summary.definition_name << ", "
      << WorkflowStatus_Name(summary.status) << ", last_seq " << summary.last_seq << ", "
      << summary.created_at << " .. " << summary.updated_at << "}";
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

}  // namespace chorus

#endif  // CHORUS_TESTS_STORAGE_STORAGE_TEST_UTIL_H_
