// tracing_example: the C++ port of vllora_telemetry's tracing_example.
//
// An AI-agent workflow traced with vLLora's span helpers, nested inside the application's own
// `execution` span, exported over OTLP (gRPC by default; OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
// or http/json, or --protocol, for OTLP/HTTP):
//
//   execution (app::runtime::execution)
//   └── run > agent > task > api_invoke > model_call > openai > tool   (vllora::user_tracing::*)
//
// Tracing is set up with one call, vllora::InitTracing() (vllora/setup/setup.h), which also reads
// the standard OTEL_* variables. examples/tracing_example_long/ builds the same pipeline piece by
// piece, as the seed's init_tracing() does.
//
// Usage: tracing_example [--otlp-endpoint URL] [--protocol P] [--verbose] [--console]
#define VLLORA_TARGET "tracing_example"

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent_flow.h"
#include "vllora/asio/task_executor.h"
#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/setup/setup.h"
#include "vllora/telemetry/helpers.h"

using namespace std::chrono_literals;
namespace tel = vllora::telemetry;

int main(int argc, char** argv) {
  std::string endpoint;
  std::string protocol;
  bool verbose = false;
  bool console = false;
  CLI::App app{"vLLora tracing example: an AI-agent workflow traced over OTLP"};
  app.add_option("--otlp-endpoint", endpoint,
                 "OTLP endpoint (default: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else "
                 "http://localhost:4317 for grpc, http://localhost:4318/v1/traces for http/*)");
  app.add_option("--protocol", protocol,
                 "grpc, http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_PROTOCOL, else "
                 "grpc)")
      ->check(CLI::IsMember({"grpc", "http/protobuf", "http/json"}));
  app.add_flag("-v,--verbose", verbose, "Debug logs (unless RUST_LOG is set)");
  app.add_flag("--console", console, "Also print every finished span to stdout");
  CLI11_PARSE(app, argc, argv);

  // Step 1: the whole pipeline in one call. Options set here override OTEL_*; RUST_LOG wins over
  // default_log_filter.
  vllora::TracingOptions options;
  options.tracer_name = "tracing_example";
  options.otel_targets = {"app::runtime"};
  options.default_log_filter = verbose ? "debug" : "info";
  options.export_timeout = 3s;
  if (!endpoint.empty()) options.endpoint = endpoint;
  if (protocol == "grpc") options.protocol = vllora::OtlpProtocol::kGrpc;
  if (protocol == "http/protobuf") options.protocol = vllora::OtlpProtocol::kHttpProtobuf;
  if (protocol == "http/json") options.protocol = vllora::OtlpProtocol::kHttpJson;
  if (console) {
    options.exporters = {vllora::TracesExporter::kOtlp, vllora::TracesExporter::kConsole};
  }
  vllora::TracingGuard tracing = vllora::InitTracing(options);
  if (!tracing.error().empty()) {
    std::fprintf(stderr, "tracing_example: invalid --otlp-endpoint: %s\n", tracing.error().c_str());
    return 2;
  }

  VLLORA_INFO("Tracing initialized.");
  VLLORA_INFO("  - Console exporter: {}",
              console ? "enabled (spans printed to stdout)" : "disabled (use --console)");
  VLLORA_INFO("  - Exporters: {}", tracing.description());

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

  // Steps 5-6: flush with a deadline (no fixed wait), then shut down; the guard's destructor
  // would do the same.
  VLLORA_INFO("Flushing spans...");
  tracing.Shutdown();
  const vllora::TracingStats stats = tracing.Stats();
  const std::string& target = tracing.endpoint();
  if (tracing.exporting_otlp() && stats.exported == stats.enqueued && stats.enqueued > 0) {
    std::printf("Exported %llu spans to %s (vllora.run_id %s).\n",
                static_cast<unsigned long long>(stats.exported), target.c_str(), run_id.c_str());
    return 0;
  }
  if (!tracing.exporting_otlp()) {
    std::printf("No OTLP exporter configured (%s).\n", tracing.description().c_str());
    return 0;
  }
  std::printf(
      "Could not deliver all spans to %s: %llu of %llu exported. Is an OTLP collector "
      "listening there?\n",
      target.c_str(), static_cast<unsigned long long>(stats.exported),
      static_cast<unsigned long long>(stats.enqueued));
  return 1;
}
