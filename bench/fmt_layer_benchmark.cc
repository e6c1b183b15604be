// B6 of issue 7: the fmt layer writing one log event with two fields to a file.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "bench/bench_pipeline.h"

namespace vllora::bench {
namespace {

void BM_B6_FmtLayerEvent(benchmark::State& state) {
  std::FILE* out = std::tmpfile();
  if (out == nullptr) {
    state.SkipWithError("tmpfile() failed");
    return;
  }
  SetGlobalSubscriber(FmtRegistry(out));
  int64_t i = 0;
  for (auto _ : state) LogEvent(++i);
  std::fflush(out);
  state.counters["bytes_per_event"] =
      static_cast<double>(std::ftell(out)) / static_cast<double>(state.iterations());
  SetGlobalSubscriber(nullptr);
  std::fclose(out);
}
BENCHMARK(BM_B6_FmtLayerEvent);

}  // namespace
}  // namespace vllora::bench

BENCHMARK_MAIN();
