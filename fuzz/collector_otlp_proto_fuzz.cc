// Fuzz target: bytes as a binary OTLP ExportTraceServiceRequest (what the gRPC and HTTP/protobuf
// receivers get) -> tolerant parse -> per-span validation and row mapping. Checks that every
// produced row is well-formed: ids in their text forms, JSON columns that parse, valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/otlp_protobuf.h"
#include "collector_row_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vllora::collector::fuzz::Check;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  vllora::collector::internal::ExportRequest request;
  std::string error;
  if (!vllora::collector::internal::ParseOtlpProtobuf(bytes, &request, &error)) {
    Check(!error.empty());
    return 0;
  }
  vllora::collector::fuzz::CheckMappedRows(request, "fuzz-tenant");
  return 0;
}
