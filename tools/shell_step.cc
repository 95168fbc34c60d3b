#include "tools/shell_step.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "event/internal/status_macros.h"
#include "event/state.h"
#include "event/text.h"
#include "workflow/cancellation.h"
#include "workflow/file_name.h"
#include "workflow/step_context.h"

extern char** environ;

namespace chorus {
namespace {

constexpr int kPollIntervalMs = 50;
constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr size_t kMaxTailLineBytes = 500;
constexpr absl::string_view kDependencyEnvPrefix = "CHORUS_DEP_";
// Set only for instances of map steps, so never inherited either.
constexpr absl::string_view kMapIndexEnv = "CHORUS_MAP_INDEX";
constexpr absl::string_view kMapItemEnv = "CHORUS_MAP_ITEM";

// A system call that failed: the driver's own fault, never the command's (MarkDriverFault).
absl::Status ErrnoError(int error, absl::string_view action, absl::string_view path = "") {
  std::string message(action);
  if (!path.empty()) absl::StrAppend(&message, " ", path);
  return MarkDriverFault(absl::ErrnoToStatus(error, message));
}

// An owned file descriptor, closed when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { Reset(-1); }

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

absl::Status WriteAll(int fd, absl::string_view bytes, absl::string_view path) {
  while (!bytes.empty()) {
    ssize_t written = write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "writing", path);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, absl::string_view contents) {
  UniqueFd file(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!file.is_open()) return ErrnoError(errno, "creating", path);
  return WriteAll(file.get(), contents, path);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.is_open()) return ErrnoError(errno, "opening", path);
  std::string contents;
  char buffer[4096];
  while (true) {
    ssize_t read_bytes = read(file.get(), buffer, sizeof(buffer));
    if (read_bytes == 0) return contents;
    if (read_bytes < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "reading", path);
    }
    contents.append(buffer, static_cast<size_t>(read_bytes));
  }
}

// The state as one JSON object, keys in order: {"files": ["a"], "total": 3}.
std::string StateJson(const StateValues& state) {
  std::vector<std::string> members;
  for (const auto& [key, value] : state) {
    Value name;
    name.set_text(key);
    members.push_back(absl::StrCat(ValueToJson(name), ": ", ValueToJson(value)));
  }
  return absl::StrCat("{", absl::StrJoin(members, ", "), "}\n");
}

absl::Status CreateDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return ErrnoError(error.value(), "creating directory", path);
  return absl::OkStatus();
}

// Whether `dependency` names an instance of map step `map_step`: "map_step[<index>]".
bool IsInstanceOf(absl::string_view dependency, absl::string_view map_step) {
  if (!absl::ConsumePrefix(&dependency, map_step) || !absl::ConsumePrefix(&dependency, "[") ||
      !absl::ConsumeSuffix(&dependency, "]")) {
    return false;
  }
  return !dependency.empty() && std::all_of(dependency.begin(), dependency.end(),
                                            [](char c) { return absl::ascii_isdigit(c); });
}

// The outputs of the instances of `map_step` among the dependencies, concatenated in the
// order given (the index order).
std::string InstanceOutputs(const StepContext& context, absl::string_view map_step) {
  std::string outputs;
  for (const DependencyOutput& dependency : context.dependencies()) {
    if (IsInstanceOf(dependency.step, map_step)) absl::StrAppend(&outputs, dependency.output);
  }
  return outputs;
}

