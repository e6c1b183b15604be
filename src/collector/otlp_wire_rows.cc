#include "collector/otlp_wire_rows.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <optional>

#include "collector/batch_text.h"
#include "collector/json_text.h"
#include "collector/otlp_mapping.h"
#include "collector/otlp_protobuf.h"

namespace vllora::collector::internal {
namespace {

// Nesting of array/kvlist values the JSON columns keep (as MapExportRequest: deeper values are
// written as null there; this decoder falls back instead, since protobuf still parses them).
constexpr int kMaxValueDepth = 32;

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t value = 0;      // varint, fixed64, fixed32
  std::string_view bytes;  // length-delimited payload
};

// The fields of one message, in wire order. Next() returns false at the end of the message or
// on bytes the fast path does not take (then bad() is true): truncated data, a tag or length
// varint longer than protobuf reads, field number 0, groups, wire types 6 and 7.
class FieldReader {
 public:
  explicit FieldReader(std::string_view message) noexcept
      : p_(reinterpret_cast<const unsigned char*>(message.data())), end_(p_ + message.size()) {}

  bool Next(Field& f) noexcept {
    if (p_ == end_ || bad_) return false;
    uint64_t tag = 0;
    if (!Varint(tag, 5) || tag > UINT32_MAX || (tag >> 3) == 0) return Fail();
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wire = static_cast<uint32_t>(tag & 7);
    switch (f.wire) {
      case kVarint:
        if (!Varint(f.value, 10)) return Fail();
        return true;
      case kFixed64:
        return Fixed(f.value, 8);
      case kFixed32:
        return Fixed(f.value, 4);
      case kLen: {
        uint64_t length = 0;
        if (!Varint(length, 5) || length > static_cast<uint64_t>(end_ - p_)) return Fail();
        f.bytes = std::string_view(reinterpret_cast<const char*>(p_), length);
        p_ += length;
        return true;
      }
      default:
        return Fail();
    }
  }
  bool bad() const noexcept { return bad_; }
  // Where the next field starts.
  const char* position() const noexcept { return reinterpret_cast<const char*>(p_); }

 private:
  bool Fail() noexcept {
    bad_ = true;
    return false;
  }
  // At most `max_bytes` bytes; a 10th byte may only hold bit 63.
  bool Varint(uint64_t& value, int max_bytes) noexcept {
    uint64_t result = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (p_ == end_) return false;
      const unsigned char byte = *p_++;
      if (i == 9 && byte > 1) return false;
      result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if (byte < 0x80) {
        value = result;
        return true;
      }
    }
    return false;
  }
  bool Fixed(uint64_t& value, int bytes) noexcept {
    if (end_ - p_ < bytes) return Fail();
    uint64_t result = 0;
    for (int i = 0; i < bytes; ++i) result |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += bytes;
    value = result;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  bool bad_ = false;
};

// A decoded AnyValue: the last oneof member on the wire.
struct AnyView {
  enum Case { kNone, kString, kBool, kInt, kDouble, kArray, kKvlist, kBytes };
  Case value_case = kNone;
  std::string_view bytes;  // string, bytes, array and kvlist payloads
  uint64_t bits = 0;       // bool, int, double
};

// False = fall back (malformed, or an array/kvlist member sent twice in a row: protobuf merges).
bool DecodeAny(std::string_view message, AnyView& v) {
  FieldReader reader(message);
  Field f;
  while (reader.Next(f)) {
    switch (f.number) {
      case 1:
        if (f.wire == kLen) {
          v.value_case = AnyView::kString;
          v.bytes = f.bytes;
        }
        break;
      case 2:
        if (f.wire == kVarint) {
          v.value_case = AnyView::kBool;
          v.bits = f.value;
        }
        break;
      case 3:
        if (f.wire == kVarint) {
          v.value_case = AnyView::kInt;
          v.bits = f.value;
        }
        break;
      case 4:
        if (f.wire == kFixed64) {
          v.value_case = AnyView::kDouble;
          v.bits = f.value;
        }
        break;
      case 5:
      case 6:
        if (f.wire == kLen) {
          const auto member = f.number == 5 ? AnyView::kArray : AnyView::kKvlist;
          if (v.value_case == member) return false;
          v.value_case = member;
          v.bytes = f.bytes;
        }
        break;
      case 7:
        if (f.wire == kLen) {
          v.value_case = AnyView::kBytes;
          v.bytes = f.bytes;
        }
        break;
      default:
        break;
    }
  }
  return !reader.bad();
}

// The AnyValue of the last occurrence of a mapped key (`present` false: the key is absent).
struct KeySlot {
  bool present = false;
  std::string_view value;  // AnyValue bytes; empty for an unset value
};

// The mapped keys of a span's (or resource's) attributes (otlp_mapping.cc's VlloraKeys).
struct MappedKeys {
  KeySlot tenant, project_id, thread_id, run_id, label, tags;

