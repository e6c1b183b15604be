// Console exporter: a human-readable, multi-line dump of each span (for debugging and examples).
//
// Per span: name, trace/span/parent ids, kind, start/end times and duration, status, attributes,
// events and links. The resource is printed once, before the first span.
#pragma once

#include <cstdio>
#include <memory>

#include "vllora/otel/exporter.h"

namespace vllora::otel {

/// Writes spans to `out` (not owned; must outlive the exporter). Blocking: stdio writes.
std::unique_ptr<SpanExporter> MakeConsoleSpanExporter(std::FILE* out = stdout);

}  // namespace vllora::otel