// The files of one attempt (see the header), named from `<stem>`. Without a log path they
// live in a scratch directory, which this object removes when destroyed.
class AttemptFiles {
 public:
  // Creates the directories, writes the input, dependency and state files, and creates the
  // command's (empty) state-updates and cost files.
  static absl::StatusOr<AttemptFiles> Prepare(const StepContext& context,
                                              const ShellStepOptions& options) {
    AttemptFiles files;
    CHORUS_RETURN_IF_ERROR(files.ChooseStem(context.log_path()));
    CHORUS_RETURN_IF_ERROR(CreateDirectories(files.deps()));
    CHORUS_RETURN_IF_ERROR(CreateDirectories(files.outputs()));
    CHORUS_RETURN_IF_ERROR(WriteFile(files.input(), context.input()));
    for (const DependencyOutput& dependency : context.dependencies()) {
      CHORUS_RETURN_IF_ERROR(WriteFile(files.dependency(dependency.step), dependency.output));
    }
    for (const std::string& map_step : options.map_dependencies) {
      CHORUS_RETURN_IF_ERROR(
          WriteFile(files.dependency(map_step), InstanceOutputs(context, map_step)));
    }
    CHORUS_RETURN_IF_ERROR(WriteFile(files.state(), StateJson(context.state())));
    CHORUS_RETURN_IF_ERROR(WriteFile(files.state_updates(), ""));
    CHORUS_RETURN_IF_ERROR(WriteFile(files.cost(), ""));
    return files;
  }

  AttemptFiles(AttemptFiles&& other) noexcept
      : scratch_(std::exchange(other.scratch_, std::string())),
        stem_(std::move(other.stem_)),
        log_(std::move(other.log_)) {}
  AttemptFiles& operator=(AttemptFiles&&) = delete;
  ~AttemptFiles() {
    // Best effort: the step's result does not depend on tidying a scratch directory.
    std::error_code ignored;
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_, ignored);
  }

  const std::string& log() const { return log_; }
  std::string pid() const { return stem_ + ".pid"; }
  std::string input() const { return stem_ + ".in/input"; }
  std::string deps() const { return stem_ + ".in/deps"; }
  std::string dependency(absl::string_view step) const {
    return absl::StrCat(deps(), "/", FileNameFor(step));
  }
  std::string state() const { return stem_ + ".in/state.json"; }
  std::string outputs() const { return stem_ + ".out"; }
  std::string state_updates() const { return outputs() + "/state_updates"; }
  std::string cost() const { return outputs() + "/cost"; }

 private:
  AttemptFiles() = default;

  absl::Status ChooseStem(absl::string_view log_path) {
    if (log_path.empty()) {
      const char* tmpdir = getenv("TMPDIR");
      std::string pattern = absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
                                         "/chorus-step-XXXXXX");
      if (mkdtemp(pattern.data()) == nullptr) {
        return ErrnoError(errno, "creating scratch directory", pattern);
      }
      scratch_ = pattern;
      log_ = scratch_ + "/step.log";
    } else {
      // Absolute, so that the paths in the environment survive the command's `cd`.
      std::error_code error;
      std::filesystem::path absolute = std::filesystem::absolute(std::string(log_path), error);
      if (error) return ErrnoError(error.value(), "resolving log path", log_path);
      log_ = absolute.string();
      CHORUS_RETURN_IF_ERROR(CreateDirectories(absolute.parent_path().string()));
    }
    stem_ = std::string(absl::StripSuffix(log_, ".log"));
    return absl::OkStatus();
  }

  std::string scratch_;  // empty unless this object made a scratch directory
  std::string stem_;
  std::string log_;
};

// The parent's environment with the attempt's variables added; see the header.
std::vector<std::string> CommandEnvironment(const StepContext& context,
                                            const ShellStepOptions& options,
                                            const AttemptFiles& files) {
  std::vector<std::pair<std::string, std::string>> added = {
      {"CHORUS_WORKFLOW_ID", std::string(context.workflow_id())},
      {"CHORUS_STEP", std::string(context.step())},
      {"CHORUS_ATTEMPT", absl::StrCat(context.attempt())},
      {"CHORUS_VISIT", absl::StrCat(context.visit())},
      {"CHORUS_INPUT", files.input()},
      {"CHORUS_DEPS", files.deps()},
      {"CHORUS_STATE", files.state()},
      {"CHORUS_STATE_UPDATES", files.state_updates()},
      {"CHORUS_COST", files.cost()},
  };
  if (context.map_index() >= 0) {
    added.emplace_back(kMapIndexEnv, absl::StrCat(context.map_index()));
    added.emplace_back(kMapItemEnv, context.map_item());
  }
  absl::flat_hash_set<std::string> names;
  for (const auto& [name, value] : added) names.insert(name);
  for (const std::string& map_step : options.map_dependencies) {
    std::string name = DependencyEnvName(map_step);
    if (names.insert(name).second) added.emplace_back(name, files.dependency(map_step));
  }
  for (const DependencyOutput& dependency : context.dependencies()) {
    std::string name = DependencyEnvName(dependency.step);
    if (names.insert(name).second) added.emplace_back(name, files.dependency(dependency.step));
  }

  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    absl::string_view name = variable.substr(0, variable.find('='));
    if (absl::StartsWith(name, kDependencyEnvPrefix) || name == kMapIndexEnv ||
        name == kMapItemEnv || names.contains(name)) {
      continue;
    }
    environment.emplace_back(variable);
  }
  for (const auto& [name, value] : added) environment.push_back(absl::StrCat(name, "=", value));
  return environment;
}

