#include "otlp/otlp_wire.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "otlp/otlp_recordable.h"
#include "text/text.h"

namespace vllora::otlp::internal {
namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

constexpr size_t VarintSize(uint64_t value) noexcept {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

// Copies `n` bytes from `src` to `dst` (not overlapping) and returns whether all of them are
// ASCII (< 0x80). Whole words at a time; the last word overlaps the one before it instead of a
// byte loop, so 8..16 bytes are two loads and two stores.
inline bool CopyCheckAscii(char* dst, const char* src, size_t n) noexcept {
  constexpr uint64_t kHigh64 = 0x8080808080808080U;
  constexpr uint32_t kHigh32 = 0x80808080U;
  if (n >= 8) {
    uint64_t seen = 0;
    if (n <= 32) {  // the usual key or short value: straight-line, no loop set-up
      uint64_t a = 0;
      uint64_t b = 0;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      if (n > 16) {
        uint64_t c = 0;
        uint64_t d = 0;
        std::memcpy(&c, src + 8, 8);
        std::memcpy(&d, src + n - 16, 8);
        std::memcpy(dst + 8, &c, 8);
        std::memcpy(dst + n - 16, &d, 8);
        seen = c | d;
      }
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
      return ((seen | a | b) & kHigh64) == 0;
    }
    for (size_t i = 0; i + 8 < n; i += 8) {
      uint64_t word = 0;
      std::memcpy(&word, src + i, 8);
      std::memcpy(dst + i, &word, 8);
      seen |= word;
    }
    uint64_t last = 0;
    std::memcpy(&last, src + n - 8, 8);
    std::memcpy(dst + n - 8, &last, 8);
    return ((seen | last) & kHigh64) == 0;
  }
  if (n >= 4) {
    uint32_t first = 0;
    uint32_t last = 0;
    std::memcpy(&first, src, 4);
    std::memcpy(&last, src + n - 4, 4);
    std::memcpy(dst, &first, 4);
    std::memcpy(dst + n - 4, &last, 4);
    return ((first | last) & kHigh32) == 0;
  }
  unsigned seen = 0;
  for (size_t i = 0; i < n; ++i) {
    dst[i] = src[i];
    seen |= static_cast<unsigned char>(src[i]);
  }
  return (seen & 0x80U) == 0;
}

// Writes `value` as a varint at `p` (room checked by the caller); returns the end. On a local
// pointer: stores through a char* may alias any member, so a member cursor would be reloaded
// and stored again for every byte.
inline char* PutVarint(char* p, uint64_t value) noexcept {
  while (value >= 0x80) {
    *p++ = static_cast<char>(static_cast<uint8_t>(value) | 0x80);
    value >>= 7;
  }
  *p++ = static_cast<char>(value);
  return p;
}

// Writes `value` as 8 little-endian bytes at `p`; returns the end.
inline char* PutFixed64(char* p, uint64_t value) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &value, 8);
  } else {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
  }
  return p + 8;
}

// Appends to a std::string through a raw cursor. The string is kept at its full capacity while
// writing (so appends are pointer bumps after one Ensure) and cut to the written length by
// Finish(). Nested messages are written length-first: Begin() reserves a guess of the length's
// varint size, End() writes the real length and, when the guess was wrong, moves the body
// (rare: the guesses cover the usual sizes), so the output stays canonical.
class WireWriter {
 public:
  // Writes from the start of `out`, keeping its bytes beyond what is written: a buffer that is
  // reused keeps its size, so it is zero-filled (by resize) only when it grows.
  explicit WireWriter(std::string& out) : out_(out) {
    if (out_.size() < 4096) out_.resize(std::max<size_t>(out_.capacity(), 4096));
    base_ = out_.data();
    cur_ = base_;
    end_ = base_ + out_.size();
  }
  WireWriter(const WireWriter&) = delete;
  WireWriter& operator=(const WireWriter&) = delete;

