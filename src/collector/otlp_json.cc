#include "collector/otlp_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "collector/json_text.h"

namespace vllora::collector::internal {
namespace {

using nlohmann::json;
using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::trace::v1::Span;

constexpr int kMaxDepth = 64;

// A decoding failure: the JSON path and what is wrong.
struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw DecodeError(path + ": " + what);
}

// The member `camel` (or `snake`) of `object`, or nullptr when absent or null.
const json* Member(const json& object, const char* camel, const char* snake = nullptr) {
  auto it = object.find(camel);
  if (it == object.end() && snake != nullptr) it = object.find(snake);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string Join(const std::string& path, const char* field) { return path + "." + field; }

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const json& ExpectObject(const json& value, const std::string& path) {
  if (!value.is_object()) Fail(path, "must be an object");
  return value;
}

const json& ExpectArray(const json& value, const std::string& path) {
  if (!value.is_array()) Fail(path, "must be an array");
  return value;
}

std::string String(const json& value, const std::string& path) {
  if (!value.is_string()) Fail(path, "must be a string");
  return value.get<std::string>();
}

template <typename Int>
Int Integer(const json& value, const std::string& path) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<Int>::max())) Fail(path, "out of range");
      return static_cast<Int>(v);
    }
    const auto v = value.get<int64_t>();
    if constexpr (std::is_unsigned_v<Int>) {
      if (v < 0) Fail(path, "out of range");
      if (static_cast<uint64_t>(v) > std::numeric_limits<Int>::max()) Fail(path, "out of range");
    } else {
      if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
        Fail(path, "out of range");
      }
    }
    return static_cast<Int>(v);
  }
  if (value.is_number_float()) {
    // 1e3 or 5.0: accepted when integral and in range.
    const double d = value.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) ||
        d < static_cast<double>(std::numeric_limits<Int>::min()) ||
        d >= static_cast<double>(std::numeric_limits<Int>::max())) {
      Fail(path, "must be an integer");
    }
    return static_cast<Int>(d);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    Int v{};
    const auto result = std::from_chars(text.data(), text.data() + text.size(), v);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() || text.empty()) {
      Fail(path, "must be an integer (number or decimal string)");
    }
    return v;
  }
  Fail(path, "must be an integer (number or decimal string)");
}

int Enum(const json& value, const std::string& path,
         std::initializer_list<std::pair<const char*, int>> names) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    for (const auto& [name, number] : names) {
      if (text == name) return number;
    }
  }
  return Integer<int32_t>(value, path);
}

std::string HexBytes(const json& value, const std::string& path) {
  const std::string text = String(value, path);
  if (text.size() % 2 != 0) Fail(path, "not a hex string (odd length)");
  std::string out;
  out.reserve(text.size() / 2);
  const auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    Fail(path, "not a hex string");
  };
  for (size_t i = 0; i < text.size(); i += 2) {
    out.push_back(static_cast<char>((nibble(text[i]) << 4) | nibble(text[i + 1])));
  }
  return out;
}

std::string Base64Bytes(const json& value, const std::string& path) {
  const std::string text = String(value, path);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;  // standard and URL-safe alphabets
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      ++padding;
      continue;
    } else {
      Fail(path, "not base64");
    }
    if (padding > 0) Fail(path, "not base64");
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2) Fail(path, "not base64");
  return out;
}

double Double(const json& value, const std::string& path) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
    double d = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), d);
    if (result.ec == std::errc() && result.ptr == text.data() + text.size() && !text.empty()) {
      return d;
    }
  }
  Fail(path, "must be a number");
}

void DecodeKeyValues(const json& array, const std::string& path,
                     google::protobuf::RepeatedPtrField<KeyValue>* out, int depth);

