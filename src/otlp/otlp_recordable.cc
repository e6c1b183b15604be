#include "otlp/otlp_recordable.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <variant>
#include <vector>

#include "text/text.h"

namespace vllora::otlp::internal {
namespace {

template <size_t N>
std::string IdBytes(const std::array<uint8_t, N>& bytes) {
  // The ids are raw bytes; std::string is protobuf's representation of `bytes` fields.
  return std::string(reinterpret_cast<const char*>(bytes.data()), N);
}

void FillSpan(const otel::SpanData& data, otlp_trace::Span& span) {
  span.set_trace_id(IdBytes(data.trace_id.bytes));
  span.set_span_id(IdBytes(data.span_id.bytes));
  if (!data.trace_state.empty()) AssignUtf8(data.trace_state, *span.mutable_trace_state());
  if (data.parent_span_id.IsValid()) {
    span.set_parent_span_id(IdBytes(data.parent_span_id.bytes));
  }
  span.set_flags(SpanFlags(data.trace_flags, data.parent_is_remote));
  AssignUtf8(data.name, *span.mutable_name());
  // SpanKind is numbered as in OTLP (kInternal = 1 ... kConsumer = 5).
  span.set_kind(static_cast<otlp_trace::Span::SpanKind>(static_cast<int>(data.kind)));
  span.set_start_time_unix_nano(data.start_time_unix_nano);
  span.set_end_time_unix_nano(data.end_time_unix_nano);
  AppendAttributes(data.attributes, *span.mutable_attributes());
  span.set_dropped_attributes_count(data.attributes.dropped_count());

  span.mutable_events()->Reserve(static_cast<int>(data.events.size()));
  for (const otel::Event& event : data.events) {
    otlp_trace::Span::Event* out = span.add_events();
    out->set_time_unix_nano(event.time_unix_nano);
    AssignUtf8(event.name, *out->mutable_name());
    AppendAttributes(event.attributes, *out->mutable_attributes());
    out->set_dropped_attributes_count(event.attributes.dropped_count());
  }
  span.set_dropped_events_count(data.dropped_events_count);

  span.mutable_links()->Reserve(static_cast<int>(data.links.size()));
  for (const otel::Link& link : data.links) {
    otlp_trace::Span::Link* out = span.add_links();
    out->set_trace_id(IdBytes(link.context.trace_id().bytes));
    out->set_span_id(IdBytes(link.context.span_id().bytes));
    if (!link.context.trace_state().empty()) {
      AssignUtf8(link.context.trace_state(), *out->mutable_trace_state());
    }
    AppendAttributes(link.attributes, *out->mutable_attributes());
    out->set_dropped_attributes_count(link.attributes.dropped_count());
    out->set_flags(SpanFlags(link.context.trace_flags(), link.context.IsRemote()));
  }
  span.set_dropped_links_count(data.dropped_links_count);

  if (data.status_code != otel::StatusCode::kUnset || !data.status_message.empty()) {
    otlp_trace::Status* status = span.mutable_status();
    // StatusCode is numbered as in OTLP (kUnset = 0, kOk = 1, kError = 2).
    status->set_code(
        static_cast<otlp_trace::Status::StatusCode>(static_cast<int>(data.status_code)));
    AssignUtf8(data.status_message, *status->mutable_message());
  }
}

bool SameScope(const otel::InstrumentationScope* a, const otel::InstrumentationScope* b) noexcept {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  return a->name == b->name && a->version == b->version && a->schema_url == b->schema_url;
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON writer. It walks the generated messages field by field rather than using protobuf's
// generic JSON printer, because OTLP/JSON departs from the proto3 JSON mapping (hex ids) and
// the walk is short for the handful of message types involved.

void WriteJsonString(std::string_view text, std::string& out) { text::AppendJsonString(out, text); }

void WriteHex(std::string_view bytes, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xF]);
  }
  out.push_back('"');
}

