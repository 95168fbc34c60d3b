// Replays every committed input of every fuzz target (tests/fuzz/fuzz_targets.h) in each test
// suite, under each sanitizer: the seed corpora, and the inputs that once broke a target, so
// that a fixed bug stays fixed. Layout: tests/fuzz/corpus/<target>/ holds seeds,
// tests/fuzz/regressions/<target>/ holds the inputs of bugs the fuzzers found.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/fuzz/fuzz_targets.h"

namespace chorus {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// The files in `directories` (relative to the source tree) that exist.
std::vector<std::filesystem::path> Inputs(const std::vector<std::string>& directories) {
  std::vector<std::filesystem::path> inputs;
  for (const std::string& directory : directories) {
    const std::filesystem::path path = std::filesystem::path(CHORUS_SOURCE_DIR) / directory;
    if (!std::filesystem::is_directory(path)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.is_regular_file()) inputs.push_back(entry.path());
    }
  }
  return inputs;
}

struct Target {
  const char* name;
  absl::Status (*fuzz)(absl::string_view data);
  std::vector<std::string> directories;
};

TEST(FuzzRegression, EveryCommittedInputPasses) {
  const Target targets[] = {
      {"definition",
       FuzzDefinition,
       {"tests/fuzz/corpus/definition", "tools/examples", "tests/fuzz/regressions/definition"}},
      {"event_fold",
       FuzzEventFold,
       {"tests/fuzz/corpus/event_fold", "tests/fuzz/regressions/event_fold"}},
      {"import", FuzzImport, {"tests/fuzz/corpus/import", "tests/fuzz/regressions/import"}},
  };
  for (const Target& target : targets) {
    const std::vector<std::filesystem::path> inputs = Inputs(target.directories);
    EXPECT_GE(inputs.size(), 3) << target.name << ": the seed corpus is missing";
    for (const std::filesystem::path& input : inputs) {
      SCOPED_TRACE(input.string());
      const absl::Status status = target.fuzz(ReadFile(input));
      EXPECT_TRUE(status.ok()) << status;
    }
  }
}

}  // namespace
}  // namespace chorus
