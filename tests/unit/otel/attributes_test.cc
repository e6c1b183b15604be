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

TEST(AttributesTest, ValueLengthLimitTruncatesOnUtf8BoundaryWithMarker) {
  Attributes attrs;
  attrs.SetLimits(0, 6);  // 3 bytes of content + "…" (3 bytes)
  attrs.Set("ascii", "abcdefgh");
  attrs.Set("fits", "abcdef");                                // exactly the limit: unchanged
  attrs.Set("utf8", "a\xC3\xA9zzzz");                         // "aé" is 3 bytes: kept whole
  attrs.Set("split", "ab\xC3\xA9zzz");                        // cutting at 3 would split é -> "ab"
  attrs.Set("euro", "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC");  // three 3-byte chars -> one
  attrs.Set("int", int64_t{123456789});                       // only strings are limited
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("ascii")), "abc\xE2\x80\xA6");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("fits")), "abcdef");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("utf8")), "a\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("split")), "ab\xE2\x80\xA6");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("euro")), "\xE2\x82\xAC\xE2\x80\xA6");
  EXPECT_EQ(std::get<int64_t>(*attrs.Find("int")), 123456789);
  EXPECT_EQ(attrs.dropped_count(), 0U);
  EXPECT_EQ(TruncateUtf8("hello", 10), "hello");
  EXPECT_EQ(TruncateUtf8("abc\xC3\xA9", 4), "abc");
}

TEST(AttributesTest, TinyValueLengthLimitHasNoRoomForTheMarker) {
  Attributes attrs;
  attrs.SetLimits(0, 3);
  attrs.Set("a", "abcdef");
  attrs.Set("b", "a\xC3\xA9z");  // "aé" = 3 bytes
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("a")), "abc");
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("b")), "a\xC3\xA9");
  EXPECT_EQ(TruncateWithMarker("abcdef", 3), "abc");
  EXPECT_EQ(TruncateWithMarker("abcdef", 4), "a\xE2\x80\xA6");
  EXPECT_EQ(TruncateWithMarker("abcd", 4), "abcd");
}

TEST(AttributesTest, HugeValueIsCutToTheLimit) {
  Attributes attrs;
  attrs.SetLimits(0, 1024);
  const std::string huge(8 << 20, 'x');  // 8 MiB
  attrs.Set("huge", huge);
  const auto value = std::get<std::string_view>(*attrs.Find("huge"));
  EXPECT_EQ(value.size(), 1024U);
  EXPECT_EQ(value, std::string(1021, 'x') + "\xE2\x80\xA6");
  // Replacing it with another huge value keeps the bound.
  attrs.Set("huge", std::string(1 << 20, 'y'));
  EXPECT_EQ(std::get<std::string_view>(*attrs.Find("huge")),
            std::string(1021, 'y') + "\xE2\x80\xA6");
}

TEST(AttributesTest, SetAllTellsKeysOfOneLengthApartByEveryByte) {
  // 8-16 byte keys are compared as two overlapping words: a difference at any byte counts.
  const std::string base = "request.id.xy";  // 13 bytes
  for (size_t pos = 0; pos < base.size(); ++pos) {
    std::string other = base;
    other[pos] = '#';
    const KeyValueView kvs[] = {{base, int64_t{1}}, {other, int64_t{2}}, {base, int64_t{3}}};
    Attributes attrs;
    attrs.SetAll(kvs, 0, 0);
    ASSERT_EQ(attrs.size(), 2U) << "difference at byte " << pos;
    EXPECT_EQ(attrs.Find(base), AttributeValue(int64_t{3}));
    EXPECT_EQ(attrs.Find(other), AttributeValue(int64_t{2}));
  }
}

TEST(AttributesTest, SetAllEqualsSetOneByOne) {
  const KeyValueView kvs[] = {{"a", std::string_view("x")},
                              {"b", int64_t{2}},
                              {"a", std::string_view("yy")},  // duplicate: replaces in place
                              {"c", 1.5},
                              {"d", true},
                              {"e", uint64_t{7}}};
  Attributes bulk;
  bulk.SetAll(kvs, 4, 64);
  Attributes single;
  for (const auto& kv : kvs) single.Set(kv.key, kv.value);
  ASSERT_EQ(bulk.size(), 5U);
  ASSERT_EQ(single.size(), 5U);
  for (size_t i = 0; i < bulk.size(); ++i) {
    EXPECT_EQ(bulk.At(i).key, single.At(i).key);
    EXPECT_EQ(bulk.At(i).value, single.At(i).value);
  }
  EXPECT_EQ(std::get<std::string_view>(*bulk.Find("a")), "yy");

  // Fast path (fresh list, distinct keys): the same entries in the same order.
  const KeyValueView distinct[] = {{"k1", std::string_view("v1")},
                                   {"k2", int64_t{-3}},
                                   {"k3", 2.25},
                                   {"", std::string_view("")}};
  Attributes fresh;
  fresh.SetAll(distinct, 4, 192);
  ASSERT_EQ(fresh.size(), 4U);
  EXPECT_EQ(fresh.At(0).key, "k1");
  EXPECT_EQ(std::get<std::string_view>(fresh.At(0).value), "v1");
  EXPECT_EQ(std::get<int64_t>(fresh.At(1).value), -3);
  EXPECT_EQ(std::get<double>(fresh.At(2).value), 2.25);
  EXPECT_EQ(fresh.At(3).key, "");
  fresh.Set("k4", std::string_view("later"));  // the spare room is usable
  EXPECT_EQ(std::get<std::string_view>(*fresh.Find("k4")), "later");

  // Limits still apply on the bulk path.
  Attributes limited;
  limited.SetLimits(2, 4);
  const KeyValueView three[] = {
      {"a", std::string_view("abcdefgh")}, {"b", int64_t{1}}, {"c", int64_t{2}}};
  limited.SetAll(three);
  EXPECT_EQ(limited.size(), 2U);
  EXPECT_EQ(limited.dropped_count(), 1U);
  EXPECT_EQ(std::get<std::string_view>(*limited.Find("a")), "a\xE2\x80\xA6");
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
