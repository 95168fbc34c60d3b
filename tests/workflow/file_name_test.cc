#include "workflow/file_name.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace chorus {
namespace {

// What every file name must be, whatever the name: one path component inside its folder.
void ExpectSafe(const std::string& file_name) {
  EXPECT_FALSE(file_name.empty());
  EXPECT_NE(file_name, ".");
  EXPECT_NE(file_name, "..");
  EXPECT_FALSE(absl::StrContains(file_name, '/')) << file_name;
  EXPECT_FALSE(absl::StrContains(file_name, '\0')) << file_name;
  EXPECT_LE(file_name.size(), kMaxFileNameBytes) << file_name;
}

TEST(FileNameFor, EncodesWhatCannotBeAFileNameOfItsOwn) {
  struct Row {
    absl::string_view name;
    absl::string_view file_name;
  };
  const Row kRows[] = {
      {"fetch", "fetch"},
      {"fetch-data_2.tar", "fetch-data_2.tar"},
      {"", "%"},
      {".", "%2E"},
      {"..", "%2E."},
      {".hidden", "%2Ehidden"},
      {"/", "%2F"},
      {"../etc/passwd", "%2E.%2Fetc%2Fpasswd"},
      {"odd name/x", "odd%20name%2Fx"},
      {"100%", "100%25"},
      {"a~b", "a%7Eb"},
      {"map[3]", "map%5B3%5D"},
      {absl::string_view("nul\0", 4), "nul%00"},
      {"caf\xc3\xa9", "caf%C3%A9"},
      {"\xff", "%FF"},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.name)));
    EXPECT_EQ(FileNameFor(row.name), row.file_name);
    ExpectSafe(FileNameFor(row.name));
  }
}

TEST(FileNameFor, ShortensLongNamesWithAHashOfTheWholeName) {
  const std::string long_name(300, 'x');
  const std::string file_name = FileNameFor(long_name);
  ExpectSafe(file_name);
  EXPECT_EQ(file_name.size(), kMaxFileNameBytes);
  EXPECT_TRUE(absl::StartsWith(file_name, std::string(kMaxFileNameBytes - 17, 'x'))) << file_name;
  EXPECT_EQ(file_name[kMaxFileNameBytes - 17], '~');
  // The same name gives the same file name on every call, as a resumed run needs.
  EXPECT_EQ(FileNameFor(long_name), file_name);
  // A name exactly at the limit is kept whole.
  EXPECT_EQ(FileNameFor(std::string(kMaxFileNameBytes, 'y')), std::string(kMaxFileNameBytes, 'y'));
}

TEST(FileNameFor, NeverCutsAnEscapeInHalf) {
  // 100 three-byte characters: 900 bytes encoded, cut at a whole "%XX".
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xe6\x97\xa5";  // 日
  const std::string file_name = FileNameFor(name);
  ExpectSafe(file_name);
  const std::string kept = file_name.substr(0, file_name.find('~'));
  EXPECT_EQ(kept.size() % 3, 0u) << file_name;
  EXPECT_TRUE(absl::StartsWith(file_name, "%E6%97%A5%E6%97%A5")) << file_name;
}

TEST(FileNameFor, DistinctNamesGiveDistinctFileNames) {
  std::vector<std::string> names = {"", ".", "..", "%", "%2E", "%2E.", "~", "a", "A", "a.", ".a"};
  const std::string base(200, 'z');
  for (char last : {'a', 'b', '/', '.'}) names.push_back(base + last);  // long, alike but the end
  for (int length = 100; length < 140; ++length) names.push_back(std::string(length, 'q'));
  // A short name spelled like a long name's shortened file name.
  names.push_back(FileNameFor(base + 'a'));
  for (int i = 0; i < 1000; ++i) names.push_back(absl::StrCat("step-", i, "/", i % 7));
  absl::flat_hash_map<std::string, std::string> seen;  // file name -> name
  for (const std::string& name : names) {
    const std::string file_name = FileNameFor(name);
    ExpectSafe(file_name);
    const auto [it, inserted] = seen.emplace(file_name, name);
    EXPECT_TRUE(inserted) << "'" << name << "' and '" << it->second << "' both give " << file_name;
  }
}

}  // namespace
}  // namespace chorus
