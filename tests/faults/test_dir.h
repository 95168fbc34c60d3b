// TestDir: a fresh directory for the files of one fault test.
//
// Its name holds the test's name and this process's id, so that builds that run the same test
// at the same time (several build folders, several people's tools/test.sh) never share one.
// It is removed when the test passes, and kept for a look when it fails.
#ifndef CHORUS_TESTS_FAULTS_TEST_DIR_H_
#define CHORUS_TESTS_FAULTS_TEST_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace chorus {

class TestDir {
 public:
  // REQUIRES: a test is running.
  TestDir()
      : path_(absl::StrCat(
            testing::TempDir(), "/chorus_faults_", getpid(), "_",
            absl::StrReplaceAll(testing::UnitTest::GetInstance()->current_test_info()->name(),
                                {{"/", "_"}}))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }

  ~TestDir() {
    std::error_code ignored;
    if (!testing::Test::HasFailure()) std::filesystem::remove_all(path_, ignored);
  }

  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
};

}  // namespace chorus

#endif  // CHORUS_TESTS_FAULTS_TEST_DIR_H_
