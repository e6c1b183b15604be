#include "vllora/telemetry/values.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace vllora::telemetry {

namespace {

void AppendNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf
    out += "null";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void AppendNumber(std::string& out, int64_t v) { out += std::to_string(v); }

template <class T>
void AppendMember(std::string& out, std::string_view key, T value, bool& first) {
  if (!first) out.push_back(',');
  first = false;
  AppendJsonString(out, key);
  out.push_back(':');
  if constexpr (std::is_same_v<T, bool>) {
    out += value ? "true" : "false";
  } else {
    AppendNumber(out, value);
  }
}

}  // namespace

Tags::Tags(std::initializer_list<std::pair<std::string_view, std::string_view>> entries) {
  for (const auto& [k, v] : entries) Set(k, v);
}
Tags::Tags(const std::map<std::string, std::string>& entries) {
  for (const auto& [k, v] : entries) Set(k, v);
}
Tags::Tags(const std::unordered_map<std::string, std::string>& entries) {
  for (const auto& [k, v] : entries) Set(k, v);
}

Tags& Tags::Set(std::string_view key, std::string_view value) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second = std::string(value);
  } else {
    entries_.emplace(std::string(key), std::string(value));
  }
  return *this;
}

std::string Tags::ToJson() const {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : entries_) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, k);
    out.push_back(':');
    AppendJsonString(out, v);
  }
  out.push_back('}');
  return out;
}

std::string Usage::ToJson() const {
  std::string out = "{";
  bool first = true;
  AppendMember(out, "input_tokens", input_tokens, first);
  AppendMember(out, "output_tokens", output_tokens, first);
  AppendMember(out, "total_tokens", total_tokens != 0 ? total_tokens : input_tokens + output_tokens,
               first);
  out += ",\"prompt_tokens_details\":{";
  bool inner = true;
  AppendMember(out, "cached_tokens", prompt_tokens_details.cached_tokens, inner);
  AppendMember(out, "cache_creation_tokens", prompt_tokens_details.cache_creation_tokens, inner);
  AppendMember(out, "audio_tokens", prompt_tokens_details.audio_tokens, inner);
  out += "},\"completion_tokens_details\":{";
  inner = true;
  AppendMember(out, "accepted_prediction_tokens",
               completion_tokens_details.accepted_prediction_tokens, inner);
  AppendMember(out, "audio_tokens", completion_tokens_details.audio_tokens, inner);
  AppendMember(out, "reasoning_tokens", completion_tokens_details.reasoning_tokens, inner);
  AppendMember(out, "rejected_prediction_tokens",
               completion_tokens_details.rejected_prediction_tokens, inner);
  out += "}";
  AppendMember(out, "is_cache_used", is_cache_used, first);
  out += "}";
  return out;
}

std::string ModelCost::ToJson() const {
  std::string out = "{";
  bool first = true;
  AppendMember(out, "cost", cost, first);
  AppendMember(out, "per_input_token", per_input_token, first);
  AppendMember(out, "per_cached_input_token", per_cached_input_token, first);
  AppendMember(out, "per_cached_input_write_token", per_cached_input_write_token, first);
  AppendMember(out, "per_output_token", per_output_token, first);
  AppendMember(out, "is_cache_used", is_cache_used, first);
  out += "}";
  return out;
}

std::string ApiInvokeCost(double cost) {
  std::string out;
  AppendNumber(out, cost);
  return out;
}

}  // namespace vllora::telemetry
