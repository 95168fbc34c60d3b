#include "tools/cli/cli.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "event/internal/status_macros.h"
#include "storage/sqlite_event_store.h"
#include "tools/cli/terminal.h"

namespace chorus::cli {

int Fail(ExitCode code, absl::string_view message, absl::Span<const absl::string_view> names) {
  absl::FPrintF(stderr, "chorus: %s\n", TerminalMessage(message, names));
  return code;
}

int Fail(const absl::Status& status, absl::Span<const absl::string_view> names) {
  return Fail(ExitCodeFor(status), status.message(), names);
}

ExitCode ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kNotFound:
      return kExitUnknownWorkflow;
    case absl::StatusCode::kDataLoss:
      return kExitBadDatabase;
    case absl::StatusCode::kInvalidArgument:
      return kExitBadInput;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kUnavailable:
      return kExitBusy;
    default:
      return kExitInternal;
  }
}

std::string DatabasePath(const Args& args) { return args.Get("db", "chorus.db"); }

absl::Status CheckDatabaseFolder(const Args& args) {
  const std::string path = DatabasePath(args);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (folder.empty() || std::filesystem::is_directory(folder, error)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      std::filesystem::exists(folder, error)
          ? absl::StrCat("--db ", path, ": ", folder.string(), " is not a folder")
          : absl::StrCat("--db ", path, ": the folder ", folder.string(), " does not exist"));
}

absl::StatusOr<std::unique_ptr<EventStore>> OpenDatabase(const Args& args, bool read_only) {
  SqliteOptions options;
  options.read_only = read_only;
  return OpenSqliteEventStore(DatabasePath(args), options);
}

std::string LogDirectory(const std::string& db_path) {
  // Absolute, so that a resume from another directory logs to the same place.
  return std::filesystem::absolute(db_path).string() + ".logs";
}

absl::StatusOr<std::vector<Event>> ReadHistory(EventStore& store, absl::string_view id) {
  CHORUS_ASSIGN_OR_RETURN(std::unique_ptr<EventStream> stream, store.Read(id, 1));
  std::vector<Event> events;
  while (stream->Next()) events.push_back(stream->event());
  CHORUS_RETURN_IF_ERROR(stream->status());
  return events;
}

}  // namespace chorus::cli