// The pid file of a running command, written whole (through a rename) so that a reader never
// sees it half-written, and removed when destroyed.
class PidFile {
 public:
  static absl::StatusOr<PidFile> Write(std::string path, pid_t pid) {
    std::string temporary = path + ".tmp";
    CHORUS_RETURN_IF_ERROR(WriteFile(temporary, absl::StrCat(pid, "\n")));
    if (rename(temporary.c_str(), path.c_str()) != 0) {
      return ErrnoError(errno, "renaming to", path);
    }
    return PidFile(std::move(path));
  }

  PidFile(PidFile&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}
  PidFile& operator=(PidFile&&) = delete;
  ~PidFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }

 private:
  explicit PidFile(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

// posix_spawn's settings for a command: its own process group, an empty signal mask, default
// actions for the signals a CLI blocks or ignores, stdin from /dev/null, and stdout and
// stderr to the given descriptors.
class SpawnSettings {
 public:
  // glibc's init functions cannot fail.
  SpawnSettings() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attributes_);
  }
  ~SpawnSettings() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attributes_);
  }
  SpawnSettings(const SpawnSettings&) = delete;
  SpawnSettings& operator=(const SpawnSettings&) = delete;

  // Returns 0 or an errno value.
  int Configure(int stdout_fd, int stderr_fd) {
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, signal);
    int error = posix_spawnattr_setflags(
        &attributes_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (error == 0) error = posix_spawnattr_setpgroup(&attributes_, 0);
    if (error == 0) error = posix_spawnattr_setsigmask(&attributes_, &empty);
    if (error == 0) error = posix_spawnattr_setsigdefault(&attributes_, &defaults);
    if (error == 0) {
      error = posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO);
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions_, stderr_fd, STDERR_FILENO);
    return error;
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attributes() const { return &attributes_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

// The command's shell, leading its own process group. If it has not been reaped when this
// object is destroyed, the group is killed and the shell reaped, so no path leaves a zombie.
class Child {
 public:
  static absl::StatusOr<Child> Spawn(std::string command, std::vector<std::string> environment,
                                     int stdout_fd, int stderr_fd) {
    SpawnSettings settings;
    if (int error = settings.Configure(stdout_fd, stderr_fd); error != 0) {
      return ErrnoError(error, "setting up posix_spawn");
    }
    char shell_name[] = "sh";
    char flag[] = "-c";
    char* argv[] = {shell_name, flag, command.data(), nullptr};
    std::vector<char*> envp;
    for (std::string& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
    pid_t pid;
    if (int error = posix_spawn(&pid, "/bin/sh", settings.actions(), settings.attributes(), argv,
                                envp.data());
        error != 0) {
      return ErrnoError(error, "starting /bin/sh");
    }
    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks `extern "C"`. Kernels before 5.3
    // have no pidfds; the loop then notices the exit within a poll interval.
    return Child(pid, UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))));
  }

  Child(Child&& other) noexcept
      : pid_(other.pid_),
        exit_fd_(std::move(other.exit_fd_)),
        reaped_(std::exchange(other.reaped_, true)),
        wait_status_(other.wait_status_) {}
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (reaped_) return;
    SignalGroup(SIGKILL);
    while (waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
    }
  }

  pid_t pid() const { return pid_; }
  // A pidfd, readable once the shell has exited, or -1.
  int exit_fd() const { return exit_fd_.get(); }

  // Sends `signal` to every process in the group. A group that is gone (ESRCH) is no error.
  void SignalGroup(int signal) const { kill(-pid_, signal); }

  // Reaps the shell if it has exited. Returns whether it has; wait_status() is then valid.
  absl::StatusOr<bool> TryReap() {
    pid_t reaped = waitpid(pid_, &wait_status_, WNOHANG);
    if (reaped < 0 && errno != EINTR) {
      return ErrnoError(errno, absl::StrCat("waiting for the shell (pid ", pid_, ")"));
    }
    reaped_ = reaped == pid_;
    return reaped_;
  }

  // REQUIRES: TryReap() returned true.
  int wait_status() const { return wait_status_; }

 private:
  Child(pid_t pid, UniqueFd exit_fd) : pid_(pid), exit_fd_(std::move(exit_fd)) {}

  pid_t pid_;
  UniqueFd exit_fd_;
  bool reaped_ = false;
  int wait_status_ = 0;
};

