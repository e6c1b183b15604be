#include "collector/json_text.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace vllora::collector::internal {

namespace {

bool NeedsEscape(unsigned char byte) noexcept {
  return byte < 0x20 || byte >= 0x80 || byte == '"' || byte == '\\';
}

// True when no byte of the 8 in `w` needs escaping or UTF-8 repair: (w - 0x01..01 * n) & ~w has
// a byte's high bit set when that byte is below n (n <= 0x80; a borrow can only mark bytes above
// one that is truly below n, so "any" is exact).
bool IsPlainWord(uint64_t w) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  const uint64_t marks = w | ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                         ((backslash - kOnes) & ~backslash);
  return (marks & kHigh) == 0;
}

// True when no byte of `value` needs escaping or UTF-8 repair, tested 8 bytes at a time. From 8
// bytes on, the last (partial) block is tested as the 8 bytes that end the value, overlapping the
// block before it: no byte-by-byte tail (attribute keys and values are mostly 8-40 bytes).
bool IsPlainJsonText(std::string_view value) noexcept {
  const char* p = value.data();
  const size_t n = value.size();
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (NeedsEscape(static_cast<unsigned char>(p[i]))) return false;
    }
    return true;
  }
  uint64_t w;
  for (size_t i = 0; i + 8 < n; i += 8) {
    std::memcpy(&w, p + i, 8);
    if (!IsPlainWord(w)) return false;
  }
  std::memcpy(&w, p + n - 8, 8);
  return IsPlainWord(w);
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view value) {
  if (!IsPlainJsonText(value)) {
    text::AppendJsonString(out, value);
    return;
  }
  // push_back/append, not resize + memcpy: resize would first zero the bytes it adds.
  out.push_back('"');
  out.append(value.data(), value.size());
  out.push_back('"');
}

void AppendJsonDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  char buffer[32];
  // Shortest text that reads back as the same double.
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void AppendJsonInt(std::string& out, int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void AppendJsonBase64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.push_back('"');
  size_t i = 0;
  const auto at = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = at(i) << 16;
    if (rest == 2) n |= at(i + 1) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  out.push_back('"');
}

}  // namespace vllora::collector::internal