  size_t written() const noexcept { return static_cast<size_t>(cur_ - base_); }

  // For writers that keep the cursor in a local variable (stores through a char* may alias the
  // members, so a member cursor is reloaded after every byte): Room(n) returns the cursor with
  // at least `n` bytes free up to limit(); Commit(p) hands the moved cursor back.
  char* Room(size_t n) {
    Ensure(n);
    return cur_;
  }
  char* limit() const noexcept { return end_; }
  void Commit(char* p) noexcept { cur_ = p; }
  // Offsets into the output survive Grow(); pointers do not.
  size_t Offset(const char* p) const noexcept { return static_cast<size_t>(p - base_); }
  char* At(size_t offset) const noexcept { return base_ + offset; }

  void Ensure(size_t n) {
    if (static_cast<size_t>(end_ - cur_) < n) [[unlikely]]
      Grow(n);
  }

  [[gnu::noinline]] void Grow(size_t n) {
    const size_t used = static_cast<size_t>(cur_ - base_);
    out_.resize(std::max(out_.size() * 2, used + n));
    base_ = out_.data();
    cur_ = base_ + used;
    end_ = base_ + out_.size();
  }

  // The caller has Ensure()d room for 10 bytes.
  void RawVarint(uint64_t value) noexcept { cur_ = PutVarint(cur_, value); }

  void Tag(uint32_t field, uint32_t wire_type) {
    Ensure(10);
    RawVarint((uint64_t{field} << 3) | wire_type);
  }

  void Varint(uint32_t field, uint64_t value) {
    Ensure(20);
    RawVarint((uint64_t{field} << 3) | kVarint);
    RawVarint(value);
  }
  void VarintIfNonZero(uint32_t field, uint64_t value) {
    if (value != 0) Varint(field, value);
  }

  void Fixed64(uint32_t field, uint64_t value) {
    Ensure(18);
    RawVarint((uint64_t{field} << 3) | kFixed64);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(cur_, &value, 8);
      cur_ += 8;
    } else {
      for (int i = 0; i < 8; ++i) {
        *cur_++ = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
      }
    }
  }
  void Fixed64IfNonZero(uint32_t field, uint64_t value) {
    if (value != 0) Fixed64(field, value);
  }

  void Fixed32IfNonZero(uint32_t field, uint32_t value) {
    if (value == 0) return;
    Ensure(14);
    RawVarint((uint64_t{field} << 3) | kFixed32);
    for (int i = 0; i < 4; ++i) *cur_++ = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
  }

  // `bytes` field of a size known at compile time (ids): the copy is a few moves, no call.
  template <size_t N>
  void FixedBytes(uint32_t field, const std::array<uint8_t, N>& data) {
    static_assert(N < 0x80);
    Ensure(12 + N);
    RawVarint((uint64_t{field} << 3) | kLengthDelimited);
    *cur_++ = static_cast<char>(N);
    std::memcpy(cur_, data.data(), N);
    cur_ += N;
  }

  void Bytes(uint32_t field, const void* data, size_t size) {
    Ensure(20 + size);
    RawVarint((uint64_t{field} << 3) | kLengthDelimited);
    RawVarint(size);
    if (size != 0) std::memcpy(cur_, data, size);
    cur_ += size;
  }

  // A proto3 `string`: well-formed UTF-8 is copied, otherwise each bad byte becomes U+FFFD.
  // ASCII (the usual case) is checked while it is copied, 8 bytes at a time; only text with a
  // byte >= 0x80 goes through the full UTF-8 check, and only ill-formed text is rewritten.
  void String(uint32_t field, std::string_view text) {
    const size_t size = text.size();
    Ensure(20 + size);
    char* p = PutVarint(cur_, (uint64_t{field} << 3) | kLengthDelimited);
    p = PutVarint(p, size);
    if (CopyCheckAscii(p, text.data(), size) || text::IsValidUtf8(text)) {
      cur_ = p + size;  // copied already
      return;
    }
    text::AssignRepairedUtf8(scratch_, text);
    Bytes(field, scratch_.data(), scratch_.size());
  }
  // Proto3 omits empty strings (the repair of a non-empty string is never empty).
  void StringIfNonEmpty(uint32_t field, std::string_view text) {
    if (!text.empty()) String(field, text);
  }

  // Starts an embedded message; returns what End() needs. `guess` = expected length varint size.
  size_t Begin(uint32_t field, size_t guess) {
    Tag(field, kLengthDelimited);
    Ensure(guess);
    const size_t at = static_cast<size_t>(cur_ - base_);
    cur_ += guess;
    return at * 8 + guess;
  }

  void End(size_t token) {
    const size_t at = token / 8;
    const size_t guess = token % 8;
    const size_t body_size = static_cast<size_t>(cur_ - base_) - at - guess;
    // The usual cases: the guess was right.
    if (guess == 1 && body_size < 0x80) {
      base_[at] = static_cast<char>(body_size);
      return;
    }
    if (guess == 2 && body_size >= 0x80 && body_size < 0x4000) {
      base_[at] = static_cast<char>(static_cast<uint8_t>(body_size) | 0x80);
      base_[at + 1] = static_cast<char>(body_size >> 7);
      return;
    }
    EndSlow(at, guess, body_size);
  }

  [[gnu::noinline]] void EndSlow(size_t at, size_t guess, size_t body_size) {
    const size_t body_at = at + guess;
    const size_t need = VarintSize(body_size);
    if (need != guess) {
      if (need > guess) Ensure(need - guess);
      std::memmove(base_ + at + need, base_ + body_at, body_size);
      cur_ = base_ + at + need + body_size;
    }
    char* saved = cur_;
    cur_ = base_ + at;
    RawVarint(body_size);
    cur_ = saved;
  }

 private:
  std::string& out_;
  std::string scratch_;
  char* base_ = nullptr;
  char* cur_ = nullptr;
  char* end_ = nullptr;
};