  void Note(std::string_view key, std::string_view value) noexcept {
    KeySlot* slot = nullptr;
    if (key.size() < 4) return;
    if (key == "tags") {
      slot = &tags;
    } else if (key.starts_with("vllora.")) {
      const std::string_view rest = key.substr(7);
      if (rest == "tenant")
        slot = &tenant;
      else if (rest == "project_id")
        slot = &project_id;
      else if (rest == "thread_id")
        slot = &thread_id;
      else if (rest == "run_id")
        slot = &run_id;
      else if (rest == "label")
        slot = &label;
    }
    if (slot != nullptr) {
      slot->present = true;
      slot->value = value;
    }
  }
};

// Appends the column text of a scalar value (MapExportRequest's ScalarText): strings repaired,
// bools and numbers as JSON text. Returns false, appending nothing, for any other value.
bool AppendScalarText(std::string& out, std::string_view any_value) {
  AnyView v;
  if (!DecodeAny(any_value, v)) return false;  // never: the attribute pass decoded it
  switch (v.value_case) {
    case AnyView::kString:
      text::AppendRepairedUtf8(out, v.bytes);
      return true;
    case AnyView::kBool:
      out += v.bits != 0 ? "true" : "false";
      return true;
    case AnyView::kInt:
      AppendJsonInt(out, static_cast<int64_t>(v.bits));
      return true;
    case AnyView::kDouble:
      AppendJsonDouble(out, std::bit_cast<double>(v.bits));
      return true;
    default:
      return false;
  }
}

using Slice = TextSlice;

class Decoder {
 public:
  Decoder(std::string_view header_tenant, DecodedRequest& out)
      : out_(out), text_(out.batch.text), batch_text_(out.batch.text, header_tenant) {}

  bool Request(std::string_view bytes) {
    text_.reserve(bytes.size() + bytes.size() / 2 + 256);
    FieldReader reader(bytes);
    Field f;
    while (reader.Next(f)) {
      if (f.number == 1 && f.wire == kLen && !ResourceSpans(f.bytes)) return false;
    }
    if (reader.bad() || text_.size() > SpanBatch::kMaxText) return false;
    out_.rejected_spans = rejections_.count();
    out_.error_message = rejections_.Message();
    return true;
  }

 private:
  // Column text written from here to the end of the text.
  Slice Since(size_t start) const noexcept { return batch_text_.Since(start); }
  static void Set(SpanBatch::Row& row, SpanBatch::TextColumn column, Slice slice) noexcept {
    BatchText::Set(row, column, slice);
  }

  // {"key":value,...} of the KeyValue fields numbered `number` of each message in `messages`
  // (a repeated field split over several occurrences of a merged message is one list).
  template <typename Messages>
  bool KeyValueObject(std::string& out, const Messages& messages, uint32_t number, int depth,
                      MappedKeys* keys) {
    out.push_back('{');
    bool first = true;
    for (std::string_view message : messages) {
      FieldReader reader(message);
      Field f;
      while (reader.Next(f)) {
        if (f.number != number || f.wire != kLen) continue;
        if (!first) out.push_back(',');
        first = false;
        if (!KeyValue(out, f.bytes, depth, keys)) return false;
      }
      if (reader.bad()) return false;
    }
    out.push_back('}');
    return true;
  }

