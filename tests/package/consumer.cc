// A service embedding Chorus through `find_package(chorus)`: runs a two-step workflow on a
// SQLite store, resumes it (nothing is left to run), and checks that it replays the same way.
// Prints "ok" and exits 0, or says what went wrong and exits 1.
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "storage/sqlite_event_store.h"
#include "workflow/definition.h"
#include "workflow/engine.h"
#include "workflow/testing/replay_checker.h"

namespace {

int Fail(const std::string& what) {
  std::cerr << "consumer: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: consumer DATABASE");
  chorus::StepRegistry registry;
  absl::Status registered = registry.Register(
      "fetch", [](const chorus::StepContext& context) -> absl::StatusOr<std::string> {
        return std::string(context.input());
      });
  if (registered.ok()) {
    registered = registry.Register(
        "shout", [](const chorus::StepContext& context) -> absl::StatusOr<std::string> {
          absl::StatusOr<absl::string_view> fetched = context.DependencyOutputOf("fetch");
          if (!fetched.ok()) return fetched.status();
          return absl::AsciiStrToUpper(*fetched);
        });
  }
  if (!registered.ok()) return Fail(registered.ToString());
  const chorus::WorkflowDefinition definition =
      chorus::DefinitionBuilder("package").Step("fetch").Step("shout", {"fetch"}).Build();

  absl::StatusOr<std::unique_ptr<chorus::EventStore>> store =
      chorus::OpenSqliteEventStore(argv[1], chorus::SqliteOptions());
  if (!store.ok()) return Fail(store.status().ToString());
  chorus::Engine engine(store->get(), &registry);
  absl::StatusOr<chorus::WorkflowState> run = engine.Run("w1", definition, "hello");
  if (!run.ok()) return Fail(run.status().ToString());
  absl::StatusOr<chorus::WorkflowState> resumed = engine.Resume("w1");
  if (!resumed.ok()) return Fail(resumed.status().ToString());
  const chorus::StepState* shout = resumed->FindStep("shout");
  if (shout == nullptr || shout->output != "HELLO" || resumed->last_seq != run->last_seq) {
    return Fail("the resumed workflow is not the one that ran");
  }

  absl::StatusOr<chorus::ReplayReport> report = chorus::CheckReplay(definition, registry, "hello");
  if (!report.ok()) return Fail(report.status().ToString());
  if (!report->ok()) return Fail(report->ToString());
  std::cout << "ok\n";
  return 0;
}
