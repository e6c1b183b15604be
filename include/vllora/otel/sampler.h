// Samplers decide, at span start, whether a span is recorded and whether it is exported.
//
// The TracerProvider default is ParentBased(AlwaysOn): follow the parent's sampled flag, sample
// all roots. Use TraceIdRatio(r) as the root sampler to keep a fraction of traces.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vllora/otel/ids.h"
#include "vllora/otel/span_context.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {

/// What happens to a new span.
enum class SamplingDecision {
  kDrop,             ///< Not recorded; a cheap non-recording span is returned.
  kRecordOnly,       ///< Recorded (processors see it) but not sampled (not exported).
  kRecordAndSample,  ///< Recorded and exported.
};

/// A sampling decision plus the tracestate to put on the new span.
struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  std::string trace_state;
};

/// Decides whether to sample a new span.
/// Thread-safety: ShouldSample() is called concurrently from any thread.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// `parent` may be invalid (new root). Must not block; should not allocate except for the
  /// returned tracestate (samplers here copy the parent's tracestate).
  virtual SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                                      std::string_view name, SpanKind kind) noexcept = 0;
  /// The decision ShouldSample() makes for every span under `parent` (invalid: a new root) when
  /// it depends on nothing else — not the trace id, name or kind; nullopt otherwise (the
  /// default). When it returns a decision, the Tracer uses it instead of calling ShouldSample()
  /// and gives the span its parent's tracestate; instrumentation uses it to skip building spans
  /// that would be dropped.
  virtual std::optional<SamplingDecision> FixedDecision(const SpanContext& parent) const noexcept {
    (void)parent;
    return std::nullopt;
  }
  /// E.g. "ParentBased{root:AlwaysOnSampler,...}".
  virtual std::string Description() const = 0;
};

/// Samples every span.
std::unique_ptr<Sampler> MakeAlwaysOnSampler();
/// Drops every span.
std::unique_ptr<Sampler> MakeAlwaysOffSampler();
/// Samples when the trace id's lower 63 bits (bytes 8..15, big-endian) fall below
/// ratio * 2^63. ratio <= 0 drops all, ratio >= 1 samples all; deterministic per trace id.
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio);
/// With a valid parent: sample iff the parent is sampled (remote or local). Without: `root`.
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root);

}  // namespace vllora::otel
