// What the fault tests check of a database after the faults: the history read back below the
// Engine, its soundness, and the SQLite file's own integrity.
#ifndef CHORUS_TESTS_FAULTS_HISTORY_CHECKS_H_
#define CHORUS_TESTS_FAULTS_HISTORY_CHECKS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "event/workflow_state.h"
#include "proto/event.pb.h"

namespace chorus {

// Every event of workflow `id` in the Chorus database at `path`, opened read-only.
absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path, absl::string_view id);

// Checks that `events` are a sound history of a completed workflow: seqs contiguous from 1,
// the fold (History) without violation, every step completed exactly once. Returns the
// folded state, or what is wrong (naming the seq or the step).
absl::StatusOr<WorkflowState> CheckCompletedOnce(absl::string_view id,
                                                 const std::vector<Event>& events);

// Checks that `events` are a sound history of a completed workflow: seqs contiguous from 1,
// the fold (History) without violation, the workflow completed. Returns the folded state, or
// what is wrong. CheckCompletedOnce checks this and more.
absl::StatusOr<WorkflowState> CheckCompleted(absl::string_view id,
                                             const std::vector<Event>& events);

// How each step's visits ended, in order, by step name: "visit N completed OUTPUT -> A,B" or
// "visit N failed MESSAGE -> A" (a failure for good; an attempt its retry policy ran again
// ends no visit), and "skipped: REASON". What a crash cannot change: it may cut attempts off,
// which then run again, but no visit ends otherwise.
std::map<std::string, std::vector<std::string>> VisitEnds(const std::vector<Event>& events);

// How many events of kind `kind` (an Event::KindCase) each step has in `events`.
std::map<std::string, int> CountPerStep(const std::vector<Event>& events, Event::KindCase kind);

// Each step's output in `state`, by step name.
std::map<std::string, std::string> OutputsOf(const WorkflowState& state);

// What `PRAGMA integrity_check` says of the SQLite file at `path`: "ok" when sound.
std::string IntegrityCheck(const std::string& path);

}  // namespace chorus

#endif  // CHORUS_TESTS_FAULTS_HISTORY_CHECKS_H_
