#include "tools/read_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace chorus {
namespace {

constexpr size_t kLimit = 1000;

class ReadFileUpToTest : public testing::Test {
 protected:
  // Writes `contents` to the file `name` in the test's folder; returns its path.
  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = absl::StrCat(dir_.path(), "/", name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  // A FIFO named `name` in the test's folder, and a thread that writes `chunks` to it.
  std::string Fifo(const std::string& name, std::vector<std::string> chunks) {
    const std::string path = absl::StrCat(dir_.path(), "/", name);
    EXPECT_EQ(mkfifo(path.c_str(), 0600), 0);
    writer_ = std::thread([path, chunks = std::move(chunks)] {
      std::ofstream fifo(path, std::ios::binary);
      for (const std::string& chunk : chunks) fifo << chunk << std::flush;
    });
    return path;
  }

  void TearDown() override {
    if (writer_.joinable()) writer_.join();
  }

  const TempDir dir_;
  std::thread writer_;
};

TEST_F(ReadFileUpToTest, ReadsAFileOfUpToTheLimit) {
  for (size_t size : {size_t{0}, size_t{1}, kLimit}) {
    SCOPED_TRACE(size);
    const std::string contents(size, 'x');
    const std::string path = WriteFile(absl::StrCat("f", size), contents);
    EXPECT_EQ(ReadFileUpTo(path, kLimit, "input file").value_or("?"), contents);
  }
}

TEST_F(ReadFileUpToTest, ReadsAFifoAsItIsWritten) {
  const std::string path = Fifo("fifo", {"first ", "second ", std::string(kLimit - 13, 'x')});
  EXPECT_EQ(ReadFileUpTo(path, kLimit, "input file").value_or("?"),
            absl::StrCat("first second ", std::string(kLimit - 13, 'x')));
}

TEST_F(ReadFileUpToTest, RefusesAFileThatHoldsMoreThanTheLimit) {
  const std::string sparse = WriteFile("sparse", "");
  std::filesystem::resize_file(sparse, kLimit + 1);
  const std::string fifo = Fifo("fifo", {std::string(kLimit + 1, 'x')});
  for (const std::string& path : {sparse, std::string("/dev/zero"), fifo}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(ReadFileUpTo(path, kLimit, "input file").status(),
              absl::ResourceExhaustedError(absl::StrCat(
                  "cannot read input file ", path, ": it holds more than 1000 bytes, the limit")));
  }
}

TEST_F(ReadFileUpToTest, SaysTheLimitInMiB) {
  EXPECT_EQ(ReadFileUpTo("/dev/zero", 2 << 20, "definition file").status(),
            absl::ResourceExhaustedError(
                "cannot read definition file /dev/zero: it holds more than 2 MiB, the limit"));
}

TEST_F(ReadFileUpToTest, ErrorsNameTheFile) {
  const std::string missing = absl::StrCat(dir_.path(), "/missing");
  EXPECT_EQ(ReadFileUpTo(missing, kLimit, "input file").status(),
            absl::NotFoundError(
                absl::StrCat("cannot open input file ", missing, ": No such file or directory")));
  EXPECT_EQ(ReadFileUpTo(dir_.path(), kLimit, "input file").status(),
            absl::FailedPreconditionError(
                absl::StrCat("cannot read input file ", dir_.path(), ": it is a directory")));
}

}  // namespace
}  // namespace chorus
