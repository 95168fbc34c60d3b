// EngineOptions: how an Engine schedules the steps of the workflows it drives.
#ifndef CHORUS_WORKFLOW_ENGINE_OPTIONS_H_
#define CHORUS_WORKFLOW_ENGINE_OPTIONS_H_

namespace chorus {

enum class ScheduleMode {
  // Wait for every running step before scheduling again: given the same outcomes, the
  // history is identical on every run.
  kWave,
  // Commit whatever outcomes have been collected and start newly ready steps at once:
  // better makespan on uneven DAGs.
  kEager,
};

struct EngineOptions {
  // Threads in the engine's pool, shared by every workflow it drives.
  int threads = 4;
  // At most this many steps of one workflow run at once; 0 means `threads`.
  int max_concurrency = 0;
  ScheduleMode mode = ScheduleMode::kEager;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_ENGINE_OPTIONS_H_
