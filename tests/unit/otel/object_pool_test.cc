#include "vllora/otel/internal/object_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "vllora/otel/attributes.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {
namespace {

// Each test uses its own block size, so pools (process-wide) do not share state across tests.
template <size_t kSize>
using Pool = internal::FixedSizePool<kSize>;

TEST(ObjectPoolTest, FreedBlockIsReusedOnTheSameThread) {
  void* a = Pool<48>::Allocate();
  std::memset(a, 0xAB, 48);  // the whole block is usable
  Pool<48>::Free(a);
  EXPECT_EQ(Pool<48>::Allocate(), a);
  Pool<48>::Free(a);
}

TEST(ObjectPoolTest, FreeOfNullIsANoOp) { Pool<56>::Free(nullptr); }

TEST(ObjectPoolTest, BlocksFreedOnAnotherThreadReachTheAllocatingThread) {
  constexpr size_t kCount = 4 * Pool<72>::kBatch;
  std::vector<void*> blocks;
  for (size_t i = 0; i < kCount; ++i) blocks.push_back(Pool<72>::Allocate());
  std::set<void*> distinct(blocks.begin(), blocks.end());
  EXPECT_EQ(distinct.size(), kCount);
  // The export thread frees: whole batches spill to the depot.
  std::thread([&] {
    for (void* p : blocks) Pool<72>::Free(p);
  }).join();
  // The thread's cache was returned when it exited; this thread gets the blocks back.
  size_t reused = 0;
  std::vector<void*> again;
  for (size_t i = 0; i < kCount; ++i) {
    again.push_back(Pool<72>::Allocate());
    reused += distinct.count(again.back());
  }
  EXPECT_EQ(reused, kCount);
  for (void* p : again) Pool<72>::Free(p);
}

// A thread's cache cuts batches without walking its list: a `head` list below kBatch blocks and
// one full batch. Freeing 3 batches and 5 blocks on one thread, then allocating as many: every
// block comes back exactly once (5 from the head, the full batch, then the two spilled ones
// from the depot), none is handed out twice, and the cycle repeats with the same blocks.
TEST(ObjectPoolTest, SameThreadFreesAndAllocatesAcrossBatchBoundaries) {
  constexpr size_t kCount = 3 * Pool<88>::kBatch + 5;
  std::vector<void*> blocks;
  for (size_t i = 0; i < kCount; ++i) blocks.push_back(Pool<88>::Allocate());
  const std::set<void*> distinct(blocks.begin(), blocks.end());
  ASSERT_EQ(distinct.size(), kCount);
  for (int round = 0; round < 3; ++round) {
    for (void* p : blocks) Pool<88>::Free(p);
    std::set<void*> again;
    for (size_t i = 0; i < kCount; ++i) {
      void* p = Pool<88>::Allocate();
      std::memset(p, 0x5A, 88);  // overwrites the links of a block still listed, if any
      EXPECT_TRUE(again.insert(p).second) << "handed out twice, round " << round;
    }
    EXPECT_EQ(again, distinct) << "round " << round;
    blocks.assign(again.begin(), again.end());
  }
  for (void* p : blocks) Pool<88>::Free(p);
}

TEST(ObjectPoolTest, ConcurrentProducersAndConsumer) {
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([] {
      std::vector<void*> held;
      for (int i = 0; i < kPerThread; ++i) {
        auto* p = static_cast<int*>(Pool<80>::Allocate());
        *p = i;
        held.push_back(p);
        if (held.size() == 100) {
          // Hand over to another thread, as spans go to the export thread.
          std::thread([batch = std::move(held)] {
            for (void* q : batch) Pool<80>::Free(q);
          }).join();
          held.clear();
        }
      }
      for (void* p : held) Pool<80>::Free(p);
    });
  }
  for (auto& t : threads) t.join();
}

TEST(ObjectPoolTest, SpanDataAndAttributesRecycleTransparently) {
  for (int round = 0; round < 3; ++round) {
    auto data = std::make_unique<SpanData>();
    data->name = "chat_completion";
    data->attributes.Reserve(8, 200);
    data->attributes.Set("llm.model", "openai/gpt-4o-mini01");
    data->attributes.Set("llm.tokens", int64_t{round});
    auto copy = std::make_unique<SpanData>(*data);
    std::thread([d = std::move(data)]() mutable { d.reset(); }).join();
    ASSERT_EQ(copy->attributes.size(), 2u);
    EXPECT_EQ(copy->attributes.Find("llm.tokens"), AttributeValue(int64_t{round}));
  }
}

TEST(ObjectPoolTest, AttributesGrowFromPooledToHeapBlock) {
  Attributes attributes;
  std::string big(2000, 'x');
  attributes.Set("small", "v");
  attributes.Set("big", std::string_view(big));
  for (int i = 0; i < 40; ++i) attributes.Set("k" + std::to_string(i), int64_t{i});
  EXPECT_EQ(attributes.Find("big"), AttributeValue(std::string_view(big)));
  EXPECT_EQ(attributes.Find("small"), AttributeValue(std::string_view("v")));
  EXPECT_EQ(attributes.size(), 42u);
  Attributes moved = std::move(attributes);
  Attributes copied = moved;
  copied = moved;
  EXPECT_EQ(copied.Find("k39"), AttributeValue(int64_t{39}));
}

}  // namespace
}  // namespace vllora::otel
