// tracing_example_long: tracing_example with the tracing pipeline built by hand, step by step,
// as the seed's init_tracing() does (tracing_example itself uses vllora::InitTracing()).
//
// An AI-agent workflow traced with vLLora's span helpers, nested inside the application's own
// `execution` span, exported over OTLP/gRPC, or OTLP/HTTP when OTEL_EXPORTER_OTLP_PROTOCOL is
// http/protobuf or http/json:
//
//   execution (app::runtime::execution)
//   └── run > agent > task > api_invoke > model_call > openai > tool   (vllora::user_tracing::*)
//
// Usage: tracing_example_long [--otlp-endpoint URL] [--verbose] [--console]
#define VLLORA_TARGET "tracing_example"

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "vllora/asio/task_executor.h"
#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/otlp/otlp_grpc_exporter.h"
#include "vllora/otlp/otlp_http_exporter.h"
#include "vllora/subscriber/filter.h"
#include "vllora/subscriber/fmt_layer.h"
#include "vllora/subscriber/registry.h"
#include "vllora/telemetry/helpers.h"

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

// The application's own span, captured by the `app::runtime` OTel layer.
asio::awaitable<void> ExecuteFlow() {
  auto span = VLLORA_INFO_SPAN("app::runtime::execution", "execution", {"execution_id", 123});
  co_await vllora::Instrument(RunOperation(), span);
}

// The exporter OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL asks for, with its counters.
struct Exporter {
  std::unique_ptr<vllora::otel::SpanExporter> exporter;
  std::function<uint64_t()> exported_spans;
};

Exporter MakeExporter(std::string_view protocol, const std::string& endpoint, std::string* error) {
  Exporter out;
  if (protocol == "http/protobuf" || protocol == "http/json") {
    vllora::otlp::OtlpHttpExporterOptions options =
        vllora::otlp::OtlpHttpExporterOptions::FromEnv();
    options.endpoint = endpoint;
    options.timeout = 3s;
    auto exporter = vllora::otlp::OtlpHttpExporter::Create(options, error);
    if (exporter == nullptr) return out;
    auto* raw = exporter.get();
    out.exported_spans = [raw] { return raw->Stats().exported_spans; };
    out.exporter = std::move(exporter);
    return out;
  }
  vllora::otlp::OtlpGrpcExporterOptions options = vllora::otlp::OtlpGrpcExporterOptions::FromEnv();
  options.endpoint = endpoint;
  options.timeout = 3s;
  auto exporter = vllora::otlp::OtlpGrpcExporter::Create(options, error);
  if (exporter == nullptr) return out;
  auto* raw = exporter.get();
  out.exported_spans = [raw] { return raw->Stats().exported_spans; };
  out.exporter = std::move(exporter);
  return out;
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string protocol = EnvOr("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                                     EnvOr("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc").c_str());
  std::string endpoint =
      protocol == "grpc" ? "http://localhost:4317" : "http://localhost:4318/v1/traces";
  bool verbose = false;
  bool console = false;
  CLI::App app{"vLLora tracing example: an AI-agent workflow traced over OTLP/gRPC"};
  app.add_option("--otlp-endpoint", endpoint,
                 "OTLP endpoint (grpc: host:port URL; http/*: full URL)")
      ->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "Debug logs (unless RUST_LOG is set)");
  app.add_flag("--console", console, "Also print every finished span to stdout");
  CLI11_PARSE(app, argc, argv);

  // RUST_LOG wins; otherwise --verbose means debug, else info.
  const char* rust_log = std::getenv("RUST_LOG");
  std::string default_filter = verbose ? "debug" : "info";
  if (rust_log != nullptr && *rust_log != '\0') default_filter = rust_log;

  // Step 1: exporter, tracer provider (baggage processor, batch export, UUID ids), layers.
  std::string error;
  Exporter exporter = MakeExporter(protocol, endpoint, &error);
  if (exporter.exporter == nullptr) {
    std::fprintf(stderr, "tracing_example_long: invalid --otlp-endpoint: %s\n", error.c_str());
    return 2;
  }
  auto batch = std::make_unique<vllora::otel::BatchSpanProcessor>(
      std::move(exporter.exporter), vllora::otel::BatchSpanProcessorOptions::FromEnv());
  vllora::otel::BatchSpanProcessor* batch_processor = batch.get();

  std::vector<std::string> baggage_keys(tel::kBaggageKeys.begin(), tel::kBaggageKeys.end());
  auto builder = vllora::otel::TracerProvider::builder();
  builder.WithSpanProcessor(vllora::otel::MakeBaggageSpanProcessor(baggage_keys));
  if (console) builder.WithSimpleExporter(vllora::otel::MakeConsoleSpanExporter(stdout));
  builder.WithSpanProcessor(std::move(batch)).WithIdGenerator(vllora::otel::MakeUuidIdGenerator());
  std::shared_ptr<vllora::otel::TracerProvider> provider = builder.Build();
  std::shared_ptr<vllora::otel::Tracer> tracer = provider->GetTracer("tracing_example");

  auto registry = vllora::Registry::Create();
  registry
      ->With(vllora::MakeFmtLayer(),
             std::make_shared<vllora::EnvFilter>(vllora::EnvFilter::FromEnv(default_filter)))
      .With(vllora::OtelLayer(tel::kTargetPrefix, vllora::LevelFilter::kInfo, tracer))
      .With(vllora::OtelLayer("app::runtime", vllora::LevelFilter::kInfo, tracer));
  vllora::SetGlobalSubscriber(registry);

  VLLORA_INFO("Tracing initialized.");
  VLLORA_INFO("  - Console exporter: {}",
              console ? "enabled (spans printed to stdout)" : "disabled (use --console)");
  VLLORA_INFO("  - OTLP exporter: enabled ({} to: {})", protocol, endpoint);

  // Step 2: baggage on the context, attached to the outermost async block.
  auto ids = vllora::otel::MakeUuidIdGenerator();
  std::string run_id = vllora::otel::TraceIdToUuid(ids->GenerateTraceId());
  std::string thread_id = vllora::otel::TraceIdToUuid(ids->GenerateTraceId());
  vllora::otel::Context context = vllora::otel::Context::Current().WithBaggage(
      {{tel::kRunIdKey, run_id}, {tel::kThreadIdKey, thread_id}, {tel::kTenantKey, "default"}});
  VLLORA_INFO("Set context baggage: run_id={}, thread_id={}", run_id, thread_id);

  asio::io_context io;
  {
    auto attached = context.Attach();  // the task below starts in this context
    asio::co_spawn(vllora::TaskExecutor(io.get_executor()), ExecuteFlow(), asio::detached);
  }
  io.run();

  // Steps 5-6: flush with a deadline (no fixed wait), then shut down.
  VLLORA_INFO("Flushing spans...");
  provider->ForceFlush(3s);
  provider->Shutdown(2s);
  vllora::otel::BatchSpanProcessorStats stats = batch_processor->Stats();
  const uint64_t exported_spans = exporter.exported_spans();
  if (exported_spans == stats.enqueued && stats.enqueued > 0) {
    std::printf("Exported %llu spans to %s (vllora.run_id %s).\n",
                static_cast<unsigned long long>(exported_spans), endpoint.c_str(), run_id.c_str());
    return 0;
  }
  uint64_t total = stats.enqueued + stats.dropped_queue_full;
  std::printf(
      "Could not deliver all spans to %s: %llu of %llu exported. Is an OTLP collector "
      "listening there?\n",
      endpoint.c_str(), static_cast<unsigned long long>(exported_spans),
      static_cast<unsigned long long>(total));
  return 1;
}
