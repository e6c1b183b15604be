// Private: OtlpHttpExporterOptions::FromEnv() with a switch for the PROTOCOL variable, for
// vllora::InitTracing (src/setup), which resolves the protocol itself (grpc is valid there) and
// must not warn about it a second time.
#pragma once

#include "vllora/otlp/otlp_http_exporter.h"

namespace vllora::otlp::internal {

/// OtlpHttpExporterOptions::FromEnv(); OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL is read only when
/// `read_protocol` is true.
OtlpHttpExporterOptions HttpOptionsFromEnv(bool read_protocol);

}  // namespace vllora::otlp::internal
