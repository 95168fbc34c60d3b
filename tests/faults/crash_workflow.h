// The workflow that the crash tests drive to completion while killing its driver: its shape,
// and the outputs its steps give.
//
// The driver (tests/faults/crash_driver.cc) runs it with in-process step functions; the crash
// loop test (tests/faults/crash_loop_test.cc) also writes it as a DOT file of shell commands
// for `chorus run`. Sharing the shape keeps both runs comparable.
#ifndef CHORUS_TESTS_FAULTS_CRASH_WORKFLOW_H_
#define CHORUS_TESTS_FAULTS_CRASH_WORKFLOW_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

// 53 steps: `start`, then the fan-out `spread`, four chains of eight steps that also wait for
// their neighbour chain every other link (`chain<c>_<k>`), the fan-in `gather`, twelve
// parallel `leaf<i>`, `merge` of every leaf, and a chain of five (`tail<k>`).
WorkflowDefinition CrashWorkflow();

// 16 steps with loops, a decision and a parallel branch: `start`; a chain of six `side<k>`
// beside the loop `implement` <-> `test` (test fails on its first three visits, its failure
// taking the edge back to implement; implement fails the first attempt of each visit, which
// its retry policy runs again, and adds 1 to the state key `rounds` on each visit); `review`,
// which routes first to `ship` when rounds is 4 (else to `rework`, skipped); `poll`, a step
// that loops on itself three times (adding 1 to `polls` each visit); `merge`, which joins all
// of side5, rework (skipped) and poll; and a chain of three `finish<k>`. Given the same step
// functions (crash_driver's), every run records the same visits whatever the timing.
WorkflowDefinition LoopCrashWorkflow();

// What a task step of the loop crash workflow does on `visit` (LoopCrashWorkflow), besides
// CrashStepOutput: whether attempt `attempt` fails (with what error) and the state updates
// it makes.
absl::Status LoopCrashStepError(absl::string_view step, int visit, int attempt);
std::vector<std::pair<std::string, int64_t>> LoopCrashStepUpdates(absl::string_view step);

// What a task step of the crash workflow returns: a digest of its name, the workflow's input
// and its dependencies' outputs (in definition order), so that one lost or wrong output
// changes the outputs of every step after it.
std::string CrashStepOutput(absl::string_view step, absl::string_view input,
                            const std::vector<absl::string_view>& dependency_outputs);

// How long the in-process function of `step` works: 1 to 4 ms, fixed per step, so that the
// parallel parts overlap unevenly.
absl::Duration CrashStepDuration(absl::string_view step);

}  // namespace chorus

#endif  // CHORUS_TESTS_FAULTS_CRASH_WORKFLOW_H_