// "exited with status 3" or "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  int signal = WTERMSIG(wait_status);
  const char* description = sigdescr_np(signal);
  return absl::StrCat("was killed by signal ", signal, " (",
                      description != nullptr ? description : "unknown signal", ")");
}

// The last lines of a stream, each cut at kMaxTailLineBytes, as valid UTF-8 text.
class TailLines {
 public:
  explicit TailLines(int max_lines) : max_lines_(static_cast<size_t>(std::max(max_lines, 0))) {}

  void Append(absl::string_view bytes) {
    while (!bytes.empty()) {
      if (!line_open_) StartLine();
      size_t end = bytes.find('\n');
      AppendToLine(bytes.substr(0, end));
      if (end == absl::string_view::npos) return;
      line_open_ = false;
      bytes.remove_prefix(end + 1);
    }
  }

  bool empty() const { return lines_.empty(); }

  // The lines, one per line. A line over the limit is cut at a character boundary and marked
  // with "..."; bytes that are not UTF-8 show as "\xNN" (RecordableText).
  std::string Text() const {
    std::vector<std::string> quoted;
    for (const std::string& line : lines_) {
      const absl::string_view kept = Utf8Prefix(line, kMaxTailLineBytes);
      quoted.push_back(kept.size() < line.size() ? absl::StrCat(kept, "...") : std::string(kept));
    }
    return RecordableText(absl::StrJoin(quoted, "\n"));
  }

 private:
  // A UTF-8 character has at most this many bytes.
  static constexpr size_t kMaxCharacterBytes = 4;

  void StartLine() {
    lines_.emplace_back();
    if (lines_.size() > max_lines_) lines_.pop_front();
    line_open_ = true;
  }

  // Keeps a line's first bytes, up to the limit and the rest of the character the limit may
  // split, and one byte more, by which Text() knows that the line goes on.
  void AppendToLine(absl::string_view bytes) {
    if (lines_.empty()) return;  // max_lines_ is 0
    std::string& line = lines_.back();
    const size_t kept = kMaxTailLineBytes + kMaxCharacterBytes;
    if (line.size() >= kept) return;
    line.append(bytes.data(), std::min(bytes.size(), kept - line.size()));
  }

  const size_t max_lines_;
  std::deque<std::string> lines_;
  bool line_open_ = false;  // the last line has not seen its '\n' yet
};

// Watches one running command until its shell has been reaped: copies what it writes to the
// log and (stdout) to memory or (stderr) to a tail of lines, and stops it when the token is
// cancelled, stdout outgrows its limit, or the log cannot be written.
class Supervisor {
 public:
  Supervisor(const ShellStepOptions& options, const StepContext& context, Child& child,
             UniqueFd stdout_pipe, UniqueFd stderr_pipe, UniqueFd log, std::string log_path)
      : options_(options),
        context_(context),
        child_(child),
        log_(std::move(log)),
        log_path_(std::move(log_path)),
        stderr_tail_(options.stderr_tail_lines),
        buffer_(kReadChunkBytes) {
    pipes_[kStdout] = std::move(stdout_pipe);
    pipes_[kStderr] = std::move(stderr_pipe);
  }

