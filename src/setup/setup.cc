#include "vllora/setup/setup.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "otlp/otlp_env.h"
#include "otlp_http/otlp_http_options.h"
#include "setup/setup_config.h"
#include "vllora/otel/console_exporter.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otel/ids.h"
#include "vllora/otel/processor.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/otlp/otlp_grpc_exporter.h"
#include "vllora/otlp/otlp_http_exporter.h"
#include "vllora/subscriber/filter.h"
#include "vllora/subscriber/fmt_layer.h"
#include "vllora/telemetry/span_names.h"

namespace vllora {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Counters of whichever OTLP exporter was built: {exported, failed + rejected}.
struct ExporterCounts {
  uint64_t exported = 0;
  uint64_t lost = 0;
};

}  // namespace

const char* ToString(OtlpProtocol protocol) noexcept {
  switch (protocol) {
    case OtlpProtocol::kGrpc:
      return "grpc";
    case OtlpProtocol::kHttpProtobuf:
      return "http/protobuf";
    case OtlpProtocol::kHttpJson:
      return "http/json";
  }
  return "grpc";
}

struct TracingGuard::State {
  std::shared_ptr<otel::TracerProvider> provider;
  std::shared_ptr<otel::Tracer> tracer;
  std::shared_ptr<Registry> registry;
  std::unique_ptr<otel::TextMapPropagator> propagator;
  // Owned by `provider` (its processor chain), which this state keeps alive.
  otel::BatchSpanProcessor* batch = nullptr;
  otlp::OtlpGrpcExporter* grpc = nullptr;
  otlp::OtlpHttpExporter* http = nullptr;
  std::string description;
  std::string endpoint;
  std::string error;
  std::chrono::milliseconds shutdown_timeout{5000};
  bool shut_down = false;
  bool shutdown_result = true;

  ExporterCounts Counts() const noexcept {
    ExporterCounts counts;
    if (grpc != nullptr) {
      const otlp::OtlpExporterStats stats = grpc->Stats();
      counts.exported = stats.exported_spans;
      counts.lost = stats.failed_spans + stats.rejected_spans;
    } else if (http != nullptr) {
      const otlp::OtlpHttpExporterStats stats = http->Stats();
      counts.exported = stats.exported_spans;
      counts.lost = stats.failed_spans + stats.rejected_spans;
    }
    return counts;
  }
};

TracingGuard::TracingGuard(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
TracingGuard::TracingGuard(TracingGuard&& other) noexcept = default;

TracingGuard& TracingGuard::operator=(TracingGuard&& other) noexcept {
  if (this != &other) {
    Shutdown();
    state_ = std::move(other.state_);
  }
  return *this;
}

TracingGuard::~TracingGuard() { Shutdown(); }

bool TracingGuard::Shutdown() noexcept {
  if (!state_) return true;  // moved from
  State& s = *state_;
  if (s.shut_down) return s.shutdown_result;
  s.shut_down = true;
  const SteadyClock::time_point deadline = SteadyClock::now() + s.shutdown_timeout;
  // The flush may use 80% of the budget. The rest is kept for the provider's Shutdown, which
  // needs time of its own: against a receiver that never answers, the flush runs out while an
  // export is in flight, and only Shutdown cancels it (BatchSpanProcessor::Shutdown cancels at
  // 4/5 of its own deadline and then waits for the export thread). Given the 1 ms a whole-budget
  // flush left, it abandoned the export thread instead.
  const bool flushed = s.provider->ForceFlush(
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(s.shutdown_timeout * 4 / 5),
               std::chrono::milliseconds(1)));
  // Whatever the flush left of the budget (at least 1 ms, so Shutdown still runs).
  const auto left =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()),
               std::chrono::milliseconds(1));
  const bool stopped = s.provider->Shutdown(left);
  s.shutdown_result = flushed && stopped;
  return s.shutdown_result;
}

const std::shared_ptr<otel::TracerProvider>& TracingGuard::provider() const noexcept {
  return state_->provider;
}
const std::shared_ptr<otel::Tracer>& TracingGuard::tracer() const noexcept {
  return state_->tracer;
}
const std::shared_ptr<Registry>& TracingGuard::registry() const noexcept {
  return state_->registry;
}
const otel::TextMapPropagator& TracingGuard::propagator() const noexcept {
  return *state_->propagator;
}
bool TracingGuard::exporting_otlp() const noexcept {
  return state_->grpc != nullptr || state_->http != nullptr;
}
const std::string& TracingGuard::description() const noexcept { return state_->description; }
const std::string& TracingGuard::endpoint() const noexcept { return state_->endpoint; }
const std::string& TracingGuard::error() const noexcept { return state_->error; }

TracingStats TracingGuard::Stats() const noexcept {
  const State& s = *state_;
  TracingStats stats;
  if (s.batch == nullptr) return stats;
  const otel::BatchSpanProcessorStats batch = s.batch->Stats();
  const ExporterCounts counts = s.Counts();
  stats.enqueued = batch.enqueued;
  stats.exported = counts.exported;
  stats.dropped = batch.dropped_queue_full + counts.lost;
  return stats;
}

