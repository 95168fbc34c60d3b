// StepContext: what a step function sees of its workflow while it runs.
//
// Built by the engine for one attempt of one step and passed to the step's function
// (workflow/step_registry.h). It refers to data the engine keeps alive until the function
// returns; do not keep references to it past that. Thread-compatible: the step reads it from
// its own thread.
#ifndef CHORUS_WORKFLOW_STEP_CONTEXT_H_
#define CHORUS_WORKFLOW_STEP_CONTEXT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "workflow/cancellation.h"

namespace chorus {

// A dependency's name and its recorded output.
struct DependencyOutput {
  absl::string_view step;
  absl::string_view output;
};

class StepContext {
 public:
  StepContext(absl::string_view workflow_id, absl::string_view step, int attempt,
              absl::string_view input, std::vector<DependencyOutput> dependencies,
              CancellationToken cancellation, absl::string_view log_path = "")
      : workflow_id_(workflow_id),
        step_(step),
        attempt_(attempt),
        input_(input),
        dependencies_(std::move(dependencies)),
        cancellation_(std::move(cancellation)),
        log_path_(log_path) {}

  absl::string_view workflow_id() const { return workflow_id_; }
  absl::string_view step() const { return step_; }
  // 1 on the first run; a step cut off by a crash runs again with the next attempt.
  int attempt() const { return attempt_; }
  // The input the workflow was started with.
  absl::string_view input() const { return input_; }
  // The outputs of this step's dependencies, in the order the definition lists them.
  const std::vector<DependencyOutput>& dependencies() const { return dependencies_; }
  // The output of dependency `step`; NotFound if `step` is not one of this step's dependencies.
  absl::StatusOr<absl::string_view> DependencyOutputOf(absl::string_view step) const;
  // Cancelled when the workflow is cancelled or a sibling fails (fail-fast).
  const CancellationToken& cancellation() const { return cancellation_; }
  // Where this attempt may write its log (recorded in its step-started event); empty when
  // the engine has no log directory (EngineOptions::log_directory).
  absl::string_view log_path() const { return log_path_; }

 private:
  absl::string_view workflow_id_;
  absl::string_view step_;
  int attempt_;
  absl::string_view input_;
  std::vector<DependencyOutput> dependencies_;
  CancellationToken cancellation_;
  absl::string_view log_path_;
};

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_STEP_CONTEXT_H_
