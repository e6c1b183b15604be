// Internal: a prefetch that asks for a cache line in the exclusive state, ready to be written.
// Not part of the public API; included only because the span pools are header templates.
//
// Why: the blocks a span writes were last touched by another thread (the export thread frees
// spans), so their lines sit in another core's cache. A read prefetch (what __builtin_prefetch(p,
// 1) compiles to for baseline x86-64) brings a shared copy, and the first store still waits for the
// other core to give the line up; PREFETCHW fetches it owned. On the 2-core VM of
// docs/performance.md it took B1 from ~327 to ~226 ns per span.
#pragma once

#include <cstddef>
#include <utility>

namespace vllora::otel::internal {

/// True when the CPU has PREFETCHW (CPUID 0x80000001 ECX bit 8: every x86-64 AMD CPU, Intel
/// since Broadwell). Set during static initialisation; until then the read prefetch is used.
extern bool g_has_prefetchw;

/// Requests the kLines cache lines from `p` on for writing: one instruction per line, the CPU
/// check once. A hint only: never faults, whatever `p`.
template <size_t kLines>
inline void PrefetchLinesForWrite(const void* p) noexcept {
  const char* bytes = static_cast<const char*>(p);
  [&]<size_t... kLine>(std::index_sequence<kLine...>) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (g_has_prefetchw) {
      // The base register and a constant displacement: an "m" operand per line made the
      // compiler compute each line's address into a register first (both branches share them).
      (..., [&] { asm volatile("prefetchw %c1(%0)" : : "r"(bytes), "i"(kLine * 64)); }());
      return;
    }
#endif
    (..., __builtin_prefetch(bytes + kLine * 64, 1, 3));
  }
  (std::make_index_sequence<kLines>());
}

}  // namespace vllora::otel::internal
