// What both collector fuzz targets check about a decoded request once it is mapped to rows: every
// span becomes a row or a counted rejection, and every row is well-formed — ids in their text
// forms, times in order, valid UTF-8, JSON columns that parse. Aborts (a fuzzer finding) if not.
#pragma once

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "collector/json_text.h"
#include "collector/otlp_mapping.h"

namespace vllora::collector::fuzz {

inline void Check(bool condition) {
  if (!condition) std::abort();
}

inline void CheckJson(const std::string& text) {
  Check(internal::IsValidUtf8(text));
  Check(!nlohmann::json::parse(text, nullptr, false).is_discarded());
}

/// Maps `request` as the receivers do (tenant header `tenant`) and checks the result.
inline void CheckMappedRows(const internal::ExportRequest& request, const std::string& tenant) {
  const internal::MappedRequest mapped = internal::MapExportRequest(request, tenant);
  Check(mapped.rows.size() + static_cast<size_t>(mapped.rejected_spans) ==
        internal::CountSpans(request));
  Check((mapped.rejected_spans == 0) == mapped.error_message.empty());
  for (const auto& row : mapped.rows) {
    Check(row.trace_id.size() == 36);
    Check(!row.span_id.empty() && row.span_id != "0");
    Check(row.finish_time_us >= row.start_time_us);
    Check(internal::IsValidUtf8(row.operation_name) && internal::IsValidUtf8(row.tenant) &&
          !row.tenant.empty());
    CheckJson(row.attribute);
    CheckJson(row.events);
    CheckJson(row.resource);
    if (row.tags) CheckJson(*row.tags);
  }
}

}  // namespace vllora::collector::fuzz
