// The Registry: the Subscriber that stores live spans and fans out to layers.
//
//   auto registry = vllora::Registry::Create();
//   registry->With(vllora::MakeFmtLayer(), std::make_shared<vllora::EnvFilter>(
//                      vllora::EnvFilter::FromEnv("info")))
//           .With(otel_layer_for_vllora, std::make_shared<vllora::TargetFilter>(
//                      "vllora::user_tracing", vllora::LevelFilter::kInfo));
//   vllora::SetGlobalSubscriber(registry);
//
// Each layer has its own filter; a span exists when at least one layer wants it and each layer
// sees only what its own filter lets through. A span's parent is the current span whatever layer
// enabled it, so layers can find their nearest ancestor (see SpanRef::parent()).
#pragma once

#include <memory>
#include <vector>

#include "vllora/core/subscriber.h"
#include "vllora/subscriber/filter.h"
#include "vllora/subscriber/layer.h"

namespace vllora {

/// A layer together with its per-layer filter.
struct FilteredLayer {
  std::shared_ptr<Layer> layer;
  std::shared_ptr<const Filter> filter;
};

/// The standard Subscriber. At most 64 layers.
///
/// Thread-safety: With() must be called before the registry is installed; afterwards every
/// method is safe from any thread. Allocation: one record per enabled span.
class Registry final : public Subscriber {
 public:
  static std::shared_ptr<Registry> Create();

  /// Adds a layer with its filter (null: the layer sees everything). Returns *this.
  Registry& With(std::shared_ptr<Layer> layer, std::shared_ptr<const Filter> filter = nullptr);
  Registry& With(FilteredLayer layer) {
    return With(std::move(layer.layer), std::move(layer.filter));
  }

  /// The index With() gave the layer, or -1.
  int IndexOf(const Layer* layer) const noexcept;
  /// Number of spans currently open (created and not yet closed).
  uint64_t LiveSpans() const noexcept;

  Interest RegisterCallsite(Callsite& cs) noexcept override;
  bool SpanEnabled(const Callsite& cs, internal::SpanNode* parent) noexcept override;
  internal::SpanNode* NewSpan(const Callsite& cs, FieldSpan fields,
                              internal::SpanNode* parent) noexcept override;
  void Record(internal::SpanNode* span, FieldSpan fields) noexcept override;
  void Enter(internal::SpanNode* span) noexcept override;
  void Exit(internal::SpanNode* span) noexcept override;
  void Event(const Callsite& cs, std::string_view message, FieldSpan fields,
             internal::SpanNode* parent) noexcept override;
  void CloseSpan(internal::SpanNode* span) noexcept override;

 private:
  Registry() = default;
  [[gnu::noinline]] bool AnyLayerWantsSpan(const Callsite& cs, internal::SpanNode* parent,
                                           uint64_t mask) const noexcept;
  struct Entry {
    std::shared_ptr<Layer> layer;
    std::shared_ptr<const Filter> filter;
  };
  std::vector<Entry> layers_;
  uint64_t enter_exit_mask_ = 0;  // bit i: layers_[i] observes enter/exit
  // Live spans, counted in stripes so threads starting and closing spans at the same time do
  // not write one cache line; a span may close on another stripe than it opened on, so only
  // the sum (LiveSpans) is meaningful.
  static constexpr size_t kLiveStripes = 8;
  struct alignas(64) LiveStripe {
    std::atomic<uint64_t> count{0};
  };
  std::array<LiveStripe, kLiveStripes> live_spans_{};
};

}  // namespace vllora
