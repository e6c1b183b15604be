#include "vllora/telemetry/gateway_headers.h"

#include <memory>
#include <optional>
#include <string_view>

#include "vllora/otel/context.h"
#include "vllora/otel/propagation.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/telemetry/span_names.h"

namespace vllora::telemetry {

namespace {

const otel::TextMapPropagator& TraceContextPropagator() {
  // Stateless and thread-safe: one instance for the process. Leaked on purpose so that headers
  // can still be built from other static destructors.
  static const otel::TextMapPropagator* const propagator =
      otel::MakeTraceContextPropagator().release();
  return *propagator;
}

void AddBaggage(std::vector<std::pair<std::string, std::string>>& headers,
                const otel::Baggage& baggage, std::string_view key, std::string_view header) {
  std::optional<std::string_view> value = baggage.Get(key);
  if (value && !value->empty()) headers.emplace_back(std::string(header), std::string(*value));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> GatewayHeaders(
    const GatewayHeaderOptions& options) noexcept {
  std::vector<std::pair<std::string, std::string>> headers;
  try {
    otel::Context context = CurrentOtelContext();
    otel::MapCarrier carrier;
    TraceContextPropagator().Inject(context, carrier);
    for (std::string_view name : {otel::kTraceParentHeader, otel::kTraceStateHeader}) {
      std::string_view value = carrier.Get(name);
      if (!value.empty()) headers.emplace_back(std::string(name), std::string(value));
    }
    const otel::Baggage& baggage = context.baggage();
    AddBaggage(headers, baggage, kRunIdKey, "X-Run-Id");
    AddBaggage(headers, baggage, kThreadIdKey, "X-Thread-Id");
    AddBaggage(headers, baggage, kLabelKey, "x-label");
    if (!options.thread_title.empty()) headers.emplace_back("X-Thread-Title", options.thread_title);
    std::string tags = options.tags.ToJson();
    if (tags != "{}") headers.emplace_back("x-tags", std::move(tags));
    AddBaggage(headers, baggage, kProjectIdKey, "X-Project-Id");
  } catch (...) {  // instrumentation never throws into the application
    headers.clear();
  }
  return headers;
}

}  // namespace vllora::telemetry
