#include "vllora/otel/clock.h"

#include <ctime>

namespace vllora::otel {

uint64_t NowUnixNanos() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace vllora::otel
