// Umbrella header for vllora::otel, the project's own OpenTelemetry tracing SDK core
// (standard library only). Include this or the individual headers:
//
//   tracer_provider.h   TracerProvider + Builder, SpanLimits        (start here)
//   tracer.h, span.h    starting spans, live spans
//   span_data.h         finished spans, Resource, InstrumentationScope
//   context.h           Context, Baggage, Attach/Token/Wrap
//   propagation.h       W3C traceparent/tracestate and baggage propagators
//   sampler.h           samplers
//   processor.h, batch_span_processor.h   processors
//   exporter.h, in_memory_exporter.h, console_exporter.h   exporters
//   ids.h, attributes.h, diagnostics.h, clock.h
#pragma once

#include "vllora/otel/attributes.h"
#include "vllora/otel/batch_span_processor.h"
#include "vllora/otel/clock.h"
#include "vllora/otel/console_exporter.h"
#include "vllora/otel/context.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otel/exporter.h"
#include "vllora/otel/ids.h"
#include "vllora/otel/in_memory_exporter.h"
#include "vllora/otel/processor.h"
#include "vllora/otel/propagation.h"
#include "vllora/otel/sampler.h"
#include "vllora/otel/span.h"
#include "vllora/otel/span_context.h"
#include "vllora/otel/span_data.h"
#include "vllora/otel/tracer.h"
#include "vllora/otel/tracer_provider.h"
