#include "otlp/otlp_env.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "vllora/otel/diagnostics.h"

namespace vllora::otlp::internal {
namespace {

int HexDigit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<EnvValue> GetEnv(std::string name) {
  // getenv is not synchronised with setenv; exporters read the environment once, at
  // configuration time, like the rest of the SDK.
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return EnvValue{std::move(name), value};
}

}  // namespace

std::optional<EnvValue> GetTracesEnv(std::string_view suffix) {
  if (auto specific = GetEnv("OTEL_EXPORTER_OTLP_TRACES_" + std::string(suffix))) return specific;
  return GetEnv("OTEL_EXPORTER_OTLP_" + std::string(suffix));
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = HexDigit(text[i + 1]);
      const int lo = HexDigit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string_view TrimSpaces(std::string_view text) noexcept {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string RedactUrlCredentials(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  // The last '@' anywhere: a password may hold '?', '#' or '/' (then libcurl parses the URL
  // otherwise, and refuses it or takes part of the password for the host), and hiding too much
  // of a URL in a log line is harmless.
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const std::string_view userinfo = url.substr(start, at - start);
  std::string out(url.substr(0, start));
  // The user name alone is kept when it is plainly one ("user:secret"); a lone userinfo is
  // often a token itself ("https://TOKEN@host"), and one with a '/' is not a well-formed user
  // name at all (nor one with '?' or '#').
  const size_t colon = userinfo.find(':');
  if (colon != std::string_view::npos && userinfo.find_first_of("/?#") == std::string_view::npos) {
    out.append(userinfo.substr(0, colon + 1));
  }
  out += "***";
  out.append(url.substr(at));
  return out;
}

bool IsHttpToken(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool IsValidHttpHeaderValue(std::string_view value) noexcept {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7F) return false;
  }
  return true;
}

std::string PrintableForLog(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out(text.substr(0, kMax));
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) c = '?';
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseHeaderList(std::string_view text,
                                                                 bool* had_invalid) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = TrimSpaces(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key =
        eq == std::string_view::npos ? item : TrimSpaces(item.substr(0, eq));
    if (eq == std::string_view::npos || key.empty()) {
      if (had_invalid != nullptr) *had_invalid = true;
      continue;
    }
    out.emplace_back(AsciiLower(PercentDecode(key)),
                     PercentDecode(TrimSpaces(item.substr(eq + 1))));
  }
  return out;
}

std::optional<std::chrono::milliseconds> ParseTimeoutMillis(std::string_view text) noexcept {
  text = TrimSpaces(text);
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value <= 0) return std::nullopt;
  return std::chrono::milliseconds(value);
}

std::optional<bool> ParseBool(std::string_view text) noexcept {
  text = TrimSpaces(text);
  const auto equals = [text](std::string_view word) {
    if (text.size() != word.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != word[i]) return false;
    }
    return true;
  };
  if (equals("true")) return true;
  if (equals("false")) return false;
  return std::nullopt;
}

void WarnInvalidEnv(const EnvValue& env, std::string_view why, std::string_view fallback) noexcept {
  if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kWarn)) return;
  try {
    std::string message = env.name + "=\"" + env.value + "\" is invalid (" + std::string(why) +
                          "); using " + std::string(fallback);
    otel::EmitDiagnostic(otel::DiagnosticLevel::kWarn, message);
  } catch (...) {
    // Out of memory while reporting a configuration problem: nothing sensible left to do.
  }
}

void WarnInvalidSecretEnv(const EnvValue& env, std::string_view why,
                          std::string_view fallback) noexcept {
  if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kWarn)) return;
  try {
    std::string message = env.name + " is invalid (" + std::string(why) +
                          "; the value is not shown: it may hold credentials); using " +
                          std::string(fallback);
    otel::EmitDiagnostic(otel::DiagnosticLevel::kWarn, message);
  } catch (...) {
  }
}

}  // namespace vllora::otlp::internal
