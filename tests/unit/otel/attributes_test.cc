#include "vllora/otel/attributes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vllora::otel {
namespace {

TEST(AttributesTest, SetFindAllTypes) {
  Attributes attrs;
  EXPECT_TRUE(attrs.empty());
  attrs.Set("b", true);
  attrs.Set("i", int64_t{-5});
  attrs.Set("u", uint64_t{18446744073709551615ULL});
  attrs.Set("d", 2.5);
  attrs.Set("s", "hello");  // const char* must select string_view, not bool
  std::string owned = "owned";
  attrs.Set("o", owned);
  owned = "changed";  // bytes were copied
  EXPECT_EQ(attrs.size(), 6U);
  EXPECT_EQ(std::get<bool>(*attrs.Find("b")), true);
  EXPECT_EQ(std::get<int64_t>(*attrs.Find("i")), -5);
  EXPECT_EQ(std::get<uint64_t>(*attrs.Find("u")), 18446744073709551615ULL);
  EXPECT_DOUBLE_EQ(std::get<double>(*attrs.Find("d")), 2.5);
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("s")), "hello");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("o")), "owned");
  EXPECT_FALSE(attrs.Find("missing").has_value());
}

TEST(AttributesTest, ReplaceKeepsPositionAndChangesType) {
  Attributes attrs;
  attrs.Set("a", "first-long-value");
  attrs.Set("b", int64_t{1});
  attrs.Set("a", "short");
  EXPECT_EQ(attrs.size(), 2U);
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("a")), "short");
  attrs.Set("a", "a value that is longer than anything before it");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("a")),
            "a value that is longer than anything before it");
  attrs.Set("a", int64_t{7});
  EXPECT_EQ(std::get<int64_t>(*attrs.Find("a")), 7);
  EXPECT_EQ(attrs.At(0).key, "a");
  EXPECT_EQ(attrs.At(1).key, "b");
}

TEST(AttributesTest, IterationInInsertionOrderAcrossGrowth) {
  Attributes attrs;
  for (int i = 0; i < 100; ++i) {
    attrs.Set("key." + std::to_string(i), "value-" + std::to_string(i));
  }
  ASSERT_EQ(attrs.size(), 100U);
  int i = 0;
  for (const KeyValueView& kv : attrs) {
    EXPECT_EQ(kv.key, "key." + std::to_string(i));
    EXPECT_EQ(std::get<std::string_view>(kv.value), "value-" + std::to_string(i));
    ++i;
  }
  EXPECT_EQ(i, 100);
}

TEST(AttributesTest, CopyAndMoveAreDeep) {
  Attributes attrs{{"x", int64_t{1}}, {"y", std::string_view("yy")}};
  Attributes copy = attrs;
  attrs.Set("y", "changed");
  EXPECT_EQ(std::get<std::string_view>(*copy.Find("y")), "yy");
  Attributes moved = std::move(copy);
  EXPECT_EQ(moved.size(), 2U);
  EXPECT_EQ(std::get<std::string_view>(*moved.Find("y")), "yy");
}

TEST(AttributesTest, SelfReferencingValueSurvivesGrowth) {
  Attributes attrs;
  attrs.Set("a", "abcdefgh");
  for (int i = 0; i < 20; ++i) {
    std::string_view view = std::get<std::string_view>(*attrs.Find("a"));
    attrs.Set("k" + std::to_string(i), view);  // view into attrs' own arena
  }
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("k19")), "abcdefgh");
}

TEST(AttributesTest, CountLimitDropsNewKeysButAllowsReplace) {
  Attributes attrs;
  attrs.SetLimits(2, 0);
  attrs.Set("a", int64_t{1});
  attrs.Set("b", int64_t{2});
  attrs.Set("c", int64_t{3});
  attrs.Set("d", int64_t{4});
  attrs.Set("a", int64_t{10});
  EXPECT_EQ(attrs.size(), 2U);
  EXPECT_EQ(attrs.dropped_count(), 2U);
  EXPECT_EQ(std::get<int64_t>(*attrs.Find("a")), 10);
  EXPECT_FALSE(attrs.Find("c").has_value());
}

TEST(AttributesTest, ValueLengthLimitTruncatesOnUtf8Boundary) {
  Attributes attrs;
  attrs.SetLimits(0, 4);
  attrs.Set("ascii", "abcdefgh");
  attrs.Set("utf8", "ab\xC3\xA9z");               // "abéz": the cut at 4 falls right after é
  attrs.Set("split", "abc\xC3\xA9");              // cutting at 4 would split é -> "abc"
  attrs.Set("euro", "\xE2\x82\xAC\xE2\x82\xAC");  // two 3-byte chars -> one
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("ascii")), "abcd");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("utf8")), "ab\xC3\xA9");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("split")), "abc");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("euro")), "\xE2\x82\xAC");
  EXPECT_EQ(TruncateUtf8("hello", 10), "hello");
}

TEST(AttributesTest, ReserveAndClear) {
  Attributes attrs;
  attrs.Reserve(16, 1024);
  attrs.Set("a", "x");
  attrs.Clear();
  EXPECT_TRUE(attrs.empty());
  EXPECT_FALSE(attrs.Find("a").has_value());
  attrs.Set("", "empty key");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("")), "empty key");
}

}  // namespace
}  // namespace vllora::otel
