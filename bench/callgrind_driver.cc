// Runs one benchmark shape N times, for instruction counts under callgrind:
//
//   valgrind --tool=callgrind --fair-sched=yes ./callgrind_driver b1 100000
//   valgrind --tool=callgrind --fair-sched=yes ./callgrind_driver b1 0
//   instructions per span = (Ir(100000) - Ir(0)) / 100000, all threads counted.
//
// Cases: b1, b1_sdk, b2 (per chain), b3a, b3b, b3b_sdk, b6. Every run makes one warm-up call
// (so callsite registration and first-use allocations are part of the subtracted startup), then
// N calls, then shuts the provider down so the export of every span is counted.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "bench/bench_pipeline.h"

namespace {

using namespace vllora::bench;  // NOLINT(google-build-using-namespace): a tiny driver

int Usage() {
  std::fprintf(stderr, "usage: callgrind_driver <b1|b1_sdk|b2|b3a|b3b|b3b_sdk|b6> <n>\n");
  return 2;
}

template <class Fn>
void Repeat(long n, Fn&& fn) {
  for (long i = 0; i <= n; ++i) fn(static_cast<int64_t>(i));  // i == 0 is the warm-up
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Usage();
  const std::string_view which = argv[1];
  const long n = std::strtol(argv[2], nullptr, 10);
  if (n < 0) return Usage();

  if (which == "b6") {
    std::FILE* out = std::tmpfile();
    if (out == nullptr) return 1;
    vllora::SetGlobalSubscriber(FmtRegistry(out));
    Repeat(n, [](int64_t i) { LogEvent(i); });
    vllora::SetGlobalSubscriber(nullptr);
    std::fclose(out);
    return 0;
  }

  const bool sample = which != "b3b" && which != "b3b_sdk";
  Pipeline pipeline(sample);
  pipeline.Install();
  if (which == "b1") {
    Repeat(n, [](int64_t i) { OneSpan(i); });
  } else if (which == "b1_sdk" || which == "b3b_sdk") {
    Repeat(n, [&](int64_t i) { SdkOneSpan(*pipeline.tracer, i); });
  } else if (which == "b2") {
    Repeat(n, [](int64_t i) { AgentChain(i); });
  } else if (which == "b3a") {
    int64_t evaluated = 0;
    Repeat(n, [&](int64_t) { FilteredSpan(evaluated); });
    if (evaluated != 0) std::fprintf(stderr, "b3a: fields were evaluated\n");
  } else if (which == "b3b") {
    Repeat(n, [](int64_t i) { OneSpan(i); });
  } else {
    return Usage();
  }
  pipeline.provider->Shutdown();
  const auto stats = pipeline.batch->Stats();
  std::printf("case=%s n=%ld enqueued=%llu exported=%llu dropped=%llu\n", argv[1], n,
              static_cast<unsigned long long>(stats.enqueued),
              static_cast<unsigned long long>(stats.exported),
              static_cast<unsigned long long>(stats.dropped_queue_full));
  vllora::SetGlobalSubscriber(nullptr);
  return 0;
}
