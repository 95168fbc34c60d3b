// What every `chorus` subcommand shares: exit codes, error reporting, opening the database.
#ifndef CHORUS_TOOLS_CLI_CLI_H_
#define CHORUS_TOOLS_CLI_CLI_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "storage/event_store.h"
#include "tools/cli/args.h"

namespace chorus::cli {

// The documented exit codes (BUILD.md and `chorus help`).
enum ExitCode {
  kExitOk = 0,               // also: completed with failures of non-critical steps
  kExitWorkflowFailed = 1,   // the workflow failed or was cancelled; verify found violations
  kExitUsage = 2,            // bad command line, also a --db in a folder that does not exist
  kExitBadInput = 3,         // a definition, input or import file is missing, unreadable or invalid
  kExitUnknownWorkflow = 4,  // no workflow with that id
  kExitBadDatabase = 5,      // not a Chorus database, a newer schema, or a corrupt history
  kExitBusy = 6,             // the workflow is driven elsewhere, or exists with another definition
  kExitInternal = 7,         // anything else (I/O errors, bugs)
  kExitInterrupted = 130,    // SIGINT or SIGTERM: the workflow was recorded as cancelled
};

// Prints "chorus: <message>" to stderr, as TerminalMessage (tools/cli/terminal.h) shows it
// with `names` (the names it may quote: a workflow id, step names), and returns `code`.
int Fail(ExitCode code, absl::string_view message, absl::Span<const absl::string_view> names = {});
// Fail with the exit code that fits `status` (see ExitCodeFor).
int Fail(const absl::Status& status, absl::Span<const absl::string_view> names = {});
// NotFound → unknown workflow, DataLoss → bad database, InvalidArgument → bad input,
// FailedPrecondition/Aborted/Unavailable → busy, anything else → internal.
ExitCode ExitCodeFor(const absl::Status& status);

// The database named by --db (default "chorus.db"). An error opening it is kExitBadDatabase.
std::string DatabasePath(const Args& args);
// OK if the folder of the database exists (the database itself need not, yet); else
// InvalidArgument naming the folder, a mistake on the command line (kExitUsage).
absl::Status CheckDatabaseFolder(const Args& args);
absl::StatusOr<std::unique_ptr<EventStore>> OpenDatabase(const Args& args, bool read_only);

// Where shell steps of workflows in the database at `db_path` write their logs: the folder
// `<db_path>.logs` beside it, as an absolute path.
std::string LogDirectory(const std::string& db_path);

// Every event of workflow `id`, in order.
absl::StatusOr<std::vector<Event>> ReadHistory(EventStore& store, absl::string_view id);

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_CLI_H_
