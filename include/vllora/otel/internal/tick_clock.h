// Internal: wall-clock time extrapolated from a CPU tick counter. Not part of the public API;
// a header so that the unit tests can drive it with made-up readings.
//
// Why: every span reads the clock twice. On the KVM guest of docs/performance.md a
// clock_gettime(CLOCK_REALTIME) through the vDSO costs 28-30 ns (the paravirtual clock page
// plus a TSC read), about a tenth of a span. A TSC read alone costs ~12 ns, and the rest is
// arithmetic this class does once per millisecond instead of once per call.
//
// How: each thread keeps a base pair (ticks, system time) read within a few microseconds of each
// other, and the rate (ns per tick) measured against the system clock over the last 1-2 s.
// Between base pairs time is base + (ticks - base ticks) * rate. A new base pair is read at least
// every kWindowNanos, and at once when the counter runs backwards or jumps (another CPU with its
// own counter, a VM restored from a snapshot), so the system clock's steps and slews show
// within a millisecond. A measured rate that moves by more than kMaxRateChangePpm (a stepped
// system clock, a counter that changed frequency) starts the calibration again; until a rate
// has been measured over kCalibrateNanos every call reads the system clock.
#pragma once

#include <cstdint>

namespace vllora::otel::internal {

/// True when this process may read the time-stamp counter: RDTSC would not fault (prctl
/// PR_SET_TSC). NowUnixNanos() asks once, at static initialisation. False where the library
/// reads no counter (not x86-64).
bool ProcessAllowsTickCounter() noexcept;

/// One thread's clock. Trivially destructible and constant-initialisable (a thread_local of it
/// needs no guard). Not thread-safe: one instance per thread.
class TickClock {
 public:
  /// A new base pair at least this often (system-clock time).
  static constexpr uint64_t kWindowNanos = 1'000'000;
  /// The shortest baseline a rate is measured over before it is used.
  static constexpr uint64_t kCalibrateNanos = 10'000'000;
  /// The rate is measured from an anchor pair 1-2 s old.
  static constexpr uint64_t kAnchorNanos = 1'000'000'000;
  /// A rate moving by more than this (parts per million) restarts the calibration.
  static constexpr uint64_t kMaxRateChangePpm = 1'000;
  /// A base pair whose two tick reads are further apart than this was interrupted (the thread
  /// was preempted between them): it is not used. Typical: 60-100 ticks.
  static constexpr uint64_t kMaxReadTicks = 16'384;
  /// A rate is used only once the baseline it is measured over is this many times the
  /// uncertainty of its two pairs (half their read gaps): 100 ppm at most.
  static constexpr uint64_t kMinBaselinePerUncertainty = 10'000;

  /// The time now. `ticks()` reads the counter, `system_nanos()` the system clock (called only
  /// when a new base pair is needed, with a second `ticks()` after it).
  template <class Ticks, class SystemNanos>
  uint64_t Now(Ticks&& ticks, SystemNanos&& system_nanos) noexcept {
    const uint64_t before = ticks();
    const uint64_t delta = before - base_ticks_;
    if (delta < window_ticks_) [[likely]] {
      return base_nanos_ + Scale(delta, rate_);
    }
    return ReadSystem(before, ticks, system_nanos);
  }

  /// True once a rate is in use (extrapolating between base pairs).
  bool calibrated() const noexcept { return window_ticks_ != 0; }
  /// The rate in use: nanoseconds per tick in 32.32 fixed point (0 before calibration).
  uint64_t rate() const noexcept { return rate_; }

  /// `ticks` * `rate` (32.32 fixed point), rounded down.
  static uint64_t Scale(uint64_t ticks, uint64_t rate) noexcept {
    __extension__ using U128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<U128>(ticks) * rate) >> 32);
  }

 private:
  // Reads the system clock and, after it, the counter again. Out of line, so that the usual
  // path above saves no registers.
  template <class Ticks, class SystemNanos>
  [[gnu::noinline]] uint64_t ReadSystem(uint64_t before, Ticks& ticks,
                                        SystemNanos& system_nanos) noexcept {
    const uint64_t nanos = system_nanos();
    const uint64_t after = ticks();
    Rebase(before, after, nanos);
    return nanos;
  }
  // Takes the pair read around `nanos` as the new base when it is usable, re-measures the rate
  // and sets the window. Out of line: once per window.
  void Rebase(uint64_t before, uint64_t after, uint64_t nanos) noexcept;
  // Forgets the rate and anchors: calibration starts again from this pair.
  void Restart(uint64_t ticks, uint64_t nanos, uint64_t gap) noexcept;

  uint64_t base_ticks_ = 0;
  uint64_t base_nanos_ = 0;
  uint64_t window_ticks_ = 0;       // 0: not calibrated, every call reads the system clock
  uint64_t rate_ = 0;               // ns per tick, 32.32 fixed point
  uint64_t anchor_ticks_ = 0;       // the pair the rate is measured from
  uint64_t anchor_nanos_ = 0;       // 0: no anchor yet
  uint64_t anchor_gap_ = 0;         // its read gap (ticks)
  uint64_t next_anchor_ticks_ = 0;  // becomes the anchor once it is kAnchorNanos old
  uint64_t next_anchor_nanos_ = 0;
  uint64_t next_anchor_gap_ = 0;
};

}  // namespace vllora::otel::internal
