#include "vllora/core/value.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vllora/core/format.h"

namespace vllora {
namespace {

TEST(ValueTest, TypesFromCppTypes) {
  EXPECT_EQ(Value(1).type(), Value::Type::kInt64);
  EXPECT_EQ(Value(int64_t{-5}).as_int64(), -5);
  EXPECT_EQ(Value(7u).type(), Value::Type::kUint64);
  EXPECT_EQ(Value(uint64_t{18446744073709551615u}).as_uint64(), 18446744073709551615u);
  EXPECT_EQ(Value(2.5).type(), Value::Type::kDouble);
  EXPECT_EQ(Value(1.5f).as_double(), 1.5);
  EXPECT_EQ(Value(true).type(), Value::Type::kBool);
  EXPECT_EQ(Value("lit").str(), "lit");
  std::string s = "borrowed";
  Value borrowed(s);
  EXPECT_EQ(borrowed.str().data(), s.data());
  Value owned(std::string(40, 'x'));
  Value moved = std::move(owned);
  EXPECT_EQ(moved.str(), std::string(40, 'x'));
  EXPECT_EQ(Value(Json(R"({"a":1})")).type(), Value::Type::kJson);
  EXPECT_EQ(Value().type(), Value::Type::kNone);
}

TEST(ValueTest, OwnedStringsAreCopiedMovedAndAssignedDeeply) {
  static_assert(sizeof(Value) == 24);
  std::string source(40, 'a');
  Value owned(std::move(source));
  source.assign(40, 'b');  // the Value has its own copy
  Value copy = owned;
  Value moved = std::move(owned);
  EXPECT_EQ(owned.str(), "");  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(copy.str(), std::string(40, 'a'));
  EXPECT_EQ(moved.str(), std::string(40, 'a'));
  Value borrowed(std::string_view("borrowed"));
  copy = borrowed;  // frees the owned copy
  EXPECT_EQ(copy.str(), "borrowed");
  EXPECT_EQ(copy.str().data(), borrowed.str().data());  // still a view of the caller's bytes
  moved = Value(int64_t{-3});
  EXPECT_EQ(moved.type(), Value::Type::kInt64);
  EXPECT_EQ(moved.as_int64(), -3);
  Value empty_owned(std::string{});
  EXPECT_EQ(empty_owned.type(), Value::Type::kString);
  EXPECT_EQ(empty_owned.str(), "");
  const Value& self = copy;
  copy = self;
  EXPECT_EQ(copy.str(), "borrowed");
}

TEST(ValueTest, NlohmannJsonBecomesJsonText) {
  nlohmann::json j = {{"name", "gpt-4"}, {"n", 2}};
  Value v(j);
  EXPECT_EQ(v.type(), Value::Type::kJson);
  EXPECT_EQ(nlohmann::json::parse(v.str()), j);
  Value copy = v;
  EXPECT_EQ(copy.str(), v.str());
  nlohmann::json arr = nlohmann::json::array({1, 2});
  EXPECT_EQ(Value(arr).str(), "[1,2]");
}

TEST(ValueTest, Rendering) {
  EXPECT_EQ(Value(-3).ToString(), "-3");
  EXPECT_EQ(Value(0.25).ToString(), "0.25");
  EXPECT_EQ(Value(false).ToString(), "false");
  EXPECT_EQ(Value(std::numeric_limits<double>::quiet_NaN()).ToString(), "NaN");
}

TEST(FormatTest, Placeholders) {
  EXPECT_EQ(Format("{} + {} = {}", 1, 2u, 3.5), "1 + 2 = 3.5");
  EXPECT_EQ(Format("{{}} {}", "x"), "{} x");
  EXPECT_EQ(Format("spec {:>8} ignored", 5), "spec 5 ignored");
  EXPECT_EQ(Format("none"), "none");
  static_assert(internal::CountPlaceholders("{} {}") == 2);
  static_assert(internal::CountPlaceholders("{") == -1);
}

}  // namespace
}  // namespace vllora
