#include "collector/otlp_mapping.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "collector/json_text.h"

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

std::optional<std::string> Pick(const AnyValue* span_value, const AnyValue* resource_value) {
  if (span_value != nullptr) {
    if (auto text = ScalarText(*span_value)) return text;
  }
  if (resource_value != nullptr) return ScalarText(*resource_value);
  return std::nullopt;
}

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

MappedRequest MapExportRequest(const ExportRequest& request, std::string_view header_tenant) {
  MappedRequest mapped;
  mapped.rows.reserve(CountSpans(request));
  Rejections rejections;
  int64_t index = -1;
  for (const auto& resource_spans : request.resource_spans()) {
    const KeyValues& resource_attributes = resource_spans.resource().attributes();
    const VlloraKeys resource_keys = VlloraKeys::Find(resource_attributes);
    std::string resource_json;
    AppendKeyValues(resource_json, resource_attributes, 0);
    std::optional<std::string> resource_tenant = Pick(nullptr, resource_keys.tenant);
    for (const auto& scope_spans : resource_spans.scope_spans()) {
      std::optional<std::string> scope_name;
      if (!scope_spans.scope().name().empty()) scope_name = RepairUtf8(scope_spans.scope().name());
      for (const auto& span : scope_spans.spans()) {
        ++index;
        std::string reason = Validate(span);
        if (!reason.empty()) {
          rejections.Add(index, reason);
          continue;
        }
        SpanRow& row = mapped.rows.emplace_back();
        row.trace_id = TraceIdToUuid(span.trace_id());
        row.span_id = SpanIdToDecimal(span.span_id());
        if (!span.parent_span_id().empty())
          row.parent_span_id = SpanIdToDecimal(span.parent_span_id());
        row.operation_name = RepairUtf8(span.name());
        row.start_time_us = NanosToMicros(span.start_time_unix_nano());
        row.finish_time_us = NanosToMicros(span.end_time_unix_nano());
        row.attribute.clear();
        AppendKeyValues(row.attribute, span.attributes(), 0);

        const VlloraKeys keys = VlloraKeys::Find(span.attributes());
        row.thread_id = Pick(keys.thread_id, resource_keys.thread_id);
        row.run_id = Pick(keys.run_id, resource_keys.run_id);
        row.project_id = Pick(keys.project_id, resource_keys.project_id);
        row.label = Pick(keys.label, resource_keys.label);
        row.tags = ParseTags(keys.tags);
        if (auto tenant = Pick(keys.tenant, nullptr); tenant && !tenant->empty()) {
          row.tenant = std::move(*tenant);
        } else if (resource_tenant && !resource_tenant->empty()) {
          row.tenant = *resource_tenant;
        } else if (!header_tenant.empty()) {
          row.tenant = RepairUtf8(header_tenant);
        } else {
          row.tenant = std::string(kDefaultTenant);
        }

        row.kind = static_cast<int64_t>(span.kind());
        row.status_code = static_cast<int64_t>(span.status().code());
        if (!span.status().message().empty())
          row.status_message = RepairUtf8(span.status().message());

        row.events.assign(1, '[');
        bool first = true;
        for (const auto& event : span.events()) {
          if (!first) row.events.push_back(',');
          first = false;
          row.events += "{\"name\":";
          AppendJsonString(row.events, event.name());
          row.events += ",\"time_us\":";
          AppendJsonInt(row.events, NanosToMicros(event.time_unix_nano()));
          row.events += ",\"attributes\":";
          AppendKeyValues(row.events, event.attributes(), 0);
          row.events.push_back('}');
        }
        row.events.push_back(']');
        row.resource = resource_json;
        row.scope_name = scope_name;
      }
    }
  }
  mapped.rejected_spans = rejections.count();
  mapped.error_message = rejections.Message();
  return mapped;
}

}  // namespace vllora::collector::internal
