// vLLora's span names, targets and baggage keys: the exact strings vLLora's backend reads.
#pragma once

#include <array>
#include <string_view>

namespace vllora::telemetry {

// Span names (the original's SPAN_* constants).
inline constexpr std::string_view kSpanQuery = "query";
inline constexpr std::string_view kSpanQueryEntities = "query_entities";
inline constexpr std::string_view kSpanApiStream = "api_stream";
inline constexpr std::string_view kSpanApiInvoke = "api_invoke";
inline constexpr std::string_view kSpanOpenai = "openai";
inline constexpr std::string_view kSpanGemini = "gemini";
inline constexpr std::string_view kSpanAnthropic = "anthropic";
inline constexpr std::string_view kSpanBedrock = "bedrock";
inline constexpr std::string_view kSpanCache = "cache";
inline constexpr std::string_view kSpanTools = "tools";
inline constexpr std::string_view kSpanTool = "tool";
inline constexpr std::string_view kSpanModelCall = "model_call";
inline constexpr std::string_view kSpanOpenaiSpec = "openai_spec";
inline constexpr std::string_view kSpanRequestRouting = "request_routing";
inline constexpr std::string_view kSpanGuardEvaluation = "guard_evaluation";
inline constexpr std::string_view kSpanVirtualModel = "virtual_model";
inline constexpr std::string_view kSpanRun = "run";
inline constexpr std::string_view kSpanAgent = "agent";
inline constexpr std::string_view kSpanTask = "task";

// Targets. kTargetPrefix is what the vLLora OTel layer filters on.
inline constexpr std::string_view kTargetPrefix = "vllora::user_tracing";
inline constexpr std::string_view kTargetRun = "vllora::user_tracing::run";
inline constexpr std::string_view kTargetAgent = "vllora::user_tracing::agent";
inline constexpr std::string_view kTargetTask = "vllora::user_tracing::task";
inline constexpr std::string_view kTargetApiInvoke = "vllora::user_tracing::api_invoke";
inline constexpr std::string_view kTargetModels = "vllora::user_tracing::models";
inline constexpr std::string_view kTargetTool = "vllora::user_tracing::tool";
inline constexpr std::string_view kTargetOpenai = "vllora::user_tracing::openai";
inline constexpr std::string_view kTargetAnthropic = "vllora::user_tracing::anthropic";
inline constexpr std::string_view kTargetGemini = "vllora::user_tracing::gemini";
inline constexpr std::string_view kTargetBedrock = "vllora::user_tracing::bedrock";

// Baggage keys the BaggageSpanProcessor copies onto every span.
inline constexpr std::string_view kRunIdKey = "vllora.run_id";
inline constexpr std::string_view kThreadIdKey = "vllora.thread_id";
inline constexpr std::string_view kLabelKey = "vllora.label";
inline constexpr std::string_view kTenantKey = "vllora.tenant";
inline constexpr std::string_view kProjectIdKey = "vllora.project_id";
inline constexpr std::array<std::string_view, 5> kBaggageKeys = {kRunIdKey, kThreadIdKey, kLabelKey,
                                                                 kTenantKey, kProjectIdKey};

// Attribute keys of the helpers.
inline constexpr std::string_view kAgentNameKey = "vllora.agent_name";
inline constexpr std::string_view kTaskNameKey = "vllora.task_name";
inline constexpr std::string_view kToolNameKey = "vllora.tool_name";

}  // namespace vllora::telemetry