  // Returns once the shell has been reaped, with its wait status. Fails only if the shell
  // could not be waited for.
  absl::StatusOr<int> Run() {
    while (true) {
      if (stop_reason_.ok() && context_.cancellation().IsCancelled()) {
        Stop(absl::CancelledError(context_.cancellation().reason()));
      }
      if (!stop_reason_.ok() && !killed_ && absl::Now() >= kill_deadline_) {
        child_.SignalGroup(SIGKILL);
        killed_ = true;
      }
      PollOnce();
      CHORUS_ASSIGN_OR_RETURN(bool exited, child_.TryReap());
      if (exited) break;
    }
    Drain();
    if (!stop_reason_.ok()) child_.SignalGroup(SIGKILL);
    return child_.wait_status();
  }

  // Why the command was stopped; OK if it was not.
  const absl::Status& stop_reason() const { return stop_reason_; }
  std::string TakeOutput() { return std::move(output_); }
  const TailLines& stderr_tail() const { return stderr_tail_; }

  // Appends "[chorus] <text>" to the log as a line of its own.
  absl::Status LogEnding(absl::string_view text) {
    std::string line = absl::StrCat(log_ends_line_ ? "" : "\n", "[chorus] ", text, "\n");
    return WriteAll(log_.get(), line, log_path_);
  }

 private:
  enum Stream { kStdout = 0, kStderr = 1 };

  // The first reason wins; later calls change nothing.
  void Stop(absl::Status reason) {
    if (!stop_reason_.ok()) return;
    stop_reason_ = std::move(reason);
    child_.SignalGroup(SIGTERM);
    kill_deadline_ = absl::Now() + options_.grace_period;
  }

  // Waits up to kPollIntervalMs for output or the shell's exit, and reads what output has
  // come. A failed poll (EINTR) just comes back to the loop.
  void PollOnce() {
    pollfd fds[3] = {{pipes_[kStdout].get(), POLLIN, 0},
                     {pipes_[kStderr].get(), POLLIN, 0},
                     {child_.exit_fd(), POLLIN, 0}};
    if (poll(fds, 3, kPollIntervalMs) <= 0) return;
    for (Stream stream : {kStdout, kStderr}) {
      if (fds[stream].revents != 0) ReadOnce(stream, kReadChunkBytes);
    }
  }

  // Reads what the shell wrote before it exited, and no more: a background process may keep
  // writing, and it holds the pipes open, so waiting for end-of-file could wait forever.
  void Drain() {
    for (Stream stream : {kStdout, kStderr}) {
      int pending = 0;
      if (!pipes_[stream].is_open() || ioctl(pipes_[stream].get(), FIONREAD, &pending) != 0) {
        continue;
      }
      while (pending > 0) {
        ssize_t read_bytes = ReadOnce(stream, std::min<size_t>(pending, kReadChunkBytes));
        if (read_bytes <= 0) break;
        pending -= static_cast<int>(read_bytes);
      }
    }
  }

  // One non-blocking read of at most `limit` bytes. Closes the pipe at end-of-file or on an
  // error. Returns what read() returned.
  ssize_t ReadOnce(Stream stream, size_t limit) {
    ssize_t read_bytes = read(pipes_[stream].get(), buffer_.data(), limit);
    if (read_bytes > 0) {
      Consume(stream, absl::string_view(buffer_.data(), static_cast<size_t>(read_bytes)));
    } else if (read_bytes == 0) {
      pipes_[stream].Reset(-1);
    } else if (errno != EAGAIN && errno != EINTR) {
      Stop(ErrnoError(errno, "reading the command's", stream == kStdout ? "stdout" : "stderr"));
      pipes_[stream].Reset(-1);
    }
    return read_bytes;
  }

