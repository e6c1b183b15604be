// OTLP/gRPC span exporter: sends batches to an OpenTelemetry collector (or vLLora) with
// TraceService/Export.
//
// Typical use: build OtlpGrpcExporterOptions (or start from OtlpGrpcExporterOptions::FromEnv()),
// call MakeOtlpGrpcExporter() and hand the exporter to a BatchSpanProcessor
// (vllora/otel/batch_span_processor.h). Use OtlpGrpcExporter::Create() instead when you want to
// read the export counters (Stats()).
//
// Behaviour:
//  * One gRPC channel per exporter, created in the factory and reused by every Export().
//  * Export() calls from several threads run concurrently (each has its own completion queue
//    and helper threads; the requests share the channel's HTTP/2 connection, as OTLP allows).
//    MaxConcurrentExports() is 4, so a BatchSpanProcessor keeps up to
//    min(its max_concurrent_exports, 4) batches in flight instead of waiting for each answer.
//  * Export() retries UNAVAILABLE, ABORTED, CANCELLED, DEADLINE_EXCEEDED, OUT_OF_RANGE and
//    DATA_LOSS with jittered exponential backoff, and RESOURCE_EXHAUSTED only when the answer
//    carries a google.rpc.RetryInfo (as the OTLP specification says); a RetryInfo delay replaces
//    the backoff. All attempts together stay within `timeout`. Other codes fail at once.
//  * A partial success answer (rejected spans) counts as success: rejected spans are counted in
//    Stats().rejected_spans and reported through the SDK diagnostics (vllora/otel/diagnostics.h),
//    at most one message per 10 s; failed exports are reported the same way.
//  * No grpc or protobuf header is included here; they stay inside the library.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vllora/otel/exporter.h"

namespace vllora::otlp {

/// Settings of an OTLP/gRPC exporter. Defaults follow the OTLP exporter specification.
struct OtlpGrpcExporterOptions {
  /// Where to send spans. "http://host:port" = plaintext, "https://host:port" = TLS; without a
  /// port the scheme's default (80 / 443) is used. A bare "host:port" uses TLS unless `insecure`
  /// is true (as the specification says). A trailing "/" is accepted; any other path is an error.
  std::string endpoint = "http://localhost:4317";
  /// Extra gRPC metadata sent with every call. Keys are lower-cased; entries whose key or value
  /// is not valid gRPC metadata are dropped with a warning when the exporter is created.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Deadline of one Export() call, retries and backoff included.
  std::chrono::milliseconds timeout{10000};
  /// Compress requests with gzip.
  bool gzip = false;
  /// PEM file with the root certificates to trust (TLS only; empty = system roots).
  std::string ca_cert_path;
  /// PEM files with the client certificate chain and key for mutual TLS (TLS only).
  std::string client_cert_path;
  std::string client_key_path;
  /// Plaintext for a scheme-less endpoint ("host:port"). Ignored for http:// and https://.
  bool insecure = false;
  /// Total attempts per Export() (1 = no retry).
  int max_attempts = 5;
  /// Backoff before the first retry; each next one is multiplied by `backoff_multiplier`, capped
  /// at `max_backoff`. The wait actually used is drawn uniformly from [backoff / 2, backoff].
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  double backoff_multiplier = 1.5;
  /// Requests one Export() call may have in flight at the same time: a batch of at least 2 x 256
  /// spans is split into up to this many requests (of >= 256 spans each), sent and encoded in
  /// parallel (by up to max_concurrent_requests - 1 helper threads, started on first use).
  /// Export() still returns only when every request has completed, with the combined result;
  /// each request has its own retries within `timeout`. 1 = one request per Export().
  size_t max_concurrent_requests = 2;
  /// Largest encoded request sent: a request that encodes bigger is split in halves (again and
  /// again) so a receiver with gRPC's default 4 MiB message limit (vLLora, the OpenTelemetry
  /// Collector) accepts it instead of refusing the whole batch. A single span bigger than this
  /// is sent alone, as it is. The default leaves 64 KiB of room under 4 MiB.
  size_t max_request_bytes = (size_t{4} << 20) - (size_t{64} << 10);

