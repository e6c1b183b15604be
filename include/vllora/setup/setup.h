// One-call tracing setup: the seed's whole `init_tracing()` — exporter, batch processor, baggage
// processor with the vLLora keys, UUID ids, sampler, resource, fmt layer + env filter, OTel
// layers for the given target prefixes — configured from code and the standard OTEL_* variables,
// installed as the global subscriber, and torn down by the returned guard.
//
//   int main() {
//     vllora::TracingGuard tracing = vllora::InitTracing();   // reads OTEL_*, RUST_LOG
//     ... VLLORA_CREATE_RUN_SPAN(...) ...
//   }  // ~TracingGuard: flush (within TracingOptions::shutdown_timeout), then shut down
//
// Pipeline built:
//
//   facade spans ─ Registry ─┬─ fmt layer (EnvFilter from RUST_LOG) ─> stderr
//                            └─ OtelLayer per target prefix ─> Tracer ─> TracerProvider
//        TracerProvider: BaggageSpanProcessor(vLLora keys) -> [console] -> BatchSpanProcessor
//                        -> OTLP exporter (grpc | http/protobuf | http/json)
//
// Configuration (a value set in TracingOptions wins over the environment; an invalid variable
// gives one kWarn diagnostic naming it and its value, and the default applies):
//   OTEL_SDK_DISABLED            true: no OTel layers, no exporter (logging still works)
//   OTEL_TRACES_EXPORTER         comma list of otlp | console | none (default otlp)
//   OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL   grpc | http/protobuf | http/json (default grpc, since
//                                vLLora listens for OTLP/gRPC; the spec's default is http/protobuf)
//   OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION,CERTIFICATE,CLIENT_KEY,
//                                CLIENT_CERTIFICATE,INSECURE}  see otlp_grpc_exporter.h and
//                                otlp_http_exporter.h
//   OTEL_TRACES_SAMPLER[_ARG]    always_on | always_off | traceidratio | parentbased_always_on
//                                (default) | parentbased_always_off | parentbased_traceidratio
//   OTEL_PROPAGATORS             comma list of tracecontext | baggage | none
//                                (default tracecontext,baggage)
//   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES   see otel::Resource::Create
//   OTEL_BSP_*                   see otel::BatchSpanProcessorOptions::FromEnv
//   OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_SPAN_{ATTRIBUTE,EVENT,LINK}_COUNT_LIMIT
//                                see otel::SpanLimits::FromEnv
//   RUST_LOG                     the fmt layer's EnvFilter
//
// For the long form (every piece built by hand) see examples/tracing_example_long/.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vllora/core/level.h"
#include "vllora/otel/attributes.h"
#include "vllora/otel/batch_span_processor.h"
#include "vllora/otel/propagation.h"
#include "vllora/otel/tracer.h"
#include "vllora/otel/tracer_provider.h"
#include "vllora/subscriber/registry.h"

namespace vllora {

/// Where finished spans go (OTEL_TRACES_EXPORTER).
enum class TracesExporter { kOtlp, kConsole, kNone };

/// The OTLP transport and encoding (OTEL_EXPORTER_OTLP_PROTOCOL).
enum class OtlpProtocol { kGrpc, kHttpProtobuf, kHttpJson };

/// "grpc", "http/protobuf", "http/json".
const char* ToString(OtlpProtocol protocol) noexcept;

/// Everything InitTracing() sets up. Unset optionals come from the environment, then defaults.
struct TracingOptions {
  /// OTEL_SDK_DISABLED. True: no spans are exported or bridged; logging still works.
  std::optional<bool> sdk_disabled;
  /// OTEL_TRACES_EXPORTER. Several entries = several exporters (e.g. otlp and console);
  /// kNone alone = no exporter.
  std::optional<std::vector<TracesExporter>> exporters;
  /// OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL.
  std::optional<OtlpProtocol> protocol;
  /// The OTLP endpoint, used as it is: "http://host:4317" for grpc, the full URL
  /// ("http://host:4318/v1/traces") for http/*. Unset: the environment, then the default of the
  /// chosen protocol.
  std::optional<std::string> endpoint;
  /// Extra OTLP headers (gRPC metadata or HTTP headers). Replace the environment's when set.
  std::optional<std::vector<std::pair<std::string, std::string>>> headers;
  /// Deadline of one export, retries included (OTEL_EXPORTER_OTLP_TIMEOUT).
  std::optional<std::chrono::milliseconds> export_timeout;
  /// gzip request bodies (OTEL_EXPORTER_OTLP_COMPRESSION).
  std::optional<bool> gzip;
  /// Sampler name and argument, as in OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
  std::optional<std::string> sampler;
  std::optional<std::string> sampler_arg;
  /// Resource attributes merged over OTEL_RESOURCE_ATTRIBUTES; `service_name` over
  /// OTEL_SERVICE_NAME.
  std::optional<std::string> service_name;
  otel::Attributes resource_attributes;
  /// Batch processor settings (default: BatchSpanProcessorOptions::FromEnv()).
  std::optional<otel::BatchSpanProcessorOptions> batch;

