// B1, B2, B3 of issue 7: spans through the macro -> Registry -> OtelLayer -> SDK path, and the
// SDK API alone for comparison. Run bench/run_all.sh for the summary; instruction counts (the
// figures of record) come from callgrind_driver.
#include <benchmark/benchmark.h>

#include "bench/bench_pipeline.h"

namespace vllora::bench {
namespace {

Pipeline& Sampled() {
  static auto* pipeline = new Pipeline(/*sample=*/true);
  return *pipeline;
}

Pipeline& NotSampled() {
  static auto* pipeline = new Pipeline(/*sample=*/false);
  return *pipeline;
}

// Installs `pipeline` (thread 0 only; the other threads wait at the loop's start barrier).
void Use(benchmark::State& state, const Pipeline& pipeline) {
  if (state.thread_index() == 0) pipeline.Install();
}

// B1: one span, three 20-byte string attributes and one int64, ended. Counter `dropped`: spans
// the batch processor dropped during this run (queue full).
void BM_B1_OneSpan(benchmark::State& state) {
  Pipeline& pipeline = Sampled();
  Use(state, pipeline);
  const uint64_t dropped_before = pipeline.Dropped();
  int64_t i = 0;
  for (auto _ : state) OneSpan(++i);
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(pipeline.Dropped() - dropped_before);
  }
}
BENCHMARK(BM_B1_OneSpan)->Threads(1)->Threads(2)->UseRealTime();

void BM_B1_SdkOnly(benchmark::State& state) {
  Pipeline& pipeline = Sampled();
  const uint64_t dropped_before = pipeline.Dropped();
  int64_t i = 0;
  for (auto _ : state) SdkOneSpan(*pipeline.tracer, ++i);
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(pipeline.Dropped() - dropped_before);
  }
}
BENCHMARK(BM_B1_SdkOnly)->Threads(1)->Threads(2)->UseRealTime();

// B2: the 7-span agent chain; time per chain.
void BM_B2_AgentChain(benchmark::State& state) {
  Use(state, Sampled());
  int64_t i = 0;
  for (auto _ : state) AgentChain(++i);
}
BENCHMARK(BM_B2_AgentChain);

// B3a: a callsite no layer wants. `evaluated` must stay 0 (fields are not evaluated).
void BM_B3a_FilteredCallsite(benchmark::State& state) {
  Use(state, Sampled());
  int64_t evaluated = 0;
  for (auto _ : state) {
    FilteredSpan(evaluated);
    benchmark::ClobberMemory();
  }
  state.counters["evaluated"] = static_cast<double>(evaluated);
}
BENCHMARK(BM_B3a_FilteredCallsite);

// B3b: a span the sampler drops (AlwaysOff), through the macro path.
void BM_B3b_SamplerDrops(benchmark::State& state) {
  Use(state, NotSampled());
  int64_t i = 0;
  for (auto _ : state) OneSpan(++i);
}
BENCHMARK(BM_B3b_SamplerDrops);

void BM_B3b_SdkOnly(benchmark::State& state) {
  Pipeline& pipeline = NotSampled();
  int64_t i = 0;
  for (auto _ : state) SdkOneSpan(*pipeline.tracer, ++i);
}
BENCHMARK(BM_B3b_SdkOnly);

}  // namespace
}  // namespace vllora::bench

BENCHMARK_MAIN();
