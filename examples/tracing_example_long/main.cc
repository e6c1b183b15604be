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
#include <string>

#include "agent_flow.h"
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
namespace tel = vllora::telemetry;

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
    asio::co_spawn(vllora::TaskExecutor(io.get_executor()), example::ExecuteFlow(), asio::detached);
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
