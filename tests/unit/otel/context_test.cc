#include "vllora/otel/context.h"

#include <gtest/gtest.h>

#include <thread>

namespace vllora::otel {
namespace {

SpanContext MakeSpanContext(uint8_t last_byte) {
  TraceId trace;
  trace.bytes[15] = last_byte;
  SpanId span;
  span.bytes[7] = last_byte;
  return SpanContext(trace, span, 1, false);
}

TEST(BaggageTest, SetGetReplaceRemoveIsImmutable) {
  Baggage empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.Get("a").has_value());
  Baggage one = empty.Set("a", "1");
  Baggage two = one.Set("b", "2").Set("a", "3");
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(one.size(), 1U);
  EXPECT_EQ(*one.Get("a"), "1");
  EXPECT_EQ(two.size(), 2U);
  EXPECT_EQ(*two.Get("a"), "3");
  EXPECT_EQ(*two.Get("b"), "2");
  std::vector<std::string> keys;
  for (const auto& [key, value] : two) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  Baggage removed = two.Remove("a");
  EXPECT_FALSE(removed.Get("a").has_value());
  EXPECT_EQ(removed.size(), 1U);
  EXPECT_EQ(two.size(), 2U);
}

TEST(ContextTest, EmptyByDefault) {
  Context context;
  EXPECT_TRUE(context.IsEmpty());
  EXPECT_FALSE(context.span_context().IsValid());
  EXPECT_TRUE(context.baggage().empty());
  EXPECT_TRUE(Context::Current().IsEmpty());
}

TEST(ContextTest, WithKeepsOtherParts) {
  Context with_baggage = Context().WithBaggage({{"user", "alice"}, {"tenant", "t1"}});
  Context with_both = with_baggage.WithSpanContext(MakeSpanContext(1));
  EXPECT_EQ(*with_both.baggage().Get("user"), "alice");
  EXPECT_EQ(with_both.span_context(), MakeSpanContext(1));
  Context more = with_both.WithBaggage({{"user", "bob"}});
  EXPECT_EQ(*more.baggage().Get("user"), "bob");
  EXPECT_EQ(*more.baggage().Get("tenant"), "t1");
  EXPECT_EQ(more.span_context(), MakeSpanContext(1));
  EXPECT_EQ(*with_both.baggage().Get("user"), "alice");
}

TEST(ContextTest, AttachNestingRestores) {
  Context a = Context().WithSpanContext(MakeSpanContext(1));
  Context b = Context().WithSpanContext(MakeSpanContext(2));
  {
    Context::Token ta = a.Attach();
    EXPECT_EQ(Context::Current(), a);
    {
      Context::Token tb = b.Attach();
      EXPECT_EQ(Context::Current().span_context(), MakeSpanContext(2));
    }
    EXPECT_EQ(Context::Current(), a);
  }
  EXPECT_TRUE(Context::Current().IsEmpty());
}

TEST(ContextTest, TokenMoveRestoresOnce) {
  Context a = Context().WithSpanContext(MakeSpanContext(1));
  {
    std::optional<Context::Token> outer;
    {
      Context::Token token = a.Attach();
      outer.emplace(std::move(token));
    }  // moved-from token must not restore
    EXPECT_EQ(Context::Current(), a);
  }
  EXPECT_TRUE(Context::Current().IsEmpty());
}

TEST(ContextTest, OutOfOrderTokenStillRestoresSavedContext) {
  Context a = Context().WithSpanContext(MakeSpanContext(1));
  Context b = Context().WithSpanContext(MakeSpanContext(2));
  auto ta = std::make_unique<Context::Token>(a.Attach());
  auto tb = std::make_unique<Context::Token>(b.Attach());
  ta.reset();  // restores what was current before a: empty
  EXPECT_TRUE(Context::Current().IsEmpty());
  tb.reset();  // restores a
  EXPECT_EQ(Context::Current(), a);
  Context::Swap(Context());
}

TEST(ContextTest, SwapReturnsPrevious) {
  Context a = Context().WithSpanContext(MakeSpanContext(1));
  Context previous = Context::Swap(a);
  EXPECT_TRUE(previous.IsEmpty());
  EXPECT_EQ(Context::Current(), a);
  Context back = Context::Swap(previous);
  EXPECT_EQ(back, a);
  EXPECT_TRUE(Context::Current().IsEmpty());
}

TEST(ContextTest, WrapRunsOnAnotherThreadWithContext) {
  Context a = Context().WithSpanContext(MakeSpanContext(7)).WithBaggage({{"k", "v"}});
  SpanContext seen_inside;
  std::string baggage_inside;
  bool empty_after = false;
  auto wrapped = a.Wrap([&](int x) {
    seen_inside = Context::Current().span_context();
    baggage_inside = std::string(*Context::Current().baggage().Get("k"));
    return x * 2;
  });
  int result = 0;
  std::thread thread([&] {
    result = wrapped(21);
    empty_after = Context::Current().IsEmpty();
  });
  thread.join();
  EXPECT_EQ(result, 42);
  EXPECT_EQ(seen_inside, MakeSpanContext(7));
  EXPECT_EQ(baggage_inside, "v");
  EXPECT_TRUE(empty_after);
  EXPECT_TRUE(Context::Current().IsEmpty());
}

TEST(ContextTest, ThreadsHaveIndependentCurrent) {
  Context a = Context().WithSpanContext(MakeSpanContext(1));
  Context::Token token = a.Attach();
  bool other_empty = false;
  std::thread([&] { other_empty = Context::Current().IsEmpty(); }).join();
  EXPECT_TRUE(other_empty);
}

}  // namespace
}  // namespace vllora::otel
