#include "vllora/subscriber/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "support/recording_layer.h"
#include "vllora/core/core.h"
#include "vllora/subscriber/filter.h"

namespace vllora {
namespace {

using ::testing::ElementsAre;
using testing::RecordingLayer;

struct Shared {
  int value = 0;
};

TEST(RegistryTest, LayersAreFilteredIndependently) {
  auto vllora_layer = std::make_shared<RecordingLayer>();
  auto app_layer = std::make_shared<RecordingLayer>();
  auto logs = std::make_shared<RecordingLayer>();
  auto registry = Registry::Create();
  registry
      ->With(vllora_layer,
             std::make_shared<TargetFilter>("vllora::user_tracing", LevelFilter::kInfo))
      .With(app_layer, std::make_shared<TargetFilter>("app::runtime", LevelFilter::kInfo))
      .With(logs, std::make_shared<LevelOnlyFilter>(LevelFilter::kWarn));  // quiet logs
  SetGlobalSubscriber(registry);
  {
    Span execution = VLLORA_INFO_SPAN("app::runtime::execution", "execution");
    auto e = execution.Enter();
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    auto r = run.Enter();
    Span debug = VLLORA_DEBUG_SPAN("vllora::user_tracing::run", "debug_only");
    EXPECT_TRUE(debug.IsDisabled());
    VLLORA_EVENT(Level::kInfo, "vllora::user_tracing::run", "info event");
    VLLORA_EVENT(Level::kError, "other", "error event");
    EXPECT_EQ(registry->LiveSpans(), 2u);
  }
  EXPECT_EQ(registry->LiveSpans(), 0u);
  // The quiet log layer did not hide the INFO spans from the OTel-like layers.
  EXPECT_THAT(vllora_layer->Take(),
              ElementsAre("new run{} parent=execution", "enter run",
                          "event INFO vllora::user_tracing::run 'info event'{} in=run", "exit run",
                          "close run"));
  EXPECT_THAT(app_layer->Take(), ElementsAre("new execution{} parent=-", "enter execution",
                                             "exit execution", "close execution"));
  EXPECT_THAT(logs->Take(), ElementsAre("event ERROR other 'error event'{} in=run"));
}

// A recording layer that declares it does not observe enter/exit: the registry must not call
// those hooks on it (they would record), while a layer that does observe them still sees them.
class NoEnterExitLayer final : public RecordingLayer {
 public:
  bool ObservesEnterExit() const noexcept override { return false; }
};

TEST(RegistryTest, EnterAndExitReachOnlyTheLayersThatObserveThem) {
  auto quiet = std::make_shared<NoEnterExitLayer>();
  auto observer = std::make_shared<RecordingLayer>();
  auto registry = Registry::Create();
  registry->With(quiet).With(observer);
  SetGlobalSubscriber(registry);
  {
    Span span = VLLORA_INFO_SPAN("app::runtime", "work");
    auto entered = span.Enter();
  }
  EXPECT_THAT(quiet->Take(), ElementsAre("new work{} parent=-", "close work"));
  EXPECT_THAT(observer->Take(),
              ElementsAre("new work{} parent=-", "enter work", "exit work", "close work"));
  SetGlobalSubscriber(nullptr);
}

TEST(RegistryTest, LiveSpansAndIdsStayRightAcrossThreads) {
  auto layer = std::make_shared<RecordingLayer>();
  auto registry = Registry::Create();
  registry->With(layer);
  SetGlobalSubscriber(registry);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1500;  // more than one block of ids per thread
  std::vector<std::vector<Span>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) {
        made[static_cast<size_t>(t)].push_back(VLLORA_INFO_SPAN("app", "s"));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry->LiveSpans(), static_cast<uint64_t>(kThreads * kPerThread));
  std::set<uint64_t> ids;
  for (const auto& list : made) {
    for (const Span& span : list) ids.insert(SpanRef::FromSpan(span).id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(ids.count(0), 0u);
  // Closed on other threads than the ones that opened them (and on this one).
  std::thread closer([&made] {
    made[0].clear();
    made[1].clear();
  });
  closer.join();
  EXPECT_EQ(registry->LiveSpans(), static_cast<uint64_t>(2 * kPerThread));
  made[2].clear();
  made[3].clear();
  EXPECT_EQ(registry->LiveSpans(), 0u);
  SetGlobalSubscriber(nullptr);
}

class ExtensionLayer : public Layer {
 public:
  explicit ExtensionLayer(int add) : add_(add) {}
  void OnNewSpan(SpanRef span, FieldSpan) noexcept override {
    Shared* shared = span.Get<Shared>();
    if (shared == nullptr) shared = span.Set(new Shared());
    shared->value += add_;
    // The nearest ancestor's extension is visible to every layer.
    for (SpanRef p = span.parent(); p; p = p.parent()) {
      if (auto* s = p.Get<Shared>()) {
        parent_values.push_back(s->value);
        break;
      }
    }
  }
  void OnClose(SpanRef span) noexcept override {
    closed_values.push_back(span.Get<Shared>()->value);
  }
  std::vector<int> parent_values;
  std::vector<int> closed_values;

 private:
  int add_;
};

TEST(RegistryTest, ExtensionsAreSharedBetweenLayers) {
  auto a = std::make_shared<ExtensionLayer>(1);
  auto b = std::make_shared<ExtensionLayer>(10);
  auto registry = Registry::Create();
  registry->With(a, std::make_shared<TargetFilter>("x", LevelFilter::kTrace))
      .With(b, std::make_shared<TargetFilter>("x::y", LevelFilter::kTrace));
  SetGlobalSubscriber(registry);
  EXPECT_EQ(registry->IndexOf(b.get()), 1);
  {
    Span outer = VLLORA_INFO_SPAN("x::y", "outer");  // both layers: 1 + 10
    auto entered = outer.Enter();
    Span inner = VLLORA_INFO_SPAN("x", "inner");  // only a
    EXPECT_TRUE(SpanRef(static_cast<internal::SpanRecord*>(nullptr)).operator bool() == false);
  }
  EXPECT_THAT(a->parent_values, ElementsAre(11));
  EXPECT_THAT(b->parent_values, ElementsAre());
  EXPECT_THAT(a->closed_values, ElementsAre(1, 11));
  EXPECT_THAT(b->closed_values, ElementsAre(11));
}

// Ten extension types on one span, two more than the registry has slots for (a process has
// kMaxExtensions slots; this test's process may have used one or two for other types first).
template <int I>
struct Numbered {
  explicit Numbered(int v) noexcept : value(v) {}
  int value;
};

template <int I>
int ValueOf(const Numbered<I>* extension) {
  return extension != nullptr ? extension->value : -1;
}

class TenExtensionsLayer : public Layer {
 public:
  void OnNewSpan(SpanRef span, FieldSpan) noexcept override {
    [&]<int... I>(std::integer_sequence<int, I...>) {
      ((emplaced[I] = span.Emplace<Numbered<I>>(100 + I) != nullptr), ...);
      ((read[I] = ValueOf(span.Get<Numbered<I>>())), ...);
      ((slots[I] = internal::ExtensionSlot<Numbered<I>>()), ...);
    }
    (std::make_integer_sequence<int, 10>());
  }
  std::array<bool, 10> emplaced{};
  std::array<int, 10> read{};
  std::array<int, 10> slots{};
};

TEST(RegistryTest, ExtensionTypesBeyondTheSlotsGetNoneAndTheOthersKeepTheirOwn) {
  auto layer = std::make_shared<TenExtensionsLayer>();
  auto registry = Registry::Create();
  registry->With(layer, std::make_shared<TargetFilter>("x", LevelFilter::kTrace));
  SetGlobalSubscriber(registry);
  for (int round = 0; round < 2; ++round) {  // the second round takes the assigned slots
    Span span = VLLORA_INFO_SPAN("x", "ten");
    ASSERT_TRUE(span);
    // Slots go in order of first use: the first types get one, the last two at least do not.
    int with_slot = 0;
    while (with_slot < 10 && layer->emplaced[static_cast<size_t>(with_slot)]) ++with_slot;
    EXPECT_GE(with_slot, internal::kMaxExtensions - 2);
    EXPECT_LE(with_slot, internal::kMaxExtensions);
    std::set<int> distinct;
    for (size_t i = 0; i < 10; ++i) {
      if (static_cast<int>(i) < with_slot) {
        EXPECT_TRUE(layer->emplaced[i]) << i;
        EXPECT_EQ(layer->read[i], 100 + static_cast<int>(i)) << i;
        EXPECT_GE(layer->slots[i], 0) << i;
        EXPECT_LT(layer->slots[i], internal::kMaxExtensions) << i;
        distinct.insert(layer->slots[i]);
      } else {
        EXPECT_FALSE(layer->emplaced[i]) << i;
        EXPECT_EQ(layer->read[i], -1) << i;
        EXPECT_EQ(layer->slots[i], -1) << i;
      }
    }
    EXPECT_EQ(distinct.size(), static_cast<size_t>(with_slot));
  }
  SetGlobalSubscriber(nullptr);
}

// Threads asking for a new type's slot at once all get the same index.
template <int I>
struct Raced {};

TEST(RegistryTest, ThreadsAskingForANewExtensionTypeAtOnceAgreeOnItsSlot) {
  constexpr int kThreads = 8;
  std::array<int, kThreads> seen{};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      seen[static_cast<size_t>(t)] = internal::ExtensionSlot<Raced<0>>();
    });
  }
  for (auto& thread : threads) thread.join();
  for (int slot : seen) EXPECT_EQ(slot, seen[0]);
  EXPECT_EQ(internal::ExtensionSlot<Raced<0>>(), seen[0]);
}

}  // namespace
}  // namespace vllora
