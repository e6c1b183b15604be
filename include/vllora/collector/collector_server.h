// CollectorServer: the receiving side of vLLora telemetry, embeddable. It accepts OTLP traces on
// gRPC (TraceService/Export) and HTTP (POST /v1/traces, protobuf or JSON, optionally gzip),
// maps each span to a row (vLLora's tenant/project/thread/run mapping) and writes the rows
// through a SpanStore (SQLite by default). An export is answered only after its rows are
// committed. `vllora-collector serve` is a thin CLI over this class; the design, the mapping and
// the answers to bad input are in docs/design/0004-collector.md.
//
//   vllora::collector::CollectorOptions options;
//   options.db_path = "/tmp/traces.db";
//   options.grpc_address = "127.0.0.1:0";  // any free port
//   auto server = vllora::collector::CollectorServer::Start(options, &error);
//   ... server->grpc_address() ...
//   server->Shutdown();  // stop accepting, drain, commit
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vllora/collector/span_store.h"

namespace vllora::collector {

/// Settings of a collector.
struct CollectorOptions {
  /// SQLite database file (ignored when a store is passed to Start()).
  std::string db_path;
  /// fsync every commit (PRAGMA synchronous=FULL) instead of WAL's NORMAL.
  bool synchronous_full = false;
  /// "HOST:PORT" (IPv6 as "[::1]:PORT") of the OTLP/gRPC listener; port 0 = any free port;
  /// empty = no gRPC listener.
  std::string grpc_address = "127.0.0.1:4317";
  /// Same for OTLP/HTTP.
  std::string http_address = "127.0.0.1:4318";
  /// When not empty, requests must carry `authorization: Bearer <token>` (gRPC metadata or HTTP
  /// header); others get UNAUTHENTICATED / 401.
  std::string token;
  /// PEM certificate chain and private key: both listeners use TLS. Both or neither.
  std::string tls_cert_path;
  std::string tls_key_path;
  /// Largest request accepted as received on the wire (gRPC message, HTTP body before gzip
  /// decompression): beyond it gRPC answers RESOURCE_EXHAUSTED and HTTP 413.
  size_t max_request_bytes = 16u << 20;
  /// Largest HTTP body after gzip decompression (HTTP 413 beyond it).
  size_t max_decompressed_bytes = 64u << 20;
  /// Most JSON values (objects, arrays and list items) an OTLP/JSON body may hold (HTTP 413
  /// beyond it). Decoding JSON holds up to ~175 bytes per value, however small the body: the
  /// default bounds one request at ~180 MB and fits ~16 MB of JSON spans of typical size.
  size_t max_json_values = size_t{1} << 20;
  /// Rows waiting for commit beyond which exports are refused with UNAVAILABLE / 503 (retry).
  size_t max_pending_rows = 1'000'000;
  /// Bytes of rows waiting for commit beyond which exports are refused the same way.
  size_t max_pending_bytes = size_t{512} << 20;
};

/// Counters since Start().
struct CollectorStats {
  uint64_t requests = 0;            ///< Export requests received (both transports).
  uint64_t malformed_requests = 0;  ///< INVALID_ARGUMENT / 400.
  uint64_t refused_requests = 0;    ///< Unauthenticated, too large, overloaded, store failure.
  uint64_t spans_stored = 0;        ///< Rows committed (duplicates ignored by the store included).
  uint64_t spans_rejected = 0;      ///< Spans refused by validation.
};

/// A running collector.
/// Thread-safety: all members may be called from any thread.
class CollectorServer {
 public:
  /// Opens the database (or uses `store`) and starts both listeners. Returns nullptr and a
  /// one-line reason in `*error` for a bad address, a busy port, an unreadable certificate or an
  /// unusable database. Blocking: until both listeners are bound. Never throws.
  static std::unique_ptr<CollectorServer> Start(const CollectorOptions& options,
                                                std::string* error = nullptr) noexcept;
  static std::unique_ptr<CollectorServer> Start(const CollectorOptions& options,
                                                std::unique_ptr<SpanStore> store,
                                                std::string* error = nullptr) noexcept;

  ~CollectorServer();  ///< Shutdown().
  CollectorServer(const CollectorServer&) = delete;
  CollectorServer& operator=(const CollectorServer&) = delete;

  /// "HOST:PORT" actually bound (the real port when 0 was asked); "" when disabled.
  std::string grpc_address() const;
  std::string http_address() const;

  /// Stops accepting connections, lets the requests in flight finish (their rows are committed
  /// and answered), closes the store. Idempotent. Blocking: until then.
  void Shutdown();

  CollectorStats Stats() const noexcept;

 private:
  struct Impl;
  explicit CollectorServer(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vllora::collector
