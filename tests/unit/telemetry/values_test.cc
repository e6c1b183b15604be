// The value shapes vLLora reads: tags, usage and model cost as JSON text, api_invoke cost as a
// number in a string, ttft as integer microseconds.
#include "vllora/telemetry/values.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <unordered_map>

namespace vllora::telemetry {
namespace {

TEST(TagsTest, EmptyTagsAreAnEmptyObject) {
  EXPECT_EQ(Tags().ToJson(), "{}");
  EXPECT_EQ(TagsJson(), "{}");
  EXPECT_EQ(TagsJson(Tags()), "{}");
}

TEST(TagsTest, KeysAreSortedAndLaterValuesReplaceEarlierOnes) {
  Tags tags{{"z", "1"}, {"a", "2"}, {"m", "3"}};
  EXPECT_EQ(tags.ToJson(), R"({"a":"2","m":"3","z":"1"})");
  tags.Set("a", "replaced").Set("b", "new");
  EXPECT_EQ(tags.ToJson(), R"({"a":"replaced","b":"new","m":"3","z":"1"})");
  EXPECT_EQ(Tags({{"k", "first"}, {"k", "second"}}).ToJson(), R"({"k":"second"})");
}

TEST(TagsTest, KeysAndValuesAreEscaped) {
  Tags tags{{"q\"key", "say \"hi\""},
            {"path", "C:\\dir"},
            {"ws", "a\nb\rc\td\be\ff"},
            {"ctl", std::string_view("\x01\x1f", 2)},
            {"utf8", "caf\xc3\xa9"}};
  const std::string json = tags.ToJson();
  EXPECT_EQ(json, R"({"ctl":"\u0001\u001f","path":"C:\\dir","q\"key":"say \"hi\"","utf8":"café",)"
                  R"("ws":"a\nb\rc\td\be\ff"})");
  nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["q\"key"], "say \"hi\"");
  EXPECT_EQ(parsed["ws"], "a\nb\rc\td\be\ff");
  EXPECT_EQ(parsed["ctl"], std::string("\x01\x1f", 2));
}

TEST(TagsTest, FromMapsAndJsonDumpables) {
  std::map<std::string, std::string> map{{"b", "2"}, {"a", "1"}};
  std::unordered_map<std::string, std::string> unordered{{"b", "2"}, {"a", "1"}};
  EXPECT_EQ(Tags(map).ToJson(), R"({"a":"1","b":"2"})");
  EXPECT_EQ(Tags(unordered).ToJson(), R"({"a":"1","b":"2"})");
  EXPECT_EQ(TagsJson(map), R"({"a":"1","b":"2"})");
  nlohmann::json json = {{"n", 1}, {"nested", {{"x", true}}}};
  EXPECT_EQ(TagsJson(json), R"({"n":1,"nested":{"x":true}})");
}

TEST(UsageTest, DefaultsAndComputedTotal) {
  // The nested detail structs are spelled out: without a default member initializer on them
  // (values.h), omitting them warns under -Wmissing-field-initializers.
  Usage usage{.input_tokens = 10,
              .output_tokens = 8,
              .prompt_tokens_details = {},
              .completion_tokens_details = {}};
  EXPECT_EQ(usage.ToJson(),
            R"({"input_tokens":10,"output_tokens":8,"total_tokens":18,)"
            R"("prompt_tokens_details":{"cached_tokens":0,"cache_creation_tokens":0,)"
            R"("audio_tokens":0},"completion_tokens_details":{"accepted_prediction_tokens":0,)"
            R"("audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},)"
            R"("is_cache_used":false})");
  EXPECT_EQ(nlohmann::json::parse(Usage{}.ToJson())["total_tokens"], 0);
}

TEST(UsageTest, EveryFieldAndAnExplicitTotal) {
  Usage usage{
      .input_tokens = 100,
      .output_tokens = 50,
      .total_tokens = 175,
      .prompt_tokens_details = {.cached_tokens = 40, .cache_creation_tokens = 7, .audio_tokens = 3},
      .completion_tokens_details = {.accepted_prediction_tokens = 1,
                                    .audio_tokens = 2,
                                    .reasoning_tokens = 20,
                                    .rejected_prediction_tokens = 4},
      .is_cache_used = true};
  const std::string json = usage.ToJson();
  EXPECT_EQ(json,
            R"({"input_tokens":100,"output_tokens":50,"total_tokens":175,)"
            R"("prompt_tokens_details":{"cached_tokens":40,"cache_creation_tokens":7,)"
            R"("audio_tokens":3},"completion_tokens_details":{"accepted_prediction_tokens":1,)"
            R"("audio_tokens":2,"reasoning_tokens":20,"rejected_prediction_tokens":4},)"
            R"("is_cache_used":true})");
  nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["completion_tokens_details"]["reasoning_tokens"], 20);
  EXPECT_EQ(parsed["is_cache_used"], true);
}

TEST(ModelCostTest, AllKeysWithShortestNumbers) {
  ModelCost cost{.cost = 0.000301,
                 .per_input_token = 1e-06,
                 .per_cached_input_token = 5e-07,
                 .per_cached_input_write_token = 1.25e-06,
                 .per_output_token = 2e-06,
                 .is_cache_used = true};
  const std::string json = cost.ToJson();
  EXPECT_EQ(json, R"({"cost":0.000301,"per_input_token":1e-06,"per_cached_input_token":5e-07,)"
                  R"("per_cached_input_write_token":1.25e-06,"per_output_token":2e-06,)"
                  R"("is_cache_used":true})");
  nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_DOUBLE_EQ(parsed["cost"].get<double>(), 0.000301);
  EXPECT_DOUBLE_EQ(parsed["per_cached_input_write_token"].get<double>(), 1.25e-06);
  EXPECT_EQ(ModelCost{}.ToJson(),
            R"({"cost":0,"per_input_token":0,"per_cached_input_token":0,)"
            R"("per_cached_input_write_token":0,"per_output_token":0,"is_cache_used":false})");
}

TEST(ModelCostTest, NonFiniteNumbersBecomeNullSoTheTextStaysJson) {
  ModelCost cost{.cost = std::numeric_limits<double>::quiet_NaN(),
                 .per_input_token = std::numeric_limits<double>::infinity()};
  nlohmann::json parsed = nlohmann::json::parse(cost.ToJson());
  EXPECT_TRUE(parsed["cost"].is_null());
  EXPECT_TRUE(parsed["per_input_token"].is_null());
}

TEST(ApiInvokeCostTest, NumberWrittenAsAString) {
  EXPECT_EQ(ApiInvokeCost(0.000301), "0.000301");
  EXPECT_EQ(ApiInvokeCost(0), "0");
  EXPECT_EQ(ApiInvokeCost(1.5), "1.5");
  EXPECT_EQ(ApiInvokeCost(12.25), "12.25");
  EXPECT_EQ(std::stod(ApiInvokeCost(0.1 + 0.2)), 0.1 + 0.2);  // round-trips exactly
}

TEST(TtftMicrosTest, IntegerMicroseconds) {
  using namespace std::chrono_literals;
  static_assert(std::is_same_v<decltype(TtftMicros(1ms)), uint64_t>);
  EXPECT_EQ(TtftMicros(843129us), 843129u);
  EXPECT_EQ(TtftMicros(843ms), 843000u);
  EXPECT_EQ(TtftMicros(2s), 2000000u);
  EXPECT_EQ(TtftMicros(1999ns), 1u);  // truncated
  EXPECT_EQ(TtftMicros(std::chrono::duration<double>(0.5)), 500000u);
}

}  // namespace
}  // namespace vllora::telemetry
