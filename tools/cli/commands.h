// The `chorus` subcommands. Each takes its parsed arguments and returns the process's exit
// code (tools/cli/cli.h), having printed its output and any error.
#ifndef CHORUS_TOOLS_CLI_COMMANDS_H_
#define CHORUS_TOOLS_CLI_COMMANDS_H_

#include "tools/cli/args.h"

namespace chorus::cli {

// Running (tools/cli/drive_commands.cc).
int RunCommand(const Args& args);
int ResumeCommand(const Args& args);
int CancelCommand(const Args& args);

// Inspecting: read-only, the database is opened read-only (tools/cli/inspect_commands.cc).
int ListCommand(const Args& args);
int StatusCommand(const Args& args);
int HistoryCommand(const Args& args);
int ReplayCommand(const Args& args);
int VerifyCommand(const Args& args);
int GraphCommand(const Args& args);
int TimelineCommand(const Args& args);
int ExportCommand(const Args& args);

// Importing a history (tools/cli/inspect_commands.cc; writes only a valid history).
int ImportCommand(const Args& args);

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_COMMANDS_H_
