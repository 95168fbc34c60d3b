#include "event/text.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "proto/workflow_definition.pb.h"

namespace chorus {
namespace {

// Whether protobuf parses `bytes` in a proto3 `string` field: the check history must pass.
bool ProtobufAcceptsAsString(absl::string_view bytes) {
  std::string wire;
  wire.push_back(0x0a);  // Value.text: field 1, length-delimited
  wire.push_back(static_cast<char>(bytes.size()));
  wire.append(bytes.data(), bytes.size());
  Value value;
  return value.ParseFromString(wire);
}

TEST(Utf8, AgreesWithProtobufOnEverySequenceOfUpToThreeBytes) {
  google::protobuf::LogSilencer silence;  // each refusal would log an error
  std::string bytes;
  int checked = 0;
  for (uint32_t first = 0; first < 0x100; ++first) {
    bytes.assign(1, static_cast<char>(first));
    ASSERT_EQ(IsValidUtf8(bytes), ProtobufAcceptsAsString(bytes)) << std::hex << first;
    for (uint32_t second = 0; second < 0x100; ++second) {
      bytes.assign({static_cast<char>(first), static_cast<char>(second)});
      ASSERT_EQ(IsValidUtf8(bytes), ProtobufAcceptsAsString(bytes)) << std::hex << first << second;
      if (first < 0xe0 || first > 0xef) continue;
      for (uint32_t third = 0; third < 0x100; ++third) {
        bytes.assign(
            {static_cast<char>(first), static_cast<char>(second), static_cast<char>(third)});
        ASSERT_EQ(IsValidUtf8(bytes), ProtobufAcceptsAsString(bytes))
            << std::hex << first << " " << second << " " << third;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 16 * 256 * 256);
}

TEST(Utf8, AgreesWithProtobufOnFourByteSequencesAtEveryEdge) {
  google::protobuf::LogSilencer silence;
  constexpr unsigned char kContinuations[] = {0x00, 0x7f, 0x80, 0x8f, 0x90,
                                              0x9f, 0xa0, 0xbf, 0xc0, 0xff};
  for (uint32_t first = 0xf0; first < 0x100; ++first) {
    for (unsigned char second : kContinuations) {
      for (unsigned char third : kContinuations) {
        for (unsigned char fourth : kContinuations) {
          const std::string bytes = {static_cast<char>(first), static_cast<char>(second),
                                     static_cast<char>(third), static_cast<char>(fourth)};
          ASSERT_EQ(IsValidUtf8(bytes), ProtobufAcceptsAsString(bytes))
              << std::hex << first << " " << int{second} << " " << int{third} << " " << int{fourth};
        }
      }
    }
  }
}

TEST(Utf8, SequenceLengths) {
  struct Row {
    absl::string_view text;
    size_t length;
  };
  const Row kRows[] = {
      {"", 0},
      {"a", 1},
      {"\xc3\xa9t\xc3\xa9", 2},  // "été"
      {"\xe2\x82\xac", 3},       // "€"
      {"\xf0\x9f\x98\x80", 4},   // U+1F600
      {"\xc3", 0},               // cut short
      {"\xc0\xaf", 0},           // overlong '/'
      {"\xed\xa0\x80", 0},       // a surrogate
      {"\xf4\x90\x80\x80", 0},   // above U+10FFFF
      {"\xff", 0},
      {"\x80", 0},  // a continuation byte alone
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.text)));
    EXPECT_EQ(Utf8SequenceLength(row.text), row.length);
  }
}

TEST(Utf8, PrefixNeverEndsInsideACharacter) {
  const std::string text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // 1 + 2 + 3 + 4 bytes
  const size_t kExpected[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10};
  for (size_t max = 0; max < std::size(kExpected); ++max) {
    SCOPED_TRACE(max);
    EXPECT_EQ(Utf8Prefix(text, max).size(), kExpected[max]);
    EXPECT_TRUE(IsValidUtf8(Utf8Prefix(text, max)));
  }
  // An invalid byte counts as a character of its own.
  EXPECT_EQ(Utf8Prefix("\xff\xfe\xfd", 2), "\xff\xfe");
}

TEST(RecordableText, EscapesInvalidBytesAndKeepsTheRest) {
  struct Row {
    absl::string_view text;
    absl::string_view recorded;
  };
  const Row kRows[] = {
      {"", ""},
      {"plain\nlines\ttoo", "plain\nlines\ttoo"},
      {"d\xc3\xa9j\xc3\xa0 vu", "d\xc3\xa9j\xc3\xa0 vu"},
      {"bad \xff bytes", "bad \\xFF bytes"},
      {"latin-1 \xe9t\xe9", "latin-1 \\xE9t\\xE9"},
      {"cut \xe2\x82", "cut \\xE2\\x82"},
      {"\xed\xa0\x80", "\\xED\\xA0\\x80"},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.text)));
    const std::string recorded = RecordableText(row.text);
    EXPECT_EQ(recorded, row.recorded);
    EXPECT_TRUE(IsValidUtf8(recorded));
  }
}