// Varint-size guesses for embedded messages (a wrong guess costs one memmove, nothing else).
constexpr size_t kSmall = 1;   // < 128 bytes: KeyValue, AnyValue, Status, InstrumentationScope
constexpr size_t kMedium = 2;  // < 16 KiB: Span, Event, Link, Resource
constexpr size_t kLarge = 3;   // < 2 MiB: ResourceSpans, ScopeSpans

void WriteAnyValue(WireWriter& w, const otel::AttributeValue& value) {
  // AnyValue's fields are a oneof: the set member is written even when it is the default.
  // Strings and int64 (the usual values) without std::visit's indirect call.
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    w.String(1, *text);
    return;
  }
  if (const auto* number = std::get_if<int64_t>(&value)) {
    w.Varint(3, static_cast<uint64_t>(*number));  // two's complement, as protobuf's int64
    return;
  }
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          w.Varint(2, v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.Varint(3, static_cast<uint64_t>(v));  // two's complement, as protobuf's int64
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            w.Varint(3, v);
          } else {
            char buffer[24];
            const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v);
            w.Bytes(1, buffer, static_cast<size_t>(result.ptr - buffer));
          }
        } else if constexpr (std::is_same_v<T, double>) {
          uint64_t bits = 0;
          static_assert(sizeof bits == sizeof v);
          std::memcpy(&bits, &v, sizeof bits);
          w.Fixed64(4, bits);
        } else {
          w.String(1, v);
        }
      },
      value);
}

// One KeyValue the general way (Begin/End, UTF-8 repair).
[[gnu::noinline]] void WriteKeyValueSlow(WireWriter& w, uint32_t field,
                                         const otel::KeyValueView& kv) {
  const size_t entry = w.Begin(field, kSmall);
  w.StringIfNonEmpty(1, kv.key);
  const size_t value = w.Begin(2, kSmall);
  WriteAnyValue(w, kv.value);
  w.End(value);
  w.End(entry);
}

