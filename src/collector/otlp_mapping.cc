#include "collector/otlp_mapping.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "collector/batch_text.h"
#include "collector/json_text.h"
#include "collector/otlp_wire_rows.h"

namespace vllora::collector::internal {
namespace {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using KeyValues = google::protobuf::RepeatedPtrField<KeyValue>;

// Nesting of array/kvlist values written to JSON; deeper values become null (protobuf already
// limits a parsed message to 100 levels; this keeps the JSON writer's recursion small).
constexpr int kMaxValueDepth = 32;

void AppendAnyValue(std::string& out, const AnyValue& value, int depth);

// A guess of the JSON size of `values` (exact for plain ASCII strings and small numbers), so that
// a column is allocated once instead of growing by doubling.
size_t EstimateJsonSize(const KeyValues& values) {
  size_t size = 2;
  for (const KeyValue& kv : values) {
    size += kv.key().size() + 4;
    const AnyValue& value = kv.value();
    size += value.value_case() == AnyValue::kStringValue ? value.string_value().size() + 2 : 24;
  }
  return size;
}

void AppendKeyValues(std::string& out, const KeyValues& values, int depth) {
  if (depth == 0) out.reserve(out.size() + EstimateJsonSize(values));
  out.push_back('{');
  bool first = true;
  for (const KeyValue& kv : values) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, kv.key());
    out.push_back(':');
    AppendAnyValue(out, kv.value(), depth + 1);
  }
  out.push_back('}');
}

void AppendAnyValue(std::string& out, const AnyValue& value, int depth) {
  if (depth > kMaxValueDepth) {
    out += "null";
    return;
  }
  switch (value.value_case()) {
    case AnyValue::kStringValue:
      AppendJsonString(out, value.string_value());
      break;
    case AnyValue::kBoolValue:
      out += value.bool_value() ? "true" : "false";
      break;
    case AnyValue::kIntValue:
      AppendJsonInt(out, value.int_value());
      break;
    case AnyValue::kDoubleValue:
      AppendJsonDouble(out, value.double_value());
      break;
    case AnyValue::kBytesValue:
      AppendJsonBase64(out, value.bytes_value());
      break;
    case AnyValue::kArrayValue: {
      out.push_back('[');
      bool first = true;
      for (const AnyValue& element : value.array_value().values()) {
        if (!first) out.push_back(',');
        first = false;
        AppendAnyValue(out, element, depth + 1);
      }
      out.push_back(']');
      break;
    }
    case AnyValue::kKvlistValue:
      AppendKeyValues(out, value.kvlist_value().values(), depth);
      break;
    case AnyValue::VALUE_NOT_SET:
      out += "null";
      break;
  }
}

// Text of a mapped column: strings as they are (repaired), scalars as their JSON text, anything
// else absent.
std::optional<std::string> ScalarText(const AnyValue& value) {
  std::string out;
  switch (value.value_case()) {
    case AnyValue::kStringValue:
      return RepairUtf8(value.string_value());
    case AnyValue::kBoolValue:
      return std::string(value.bool_value() ? "true" : "false");
    case AnyValue::kIntValue:
      AppendJsonInt(out, value.int_value());
      return out;
    case AnyValue::kDoubleValue:
      AppendJsonDouble(out, value.double_value());
      return out;
    default:
      return std::nullopt;
  }
}

// The mapped keys, found in one pass over a span's (or resource's) attributes. The last
// occurrence of a key wins, as in the attribute JSON.
struct VlloraKeys {
  const AnyValue* tenant = nullptr;
  const AnyValue* project_id = nullptr;
  const AnyValue* thread_id = nullptr;
  const AnyValue* run_id = nullptr;
  const AnyValue* label = nullptr;
  const AnyValue* tags = nullptr;

