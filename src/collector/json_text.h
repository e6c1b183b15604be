// Compact JSON text for the collector's JSON columns, written directly into a std::string (the
// hot path of the receiver: no DOM). Strings are repaired on the way: every byte that does not
// start a well-formed UTF-8 sequence becomes U+FFFD, so no column ever holds invalid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "text/text.h"

namespace vllora::collector::internal {

// UTF-8 repair is the shared one (src/text/text.h).
using text::IsValidUtf8;
using text::RepairUtf8;
using text::Utf8SequenceLength;

/// Appends `value` as a JSON string literal, as text::AppendJsonString does (escapes, invalid
/// UTF-8 repaired), with one copy for the common case of text that needs no escape (printable
/// ASCII without '"' and '\\').
void AppendJsonString(std::string& out, std::string_view value);

/// Appends a JSON number for `value`, or the strings "NaN", "Infinity", "-Infinity".
void AppendJsonDouble(std::string& out, double value);

/// Appends the decimal text of `value`.
void AppendJsonInt(std::string& out, int64_t value);

/// Appends the standard base64 (with padding) of `bytes` as a JSON string.
void AppendJsonBase64(std::string& out, std::string_view bytes);

}  // namespace vllora::collector::internal
