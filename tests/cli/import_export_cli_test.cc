// Runs `chorus export`, `import` and `verify` on histories that no engine could have recorded:
// files edited by hand, and databases written below the engine (a store's Append checks
// neither names nor fingerprints).
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite_event_store.h"
#include "tests/cli/cli_fixture.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ImportExportCliTest : public ChorusCliTest {
 protected:
  // Appends the completed history of a one-step workflow to the database, as workflow `id`,
  // recording `fingerprint` for its definition (its own if empty).
  void AppendStraightToTheStore(const std::string& id, const std::string& fingerprint = "") {
    std::vector<Event> events(4);
    for (int i = 0; i < 4; ++i) events[i].set_seq(i + 1);
    WorkflowStarted* started = events[0].mutable_workflow_started();
    *started->mutable_definition() = DefinitionBuilder("one").Step("a").Build();
    started->set_fingerprint(fingerprint.empty() ? Fingerprint(started->definition())
                                                 : fingerprint);
    events[1].mutable_step_started()->set_step("a");
    events[1].mutable_step_started()->set_attempt(1);
    events[2].mutable_step_completed()->set_step("a");
    events[2].mutable_step_completed()->set_attempt(1);
    events[3].mutable_workflow_completed();
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(db_, {});
    ASSERT_TRUE(store.ok()) << store.status();
    const absl::Status appended = (*store)->Append(id, 0, events);
    ASSERT_TRUE(appended.ok()) << appended;
  }
};

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

// A database written before the engine checked workflow ids may hold one that is not UTF-8,
// which JSON cannot carry: protobuf's printer would write another id.
TEST_F(ImportExportCliTest, ExportRefusesAWorkflowIdThatIsNotAName) {
  AppendStraightToTheStore("w\xff");
  Result exported = Chorus({"export", "w\xff", "-o", dir_ + "/w.jsonl"});
  EXPECT_EQ(exported.exit_code, 5);
  EXPECT_EQ(exported.err,
            "chorus: workflow id \"w\\xFF\" is not valid UTF-8: it cannot be exported\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/w.jsonl")) << "export wrote a file";
  Result to_stdout = Chorus({"export", "w\xff"});
  EXPECT_EQ(to_stdout.exit_code, 5);
  EXPECT_EQ(to_stdout.out, "");
}

TEST_F(ImportExportCliTest, VerifyReportsAFingerprintThatIsNotTheDefinitions) {
  AppendStraightToTheStore("v", "0123456789abcdef");
  Result verify = Chorus({"verify", "v"});
  EXPECT_EQ(verify.exit_code, 1) << verify.err;
  EXPECT_EQ(verify.out,
            absl::StrCat("v: 1 violation(s)\n  workflow 'v', seq 1: workflow_started.fingerprint "
                         "is 0123456789abcdef, but the recorded definition's is ",
                         Fingerprint(DefinitionBuilder("one").Step("a").Build()), "\n"));
}

}  // namespace
}  // namespace chorus
