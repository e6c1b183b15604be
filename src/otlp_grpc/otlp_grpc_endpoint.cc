#include "otlp_grpc/otlp_grpc_endpoint.h"

#include "otlp/otlp_env.h"

namespace vllora::otlp::internal {
namespace {

bool IsHostNameChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpv6Char(char c) noexcept {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.';
}

std::optional<GrpcTarget> Fail(std::string* error, std::string_view endpoint,
                               std::string_view why) {
  if (error != nullptr) {
    // User information is refused, but the message must not repeat a token found in it.
    *error = "invalid OTLP gRPC endpoint \"" + RedactUrlCredentials(TrimSpaces(endpoint)) +
             "\": " + std::string(why);
  }
  return std::nullopt;
}

}  // namespace

std::optional<GrpcTarget> ParseGrpcEndpoint(std::string_view endpoint, bool insecure,
                                            std::string* error) {
  std::string_view rest = TrimSpaces(endpoint);
  if (rest.empty()) return Fail(error, endpoint, "it is empty");

  GrpcTarget result;
  std::string default_port = "4317";
  const size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string scheme = AsciiLower(rest.substr(0, scheme_end));
    if (scheme == "http") {
      result.use_tls = false;
      default_port = "80";
    } else if (scheme == "https") {
      result.use_tls = true;
      default_port = "443";
    } else {
      return Fail(error, endpoint,
                  "unsupported scheme \"" + scheme + "\" (use http:// or https://)");
    }
    rest.remove_prefix(scheme_end + 3);
  } else {
    result.use_tls = !insecure;
  }

  const size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    const std::string_view path = rest.substr(path_start);
    if (path != "/") {
      return Fail(
          error, endpoint,
          "a gRPC endpoint has no path, query or fragment (found \"" + std::string(path) + "\")");
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    return Fail(error, endpoint, "user information (\"user@\") is not supported");
  }
  if (authority.empty()) return Fail(error, endpoint, "it has no host");

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail(error, endpoint, "unterminated \"[\"");
    host = authority.substr(0, close + 1);
    const std::string_view inner = host.substr(1, host.size() - 2);
    if (inner.empty()) return Fail(error, endpoint, "it has no host");
    for (char c : inner) {
      if (!IsIpv6Char(c)) return Fail(error, endpoint, "invalid IPv6 address");
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Fail(error, endpoint, "unexpected text after \"]\"");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos) {
        return Fail(error, endpoint, "an IPv6 address must be written in brackets, as [::1]:4317");
      }
    }
    if (host.empty()) return Fail(error, endpoint, "it has no host");
    for (char c : host) {
      if (!IsHostNameChar(c)) {
        return Fail(error, endpoint, "invalid character '" + std::string(1, c) + "' in host");
      }
    }
  }

  std::string port(default_port);
  if (has_port) {
    bool digits = !port_text.empty() && port_text.size() <= 5;
    long value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      value = value * 10 + (c - '0');
    }
    if (!digits || value < 1 || value > 65535) {
      return Fail(error, endpoint,
                  "invalid port \"" + std::string(port_text) + "\" (expected 1-65535)");
    }
    port = std::to_string(value);
  }
  result.target = std::string(host) + ":" + port;
  return result;
}

bool IsValidMetadataKey(std::string_view key) noexcept {
  if (key.empty() || key.substr(0, 5) == "grpc-") return false;
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsValidMetadataValue(std::string_view key, std::string_view value) noexcept {
  if (key.size() >= 4 && key.substr(key.size() - 4) == "-bin") return true;
  for (char c : value) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace vllora::otlp::internal