  bool KeyValue(std::string& out, std::string_view message, int depth, MappedKeys* keys) {
    std::string_view key;
    std::string_view value;
    int values = 0;
    FieldReader reader(message);
    Field f;
    while (reader.Next(f)) {
      if (f.wire != kLen) continue;
      if (f.number == 1) {
        key = f.bytes;
      } else if (f.number == 2) {
        value = f.bytes;
        ++values;
      }
    }
    if (reader.bad() || values > 1) return false;  // a value sent twice is merged by protobuf
    AppendJsonString(out, key);
    out.push_back(':');
    if (values == 0) {
      out += "null";  // an unset AnyValue (at any depth)
    } else if (!AnyValue(out, value, depth + 1)) {
      return false;
    }
    if (keys != nullptr) keys->Note(key, value);
    return true;
  }

  bool AnyValue(std::string& out, std::string_view message, int depth) {
    if (depth > kMaxValueDepth) return false;
    AnyView v;
    if (!DecodeAny(message, v)) return false;
    switch (v.value_case) {
      case AnyView::kNone:
        out += "null";
        return true;
      case AnyView::kString:
        AppendJsonString(out, v.bytes);
        return true;
      case AnyView::kBool:
        out += v.bits != 0 ? "true" : "false";
        return true;
      case AnyView::kInt:
        AppendJsonInt(out, static_cast<int64_t>(v.bits));
        return true;
      case AnyView::kDouble:
        AppendJsonDouble(out, std::bit_cast<double>(v.bits));
        return true;
      case AnyView::kBytes:
        AppendJsonBase64(out, v.bytes);
        return true;
      case AnyView::kArray: {
        out.push_back('[');
        bool first = true;
        FieldReader reader(v.bytes);
        Field f;
        while (reader.Next(f)) {
          if (f.number != 1 || f.wire != kLen) continue;
          if (!first) out.push_back(',');
          first = false;
          if (!AnyValue(out, f.bytes, depth + 1)) return false;
        }
        if (reader.bad()) return false;
        out.push_back(']');
        return true;
      }
      case AnyView::kKvlist: {
        const std::string_view lists[] = {v.bytes};
        return KeyValueObject(out, lists, 1, depth, nullptr);
      }
    }
    return false;
  }

  // Validates a message of KeyValue lists that is not stored (link and scope attributes).
  bool CheckKeyValues(std::string_view message, uint32_t number) {
    scratch_.clear();
    const std::string_view messages[] = {message};
    return KeyValueObject(scratch_, messages, number, 0, nullptr);
  }

  // The column of a mapped key: the span's scalar value, else the resource's column.
  Slice Mapped(const KeySlot& span, Slice resource) {
    if (span.present) {
      const size_t start = text_.size();
      if (AppendScalarText(text_, span.value)) return Since(start);
    }
    return resource;
  }
  Slice ResourceMapped(const KeySlot& slot) {
    const size_t start = text_.size();
    if (slot.present && AppendScalarText(text_, slot.value)) return Since(start);
    return Slice{};
  }

  bool ResourceSpans(std::string_view message) {
    // The resource first: on the wire it may follow the scope spans. Several occurrences of the
    // resource are merged (their attribute lists concatenated), as protobuf does.
    resources_.clear();
    FieldReader reader(message);
    Field f;
    while (reader.Next(f)) {
      if (f.number == 1 && f.wire == kLen) resources_.push_back(f.bytes);
    }
    if (reader.bad()) return false;
    MappedKeys keys;
    const size_t start = text_.size();
    if (!KeyValueObject(text_, resources_, 1, 0, &keys)) return false;
    resource_json_ = Since(start);
    resource_tenant_ = ResourceMapped(keys.tenant);
    resource_thread_ = ResourceMapped(keys.thread_id);
    resource_run_ = ResourceMapped(keys.run_id);
    resource_project_ = ResourceMapped(keys.project_id);
    resource_label_ = ResourceMapped(keys.label);
    if (resource_tenant_.length == 0) resource_tenant_ = Slice{};  // "" does not count

    FieldReader spans(message);
    while (spans.Next(f)) {
      if (f.number == 2 && f.wire == kLen && !ScopeSpans(f.bytes)) return false;
    }
    return !spans.bad();
  }

