#include "vllora/otel/attributes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/attribute_strings.h"

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
    // The one-pass path into an inline block tells them apart too (equal first and last
    // bytes and length give equal digests, so the bytes are compared).
    const KeyValueView distinct[] = {{base, int64_t{1}}, {other, int64_t{2}}};
    InlineAttributes<384> inline_attrs;
    inline_attrs.SetAll(distinct);
    ASSERT_EQ(inline_attrs.size(), 2U) << "difference at byte " << pos;
    EXPECT_EQ(inline_attrs.At(0).key, base);
    EXPECT_EQ(inline_attrs.At(1).key, other);
    InlineAttributes<384> repeated;
    repeated.SetAll(kvs);
    ASSERT_EQ(repeated.size(), 2U) << "difference at byte " << pos;
    EXPECT_EQ(repeated.Find(base), AttributeValue(int64_t{3}));
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

TEST(AttributesTest, SetFindsHeldKeysAfterEveryWayOfFillingTheList) {
  // Set() skips the search only for a key that is certainly new; each way of filling a list
  // must leave every held key findable, so setting it again replaces it.
  const KeyValueView kvs[] = {{"alpha", int64_t{1}}, {"beta", int64_t{2}}};
  auto expect_replaced = [](Attributes& attrs) {
    attrs.Set("alpha", int64_t{10});
    attrs.Set("beta", int64_t{20});
    ASSERT_EQ(attrs.size(), 2U);
    EXPECT_EQ(attrs.At(0).value, AttributeValue(int64_t{10}));
    EXPECT_EQ(attrs.At(1).value, AttributeValue(int64_t{20}));
  };
  InlineAttributes<384> inline_bulk;  // one-pass fill
  inline_bulk.SetAll(kvs);
  Attributes heap_bulk;  // sized-block fill
  heap_bulk.SetAll(kvs, 2, 64);
  Attributes one_by_one{{"alpha", int64_t{1}}, {"beta", int64_t{2}}};
  Attributes copied(heap_bulk);
  Attributes assigned;
  assigned = inline_bulk;
  InlineAttributes<384> moved_in;
  moved_in = std::move(one_by_one);
  for (Attributes* attrs : {static_cast<Attributes*>(&inline_bulk), &heap_bulk, &copied, &assigned,
                            static_cast<Attributes*>(&moved_in)}) {
    expect_replaced(*attrs);
  }
  // After Clear() the keys are gone: setting one adds it once.
  inline_bulk.Clear();
  inline_bulk.Set("alpha", int64_t{3});
  inline_bulk.Set("alpha", int64_t{4});
  ASSERT_EQ(inline_bulk.size(), 1U);
  EXPECT_EQ(inline_bulk.At(0).value, AttributeValue(int64_t{4}));
}

