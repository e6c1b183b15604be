// Private: CPUID feature bits on x86-64 (always false on other CPUs and compilers).
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace vllora::otel::internal {

enum class CpuidRegister { kEcx, kEdx };

/// True when CPUID `leaf` exists and sets `bit` of `reg`.
inline bool CpuidBit(unsigned leaf, CpuidRegister reg, unsigned bit) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  if (__get_cpuid(leaf, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (((reg == CpuidRegister::kEcx ? ecx : edx) >> bit) & 1U) != 0;
#else
  (void)leaf;
  (void)reg;
  (void)bit;
  return false;
#endif
}

}  // namespace vllora::otel::internal
