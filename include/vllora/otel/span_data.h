// SpanData: a finished span as processors and exporters see it, plus the value types it is made
// of (Event, Link, InstrumentationScope, Resource, SpanKind, StatusCode).
//
// A SpanData is produced by Span::End() and handed to SpanProcessor::OnEnd() as a
// std::unique_ptr: whoever holds the pointer owns it. Exporters (otlp, console, in-memory) read
// it. Read next: processor.h, exporter.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vllora/otel/attributes.h"
#include "vllora/otel/ids.h"
#include "vllora/otel/span_context.h"

namespace vllora::otel {

/// Span kind, numbered as in OTLP.
enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};

/// Span status code, numbered as in OTLP.
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

/// "INTERNAL", "SERVER", ... (for console output and diagnostics).
const char* SpanKindName(SpanKind kind) noexcept;
/// "UNSET", "OK", "ERROR".
const char* StatusCodeName(StatusCode code) noexcept;

/// A timestamped annotation on a span.
struct Event {
  std::string name;
  uint64_t time_unix_nano = 0;
  Attributes attributes;
};

/// A reference from a span to another span (possibly in another trace).
struct Link {
  SpanContext context;
  Attributes attributes;
};

/// The library that produced the spans (the Tracer's name/version).
struct InstrumentationScope {
  std::string name;
  std::string version;
  std::string schema_url;
};

/// The entity producing telemetry (service.name etc.). Immutable once built.
/// Thread-safety: immutable; share it via std::shared_ptr<const Resource>.
class Resource {
 public:
  /// Builds the process resource. Merges, highest precedence first:
  ///  1. `extra`,
  ///  2. OTEL_SERVICE_NAME (as service.name),
  ///  3. OTEL_RESOURCE_ATTRIBUTES (percent-decoded "k=v,k=v"; malformed entries are ignored
  ///     with one kWarn diagnostic),
  ///  4. defaults: telemetry.sdk.name="vllora-telemetry-cpp", telemetry.sdk.language="cpp",
  ///     telemetry.sdk.version=<library version>,
  ///     service.name="unknown_service:<program name>" (from /proc/self/exe or comm).
  /// Blocking: reads the environment and /proc once.
  static Resource Create(const Attributes& extra = {});
  /// A resource with no attributes.
  static Resource Empty();
  /// Builds a resource from exactly `attributes` (no defaults, no environment).
  static Resource FromAttributes(Attributes attributes, std::string schema_url = {});

  const Attributes& attributes() const noexcept { return attributes_; }
  const std::string& schema_url() const noexcept { return schema_url_; }

 private:
  Attributes attributes_;
  std::string schema_url_;
};

/// The SDK version reported as telemetry.sdk.version.
inline constexpr const char* kSdkVersion = "0.1.0";

/// Bytes of attribute storage inside each SpanData (see InlineAttributes).
inline constexpr size_t kSpanInlineAttributeBytes = 384;

/// A finished span, owned by whoever holds the unique_ptr.
/// Thread-safety: plain data; no internal synchronisation.
struct SpanData {
  /// Every member starts at its default below. User-provided, so `new SpanData()` does not
  /// first zero the whole object (the inline attribute block alone is 384 bytes).
  SpanData() noexcept {}  // NOLINT(modernize-use-equals-default): `= default` would zero it

  // Layout: the members with destructors come first and together, then the ids and times,
  // then the attribute list. A span is usually freed on the export thread, and its destructor
  // then reads the first four cache lines only. The block then goes back to the application
  // thread that writes the next span into it, and each line it writes first comes back from the
  // export thread's cache: the ids and times share lines with the members before them and
  // with the attribute list's header, so B1's span writes 9 of the 11 lines, not 10.
  std::string name;
  std::string trace_state;
  std::string status_message;
  std::vector<Event> events;
  std::vector<Link> links;
  /// Shared, never null for spans from a Tracer.
  std::shared_ptr<const Resource> resource;
  /// Shared, never null for spans from a Tracer.
  std::shared_ptr<const InstrumentationScope> scope;
  TraceId trace_id;
  SpanId span_id;
  /// Invalid (all zero) = root span.
  SpanId parent_span_id;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  uint32_t dropped_events_count = 0;
  uint32_t dropped_links_count = 0;
  uint8_t trace_flags = 0;
  bool parent_is_remote = false;
  SpanKind kind = SpanKind::kInternal;
  StatusCode status_code = StatusCode::kUnset;
  /// The first kInlineAttributeBytes are stored inside the SpanData (8 entries, 192 bytes of
  /// keys and string values): a span's usual attributes cost no allocation.
  InlineAttributes<kSpanInlineAttributeBytes> attributes;

  /// True when the sampled trace flag is set (only sampled spans are exported).
  bool IsSampled() const noexcept { return (trace_flags & 1U) != 0; }
  /// Dropped attribute count (from the attribute list).
  uint32_t dropped_attributes_count() const noexcept { return attributes.dropped_count(); }

  /// Allocation: SpanData objects are recycled through an internal per-thread pool, because they
  /// are usually freed on the export thread (see docs/design/0002-hot-path.md).
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size) noexcept;
};

}  // namespace vllora::otel