// Varint size without a loop: 1 + (bits above the lowest 7) / 7, from the bit width.
inline size_t VarintSizeFast(uint64_t value) noexcept {
  return (static_cast<size_t>(std::bit_width(value | 1)) * 9 + 64) / 64;
}

inline size_t SmallVarintSize(uint64_t value) noexcept {
  return value < 0x80 ? 1 : VarintSize(value);
}

// One KeyValue of any value with its lengths computed first, written at `p` after a room check;
// an entry with non-ASCII text that is not well-formed UTF-8 is rewound and written by
// WriteKeyValueSlow (with its repair). Returns the cursor after the entry (also committed).
// For what KeyValueCursor's one-pass paths do not take: an empty key, an entry of 128 bytes or
// more, a uint64 over int64's range, invalid UTF-8, or no room left in the block in hand.
[[gnu::noinline]] char* WriteKeyValueGeneral(WireWriter& w, char* p, char tag, std::string_view key,
                                             const otel::AttributeValue& value) {
  std::string_view text;  // a string value, or the digits of a uint64 over int64's range
  char digits[24];
  uint64_t number = 0;  // varint or fixed64 payload
  char any_tag = 0;
  size_t any_size = 0;
  switch (value.index()) {
    case 4:  // string_view
      text = *std::get_if<std::string_view>(&value);
      any_tag = 0x0A;  // AnyValue.string_value (1, length-delimited)
      any_size = 1 + SmallVarintSize(text.size()) + text.size();
      break;
    case 1:  // int64, two's complement as protobuf's int64
      number = static_cast<uint64_t>(*std::get_if<int64_t>(&value));
      any_tag = 0x18;  // AnyValue.int_value (3, varint)
      any_size = 1 + SmallVarintSize(number);
      break;
    case 0:  // bool
      number = *std::get_if<bool>(&value) ? 1 : 0;
      any_tag = 0x10;  // AnyValue.bool_value (2, varint)
      any_size = 2;
      break;
    case 2: {  // uint64: int_value when it fits, else its decimal digits as string_value
      number = *std::get_if<uint64_t>(&value);
      if (number <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        any_tag = 0x18;
        any_size = 1 + SmallVarintSize(number);
      } else {
        const auto result = std::to_chars(digits, digits + sizeof(digits), number);
        text = std::string_view(digits, static_cast<size_t>(result.ptr - digits));
        any_tag = 0x0A;
        any_size = 1 + 1 + text.size();
      }
      break;
    }
    default: {                                        // double
      const double* d = std::get_if<double>(&value);  // the only index left
      const double bits = d != nullptr ? *d : 0.0;
      static_assert(sizeof number == sizeof bits);
      std::memcpy(&number, &bits, sizeof number);
      any_tag = 0x21;  // AnyValue.double_value (4, fixed64)
      any_size = 9;
      break;
    }
  }
  const size_t key_size = key.empty() ? 0 : 1 + SmallVarintSize(key.size()) + key.size();
  const size_t entry_size = key_size + 1 + SmallVarintSize(any_size) + any_size;
  w.Commit(p);
  p = w.Room(entry_size + 24);
  char* const entry_start = p;
  *p++ = tag;
  p = PutVarint(p, entry_size);
  bool ascii = true;
  if (!key.empty()) {
    *p++ = 0x0A;  // KeyValue.key (1, length-delimited)
    p = PutVarint(p, key.size());
    ascii = CopyCheckAscii(p, key.data(), key.size());
    p += key.size();
  }
  *p++ = 0x12;  // KeyValue.value (2, length-delimited)
  p = PutVarint(p, any_size);
  *p++ = any_tag;
  if (any_tag == 0x0A) {
    p = PutVarint(p, text.size());
    ascii = CopyCheckAscii(p, text.data(), text.size()) && ascii;
    p += text.size();
  } else if (any_tag == 0x21) {
    p = PutFixed64(p, number);
  } else {
    p = PutVarint(p, number);
  }
  if (!ascii && !(text::IsValidUtf8(key) && (any_tag != 0x0A || text::IsValidUtf8(text))))
      [[unlikely]] {
    w.Commit(entry_start);
    WriteKeyValueSlow(w, static_cast<uint32_t>(tag) >> 3, otel::KeyValueView{key, value});
    return w.Room(0);
  }
  w.Commit(p);
  return p;
}