namespace {

struct BuiltExporter {
  std::unique_ptr<otel::SpanExporter> exporter;
  otlp::OtlpGrpcExporter* grpc = nullptr;
  otlp::OtlpHttpExporter* http = nullptr;
  // For description() and endpoint(): trimmed, user information ("user:token@") hidden.
  std::string endpoint;
};

// Builds the OTLP exporter of `protocol`; options in code override the environment.
BuiltExporter MakeOtlpExporter(const TracingOptions& options, OtlpProtocol protocol,
                               std::string* error) {
  BuiltExporter built;
  if (protocol == OtlpProtocol::kGrpc) {
    otlp::OtlpGrpcExporterOptions exporter_options = otlp::OtlpGrpcExporterOptions::FromEnv();
    if (options.endpoint) exporter_options.endpoint = *options.endpoint;
    if (options.headers) exporter_options.headers = *options.headers;
    if (options.export_timeout) exporter_options.timeout = *options.export_timeout;
    if (options.gzip) exporter_options.gzip = *options.gzip;
    built.endpoint =
        otlp::internal::RedactUrlCredentials(otlp::internal::TrimSpaces(exporter_options.endpoint));
    auto exporter = otlp::OtlpGrpcExporter::Create(exporter_options, error);
    built.grpc = exporter.get();
    built.exporter = std::move(exporter);
    return built;
  }
  // The protocol was resolved (and any invalid value reported) by ResolveTracingConfig.
  otlp::OtlpHttpExporterOptions exporter_options =
      otlp::internal::HttpOptionsFromEnv(/*read_protocol=*/false);
  exporter_options.protocol = protocol == OtlpProtocol::kHttpJson
                                  ? otlp::OtlpHttpProtocol::kJson
                                  : otlp::OtlpHttpProtocol::kProtobuf;
  if (options.endpoint) exporter_options.endpoint = *options.endpoint;
  if (options.headers) exporter_options.headers = *options.headers;
  if (options.export_timeout) exporter_options.timeout = *options.export_timeout;
  if (options.gzip) exporter_options.gzip = *options.gzip;
  built.endpoint =
      otlp::internal::RedactUrlCredentials(otlp::internal::TrimSpaces(exporter_options.endpoint));
  auto exporter = otlp::OtlpHttpExporter::Create(exporter_options, error);
  built.http = exporter.get();
  built.exporter = std::move(exporter);
  return built;
}

}  // namespace

TracingGuard InitTracing(const TracingOptions& options) {
  auto state = std::make_unique<TracingGuard::State>();
  state->shutdown_timeout = options.shutdown_timeout;
  internal::TracingConfig config = internal::ResolveTracingConfig(options);
  state->propagator = internal::MakePropagator(config.propagators);

  otel::Attributes extra = options.resource_attributes;
  if (options.service_name) extra.Set("service.name", std::string_view(*options.service_name));

  auto builder = otel::TracerProvider::builder();
  builder.WithResource(otel::Resource::Create(extra));
  builder.WithIdGenerator(otel::MakeUuidIdGenerator());
  if (config.disabled) {
    builder.WithSampler(otel::MakeAlwaysOffSampler());
    state->description = "disabled (OTEL_SDK_DISABLED)";
  } else {
    builder.WithSampler(std::move(config.sampler));
    std::vector<std::string> baggage_keys(telemetry::kBaggageKeys.begin(),
                                          telemetry::kBaggageKeys.end());
    builder.WithSpanProcessor(otel::MakeBaggageSpanProcessor(std::move(baggage_keys)));
    bool otlp_done = false;
    for (TracesExporter kind : config.exporters) {
      if (kind == TracesExporter::kOtlp && otlp_done) continue;  // at most one OTLP exporter
      if (!state->description.empty()) state->description += ", ";
      if (kind == TracesExporter::kConsole) {
        builder.WithSimpleExporter(otel::MakeConsoleSpanExporter(stdout));
        state->description += "console";
        continue;
      }
      otlp_done = true;
      std::string error;
      BuiltExporter built = MakeOtlpExporter(options, config.protocol, &error);
      state->description +=
          std::string("otlp ") + ToString(config.protocol) + " -> " + built.endpoint;
      if (built.exporter == nullptr) {
        state->error = error;
        state->description += " (not created: " + error + ")";
        otel::EmitDiagnostic(otel::DiagnosticLevel::kError,
                             "vllora::InitTracing: cannot create the OTLP exporter: " + error +
                                 "; spans will not be exported");
        continue;
      }
      state->grpc = built.grpc;
      state->http = built.http;
      state->endpoint = built.endpoint;
      auto batch = std::make_unique<otel::BatchSpanProcessor>(
          std::move(built.exporter),
          options.batch ? *options.batch : otel::BatchSpanProcessorOptions::FromEnv());
      state->batch = batch.get();
      builder.WithSpanProcessor(std::move(batch));
    }
    if (state->description.empty()) state->description = "none";
  }
  state->provider = builder.Build();
  state->tracer = state->provider->GetTracer(options.tracer_name);

  state->registry = Registry::Create();
  if (options.fmt_layer) {
    state->registry->With(MakeFmtLayer(), std::make_shared<EnvFilter>(
                                              EnvFilter::FromEnv(options.default_log_filter)));
  }
  if (!config.disabled) {
    state->registry->With(OtelLayer(telemetry::kTargetPrefix, options.otel_level, state->tracer));
    for (const std::string& target : options.otel_targets) {
      if (target == telemetry::kTargetPrefix) continue;
      state->registry->With(OtelLayer(target, options.otel_level, state->tracer));
    }
  }
  if (options.install_global) SetGlobalSubscriber(state->registry);
  return TracingGuard(std::move(state));
}

}  // namespace vllora
