#include "vllora/otel/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace vllora::otel {
namespace {

TEST(TraceIdTest, HexRoundTrip) {
  auto id = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->IsValid());
  EXPECT_EQ(id->bytes[0], 0x4b);
  EXPECT_EQ(id->bytes[15], 0x36);
  EXPECT_EQ(id->ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  // Upper case parses, output is lower case.
  auto upper = TraceId::FromHex("4BF92F3577B34DA6A3CE929D0E0E4736");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*upper, *id);
}

TEST(TraceIdTest, RejectsBadInput) {
  EXPECT_FALSE(TraceId::FromHex("").has_value());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473").has_value());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e47366").has_value());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473g").has_value());
  auto zero = TraceId::FromHex("00000000000000000000000000000000");
  ASSERT_TRUE(zero.has_value());
  EXPECT_FALSE(zero->IsValid());
  EXPECT_FALSE(TraceId{}.IsValid());
}

TEST(SpanIdTest, HexRoundTripAndUint64) {
  auto id = SpanId::FromHex("00f067aa0ba902b7");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToHex(), "00f067aa0ba902b7");
  EXPECT_EQ(id->ToUint64(), 0x00f067aa0ba902b7ULL);
  EXPECT_EQ(SpanId::FromUint64(0x00f067aa0ba902b7ULL), *id);
  EXPECT_FALSE(SpanId::FromHex("00f067aa0ba902b").has_value());
  EXPECT_FALSE(SpanId::FromHex("00f067aa0ba902bz").has_value());
  EXPECT_FALSE(SpanId{}.IsValid());
}

TEST(UuidTest, FormatsBytes) {
  auto id = TraceId::FromHex("123e4567e89b42d3a456426614174000");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(TraceIdToUuid(*id), "123e4567-e89b-42d3-a456-426614174000");
  auto back = TraceIdFromUuid("123e4567-e89b-42d3-a456-426614174000");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *id);
}

TEST(UuidIdGeneratorTest, VersionAndVariantBitsAndUniqueness) {
  auto generator = MakeUuidIdGenerator();
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    TraceId id = generator->GenerateTraceId();
    ASSERT_TRUE(id.IsValid());
    EXPECT_EQ(id.bytes[6] >> 4, 4) << id.ToHex();
    EXPECT_EQ(id.bytes[8] & 0xC0, 0x80) << id.ToHex();
    std::string uuid = TraceIdToUuid(id);
    ASSERT_EQ(uuid.size(), 36U);
    EXPECT_EQ(uuid[14], '4');
    EXPECT_TRUE(uuid[19] == '8' || uuid[19] == '9' || uuid[19] == 'a' || uuid[19] == 'b');
    EXPECT_TRUE(seen.insert(uuid).second);
    EXPECT_TRUE(generator->GenerateSpanId().IsValid());
  }
}

TEST(RandomIdGeneratorTest, UniqueAcrossThreads) {
  auto generator = MakeRandomIdGenerator();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        results[static_cast<size_t>(t)].push_back(generator->GenerateTraceId().ToHex() +
                                                  generator->GenerateSpanId().ToHex());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> trace_ids;
  std::set<std::string> span_ids;
  for (const auto& list : results) {
    for (const auto& s : list) {
      EXPECT_TRUE(trace_ids.insert(s.substr(0, 32)).second);
      EXPECT_TRUE(span_ids.insert(s.substr(32)).second);
      EXPECT_NE(s.substr(32), "0000000000000000");
    }
  }
  EXPECT_EQ(trace_ids.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(IdGeneratorTest, RootIdsAreValidUniqueAndUuidShapedForTheUuidGenerator) {
  for (const bool uuid : {false, true}) {
    auto generator = uuid ? MakeUuidIdGenerator() : MakeRandomIdGenerator();
    std::set<std::string> trace_ids;
    std::set<std::string> span_ids;
    int uuid_shaped = 0;
    for (int i = 0; i < 5000; ++i) {
      TraceId trace_id;
      SpanId span_id;
      generator->GenerateRootIds(trace_id, span_id);
      ASSERT_TRUE(trace_id.IsValid());
      ASSERT_TRUE(span_id.IsValid());
      EXPECT_TRUE(trace_ids.insert(trace_id.ToHex()).second);
      EXPECT_TRUE(span_ids.insert(span_id.ToHex()).second);
      if (trace_id.bytes[6] >> 4 == 4 && (trace_id.bytes[8] & 0xC0) == 0x80) ++uuid_shaped;
    }
    if (uuid) {
      EXPECT_EQ(uuid_shaped, 5000);
    } else {
      EXPECT_LT(uuid_shaped, 5000 / 16);  // random bits: about 1 in 64 by chance
    }
  }
}

TEST(IdGeneratorTest, DefaultRootIdsComeFromTheTwoGenerateCalls) {
  class Counting final : public IdGenerator {
   public:
    TraceId GenerateTraceId() noexcept override {
      TraceId id;
      id.bytes[15] = static_cast<uint8_t>(++traces);
      return id;
    }
    SpanId GenerateSpanId() noexcept override {
      SpanId id;
      id.bytes[7] = static_cast<uint8_t>(++spans);
      return id;
    }
    int traces = 0;
    int spans = 0;
  };
  Counting generator;
  TraceId trace_id;
  SpanId span_id;
  generator.GenerateRootIds(trace_id, span_id);
  EXPECT_EQ(trace_id.ToHex(), "00000000000000000000000000000001");
  EXPECT_EQ(span_id.ToHex(), "0000000000000001");
  EXPECT_EQ(generator.traces, 1);
  EXPECT_EQ(generator.spans, 1);
}

}  // namespace
}  // namespace vllora::otel
