#include "vllora/otel/clock.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "vllora/otel/internal/tick_clock.h"
#include "vllora/otel/otel.h"

namespace vllora::otel {
namespace {

using internal::ProcessAllowsTickCounter;
using internal::TickClock;

// A made-up machine: a counter at `ticks_per_us` ticks per microsecond, a system clock that is
// `offset` plus the counter's time scaled by `speed`, and a count of system-clock reads.
struct FakeMachine {
  uint64_t ticks = 1'000'000;
  uint64_t ticks_per_us = 2'000;  // 2 GHz
  double speed = 1.0;
  int64_t offset = 1'700'000'000'000'000'000;
  uint64_t read_gap = 80;  // ticks the system-clock read takes
  int system_reads = 0;
  uint64_t last_system = 0;  // what the last system-clock read returned

  uint64_t TrueNanos(uint64_t at) const {
    return static_cast<uint64_t>(offset +
                                 static_cast<int64_t>(static_cast<double>(at) * 1000.0 /
                                                      static_cast<double>(ticks_per_us) * speed));
  }
  // The clock's reading now; the read itself takes `read_gap` ticks (system time halfway).
  uint64_t Read(TickClock& clock) {
    return clock.Now([this] { return ticks; },
                     [this] {
                       ++system_reads;
                       const uint64_t at = ticks + read_gap / 2;
                       ticks += read_gap;
                       last_system = TrueNanos(at);
                       return last_system;
                     });
  }
  void Advance(uint64_t nanos) { ticks += nanos * ticks_per_us / 1000; }
  // True when the next reading reads the system clock exactly once and is what it returned.
  bool ReadsTheSystemClock(TickClock& clock) {
    const int before = system_reads;
    const uint64_t now = Read(clock);
    return system_reads == before + 1 && now == last_system;
  }
  // Calibrates `clock` (20 ms of readings 100 us apart), then reads once more after a window,
  // so that the next readings extrapolate from a base pair read just now.
  void Calibrate(TickClock& clock) {
    for (int i = 0; i < 200; ++i) {
      Read(clock);
      Advance(100'000);
    }
    Advance(2 * TickClock::kWindowNanos);
    Read(clock);
  }
};

TEST(TickClockTest, ReadsTheSystemClockUntilTheRateIsMeasured) {
  TickClock clock;
  FakeMachine m;
  for (int i = 0; i < 90; ++i) {  // 9 ms: shorter than the calibration baseline
    const uint64_t now = m.Read(clock);
    EXPECT_EQ(now, m.last_system);
    EXPECT_FALSE(clock.calibrated());
    m.Advance(100'000);
  }
  EXPECT_EQ(m.system_reads, 90);
}

// A clock calibrated on a FakeMachine, whose next readings extrapolate from a fresh base pair.
class CalibratedTickClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m.Calibrate(clock);
    ASSERT_TRUE(clock.calibrated());
  }
  TickClock clock;
  FakeMachine m;
};

TEST_F(CalibratedTickClockTest, ExtrapolatesBetweenSystemClockReadsOnceCalibrated) {
  // 0.5 ns per tick in 32.32 fixed point, to 100 ppm.
  EXPECT_NEAR(static_cast<double>(clock.rate()), 0.5 * 4294967296.0, 0.5 * 4294967296.0 * 1e-4);
  // 1500 readings 1 us apart: one system-clock read per millisecond, every reading within 2 ns
  // of the time it was taken (a system-clock read returns the time halfway through itself).
  const int reads_before = m.system_reads;
  for (int i = 0; i < 1500; ++i) {
    const uint64_t expected = m.TrueNanos(m.ticks);
    const int reads = m.system_reads;
    const uint64_t now = m.Read(clock);
    const uint64_t slack = m.system_reads != reads ? 2 + m.read_gap / 4 : 2;
    EXPECT_LE(now > expected ? now - expected : expected - now, slack) << "reading " << i;
    m.Advance(1'000);
  }
  EXPECT_EQ(m.system_reads - reads_before, 1);
}

TEST_F(CalibratedTickClockTest, FollowsASteppedSystemClockWithinAWindow) {
  m.offset += 3'600'000'000'000;  // the system clock is set one hour ahead
  // Within one window the reading still extrapolates from the old base...
  m.Advance(1'000);
  const uint64_t stale = m.Read(clock);
  EXPECT_LT(stale, m.TrueNanos(m.ticks) - 3'000'000'000'000);
  // ...and from the next system-clock read on it is the new time, the calibration restarted.
  m.Advance(TickClock::kWindowNanos);
  const uint64_t stepped = m.Read(clock);
  EXPECT_EQ(stepped, m.last_system);
  EXPECT_GT(stepped, m.TrueNanos(m.ticks) - 1'000);
  EXPECT_FALSE(clock.calibrated());
  m.Advance(10'000);
  EXPECT_TRUE(m.ReadsTheSystemClock(clock));
}

TEST_F(CalibratedTickClockTest, FollowsASlewingSystemClock) {
  // The system clock now runs 500 ppm slow (the fastest NTP slew): a new base every window
  // keeps every reading within 0.5 us of it, and after 2 s the rate has followed.
  const uint64_t base_ticks = m.ticks;
  const int64_t base_nanos = static_cast<int64_t>(m.TrueNanos(base_ticks));
  m.speed = 1.0;
  uint64_t worst = 0;
  for (int i = 0; i < 30'000; ++i) {  // 3 s, one reading every 100 us
    const auto tick_nanos = static_cast<int64_t>((m.ticks - base_ticks) / 2);
    const int64_t expected = base_nanos + tick_nanos - tick_nanos / 2000;
    m.offset = expected - static_cast<int64_t>(static_cast<double>(m.ticks) / 2.0);
    const auto now = static_cast<int64_t>(m.Read(clock));
    const uint64_t error = static_cast<uint64_t>(now > expected ? now - expected : expected - now);
    if (error > worst) worst = error;
    m.Advance(100'000);
  }
  EXPECT_LE(worst, 500U);
  EXPECT_TRUE(clock.calibrated());
  EXPECT_NEAR(static_cast<double>(clock.rate()), 0.5 * 0.9995 * 4294967296.0,
              0.5 * 4294967296.0 * 2e-5);
}

TEST_F(CalibratedTickClockTest, ACounterThatRunsBackwardsOrJumpsReadsTheSystemClock) {
  // A counter behind the base pair's (another core's, 10 us behind): the system clock is read.
  m.ticks -= 20'000;
  m.offset += 10'000;  // the system clock keeps its time: the counter moved, not time
  EXPECT_TRUE(m.ReadsTheSystemClock(clock));
  // A jump of an hour (a VM restored from a snapshot): read at once.
  m.Advance(3'600'000'000'000);
  EXPECT_TRUE(m.ReadsTheSystemClock(clock));
}

TEST_F(CalibratedTickClockTest, APairReadAcrossAPreemptionIsNotUsed) {
  m.Advance(2'000'000);  // past the window
  m.read_gap = TickClock::kMaxReadTicks + 1;
  EXPECT_TRUE(m.ReadsTheSystemClock(clock));
  EXPECT_FALSE(clock.calibrated());  // the next call reads the system clock again
  m.read_gap = 80;
  m.Advance(1'000);
  EXPECT_TRUE(m.ReadsTheSystemClock(clock));
  EXPECT_TRUE(clock.calibrated());  // a good pair: the measured rate is in use again
  const int reads = m.system_reads;
  m.Advance(1'000);
  m.Read(clock);
  EXPECT_EQ(m.system_reads, reads);
}

uint64_t SystemNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

TEST(ClockTest, NowUnixNanosStaysWithTheSystemClockOnEveryThread) {
  // Readings between two system-clock reads, on several threads for 50 ms each: within 50 us
  // of that interval (the extrapolation's error is nanoseconds; 50 us leaves room for a
  // preempted thread between its three reads, which is reported as the largest excursion).
  auto check = [] {
    uint64_t worst = 0;
    const uint64_t end = SystemNow() + 50'000'000;
    for (uint64_t before = SystemNow(); before < end; before = SystemNow()) {
      const uint64_t now = NowUnixNanos();
      const uint64_t after = SystemNow();
      const uint64_t error = now < before ? before - now : (now > after ? now - after : 0);
      if (error > worst) worst = error;
    }
    return worst;
  };
  std::vector<uint64_t> worst(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < worst.size(); ++i) threads.emplace_back([&, i] { worst[i] = check(); });
  for (auto& t : threads) t.join();
  for (uint64_t w : worst) EXPECT_LT(w, 50'000U) << "uses tick counter: " << NowUsesTickCounter();
}

// RDTSC would fault in a process that forbids it (prctl PR_SET_TSC): the clock reads the system
// clock in such a process (it asks at static initialisation). A child forbids it and asks.
// (Not by exec'ing a child that forbids it before start-up: glibc's own dynamic loader reads
// the counter before main, and faults.)
TEST(ClockTest, AProcessThatForbidsTheTimeStampCounterDoesNotUseIt) {
  if (!ProcessAllowsTickCounter()) GTEST_SKIP() << "this test process already forbids RDTSC";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0) _exit(2);
    _exit(ProcessAllowsTickCounter() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the child was told it may read the counter";
}

TEST(ClockTest, ASpanEndedByTheClockNeverEndsBeforeItStarted) {
  auto exporter = std::make_unique<InMemorySpanExporter>();
  auto storage = exporter->storage();
  auto provider = TracerProvider::builder().WithSimpleExporter(std::move(exporter)).Build();
  auto tracer = provider->GetTracer("clock");
  const uint64_t later = NowUnixNanos() + 3'600'000'000'000ULL;  // an hour from now
  auto span = tracer->StartSpan("from the future", {.start_time_unix_nano = later});
  span->End();
  auto spans = storage->Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->start_time_unix_nano, later);
  EXPECT_EQ(spans[0]->end_time_unix_nano, later);
}

}  // namespace
}  // namespace vllora::otel
