#include "vllora/otel/clock.h"

#include <ctime>
#include <string_view>

#include "otel/cpu_features.h"
#include "otel/env.h"
#include "vllora/otel/internal/tick_clock.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <sys/prctl.h>
#include <x86intrin.h>
#define VLLORA_HAVE_TSC 1
#else
#define VLLORA_HAVE_TSC 0
#endif

namespace vllora::otel {
namespace internal {

void TickClock::Restart(uint64_t ticks, uint64_t nanos, uint64_t gap) noexcept {
  base_ticks_ = ticks;
  base_nanos_ = nanos;
  window_ticks_ = 0;
  rate_ = 0;
  anchor_ticks_ = next_anchor_ticks_ = ticks;
  anchor_nanos_ = next_anchor_nanos_ = nanos;
  anchor_gap_ = next_anchor_gap_ = gap;
}

void TickClock::Rebase(uint64_t before, uint64_t after, uint64_t nanos) noexcept {
  __extension__ using U128 = unsigned __int128;
  // Read across a preemption, or the counter ran backwards in between: read again next call.
  if (after < before || after - before > kMaxReadTicks || nanos == 0) {
    window_ticks_ = 0;
    return;
  }
  const uint64_t gap = after - before;
  const uint64_t ticks = before + gap / 2;
  // No anchor yet, or the counter or the system clock went back past it.
  if (anchor_nanos_ == 0 || ticks <= anchor_ticks_ || nanos <= anchor_nanos_) {
    Restart(ticks, nanos, gap);
    return;
  }
  base_ticks_ = ticks;
  base_nanos_ = nanos;
  const uint64_t baseline_ticks = ticks - anchor_ticks_;
  const uint64_t baseline_nanos = nanos - anchor_nanos_;
  const uint64_t uncertainty = (anchor_gap_ + gap) / 2 + 1;
  if (baseline_nanos < kCalibrateNanos ||
      baseline_ticks / kMinBaselinePerUncertainty < uncertainty) {
    window_ticks_ = 0;  // not long enough to measure the rate yet
    return;
  }
  const U128 measured = (static_cast<U128>(baseline_nanos) << 32) / baseline_ticks;
  if (measured == 0 || (measured >> 64) != 0) {  // not a clock counter
    Restart(ticks, nanos, gap);
    return;
  }
  const auto rate = static_cast<uint64_t>(measured);
  if (rate_ != 0) {
    const uint64_t change = rate > rate_ ? rate - rate_ : rate_ - rate;
    if (change > rate_ / 1'000'000 * kMaxRateChangePpm) {
      // The system clock was stepped, or the counter changed speed: measure again.
      Restart(ticks, nanos, gap);
      return;
    }
  }
  rate_ = rate;
  const U128 window = (static_cast<U128>(kWindowNanos) << 32) / rate;
  window_ticks_ =
      window == 0 ? 1 : ((window >> 64) != 0 ? UINT64_MAX : static_cast<uint64_t>(window));
  // Keeps the anchor 1-2 s old: long enough for a precise rate, recent enough to follow a
  // slewing system clock.
  if (nanos - next_anchor_nanos_ >= kAnchorNanos) {
    anchor_ticks_ = next_anchor_ticks_;
    anchor_nanos_ = next_anchor_nanos_;
    anchor_gap_ = next_anchor_gap_;
    next_anchor_ticks_ = ticks;
    next_anchor_nanos_ = nanos;
    next_anchor_gap_ = gap;
  }
}

}  // namespace internal

namespace {

// Out of line: the tick path of NowUnixNanos() then saves no registers.
[[gnu::noinline]] uint64_t SystemNanos() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

#if VLLORA_HAVE_TSC
// The time-stamp counter may stand in for the system clock only where it ticks at one rate in
// every power state and on every core ("invariant TSC", CPUID 0x80000007 EDX bit 8), and
// unless VLLORA_TSC_CLOCK=0.
bool UseTsc() noexcept {
  if (std::optional<std::string_view> setting = internal::GetEnv("VLLORA_TSC_CLOCK")) {
    if (*setting == "0" || *setting == "false" || *setting == "off") return false;
  }
  if (!internal::CpuidBit(0x80000007U, internal::CpuidRegister::kEdx, 8)) return false;
  return internal::ProcessAllowsTickCounter();
}

// Set during static initialisation (false, the system clock, before that).
const bool g_use_tsc = UseTsc();

// Constant-initialised and trivially destructible: no guard on access.
thread_local internal::TickClock t_clock;
#endif

}  // namespace

namespace internal {
bool ProcessAllowsTickCounter() noexcept {
#if VLLORA_HAVE_TSC
  // A process may forbid RDTSC (prctl PR_SET_TSC, as some sandboxes do): it would fault.
  int tsc_mode = 0;
  return !(prctl(PR_GET_TSC, &tsc_mode, 0, 0, 0) == 0 && tsc_mode != PR_TSC_ENABLE);
#else
  return false;
#endif
}
}  // namespace internal

uint64_t NowUnixNanos() noexcept {
#if VLLORA_HAVE_TSC
  if (g_use_tsc) return t_clock.Now([] { return __rdtsc(); }, [] { return SystemNanos(); });
#endif
  return SystemNanos();
}

bool NowUsesTickCounter() noexcept {
#if VLLORA_HAVE_TSC
  return g_use_tsc;
#else
  return false;
#endif
}

}  // namespace vllora::otel
