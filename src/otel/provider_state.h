// Private: the state shared by a TracerProvider, its Tracers and their live Spans.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "vllora/otel/ids.h"
#include "vllora/otel/processor.h"
#include "vllora/otel/sampler.h"
#include "vllora/otel/span_data.h"
#include "vllora/otel/tracer_provider.h"

namespace vllora::otel::internal {

struct ProviderState {
  std::vector<std::unique_ptr<SpanProcessor>> processors;
  std::vector<SpanProcessor*> on_start;  // processors with NeedsOnStart()
  std::vector<SpanProcessor*> on_end;    // processors with NeedsOnEnd()
  std::unique_ptr<IdGenerator> id_generator;
  std::unique_ptr<Sampler> sampler;
  std::shared_ptr<const Resource> resource;
  SpanLimits limits;
  std::atomic<bool> shut_down{false};

  /// Hands a finished span to every OnEnd processor (copies for all but the last).
  void DispatchEnd(std::unique_ptr<SpanData> data) noexcept;
};

/// The resource (or scope) spans point at: an equal one already kept for the process, else
/// `resource` kept from now on. The returned pointer has no control block, so copies into
/// spans cost no atomic operations (see tracer_provider.cc). Thread-safe; blocking (a mutex).
std::shared_ptr<const Resource> PinResource(Resource resource);
std::shared_ptr<const InstrumentationScope> PinScope(InstrumentationScope scope);

}  // namespace vllora::otel::internal