template <class T>
[[gnu::noinline]] char* WriteKeyValueGeneral(WireWriter& w, char* p, char tag, std::string_view key,
                                             T value) {
  return WriteKeyValueGeneral(w, p, tag, key, otel::AttributeValue(std::in_place_type<T>, value));
}

// The visitor that writes an attribute list (Attributes::Visit) as repeated KeyValue with the
// cursor in registers. The usual entry - a non-empty key and the whole KeyValue under 128 bytes,
// so every length is one byte and known up front - is written in one straight-line pass per
// value type; keys and string values are copied while being checked for ASCII, and only text
// with a byte >= 0x80 gets the full UTF-8 check. Everything else goes to WriteKeyValueGeneral.
// Used as a local object whose address never leaves the inlined code: stores through char*
// then cannot make its members reload.
class KeyValueCursor {
 public:
  // `tag`: the repeated KeyValue field's tag (field < 16, length-delimited: one byte).
  KeyValueCursor(WireWriter& w, char* p, char tag) noexcept
      : w_(w), p_(p), limit_(w.limit()), tag_(tag) {}
  char* cursor() const noexcept { return p_; }
  char* limit() const noexcept { return limit_; }

  [[gnu::always_inline]] void operator()(std::string_view key, std::string_view value) {
    const size_t value_length = value.size();
    // key (1 + 1 + key), value (1 + 1 + AnyValue: 1 + 1 + value)
    const size_t entry_size = 6 + key.size() + value_length;
    if (!Fits(key, entry_size)) [[unlikely]] {
      General(key, value);
      return;
    }
    bool key_ascii = false;
    char* p = Head(key, entry_size, 2 + value_length, key_ascii);
    p[0] = 0x0A;  // AnyValue.string_value (1, length-delimited)
    p[1] = static_cast<char>(value_length);
    const bool value_ascii = CopyCheckAscii(p + 2, value.data(), value_length);
    if (!(key_ascii && value_ascii) && !(text::IsValidUtf8(key) && text::IsValidUtf8(value)))
        [[unlikely]] {
      General(key, value);  // rewrites the entry from p_, repaired
      return;
    }
    p_ = p + 2 + value_length;
  }
  [[gnu::always_inline]] void operator()(std::string_view key, int64_t value) {
    const auto number = static_cast<uint64_t>(value);  // two's complement, as protobuf's int64
    Scalar(key, value, 0x18, number, VarintSizeFast(number));  // AnyValue.int_value (3)
  }
  [[gnu::always_inline]] void operator()(std::string_view key, bool value) {
    Scalar(key, value, 0x10, value ? 1 : 0, 1);  // AnyValue.bool_value (2, varint)
  }
  [[gnu::always_inline]] void operator()(std::string_view key, double value) {
    uint64_t bits = 0;
    static_assert(sizeof bits == sizeof value);
    std::memcpy(&bits, &value, sizeof bits);
    Scalar(key, value, 0x21, bits, 8);  // AnyValue.double_value (4, fixed64)
  }
  void operator()(std::string_view key, uint64_t value) {
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Scalar(key, value, 0x18, value, VarintSizeFast(value));  // as int_value
    } else {
      General(key, value);  // its decimal digits as string_value
    }
  }

 private:
  // A KeyValue whose AnyValue is `any_tag` + `number` (`number_size` bytes: a varint, or the
  // fixed64 of a double when any_tag is 0x21).
  template <class T>
  [[gnu::always_inline]] void Scalar(std::string_view key, T value, char any_tag, uint64_t number,
                                     size_t number_size) {
    const size_t any_size = 1 + number_size;
    const size_t entry_size = 4 + key.size() + any_size;
    if (!Fits(key, entry_size)) [[unlikely]] {
      General(key, value);
      return;
    }
    bool key_ascii = false;
    char* p = Head(key, entry_size, any_size, key_ascii);
    p[0] = any_tag;
    p = any_tag == 0x21 ? PutFixed64(p + 1, number) : PutVarint(p + 1, number);
    if (!key_ascii && !text::IsValidUtf8(key)) [[unlikely]] {
      General(key, value);  // rewrites the entry from p_, repaired
      return;
    }
    p_ = p;
  }
  // The one-pass path: a non-empty key, the whole KeyValue under 128 bytes (every length one
  // byte), and room for it and the next entry's tag and length.
  [[gnu::always_inline]] bool Fits(std::string_view key, size_t entry_size) const noexcept {
    return !key.empty() && entry_size < 0x80 && static_cast<size_t>(limit_ - p_) >= entry_size + 2;
  }
  // Writes the KeyValue's tag and length, its key, and the value's tag and length at p_;
  // returns where the AnyValue's contents go. `key_ascii`: whether the key was all ASCII.
  [[gnu::always_inline]] char* Head(std::string_view key, size_t entry_size, size_t any_size,
                                    bool& key_ascii) noexcept {
    char* p = p_;
    p[0] = tag_;
    p[1] = static_cast<char>(entry_size);
    p[2] = 0x0A;  // KeyValue.key (1, length-delimited)
    p[3] = static_cast<char>(key.size());
    key_ascii = CopyCheckAscii(p + 4, key.data(), key.size());
    p += 4 + key.size();
    p[0] = 0x12;  // KeyValue.value (2, length-delimited)
    p[1] = static_cast<char>(any_size);
    return p + 2;
  }
  template <class T>
  void General(std::string_view key, T value) {
    p_ = WriteKeyValueGeneral(w_, p_, tag_, key, value);
    limit_ = w_.limit();
  }

  WireWriter& w_;
  char* p_;
  char* limit_;
  char tag_;
};