  void Consume(Stream stream, absl::string_view bytes) {
    Log(bytes);
    if (stream == kStderr) {
      stderr_tail_.Append(bytes);
    } else if (stop_reason_.ok()) {  // once stopping, the output is of no use
      if (output_.size() + bytes.size() > options_.max_output_bytes) {
        output_.clear();
        Stop(absl::ResourceExhaustedError(
            absl::StrCat("step '", context_.step(), "' wrote more than ", options_.max_output_bytes,
                         " bytes to stdout (the output limit)")));
      } else {
        output_.append(bytes.data(), bytes.size());
      }
    }
  }

  void Log(absl::string_view bytes) {
    if (log_failed_) return;
    if (absl::Status written = WriteAll(log_.get(), bytes, log_path_); !written.ok()) {
      log_failed_ = true;
      Stop(std::move(written));
      return;
    }
    log_ends_line_ = bytes.back() == '\n';
  }

  const ShellStepOptions& options_;
  const StepContext& context_;
  Child& child_;
  UniqueFd pipes_[2];  // indexed by Stream; closed at end-of-file
  UniqueFd log_;
  const std::string log_path_;

  absl::Status stop_reason_;
  absl::Time kill_deadline_ = absl::InfiniteFuture();  // when stopping turns to SIGKILL
  bool killed_ = false;                                // SIGKILL has been sent
  bool log_failed_ = false;
  bool log_ends_line_ = true;
  std::string output_;
  TailLines stderr_tail_;
  std::vector<char> buffer_;  // for read()
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// A pipe whose ends close on exec; the read end, the parent's, does not block.
absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "creating a pipe");
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoError(errno, "making a pipe non-blocking");
  }
  return pipe;
}

absl::StatusOr<UniqueFd> OpenLog(const std::string& path) {
  UniqueFd log(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666));
  if (!log.is_open()) return ErrnoError(errno, "opening log file", path);
  return log;
}

// The step's result once the shell has been reaped with `wait_status`.
absl::StatusOr<std::string> StepResult(Supervisor& supervisor, int wait_status) {
  CHORUS_RETURN_IF_ERROR(supervisor.stop_reason());
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return supervisor.TakeOutput();
  std::string message = absl::StrCat("command ", DescribeWaitStatus(wait_status));
  if (supervisor.stderr_tail().empty()) {
    absl::StrAppend(&message, "; no stderr output");
  } else {
    absl::StrAppend(&message, "; last stderr lines:\n", supervisor.stderr_tail().Text());
  }
  return absl::UnknownError(message);
}

// One line `key=value` of $CHORUS_STATE_UPDATES, recorded through `context`. Once the key and
// the text pass UpdateState's checks of names and text, UpdateState refuses text exactly for
// the keys whose reducer takes numbers (sum, min, max): for those the value must be a whole
// number.
absl::Status UpdateStateFromLine(absl::string_view line, StepContext& context) {
  const size_t equals = line.find('=');
  const absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, equals));
  if (equals == absl::string_view::npos || key.empty()) {
    return absl::InvalidArgumentError("expected key=value");
  }
  const absl::string_view text = line.substr(equals + 1);
  Value value;
  value.set_text(std::string(text));
  CHORUS_RETURN_IF_ERROR(CheckName("state key", key));
  CHORUS_RETURN_IF_ERROR(CheckValueText(key, value));
  if (context.UpdateState(key, value).ok()) return absl::OkStatus();
  int64_t number;
  if (!absl::SimpleAtoi(text, &number)) {
    return absl::InvalidArgumentError(absl::StrCat("state key '", key, "' takes a whole number"));
  }
  value.set_number(number);
  return context.UpdateState(key, std::move(value));
}

// Records every line of the command's $CHORUS_STATE_UPDATES; empty lines are skipped.
// InvalidArgument quoting the first line that is not a valid update.
absl::Status ReportStateUpdates(const AttemptFiles& files, StepContext& context) {
  CHORUS_ASSIGN_OR_RETURN(std::string updates, ReadWholeFile(files.state_updates()));
  int number = 0;
  for (absl::string_view line : absl::StrSplit(updates, '\n')) {
    ++number;
    if (line.empty()) continue;
    if (absl::Status updated = UpdateStateFromLine(line, context); !updated.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("step '", context.step(), "': line ", number, " of $CHORUS_STATE_UPDATES \"",
                       absl::CHexEscape(line), "\": ", updated.message()));
    }
  }
  return absl::OkStatus();
}

