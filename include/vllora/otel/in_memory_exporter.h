// InMemorySpanExporter: keeps exported spans in memory so tests can inspect them.
//
// Typical use: create the exporter, keep `storage()`, hand the exporter to
// TracerProvider::Builder::WithSimpleExporter(), then Take() the spans and assert on them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "vllora/otel/exporter.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {

/// Mutex-protected span store shared between an InMemorySpanExporter and the test.
/// Thread-safety: all members are safe from any thread.
class InMemorySpanStorage {
 public:
  /// Appends spans (takes ownership).
  void Add(std::span<std::unique_ptr<SpanData>> spans);
  /// Removes and returns all stored spans, oldest first.
  std::vector<std::unique_ptr<SpanData>> Take();
  /// Number of stored spans.
  size_t Size() const;
  /// Drops all stored spans.
  void Clear();

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<SpanData>> spans_;
};

/// Exporter that moves every exported span into an InMemorySpanStorage.
class InMemorySpanExporter final : public SpanExporter {
 public:
  InMemorySpanExporter();
  /// Exports into an existing storage.
  explicit InMemorySpanExporter(std::shared_ptr<InMemorySpanStorage> storage);

  /// The storage (stays valid after the exporter is destroyed).
  std::shared_ptr<InMemorySpanStorage> storage() const noexcept { return storage_; }

  /// Moves the spans into storage. Fails after Shutdown().
  ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept override;
  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override;

 private:
  std::shared_ptr<InMemorySpanStorage> storage_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace vllora::otel
