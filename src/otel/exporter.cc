#include "vllora/otel/exporter.h"

namespace vllora::otel {

ExportResult NullSpanExporter::Export(std::span<std::unique_ptr<SpanData>>) noexcept {
  return ExportResult::kSuccess;
}

bool NullSpanExporter::Shutdown(std::chrono::steady_clock::time_point) noexcept { return true; }

std::unique_ptr<SpanExporter> MakeDiscardingSpanExporter() {
  return std::make_unique<NullSpanExporter>();
}

}  // namespace vllora::otel
