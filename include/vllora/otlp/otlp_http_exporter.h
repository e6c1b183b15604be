// OTLP/HTTP span exporter: POSTs batches to an OpenTelemetry collector, vLLora, Langfuse, Phoenix
// or any other OTLP/HTTP trace endpoint, as `http/protobuf` or `http/json`.
//
// Typical use: build OtlpHttpExporterOptions (or start from OtlpHttpExporterOptions::FromEnv()),
// call OtlpHttpExporter::Create() and hand the exporter to a BatchSpanProcessor
// (vllora/otel/batch_span_processor.h). For the gRPC transport see otlp_grpc_exporter.h; for
// one-call setup that picks the transport from OTEL_EXPORTER_OTLP_PROTOCOL see
// vllora/setup/setup.h.
//
// Behaviour:
//  * One libcurl handle per exporter, reused by every Export(), so the TCP/TLS connection is kept
//    alive between batches. Exports are serialised on that handle.
//  * Export() retries HTTP 429, 502, 503 and 504 (and connection failures) with jittered
//    exponential backoff; a `Retry-After: <seconds>` answer sets the wait instead. All attempts
//    together stay within `timeout`. Any other status (e.g. 400) fails at once and is reported.
//  * A partial success answer counts as success: rejected spans are counted in
//    Stats().rejected_spans and reported through the SDK diagnostics (vllora/otel/diagnostics.h),
//    at most one message per 10 s; failed exports are reported the same way.
//  * No curl or zlib header is included here; they stay inside the library.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vllora/otel/exporter.h"
#include "vllora/otlp/otlp_grpc_exporter.h"

namespace vllora::otlp {

/// Body encoding of an OTLP/HTTP request.
enum class OtlpHttpProtocol {
  kProtobuf,  ///< "http/protobuf": Content-Type application/x-protobuf (the default).
  kJson,      ///< "http/json": Content-Type application/json, OTLP/JSON rules.
};

/// The default traces URL of the specification.
inline constexpr std::string_view kDefaultOtlpHttpTracesUrl = "http://localhost:4318/v1/traces";

/// Applies the specification's rule for the generic OTEL_EXPORTER_OTLP_ENDPOINT: appends
/// "v1/traces" to `base`, adding a "/" unless `base` already ends with one
/// ("http://h:4318" -> "http://h:4318/v1/traces", "http://h/otlp/" -> "http://h/otlp/v1/traces").
/// A signal-specific endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
/// OtlpHttpExporterOptions::endpoint) is used as it is and never goes through this function.
std::string OtlpHttpTracesUrlFromBase(std::string_view base);

/// Settings of an OTLP/HTTP exporter. Defaults follow the OTLP exporter specification.
struct OtlpHttpExporterOptions {
  /// The full URL requests are POSTed to ("http://" or "https://"), used as it is apart from
  /// surrounding whitespace (spaces, tabs, CR, LF), which is removed. User information
  /// ("https://user:token@host/...") is sent as HTTP basic authentication and hidden in every
  /// label and message ("user:***@").
  std::string endpoint = std::string(kDefaultOtlpHttpTracesUrl);
  /// Body encoding.
  OtlpHttpProtocol protocol = OtlpHttpProtocol::kProtobuf;
  /// Extra HTTP headers sent with every request. An empty value is sent as an empty header.
  /// Entries whose name is not an RFC 7230 token, or whose value contains a control character
  /// (anything below 0x20 but tab, or DEL), are dropped with a warning naming the header (never
  /// showing the value) when the exporter is created.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Deadline of one Export() call, retries and backoff included.
  std::chrono::milliseconds timeout{10000};
  /// Compress request bodies with gzip (Content-Encoding: gzip).
  bool gzip = false;
  /// PEM file with the root certificates to trust (https only; empty = system roots).
  std::string ca_cert_path;
  /// PEM files with the client certificate and key for mutual TLS (https only).
  std::string client_cert_path;
  std::string client_key_path;
  /// Total attempts per Export() (1 = no retry).
  int max_attempts = 5;
  /// Backoff before the first retry; each next one is multiplied by `backoff_multiplier`, capped
  /// at `max_backoff`. The wait actually used is drawn uniformly from [backoff / 2, backoff],
  /// unless the server sent Retry-After.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  double backoff_multiplier = 1.5;
  /// Largest request body sent (before gzip): a batch that encodes bigger is split in halves
  /// (again and again) into several POSTs, so a receiver's body limit does not refuse the whole
  /// batch. A single span bigger than this is sent alone, as it is. Default: 4 MiB - 64 KiB.
  size_t max_request_bytes = (size_t{4} << 20) - (size_t{64} << 10);