  bool ScopeSpans(std::string_view message) {
    // The scope first (merged over its occurrences: the last name wins).
    std::string_view name;
    FieldReader reader(message);
    Field f;
    while (reader.Next(f)) {
      if (f.number != 1 || f.wire != kLen) continue;
      FieldReader scope(f.bytes);
      Field g;
      while (scope.Next(g)) {
        if (g.number == 1 && g.wire == kLen) name = g.bytes;
        if (g.number == 3 && g.wire == kLen) {
          scratch_.clear();
          if (!KeyValue(scratch_, g.bytes, 0, nullptr)) return false;
        }
      }
      if (scope.bad()) return false;
    }
    if (reader.bad()) return false;
    scope_name_ = Slice{};
    if (!name.empty()) {
      const size_t start = text_.size();
      text::AppendRepairedUtf8(text_, name);
      scope_name_ = Since(start);
    }
    FieldReader spans(message);
    while (spans.Next(f)) {
      if (f.number == 2 && f.wire == kLen && !Span(f.bytes)) return false;
    }
    return !spans.bad();
  }

  void AppendUuid(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    char buffer[36];
    size_t n = 0;
    for (size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) buffer[n++] = '-';
      const auto b = static_cast<unsigned char>(bytes[i]);
      buffer[n++] = kHex[b >> 4];
      buffer[n++] = kHex[b & 0xF];
    }
    text_.append(buffer, n);
  }

  void AppendDecimalId(std::string_view bytes) {
    uint64_t value = 0;
    for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    text_.append(buffer, result.ptr);
  }

  Slice Tenant(const KeySlot& span) {
    if (span.present) {
      const size_t start = text_.size();
      if (AppendScalarText(text_, span.value) && text_.size() > start) return Since(start);
      text_.resize(start);
    }
    return batch_text_.FallbackTenant(resource_tenant_);
  }

