// Private: reading the OTEL_EXPORTER_OTLP_* environment variables, shared by the OTLP exporters
// (gRPC now, HTTP later). Std types only, but internal: option structs are the public surface.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vllora::otlp::internal {

/// A variable that is set to a non-empty value.
struct EnvValue {
  std::string name;   // e.g. "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
  std::string value;  // never empty
};

/// Returns OTEL_EXPORTER_OTLP_TRACES_<suffix> if set and non-empty, else
/// OTEL_EXPORTER_OTLP_<suffix> if set and non-empty, else nullopt.
std::optional<EnvValue> GetTracesEnv(std::string_view suffix);

/// Decodes %XX escapes; a '%' not followed by two hex digits is kept as it is.
std::string PercentDecode(std::string_view text);

/// Removes leading and trailing whitespace: spaces, tabs, CR and LF (a value read from a file,
/// e.g. a mounted secret, often ends with a newline).
std::string_view TrimSpaces(std::string_view text) noexcept;

/// `url` with the user information ("user:password@" before the host) hidden, for labels and
/// messages: "https://user:token@host/x" -> "https://user:***@host/x", "https://token@host" ->
/// "https://***@host". Works on malformed text too (it is used in the messages that reject
/// it): everything up to the last '@' counts as user information, so a password with an
/// unescaped '/', '?' or '#' is hidden as well (a URL with '@' in its path or query shows less
/// than it could). Text without '@' is returned as is.
std::string RedactUrlCredentials(std::string_view url);

/// True if `name` is an HTTP field name: a non-empty RFC 7230 token (letters, digits and
/// !#$%&'*+-.^_`|~).
bool IsHttpToken(std::string_view name) noexcept;

/// True if `value` is a valid HTTP field value for us: no control characters (CR, LF, NUL, the
/// other bytes below 0x20, DEL), except horizontal tab. Empty is valid.
bool IsValidHttpHeaderValue(std::string_view value) noexcept;

/// `text` for a diagnostic line: control characters and DEL become '?', at most 64 bytes (more
/// is cut and marked "...").
std::string PrintableForLog(std::string_view text);

/// Parses the W3C-baggage-like "k=v,k2=v2" header list (keys and values trimmed, then
/// percent-decoded; keys lower-cased). Entries without '=' or with an empty key are skipped and
/// make `*had_invalid` true.
std::vector<std::pair<std::string, std::string>> ParseHeaderList(std::string_view text,
                                                                 bool* had_invalid);

/// Parses a positive number of milliseconds; nullopt for anything else.
std::optional<std::chrono::milliseconds> ParseTimeoutMillis(std::string_view text) noexcept;

/// Parses "true"/"false" (any case); nullopt for anything else.
std::optional<bool> ParseBool(std::string_view text) noexcept;

/// Lower-cases ASCII letters.
std::string AsciiLower(std::string_view text);

/// Emits the standard "invalid value" warning: `<name>="<value>" is invalid (<why>); using
/// <fallback>`.
void WarnInvalidEnv(const EnvValue& env, std::string_view why, std::string_view fallback) noexcept;
/// The same warning without the value, for variables that may hold credentials (the headers:
/// an API key split by an unescaped comma would be printed in part): `<name> is invalid (<why>;
/// the value is not shown: it may hold credentials); using <fallback>`.
void WarnInvalidSecretEnv(const EnvValue& env, std::string_view why,
                          std::string_view fallback) noexcept;

}  // namespace vllora::otlp::internal
