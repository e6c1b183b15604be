// The seed's agent workflow, shared by tracing_example and tracing_example_long: each level is a
// coroutine that creates its span and instruments the next level with it.
#define VLLORA_TARGET "tracing_example"

#include "agent_flow.h"

#include <asio.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "vllora/core/core.h"
#include "vllora/telemetry/helpers.h"

namespace example {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace tel = vllora::telemetry;

asio::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// Hierarchy: execution > run > agent > task > api_invoke > model_call > openai > tool.
// Each level creates its span and instruments the next level with it.

asio::awaitable<void> ToolOperation() {
  auto tool_span = VLLORA_CREATE_TOOL_SPAN("search_web", {{"tool_type", "function"}});
  VLLORA_INFO("7. Created tool span");
  tool_span.Record("input", "search query: Paris");
  tool_span.Record("output", "Search results...");
  co_await vllora::Instrument(Sleep(50ms), tool_span);
}

asio::awaitable<void> OpenaiOperationInner() {
  co_await Sleep(100ms);  // the provider call
  // Recorded after the async work, on whatever span is current here: the openai span.
  vllora::Span::Current().Record("ttft", uint64_t{843129});
  co_await ToolOperation();
}

asio::awaitable<void> OpenaiOperation() {
  auto openai_span = VLLORA_CREATE_MODEL_SPAN(tel::kSpanOpenai, tel::kTargetOpenai,
                                              (tel::Tags{{"provider", "openai"}}), 0);
  VLLORA_INFO("6. Created openai span");
  json request = {{"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})},
                  {"model", "gpt-4o-mini"},
                  {"stream", true},
                  {"stream_options", {{"include_usage", true}}}};
  openai_span.Record("request", request);
  openai_span.Record("input", json::array({{{"role", "user"}, {"content", "Hello"}}}));
  openai_span.Record("retries_left", uint64_t{0});
  tel::Usage usage;
  usage.input_tokens = 8;
  usage.output_tokens = 9;
  usage.total_tokens = 17;
  openai_span.Record("usage", usage.ToJson());
  json raw_usage = {{"prompt_tokens", 8},
                    {"completion_tokens", 9},
                    {"total_tokens", 17},
                    {"prompt_tokens_details", {{"audio_tokens", 0}, {"cached_tokens", 0}}},
                    {"completion_tokens_details",
                     {{"accepted_prediction_tokens", 0},
                      {"audio_tokens", 0},
                      {"reasoning_tokens", 0},
                      {"rejected_prediction_tokens", 0}}}};
  openai_span.Record("raw_usage", raw_usage);
  openai_span.Record("cost", 6.600000262260437e-6);
  json output = {{"id", "chatcmpl-Cs1HXW4hkAGDQjlv5F8REozH9V0ZL"},
                 {"choices", json::array({{{"index", 0},
                                           {"message",
                                            {{"content", "Hello! How can I assist you today?"},
                                             {"tool_calls", json::array()},
                                             {"role", "assistant"}}},
                                           {"finish_reason", "stop"}}})},
                 {"created", 1766990675},
                 {"model", "gpt-4o-mini-2024-07-18"},
                 {"object", "chat.completion"},
                 {"usage", raw_usage}};
  openai_span.Record("output", output);
  co_await vllora::Instrument(OpenaiOperationInner(), openai_span);
}

asio::awaitable<void> ModelInvokeOperation() {
  json model = {{"name", "gpt-4"},
                {"provider_name", "openai"},
                {"engine_name", "openai"},
                {"model_params",
                 {{"engine", {{"OpenAi", {{"params", {{"temperature", 0.7}}}}}}},
                  {"provider_name", "openai"}}},
                {"model_name", "gpt-4"},
                {"tools", json::array()},
                {"model_type", "completions"}};
  std::string model_text = model.dump();
  auto model_invoke_span = VLLORA_CREATE_MODEL_INVOKE_SPAN(
      "{}", model_text, "openai", "gpt-4", "gpt-4", "own", {{"model_type", "completion"}});
  VLLORA_INFO("5. Created model invoke span");
  model_invoke_span.Record("input", "What is the capital of France?");
  model_invoke_span.Record("output", "The capital of France is Paris.");
  tel::Usage usage;
  usage.input_tokens = 10;
  usage.output_tokens = 8;
  usage.total_tokens = 18;
  model_invoke_span.Record("usage", usage.ToJson());
  tel::ModelCost cost;
  cost.cost = 0.000301;
  cost.per_input_token = 1.0;
  cost.per_cached_input_token = 0.5;
  cost.per_cached_input_write_token = 0.0;
  cost.per_output_token = 3.0;
  model_invoke_span.Record("cost", cost.ToJson());
  model_invoke_span.Record("ttft", uint64_t{150});  // microseconds
  co_await vllora::Instrument(OpenaiOperation(), model_invoke_span);
}

asio::awaitable<void> ThreadOperation() {
  auto thread_span =
      VLLORA_CREATE_THREAD_SPAN({{"user_id", "user123"}, {"session_id", "session456"}});
  VLLORA_INFO("4. Created thread span");
  co_await vllora::Instrument(ModelInvokeOperation(), thread_span);
}

asio::awaitable<void> TaskOperation() {
  auto task_span = VLLORA_CREATE_TASK_SPAN("gather_information");
  VLLORA_INFO("3. Created task span");
  co_await vllora::Instrument(ThreadOperation(), task_span);
}

asio::awaitable<void> AgentOperation() {
  auto agent_span = VLLORA_CREATE_AGENT_SPAN("research_assistant");
  VLLORA_INFO("2. Created agent span");
  co_await vllora::Instrument(TaskOperation(), agent_span);
}

asio::awaitable<void> RunOperation() {
  auto run_span = VLLORA_CREATE_RUN_SPAN({{"environment", "example"}});
  VLLORA_INFO("1. Created run span");
  co_await vllora::Instrument(AgentOperation(), run_span);
}

}  // namespace

// The application's own span, captured by the `app::runtime` OTel layer.
asio::awaitable<void> ExecuteFlow() {
  auto span = VLLORA_INFO_SPAN("app::runtime::execution", "execution", {"execution_id", 123});
  co_await vllora::Instrument(RunOperation(), span);
}

}  // namespace example