TEST(AttributesTest, KeysAndValuesOfEveryShortLengthAreCopiedExactly) {
  // The copies use word moves for 4-32 bytes: every length, with distinct bytes, round-trips.
  for (size_t n = 0; n <= 40; ++n) {
    std::string key(n, 'k');
    std::string value(n, 'v');
    for (size_t i = 0; i < n; ++i) {
      key[i] = static_cast<char>('a' + i % 26);
      value[i] = static_cast<char>('A' + (i * 7) % 26);
    }
    const KeyValueView kvs[] = {{key, std::string_view(value)}, {"n", int64_t{1}}};
    InlineAttributes<384> inline_attrs;
    inline_attrs.SetAll(kvs);
    Attributes heap;
    heap.SetAll(kvs, 0, 0);
    for (const Attributes* attrs :
         {static_cast<const Attributes*>(&inline_attrs), static_cast<const Attributes*>(&heap)}) {
      ASSERT_EQ(attrs->size(), 2U) << n;
      EXPECT_EQ(attrs->At(0).key, key) << n;
      EXPECT_EQ(std::get<std::string_view>(attrs->At(0).value), value) << n;
      EXPECT_EQ(attrs->At(1).key, "n") << n;
    }
  }
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
// Every entry of `attrs`, rendered as "key=<type index>:<value>".
std::vector<std::string> Dump(const Attributes& attrs) {
  return testing::TypedAttributeStrings(attrs);
}

TEST(InlineAttributesTest, SetAllInTheInlineBlockThenGrowsOnTheHeap) {
  InlineAttributes<96> attrs;  // 2 entries (48 bytes) + 48 bytes of keys and values
  const KeyValueView two[] = {{"model", std::string_view("gpt-4o")}, {"tokens", int64_t{42}}};
  attrs.SetAll(two);
  EXPECT_EQ(Dump(attrs), (std::vector<std::string>{"model=4:gpt-4o", "tokens=1:42"}));
  // A third entry no longer fits: the list moves to the heap and keeps its entries.
  attrs.Set("provider", "openai");
  attrs.Set("model", "a replacement value longer than the inline arena has room for");
  EXPECT_EQ(Dump(attrs),
            (std::vector<std::string>{
                "model=4:a replacement value longer than the inline arena has room for",
                "tokens=1:42", "provider=4:openai"}));
}

TEST(InlineAttributesTest, SetAllFallsBackWhenEntriesDoNotFitOrRepeatOrExceedLimits) {
  // Too many bytes for the inline block.
  InlineAttributes<96> big;
  const std::string long_value(100, 'v');
  const KeyValueView too_big[] = {{"a", std::string_view(long_value)}, {"b", true}};
  big.SetAll(too_big);
  EXPECT_EQ(Dump(big), (std::vector<std::string>{"a=4:" + long_value, "b=0:true"}));

  // A repeated key: the last value wins, in the first position (as Set does).
  InlineAttributes<384> repeated;
  const KeyValueView dup[] = {
      {"k", int64_t{1}}, {"other", int64_t{2}}, {"k", std::string_view("last")}};
  repeated.SetAll(dup);
  EXPECT_EQ(Dump(repeated), (std::vector<std::string>{"k=4:last", "other=1:2"}));

  // A value over the length limit is truncated with the marker; over the count limit dropped.
  InlineAttributes<384> limited;
  limited.SetLimits(1, 4);
  const KeyValueView over[] = {{"a", std::string_view("abcdefgh")}, {"b", int64_t{1}}};
  limited.SetAll(over);
  EXPECT_EQ(Dump(limited), (std::vector<std::string>{"a=4:a\xE2\x80\xA6"}));
  EXPECT_EQ(limited.dropped_count(), 1U);
}

TEST(InlineAttributesTest, CopiesAndMovesOwnTheirBytes) {
  auto make = [] {
    InlineAttributes<384> attrs;
    const KeyValueView kvs[] = {{"x", std::string_view("inline")}, {"y", int64_t{7}}};
    attrs.SetAll(kvs);
    return attrs;
  };
  InlineAttributes<384> original = make();
  InlineAttributes<384> copy(original);
  InlineAttributes<384> moved(std::move(original));
  Attributes plain_from_inline(copy);        // base copy: heap block
  Attributes plain_moved(std::move(moved));  // base move from a borrowed block: copies
  EXPECT_TRUE(moved.empty());                // NOLINT(bugprone-use-after-move)
  copy.Set("x", "changed");                  // the others do not see it
  const std::vector<std::string> expected{"x=4:inline", "y=1:7"};
  EXPECT_EQ(Dump(plain_from_inline), expected);
  EXPECT_EQ(Dump(plain_moved), expected);
  EXPECT_EQ(Dump(copy), (std::vector<std::string>{"x=4:changed", "y=1:7"}));

  // Assignments both ways, including a heap-backed source taken over by an inline list.
  Attributes heap;
  for (int i = 0; i < 20; ++i) heap.Set("key" + std::to_string(i), int64_t{i});
  InlineAttributes<384> target = make();
  target = heap;  // does not fit inline: a heap copy
  EXPECT_EQ(target.size(), 20U);
  target = std::move(heap);  // takes the heap block over
  EXPECT_EQ(target.size(), 20U);
  EXPECT_EQ(std::get<int64_t>(*target.Find("key19")), 19);
  target = make();  // back to fitting contents
  EXPECT_EQ(Dump(target), expected);
  Attributes& self = target;
  target = self;  // self-assignment keeps the contents
  EXPECT_EQ(Dump(target), expected);
}

TEST(AttributesWriterTest, WritesEveryTypeInOrderAndShowsNothingBeforeCommit) {
  InlineAttributes<384> attrs;
  Attributes::Writer writer(attrs);
  EXPECT_TRUE(writer.AddString("model", "gpt-4o-mini"));
  EXPECT_TRUE(writer.AddInt("tokens", -42));
  EXPECT_TRUE(writer.AddUint("big", 18446744073709551615u));
  EXPECT_TRUE(writer.AddDouble("temperature", 0.25));
  EXPECT_TRUE(writer.AddBool("stream", true));
  EXPECT_TRUE(writer.Add("via_variant", AttributeValue(std::string_view("any"))));
  EXPECT_TRUE(writer.Add("count", AttributeValue(int64_t{3})));
  EXPECT_TRUE(writer.AddString("empty", ""));
  EXPECT_TRUE(attrs.empty());  // not committed yet
  writer.Commit();
  ASSERT_EQ(attrs.size(), 8U);
  EXPECT_EQ(Dump(attrs), (std::vector<std::string>{"model=4:gpt-4o-mini", "tokens=1:-42",
                                                   "big=2:", "temperature=3:", "stream=0:true",
                                                   "via_variant=4:any", "count=1:3", "empty=4:"}));
  EXPECT_EQ(std::get<uint64_t>(*attrs.Find("big")), 18446744073709551615u);
  EXPECT_EQ(std::get<double>(*attrs.Find("temperature")), 0.25);
  // The key digests are kept: Set() finds a written key and replaces it in place.
  attrs.Set("tokens", int64_t{7});
  attrs.Set("new", "n");
  EXPECT_EQ(attrs.size(), 9U);
  EXPECT_EQ(Dump(attrs)[1], "tokens=1:7");
}

TEST(AttributesWriterTest, RefusesWhatItCannotWriteInOnePass) {
  // A repeated key is refused; the list stays empty without Commit().
  InlineAttributes<384> repeated;
  Attributes::Writer dup(repeated);
  EXPECT_TRUE(dup.AddInt("k", 1));
  EXPECT_TRUE(dup.AddInt("j", 2));
  EXPECT_FALSE(dup.AddString("k", "again"));
  EXPECT_TRUE(repeated.empty());

  // No room for the value, or for another entry, in the block in hand.
  InlineAttributes<96> small;  // 2 entries + 48 bytes
  Attributes::Writer full(small);
  EXPECT_FALSE(full.AddString("a", std::string(60, 'v')));
  Attributes::Writer entries(small);
  EXPECT_TRUE(entries.AddBool("a", true));
  EXPECT_TRUE(entries.AddBool("b", false));
  EXPECT_FALSE(entries.AddBool("c", true));
  Attributes no_block;
  Attributes::Writer none(no_block);
  EXPECT_FALSE(none.AddInt("x", 1));

  // Limits: the count, and a value over the length limit (SetAll truncates it instead).
  InlineAttributes<384> limited;
  limited.SetLimits(1, 4);
  Attributes::Writer count(limited);
  EXPECT_TRUE(count.AddString("a", "abcd"));
  EXPECT_FALSE(count.AddInt("b", 1));
  Attributes::Writer length(limited);
  EXPECT_FALSE(length.AddString("a", "abcde"));

  // A list that already holds attributes is not written to.
  InlineAttributes<384> held;
  held.Set("x", int64_t{1});
  Attributes::Writer occupied(held);
  EXPECT_FALSE(occupied.AddInt("y", 2));
  EXPECT_EQ(Dump(held), (std::vector<std::string>{"x=1:1"}));
}

TEST(AttributesLayoutTest, WritesThePreparedKeysAndTheValuesByPosition) {
  Attributes::Layout layout;
  EXPECT_TRUE(layout.Add("model", 4));
  EXPECT_TRUE(layout.Add("tokens", 1));
  EXPECT_TRUE(layout.Add("big", 2));
  EXPECT_TRUE(layout.Add("temperature", 3));
  EXPECT_TRUE(layout.Add("stream", 0));
  EXPECT_FALSE(layout.Add("tokens", 4));  // a repeated key
  EXPECT_FALSE(layout.Add("x", 5));       // not an alternative
  ASSERT_EQ(layout.size(), 5U);
  EXPECT_EQ(layout.type(3), 3);
  EXPECT_EQ(layout.key_size(3), 11U);
  EXPECT_TRUE(layout.KeyIs(3, "temperature"));
  EXPECT_FALSE(layout.KeyIs(3, "temperaturf"));
  EXPECT_FALSE(layout.KeyIs(0, "models"));

  // Written twice into fresh lists: the layout is reusable, each list has its own values.
  for (int64_t round = 0; round < 2; ++round) {
    InlineAttributes<384> attrs;
    Attributes::Writer writer(attrs);
    ASSERT_TRUE(writer.Start(layout));
    EXPECT_TRUE(writer.SetString(0, round == 0 ? "gpt-4o-mini" : "o3"));
    writer.SetScalar(1, int64_t{-42} - round);
    writer.SetScalar(2, uint64_t{18446744073709551615u});
    writer.SetScalar(3, 0.25);
    writer.SetScalar(4, round == 0);
    EXPECT_TRUE(attrs.empty());  // not committed yet
    writer.Commit();
    EXPECT_EQ(Dump(attrs), (std::vector<std::string>{
                               round == 0 ? "model=4:gpt-4o-mini" : "model=4:o3",
                               round == 0 ? "tokens=1:-42" : "tokens=1:-43", "big=2:",
                               "temperature=3:", round == 0 ? "stream=0:true" : "stream=0:false"}));
    EXPECT_EQ(attrs.StoredBytes(), (round == 0 ? 11U : 2U) + 5 + 6 + 3 + 11 + 6);
    // The key digests are the layout's: Set() finds a prepared key and replaces it in place.
    attrs.Set("tokens", int64_t{7});
    attrs.Set("new", "n");
    ASSERT_EQ(attrs.size(), 6U);
    EXPECT_EQ(Dump(attrs)[1], "tokens=1:7");
    EXPECT_EQ(Dump(attrs)[5], "new=4:n");
  }
}

TEST(AttributesLayoutTest, IsRefusedWhenItDoesNotFitAndFullLayoutsRefuseMoreKeys) {
  Attributes::Layout layout;
  for (char c = 'a'; c < 'a' + static_cast<char>(Attributes::Layout::kMaxEntries); ++c) {
    EXPECT_TRUE(layout.Add(std::string(1, c), 1));
  }
  EXPECT_FALSE(layout.Add("z", 1));  // kMaxEntries keys
  Attributes::Layout long_keys;
  EXPECT_TRUE(long_keys.Add(std::string(Attributes::Layout::kMaxBytes - 1, 'k'), 1));
  EXPECT_FALSE(long_keys.Add("kk", 1));  // kMaxBytes bytes

  // More entries than the block in hand, or than the count limit: nothing is written.
  InlineAttributes<96> small;  // 2 entries + 48 bytes
  Attributes::Writer writer(small);
  EXPECT_FALSE(writer.Start(layout));
  InlineAttributes<384> limited;
  limited.SetLimits(3, 0);
  Attributes::Writer limited_writer(limited);
  EXPECT_FALSE(limited_writer.Start(layout));
  // A value over the length limit or the room left is refused (the caller falls back).
  Attributes::Layout one;
  ASSERT_TRUE(one.Add("k", 4));
  InlineAttributes<384> short_values;
  short_values.SetLimits(0, 4);
  Attributes::Writer short_writer(short_values);
  ASSERT_TRUE(short_writer.Start(one));
  EXPECT_FALSE(short_writer.SetString(0, "abcdef"));
  EXPECT_TRUE(short_writer.SetString(0, "abcd"));
  Attributes::Writer no_room(small);
  ASSERT_TRUE(no_room.Start(one));
  EXPECT_FALSE(no_room.SetString(0, std::string(60, 'v')));
  // A writer that already holds attributes does not start a layout.
  InlineAttributes<384> started;
  Attributes::Writer busy(started);
  EXPECT_TRUE(busy.AddInt("x", 1));
  EXPECT_FALSE(busy.Start(one));
  EXPECT_TRUE(started.empty());
}

TEST(AttributesLayoutTest, ConstantsAreWrittenWithTheKeysAndTheOtherValuesByPosition) {
  Attributes::Layout layout;
  EXPECT_TRUE(layout.Add("model", 4));
  EXPECT_TRUE(layout.AddConstant("code.filepath", std::string_view("/src/app/main.cc")));
  EXPECT_TRUE(layout.Add("tokens", 1));
  EXPECT_TRUE(layout.AddConstant("code.lineno", int64_t{42}));
  EXPECT_TRUE(layout.AddConstant("flag", true));
  EXPECT_TRUE(layout.AddConstant("ratio", 0.5));
  EXPECT_TRUE(layout.AddConstant("big", uint64_t{18446744073709551615u}));
  EXPECT_TRUE(layout.AddConstant("empty", std::string_view()));
  EXPECT_FALSE(layout.AddConstant("x", int64_t{1}));  // kMaxEntries
  ASSERT_EQ(layout.size(), 8U);
  EXPECT_EQ(layout.type(1), 4);
  EXPECT_EQ(layout.type(3), 1);
  EXPECT_EQ(layout.type(4), 0);
  EXPECT_EQ(layout.type(5), 3);
  EXPECT_EQ(layout.type(6), 2);
  EXPECT_TRUE(layout.KeyIs(1, "code.filepath"));  // keys stay keys: the value is elsewhere
  EXPECT_TRUE(layout.KeyIs(2, "tokens"));

  for (int64_t round = 0; round < 2; ++round) {
    InlineAttributes<384> attrs;
    Attributes::Writer writer(attrs);
    ASSERT_TRUE(writer.Start(layout));
    EXPECT_TRUE(writer.SetString(0, round == 0 ? "gpt-4o-mini" : "o3"));
    writer.SetScalar(2, int64_t{100} + round);
    writer.Commit();
    EXPECT_EQ(Dump(attrs),
              (std::vector<std::string>{
                  round == 0 ? "model=4:gpt-4o-mini" : "model=4:o3",
                  "code.filepath=4:/src/app/main.cc", round == 0 ? "tokens=1:100" : "tokens=1:101",
                  "code.lineno=1:42", "flag=0:true", "ratio=3:", "big=2:", "empty=4:"}));
    EXPECT_EQ(std::get<double>(*attrs.Find("ratio")), 0.5);
    EXPECT_EQ(std::get<uint64_t>(*attrs.Find("big")), uint64_t{18446744073709551615u});
    // Keys, constant strings and the string set per list, each counted once.
    EXPECT_EQ(attrs.StoredBytes(), 5U + 13 + 16 + 6 + 11 + 4 + 5 + 3 + 5 + (round == 0 ? 11U : 2U));
    // A constant is an ordinary value of the list: Set() replaces it in place.
    attrs.Set("code.filepath", "other.cc");
    attrs.Set("code.lineno", int64_t{7});
    EXPECT_EQ(Dump(attrs)[1], "code.filepath=4:other.cc");
    EXPECT_EQ(Dump(attrs)[3], "code.lineno=1:7");
    EXPECT_EQ(attrs.size(), 8U);
  }
}

TEST(AttributesLayoutTest, ConstantsCountAgainstTheRoomAndAreCheckedAgainstTheLimits) {
  // A constant repeating a key, or over the bytes left, leaves the layout unchanged.
  Attributes::Layout layout;
  ASSERT_TRUE(layout.Add("k", 4));
  EXPECT_FALSE(layout.AddConstant("k", std::string_view("v")));
  const std::string path(Attributes::Layout::kMaxBytes - 1 - 4, 'p');  // "k" + "file" + path
  EXPECT_FALSE(layout.AddConstant("file", path + "p"));                // one byte over
  EXPECT_EQ(layout.size(), 1U);
  ASSERT_TRUE(layout.AddConstant("file", path));
  EXPECT_FALSE(layout.Add("z", 1));  // full: kMaxBytes bytes
  EXPECT_FALSE(layout.AddConstant("z", int64_t{1}));
  EXPECT_EQ(layout.size(), 2U);

  // Start() refuses a layout whose constant strings a value-length limit would cut (the caller
  // then takes Set(), which truncates); no limit, or one at least as long, takes it.
  Attributes::Layout ten;
  ASSERT_TRUE(ten.AddConstant("c", std::string_view("0123456789")));
  ASSERT_TRUE(ten.AddConstant("d", std::string_view("01234")));
  ASSERT_TRUE(ten.Add("v", 4));
  for (const uint32_t limit : {0U, 1U, 3U, 9U, 10U, 11U, 1000U}) {
    SCOPED_TRACE(limit);
    InlineAttributes<384> attrs;
    attrs.SetLimits(0, limit);
    Attributes::Writer writer(attrs);
    const bool fits = limit == 0 || limit >= 10;
    ASSERT_EQ(writer.Start(ten), fits);
    if (!fits) continue;
    EXPECT_TRUE(writer.SetString(2, "x"));
    writer.Commit();
    EXPECT_EQ(Dump(attrs), (std::vector<std::string>{"c=4:0123456789", "d=4:01234", "v=4:x"}));
  }
  // The count limit and the block in hand count the constants too.
  InlineAttributes<384> counted;
  counted.SetLimits(2, 0);
  Attributes::Writer count_writer(counted);
  EXPECT_FALSE(count_writer.Start(ten));
  InlineAttributes<96> small;  // 2 entries + 48 bytes
  Attributes::Layout two;
  ASSERT_TRUE(two.AddConstant("path", std::string(45, 'p')));  // 4 + 45 bytes > 48
  Attributes::Writer small_writer(small);
  EXPECT_FALSE(small_writer.Start(two));
  EXPECT_TRUE(small.empty());
  Attributes::Layout fits;
  ASSERT_TRUE(fits.AddConstant("path", std::string(42, 'p')));
  ASSERT_TRUE(fits.Add("v", 4));  // 4 + 42 + 1 bytes: one left
  Attributes::Writer no_room(small);
  ASSERT_TRUE(no_room.Start(fits));
  EXPECT_FALSE(no_room.SetString(1, "xy"));
  Attributes::Writer fits_writer(small);
  ASSERT_TRUE(fits_writer.Start(fits));
  EXPECT_TRUE(fits_writer.SetString(1, "x"));
  fits_writer.Commit();
  EXPECT_EQ(Dump(small), (std::vector<std::string>{"path=4:" + std::string(42, 'p'), "v=4:x"}));
}

TEST(AttributesTest, VisitGivesEveryAttributeInOrderWithItsType) {
  InlineAttributes<384> attrs;
  attrs.Set("s", "text");
  attrs.Set("i", int64_t{-3});
  attrs.Set("u", uint64_t{18446744073709551615u});
  attrs.Set("d", 2.5);
  attrs.Set("b", true);
  std::vector<std::string> seen;
  struct Visitor {
    std::vector<std::string>& out;
    void operator()(std::string_view key, std::string_view v) const {
      out.push_back(std::string(key) + " string " + std::string(v));
    }
    void operator()(std::string_view key, int64_t v) const {
      out.push_back(std::string(key) + " int " + std::to_string(v));
    }
    void operator()(std::string_view key, uint64_t v) const {
      out.push_back(std::string(key) + " uint " + std::to_string(v));
    }
    void operator()(std::string_view key, double v) const {
      out.push_back(std::string(key) + " double " + std::to_string(v));
    }
    void operator()(std::string_view key, bool v) const {
      out.push_back(std::string(key) + " bool " + (v ? "true" : "false"));
    }
  };
  attrs.Visit(Visitor{seen});
  EXPECT_EQ(seen,
            (std::vector<std::string>{"s string text", "i int -3", "u uint 18446744073709551615",
                                      "d double 2.500000", "b bool true"}));
}

}  // namespace vllora::otel