// The attributes as repeated KeyValue (`field` < 16, so its tag is one byte).
[[gnu::flatten]] void WriteAttributes(WireWriter& w, uint32_t field,
                                      const otel::Attributes& attributes) {
  if (attributes.empty()) return;
  KeyValueCursor cursor(w, w.Room(0), static_cast<char>((field << 3) | kLengthDelimited));
  attributes.Visit(cursor);
  w.Commit(cursor.cursor());
}

// A `bytes` field of a size known at compile time (ids) at `p`: tag, length, bytes.
template <size_t N>
inline char* PutFixedBytes(char* p, char tag, const std::array<uint8_t, N>& data) noexcept {
  static_assert(N < 0x80);
  *p++ = tag;
  *p++ = static_cast<char>(N);
  std::memcpy(p, data.data(), N);
  return p + N;
}

inline char* PutFixed64IfNonZero(char* p, char tag, uint64_t value) noexcept {
  if (value == 0) return p;
  *p++ = tag;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &value, 8);
    return p + 8;
  } else {
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
    return p;
  }
}

// Span fields 10-15: dropped attributes, events, dropped events, links, dropped links, status.
// Rare on the hot path (all empty or zero), so out of line. Returns the committed cursor.
[[gnu::noinline]] char* WriteSpanTail(WireWriter& w, char* p, const otel::SpanData& data) {
  w.Commit(p);
  w.VarintIfNonZero(10, data.attributes.dropped_count());
  for (const otel::Event& event : data.events) {
    const size_t e = w.Begin(11, kMedium);
    w.Fixed64IfNonZero(1, event.time_unix_nano);
    w.StringIfNonEmpty(2, event.name);
    WriteAttributes(w, 3, event.attributes);
    w.VarintIfNonZero(4, event.attributes.dropped_count());
    w.End(e);
  }
  w.VarintIfNonZero(12, data.dropped_events_count);
  for (const otel::Link& link : data.links) {
    const size_t l = w.Begin(13, kMedium);
    const auto& trace_id = link.context.trace_id().bytes;
    const auto& span_id = link.context.span_id().bytes;
    w.FixedBytes(1, trace_id);
    w.FixedBytes(2, span_id);
    w.StringIfNonEmpty(3, link.context.trace_state());
    WriteAttributes(w, 4, link.attributes);
    w.VarintIfNonZero(5, link.attributes.dropped_count());
    w.Fixed32IfNonZero(6, SpanFlags(link.context.trace_flags(), link.context.IsRemote()));
    w.End(l);
  }
  w.VarintIfNonZero(14, data.dropped_links_count);
  if (data.status_code != otel::StatusCode::kUnset || !data.status_message.empty()) {
    const size_t status = w.Begin(15, kSmall);
    w.StringIfNonEmpty(2, data.status_message);
    w.VarintIfNonZero(3, static_cast<uint64_t>(data.status_code));
    w.End(status);
  }
  return w.Room(0);
}