  /// Target prefixes bridged to OpenTelemetry, in addition to "vllora::user_tracing" (always).
  std::vector<std::string> otel_targets;
  /// Most verbose level the OTel layers bridge.
  LevelFilter otel_level = LevelFilter::kInfo;
  /// Add the fmt layer (log lines on stderr).
  bool fmt_layer = true;
  /// EnvFilter spec for the fmt layer when RUST_LOG is unset or empty.
  std::string default_log_filter = "info";
  /// Name of the tracer the OTel layers use (the instrumentation scope).
  std::string tracer_name = "vllora";
  /// Install the registry as the global subscriber (vllora::SetGlobalSubscriber).
  bool install_global = true;
  /// How long the guard's destructor (or Shutdown()) may take to flush and shut down.
  std::chrono::milliseconds shutdown_timeout{5000};
};

/// Span counters of a tracing setup (a snapshot; see TracingGuard::Stats()).
struct TracingStats {
  /// Spans handed to the batch processor.
  uint64_t enqueued = 0;
  /// Spans the OTLP receiver accepted.
  uint64_t exported = 0;
  /// Spans lost: queue full, failed exports, or rejected by the receiver.
  uint64_t dropped = 0;
};

/// Owns what InitTracing() built. Move-only. Its destructor calls Shutdown().
/// Thread-safety: const members are safe from any thread; Shutdown() and the destructor from one.
/// Lifetime: a moved-from guard may only be destroyed or assigned to; its other members must not
/// be called.
class TracingGuard {
 public:
  TracingGuard(TracingGuard&& other) noexcept;
  TracingGuard& operator=(TracingGuard&& other) noexcept;
  TracingGuard(const TracingGuard&) = delete;
  TracingGuard& operator=(const TracingGuard&) = delete;
  ~TracingGuard();

  /// Flushes pending spans and shuts the provider down, together within
  /// TracingOptions::shutdown_timeout (the flush gets at most 4/5 of it, so the provider's
  /// shutdown can still cancel an export stuck on a silent receiver); returns false if that
  /// deadline passed first. The global subscriber stays installed (log lines keep working;
  /// bridged spans stop recording).
  /// Idempotent. Blocking: up to shutdown_timeout. Never throws.
  bool Shutdown() noexcept;

  /// The provider (never null; without exporters when disabled).
  const std::shared_ptr<otel::TracerProvider>& provider() const noexcept;
  /// The tracer the OTel layers use (never null).
  const std::shared_ptr<otel::Tracer>& tracer() const noexcept;
  /// The registry that was (or, with install_global = false, was not) installed.
  const std::shared_ptr<Registry>& registry() const noexcept;
  /// The propagator OTEL_PROPAGATORS asked for, to inject into / extract from headers.
  const otel::TextMapPropagator& propagator() const noexcept;
  /// Exported / dropped counters. Allocation: none.
  TracingStats Stats() const noexcept;
  /// True when an OTLP exporter is configured and was created.
  bool exporting_otlp() const noexcept;
  /// One line for logs, e.g. "otlp http/json -> http://localhost:4318/v1/traces", "console",
  /// "disabled (OTEL_SDK_DISABLED)".
  const std::string& description() const noexcept;
  /// The OTLP endpoint in use ("" without an OTLP exporter), for logs: user information in the
  /// URL is hidden ("https://user:***@host/v1/traces"), as in description().
  const std::string& endpoint() const noexcept;
  /// Why the OTLP exporter could not be created ("" if it was, or none was asked for).
  const std::string& error() const noexcept;

 private:
  friend TracingGuard InitTracing(const TracingOptions& options);
  struct State;
  explicit TracingGuard(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

/// Builds the pipeline described at the top of this file and (by default) installs it as the
/// global subscriber. Never fails: an OTLP exporter that cannot be created (bad endpoint, missing
/// certificate) is reported once as a kError diagnostic and in TracingGuard::error(), and tracing
/// continues without it. Blocking: reads the environment and certificate files.
/// Errors: std::bad_alloc propagates.
TracingGuard InitTracing(const TracingOptions& options = {});

}  // namespace vllora