TEST(RecordableText, CutsLongTextAtACharacterBoundary) {
  std::string text(kMaxRecordedTextBytes - 4, 'x');
  text += "\xe2\x82\xac\xe2\x82\xac";  // two 3-byte characters across the limit
  const std::string recorded = RecordableText(text);
  EXPECT_LE(recorded.size(), kMaxRecordedTextBytes);
  EXPECT_TRUE(IsValidUtf8(recorded));
  EXPECT_EQ(recorded.substr(recorded.size() - 3), "...");
  EXPECT_EQ(recorded.substr(0, 100), text.substr(0, 100));

  // 40 MB of invalid bytes: cut too, each kept byte escaped.
  const std::string huge(40 << 20, '\xff');
  const std::string cut = RecordableText(huge);
  EXPECT_LE(cut.size(), kMaxRecordedTextBytes);
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_EQ(cut.substr(0, 8), "\\xFF\\xFF");
}

TEST(CheckName, AcceptsUnicodeAndRefusesWhatHistoryOrATerminalCannotTake) {
  struct Row {
    absl::string_view name;
    absl::string_view error;  // empty: accepted
  };
  const Row kRows[] = {
      {"fetch", ""},
      {"..", ""},
      {"a/b c", ""},
      {"r\xc3\xa9sum\xc3\xa9", ""},
      {"\xe6\x97\xa5\xe6\x9c\xac", ""},
      {"", "step \"\" is empty"},
      {"\xff", "step \"\\xFF\" is not valid UTF-8"},
      {"a\xe2\x82", "step \"a\\xE2\\x82\" is not valid UTF-8"},
      {"esc\x1b[31m", "step \"esc\\x1B[31m\" contains a control character (\\x1B)"},
      {"two\nlines", "step \"two\\nlines\" contains a control character (\\n)"},
      {absl::string_view("nul\0", 4), "step \"nul\\0\" contains a control character (\\0)"},
      {"del\x7f", "step \"del\\x7F\" contains a control character (\\x7F)"},
      {"c1\xc2\x9b", "step \"c1\\xC2\\x9B\" contains a control character (\\xC2\\x9B)"},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.name)));
    const absl::Status status = CheckName("step", row.name);
    if (row.error.empty()) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message(), row.error);
    }
  }
}

TEST(TerminalText, ShowsControlsAndInvalidBytesVisibly) {
  struct Row {
    absl::string_view text;
    absl::string_view shown;
  };
  const Row kRows[] = {
      {"plain", "plain"},
      {"caf\xc3\xa9 \\ back", "caf\xc3\xa9 \\ back"},
      {"\x1b]0;title\x07", "\\x1B]0;title\\x07"},
      {"a\tb\nc\rd", "a\\tb\\nc\\rd"},
      {absl::string_view("\0x", 2), "\\0x"},
      {"\xff\xc3", "\\xFF\\xC3"},
      {"\xc2\x9b"
       "2J",
       "\\xC2\\x9B2J"},
  };
  for (const Row& row : kRows) {
    SCOPED_TRACE(testing::PrintToString(std::string(row.text)));
    EXPECT_EQ(TerminalText(row.text), row.shown);
  }
}

}  // namespace
}  // namespace chorus
