// Private: resolution of TracingOptions + OTEL_* environment into what InitTracing() builds.
// Separate from setup.cc so unit tests can check every variable without building a pipeline.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vllora/otel/propagation.h"
#include "vllora/otel/sampler.h"
#include "vllora/setup/setup.h"

namespace vllora::internal {

struct TracingConfig {
  bool disabled = false;
  std::vector<TracesExporter> exporters;  // empty = none
  OtlpProtocol protocol = OtlpProtocol::kGrpc;
  std::unique_ptr<otel::Sampler> sampler;
  std::vector<std::string> propagators;  // "tracecontext", "baggage"
};

/// Options first, then the environment, then defaults. Each invalid variable emits one kWarn
/// diagnostic naming it and its value.
TracingConfig ResolveTracingConfig(const TracingOptions& options);

/// The propagator for `names` (empty = a no-op composite).
std::unique_ptr<otel::TextMapPropagator> MakePropagator(const std::vector<std::string>& names);

}  // namespace vllora::internal
