// The bridge from facade spans to OpenTelemetry spans — the seed's `events::layer(...)`.
//
//   auto tracer = provider->GetTracer("tracing_example");
//   registry->With(vllora::OtelLayer("vllora::user_tracing", vllora::LevelFilter::kInfo, tracer))
//           .With(vllora::OtelLayer("app::runtime", vllora::LevelFilter::kInfo, tracer));
//
// Each facade span the layer's filter lets through becomes an SDK span: its name, its fields as
// attributes (recorded fields are applied before export), start at creation and end at close.
// Its parent is the nearest ancestor facade span that any OTel layer bridged, else the span in
// the attached otel::Context (so spans nest under a remote `traceparent`). Layers sharing one
// tracer therefore put their spans in one trace. Events inside a bridged span become span events.
//
// Special fields (not exported as attributes): `otel.name` renames the span, `otel.kind` (server,
// client, producer, consumer, internal) sets the kind at creation, `otel.status_code` (ok, error)
// and `otel.status_message` set the status. A non-empty string `error` field sets status ERROR
// and is exported as the `error` attribute (vLLora reads the attribute, others the status).
#pragma once

#include <memory>
#include <string_view>

#include "vllora/core/level.h"
#include "vllora/core/span.h"
#include "vllora/otel/context.h"
#include "vllora/otel/span_context.h"
#include "vllora/otel/tracer.h"
#include "vllora/subscriber/registry.h"

namespace vllora {

struct OtelLayerOptions {
  /// Adds `code.filepath`, `code.lineno` and `code.namespace` (the target) to every span.
  bool with_location = false;
  /// Turns events inside bridged spans into span events.
  bool with_events = true;
  /// When the tracer's sampler drops every new root by a fixed rule (AlwaysOff,
  /// ParentBased(AlwaysOff), TraceIdRatio(0)), ask it before each span of this layer's
  /// callsites, before the span's fields are evaluated: a span it would drop is not made at all
  /// (the macro returns a disabled Span: ~100 instructions instead of ~1,100). Differs from the
  /// OTel API only in that no non-recording span exists for it: inside it, the current span
  /// and the propagated context are those of its parent. Ignored when another layer (e.g. fmt)
  /// also wants the callsite.
  bool skip_spans_the_sampler_drops = true;
};

/// A layer that bridges every span it sees to `tracer`. Thread-safety: safe from any thread.
/// Also makes Bind/TaskExecutor carry the otel::Context (EnableOtelContextPropagation).
std::shared_ptr<Layer> MakeOtelLayer(std::shared_ptr<otel::Tracer> tracer,
                                     OtelLayerOptions options = {});

/// The seed's `events::layer(target_prefix, level, tracer)`: an OTel layer with a TargetFilter.
FilteredLayer OtelLayer(std::string_view target_prefix, LevelFilter level,
                        std::shared_ptr<otel::Tracer> tracer, OtelLayerOptions options = {});

/// Registers the otel::Context as part of the execution context captured by vllora::Bind and
/// restored by TaskExecutor, so baggage follows work across threads and coroutines. Idempotent.
void EnableOtelContextPropagation() noexcept;

/// The OTel span context of a facade span (invalid when no OTel layer bridged it).
otel::SpanContext OtelSpanContext(const Span& span) noexcept;

/// The attached otel::Context with the current facade span as its active span: what to inject
/// into outgoing request headers with a propagator.
otel::Context CurrentOtelContext() noexcept;

}  // namespace vllora
