#include "collector/otlp_protobuf.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "collector/json_text.h"

namespace vllora::collector::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr int kMaxDepth = 100;  // protobuf's own default recursion limit

void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Copies the message in `in` to `out`, repairing the UTF-8 of every string field of `type`.
// Returns false on malformed wire data.
bool RepairMessage(std::string_view in, const Descriptor* type, std::string& out, int depth) {
  if (depth > kMaxDepth) return false;
  // CodedInputStream takes an int size; messages are limited far below 2 GiB by the receivers.
  CodedInputStream stream(reinterpret_cast<const uint8_t*>(in.data()), static_cast<int>(in.size()));
  for (;;) {
    if (stream.CurrentPosition() == static_cast<int>(in.size())) return true;
    const uint32_t tag = stream.ReadTag();
    if (tag == 0) return false;  // bad or truncated tag
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    if (number == 0) return false;
    AppendVarint(out, tag);
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t v;
        if (!stream.ReadVarint64(&v)) return false;
        AppendVarint(out, v);
        break;
      }
      case WireFormatLite::WIRETYPE_FIXED32: {
        uint32_t v;
        if (!stream.ReadLittleEndian32(&v)) return false;
        for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
        break;
      }
      case WireFormatLite::WIRETYPE_FIXED64: {
        uint64_t v;
        if (!stream.ReadLittleEndian64(&v)) return false;
        for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
        break;
      }
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t length;
        if (!stream.ReadVarint32(&length)) return false;
        std::string payload;
        if (!stream.ReadString(&payload, static_cast<int>(length))) return false;
        const FieldDescriptor* field = type != nullptr ? type->FindFieldByNumber(number) : nullptr;
        if (field != nullptr && field->type() == FieldDescriptor::TYPE_STRING) {
          const std::string repaired = RepairUtf8(payload);
          AppendVarint(out, repaired.size());
          out += repaired;
        } else if (field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE) {
          std::string nested;
          if (!RepairMessage(payload, field->message_type(), nested, depth + 1)) return false;
          AppendVarint(out, nested.size());
          out += nested;
        } else {
          AppendVarint(out, length);
          out += payload;
        }
        break;
      }
      default:
        return false;  // groups are not used by OTLP
    }
  }
}

}  // namespace

bool ParseOtlpProtobuf(std::string_view bytes, ExportRequest* request, std::string* error) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    *error = "request too large";
    return false;
  }
  if (request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return true;
  std::string repaired;
  repaired.reserve(bytes.size() + 16);
  if (RepairMessage(bytes, ExportRequest::descriptor(), repaired, 0) &&
      request->ParseFromString(repaired)) {
    return true;
  }
  request->Clear();
  *error = "malformed protobuf ExportTraceServiceRequest";
  return false;
}

}  // namespace vllora::collector::internal