  static VlloraKeys Find(const KeyValues& attributes) {
    VlloraKeys keys;
    for (const KeyValue& kv : attributes) {
      const std::string& k = kv.key();
      if (k.size() < 4) continue;
      if (k == "tags") {
        keys.tags = &kv.value();
      } else if (k.starts_with("vllora.")) {
        if (k == "vllora.tenant")
          keys.tenant = &kv.value();
        else if (k == "vllora.project_id")
          keys.project_id = &kv.value();
        else if (k == "vllora.thread_id")
          keys.thread_id = &kv.value();
        else if (k == "vllora.run_id")
          keys.run_id = &kv.value();
        else if (k == "vllora.label")
          keys.label = &kv.value();
      }
    }
    return keys;
  }
};

std::optional<std::string> ParseTags(const AnyValue* value) {
  if (value == nullptr || value->value_case() != AnyValue::kStringValue) return std::nullopt;
  return TagsColumn(RepairUtf8(value->string_value()));
}

bool AllZero(std::string_view bytes) noexcept {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

std::string Validate(const opentelemetry::proto::trace::v1::Span& span) {
  return SpanProblems(span.trace_id(), span.span_id(), span.parent_span_id(),
                      span.start_time_unix_nano(), span.end_time_unix_nano());
}

int64_t NanosToMicros(uint64_t nanos) noexcept {
  // fixed64 nanoseconds / 1000 always fits in int64.
  return static_cast<int64_t>(nanos / 1000);
}

}  // namespace

