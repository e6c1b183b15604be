// OTLP ExportTraceServiceRequest -> SpanRow: per-span validation and vLLora's attribute mapping
// (docs/design/0004-collector.md, "Mapping"). Used by both receivers and by the fuzz targets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "vllora/collector/span_store.h"

namespace vllora::collector::internal {

using ExportRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

/// The rows of a request and what was refused.
struct MappedRequest {
  std::vector<SpanRow> rows;
  /// Spans refused by validation (partial_success.rejected_spans).
  int64_t rejected_spans = 0;
  /// "N spans rejected: span I: reason; ..." (partial_success.error_message); empty when none.
  std::string error_message;
};

/// The tenant used when neither the span nor its resource has `vllora.tenant` and the request
/// carries no x-project-id.
inline constexpr std::string_view kDefaultTenant = "default";

struct DecodedRequest;

/// Maps every valid span of `request` to a row of `out->batch` (emptied first; its memory is
/// reused); `header_tenant` is the request's x-project-id metadata/header ("" when absent). Spans
/// are numbered in request order across all resource and scope groups, from 0, in the rejection
/// message. What rows share (a resource's JSON and the columns taken from its attributes, a
/// scope's name, the tenant from the header) is written once per request, not once per row.
/// Returns false with "request too large" in `*error` and no rows when the text does not fit a
/// batch (SpanBatch::kMaxText).
/// Thread-safety: reentrant. Errors: std::bad_alloc only.
bool MapExportRequestInto(const ExportRequest& request, std::string_view header_tenant,
                          DecodedRequest* out, std::string* error);

/// MapExportRequestInto, each row returned as a SpanRow (tests, fuzz targets, benchmarks).
/// Errors: std::bad_alloc; std::length_error when the rows do not fit a batch.
MappedRequest MapExportRequest(const ExportRequest& request, std::string_view header_tenant);

/// Why a span with these ids and times cannot be stored ("" = it can): the validation both
/// decoders apply (docs/design/0004-collector.md, "Validation per span").
std::string SpanProblems(std::string_view trace_id, std::string_view span_id,
                         std::string_view parent_span_id, uint64_t start_time_unix_nano,
                         uint64_t end_time_unix_nano);

/// The rejected spans of a request: an exact count and the first reasons.
class Rejections {
 public:
  /// Reasons listed in the message; the count itself is always exact.
  static constexpr int64_t kMaxListedReasons = 10;
  void Add(int64_t span_index, const std::string& reason);
  int64_t count() const noexcept { return count_; }
  /// "N spans rejected: span I: reason; ..." (partial_success.error_message); "" when none.
  std::string Message() const;

 private:
  int64_t count_ = 0;
  std::string reasons_;
};

/// The `tags` column of a `tags` attribute string (already UTF-8-repaired): the compact JSON of
/// the object it holds; nullopt when it is not a JSON object.
std::optional<std::string> TagsColumn(const std::string& repaired);

/// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" of 16 id bytes (lower case).
std::string TraceIdToUuid(std::string_view bytes);

/// Decimal text of 8 big-endian id bytes.
std::string SpanIdToDecimal(std::string_view bytes);

/// Counts the spans of a request.
size_t CountSpans(const ExportRequest& request) noexcept;

}  // namespace vllora::collector::internal