void WriteBase64(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.push_back('"');
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                       uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    const bool two = i + 1 < bytes.size();
    if (two) n |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(two ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  out.push_back('"');
}

template <typename Integer>
void WriteInteger(Integer value, std::string& out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

// 64-bit integers are JSON strings in OTLP/JSON (JavaScript numbers cannot hold them exactly).
template <typename Integer>
void WriteInteger64(Integer value, std::string& out) {
  out.push_back('"');
  WriteInteger(value, out);
  out.push_back('"');
}

void WriteDouble(double value, std::string& out) {
  if (std::isnan(value)) {
    out.append("\"NaN\"");
  } else if (std::isinf(value)) {
    out.append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buffer[32];
    // Shortest representation that parses back to the same double.
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, result.ptr);
  }
}

// Writes `"name":` preceded by a comma unless it is the first member of the object.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_.push_back('{'); }
  ~JsonObject() { out_.push_back('}'); }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  std::string& Key(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(name);
    out_.append("\":");
    return out_;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

template <typename Repeated, typename WriteOne>
void WriteArray(const Repeated& items, std::string& out, WriteOne write_one) {
  out.push_back('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) out.push_back(',');
    first = false;
    write_one(item, out);
  }
  out.push_back(']');
}

void WriteKeyValue(const otlp_common::KeyValue& kv, std::string& out);

void WriteAnyValue(const otlp_common::AnyValue& value, std::string& out) {
  JsonObject object(out);
  switch (value.value_case()) {
    case otlp_common::AnyValue::kStringValue:
      WriteJsonString(value.string_value(), object.Key("stringValue"));
      break;
    case otlp_common::AnyValue::kBoolValue:
      object.Key("boolValue").append(value.bool_value() ? "true" : "false");
      break;
    case otlp_common::AnyValue::kIntValue:
      WriteInteger64(value.int_value(), object.Key("intValue"));
      break;
    case otlp_common::AnyValue::kDoubleValue:
      WriteDouble(value.double_value(), object.Key("doubleValue"));
      break;
    case otlp_common::AnyValue::kArrayValue: {
      std::string& s = object.Key("arrayValue");
      JsonObject array(s);
      WriteArray(value.array_value().values(), array.Key("values"), WriteAnyValue);
      break;
    }
    case otlp_common::AnyValue::kKvlistValue: {
      std::string& s = object.Key("kvlistValue");
      JsonObject list(s);
      WriteArray(value.kvlist_value().values(), list.Key("values"), WriteKeyValue);
      break;
    }
    case otlp_common::AnyValue::kBytesValue:
      WriteBase64(value.bytes_value(), object.Key("bytesValue"));
      break;
    case otlp_common::AnyValue::VALUE_NOT_SET:
      break;
  }
}

void WriteKeyValue(const otlp_common::KeyValue& kv, std::string& out) {
  JsonObject object(out);
  WriteJsonString(kv.key(), object.Key("key"));
  if (kv.has_value()) WriteAnyValue(kv.value(), object.Key("value"));
}

void WriteAttributes(const google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& attributes,
                     uint32_t dropped, JsonObject& object) {
  if (!attributes.empty()) WriteArray(attributes, object.Key("attributes"), WriteKeyValue);
  if (dropped != 0) WriteInteger(dropped, object.Key("droppedAttributesCount"));
}

void WriteSpan(const otlp_trace::Span& span, std::string& out) {
  JsonObject object(out);
  WriteHex(span.trace_id(), object.Key("traceId"));
  WriteHex(span.span_id(), object.Key("spanId"));
  if (!span.trace_state().empty()) WriteJsonString(span.trace_state(), object.Key("traceState"));
  if (!span.parent_span_id().empty()) WriteHex(span.parent_span_id(), object.Key("parentSpanId"));
  if (span.flags() != 0) WriteInteger(span.flags(), object.Key("flags"));
  WriteJsonString(span.name(), object.Key("name"));
  if (span.kind() != 0) WriteInteger(static_cast<int>(span.kind()), object.Key("kind"));
  WriteInteger64(span.start_time_unix_nano(), object.Key("startTimeUnixNano"));
  WriteInteger64(span.end_time_unix_nano(), object.Key("endTimeUnixNano"));
  WriteAttributes(span.attributes(), span.dropped_attributes_count(), object);
  if (!span.events().empty()) {
    WriteArray(span.events(), object.Key("events"),
               [](const otlp_trace::Span::Event& event, std::string& s) {
                 JsonObject e(s);
                 WriteInteger64(event.time_unix_nano(), e.Key("timeUnixNano"));
                 WriteJsonString(event.name(), e.Key("name"));
                 WriteAttributes(event.attributes(), event.dropped_attributes_count(), e);
               });
  }
  if (span.dropped_events_count() != 0) {
    WriteInteger(span.dropped_events_count(), object.Key("droppedEventsCount"));
  }
  if (!span.links().empty()) {
    WriteArray(span.links(), object.Key("links"),
               [](const otlp_trace::Span::Link& link, std::string& s) {
                 JsonObject l(s);
                 WriteHex(link.trace_id(), l.Key("traceId"));
                 WriteHex(link.span_id(), l.Key("spanId"));
                 if (!link.trace_state().empty()) {
                   WriteJsonString(link.trace_state(), l.Key("traceState"));
                 }
                 WriteAttributes(link.attributes(), link.dropped_attributes_count(), l);
                 if (link.flags() != 0) WriteInteger(link.flags(), l.Key("flags"));
               });
  }
  if (span.dropped_links_count() != 0) {
    WriteInteger(span.dropped_links_count(), object.Key("droppedLinksCount"));
  }
  if (span.has_status()) {
    std::string& s = object.Key("status");
    JsonObject status(s);
    if (!span.status().message().empty()) {
      WriteJsonString(span.status().message(), status.Key("message"));
    }
    if (span.status().code() != 0) {
      WriteInteger(static_cast<int>(span.status().code()), status.Key("code"));
    }
  }
}

void WriteScopeSpans(const otlp_trace::ScopeSpans& scope_spans, std::string& out) {
  JsonObject object(out);
  if (scope_spans.has_scope()) {
    const otlp_common::InstrumentationScope& scope = scope_spans.scope();
    std::string& s = object.Key("scope");
    JsonObject o(s);
    if (!scope.name().empty()) WriteJsonString(scope.name(), o.Key("name"));
    if (!scope.version().empty()) WriteJsonString(scope.version(), o.Key("version"));
    WriteAttributes(scope.attributes(), scope.dropped_attributes_count(), o);
  }
  WriteArray(scope_spans.spans(), object.Key("spans"), WriteSpan);
  if (!scope_spans.schema_url().empty()) {
    WriteJsonString(scope_spans.schema_url(), object.Key("schemaUrl"));
  }
}

void WriteResourceSpans(const otlp_trace::ResourceSpans& resource_spans, std::string& out) {
  JsonObject object(out);
  if (resource_spans.has_resource()) {
    std::string& s = object.Key("resource");
    JsonObject o(s);
    WriteAttributes(resource_spans.resource().attributes(),
                    resource_spans.resource().dropped_attributes_count(), o);
  }
  WriteArray(resource_spans.scope_spans(), object.Key("scopeSpans"), WriteScopeSpans);
  if (!resource_spans.schema_url().empty()) {
    WriteJsonString(resource_spans.schema_url(), object.Key("schemaUrl"));
  }
}

}  // namespace

void AssignUtf8(std::string_view text, std::string& out) { text::AssignRepairedUtf8(out, text); }

void SetAnyValue(const otel::AttributeValue& value, otlp_common::AnyValue& out) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_value(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.set_int_value(v);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            out.set_int_value(static_cast<int64_t>(v));
          } else {
            char buffer[24];
            const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v);
            out.set_string_value(std::string(buffer, result.ptr));
          }
        } else if constexpr (std::is_same_v<T, double>) {
          out.set_double_value(v);
        } else {
          AssignUtf8(v, *out.mutable_string_value());
        }
      },
      value);
}