void DecodeAnyValue(const json& value, const std::string& path, AnyValue* out, int depth) {
  if (depth > kMaxDepth) Fail(path, "nested too deeply");
  ExpectObject(value, path);
  if (const json* v = Member(value, "stringValue", "string_value")) {
    out->set_string_value(String(*v, Join(path, "stringValue")));
  } else if (const json* b = Member(value, "boolValue", "bool_value")) {
    if (!b->is_boolean()) Fail(Join(path, "boolValue"), "must be a boolean");
    out->set_bool_value(b->get<bool>());
  } else if (const json* i = Member(value, "intValue", "int_value")) {
    out->set_int_value(Integer<int64_t>(*i, Join(path, "intValue")));
  } else if (const json* d = Member(value, "doubleValue", "double_value")) {
    out->set_double_value(Double(*d, Join(path, "doubleValue")));
  } else if (const json* bytes = Member(value, "bytesValue", "bytes_value")) {
    out->set_bytes_value(Base64Bytes(*bytes, Join(path, "bytesValue")));
  } else if (const json* array = Member(value, "arrayValue", "array_value")) {
    const std::string array_path = Join(path, "arrayValue");
    ExpectObject(*array, array_path);
    auto* values = out->mutable_array_value();
    if (const json* list = Member(*array, "values")) {
      const std::string list_path = Join(array_path, "values");
      ExpectArray(*list, list_path);
      for (size_t k = 0; k < list->size(); ++k) {
        DecodeAnyValue((*list)[k], Index(list_path, k), values->add_values(), depth + 1);
      }
    }
  } else if (const json* kvlist = Member(value, "kvlistValue", "kvlist_value")) {
    const std::string kv_path = Join(path, "kvlistValue");
    ExpectObject(*kvlist, kv_path);
    auto* values = out->mutable_kvlist_value();
    if (const json* list = Member(*kvlist, "values")) {
      DecodeKeyValues(*list, Join(kv_path, "values"), values->mutable_values(), depth + 1);
    }
  }
}

void DecodeKeyValues(const json& array, const std::string& path,
                     google::protobuf::RepeatedPtrField<KeyValue>* out, int depth) {
  if (depth > kMaxDepth) Fail(path, "nested too deeply");
  ExpectArray(array, path);
  for (size_t k = 0; k < array.size(); ++k) {
    const std::string item_path = Index(path, k);
    const json& item = ExpectObject(array[k], item_path);
    KeyValue* kv = out->Add();
    if (const json* key = Member(item, "key")) kv->set_key(String(*key, Join(item_path, "key")));
    if (const json* value = Member(item, "value")) {
      DecodeAnyValue(*value, Join(item_path, "value"), kv->mutable_value(), depth + 1);
    }
  }
}

