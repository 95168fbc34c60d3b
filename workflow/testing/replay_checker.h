// CheckReplay: a test helper that checks a workflow gives the same outcome however a run of it
// is cut short by a crash, and whatever order its concurrent steps finish in. Library target
// chorus::testing; it needs no test framework.
//
// CheckReplay runs the workflow once on an in-memory store, as the reference. Then it runs
// scenarios, each on a fresh in-memory store with a fresh Engine, and compares each one's final
// outcome with the reference's:
//   - "crash after seq N": the reference history up to seq N is copied into the store and the
//     workflow is resumed (Engine::Resume). N runs over the ends of the reference's committed
//     batches: each batch is appended in one transaction, so a real crash can only fall between
//     batches. The last one is the complete history, which must replay to the same result.
//   - "completion order of batch K (...): ...": the steps that the reference started together in
//     batch K finish (return to the engine) in a chosen order: reversed, and a few seeded random
//     orders. A step's return is held until the steps before it in the order have returned;
//     the hold ends early if the step is cancelled, and after `order_bound` at the latest (a
//     step may wait for a sibling's failure to cancel it), which the scenario's name then notes.
// The outcome compared is the workflow's status, failed step and error, and each step's status,
// output and error; not times, seqs or attempts (a crash legitimately adds attempts).
//
//   StepRegistry registry = MyWorkflowSteps();
//   absl::StatusOr<ReplayReport> report = CheckReplay(MyWorkflow(), registry, "some input");
//   ASSERT_TRUE(report.ok()) << report.status();
//   EXPECT_TRUE(report->ok()) << report->ToString();
//
// Step functions run many times, on several threads, in one process: a step that keeps state
// between runs (a counter, a cache) is exactly what this reports. Shell steps run real
// processes; bound the scenarios (ReplayCheckOptions) to keep such checks short.
#ifndef CHORUS_WORKFLOW_TESTING_REPLAY_CHECKER_H_
#define CHORUS_WORKFLOW_TESTING_REPLAY_CHECKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/workflow_definition.pb.h"
#include "workflow/engine_options.h"
#include "workflow/step_registry.h"

namespace chorus {

struct ReplayCheckOptions {
  // How each run is driven (threads, mode, concurrency). on_commit, if set, is called in every
  // run, the reference's included.
  EngineOptions engine;
  std::string workflow_id = "replay-check";
  // At most this many crash scenarios, spread evenly over the batch ends (always including the
  // last); 0 means one per batch end.
  int max_crash_points = 0;
  // Orders tried per batch of two or more steps: the reversed one, then up to this many
  // distinct random ones.
  int random_orders = 2;
  uint32_t seed = 1;
  // At most this many completion-order scenarios in all.
  int max_order_scenarios = 16;
  // How long a step's return is held for the steps before it in the chosen order.
  absl::Duration order_bound = absl::Seconds(2);
};

// One way a scenario's outcome differs from the reference's.
struct ReplayDifference {
  std::string scenario;  // "crash after seq 7", "completion order of batch 2 (b, c): c, b ..."
  std::string step;      // empty for the workflow itself
  std::string what;      // "status", "output", "error" or "failed step"
  std::string expected;  // the reference's
  std::string actual;    // the scenario's
  // The scenario's event that recorded `actual`, e.g. "step_completed at seq 9"; empty if none.
  std::string event;

  // "crash after seq 7: step 'b' output: expected \"B1\", actual \"B2\" (step_completed at
  // seq 9)"
  std::string ToString() const;
};

struct ReplayReport {
  std::vector<std::string> scenarios;  // every scenario run, in order
  std::vector<ReplayDifference> differences;

  bool ok() const { return differences.empty(); }
  // One line per difference after a summary line, e.g. "2 differences in 9 scenarios:".
  std::string ToString() const;
};

// Runs the reference and every scenario described above, sequentially, and reports the
// differences. A workflow that fails or is cancelled is an outcome like any other. Returns:
//   InvalidArgument     an invalid definition, or a task step without a function in `registry`;
//   FailedPrecondition  the reference run ended without a final outcome (its error is quoted);
//   other codes         the in-memory store's errors (none are expected).
// `registry` is used from several threads at once; its functions must be thread-safe.
absl::StatusOr<ReplayReport> CheckReplay(const WorkflowDefinition& definition,
                                         const StepRegistry& registry, absl::string_view input,
                                         const ReplayCheckOptions& options = {});

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_TESTING_REPLAY_CHECKER_H_
