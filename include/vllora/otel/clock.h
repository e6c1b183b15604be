// Wall-clock time source used by the SDK for span, event and export timestamps.
//
// Use NowUnixNanos() whenever an OpenTelemetry timestamp (nanoseconds since the Unix epoch) is
// needed. Read next: span.h.
#pragma once

#include <cstdint>

namespace vllora::otel {

/// Current wall-clock time in nanoseconds since the Unix epoch.
/// Thread-safety: safe from any thread. Allocation: none. Blocking: never (vDSO clock read).
uint64_t NowUnixNanos() noexcept;

}  // namespace vllora::otel
