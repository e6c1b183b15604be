// Private: turning OtlpGrpcExporterOptions::endpoint into a gRPC target, and checking metadata.
// Std types only, so unit tests can exercise it without gRPC.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vllora::otlp::internal {

/// Where and how the channel connects.
struct GrpcTarget {
  /// "host:port" or "[v6addr]:port", as grpc::CreateChannel expects.
  std::string target;
  bool use_tls = false;
};

/// Parses `endpoint` ("http://h:p", "https://h:p", "h:p"; see otlp_grpc_exporter.h). On failure
/// returns nullopt and sets `*error` to a one-line message that quotes the endpoint.
std::optional<GrpcTarget> ParseGrpcEndpoint(std::string_view endpoint, bool insecure,
                                            std::string* error);

/// True for a key gRPC accepts as custom metadata: non-empty, [0-9a-z_.-] only, not reserved
/// ("grpc-" prefix).
bool IsValidMetadataKey(std::string_view key) noexcept;

/// True for a value gRPC accepts for `key`: anything for "-bin" keys, else printable ASCII.
bool IsValidMetadataValue(std::string_view key, std::string_view value) noexcept;

}  // namespace vllora::otlp::internal