// Span fields in field-number order (flags = 16 last), as protobuf serializes them. One local
// cursor from the Span's tag to its flags: the head after one room check, the attributes
// through KeyValueCursor (Attributes::Visit inlined: flatten), the rare fields 10-15 out of
// line. The Span's length gets 2 bytes up front (< 16 KiB, the usual size) and is fixed by
// EndSlow when it does not fit them.
[[gnu::flatten]] void WriteSpan(WireWriter& w, const otel::SpanData& data) {
  const std::string_view name = data.name;
  // Span tag + length (3), ids (18 + 10 + 10), name (<= 11 + size), kind (<= 11), times (2 x 9)
  const size_t head_room = 3 + 38 + 11 + name.size() + 11 + 2 * 9;
  char* p = w.Room(head_room);
  *p = 0x12;  // ScopeSpans.spans (2, length-delimited)
  const size_t length_at = w.Offset(p + 1);
  p += 3;
  p = PutFixedBytes(p, 0x0A, data.trace_id.bytes);  // trace_id (1)
  p = PutFixedBytes(p, 0x12, data.span_id.bytes);   // span_id (2)
  if (!data.trace_state.empty()) [[unlikely]] {
    w.Commit(p);
    w.String(3, data.trace_state);
    p = w.Room(head_room);
  }
  if (data.parent_span_id.IsValid()) p = PutFixedBytes(p, 0x22, data.parent_span_id.bytes);
  if (!name.empty()) {
    char* const name_start = p;
    *p++ = 0x2A;  // name (5, length-delimited)
    p = PutVarint(p, name.size());
    if (!CopyCheckAscii(p, name.data(), name.size()) && !text::IsValidUtf8(name)) [[unlikely]] {
      w.Commit(name_start);
      w.String(5, name);
      p = w.Room(11 + 2 * 9);
    } else {
      p += name.size();
    }
  }
  if (data.kind != otel::SpanKind{}) {
    *p++ = 0x30;  // kind (6, varint)
    p = PutVarint(p, static_cast<uint64_t>(data.kind));
  }
  p = PutFixed64IfNonZero(p, 0x39, data.start_time_unix_nano);  // 7
  p = PutFixed64IfNonZero(p, 0x41, data.end_time_unix_nano);    // 8
  KeyValueCursor attributes(w, p, 0x4A);                        // attributes (9)
  data.attributes.Visit(attributes);
  p = attributes.cursor();
  char* limit = attributes.limit();
  if (data.attributes.dropped_count() != 0 || !data.events.empty() ||
      data.dropped_events_count != 0 || !data.links.empty() || data.dropped_links_count != 0 ||
      data.status_code != otel::StatusCode::kUnset || !data.status_message.empty()) [[unlikely]] {
    p = WriteSpanTail(w, p, data);
    limit = w.limit();
  }
  const uint32_t flags = SpanFlags(data.trace_flags, data.parent_is_remote);
  if (flags != 0) {
    if (limit - p < 6) [[unlikely]] {
      w.Commit(p);
      p = w.Room(6);
    }
    *p++ = static_cast<char>(0x85);  // flags (16, fixed32): tag 133 as a varint
    *p++ = 0x01;
    for (int i = 0; i < 4; ++i) *p++ = static_cast<char>(static_cast<uint8_t>(flags >> (8 * i)));
  }
  w.Commit(p);
  const size_t body_size = w.Offset(p) - length_at - 2;
  if (body_size >= 0x80 && body_size < 0x4000) [[likely]] {
    char* const length = w.At(length_at);
    length[0] = static_cast<char>(static_cast<uint8_t>(body_size) | 0x80);
    length[1] = static_cast<char>(body_size >> 7);
  } else {
    w.EndSlow(length_at, 2, body_size);
  }
}

}  // namespace

