// Private: the state shared by a TracerProvider, its Tracers and their live Spans.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "vllora/otel/ids.h"
#include "vllora/otel/processor.h"
#include "vllora/otel/sampler.h"
#include "vllora/otel/span_data.h"
#include "vllora/otel/tracer_provider.h"

namespace vllora::otel::internal {

/// What the tracer knows of a sampler without calling it.
enum class SamplerShape : uint8_t {
  kAsk,                     ///< call Sampler::FixedDecision
  kParentBasedRootSampled,  ///< ParentBased over a root that samples every trace
  kParentBasedRootDropped,  ///< ParentBased over a root that drops every trace
};
/// The shape of one of the SDK's own samplers (kAsk for any other: a user's sampler may decide
/// differently from one call to the next).
SamplerShape SamplerShapeOf(const Sampler& sampler) noexcept;

struct ProviderState {
  std::vector<std::unique_ptr<SpanProcessor>> processors;
  std::vector<SpanProcessor*> on_start;  // processors with NeedsOnStart()
  std::vector<SpanProcessor*> on_end;    // processors with NeedsOnEnd()
  std::unique_ptr<IdGenerator> id_generator;
  std::unique_ptr<Sampler> sampler;
  /// How `sampler` decides, when that is known without calling it (see SamplerShapeOf).
  SamplerShape sampler_shape = SamplerShape::kAsk;
  std::shared_ptr<const Resource> resource;
  SpanLimits limits;
  std::atomic<bool> shut_down{false};

  /// FixedDecision's answer: a SamplingDecision, or kNotFixed (nullopt).
  static constexpr uint8_t kNotFixed = 0xff;
  /// The sampler's decision when the parent alone fixes it, as Sampler::FixedDecision answers
  /// (kNotFixed for nullopt). The default ParentBased(AlwaysOn) is decided inline, without a
  /// virtual call.
  uint8_t FixedDecision(const SpanContext& parent) const noexcept {
    if (sampler_shape == SamplerShape::kAsk) [[unlikely]] {
      const std::optional<SamplingDecision> fixed = sampler->FixedDecision(parent);
      return fixed ? static_cast<uint8_t>(*fixed) : kNotFixed;
    }
    const bool sample = parent.IsValid() ? parent.IsSampled()
                                         : sampler_shape == SamplerShape::kParentBasedRootSampled;
    return static_cast<uint8_t>(sample ? SamplingDecision::kRecordAndSample
                                       : SamplingDecision::kDrop);
  }
  /// Hands a finished span to every OnEnd processor (copies for all but the last); inline for
  /// the usual single processor.
  void DispatchEnd(std::unique_ptr<SpanData>&& data) noexcept {
    if (on_end.size() == 1) [[likely]] {
      on_end.front()->OnEnd(std::move(data));
    } else {
      DispatchEndToEach(std::move(data));
    }
  }
  /// DispatchEnd for none or several processors.
  void DispatchEndToEach(std::unique_ptr<SpanData>&& data) noexcept;

  /// The state's lifetime: one reference per recording Span from Tracer::StartSpan (a span from
  /// StartSpanIn takes none: its creator keeps a Tracer), plus one held by all the shared_ptr
  /// owners together (TracerProvider, Tracers; see MakeProviderState). A span takes
  /// and drops its reference with one atomic add each, without shared_ptr's control-block
  /// work (the span start and end hot path).
  void AddRef() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Release() noexcept {
    // acq_rel: the last release sees every other owner's writes before deleting.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  std::atomic<uint64_t> refs_{1};
};

/// A new ProviderState whose shared_ptr owners hold one reference together.
std::shared_ptr<ProviderState> MakeProviderState();

/// The resource (or scope) spans point at: an equal one already kept for the process, else
/// `resource` kept from now on. The returned pointer has no control block, so copies into
/// spans cost no atomic operations (see tracer_provider.cc). Thread-safe; blocking (a mutex).
std::shared_ptr<const Resource> PinResource(Resource resource);
std::shared_ptr<const InstrumentationScope> PinScope(InstrumentationScope scope);

}  // namespace vllora::otel::internal
