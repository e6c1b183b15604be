// Internal: a prefetch that asks for a cache line in the exclusive state, ready to be written.
// Not part of the public API; included only because the span pools are header templates.
//
// Why: the blocks and queue cells a span writes were last touched by another thread (the
// export thread frees spans and hands queue cells back), so their lines sit in another core's
// cache. A read prefetch (what __builtin_prefetch(p, 1) compiles to for baseline x86-64)
// brings a shared copy, and the first store still waits for the other core to give the line
// up; PREFETCHW fetches it owned. On the 2-core VM of docs/performance.md it took B1 from
// ~327 to ~226 ns per span.
#pragma once

namespace vllora::otel::internal {

/// True when the CPU has PREFETCHW (CPUID 0x80000001 ECX bit 8: every x86-64 AMD CPU, Intel
/// since Broadwell). Set during static initialisation; until then the read prefetch is used.
extern bool g_has_prefetchw;

/// Requests the cache line holding `p` for writing. A hint only: never faults, whatever `p`.
inline void PrefetchForWrite(const void* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (g_has_prefetchw) {
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
    return;
  }
#endif
  __builtin_prefetch(p, 1, 3);
}

}  // namespace vllora::otel::internal