void DecodeSpan(const json& object, const std::string& path, Span* span) {
  ExpectObject(object, path);
  if (const json* v = Member(object, "traceId", "trace_id")) {
    span->set_trace_id(HexBytes(*v, Join(path, "traceId")));
  }
  if (const json* v = Member(object, "spanId", "span_id")) {
    span->set_span_id(HexBytes(*v, Join(path, "spanId")));
  }
  if (const json* v = Member(object, "traceState", "trace_state")) {
    span->set_trace_state(String(*v, Join(path, "traceState")));
  }
  if (const json* v = Member(object, "parentSpanId", "parent_span_id")) {
    span->set_parent_span_id(HexBytes(*v, Join(path, "parentSpanId")));
  }
  if (const json* v = Member(object, "flags"))
    span->set_flags(Integer<uint32_t>(*v, Join(path, "flags")));
  if (const json* v = Member(object, "name")) span->set_name(String(*v, Join(path, "name")));
  if (const json* v = Member(object, "kind")) {
    span->set_kind(static_cast<Span::SpanKind>(Enum(*v, Join(path, "kind"),
                                                    {{"SPAN_KIND_UNSPECIFIED", 0},
                                                     {"SPAN_KIND_INTERNAL", 1},
                                                     {"SPAN_KIND_SERVER", 2},
                                                     {"SPAN_KIND_CLIENT", 3},
                                                     {"SPAN_KIND_PRODUCER", 4},
                                                     {"SPAN_KIND_CONSUMER", 5}})));
  }
  if (const json* v = Member(object, "startTimeUnixNano", "start_time_unix_nano")) {
    span->set_start_time_unix_nano(Integer<uint64_t>(*v, Join(path, "startTimeUnixNano")));
  }
  if (const json* v = Member(object, "endTimeUnixNano", "end_time_unix_nano")) {
    span->set_end_time_unix_nano(Integer<uint64_t>(*v, Join(path, "endTimeUnixNano")));
  }
  if (const json* v = Member(object, "attributes")) {
    DecodeKeyValues(*v, Join(path, "attributes"), span->mutable_attributes(), 0);
  }
  if (const json* v = Member(object, "droppedAttributesCount", "dropped_attributes_count")) {
    span->set_dropped_attributes_count(Integer<uint32_t>(*v, Join(path, "droppedAttributesCount")));
  }
  if (const json* events = Member(object, "events")) {
    const std::string events_path = Join(path, "events");
    ExpectArray(*events, events_path);
    for (size_t k = 0; k < events->size(); ++k) {
      const std::string event_path = Index(events_path, k);
      const json& e = ExpectObject((*events)[k], event_path);
      auto* event = span->add_events();
      if (const json* v = Member(e, "timeUnixNano", "time_unix_nano")) {
        event->set_time_unix_nano(Integer<uint64_t>(*v, Join(event_path, "timeUnixNano")));
      }
      if (const json* v = Member(e, "name")) event->set_name(String(*v, Join(event_path, "name")));
      if (const json* v = Member(e, "attributes")) {
        DecodeKeyValues(*v, Join(event_path, "attributes"), event->mutable_attributes(), 0);
      }
    }
  }
  if (const json* links = Member(object, "links")) {
    const std::string links_path = Join(path, "links");
    ExpectArray(*links, links_path);
    for (size_t k = 0; k < links->size(); ++k) {
      const std::string link_path = Index(links_path, k);
      const json& l = ExpectObject((*links)[k], link_path);
      auto* link = span->add_links();
      if (const json* v = Member(l, "traceId", "trace_id")) {
        link->set_trace_id(HexBytes(*v, Join(link_path, "traceId")));
      }
      if (const json* v = Member(l, "spanId", "span_id")) {
        link->set_span_id(HexBytes(*v, Join(link_path, "spanId")));
      }
      if (const json* v = Member(l, "attributes")) {
        DecodeKeyValues(*v, Join(link_path, "attributes"), link->mutable_attributes(), 0);
      }
    }
  }
  if (const json* status = Member(object, "status")) {
    const std::string status_path = Join(path, "status");
    ExpectObject(*status, status_path);
    if (const json* v = Member(*status, "message")) {
      span->mutable_status()->set_message(String(*v, Join(status_path, "message")));
    }
    if (const json* v = Member(*status, "code")) {
      span->mutable_status()->set_code(
          static_cast<opentelemetry::proto::trace::v1::Status::StatusCode>(
              Enum(*v, Join(status_path, "code"),
                   {{"STATUS_CODE_UNSET", 0}, {"STATUS_CODE_OK", 1}, {"STATUS_CODE_ERROR", 2}})));
    }
  }
}