  bool Span(std::string_view message) {
    const int64_t index = next_index_++;
    std::string_view trace_id, span_id, parent_span_id, name, status_message;
    uint64_t kind = 0, start_ns = 0, end_ns = 0, status_code = 0;
    // The stretch of the message from the first attribute (event) field to the end of the last:
    // the attributes and events are read from these alone, not by reading every field again.
    const char* attributes_begin = nullptr;
    const char* attributes_end = nullptr;
    const char* events_begin = nullptr;
    const char* events_end = nullptr;
    FieldReader reader(message);
    Field f;
    const char* field_start = reader.position();
    for (; reader.Next(f); field_start = reader.position()) {
      switch (f.number) {
        case 1:
          if (f.wire == kLen) trace_id = f.bytes;
          break;
        case 2:
          if (f.wire == kLen) span_id = f.bytes;
          break;
        case 4:
          if (f.wire == kLen) parent_span_id = f.bytes;
          break;
        case 5:
          if (f.wire == kLen) name = f.bytes;
          break;
        case 6:
          if (f.wire == kVarint) kind = f.value;
          break;
        case 7:
          if (f.wire == kFixed64) start_ns = f.value;
          break;
        case 8:
          if (f.wire == kFixed64) end_ns = f.value;
          break;
        case 9:
          if (f.wire == kLen) {
            if (attributes_begin == nullptr) attributes_begin = field_start;
            attributes_end = reader.position();
          }
          break;
        case 11:
          if (f.wire == kLen) {
            if (events_begin == nullptr) events_begin = field_start;
            events_end = reader.position();
          }
          break;
        case 13:  // links: not stored, but protobuf parses them
          if (f.wire == kLen && !Link(f.bytes)) return false;
          break;
        case 15:  // status; several occurrences merge field by field
          if (f.wire == kLen) {
            FieldReader status(f.bytes);
            Field g;
            while (status.Next(g)) {
              if (g.number == 2 && g.wire == kLen) status_message = g.bytes;
              if (g.number == 3 && g.wire == kVarint) status_code = g.value;
            }
            if (status.bad()) return false;
          }
          break;
        default:
          break;
      }
    }
    if (reader.bad()) return false;

    const size_t mark = text_.size();
    const std::string problems = SpanProblems(trace_id, span_id, parent_span_id, start_ns, end_ns);
    SpanBatch::Row row;
    if (problems.empty()) {
      size_t start = text_.size();
      // Spans of one trace are usually sent together: they share the trace id's text (less to
      // write here, and the store keeps a parameter bound to the same slice).
      if (last_trace_.length >= 0 && trace_id == last_trace_id_) {
        Set(row, SpanBatch::kTraceId, last_trace_);
      } else {
        AppendUuid(trace_id);
        Set(row, SpanBatch::kTraceId, Since(start));
      }
      start = text_.size();
      AppendDecimalId(span_id);
      Set(row, SpanBatch::kSpanId, Since(start));
      Slice parent;
      if (!parent_span_id.empty()) {
        start = text_.size();
        AppendDecimalId(parent_span_id);
        parent = Since(start);
      }
      Set(row, SpanBatch::kParentSpanId, parent);
      // Spans of a batch often share their name too (one call site): the same slice, so the
      // store also keeps the parameter bound.
      if (last_name_.length >= 0 && name == last_name_bytes_) {
        Set(row, SpanBatch::kOperationName, last_name_);
      } else {
        start = text_.size();
        text::AppendRepairedUtf8(text_, name);
        Set(row, SpanBatch::kOperationName, Since(start));
      }
    }
    // Attributes and events are decoded for a rejected span too (protobuf would refuse the whole
    // request if they were malformed); its text is dropped afterwards.
    MappedKeys keys;
    size_t start = text_.size();
    // (An empty stretch still points into the message: no reader starts from a null pointer.)
    const auto stretch = [message](const char* begin, const char* end) {
      return begin != nullptr ? std::string_view(begin, static_cast<size_t>(end - begin))
                              : message.substr(0, 0);
    };
    const std::string_view messages[] = {stretch(attributes_begin, attributes_end)};
    if (!KeyValueObject(text_, messages, 9, 0, &keys)) return false;
    Set(row, SpanBatch::kAttribute, Since(start));
    start = text_.size();
    if (!Events(stretch(events_begin, events_end))) return false;
    if (text_.size() - start == 2 && no_events_.length >= 0) {
      text_.resize(start);  // "[]": most spans have no events and share one slice
      Set(row, SpanBatch::kEvents, no_events_);
    } else {
      Set(row, SpanBatch::kEvents, Since(start));
    }
    if (!problems.empty()) {
      text_.resize(mark);
      rejections_.Add(index, problems);
      return true;
    }

    Set(row, SpanBatch::kThreadId, Mapped(keys.thread_id, resource_thread_));
    Set(row, SpanBatch::kRunId, Mapped(keys.run_id, resource_run_));
    Set(row, SpanBatch::kProjectId, Mapped(keys.project_id, resource_project_));
    Set(row, SpanBatch::kLabel, Mapped(keys.label, resource_label_));
    Set(row, SpanBatch::kTenant, Tenant(keys.tenant));
    Slice tags;
    if (keys.tags.present) {
      AnyView v;
      if (DecodeAny(keys.tags.value, v) && v.value_case == AnyView::kString) {
        if (auto column = TagsColumn(text::RepairUtf8(v.bytes))) {
          start = text_.size();
          text_ += *column;
          tags = Since(start);
        }
      }
    }
    Set(row, SpanBatch::kTags, tags);
    Slice status;
    if (!status_message.empty()) {
      start = text_.size();
      text::AppendRepairedUtf8(text_, status_message);
      status = Since(start);
    }
    Set(row, SpanBatch::kStatusMessage, status);
    Set(row, SpanBatch::kResource, resource_json_);
    Set(row, SpanBatch::kScopeName, scope_name_);
    // Enums are int32 in the message: the varint's low 32 bits.
    row.kind = static_cast<int32_t>(static_cast<uint32_t>(kind));
    row.status_code = static_cast<int32_t>(static_cast<uint32_t>(status_code));
    row.start_time_us = static_cast<int64_t>(start_ns / 1000);
    row.finish_time_us = static_cast<int64_t>(end_ns / 1000);
    out_.batch.rows.push_back(row);
    // Slices to share, taken from a stored span only (a rejected span's text is dropped).
    last_trace_id_ = trace_id;
    last_trace_ = Slice{row.offset[SpanBatch::kTraceId], row.length[SpanBatch::kTraceId]};
    last_name_bytes_ = name;
    last_name_ =
        Slice{row.offset[SpanBatch::kOperationName], row.length[SpanBatch::kOperationName]};
    if (no_events_.length < 0 && row.length[SpanBatch::kEvents] == 2) {
      no_events_ = Slice{row.offset[SpanBatch::kEvents], 2};
    }
    return true;
  }

