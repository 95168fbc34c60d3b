// chorus: runs workflows of shell commands durably, and inspects, replays and verifies their
// histories. `chorus help` lists the commands; `chorus CMD --help` describes one.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "tools/cli/args.h"
#include "tools/cli/cli.h"
#include "tools/cli/commands.h"

namespace chorus::cli {
namespace {

const FlagSpec kDb = {"db", "PATH", "the database (default: chorus.db in the current directory)"};
const FlagSpec kHelp = {"help", nullptr, "describe this command"};
const FlagSpec kParallel = {"parallel", "N", "run at most N steps at once (default 4)"};
const FlagSpec kMode = {"mode", "wave|eager",
                        "wave: wait for every running step before starting more; eager "
                        "(default): start steps as soon as they are ready"};

struct Command {
  const char* name;
  const char* usage;
  const char* summary;
  std::vector<FlagSpec> flags;
  int (*run)(const Args&);
};

const std::vector<Command>& Commands() {
  static const auto* const commands = new std::vector<Command>{
      {"run",
       "run FILE",
       "run a workflow of shell commands (DOT or protobuf text format)",
       {kDb,
        kParallel,
        kMode,
        {"id", "ID", "the workflow's id (default: its name and the time); an existing id resumes"},
        {"input", "TEXT", "the workflow's input"},
        {"input-file", "PATH", "read the workflow's input from a file"},
        kHelp},
       RunCommand},
      {"resume",
       "resume ID",
       "continue a workflow after a crash, running only what is left",
       {kDb, kParallel, kMode, kHelp},
       ResumeCommand},
      {"cancel",
       "cancel ID",
       "ask the running driver to cancel a workflow, or record it",
       {kDb, {"wait", "SECONDS", "how long to wait for a running driver (default 10)"}, kHelp},
       CancelCommand},
      {"list",
       "list",
       "a row per workflow; one whose history cannot be read shows as unreadable, and makes "
       "list exit with 5",
       {kDb,
        {"status", "S",
         "only workflows in status S (running, completed, completed_with_failures, failed, "
         "cancelled)"},
        kHelp},
       ListCommand},
      {"status",
       "status ID",
       "a row per step: status, attempts, duration, PID and log; NAME#V is a step on its visit "
       "V (a loop ran it again: test#3, its third), its ATTEMPTS then that visit's",
       {kDb, kHelp},
       StatusCommand},
      {"history",
       "history ID",
       "the recorded events, one a line",
       {kDb,
        {"from", "N", "start at seq N"},
        {"to", "N", "stop after seq N"},
        {"json", nullptr, "one JSON object a line (protobuf's JSON)"},
        kHelp},
       HistoryCommand},
      {"replay",
       "replay ID",
       "rebuild the state as of a seq, and what would run next",
       {kDb, {"at", "SEQ", "as of seq SEQ (default: the end)"}, kHelp},
       ReplayCommand},
      {"verify",
       "verify ID | --all",
       "check every history invariant; exit 1 on a violation",
       {kDb, {"all", nullptr, "every workflow in the database"}, kHelp},
       VerifyCommand},
      {"graph",
       "graph ID|FILE",
       "the graph of steps, coloured by status; edges labelled with their conditions (and "
       "coloured by whether they were taken)",
       {kDb,
        {"format", "dot|svg", "output format (default dot)"},
        {"output", "FILE", "write to FILE instead of stdout (also -o)"},
        kHelp},
       GraphCommand},
      {"timeline",
       "timeline ID -o FILE.html|FILE.svg",
       "a Gantt chart of every step attempt (NAME#V #A: attempt A of visit V)",
       {kDb, {"output", "FILE", "the .html or .svg file to write (also -o)"}, kHelp},
       TimelineCommand},
      {"export",
       "export ID",
       "the history as JSON lines",
       {kDb, {"output", "FILE", "write to FILE instead of stdout (also -o)"}, kHelp},
       ExportCommand},
      {"import",
       "import FILE",
       "add an exported history, once all of it is checked",
       {kDb, kHelp},
       ImportCommand},
  };
  return *commands;
}

constexpr char kExitCodes[] = R"(exit codes:
  0 success (also: completed with failures of non-critical steps, which the workflow tolerates)
  1 workflow failed or cancelled, or verify found violations
  2 usage (also: a --db in a folder that does not exist)   3 bad definition, input or import file
  4 unknown workflow   5 not a Chorus database or corrupt
  6 workflow busy or started with another definition   7 internal   130 interrupted
)";

void PrintHelp() {
  std::printf("usage: chorus COMMAND [ARGS] [--db PATH]\n\ncommands:\n");
  for (const Command& command : Commands()) {
    std::printf("  %-10s %s\n", command.name, command.summary);
  }
  std::printf("\n'chorus COMMAND --help' describes one command.\n\n%s", kExitCodes);
}

void PrintCommandHelp(const Command& command) {
  std::printf("usage: chorus %s [flags]\n\n%s\n\nflags:\n", command.usage, command.summary);
  for (const FlagSpec& flag : command.flags) {
    const std::string name = flag.value == nullptr ? absl::StrCat("--", flag.name)
                                                   : absl::StrCat("--", flag.name, " ", flag.value);
    std::printf("  %-22s %s\n", name.c_str(), flag.meaning);
  }
}

int Main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0) {
    if (argc >= 3) {
      for (const Command& command : Commands()) {
        if (command.name == std::string(argv[2])) {
          PrintCommandHelp(command);
          return kExitOk;
        }
      }
    }
    PrintHelp();
    return argc < 2 ? kExitUsage : kExitOk;
  }
  for (const Command& command : Commands()) {
    if (command.name != std::string(argv[1])) continue;
    absl::StatusOr<Args> args =
        Args::Parse(std::vector<std::string>(argv + 2, argv + argc), command.flags);
    if (!args.ok()) {
      return Fail(kExitUsage, absl::StrCat(command.name, ": ", args.status().message(),
                                           " (see 'chorus ", command.name, " --help')"));
    }
    if (args->Has("help")) {
      PrintCommandHelp(command);
      return kExitOk;
    }
    if (absl::Status folder = CheckDatabaseFolder(*args); !folder.ok()) {
      return Fail(kExitUsage, folder.message());
    }
    return command.run(*args);
  }
  return Fail(kExitUsage, absl::StrCat("unknown command '", argv[1], "' (see 'chorus help')"));
}

}  // namespace
}  // namespace chorus::cli

int main(int argc, char** argv) {
  // Protobuf logs for developers, e.g. when it meets text that is not UTF-8 in a history an
  // earlier version recorded (which is then read escaped); chorus reports errors itself.
  google::protobuf::SetLogHandler(nullptr);
  return chorus::cli::Main(argc, argv);
}
