// Writing the text of a SpanBatch, shared by both OTLP decoders (otlp_wire_rows from the wire
// bytes, otlp_mapping from protobuf messages): each column's text is appended once and rows
// refer to it by offset and length; what rows share is appended once per request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vllora/collector/span_store.h"

namespace vllora::collector::internal {

/// A column's text in a batch; length -1 = NULL.
struct TextSlice {
  uint32_t offset = 0;
  int32_t length = -1;
};

/// The text of one request's rows. Offsets are 32-bit: the decoders check the text against
/// SpanBatch::kMaxText (and drop the request) before its rows are used.
class BatchText {
 public:
  /// `header_tenant`: the request's x-project-id ("" when absent).
  BatchText(std::string& text, std::string_view header_tenant) noexcept
      : text_(text), header_tenant_(header_tenant) {}

  /// The text appended since `start` (the text's size before appending).
  TextSlice Since(size_t start) const noexcept {
    return TextSlice{static_cast<uint32_t>(start), static_cast<int32_t>(text_.size() - start)};
  }
  TextSlice Put(std::string_view value) {
    const size_t start = text_.size();
    text_ += value;
    return Since(start);
  }
  static void Set(SpanBatch::Row& row, SpanBatch::TextColumn column, TextSlice slice) noexcept {
    row.offset[column] = slice.offset;
    row.length[column] = slice.length;
  }
  /// The tenant of a row without one of its own: the resource's when not empty, else the
  /// request's header (UTF-8 repaired), else "default"; the last two are appended at their first
  /// use only, once per request.
  TextSlice FallbackTenant(TextSlice resource_tenant);

 private:
  std::string& text_;
  std::string_view header_tenant_;
  TextSlice header_tenant_slice_, default_tenant_slice_;
};

}  // namespace vllora::collector::internal
