// Wall-clock time source used by the SDK for span, event and export timestamps.
//
// Use NowUnixNanos() whenever an OpenTelemetry timestamp (nanoseconds since the Unix epoch) is
// needed. Read next: span.h.
#pragma once

#include <cstdint>

namespace vllora::otel {

/// Current wall-clock time in nanoseconds since the Unix epoch (CLOCK_REALTIME).
///
/// Where the CPU has an invariant time-stamp counter (x86-64), each thread reads the system
/// clock at most once a millisecond and extrapolates from the counter in between, at the rate
/// measured against the system clock over the last 1-2 s (internal/tick_clock.h). Readings then
/// follow the system clock to within a few nanoseconds, and its steps and slews within a
/// millisecond; like the system clock itself they are not monotonic (a span's end is clamped to
/// its start). VLLORA_TSC_CLOCK=0 in the environment makes every call read the system clock, and
/// so does a process that forbids RDTSC (prctl PR_SET_TSC) before the library is loaded; one
/// that forbids it later must set VLLORA_TSC_CLOCK=0.
/// Thread-safety: safe from any thread. Allocation: none. Blocking: never.
uint64_t NowUnixNanos() noexcept;

/// True when NowUnixNanos() extrapolates from the CPU's time-stamp counter (see above).
bool NowUsesTickCounter() noexcept;

}  // namespace vllora::otel
