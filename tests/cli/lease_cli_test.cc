// The owner lease as `chorus` users meet it: a second driver of a live workflow is refused
// with exit code 6 naming the owner; once the owner is killed, a driver on the same host takes
// over at once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string Quote(const std::string& word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

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

class LeaseCliTest : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrCat(testing::TempDir(), "/lease_cli_", test->name(), "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = dir_ + "/chorus.db";
  }
  void TearDown() override {
    std::error_code error;  // a leftover folder in the temporary directory is harmless
    std::filesystem::remove_all(dir_, error);
  }

  // Runs `chorus ARGS --db <db_>` in dir_ and collects its exit code and output.
  Result Chorus(const std::vector<std::string>& args) {
    std::vector<std::string> words = {Quote(CHORUS_CLI_PATH)};
    for (const std::string& arg : args) words.push_back(Quote(arg));
    words.push_back(Quote("--db=" + db_));
    const std::string command =
        absl::StrCat("cd ", Quote(dir_), " && ", absl::StrJoin(words, " "), " >",
                     Quote(dir_ + "/out"), " 2>", Quote(dir_ + "/err"));
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(dir_ + "/out"),
            ReadFile(dir_ + "/err")};
  }

  // Starts `chorus run FILE --id ID` in the background; returns its pid.
  pid_t StartRun(const std::string& file, const std::string& id) {
    const pid_t chorus = fork();
    if (chorus == 0) {
      const std::string db = "--db=" + db_;
      std::freopen((dir_ + "/run.err").c_str(), "w", stderr);
      execl(CHORUS_CLI_PATH, "chorus", "run", file.c_str(), "--id", id.c_str(), db.c_str(),
            nullptr);
      _exit(127);
    }
    return chorus;
  }

  std::string dir_;
  std::string db_;
};

TEST_F(LeaseCliTest, ASecondDriverIsBusyUntilTheOwnerDiesThenTakesOverAtOnce) {
  // The step waits until the file `go` exists (bounded by sleep 60).
  std::ofstream(dir_ + "/wait.dot")
      << absl::StrCat("digraph wait {\n  w [cmd=\"echo $$ > ", dir_, "/w.pid; while [ ! -e ", dir_,
                      "/go ]; do sleep 0.05; done; echo went\"];\n}\n");
  const pid_t owner = StartRun(dir_ + "/wait.dot", "live");
  ASSERT_GT(owner, 0);
  ASSERT_TRUE(Eventually([&] { return !ReadFile(dir_ + "/w.pid").empty(); }));

  const std::string named_owner = absl::StrCat("(host ", HostName(), ", pid ", owner, ")");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"resume", "live"},
        std::vector<std::string>{"run", dir_ + "/wait.dot", "--id", "live"}}) {
    SCOPED_TRACE(args[0]);
    Result second = Chorus(args);
    EXPECT_EQ(second.exit_code, 6) << second.err;
    EXPECT_THAT(second.err, AllOf(HasSubstr("chorus: workflow 'live' is being driven by owner "),
                                  HasSubstr(named_owner), HasSubstr(" until ")));
  }

  // The owner crashes, leaving its lease and its step's shell behind.
  kill(owner, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(owner, &status, 0), owner);
  const pid_t orphan = std::atoi(ReadFile(dir_ + "/w.pid").c_str());
  ASSERT_GT(orphan, 0);
  kill(-orphan, SIGKILL);  // the step leads its own process group
  std::ofstream(dir_ + "/go");

  // The lease has not lapsed (15 s), but its owner's pid is gone on this host.
  const absl::Time started = absl::Now();
  Result resumed = Chorus({"resume", "live"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_LT(absl::Now() - started, absl::Seconds(10)) << "it waited for the lease to lapse";
  Result history = Chorus({"history", "live"});
  EXPECT_THAT(history.out, AllOf(HasSubstr("w#2"), HasSubstr("workflow_completed")));
}

}  // namespace
}  // namespace chorus
