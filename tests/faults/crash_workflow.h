// The workflow that the crash tests drive to completion while killing its driver: its shape,
// and the outputs its steps give.
//
// The driver (tests/faults/crash_driver.cc) runs it with in-process step functions; the crash
// loop test (tests/faults/crash_loop_test.cc) also writes it as a DOT file of shell commands
// for `chorus run`. Sharing the shape keeps both runs comparable.
#ifndef CHORUS_TESTS_FAULTS_CRASH_WORKFLOW_H_
#define CHORUS_TESTS_FAULTS_CRASH_WORKFLOW_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {

// 53 steps: `start`, then the fan-out `spread`, four chains of eight steps that also wait for
// their neighbour chain every other link (`chain<c>_<k>`), the fan-in `gather`, twelve
// parallel `leaf<i>`, `merge` of every leaf, and a chain of five (`tail<k>`).
WorkflowDefinition CrashWorkflow();

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
