// Fuzz target: W3C traceparent, tracestate and baggage headers -> Extract, then Inject and
// Extract again. Input: the three header values separated by '\n' (missing ones are absent).
// Checks: extraction never crashes; what was extracted survives an inject/extract round trip
// unchanged (span context and baggage); injected headers contain no CR/LF.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vllora/otel/context.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otel/propagation.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

const vllora::otel::TextMapPropagator& Propagator() {
  static const auto* propagator = [] {
    vllora::otel::SetDiagnosticLevel(vllora::otel::DiagnosticLevel::kError);
    std::vector<std::unique_ptr<vllora::otel::TextMapPropagator>> list;
    list.push_back(vllora::otel::MakeTraceContextPropagator());
    list.push_back(vllora::otel::MakeBaggagePropagator());
    return vllora::otel::MakeCompositePropagator(std::move(list)).release();
  }();
  return *propagator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vllora::otel::Context;
  using vllora::otel::MapCarrier;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view names[] = {vllora::otel::kTraceParentHeader,
                                    vllora::otel::kTraceStateHeader, vllora::otel::kBaggageHeader};
  MapCarrier carrier;
  for (std::string_view name : names) {
    if (input.empty()) break;
    const size_t end = input.find('\n');
    carrier.Set(name, input.substr(0, end));
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  }

  const Context extracted = Propagator().Extract(carrier, Context());
  MapCarrier injected;
  Propagator().Inject(extracted, injected);
  for (const auto& [key, value] : injected.headers()) {
    Check(value.find('\r') == std::string::npos && value.find('\n') == std::string::npos);
  }
  const Context again = Propagator().Extract(injected, Context());
  Check(again.span_context() == extracted.span_context());
  Check(again.baggage() == extracted.baggage());
  return 0;
}