  // [{"name":...,"time_us":...,"attributes":{...}},...] of the span's events (the fields numbered
  // 11 of `span`, which may be the stretch of a span message that holds them).
  bool Events(std::string_view span) {
    text_.push_back('[');
    bool first = true;
    FieldReader reader(span);
    Field f;
    while (reader.Next(f)) {
      if (f.number != 11 || f.wire != kLen) continue;
      std::string_view name;
      uint64_t time_ns = 0;
      FieldReader event(f.bytes);
      Field g;
      while (event.Next(g)) {
        if (g.number == 1 && g.wire == kFixed64) time_ns = g.value;
        if (g.number == 2 && g.wire == kLen) name = g.bytes;
      }
      if (event.bad()) return false;
      if (!first) text_.push_back(',');
      first = false;
      text_ += "{\"name\":";
      AppendJsonString(text_, name);
      text_ += ",\"time_us\":";
      AppendJsonInt(text_, static_cast<int64_t>(time_ns / 1000));
      text_ += ",\"attributes\":";
      const std::string_view messages[] = {f.bytes};
      if (!KeyValueObject(text_, messages, 3, 0, nullptr)) return false;
      text_.push_back('}');
    }
    if (reader.bad()) return false;
    text_.push_back(']');
    return true;
  }

  bool Link(std::string_view message) { return CheckKeyValues(message, 4); }

  DecodedRequest& out_;
  std::string& text_;
  BatchText batch_text_;
  std::string scratch_;  // validated, not stored text
  std::vector<std::string_view> resources_;
  Rejections rejections_;
  int64_t next_index_ = 0;
  Slice resource_json_, resource_tenant_, resource_thread_, resource_run_, resource_project_,
      resource_label_, scope_name_;
  // The previous stored span's trace id (wire bytes) and its text; the first "[]" events text.
  std::string_view last_trace_id_;
  std::string_view last_name_bytes_;  // the name as sent (before UTF-8 repair)
  Slice last_trace_, last_name_, no_events_;
};

}  // namespace

WireDecode DecodeOtlpWireRows(std::string_view bytes, std::string_view header_tenant,
                              DecodedRequest* out) {
  out->batch.clear();
  out->rejected_spans = 0;
  out->error_message.clear();
  Decoder decoder(header_tenant, *out);
  if (bytes.size() <= static_cast<size_t>(INT32_MAX) && decoder.Request(bytes)) {
    return WireDecode::kOk;
  }
  out->batch.clear();
  out->rejected_spans = 0;
  out->error_message.clear();
  return WireDecode::kFallBack;
}

bool DecodeOtlpProtobufRows(std::string_view bytes, std::string_view header_tenant,
                            DecodedRequest* out, std::string* error) {
  if (DecodeOtlpWireRows(bytes, header_tenant, out) == WireDecode::kOk) return true;
  ExportRequest request;
  if (!ParseOtlpProtobuf(bytes, &request, error)) return false;
  return MapExportRequestInto(request, header_tenant, out, error);
}

}  // namespace vllora::collector::internal
