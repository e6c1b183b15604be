// vLLora span helpers: the seed's create_*_span! macros, with vLLora's exact span names, targets
// and attribute keys. Each macro captures its callsite (so a disabled helper costs one byte load)
// and returns a vllora::Span; each has a plain-function twin.
//
//   auto run = VLLORA_CREATE_RUN_SPAN({{"environment", "example"}});
//   auto agent = VLLORA_CREATE_AGENT_SPAN("research_assistant");
//   auto call = VLLORA_CREATE_MODEL_INVOKE_SPAN("{}", model_json, "openai", "gpt-4", "gpt-4",
//                                               "own", {{"model_type", "completion"}});
//   call.Record("usage", vllora::telemetry::Usage{.input_tokens = 10, .output_tokens =
//   8}.ToJson()); auto openai = VLLORA_CREATE_MODEL_SPAN(vllora::telemetry::kSpanOpenai,
//                                          vllora::telemetry::kTargetOpenai, openai_tags, 0);
//
// Fields that the original declares empty (output, error, usage, …) are simply recorded later
// with Span::Record; every key is accepted. Depends on the core only.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "vllora/core/macros.h"
#include "vllora/core/span.h"
#include "vllora/telemetry/span_names.h"
#include "vllora/telemetry/values.h"

namespace vllora::telemetry {

/// `run` span: fields `tags`.
Span CreateRunSpan(const Tags& tags = {});
/// `agent` span: field `vllora.agent_name`.
Span CreateAgentSpan(std::string_view name);
/// `task` span: field `vllora.task_name`.
Span CreateTaskSpan(std::string_view name);
/// `api_invoke` span (the seed's thread span): field `tags`; record `request`, `response`,
/// `error`, `thread_id`, `cost` (ApiInvokeCost), `credentials_identifier`, `router_name`, `user`,
/// `usage`, `title` later.
Span CreateApiInvokeSpan(const Tags& tags = {});
inline Span CreateThreadSpan(const Tags& tags = {}) { return CreateApiInvokeSpan(tags); }
/// `model_call` span under the current span, or under `parent` when it is not null.
Span CreateModelInvokeSpan(std::string_view input, std::string_view model,
                           std::string_view provider_name, std::string_view model_name,
                           std::string_view inference_model_name,
                           std::string_view credentials_identifier, const Tags& tags = {},
                           const Span* parent = nullptr);
/// A provider span (`openai`, `anthropic`, …) with target `target`: fields `tags`,
/// `retries_left` and any `extra` fields.
Span CreateModelSpan(std::string_view name, std::string_view target, const Tags& tags,
                     int64_t retries_left = 0, std::initializer_list<Field> extra = {});
/// `tool` span: fields `vllora.tool_name`, `tags`.
Span CreateToolSpan(std::string_view name, const Tags& tags = {});

/// Records a success value as `output`.
void RecordOutput(const Span& span, const Value& output);
/// Records a failure: `error` = message (the OTel layer also sets the span status to ERROR).
void RecordError(const Span& span, std::string_view message);
/// Records an expected-like result (has_value(), value(), error()): `output` or `error`.
template <class Result>
requires requires(const Result& r) {
  r.has_value();
  r.value();
  r.error();
}
void RecordResult(const Span& span, const Result& result) {
  if (result.has_value()) {
    RecordOutput(span, Value(result.value()));
  } else {
    RecordError(span, std::string_view(result.error()));
  }
}

}  // namespace vllora::telemetry

#define VLLORA_INTERNAL_TEL_SPAN(target, name, ...) \
  VLLORA_SPAN(::vllora::Level::kInfo, target, name, __VA_ARGS__)

/// `run` span; the argument is the tags (a Tags, a map, `{{"k","v"}}` or nlohmann::json).
#define VLLORA_CREATE_RUN_SPAN(...)                                                        \
  VLLORA_INTERNAL_TEL_SPAN(::vllora::telemetry::kTargetRun, ::vllora::telemetry::kSpanRun, \
                           {"tags", ::vllora::telemetry::TagsJson(__VA_ARGS__)})
/// `agent` span named `name`.
#define VLLORA_CREATE_AGENT_SPAN(name)                                                         \
  VLLORA_INTERNAL_TEL_SPAN(::vllora::telemetry::kTargetAgent, ::vllora::telemetry::kSpanAgent, \
                           {::vllora::telemetry::kAgentNameKey, ::vllora::Value(name)})
/// `task` span named `name`.
#define VLLORA_CREATE_TASK_SPAN(name)                                                        \
  VLLORA_INTERNAL_TEL_SPAN(::vllora::telemetry::kTargetTask, ::vllora::telemetry::kSpanTask, \
                           {::vllora::telemetry::kTaskNameKey, ::vllora::Value(name)})
/// `api_invoke` span; the argument is the tags.
#define VLLORA_CREATE_API_INVOKE_SPAN(...)                        \
  VLLORA_INTERNAL_TEL_SPAN(::vllora::telemetry::kTargetApiInvoke, \
                           ::vllora::telemetry::kSpanApiInvoke,   \
                           {"tags", ::vllora::telemetry::TagsJson(__VA_ARGS__)})
/// The seed's create_thread_span!: the `api_invoke` span.
#define VLLORA_CREATE_THREAD_SPAN(...) VLLORA_CREATE_API_INVOKE_SPAN(__VA_ARGS__)
/// `model_call` span: (input, model, provider_name, model_name, inference_model_name,
/// credentials_identifier[, tags]).
#define VLLORA_CREATE_MODEL_INVOKE_SPAN(input, model, provider_name, model_name,                   \
                                        inference_model_name, credentials_identifier, ...)         \
  VLLORA_INTERNAL_TEL_SPAN(::vllora::telemetry::kTargetModels,                                     \
                           ::vllora::telemetry::kSpanModelCall, {"input", ::vllora::Value(input)}, \
                           {"model", ::vllora::Value(model)},                                      \
                           {"provider_name", ::vllora::Value(provider_name)},                      \
                           {"model_name", ::vllora::Value(model_name)},                            \
                           {"inference_model_name", ::vllora::Value(inference_model_name)},        \
                           {"credentials_identifier", ::vllora::Value(credentials_identifier)},    \
                           {"tags", ::vllora::telemetry::TagsJson(__VA_ARGS__)})
/// A provider span: (name, target, tags, retries_left[, {key, value}…]). `name` and `target`
/// must be constants (kSpanOpenai, kTargetOpenai, or literals).
#define VLLORA_CREATE_MODEL_SPAN(name, target, tags, retries_left, ...)                   \
  VLLORA_INTERNAL_TEL_SPAN(target, name, {"tags", ::vllora::telemetry::TagsJson(tags)},   \
                           {"retries_left", ::vllora::Value(retries_left)} __VA_OPT__(, ) \
                               __VA_ARGS__)
/// `tool` span: (name[, tags]).
#define VLLORA_CREATE_TOOL_SPAN(name, ...)                                                   \
  VLLORA_INTERNAL_TEL_SPAN(::vllora::telemetry::kTargetTool, ::vllora::telemetry::kSpanTool, \
                           {::vllora::telemetry::kToolNameKey, ::vllora::Value(name)},       \
                           {"tags", ::vllora::telemetry::TagsJson(__VA_ARGS__)})
