// The pipelines and span shapes the benchmarks and the callgrind driver share (issue 7).
//
// Every figure goes through what a user of the seed runs: the span macro -> Registry ->
// OtelLayer -> TracerProvider with a default BatchSpanProcessor -> a discarding exporter. The
// `Sdk*` shapes call the SDK API directly, for comparison.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>

#include "vllora/core/macros.h"
#include "vllora/otel/batch_span_processor.h"
#include "vllora/otel/exporter.h"
#include "vllora/otel/sampler.h"
#include "vllora/otel/tracer_provider.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/subscriber/fmt_layer.h"
#include "vllora/subscriber/registry.h"

namespace vllora::bench {

// Three 20-byte string attribute values (B1).
inline constexpr std::string_view kModel = "openai/gpt-4o-mini01";
inline constexpr std::string_view kProvider = "provider-openai-0001";
inline constexpr std::string_view kRequest = "req-0123456789abcdef";
static_assert(kModel.size() == 20 && kProvider.size() == 20 && kRequest.size() == 20);

/// Target the OTel layer of every pipeline accepts; anything else is filtered out (B3a).
inline constexpr const char* kTarget = "bench::span";

/// A TracerProvider with one default BatchSpanProcessor around a discarding exporter, and a
/// Registry with one OTel layer ("bench", INFO) on its tracer.
struct Pipeline {
  std::shared_ptr<otel::TracerProvider> provider;
  otel::BatchSpanProcessor* batch = nullptr;  // owned by the provider
  std::shared_ptr<otel::Tracer> tracer;
  std::shared_ptr<Registry> registry;

  explicit Pipeline(bool sample) {
    auto processor = std::make_unique<otel::BatchSpanProcessor>(otel::MakeDiscardingSpanExporter());
    batch = processor.get();
    auto builder = otel::TracerProvider::builder();
    builder.WithSpanProcessor(std::move(processor));
    if (!sample) builder.WithSampler(otel::MakeAlwaysOffSampler());
    provider = builder.Build();
    tracer = provider->GetTracer("bench");
    registry = Registry::Create();
    registry->With(OtelLayer("bench", LevelFilter::kInfo, tracer));
  }
  /// Makes this pipeline's registry the global subscriber.
  void Install() const { SetGlobalSubscriber(registry); }
  uint64_t Dropped() const { return batch->Stats().dropped_queue_full; }
};

/// B1 (and B3b with a non-sampling pipeline): one span through the macro path.
inline void OneSpan(int64_t i) {
  auto span =
      VLLORA_INFO_SPAN(kTarget, "chat_completion", {"llm.model", kModel},
                       {"llm.provider", kProvider}, {"request.id", kRequest}, {"llm.tokens", i});
  (void)span;
}

/// B1 through the SDK API alone.
inline void SdkOneSpan(otel::Tracer& tracer, int64_t i) {
  const otel::KeyValueView attributes[] = {{"llm.model", kModel},
                                           {"llm.provider", kProvider},
                                           {"request.id", kRequest},
                                           {"llm.tokens", i}};
  otel::StartSpanOptions options;
  options.attributes = attributes;
  auto span = tracer.StartSpan("chat_completion", options);
  span->End();
}

/// B3a: a callsite no layer wants (its target is filtered out). The field expression must not
/// be evaluated; `evaluated` counts it if it were.
inline void FilteredSpan(int64_t& evaluated) {
  auto span = VLLORA_INFO_SPAN("other::target", "chat_completion", {"llm.tokens", ++evaluated});
  (void)span;
}

/// B2: run > agent > task > api_invoke > model_call > openai > tool, each child started while
/// its parent is current, three attributes each.
inline void AgentChain(int64_t i) {
#define VLLORA_BENCH_FIELDS \
  {"llm.model", kModel}, {"request.id", kRequest}, { "step", i }
  auto run = VLLORA_INFO_SPAN(kTarget, "run", VLLORA_BENCH_FIELDS);
  auto in_run = run.Enter();
  auto agent = VLLORA_INFO_SPAN(kTarget, "agent", VLLORA_BENCH_FIELDS);
  auto in_agent = agent.Enter();
  auto task = VLLORA_INFO_SPAN(kTarget, "task", VLLORA_BENCH_FIELDS);
  auto in_task = task.Enter();
  auto api = VLLORA_INFO_SPAN(kTarget, "api_invoke", VLLORA_BENCH_FIELDS);
  auto in_api = api.Enter();
  auto model = VLLORA_INFO_SPAN(kTarget, "model_call", VLLORA_BENCH_FIELDS);
  auto in_model = model.Enter();
  auto openai = VLLORA_INFO_SPAN(kTarget, "openai", VLLORA_BENCH_FIELDS);
  auto in_openai = openai.Enter();
  auto tool = VLLORA_INFO_SPAN(kTarget, "tool", VLLORA_BENCH_FIELDS);
  (void)tool;
#undef VLLORA_BENCH_FIELDS
}

/// B6: a registry with only the fmt layer, writing to `out` without colour.
inline std::shared_ptr<Registry> FmtRegistry(std::FILE* out) {
  FmtLayerOptions options;
  options.out = out;
  options.ansi = FmtLayerOptions::Ansi::kNever;
  auto registry = Registry::Create();
  registry->With(MakeFmtLayer(options));
  return registry;
}

/// B6: one log event with two fields.
inline void LogEvent(int64_t i) {
  VLLORA_EVENT(::vllora::Level::kInfo, kTarget, "request finished")
      .With("llm.model", kModel)
      .With("llm.tokens", i);
}

}  // namespace vllora::bench
