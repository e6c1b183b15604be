#include "text/text.h"

#include <cstdint>
#include <cstring>

namespace vllora::text {
namespace {

// Index of the first byte at or after `i` that is not ASCII (text.size() if none).
size_t SkipAscii(std::string_view text, size_t i) noexcept {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (i + 8 <= text.size()) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if ((word & kHighBits) != 0) break;
    i += 8;
  }
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  return i;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view text, size_t i) noexcept {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  const size_t remaining = text.size() - i;
  const auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < remaining && byte(i + k) >= lo && byte(i + k) <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b0 == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

bool IsValidUtf8(std::string_view text) noexcept {
  for (size_t i = SkipAscii(text, 0); i < text.size(); i = SkipAscii(text, i)) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendRepairedUtf8(std::string& out, std::string_view text) {
  size_t done = 0;  // text[done, i) is valid and not yet appended
  for (size_t i = SkipAscii(text, 0); i < text.size(); i = SkipAscii(text, i)) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(text.substr(done, i - done));
    out.append(kReplacement);
    done = ++i;
  }
  out.append(text.substr(done));
}

std::string RepairUtf8(std::string_view text) {
  std::string out;
  AssignRepairedUtf8(out, text);
  return out;
}

void AssignRepairedUtf8(std::string& out, std::string_view text) {
  if (IsValidUtf8(text)) {
    out.assign(text.data(), text.size());
    return;
  }
  out.clear();
  out.reserve(text.size() + 8);
  AppendRepairedUtf8(out, text);
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    // Copy the run of characters that need nothing at once.
    size_t j = i;
    while (j < text.size()) {
      const auto d = static_cast<unsigned char>(text[j]);
      if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
      ++j;
    }
    out.append(text.substr(i, j - i));
    i = j;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          const size_t n = Utf8SequenceLength(text, i);
          if (n == 0) {
            out.append(kReplacement);
            ++i;
          } else {
            out.append(text.substr(i, n));
            i += n;
          }
          continue;
        }
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace vllora::text
