// MakeShellStep: a step function that runs a shell command as a child process.
//
// The command runs as `/bin/sh -c <command>`, leading its own process group, with stdin from
// /dev/null. Its stdout is the step's output. Its stdout and stderr both go to the attempt's
// log file (StepContext::log_path()), interleaved in the order they arrive. Each attempt
// keeps its files next to the log file `<stem>.log`:
//
//   <stem>.log              stdout and stderr as raw bytes, then a last line `[chorus] ...`
//                           giving the exit status; appended to, never truncated
//   <stem>.pid              the shell's pid, which is also its process group id. It exists
//                           only while the command runs, and `chorus status` reads it
//   <stem>.in/input         the workflow's input
//   <stem>.in/deps/<file>   one file per dependency, holding its output, named by
//                           FileNameFor (workflow/file_name.h); and one per map step a
//                           dependency, see ShellStepOptions::map_dependencies
//   <stem>.in/state.json    the workflow state as the step sees it (StepContext::state()):
//                           one JSON object, {"files": ["a.txt"], "total": 3}, each value
//                           as ValueToJson (event/state.h) gives it
//   <stem>.out/state_updates    empty; the command may append lines `key=value` to it
//   <stem>.out/cost             empty; the command may write a number to it
//
// The `.in` and `.out` files are kept after the step ends, next to its log. If the context has
// no log path (the engine was given no log directory), all these files go into a private
// temporary directory that is removed when the step returns.
//
// The command's environment is the engine's environment plus these variables, which
// override any inherited variable of the same name (inherited `CHORUS_DEP_*`,
// `CHORUS_MAP_INDEX` and `CHORUS_MAP_ITEM` variables are dropped):
//
//   CHORUS_WORKFLOW_ID, CHORUS_STEP, CHORUS_VISIT,    from the StepContext
//   CHORUS_ATTEMPT
//   CHORUS_INPUT                                      absolute path of <stem>.in/input
//   CHORUS_DEPS                                       absolute path of <stem>.in/deps
//   CHORUS_DEP_<NAME>                                 absolute path of each dependency's file
//   CHORUS_STATE                                      absolute path of <stem>.in/state.json
//   CHORUS_STATE_UPDATES                              absolute path of <stem>.out/state_updates
//   CHORUS_COST                                       absolute path of <stem>.out/cost
//   CHORUS_MAP_INDEX, CHORUS_MAP_ITEM                 for an instance of a map step only: its
//                                                     index (from 0) and its item
//
// NAME is given by DependencyEnvName. If two dependencies' names give the same NAME, the
// first gets the variable (map steps first, then dependencies in definition order); the others
// are still in CHORUS_DEPS.
//
// What the command reports besides its stdout: after it exits with status 0, each non-empty
// line `key=value` of CHORUS_STATE_UPDATES becomes StepContext::UpdateState(key, value), in
// order, the value (everything after the first '=') read by the key's reducer: a whole number
// for sum, min and max; one text item for append; a text for last-write-wins. A number in
// CHORUS_COST (surrounding whitespace aside) is added with StepContext::AddCost, whether the
// command succeeded or not.
//
//   StepRegistry registry;
//   CHORUS_RETURN_IF_ERROR(registry.Register(
//       "report", MakeShellStep(R"(wc -l < "$CHORUS_DEP_FETCH")")));
//   // A command that adds to a state key of reducer sum and reports a cost:
//   //   n=$(wc -l < "$CHORUS_DEP_FETCH"); echo "lines=$n" >> "$CHORUS_STATE_UPDATES";
//   //   echo 0.5 > "$CHORUS_COST"
#ifndef CHORUS_TOOLS_SHELL_STEP_H_
#define CHORUS_TOOLS_SHELL_STEP_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "workflow/step_registry.h"

namespace chorus {

struct ShellStepOptions {
  // How long a stopped command may take between SIGTERM and SIGKILL.
  absl::Duration grace_period = absl::Seconds(5);
  // If the command writes more than this to stdout, the step fails.
  size_t max_output_bytes = 1 << 20;
  // How many of the last stderr lines a failure quotes. Each quoted line is cut at 500 bytes.
  int stderr_tail_lines = 10;
  // The step's dependencies that are map steps (StepDefinition.map_over). The context lists a
  // map step's instances, "resize[0]", "resize[1]", ..., not the map step itself; for each map
  // step named here the command also gets one file named after it, CHORUS_DEP_<NAME>, holding
  // its instances' outputs concatenated in index order (empty when the map had no items).
  std::vector<std::string> map_dependencies;
};

// Returns a StepFunction that runs `command` as described above. The function returns:
//   - the command's stdout, if it exits with status 0;
//   - Unknown if it exits with another status or dies from a signal that the step did not
//     send. The message gives the status or the signal, and then quotes the last
//     `stderr_tail_lines` lines of stderr, e.g.
//     "command exited with status 3; last stderr lines:\nmake: *** [all] Error 1";
//   - Cancelled, with the token's reason, if the context's cancellation token is cancelled
//     while the command runs;
//   - ResourceExhausted if stdout grows beyond `max_output_bytes`;
//   - InvalidArgument, quoting the line, if a line of CHORUS_STATE_UPDATES is not `key=value`
//     or its value does not suit the key's reducer; InvalidArgument if CHORUS_COST holds
//     something other than a number of at least 0 (only a command that succeeded fails so);
//   - the code that absl::ErrnoToStatus gives for the errno, with the errno's text, if
//     preparing the attempt's files, starting the shell, writing the log or reading what the
//     command reported fails; Internal if the step runs out of memory. These errors are the
//     driver's own faults, not the command's, and are marked so (MarkDriverFault,
//     workflow/step_registry.h): the engine stops the run without recording the attempt's
//     outcome, and resuming once the cause is fixed runs it again. No exception escapes the
//     function.
// The step returns as soon as the shell has exited, even if one of its background processes
// still holds stdout open. It does not wait for those processes, and output they write
// later is lost.
//
// The command is stopped on cancellation, when its stdout grows past the limit, or when
// the log cannot be written. Stopping sends SIGTERM to its process group. If the shell has
// not exited `grace_period` later, the group gets SIGKILL. When the shell has been reaped,
// the group gets a final SIGKILL, so no process of a stopped command outlives the step.
// If the command is not stopped, its background processes are left running.
//
// The child starts with an empty signal mask, and SIGINT, SIGTERM and SIGPIPE set to their
// default actions, whatever the calling thread blocks or the process ignores.
//
// Thread-safe: the returned function may run on many threads at once. It reads the process
// environment when it starts the shell (do not call setenv concurrently). It reaps only its
// own child, with waitpid on that pid, so the process must not reap all children (waitpid
// with pid -1) or set SIGCHLD to SIG_IGN.
StepFunction MakeShellStep(std::string command, ShellStepOptions options = {});

// The environment variable that names a dependency's file: "CHORUS_DEP_" followed by `step`
// upper-cased, with every character outside [A-Z0-9] replaced by '_'. For example,
// "fetch-data" gives "CHORUS_DEP_FETCH_DATA".
std::string DependencyEnvName(absl::string_view step);

}  // namespace chorus

#endif  // CHORUS_TOOLS_SHELL_STEP_H_
