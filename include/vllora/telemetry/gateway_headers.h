// The HTTP headers the vLLora gateway reads, built from the current execution context, so a call
// to the gateway joins the caller's trace, run and thread:
//
//   auto run = VLLORA_CREATE_RUN_SPAN();
//   auto entered = run.Enter();
//   for (const auto& [name, value] : vllora::telemetry::GatewayHeaders({.thread_title = "Chat"}))
//     request.set_header(name, value);
//
// The span part comes from the current facade span as bridged by an OTel layer (or, without
// one, from the attached otel::Context, e.g. a remote parent); the run, thread, label and project
// ids come from the baggage of the attached otel::Context (keys in span_names.h).
//
// Although this header lives with the telemetry helpers, GatewayHeaders() is compiled into the
// `vllora::otel_layer` target because it needs the OTel SDK and the bridge: link vllora::otel_layer
// to use it. This header itself includes only the standard library and values.h.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "vllora/telemetry/values.h"

namespace vllora::telemetry {

/// What GatewayHeaders() adds beyond what the context carries.
struct GatewayHeaderOptions {
  /// Sent as `X-Thread-Title` when not empty.
  std::string thread_title;
  /// Sent as `x-tags` (JSON object text, keys sorted) when it has at least one entry.
  Tags tags;
};

/// The headers for a request to the vLLora gateway, in this order, each only when it has a value:
///
///   `traceparent`     W3C trace context of the current span (via the TraceContext propagator),
///   `tracestate`      only when the span context carries one,
///   `X-Run-Id`        baggage `vllora.run_id`,
///   `X-Thread-Id`     baggage `vllora.thread_id`,
///   `x-label`         baggage `vllora.label`,
///   `X-Thread-Title`  options.thread_title,
///   `x-tags`          options.tags as JSON object text,
///   `X-Project-Id`    baggage `vllora.project_id`.
///
/// Empty baggage values are treated as unset. Thread-safety: reads only this thread's context;
/// safe from any thread. Allocation: the returned strings. Errors: never throws; on allocation
/// failure returns an empty list.
std::vector<std::pair<std::string, std::string>> GatewayHeaders(
    const GatewayHeaderOptions& options = {}) noexcept;

}  // namespace vllora::telemetry
