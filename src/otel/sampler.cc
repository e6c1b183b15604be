#include "vllora/otel/sampler.h"

#include <cstdio>

#include "otel/provider_state.h"

namespace vllora::otel {
namespace {

SamplingResult Decide(bool sample, const SpanContext& parent) noexcept {
  SamplingResult result;
  result.decision = sample ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop;
  if (parent.IsValid() && parent.HasTraceState()) {
    try {
      result.trace_state = parent.trace_state();
    } catch (...) {
      // Out of memory: the tracestate is not propagated; the decision still stands.
    }
  }
  return result;
}

class AlwaysOnSampler final : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext& parent, const TraceId&, std::string_view,
                              SpanKind) noexcept override {
    return Decide(true, parent);
  }
  std::optional<SamplingDecision> FixedDecision(const SpanContext&) const noexcept override {
    return SamplingDecision::kRecordAndSample;
  }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOffSampler final : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext& parent, const TraceId&, std::string_view,
                              SpanKind) noexcept override {
    return Decide(false, parent);
  }
  std::optional<SamplingDecision> FixedDecision(const SpanContext&) const noexcept override {
    return SamplingDecision::kDrop;
  }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

class TraceIdRatioSampler final : public Sampler {
 public:
  explicit TraceIdRatioSampler(double ratio) : ratio_(ratio) {
    if (!(ratio > 0.0)) {
      bound_ = 0;  // also catches NaN
    } else if (ratio >= 1.0) {
      bound_ = kAll;
    } else {
      bound_ = static_cast<uint64_t>(ratio * 9223372036854775808.0);  // ratio * 2^63
    }
  }

  SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id, std::string_view,
                              SpanKind) noexcept override {
    if (bound_ == kAll) return Decide(true, parent);
    uint64_t value = 0;
    for (size_t i = 8; i < 16; ++i) value = (value << 8) | trace_id.bytes[i];
    return Decide((value & 0x7FFFFFFFFFFFFFFFULL) < bound_, parent);
  }

  std::optional<SamplingDecision> FixedDecision(const SpanContext&) const noexcept override {
    if (bound_ == 0) return SamplingDecision::kDrop;
    if (bound_ == kAll) return SamplingDecision::kRecordAndSample;
    return std::nullopt;  // depends on the trace id
  }

  std::string Description() const override {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "TraceIdRatioBased{%.6f}", ratio_);
    return buffer;
  }

 private:
  static constexpr uint64_t kAll = ~uint64_t{0};
  double ratio_;
  uint64_t bound_;
};

class ParentBasedSampler final : public Sampler {
 public:
  explicit ParentBasedSampler(std::unique_ptr<Sampler> root) : root_(std::move(root)) {
    if (!root_) root_ = MakeAlwaysOnSampler();
  }

  SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                              std::string_view name, SpanKind kind) noexcept override {
    if (!parent.IsValid()) return root_->ShouldSample(parent, trace_id, name, kind);
    return Decide(parent.IsSampled(), parent);
  }
  std::optional<SamplingDecision> FixedDecision(const SpanContext& parent) const noexcept override {
    if (!parent.IsValid()) return root_->FixedDecision(parent);
    return parent.IsSampled() ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop;
  }

  const Sampler& root() const noexcept { return *root_; }

  std::string Description() const override {
    return "ParentBased{root:" + root_->Description() +
           ",remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,"
           "localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}";
  }

 private:
  std::unique_ptr<Sampler> root_;
};

}  // namespace

namespace internal {
SamplerShape SamplerShapeOf(const Sampler& sampler) noexcept {
  const auto* parent_based = dynamic_cast<const ParentBasedSampler*>(&sampler);
  if (parent_based == nullptr) return SamplerShape::kAsk;
  // Only the SDK's own roots: their FixedDecision for a root never changes, so it is asked once
  // here. A user's root may answer differently later, and is asked for every root span.
  const Sampler& root = parent_based->root();
  const bool sdk_root = dynamic_cast<const AlwaysOnSampler*>(&root) != nullptr ||
                        dynamic_cast<const AlwaysOffSampler*>(&root) != nullptr ||
                        dynamic_cast<const TraceIdRatioSampler*>(&root) != nullptr;
  if (!sdk_root) return SamplerShape::kAsk;
  const std::optional<SamplingDecision> decision = root.FixedDecision(SpanContext());
  if (decision == SamplingDecision::kRecordAndSample) return SamplerShape::kParentBasedRootSampled;
  if (decision == SamplingDecision::kDrop) return SamplerShape::kParentBasedRootDropped;
  return SamplerShape::kAsk;
}
}  // namespace internal

std::unique_ptr<Sampler> MakeAlwaysOnSampler() { return std::make_unique<AlwaysOnSampler>(); }
std::unique_ptr<Sampler> MakeAlwaysOffSampler() { return std::make_unique<AlwaysOffSampler>(); }
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio) {
  return std::make_unique<TraceIdRatioSampler>(ratio);
}
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root) {
  return std::make_unique<ParentBasedSampler>(std::move(root));
}

}  // namespace vllora::otel
