// TracerProvider: owns the SDK pipeline (id generator, sampler, resource, limits, processors)
// and hands out Tracers.
//
// Quickstart:
//   auto provider = vllora::otel::TracerProvider::builder()
//                       .WithBatchExporter(MakeSomeExporter())
//                       .Build();
//   auto tracer = provider->GetTracer("my.component");
//   auto span = tracer->StartSpan("work");
//   span->SetAttribute("items", int64_t{3});
//   span->End();
//   provider->Shutdown();
//
//   Tracer::StartSpan -> Sampler -> Span (recording) -> Span::End -> SpanProcessor::OnEnd
//        -> BatchSpanProcessor queue -> worker thread -> SpanExporter::Export
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "vllora/otel/batch_span_processor.h"
#include "vllora/otel/exporter.h"
#include "vllora/otel/ids.h"
#include "vllora/otel/processor.h"
#include "vllora/otel/sampler.h"
#include "vllora/otel/span_data.h"
#include "vllora/otel/tracer.h"

namespace vllora::otel {

/// Per-span limits. 0 = unlimited.
struct SpanLimits {
  uint32_t max_attributes = 128;
  uint32_t max_events = 128;
  uint32_t max_links = 128;
  /// Longer string attribute values are cut on a UTF-8 boundary and end with "…" (U+2026),
  /// counted within the limit (see otel::TruncateWithMarker). 0 = unlimited.
  uint32_t max_attribute_value_length = 0;

  /// Reads OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT,
  /// OTEL_SPAN_LINK_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (non-negative integers;
  /// invalid -> one kWarn, default applies).
  static SpanLimits FromEnv();
};

/// The SDK entry point.
/// Thread-safety: all members are safe from any thread.
/// Lifetime: Tracers (and live spans) share ownership of the provider's internal state, so they
/// stay usable after the provider is destroyed; they just stop recording after Shutdown().
class TracerProvider {
 public:
  /// Assembles a TracerProvider.
  class Builder {
   public:
    Builder();
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;

    /// Adds a processor; processors run in the order added.
    Builder& WithSpanProcessor(std::unique_ptr<SpanProcessor> processor);
    /// Adds a BatchSpanProcessor around `exporter`.
    Builder& WithBatchExporter(
        std::unique_ptr<SpanExporter> exporter,
        BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv());
    /// Adds a SimpleSpanProcessor around `exporter`.
    Builder& WithSimpleExporter(std::unique_ptr<SpanExporter> exporter);
    /// Default: MakeRandomIdGenerator().
    Builder& WithIdGenerator(std::unique_ptr<IdGenerator> generator);
    /// Default: MakeParentBasedSampler(MakeAlwaysOnSampler()).
    Builder& WithSampler(std::unique_ptr<Sampler> sampler);
    /// Default: Resource::Create().
    Builder& WithResource(Resource resource);
    /// Default: SpanLimits::FromEnv().
    Builder& WithSpanLimits(SpanLimits limits);
    /// Builds the provider. The builder is left empty.
    std::shared_ptr<TracerProvider> Build();

   private:
    std::vector<std::unique_ptr<SpanProcessor>> processors_;
    std::unique_ptr<IdGenerator> id_generator_;
    std::unique_ptr<Sampler> sampler_;
    std::unique_ptr<Resource> resource_;
    std::unique_ptr<SpanLimits> limits_;
  };

  /// Starts a Builder.
  static Builder builder();

  /// Calls Shutdown() with the default timeout.
  ~TracerProvider();
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  /// The tracer for (name, version); the same pair returns the same tracer.
  /// Allocation: on first use of a pair. Blocking: a mutex (not for the hot path: cache it).
  std::shared_ptr<Tracer> GetTracer(std::string_view name, std::string_view version = {});
  /// Flushes all processors; false if `timeout` elapsed first.
  bool ForceFlush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept;
  /// Shuts all processors down (once); afterwards new spans are non-recording. Idempotent:
  /// later calls return the first call's result.
  bool Shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept;

  /// The resource attached to every span.
  const Resource& resource() const noexcept;

 private:
  explicit TracerProvider(std::shared_ptr<internal::ProviderState> state) noexcept;
  std::shared_ptr<internal::ProviderState> state_;
  std::mutex mutex_;  // guards tracers_ and the shutdown result
  std::vector<std::shared_ptr<Tracer>> tracers_;
  bool shutdown_called_ = false;
  bool shutdown_result_ = false;
};

}  // namespace vllora::otel