void EncodeExportRequest(std::span<const std::unique_ptr<otel::SpanData>> batch, std::string& out) {
  out.resize(EncodeExportRequestInto(batch, out));
}

namespace {

// The usual batch: every span has the same resource and scope objects (one tracer). Then the
// request is one ResourceSpans with one ScopeSpans holding the spans in batch order, exactly
// what GroupByResourceAndScope() would give, without building the groups. False otherwise.
bool AllFromOneTracer(std::span<const std::unique_ptr<otel::SpanData>> batch,
                      const otel::SpanData** first) {
  *first = nullptr;
  for (const std::unique_ptr<otel::SpanData>& data : batch) {
    if (!data) continue;
    if (*first == nullptr) {
      *first = data.get();
    } else if (data->resource != (*first)->resource || data->scope != (*first)->scope) {
      return false;
    }
  }
  return *first != nullptr;
}

}  // namespace

size_t EncodeExportRequestInto(std::span<const std::unique_ptr<otel::SpanData>> batch,
                               std::string& buffer) {
  const otel::SpanData* first = nullptr;
  std::vector<ResourceGroup> groups;
  if (AllFromOneTracer(batch, &first)) {
    groups.push_back(ResourceGroup{first->resource.get(), {}});
    groups.back().scopes.push_back(ScopeGroup{first->scope.get(), {}});
  } else {
    groups = GroupByResourceAndScope(batch);
    first = nullptr;
  }
  WireWriter w(buffer);
  for (const ResourceGroup& group : groups) {
    const size_t resource_spans = w.Begin(1, kLarge);
    if (group.resource != nullptr) {
      const size_t resource = w.Begin(1, kMedium);
      WriteAttributes(w, 1, group.resource->attributes());
      w.VarintIfNonZero(2, group.resource->attributes().dropped_count());
      w.End(resource);
    }
    for (const ScopeGroup& scope_group : group.scopes) {
      const size_t scope_spans = w.Begin(2, kLarge);
      if (scope_group.scope != nullptr) {
        const size_t scope = w.Begin(1, kSmall);
        w.StringIfNonEmpty(1, scope_group.scope->name);
        w.StringIfNonEmpty(2, scope_group.scope->version);
        w.End(scope);
      }
      if (first != nullptr) {
        for (const std::unique_ptr<otel::SpanData>& data : batch) {
          if (data) WriteSpan(w, *data);
        }
      } else {
        for (const otel::SpanData* data : scope_group.spans) WriteSpan(w, *data);
      }
      if (scope_group.scope != nullptr) w.StringIfNonEmpty(3, scope_group.scope->schema_url);
      w.End(scope_spans);
    }
    if (group.resource != nullptr) w.StringIfNonEmpty(3, group.resource->schema_url());
    w.End(resource_spans);
  }
  return w.written();
}

}  // namespace vllora::otlp::internal
