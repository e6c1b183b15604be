#include "vllora/otel/sampler.h"

#include <gtest/gtest.h>

namespace vllora::otel {
namespace {

TraceId TraceWithLow(uint64_t low) {
  TraceId id;
  id.bytes[0] = 1;
  for (size_t i = 0; i < 8; ++i) id.bytes[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

SpanContext Parent(bool sampled, bool remote, std::string state = {}) {
  return SpanContext(TraceWithLow(1), SpanId::FromUint64(5), sampled ? 1 : 0, remote,
                     std::move(state));
}

TEST(SamplerTest, AlwaysOnAndOff) {
  auto on = MakeAlwaysOnSampler();
  auto off = MakeAlwaysOffSampler();
  EXPECT_EQ(on->ShouldSample(SpanContext(), TraceWithLow(1), "x", SpanKind::kInternal).decision,
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(off->ShouldSample(SpanContext(), TraceWithLow(1), "x", SpanKind::kInternal).decision,
            SamplingDecision::kDrop);
  EXPECT_EQ(on->Description(), "AlwaysOnSampler");
}

TEST(SamplerTest, RatioBoundaries) {
  auto zero = MakeTraceIdRatioSampler(0.0);
  auto one = MakeTraceIdRatioSampler(1.0);
  for (uint64_t low : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 62, ~uint64_t{0}}) {
    EXPECT_EQ(
        zero->ShouldSample(SpanContext(), TraceWithLow(low), "x", SpanKind::kInternal).decision,
        SamplingDecision::kDrop);
    EXPECT_EQ(
        one->ShouldSample(SpanContext(), TraceWithLow(low), "x", SpanKind::kInternal).decision,
        SamplingDecision::kRecordAndSample);
  }
}

TEST(SamplerTest, RatioHalfIsDeterministicAndRoughlyHalf) {
  auto half = MakeTraceIdRatioSampler(0.5);
  // Lower 63 bits below 2^62 are sampled.
  EXPECT_EQ(
      half->ShouldSample(SpanContext(), TraceWithLow(uint64_t{1} << 62), "x", SpanKind::kInternal)
          .decision,
      SamplingDecision::kDrop);
  EXPECT_EQ(half->ShouldSample(SpanContext(), TraceWithLow((uint64_t{1} << 62) - 1), "x",
                               SpanKind::kInternal)
                .decision,
            SamplingDecision::kRecordAndSample);
  // The top bit is ignored.
  EXPECT_EQ(half->ShouldSample(SpanContext(), TraceWithLow((uint64_t{1} << 63) | 5), "x",
                               SpanKind::kInternal)
                .decision,
            SamplingDecision::kRecordAndSample);
  int sampled = 0;
  auto generator = MakeRandomIdGenerator();
  for (int i = 0; i < 10000; ++i) {
    TraceId id = generator->GenerateTraceId();
    auto first = half->ShouldSample(SpanContext(), id, "x", SpanKind::kInternal).decision;
    auto second = half->ShouldSample(SpanContext(), id, "y", SpanKind::kServer).decision;
    EXPECT_EQ(first, second);
    if (first == SamplingDecision::kRecordAndSample) ++sampled;
  }
  EXPECT_GT(sampled, 4000);
  EXPECT_LT(sampled, 6000);
}

TEST(SamplerTest, ParentBasedFollowsParent) {
  auto sampler = MakeParentBasedSampler(MakeAlwaysOffSampler());
  // Root: delegate (AlwaysOff).
  EXPECT_EQ(
      sampler->ShouldSample(SpanContext(), TraceWithLow(1), "x", SpanKind::kInternal).decision,
      SamplingDecision::kDrop);
  for (bool remote : {false, true}) {
    EXPECT_EQ(sampler->ShouldSample(Parent(true, remote), TraceWithLow(1), "x", SpanKind::kInternal)
                  .decision,
              SamplingDecision::kRecordAndSample);
    EXPECT_EQ(
        sampler->ShouldSample(Parent(false, remote), TraceWithLow(1), "x", SpanKind::kInternal)
            .decision,
        SamplingDecision::kDrop);
  }
  auto result =
      sampler->ShouldSample(Parent(true, true, "a=b"), TraceWithLow(1), "x", SpanKind::kInternal);
  EXPECT_EQ(result.trace_state, "a=b");
  auto on_root = MakeParentBasedSampler(MakeAlwaysOnSampler());
  EXPECT_EQ(
      on_root->ShouldSample(SpanContext(), TraceWithLow(1), "x", SpanKind::kInternal).decision,
      SamplingDecision::kRecordAndSample);
  EXPECT_NE(on_root->Description().find("ParentBased{root:AlwaysOnSampler"), std::string::npos);
}

}  // namespace
}  // namespace vllora::otel
