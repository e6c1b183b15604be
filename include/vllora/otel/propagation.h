// Context propagation across process boundaries: W3C Trace Context (traceparent/tracestate) and
// W3C Baggage, over any string key/value carrier (HTTP headers, gRPC metadata, ...).
//
// Use MakeCompositePropagator({MakeTraceContextPropagator(), MakeBaggagePropagator()}) for the
// usual behaviour. Malformed input is ignored (a kDebug diagnostic is emitted), never crashes.
// MapCarrier is a simple carrier for tests and for users without their own header type.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vllora/otel/context.h"

namespace vllora::otel {

/// Header names used by the W3C propagators.
inline constexpr std::string_view kTraceParentHeader = "traceparent";
inline constexpr std::string_view kTraceStateHeader = "tracestate";
inline constexpr std::string_view kBaggageHeader = "baggage";

/// Read/write access to string headers. Keys passed by the SDK are lower-case; Get() of a
/// missing key returns an empty view.
class TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  /// The value for `key` ("" if absent). The view must stay valid until the next Set().
  virtual std::string_view Get(std::string_view key) const noexcept = 0;
  /// Sets `key` to `value` (replacing). Implementations swallow allocation failures.
  virtual void Set(std::string_view key, std::string_view value) noexcept = 0;
};

/// Writes a Context into a carrier and reads one back.
/// Thread-safety: implementations are stateless and safe to share between threads.
class TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  /// Writes the propagated fields of `context` into `carrier`.
  virtual void Inject(const Context& context, TextMapCarrier& carrier) const noexcept = 0;
  /// Returns `into` extended with what `carrier` holds; on malformed or missing input returns
  /// `into` unchanged for that propagator's fields.
  virtual Context Extract(const TextMapCarrier& carrier, const Context& into) const noexcept = 0;
};

/// W3C Trace Context: "traceparent" (version 00; future versions parsed per spec, "ff" rejected)
/// and "tracestate" (kept verbatim when at most 512 bytes / 32 members). Extracted span contexts
/// are marked remote.
std::unique_ptr<TextMapPropagator> MakeTraceContextPropagator();
/// W3C Baggage: "baggage" header, values percent-encoded on inject and decoded on extract;
/// properties (";...") are dropped; malformed members skipped; at most 180 members / 8192 bytes.
/// Extracted entries are merged into the baggage of `into` (header wins).
std::unique_ptr<TextMapPropagator> MakeBaggagePropagator();
/// Runs each propagator in order (inject and extract).
std::unique_ptr<TextMapPropagator> MakeCompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators);

/// A TextMapCarrier backed by a vector of (key, value) pairs. Keys are compared
/// case-insensitively and stored as given. Thread-safety: none (like std::vector).
class MapCarrier : public TextMapCarrier {
 public:
  MapCarrier() = default;
  MapCarrier(std::initializer_list<std::pair<std::string, std::string>> headers)
      : headers_(headers) {}

  std::string_view Get(std::string_view key) const noexcept override;
  void Set(std::string_view key, std::string_view value) noexcept override;

  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
    return headers_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

/// Percent-encodes `value` for a W3C baggage value (RFC 3986 unreserved chars are kept).
std::string PercentEncode(std::string_view value);
/// Percent-decodes `value`; returns false (and leaves `out` unspecified) on a bad escape.
bool PercentDecode(std::string_view value, std::string& out);

}  // namespace vllora::otel