// Adds the cost the command wrote to $CHORUS_COST, if it wrote one. InvalidArgument if what it
// wrote is not a number of at least 0.
absl::Status ReportCost(const AttemptFiles& files, StepContext& context) {
  CHORUS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(files.cost()));
  const absl::string_view cost_text = absl::StripAsciiWhitespace(text);
  if (cost_text.empty()) return absl::OkStatus();
  double cost;
  if (!absl::SimpleAtod(cost_text, &cost) || !std::isfinite(cost) || cost < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("step '", context.step(), "': $CHORUS_COST holds \"",
                     absl::CHexEscape(cost_text), "\", not a number of at least 0"));
  }
  context.AddCost(cost);
  return absl::OkStatus();
}

// What the command reported besides its output. Its cost counts whether it succeeded or not
// (a failed step keeps its own error, though, over a malformed cost); its state updates only
// if it succeeded.
absl::StatusOr<std::string> WithReports(absl::StatusOr<std::string> result,
                                        const AttemptFiles& files, StepContext& context) {
  absl::Status cost = ReportCost(files, context);
  if (!result.ok()) return result;
  CHORUS_RETURN_IF_ERROR(cost);
  CHORUS_RETURN_IF_ERROR(ReportStateUpdates(files, context));
  return result;
}

absl::StatusOr<std::string> RunShellStep(const std::string& command,
                                         const ShellStepOptions& options, StepContext& context) {
  CHORUS_ASSIGN_OR_RETURN(AttemptFiles files, AttemptFiles::Prepare(context, options));
  CHORUS_ASSIGN_OR_RETURN(UniqueFd log, OpenLog(files.log()));
  CHORUS_ASSIGN_OR_RETURN(Pipe stdout_pipe, MakePipe());
  CHORUS_ASSIGN_OR_RETURN(Pipe stderr_pipe, MakePipe());
  CHORUS_ASSIGN_OR_RETURN(Child child,
                          Child::Spawn(command, CommandEnvironment(context, options, files),
                                       stdout_pipe.write.get(), stderr_pipe.write.get()));
  // Only the child may hold the write ends, so that its exit is seen as end-of-file.
  stdout_pipe.write.Reset(-1);
  stderr_pipe.write.Reset(-1);
  CHORUS_ASSIGN_OR_RETURN(PidFile pid_file, PidFile::Write(files.pid(), child.pid()));

  Supervisor supervisor(options, context, child, std::move(stdout_pipe.read),
                        std::move(stderr_pipe.read), std::move(log), files.log());
  CHORUS_ASSIGN_OR_RETURN(int wait_status, supervisor.Run());
  std::string ending = absl::StrCat("command ", DescribeWaitStatus(wait_status));
  if (!supervisor.stop_reason().ok()) {
    ending = absl::StrCat("stopped (", supervisor.stop_reason().ToString(), "): ", ending);
  }
  absl::Status logged = supervisor.LogEnding(ending);
  absl::StatusOr<std::string> result = StepResult(supervisor, wait_status);
  if (result.ok() && !logged.ok()) return logged;
  return WithReports(std::move(result), files, context);
}

}  // namespace

StepFunction MakeShellStep(std::string command, ShellStepOptions options) {
  return
      [command = std::move(command), options](StepContext& context) -> absl::StatusOr<std::string> {
        // The engine's threads must never see an exception (std::bad_alloc, in practice). By the
        // time one gets here, the destructors have killed and reaped the command.
        try {
          return RunShellStep(command, options, context);
        } catch (const std::exception& error) {
          return MarkDriverFault(absl::InternalError(
              absl::StrCat("shell step '", context.step(), "' failed: ", error.what())));
        }
      };
}

std::string DependencyEnvName(absl::string_view step) {
  std::string name = absl::AsciiStrToUpper(step);
  for (char& c : name) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) c = '_';
  }
  return absl::StrCat(kDependencyEnvPrefix, name);
}

}  // namespace chorus
