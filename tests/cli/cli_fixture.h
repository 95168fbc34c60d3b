// The fixture of the tests that run the built `chorus` binary as a process: a folder of its
// own per test and process (a TempDir, kept when the test fails), a database in it, and a
// runner that collects the exit code and both outputs.
#ifndef CHORUS_TESTS_CLI_CLI_FIXTURE_H_
#define CHORUS_TESTS_CLI_CLI_FIXTURE_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace chorus {

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// `word` quoted for /bin/sh.
inline std::string Quote(const std::string& word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

inline bool IsAlive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// Waits, bounded, for `condition`; the bound only keeps a broken run from hanging the suite.
template <typename Condition>
bool Eventually(Condition condition) {
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

class ChorusCliTest : public testing::Test {
 protected:
  // Runs `chorus ARGS` (with `--db <db_>` unless `with_db` is false) in dir_ and collects its
  // exit code and output. `before` is a shell command run first in the same shell, to set a
  // limit say ("ulimit -n 128").
  Result Chorus(const std::vector<std::string>& args, bool with_db = true,
                const std::string& before = "true") {
    std::vector<std::string> words = {Quote(CHORUS_CLI_PATH)};
    for (const std::string& arg : args) words.push_back(Quote(arg));
    if (with_db) words.push_back(Quote("--db=" + db_));
    const std::string command =
        absl::StrCat("cd ", Quote(dir_), " && ", before, " && ", absl::StrJoin(words, " "), " >",
                     Quote(dir_ + "/out"), " 2>", Quote(dir_ + "/err"));
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(dir_ + "/out"),
            ReadFile(dir_ + "/err")};
  }

  const TempDir temp_dir_;
  const std::string dir_ = temp_dir_.path();
  const std::string db_ = dir_ + "/chorus.db";
};

}  // namespace chorus

#endif  // CHORUS_TESTS_CLI_CLI_FIXTURE_H_
