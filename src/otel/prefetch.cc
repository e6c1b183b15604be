#include "vllora/otel/internal/prefetch.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace vllora::otel::internal {
namespace {

bool DetectPrefetchW() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  // Extended leaf 0x80000001, ECX bit 8: PREFETCHW (AMD's "3DNowPrefetch", Intel's "PRFCHW").
  if (__get_cpuid(0x80000001U, &eax, &ebx, &ecx, &edx) != 0) return (ecx & (1U << 8)) != 0;
#endif
  return false;
}

}  // namespace

bool g_has_prefetchw = DetectPrefetchW();

}  // namespace vllora::otel::internal