std::optional<std::string> TagsColumn(const std::string& repaired) {
  nlohmann::json parsed = nlohmann::json::parse(repaired, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  return parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SpanProblems(std::string_view trace_id, std::string_view span_id,
                         std::string_view parent_span_id, uint64_t start_time_unix_nano,
                         uint64_t end_time_unix_nano) {
  std::string reasons;
  const auto add = [&](std::string reason) {
    if (!reasons.empty()) reasons += ", ";
    reasons += reason;
  };
  if (trace_id.size() != 16) {
    add("trace_id must be 16 bytes (got " + std::to_string(trace_id.size()) + ")");
  } else if (AllZero(trace_id)) {
    add("trace_id must not be all zero");
  }
  if (span_id.size() != 8) {
    add("span_id must be 8 bytes (got " + std::to_string(span_id.size()) + ")");
  } else if (AllZero(span_id)) {
    add("span_id must not be all zero");
  }
  if (!parent_span_id.empty()) {
    if (parent_span_id.size() != 8) {
      add("parent_span_id must be empty or 8 bytes (got " + std::to_string(parent_span_id.size()) +
          ")");
    } else if (AllZero(parent_span_id)) {
      add("parent_span_id must not be all zero (use empty for a root span)");
    }
  }
  if (end_time_unix_nano < start_time_unix_nano) {
    add("end_time_unix_nano is before start_time_unix_nano");
  }
  return reasons;
}

void Rejections::Add(int64_t span_index, const std::string& reason) {
  ++count_;
  if (count_ <= kMaxListedReasons) {
    reasons_ += "; span " + std::to_string(span_index) + ": " + reason;
  }
}

std::string Rejections::Message() const {
  if (count_ == 0) return std::string();
  std::string message = std::to_string(count_) +
                        (count_ == 1 ? " span rejected: " : " spans rejected: ") +
                        reasons_.substr(2);
  if (count_ > kMaxListedReasons) {
    message += "; ... and " + std::to_string(count_ - kMaxListedReasons) + " more";
  }
  return message;
}

std::string TraceIdToUuid(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Written into a local buffer and copied once (push_back per character cost ~1,000
  // instructions per span). Callers pass 16 bytes; longer input is cut at 16.
  char buffer[36];
  size_t n = 0;
  for (size_t i = 0; i < bytes.size() && i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buffer[n++] = '-';
    const auto b = static_cast<unsigned char>(bytes[i]);
    buffer[n++] = kHex[b >> 4];
    buffer[n++] = kHex[b & 0xF];
  }
  return std::string(buffer, n);
}

std::string SpanIdToDecimal(std::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

size_t CountSpans(const ExportRequest& request) noexcept {
  size_t count = 0;
  for (const auto& resource_spans : request.resource_spans()) {
    for (const auto& scope_spans : resource_spans.scope_spans()) {
      count += static_cast<size_t>(scope_spans.spans_size());
    }
  }
  return count;
}

namespace {

// Writes the rows of one request straight into a SpanBatch: every text is appended to the batch's
// text once and a row refers to it by offset and length. What several rows share (a resource's
// JSON and the columns taken from its attributes, a scope's name, the header or default tenant)
// is appended once and referred to by every row, never copied per row.
class BatchMapper {
 public:
  BatchMapper(SpanBatch& batch, std::string_view header_tenant)
      : batch_(batch), text_(batch.text), out_(batch.text, header_tenant) {}

  using Slice = TextSlice;

  // False when the request's text does not fit a batch (SpanBatch::kMaxText).
  bool Request(const ExportRequest& request, Rejections& rejections) {
    int64_t index = -1;
    for (const auto& resource_spans : request.resource_spans()) {
      const KeyValues& resource_attributes = resource_spans.resource().attributes();
      const VlloraKeys resource_keys = VlloraKeys::Find(resource_attributes);
      size_t start = text_.size();
      AppendKeyValues(text_, resource_attributes, 0);
      resource_json_ = Since(start);
      resource_thread_ = Scalar(resource_keys.thread_id);
      resource_run_ = Scalar(resource_keys.run_id);
      resource_project_ = Scalar(resource_keys.project_id);
      resource_label_ = Scalar(resource_keys.label);
      resource_tenant_ = Scalar(resource_keys.tenant);
      if (resource_tenant_.length == 0) resource_tenant_ = Slice{};  // "" does not count
      for (const auto& scope_spans : resource_spans.scope_spans()) {
        scope_name_ = Slice{};
        if (!scope_spans.scope().name().empty()) {
          start = text_.size();
          text::AppendRepairedUtf8(text_, scope_spans.scope().name());
          scope_name_ = Since(start);
        }
        for (const auto& span : scope_spans.spans()) {
          ++index;
          std::string reason = Validate(span);
          if (!reason.empty()) {
            rejections.Add(index, reason);
            continue;
          }
          Span(span);
          if (text_.size() > SpanBatch::kMaxText) return false;
        }
      }
      if (text_.size() > SpanBatch::kMaxText) return false;
    }
    return true;
  }

 private:
  Slice Since(size_t start) const noexcept { return out_.Since(start); }
  Slice Put(std::string_view value) { return out_.Put(value); }
  static void Set(SpanBatch::Row& row, SpanBatch::TextColumn column, Slice slice) noexcept {
    BatchText::Set(row, column, slice);
  }
  // A mapped column's text of `value` (ScalarText); NULL when absent or not a scalar.
  Slice Scalar(const AnyValue* value) {
    if (value == nullptr) return Slice{};
    std::optional<std::string> text = ScalarText(*value);
    return text ? Put(*text) : Slice{};
  }
  // The span's own scalar value, else the resource's column.
  Slice Mapped(const AnyValue* span_value, Slice resource) {
    if (span_value != nullptr) {
      if (std::optional<std::string> text = ScalarText(*span_value)) return Put(*text);
    }
    return resource;
  }
  Slice Tenant(const AnyValue* span_value) {
    if (span_value != nullptr) {
      if (std::optional<std::string> text = ScalarText(*span_value); text && !text->empty())
        return Put(*text);
    }
    return out_.FallbackTenant(resource_tenant_);
  }

  void Span(const opentelemetry::proto::trace::v1::Span& span) {
    SpanBatch::Row row;
    Set(row, SpanBatch::kTraceId, Put(TraceIdToUuid(span.trace_id())));
    Set(row, SpanBatch::kSpanId, Put(SpanIdToDecimal(span.span_id())));
    Set(row, SpanBatch::kParentSpanId,
        span.parent_span_id().empty() ? Slice{} : Put(SpanIdToDecimal(span.parent_span_id())));
    size_t start = text_.size();
    text::AppendRepairedUtf8(text_, span.name());
    Set(row, SpanBatch::kOperationName, Since(start));
    row.start_time_us = NanosToMicros(span.start_time_unix_nano());
    row.finish_time_us = NanosToMicros(span.end_time_unix_nano());
    start = text_.size();
    AppendKeyValues(text_, span.attributes(), 0);
    Set(row, SpanBatch::kAttribute, Since(start));

    const VlloraKeys keys = VlloraKeys::Find(span.attributes());
    Set(row, SpanBatch::kThreadId, Mapped(keys.thread_id, resource_thread_));
    Set(row, SpanBatch::kRunId, Mapped(keys.run_id, resource_run_));
    Set(row, SpanBatch::kProjectId, Mapped(keys.project_id, resource_project_));
    Set(row, SpanBatch::kLabel, Mapped(keys.label, resource_label_));
    std::optional<std::string> tags = ParseTags(keys.tags);
    Set(row, SpanBatch::kTags, tags ? Put(*tags) : Slice{});
    Set(row, SpanBatch::kTenant, Tenant(keys.tenant));

    row.kind = static_cast<int64_t>(span.kind());
    row.status_code = static_cast<int64_t>(span.status().code());
    Slice status;
    if (!span.status().message().empty()) {
      start = text_.size();
      text::AppendRepairedUtf8(text_, span.status().message());
      status = Since(start);
    }
    Set(row, SpanBatch::kStatusMessage, status);

    start = text_.size();
    text_.push_back('[');
    bool first = true;
    for (const auto& event : span.events()) {
      if (!first) text_.push_back(',');
      first = false;
      text_ += "{\"name\":";
      AppendJsonString(text_, event.name());
      text_ += ",\"time_us\":";
      AppendJsonInt(text_, NanosToMicros(event.time_unix_nano()));
      text_ += ",\"attributes\":";
      AppendKeyValues(text_, event.attributes(), 0);
      text_.push_back('}');
    }
    text_.push_back(']');
    Set(row, SpanBatch::kEvents, Since(start));
    Set(row, SpanBatch::kResource, resource_json_);
    Set(row, SpanBatch::kScopeName, scope_name_);
    batch_.rows.push_back(row);
  }

  SpanBatch& batch_;
  std::string& text_;
  BatchText out_;
  Slice resource_json_, resource_thread_, resource_run_, resource_project_, resource_label_,
      resource_tenant_, scope_name_;
};

}  // namespace

bool MapExportRequestInto(const ExportRequest& request, std::string_view header_tenant,
                          DecodedRequest* out, std::string* error) {
  out->batch.clear();
  out->rejected_spans = 0;
  out->error_message.clear();
  // No reserve for every span of the request: spans refused by validation would hold it too.
  Rejections rejections;
  BatchMapper mapper(out->batch, header_tenant);
  if (!mapper.Request(request, rejections)) {
    out->batch.clear();
    *error = "request too large";
    return false;
  }
  out->rejected_spans = rejections.count();
  out->error_message = rejections.Message();
  return true;
}

MappedRequest MapExportRequest(const ExportRequest& request, std::string_view header_tenant) {
  DecodedRequest decoded;
  std::string error;
  if (!MapExportRequestInto(request, header_tenant, &decoded, &error)) {
    throw std::length_error("MapExportRequest: " + error);
  }
  MappedRequest mapped;
  mapped.rows.reserve(decoded.batch.size());
  for (size_t i = 0; i < decoded.batch.size(); ++i) mapped.rows.push_back(decoded.batch.Get(i));
  mapped.rejected_spans = decoded.rejected_spans;
  mapped.error_message = std::move(decoded.error_message);
  return mapped;
}

}  // namespace vllora::collector::internal