  /// Defaults overridden by the standard environment variables, the trace-specific one winning
  /// over the generic one (OTEL_EXPORTER_OTLP_TRACES_X over OTEL_EXPORTER_OTLP_X):
  ///   ENDPOINT, HEADERS ("k=v,k2=v2", percent-decoded; the trace-specific variable replaces the
  ///   generic one as a whole), TIMEOUT (milliseconds), COMPRESSION ("gzip" | "none"),
  ///   CERTIFICATE, CLIENT_CERTIFICATE, CLIENT_KEY (paths), INSECURE ("true" | "false").
  /// Empty variables count as unset. An invalid value gives one kWarn diagnostic naming the
  /// variable and the value, and the default applies (for HEADERS only the bad entries are
  /// skipped). Blocking: reads the environment only.
  static OtlpGrpcExporterOptions FromEnv();
};

/// Counters of one exporter since it was created (a snapshot; see OtlpGrpcExporter::Stats()).
struct OtlpExporterStats {
  /// Spans the receiver accepted (sent in a successful call, minus the rejected ones).
  uint64_t exported_spans = 0;
  /// Spans dropped because their Export() failed (after retries, or after Shutdown()).
  uint64_t failed_spans = 0;
  /// Spans the receiver refused in a partial success answer.
  uint64_t rejected_spans = 0;
  /// Attempts beyond the first one.
  uint64_t retries = 0;
  /// Export() calls with a non-empty batch.
  uint64_t export_calls = 0;
};

/// The OTLP/gRPC exporter.
/// Thread-safety: Export() may be called from several threads at the same time; the calls are
/// independent and run concurrently (up to MaxConcurrentExports() of them with helper threads
/// for in-batch splitting; more callers still run, sending fewer parts in parallel). Stats(),
/// ForceFlush() and Shutdown() are safe from any thread, also during Export() calls.
class OtlpGrpcExporter final : public otel::SpanExporter {
 public:
  /// Creates the exporter and its channel (the connection itself is made lazily by gRPC).
  /// Returns nullptr, and a one-line explanation in `*error` when `error` is not null, if the
  /// endpoint is invalid (unknown scheme such as "ftp://x", missing host as in "http://", bad
  /// port), if a certificate file cannot be read, or if a numeric option is out of range.
  /// Blocking: reads the certificate files. Never throws.
  static std::unique_ptr<OtlpGrpcExporter> Create(const OtlpGrpcExporterOptions& options,
                                                  std::string* error = nullptr) noexcept;

  ~OtlpGrpcExporter() override;
  OtlpGrpcExporter(const OtlpGrpcExporter&) = delete;
  OtlpGrpcExporter& operator=(const OtlpGrpcExporter&) = delete;

  /// 4: concurrent Export() calls are served concurrently (see the class comment), so the OTel
  /// "Export() is never called concurrently" guarantee is waived for this exporter.
  size_t MaxConcurrentExports() const noexcept override;

  /// Sends `batch` (null entries are skipped), retrying as described above. Returns kSuccess when
  /// the receiver accepted the request (fully or partially). After Shutdown() it returns
  /// kFailure immediately. Blocking: up to `timeout`. Never throws.
  otel::ExportResult Export(std::span<std::unique_ptr<otel::SpanData>> batch) noexcept override;

  /// Nothing is buffered inside the exporter: returns true at once.
  bool ForceFlush(std::chrono::steady_clock::time_point deadline) noexcept override;

  /// Makes later Export() calls fail fast, cancels every call in flight and every retry wait (of
  /// all concurrent Export() calls), and returns true. Idempotent.
  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override;

  /// A snapshot of the counters. Allocation: none.
  OtlpExporterStats Stats() const noexcept;

  /// The gRPC target the channel connects to (e.g. "localhost:4317"), for diagnostics.
  const std::string& target() const noexcept;

 private:
  struct Impl;
  explicit OtlpGrpcExporter(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// Same as OtlpGrpcExporter::Create(), typed as the generic exporter interface.
std::unique_ptr<otel::SpanExporter> MakeOtlpGrpcExporter(const OtlpGrpcExporterOptions& options,
                                                         std::string* error = nullptr) noexcept;

}  // namespace vllora::otlp