  /// Defaults overridden by the standard environment variables, the trace-specific one winning
  /// over the generic one (OTEL_EXPORTER_OTLP_TRACES_X over OTEL_EXPORTER_OTLP_X):
  ///   ENDPOINT (TRACES_ENDPOINT used as is; the generic one gets "/v1/traces", see
  ///   OtlpHttpTracesUrlFromBase), PROTOCOL ("http/protobuf" | "http/json"; "grpc" is not an
  ///   HTTP protocol and is treated as invalid here), HEADERS ("k=v,k2=v2", percent-decoded),
  ///   TIMEOUT (milliseconds), COMPRESSION ("gzip" | "none"), CERTIFICATE, CLIENT_CERTIFICATE,
  ///   CLIENT_KEY (paths).
  /// Empty variables count as unset; surrounding whitespace is ignored. An invalid value gives
  /// one kWarn diagnostic naming the variable and the value (an ENDPOINT without its user
  /// information; HEADERS without any value), and the default applies. An ENDPOINT is checked
  /// as Create() checks it. Blocking: reads the environment only.
  static OtlpHttpExporterOptions FromEnv();
};

/// Counters of one OTLP/HTTP exporter since it was created (a snapshot): the counters every
/// OTLP exporter has (OtlpExporterStats, in otlp_grpc_exporter.h) plus the last HTTP status.
struct OtlpHttpExporterStats : OtlpExporterStats {
  /// HTTP status of the last answer (0 = none yet, or no answer: connection failure).
  int last_http_status = 0;
};

/// The OTLP/HTTP exporter.
/// Thread-safety: all members may be called from any thread; concurrent Export() calls are
/// serialised (one connection). Stats(), last_error(), ForceFlush() and Shutdown() never wait for
/// an export in flight.
class OtlpHttpExporter final : public otel::SpanExporter {
 public:
  /// Creates the exporter and its curl handle (the connection itself is made by the first
  /// Export()). Returns nullptr, and a one-line explanation in `*error` when `error` is not null,
  /// if the endpoint is not a valid http:// or https:// URL with a host (checked by libcurl's URL
  /// parser: no spaces or control characters, port 1-65535), if a certificate or key file
  /// cannot be read, or if a numeric option is out of range.
  /// Blocking: checks the certificate files. Never throws.
  static std::unique_ptr<OtlpHttpExporter> Create(const OtlpHttpExporterOptions& options,
                                                  std::string* error = nullptr) noexcept;

  ~OtlpHttpExporter() override;
  OtlpHttpExporter(const OtlpHttpExporter&) = delete;
  OtlpHttpExporter& operator=(const OtlpHttpExporter&) = delete;

  /// Encodes and POSTs `batch` (null entries are skipped), retrying as described above. Returns
  /// kSuccess when the receiver answered 2xx (fully or partially accepted). After Shutdown() it
  /// returns kFailure immediately. Blocking: up to `timeout`. Never throws.
  otel::ExportResult Export(std::span<std::unique_ptr<otel::SpanData>> batch) noexcept override;

  /// Nothing is buffered inside the exporter: returns true at once.
  bool ForceFlush(std::chrono::steady_clock::time_point deadline) noexcept override;

  /// Makes later Export() calls fail fast, aborts a request in flight or a retry wait at once
  /// (the export in flight returns kFailure, not retried), and returns true. Idempotent.
  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override;

  /// A snapshot of the counters. Allocation: none.
  OtlpHttpExporterStats Stats() const noexcept;

  /// A one-line description of the last failed export ("" if none failed), e.g.
  /// "HTTP 400 from http://host/v1/traces: <body>". Allocation: the returned copy.
  std::string last_error() const;

  /// The URL requests are sent to (trimmed). It may hold credentials (user information): do
  /// not print it as it is.
  const std::string& url() const noexcept;

 private:
  struct Impl;
  explicit OtlpHttpExporter(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// Same as OtlpHttpExporter::Create(), typed as the generic exporter interface.
std::unique_ptr<otel::SpanExporter> MakeOtlpHttpExporter(const OtlpHttpExporterOptions& options,
                                                         std::string* error = nullptr) noexcept;

}  // namespace vllora::otlp
