// Names that hold control characters, as a history recorded before names were checked (or an
// id given on the command line) may: whatever `chorus` prints for a person shows them escaped
// as TerminalText does, the line breaks of a message kept; JSON keeps them exact.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "event/events.h"
#include "event/text.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/sqlite_event_store.h"
#include "tests/cli/cli_fixture.h"
#include "workflow/definition.h"

namespace chorus {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// An escape sequence that would colour what follows red, and a line break.
const std::string kId = "w\x1b[31m\nid";
// Would set the terminal's title.
const std::string kDefinitionName = "d\x1b]0;pwned\x07";
// Would clear the screen.
const std::string kEscStep = "esc\x1b[2J";
const std::string kTwoLineStep = "two\nlines";
const std::string kNulStep = std::string("nul\0x", 5);
// A failed step's error quotes its stderr, a line each.
const std::string kFailure =
    "step 'two\nlines' exited with status 1; last stderr lines:\nno\x1b[1m way\nout";

// Whether `text` holds a control character other than a line break (and the carriage return
// a terminal adds to it).
bool HasControlCharacters(absl::string_view text) {
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 || byte == 0x7f) && c != '\n' && c != '\r') return true;
  }
  return false;
}

// Builds a history one event at a time, numbered from 1.
class History {
 public:
  History& Started(const WorkflowDefinition& definition) {
    WorkflowStarted* started = Add().mutable_workflow_started();
    *started->mutable_definition() = definition;
    started->set_fingerprint(Fingerprint(definition));
    return *this;
  }
  History& StepStarted(const std::string& step) {
    chorus::StepStarted* started = Add().mutable_step_started();
    started->set_step(step);
    started->set_attempt(1);
    return *this;
  }
  History& StepCompleted(const std::string& step) {
    chorus::StepCompleted* completed = Add().mutable_step_completed();
    completed->set_step(step);
    completed->set_attempt(1);
    completed->set_output("ok\n");
    return *this;
  }
  History& StepFailed(const std::string& step) {
    chorus::StepFailed* failed = Add().mutable_step_failed();
    failed->set_step(step);
    failed->set_attempt(1);
    *failed->mutable_error() = ToError(absl::UnknownError(kFailure));
    return *this;
  }
  History& StepCancelled(const std::string& step) {
    chorus::StepCancelled* cancelled = Add().mutable_step_cancelled();
    cancelled->set_step(step);
    cancelled->set_attempt(1);
    cancelled->set_reason(absl::StrCat("step '", kTwoLineStep, "' failed"));
    return *this;
  }
  History& WorkflowFailed(const std::string& step) {
    chorus::WorkflowFailed* failed = Add().mutable_workflow_failed();
    failed->set_step(step);
    *failed->mutable_error() = ToError(absl::UnknownError(kFailure));
    return *this;
  }
  const std::vector<Event>& events() const { return events_; }

 private:
  Event& Add() {
    Event& event = events_.emplace_back();
    event.set_seq(static_cast<int64_t>(events_.size()));
    SetRecordedAt(absl::Now(), &event);
    return event;
  }

  std::vector<Event> events_;
};

class NamesCliTest : public ChorusCliTest {
 protected:
  // Writes `history` as workflow `id`'s, as a driver would have recorded it.
  void Record(const History& history, const std::string& id = kId) {
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenSqliteEventStore(db_, {});
    ASSERT_TRUE(store.ok()) << store.status();
    const absl::Status appended = (*store)->Append(id, 0, history.events());
    ASSERT_TRUE(appended.ok()) << appended;
  }

