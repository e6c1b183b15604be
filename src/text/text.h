// UTF-8 and JSON string primitives shared by the modules (internal: include as "text/text.h").
// OTLP strings must be well-formed UTF-8 and so must JSON text: every byte that does not start a
// well-formed sequence (Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF)
// is replaced by U+FFFD, one replacement per bad byte. Valid input is copied unchanged.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vllora::text {

/// The replacement character U+FFFD in UTF-8.
inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

/// Length (1-4) of the well-formed UTF-8 sequence starting at text[i], or 0 if none starts there.
/// Requires i < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t i) noexcept;

/// True when `text` is well-formed UTF-8. ASCII is checked 8 bytes at a time.
bool IsValidUtf8(std::string_view text) noexcept;

/// Appends `text` to `out`, each ill-formed byte replaced by U+FFFD.
void AppendRepairedUtf8(std::string& out, std::string_view text);

/// `text` with each ill-formed byte replaced by U+FFFD.
std::string RepairUtf8(std::string_view text);

/// Sets `out` to `text` repaired (no allocation beyond `out`'s own when `text` is valid).
void AssignRepairedUtf8(std::string& out, std::string_view text);

/// Appends `text` as a JSON string literal, quotes included: `"` `\` and control characters
/// escaped (\n \r \t \b \f, others \u00xx), UTF-8 repaired, everything else copied as is.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace vllora::text
