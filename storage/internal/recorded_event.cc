#include "storage/internal/recorded_event.h"

#include <string>

#include "event/text.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"

namespace chorus {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Makes every string field in `message`, the wire bytes of a message of type `type`, valid
// UTF-8, recursing into message fields. Fields the type does not know are left as they are,
// as protobuf's parse keeps them. Returns false if the bytes are not a message.
bool RepairText(const Descriptor& type, std::string& message) {
  UnknownFieldSet fields;
  if (!fields.ParseFromString(message)) return false;
  for (int i = 0; i < fields.field_count(); ++i) {
    UnknownField& field = *fields.mutable_field(i);
    const FieldDescriptor* known = type.FindFieldByNumber(field.number());
    if (known == nullptr || field.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    std::string& bytes = *field.mutable_length_delimited();
    if (known->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(bytes)) bytes = RecordableText(bytes);
    } else if (known->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (!RepairText(*known->message_type(), bytes)) return false;
    }
  }
  message.clear();
  return fields.SerializeToString(&message);
}

}  // namespace

bool ParseRecordedEvent(absl::string_view bytes, Event* event) {
  if (event->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return true;
  std::string repaired(bytes);
  return RepairText(*Event::descriptor(), repaired) && event->ParseFromString(repaired);
}

}  // namespace chorus
