// The engine test fixture: a fresh store of each kind, a registry, and readers of history.
#ifndef CHORUS_TESTS_WORKFLOW_ENGINE_FIXTURE_H_
#define CHORUS_TESTS_WORKFLOW_ENGINE_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "event/events.h"
#include "gtest/gtest.h"
#include "storage/memory_event_store.h"
#include "storage/sqlite_event_store.h"
#include "tests/temp_dir.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace chorus {

enum class StoreKind { kMemory, kSqlite };

inline EngineOptions Options(int threads, ScheduleMode mode = ScheduleMode::kEager,
                             int max_concurrency = 0) {
  EngineOptions options;
  options.threads = threads;
  options.mode = mode;
  options.max_concurrency = max_concurrency;
  return options;
}

inline absl::StatusOr<std::string> Ok(absl::string_view output) { return std::string(output); }

// Waits (bounded) for the step's cancellation and reports it as the step's error.
inline absl::StatusOr<std::string> WaitForCancellation(const StepContext& context) {
  if (!context.cancellation().WaitFor(absl::Minutes(1))) {
    return absl::DeadlineExceededError("never cancelled");
  }
  return absl::CancelledError(context.cancellation().reason());
}

class EngineTest : public testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kMemory) {
      store_ = NewMemoryEventStore();
      return;
    }
    absl::StatusOr<std::unique_ptr<EventStore>> store =
        OpenSqliteEventStore(temp_dir_.File("engine.db"), {});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void Register(absl::string_view step, StepFunction function) {
    ASSERT_TRUE(registry_.Register(step, std::move(function)).ok());
  }

  // Workflow "chain" of `steps` steps s0 <- s1 <- ..., each registered to run `function`.
  WorkflowDefinition Chain(int steps, const StepFunction& function) {
    DefinitionBuilder builder("chain");
    for (int i = 0; i < steps; ++i) {
      const std::string name = absl::StrCat("s", i);
      if (i == 0) {
        builder.Step(name);
      } else {
        builder.Step(name, {absl::StrCat("s", i - 1)});
      }
      Register(name, function);
    }
    return builder.Build();
  }

  std::vector<Event> Events(absl::string_view id) {
    std::vector<Event> events;
    absl::StatusOr<std::unique_ptr<EventStream>> stream = store_->Read(id, 1);
    if (!stream.ok()) return events;
    while ((*stream)->Next()) events.push_back((*stream)->event());
    EXPECT_TRUE((*stream)->status().ok()) << (*stream)->status();
    return events;
  }

  // One "kind step#attempt" line per recorded event of workflow `id`.
  std::vector<std::string> Trace(absl::string_view id) {
    std::vector<std::string> trace;
    for (const Event& event : Events(id)) {
      std::string line(KindName(event));
      if (!StepName(event).empty()) absl::StrAppend(&line, " ", StepName(event));
      if (Attempt(event) > 0) absl::StrAppend(&line, "#", Attempt(event));
      trace.push_back(line);
    }
    return trace;
  }

  // Appends `events` as the history of `id`, numbering them from 1.
  void Seed(absl::string_view id, std::vector<Event> events) {
    for (size_t i = 0; i < events.size(); ++i) events[i].set_seq(static_cast<int64_t>(i) + 1);
    ASSERT_TRUE(store_->Append(id, 0, events).ok());
  }

  const TempDir temp_dir_;  // the SQLite store's
  StepRegistry registry_;
  std::unique_ptr<EventStore> store_;
};

inline Event Started(const WorkflowDefinition& definition) {
  Event event;
  *event.mutable_workflow_started()->mutable_definition() = definition;
  event.mutable_workflow_started()->set_fingerprint(Fingerprint(definition));
  return event;
}

inline Event StepStartedEvent(absl::string_view step, int attempt) {
  Event event;
  event.mutable_step_started()->set_step(std::string(step));
  event.mutable_step_started()->set_attempt(attempt);
  return event;
}

inline Event StepCompletedEvent(absl::string_view step, int attempt, absl::string_view output) {
  Event event;
  event.mutable_step_completed()->set_step(std::string(step));
  event.mutable_step_completed()->set_attempt(attempt);
  event.mutable_step_completed()->set_output(std::string(output));
  return event;
}

inline std::string StoreName(const testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kMemory ? "Memory" : "Sqlite";
}

}  // namespace chorus

#endif  // CHORUS_TESTS_WORKFLOW_ENGINE_FIXTURE_H_
