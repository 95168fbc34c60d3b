// Runs `chorus import` on histories that no engine could have recorded: files edited by hand.
#include <filesystem>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_fixture.h"

namespace chorus {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ImportExportCliTest : public ChorusCliTest {};

TEST_F(ImportExportCliTest, ImportRefusesWhatTheEngineCouldNotHaveRecordedAndWritesNothing) {
  WriteFile(dir_ + "/two.dot", "digraph two { a [cmd=\"echo A\"]; b [cmd=\"exit 3\"]; a -> b; }\n");
  ASSERT_EQ(Chorus({"run", dir_ + "/two.dot", "--id", "t"}).exit_code, 1);
  const std::string exported = Chorus({"export", "t"}).out;
  ASSERT_THAT(exported, HasSubstr("\"message\":\""));
  std::smatch recorded;
  ASSERT_TRUE(std::regex_search(exported, recorded, std::regex("\"fingerprint\":\"([0-9a-f]+)\"")));
  const std::string fingerprint = recorded[1];
  const struct {
    const char* name;
    std::string contents;
    std::string message;
  } cases[] = {
      {"a definition with a cycle",
       absl::StrReplaceAll(exported,
                           {{"{\"name\":\"a\",", "{\"name\":\"a\",\"dependsOn\":[\"b\"],"}}),
       "t.jsonl:1: workflow 't', seq 1: workflow_started.definition: workflow definition 'two' is "
       "invalid:\n  cycle: a -> b -> a"},
      {"another definition's fingerprint",
       absl::StrReplaceAll(exported, {{fingerprint, "0123456789abcdef"}}),
       absl::StrCat("t.jsonl:1: workflow 't', seq 1: workflow_started.fingerprint is "
                    "0123456789abcdef, but the recorded definition's is ",
                    fingerprint)},
      {"an error message over the text limit",
       absl::StrReplaceAll(
           exported, {{"\"message\":\"",
                       absl::StrCat("\"message\":\"", std::string(kMaxRecordedTextBytes, 'x'))}}),
       "t.jsonl:5: workflow 't', seq 5: step_failed.error.message: "},
  };
  const std::string other = dir_ + "/other.db";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    WriteFile(dir_ + "/t.jsonl", c.contents);
    Result imported = Chorus({"import", "t.jsonl", "--db", other}, /*with_db=*/false);
    EXPECT_EQ(imported.exit_code, 3);
    EXPECT_THAT(imported.err, StartsWith(absl::StrCat("chorus: ", c.message)));
    EXPECT_FALSE(std::filesystem::exists(other)) << "import wrote a database";
  }
}

}  // namespace
}  // namespace chorus