  // Runs `chorus ARGS --db <db_>` with a terminal for its output, as a person would; returns
  // its exit code and what the terminal received (in `out`).
  Result ChorusOnATerminal(const std::vector<std::string>& args) {
    std::vector<std::string> words = {CHORUS_CLI_PATH};
    words.insert(words.end(), args.begin(), args.end());
    words.push_back("--db=" + db_);
    int terminal = -1;
    const pid_t chorus = forkpty(&terminal, nullptr, nullptr, nullptr);
    if (chorus == 0) {
      std::vector<char*> argv;
      for (std::string& word : words) argv.push_back(word.data());
      argv.push_back(nullptr);
      if (chdir(dir_.c_str()) == 0) execv(argv[0], argv.data());
      _exit(127);
    }
    EXPECT_GT(chorus, 0);
    std::string received;
    char buffer[4096];
    ssize_t size;
    // Ends with EIO once chorus has exited and everything it wrote is read.
    while ((size = read(terminal, buffer, sizeof(buffer))) > 0) received.append(buffer, size);
    close(terminal);
    int status = 0;
    EXPECT_EQ(waitpid(chorus, &status, 0), chorus);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, received, ""};
  }
};

// The definition of the recorded histories: a step after `esc` fails, its sibling is
// cancelled.
WorkflowDefinition Definition(const std::string& failing_command) {
  return DefinitionBuilder(kDefinitionName)
      .ShellStep(kEscStep, "true")
      .ShellStep(kTwoLineStep, failing_command, {kEscStep})
      .ShellStep(kNulStep, "sleep 60", {kEscStep})
      .Build();
}

History FailedHistory() {
  History history;
  history.Started(Definition("exit 1"))
      .StepStarted(kEscStep)
      .StepCompleted(kEscStep)
      .StepStarted(kTwoLineStep)
      .StepStarted(kNulStep)
      .StepFailed(kTwoLineStep)
      .StepCancelled(kNulStep)
      .WorkflowFailed(kTwoLineStep);
  return history;
}

TEST_F(NamesCliTest, InspectingCommandsShowNamesEscaped) {
  ASSERT_NO_FATAL_FAILURE(Record(FailedHistory()));
  const std::string id = TerminalText(kId);
  const std::string esc = TerminalText(kEscStep);
  const std::string two = TerminalText(kTwoLineStep);
  const std::string nul = TerminalText(kNulStep);
  const struct {
    std::vector<std::string> args;
    std::vector<std::string> shown;
  } kCases[] = {
      {{"list"}, {id, TerminalText(kDefinitionName), "failed"}},
      {{"status", kId},
       {id, TerminalText(kDefinitionName), esc, two, nul,
        // The error keeps its lines, and escapes the step's name whole.
        absl::StrCat("step '", two,
                     "' exited with status 1; last stderr lines:\nno\\x1B[1m way\nout")}},
      {{"history", kId},
       {absl::StrCat(esc, "#1"), absl::StrCat(two, "#1"), absl::StrCat(nul, "#1"),
        absl::StrCat("reason: step '", two, "' failed"),
        "step 'two\\nlines': UNKNOWN: \"step \\'two\\nlines\\' exited"}},
      {{"replay", kId},
       {absl::StrCat("done       ", esc),
        // A row is one line: its error too.
        absl::StrCat("attempt 1: UNKNOWN: step '", two,
                     "' exited with status 1; last stderr lines:\\nno\\x1B[1m way\\nout")}},
      {{"verify", kId}, {id + ": ok"}},
      {{"verify", "--all"}, {id + ": ok"}},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::CHexEscape(absl::StrJoin(c.args, " ")));
    const Result result = Chorus(c.args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const std::string printed = result.out + result.err;
    EXPECT_FALSE(HasControlCharacters(printed)) << absl::CHexEscape(printed);
    for (const std::string& name : {kId, kDefinitionName, kEscStep, kTwoLineStep, kNulStep}) {
      EXPECT_THAT(printed, Not(HasSubstr(name))) << absl::CHexEscape(printed);
    }
    for (const std::string& shown : c.shown) {
      EXPECT_THAT(printed, HasSubstr(shown)) << absl::CHexEscape(printed);
    }
  }
}

