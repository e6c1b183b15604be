#include "vllora/otel/internal/prefetch.h"

#include "otel/cpu_features.h"

namespace vllora::otel::internal {

// Extended leaf 0x80000001, ECX bit 8: PREFETCHW (AMD's "3DNowPrefetch", Intel's "PRFCHW").
bool g_has_prefetchw = CpuidBit(0x80000001U, CpuidRegister::kEcx, 8);

}  // namespace vllora::otel::internal
