// Typed helpers that produce the value shapes vLLora reads: tags as a JSON-object string, usage
// and model-call cost as JSON strings, api_invoke cost as a number written as a string, ttft in
// integer microseconds. Standard library only.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "vllora/core/value.h"

namespace vllora::telemetry {

/// Appends `s` as a JSON string literal (quoted and escaped) to `out` (the core's helper).
using ::vllora::AppendJsonString;

/// Tags: a flat string→string map rendered as a JSON object, keys sorted.
class Tags {
 public:
  Tags() = default;
  Tags(std::initializer_list<std::pair<std::string_view, std::string_view>> entries);
  Tags(const std::map<std::string, std::string>& entries);            // NOLINT
  Tags(const std::unordered_map<std::string, std::string>& entries);  // NOLINT
  Tags& Set(std::string_view key, std::string_view value);
  /// `{"k":"v",…}`; `{}` when empty.
  std::string ToJson() const;

 private:
  std::map<std::string, std::string, std::less<>> entries_;
};

/// Tags from a Tags (or a map, or `{{"k", "v"}, …}`) or from a JsonDumpable object such as
/// nlohmann::json. Returns the JSON-object text; `{}` without an argument.
inline std::string TagsJson() { return "{}"; }
inline std::string TagsJson(const Tags& tags) { return tags.ToJson(); }
template <JsonDumpable T>
std::string TagsJson(const T& json) {
  return json.dump();
}

/// Token usage, as vLLora's `usage` attribute (JSON string).
struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t total_tokens = 0;  ///< 0: computed as input + output
  struct PromptTokensDetails {
    int64_t cached_tokens = 0;
    int64_t cache_creation_tokens = 0;
    int64_t audio_tokens = 0;
  } prompt_tokens_details{};
  struct CompletionTokensDetails {
    int64_t accepted_prediction_tokens = 0;
    int64_t audio_tokens = 0;
    int64_t reasoning_tokens = 0;
    int64_t rejected_prediction_tokens = 0;
  } completion_tokens_details{};
  bool is_cache_used = false;

  std::string ToJson() const;
};

/// The cost of one model call, as vLLora's `cost` attribute on `model_call` (JSON string).
struct ModelCost {
  double cost = 0;
  double per_input_token = 0;
  double per_cached_input_token = 0;
  double per_cached_input_write_token = 0;
  double per_output_token = 0;
  bool is_cache_used = false;

  std::string ToJson() const;
};

/// The `cost` attribute of an `api_invoke` span: the number written as a string ("0.000301").
std::string ApiInvokeCost(double cost);

/// Time to first token as vLLora reads it: integer microseconds.
template <class Rep, class Period>
uint64_t TtftMicros(std::chrono::duration<Rep, Period> d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace vllora::telemetry