void DecodeRequest(const json& root, ExportRequest* request) {
  ExpectObject(root, "$");
  const json* resource_spans = Member(root, "resourceSpans", "resource_spans");
  if (resource_spans == nullptr) return;
  const std::string rs_path = "resourceSpans";
  ExpectArray(*resource_spans, rs_path);
  for (size_t r = 0; r < resource_spans->size(); ++r) {
    const std::string r_path = Index(rs_path, r);
    const json& rs = ExpectObject((*resource_spans)[r], r_path);
    auto* out_rs = request->add_resource_spans();
    if (const json* resource = Member(rs, "resource")) {
      const std::string res_path = Join(r_path, "resource");
      ExpectObject(*resource, res_path);
      if (const json* attributes = Member(*resource, "attributes")) {
        DecodeKeyValues(*attributes, Join(res_path, "attributes"),
                        out_rs->mutable_resource()->mutable_attributes(), 0);
      }
    }
    if (const json* v = Member(rs, "schemaUrl", "schema_url")) {
      out_rs->set_schema_url(String(*v, Join(r_path, "schemaUrl")));
    }
    const json* scope_spans = Member(rs, "scopeSpans", "scope_spans");
    if (scope_spans == nullptr) continue;
    const std::string ss_path = Join(r_path, "scopeSpans");
    ExpectArray(*scope_spans, ss_path);
    for (size_t s = 0; s < scope_spans->size(); ++s) {
      const std::string s_path = Index(ss_path, s);
      const json& ss = ExpectObject((*scope_spans)[s], s_path);
      auto* out_ss = out_rs->add_scope_spans();
      if (const json* scope = Member(ss, "scope")) {
        const std::string scope_path = Join(s_path, "scope");
        ExpectObject(*scope, scope_path);
        if (const json* v = Member(*scope, "name")) {
          out_ss->mutable_scope()->set_name(String(*v, Join(scope_path, "name")));
        }
        if (const json* v = Member(*scope, "version")) {
          out_ss->mutable_scope()->set_version(String(*v, Join(scope_path, "version")));
        }
      }
      if (const json* v = Member(ss, "schemaUrl", "schema_url")) {
        out_ss->set_schema_url(String(*v, Join(s_path, "schemaUrl")));
      }
      const json* spans = Member(ss, "spans");
      if (spans == nullptr) continue;
      const std::string spans_path = Join(s_path, "spans");
      ExpectArray(*spans, spans_path);
      for (size_t k = 0; k < spans->size(); ++k) {
        DecodeSpan((*spans)[k], Index(spans_path, k), out_ss->add_spans());
      }
    }
  }
}

}  // namespace

JsonDecode DecodeOtlpJson(std::string_view body, size_t max_values, ExportRequest* request,
                          std::string* error) {
  request->Clear();
  std::string repaired;
  if (!IsValidUtf8(body)) {
    repaired = RepairUtf8(body);
    body = repaired;
  }
  // Depth of the parsed document is bounded by the decoder's own checks; nlohmann's parser is
  // iterative for nesting but its destructor is not, so refuse absurd nesting before parsing.
  // The values are counted in the same pass: the tree and the messages take ~60-175 bytes per
  // value, so a small body of `{},{},...` would otherwise hold ~100 times its size.
  int depth = 0;
  size_t values = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++values;
      if (++depth > 4 * kMaxDepth) {
        *error = "JSON nested too deeply";
        return JsonDecode::kMalformed;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',') {
      ++values;
    }
  }
  if (values > max_values) {
    *error = "OTLP/JSON request with more than " + std::to_string(max_values) +
             " JSON values (send smaller batches, or use protobuf)";
    return JsonDecode::kTooLarge;
  }
  json root = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    // Parse again with exceptions only to get the position of the error.
    try {
      const json again = json::parse(body.begin(), body.end());
      (void)again;
      *error = "invalid JSON";
    } catch (const json::exception& e) {
      *error = std::string("invalid JSON: ") + e.what();
    }
    return JsonDecode::kMalformed;
  }
  try {
    DecodeRequest(root, request);
  } catch (const DecodeError& e) {
    request->Clear();
    *error = e.what();
    return JsonDecode::kMalformed;
  } catch (const json::exception& e) {
    request->Clear();
    *error = e.what();
    return JsonDecode::kMalformed;
  }
  return JsonDecode::kOk;
}

}  // namespace vllora::collector::internal
