// Fuzz target: bytes as an OTLP/JSON request body (what the HTTP receiver gets with
// Content-Type application/json) -> decoder -> per-span validation and row mapping.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/otlp_json.h"
#include "collector_row_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vllora::collector::fuzz::Check;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  vllora::collector::internal::ExportRequest request;
  std::string error;
  if (vllora::collector::internal::DecodeOtlpJson(body, size_t{1} << 20, &request, &error) !=
      vllora::collector::internal::JsonDecode::kOk) {
    Check(!error.empty());
    Check(vllora::collector::internal::CountSpans(request) == 0);
    return 0;
  }
  // No tenant header: spans without vllora.tenant fall back to the default tenant.
  vllora::collector::fuzz::CheckMappedRows(request, "");
  return 0;
}
