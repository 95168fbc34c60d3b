// TempDir: a fresh folder for the files of the running test.
//
// Its name holds the test's suite, name and this process's id, so that tests running at the
// same time (ctest -j, several build folders) never share one. It is removed with its contents
// when the test passes, and kept for a look when it fails.
#ifndef CHORUS_TESTS_TEMP_DIR_H_
#define CHORUS_TESTS_TEMP_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace chorus {

class TempDir {
 public:
  // REQUIRES: a test is running (a test fixture's member may be one).
  TempDir() {
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(
        testing::TempDir(), "/chorus_",
        absl::StrReplaceAll(absl::StrCat(test->test_suite_name(), "_", test->name()), {{"/", "_"}}),
        "_", getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }

  ~TempDir() {
    std::error_code ignored;
    if (!testing::Test::HasFailure()) std::filesystem::remove_all(path_, ignored);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the folder.
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

}  // namespace chorus

#endif  // CHORUS_TESTS_TEMP_DIR_H_
