#include "event/started_outline.h"

#include <climits>

#include "event/text.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "proto/event.pb.h"

namespace chorus {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Reads `serialized` the way a protobuf parser does, but keeps only the outline. Each Read*
// reads the fields of one message up to the end of the input or its length, and returns false
// on bytes that are not a message. A field whose number matches but whose wire type does not is
// an unknown field to a parser, so it is skipped here too; a field that occurs again merges, as
// a parser merges it: a repeated field appends, a string is replaced.
class OutlineReader {
 public:
  // Calls `on_name` (if not null) with each step's name as it reads it.
  OutlineReader(absl::string_view serialized,
                const absl::FunctionRef<void(absl::string_view)>* on_name)
      : serialized_(serialized),
        on_name_(on_name),
        in_(reinterpret_cast<const uint8_t*>(serialized.data()),
            static_cast<int>(serialized.size())) {
    in_.SetTotalBytesLimit(INT_MAX);
  }

  std::optional<StartedOutline> ReadEvent() {
    bool started = false;
    while (const uint32_t tag = in_.ReadTag()) {
      const int number = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
      if (tag == VarintTag(Event::kSeqFieldNumber)) {
        uint64_t seq = 0;
        if (!in_.ReadVarint64(&seq)) return std::nullopt;
        outline_.seq = static_cast<int64_t>(seq);
      } else if (tag == LengthTag(Event::kWorkflowStartedFieldNumber)) {
        if (!ReadMessage(&OutlineReader::ReadWorkflowStarted)) return std::nullopt;
        started = true;
      } else if (IsKindField(number) || !Skip(tag)) {  // another kind replaces workflow_started
        return std::nullopt;
      }
    }
    if (!started || !in_.ConsumedEntireMessage()) return std::nullopt;
    outline_.serialized = serialized_;
    return outline_;
  }

 private:
  static constexpr uint32_t LengthTag(int number) {
    return WireFormatLite::MakeTag(number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  }
  static constexpr uint32_t VarintTag(int number) {
    return WireFormatLite::MakeTag(number, WireFormatLite::WIRETYPE_VARINT);
  }
  static bool IsKindField(int number) {
    const google::protobuf::FieldDescriptor* field = Event::descriptor()->FindFieldByNumber(number);
    return field != nullptr && field->containing_oneof() != nullptr;
  }

  // Reads a length-delimited message's fields with `read`.
  bool ReadMessage(bool (OutlineReader::*read)()) {
    uint32_t length = 0;
    if (!in_.ReadVarint32(&length) || length > serialized_.size() - in_.CurrentPosition()) {
      return false;
    }
    const CodedInputStream::Limit limit = in_.PushLimit(static_cast<int>(length));
    if (!(this->*read)() || !in_.ConsumedEntireMessage()) return false;
    in_.PopLimit(limit);
    return true;
  }

  // Reads a length-delimited string as a view of the input.
  bool ReadString(absl::string_view* value) {
    uint32_t length = 0;
    if (!in_.ReadVarint32(&length) || length > serialized_.size() - in_.CurrentPosition()) {
      return false;
    }
    *value = serialized_.substr(in_.CurrentPosition(), length);
    return in_.Skip(static_cast<int>(length));
  }

  // Skips a field the outline does not need (false on an unmatched end of group, as a parser).
  bool Skip(uint32_t tag) { return WireFormatLite::SkipField(&in_, tag); }

  // Reads the fields of a message of which the outline needs one, the message field numbered
  // `number`: reads it (each time it occurs) with `read`, and skips the others.
  bool ReadFieldsFor(int number, bool (OutlineReader::*read)()) {
    while (const uint32_t tag = in_.ReadTag()) {
      if (!(tag == LengthTag(number) ? ReadMessage(read) : Skip(tag))) return false;
    }
    return true;
  }

  bool ReadWorkflowStarted() {
    return ReadFieldsFor(WorkflowStarted::kDefinitionFieldNumber, &OutlineReader::ReadDefinition);
  }

  bool ReadDefinition() {
    return ReadFieldsFor(WorkflowDefinition::kStepsFieldNumber, &OutlineReader::ReadStep);
  }

  bool ReadStep() {
    absl::string_view name;
    absl::string_view map_over;
    while (const uint32_t tag = in_.ReadTag()) {
      bool read = false;
      if (tag == LengthTag(StepDefinition::kNameFieldNumber)) {
        read = ReadString(&name);
      } else if (tag == LengthTag(StepDefinition::kMapOverFieldNumber)) {
        read = ReadString(&map_over);
      } else {
        read = Skip(tag);
      }
      if (!read) return false;
    }
    // An earlier version could record a name that is not UTF-8, which the parse reads escaped
    // (storage/internal/recorded_event.h): the names would differ. Checked once, as counted.
    if (on_name_ == nullptr && !IsValidUtf8(name)) return false;
    if (on_name_ != nullptr) (*on_name_)(name);
    ++outline_.steps;
    outline_.has_map_steps = outline_.has_map_steps || !map_over.empty();
    return true;
  }

  const absl::string_view serialized_;
  const absl::FunctionRef<void(absl::string_view)>* const on_name_;
  CodedInputStream in_;
  StartedOutline outline_;
};

}  // namespace

void StartedOutline::ForEachStepName(
    absl::FunctionRef<void(absl::string_view name)> on_name) const {
  OutlineReader(serialized, &on_name).ReadEvent();
}

std::optional<StartedOutline> ReadStartedOutline(absl::string_view serialized) {
  if (serialized.size() > INT_MAX) return std::nullopt;
  return OutlineReader(serialized, /*on_name=*/nullptr).ReadEvent();
}

}  // namespace chorus