void AppendAttributes(const otel::Attributes& attributes,
                      google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& out) {
  out.Reserve(out.size() + static_cast<int>(attributes.size()));
  for (const otel::KeyValueView kv : attributes) {
    otlp_common::KeyValue* entry = out.Add();
    AssignUtf8(kv.key, *entry->mutable_key());
    SetAnyValue(kv.value, *entry->mutable_value());
  }
}

std::vector<ResourceGroup> GroupByResourceAndScope(
    std::span<const std::unique_ptr<otel::SpanData>> batch) {
  std::vector<ResourceGroup> groups;
  for (const std::unique_ptr<otel::SpanData>& data : batch) {
    if (!data) continue;
    const otel::Resource* resource = data->resource.get();
    ResourceGroup* group = nullptr;
    for (ResourceGroup& g : groups) {
      if (g.resource == resource) {
        group = &g;
        break;
      }
    }
    if (group == nullptr) group = &groups.emplace_back(ResourceGroup{resource, {}});
    const otel::InstrumentationScope* scope = data->scope.get();
    ScopeGroup* scope_group = nullptr;
    for (ScopeGroup& s : group->scopes) {
      if (SameScope(s.scope, scope)) {
        scope_group = &s;
        break;
      }
    }
    if (scope_group == nullptr) {
      scope_group = &group->scopes.emplace_back(ScopeGroup{scope, {}});
      scope_group->spans.reserve(batch.size());
    }
    scope_group->spans.push_back(data.get());
  }
  return groups;
}

void AppendToRequest(std::span<const std::unique_ptr<otel::SpanData>> batch,
                     otlp_collector::ExportTraceServiceRequest& request) {
  for (const ResourceGroup& group : GroupByResourceAndScope(batch)) {
    otlp_trace::ResourceSpans* out = request.add_resource_spans();
    if (const otel::Resource* resource = group.resource) {
      auto* proto_resource = out->mutable_resource();
      AppendAttributes(resource->attributes(), *proto_resource->mutable_attributes());
      proto_resource->set_dropped_attributes_count(resource->attributes().dropped_count());
      if (!resource->schema_url().empty()) {
        AssignUtf8(resource->schema_url(), *out->mutable_schema_url());
      }
    }
    for (const ScopeGroup& scope_group : group.scopes) {
      otlp_trace::ScopeSpans* scope_out = out->add_scope_spans();
      if (const otel::InstrumentationScope* scope = scope_group.scope) {
        otlp_common::InstrumentationScope* proto_scope = scope_out->mutable_scope();
        AssignUtf8(scope->name, *proto_scope->mutable_name());
        AssignUtf8(scope->version, *proto_scope->mutable_version());
        if (!scope->schema_url.empty()) {
          AssignUtf8(scope->schema_url, *scope_out->mutable_schema_url());
        }
      }
      scope_out->mutable_spans()->Reserve(static_cast<int>(scope_group.spans.size()));
      for (const otel::SpanData* data : scope_group.spans) {
        FillSpan(*data, *scope_out->add_spans());
      }
    }
  }
}

void WriteOtlpJson(const otlp_collector::ExportTraceServiceRequest& request, std::string& out) {
  JsonObject object(out);
  WriteArray(request.resource_spans(), object.Key("resourceSpans"), WriteResourceSpans);
}

}  // namespace vllora::otlp::internal
