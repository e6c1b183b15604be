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

// Writes `length` as a 5-byte varint at `out[at]`: overlong when the length is small, which
// protobuf parsers accept, so a nested message is written in place and its length filled in after.
void PutLength5(std::string& out, size_t at, uint32_t length) {
  for (size_t k = 0; k < 4; ++k) {
    out[at + k] = static_cast<char>((length & 0x7F) | 0x80);
    length >>= 7;
  }
  out[at + 4] = static_cast<char>(length);
}

// Appends the message in `in` to `out`, repairing the UTF-8 of every string field of `type`.
// Returns false on malformed wire data. Nothing is copied per nesting level: fields are read in
// place and nested messages are written straight into `out`.
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
        const auto at = static_cast<size_t>(stream.CurrentPosition());
        if (length > in.size() - at || !stream.Skip(static_cast<int>(length))) return false;
        const std::string_view payload = in.substr(at, length);
        const FieldDescriptor* field = type != nullptr ? type->FindFieldByNumber(number) : nullptr;
        const bool is_string = field != nullptr && field->type() == FieldDescriptor::TYPE_STRING;
        const bool is_message = field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE;
        if (!is_string && !is_message) {
          AppendVarint(out, length);
          out += payload;
          break;
        }
        const size_t length_at = out.size();
        out.append(5, '\0');
        if (is_string) {
          text::AppendRepairedUtf8(out, payload);
        } else if (!RepairMessage(payload, field->message_type(), out, depth + 1)) {
          return false;
        }
        const size_t written = out.size() - length_at - 5;
        if (written > static_cast<size_t>(INT32_MAX)) return false;
        PutLength5(out, length_at, static_cast<uint32_t>(written));
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
