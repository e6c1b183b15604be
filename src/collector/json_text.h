// Compact JSON text for the collector's JSON columns, written directly into a std::string (the
// hot path of the receiver: no DOM). Strings are repaired on the way: every byte that does not
// start a well-formed UTF-8 sequence becomes U+FFFD, so no column ever holds invalid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vllora::collector::internal {

/// Length of the well-formed UTF-8 sequence at text[i], or 0 if none starts there.
size_t Utf8SequenceLength(std::string_view text, size_t i) noexcept;

/// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text) noexcept;

/// `text` with each ill-formed byte replaced by U+FFFD.
std::string RepairUtf8(std::string_view text);

/// Appends `text` as a JSON string literal (quotes included), repairing UTF-8.
void AppendJsonString(std::string& out, std::string_view text);

/// Appends a JSON number for `value`, or the strings "NaN", "Infinity", "-Infinity".
void AppendJsonDouble(std::string& out, double value);

/// Appends the decimal text of `value`.
void AppendJsonInt(std::string& out, int64_t value);

/// Appends the standard base64 (with padding) of `bytes` as a JSON string.
void AppendJsonBase64(std::string& out, std::string_view bytes);

}  // namespace vllora::collector::internal
