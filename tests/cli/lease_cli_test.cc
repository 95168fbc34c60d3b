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
#include "tests/cli/cli_fixture.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

class LeaseCliTest : public ChorusCliTest {
 protected:
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
