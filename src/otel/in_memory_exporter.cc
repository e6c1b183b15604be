#include "vllora/otel/in_memory_exporter.h"

namespace vllora::otel {

void InMemorySpanStorage::Add(std::span<std::unique_ptr<SpanData>> spans) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& span : spans) {
    if (span) spans_.push_back(std::move(span));
  }
}

std::vector<std::unique_ptr<SpanData>> InMemorySpanStorage::Take() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(spans_, {});
}

size_t InMemorySpanStorage::Size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return spans_.size();
}

void InMemorySpanStorage::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  spans_.clear();
}

InMemorySpanExporter::InMemorySpanExporter() : storage_(std::make_shared<InMemorySpanStorage>()) {}

InMemorySpanExporter::InMemorySpanExporter(std::shared_ptr<InMemorySpanStorage> storage)
    : storage_(storage ? std::move(storage) : std::make_shared<InMemorySpanStorage>()) {}

ExportResult InMemorySpanExporter::Export(std::span<std::unique_ptr<SpanData>> batch) noexcept {
  if (shut_down_.load(std::memory_order_acquire)) return ExportResult::kFailure;
  try {
    storage_->Add(batch);
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

bool InMemorySpanExporter::Shutdown(std::chrono::steady_clock::time_point) noexcept {
  shut_down_.store(true, std::memory_order_release);
  return true;
}

}  // namespace vllora::otel
