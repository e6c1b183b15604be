#include "vllora/otel/processor.h"

#include <mutex>

#include "vllora/otel/diagnostics.h"

namespace vllora::otel {
namespace {

class BaggageSpanProcessor final : public SpanProcessor {
 public:
  explicit BaggageSpanProcessor(std::vector<std::string> keys) : keys_(std::move(keys)) {}

  void OnStart(Span& span, const Context& parent_context) noexcept override {
    const Baggage& baggage = parent_context.baggage();
    if (baggage.empty()) return;
    for (const std::string& key : keys_) {
      if (auto value = baggage.Get(key)) span.SetAttribute(key, *value);
    }
  }
  void OnEnd(std::unique_ptr<SpanData>&&) noexcept override {}
  bool ForceFlush(std::chrono::steady_clock::time_point) noexcept override { return true; }
  bool Shutdown(std::chrono::steady_clock::time_point) noexcept override { return true; }
  bool NeedsOnEnd() const noexcept override { return false; }

 private:
  std::vector<std::string> keys_;
};

class SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter)
      : exporter_(std::move(exporter)) {}

  void OnStart(Span&, const Context&) noexcept override {}

  void OnEnd(std::unique_ptr<SpanData>&& span) noexcept override {
    if (!span || !span->IsSampled()) return;
    std::unique_ptr<SpanData> owned = std::move(span);
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_ || !exporter_) return;
    if (exporter_->Export(std::span<std::unique_ptr<SpanData>>(&owned, 1)) !=
        ExportResult::kSuccess) {
      EmitDiagnostic(DiagnosticLevel::kDebug, "SimpleSpanProcessor: export failed");
    }
  }

  bool ForceFlush(std::chrono::steady_clock::time_point deadline) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return shut_down_ || !exporter_ ? true : exporter_->ForceFlush(deadline);
  }

  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return true;
    shut_down_ = true;
    return exporter_ ? exporter_->Shutdown(deadline) : true;
  }

  bool NeedsOnStart() const noexcept override { return false; }

 private:
  std::mutex mutex_;  // serialises Export (exporters are not required to be thread-safe)
  std::unique_ptr<SpanExporter> exporter_;
  bool shut_down_ = false;
};

}  // namespace

std::unique_ptr<SpanProcessor> MakeBaggageSpanProcessor(std::vector<std::string> keys) {
  return std::make_unique<BaggageSpanProcessor>(std::move(keys));
}

std::unique_ptr<SpanProcessor> MakeSimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter) {
  return std::make_unique<SimpleSpanProcessor>(std::move(exporter));
}

}  // namespace vllora::otel