TEST_F(NamesCliTest, ErrorsShowTheIdEscaped) {
  ASSERT_NO_FATAL_FAILURE(Record(FailedHistory()));
  const struct {
    std::vector<std::string> args;
    int exit_code;
    std::string err;
  } kCases[] = {
      {{"status", "nobody\x1b[2J\nhere"}, 4, "workflow 'nobody\\x1B[2J\\nhere' not found"},
      {{"cancel", kId}, 6, "workflow 'w\\x1B[31m\\nid' has already ended: WORKFLOW_STATUS_FAILED"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::CHexEscape(absl::StrJoin(c.args, " ")));
    const Result result = Chorus(c.args);
    EXPECT_EQ(result.exit_code, c.exit_code);
    EXPECT_EQ(result.err, absl::StrCat("chorus: ", c.err, "\n"));
  }
}

// The names of the definition and its steps; the id is a plain one, since an export file
// names its workflow by an id that must be a name.
TEST_F(NamesCliTest, JsonKeepsNamesExact) {
  const History history = FailedHistory();
  ASSERT_NO_FATAL_FAILURE(Record(history, "plain"));
  const Result json = Chorus({"history", "plain", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const Result exported = Chorus({"export", "plain"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::vector<std::string> json_lines = absl::StrSplit(json.out, '\n', absl::SkipEmpty());
  const std::vector<std::string> export_lines =
      absl::StrSplit(exported.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(json_lines.size(), history.events().size());
  ASSERT_EQ(export_lines.size(), history.events().size());
  for (size_t i = 0; i < history.events().size(); ++i) {
    SCOPED_TRACE(i);
    Event event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json_lines[i], &event).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(event, history.events()[i]))
        << event.ShortDebugString();
    ExportedEvent exported_event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(export_lines[i], &exported_event).ok());
    EXPECT_EQ(exported_event.workflow_id(), "plain");
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(exported_event.event(),
                                                                   history.events()[i]));
  }
}

// A run's progress (a line per event where stderr is no terminal), its end and its error.
TEST_F(NamesCliTest, ResumeShowsNamesEscapedAndTheFailureALineEach) {
  History history;
  history.Started(Definition("printf 'no\\033[1m way\\nout\\n' >&2; exit 1"));
  ASSERT_NO_FATAL_FAILURE(Record(history));
  const Result resume = Chorus({"resume", kId});
  EXPECT_EQ(resume.exit_code, 1) << resume.err;
  const std::string printed = resume.out + resume.err;
  EXPECT_FALSE(HasControlCharacters(printed)) << absl::CHexEscape(printed);
  for (const std::string& name : {kId, kDefinitionName, kEscStep, kTwoLineStep, kNulStep}) {
    EXPECT_THAT(printed, Not(HasSubstr(name))) << absl::CHexEscape(printed);
  }
  EXPECT_THAT(
      resume.err,
      AllOf(HasSubstr(absl::StrCat("step_completed     ", TerminalText(kEscStep), "#1")),
            HasSubstr(absl::StrCat("step_failed        ", TerminalText(kTwoLineStep), "#1")),
            HasSubstr(absl::StrCat("step_cancelled     ", TerminalText(kNulStep), "#1")),
            HasSubstr("chorus: workflow 'w\\x1B[31m\\nid' failed: step 'two\\nlines'"),
            HasSubstr("last stderr lines:\nno\\x1B[1m way\nout\n")))
      << absl::CHexEscape(printed);
}

// On a terminal, run keeps one live line of the running steps.
TEST_F(NamesCliTest, TheLiveLineShowsNamesEscaped) {
  History history;
  history.Started(DefinitionBuilder(kDefinitionName).ShellStep(kEscStep, "sleep 0.5").Build());
  ASSERT_NO_FATAL_FAILURE(Record(history));
  const Result resume = ChorusOnATerminal({"resume", kId});
  EXPECT_EQ(resume.exit_code, 0) << absl::CHexEscape(resume.out);
  EXPECT_THAT(resume.out, AllOf(HasSubstr(absl::StrCat("running: ", TerminalText(kEscStep), " ")),
                                HasSubstr("workflow 'w\\x1B[31m\\nid' completed: 1 steps"),
                                Not(HasSubstr(kEscStep)), Not(HasSubstr(kId))))
      << absl::CHexEscape(resume.out);
}

}  // namespace
}  // namespace chorus
