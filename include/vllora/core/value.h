// Typed field values.
//
// A Field is a key and a Value. Values are string, int64, uint64, double, bool or JSON (an object
// or array, exported as its JSON text, which is what vLLora reads). A Value usually *borrows* its
// string: it is built at the callsite and read by the layers before the call returns, so string
// arguments are not copied. Any type with a `dump()` member returning std::string (nlohmann::json)
// converts to a JSON value directly, without this header including that library.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace vllora {

/// A JSON document, already serialized (an object or array). Borrows its text.
class Json {
 public:
  constexpr explicit Json(std::string_view text) noexcept : text_(text) {}
  constexpr std::string_view text() const noexcept { return text_; }

 private:
  std::string_view text_;
};

/// Types that serialize themselves to JSON text with `dump()`, such as nlohmann::json.
template <class T>
concept JsonDumpable = requires(const T& t) {
  { t.dump() } -> std::convertible_to<std::string>;
}
&&!std::is_convertible_v<const T&, std::string_view>;

/// One typed value of a field.
///
/// Lifetime: a Value made from a `const char*`, `std::string_view`, lvalue `std::string` or `Json`
/// borrows the characters; one made from an rvalue `std::string` or a JsonDumpable owns a copy.
/// Size: 24 bytes (a borrowed Value is the view and a type byte; nothing to destroy).
class Value {
 public:
  enum class Type : uint8_t { kNone, kString, kInt64, kUint64, kDouble, kBool, kJson };

  Value() noexcept : type_(Type::kNone) {}
  Value(bool v) noexcept : type_(Type::kBool) { b_ = v; }  // NOLINT(google-explicit-constructor)
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) Value(T v)
  noexcept {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_signed_v<T>) {
      type_ = Type::kInt64;
      i_ = static_cast<int64_t>(v);
    } else {
      type_ = Type::kUint64;
      u_ = static_cast<uint64_t>(v);
    }
  }
  template <std::floating_point T>
  Value(T v) noexcept : type_(Type::kDouble) {  // NOLINT(google-explicit-constructor)
    d_ = static_cast<double>(v);
  }
  Value(const char* s) noexcept  // NOLINT(google-explicit-constructor)
      : type_(Type::kString) {
    sv_ = s ? std::string_view(s) : std::string_view();
  }
  Value(std::string_view s) noexcept : type_(Type::kString) { sv_ = s; }    // NOLINT
  Value(const std::string& s) noexcept : type_(Type::kString) { sv_ = s; }  // NOLINT
  /// Copies the characters into a block the Value owns (on out of memory: an empty string).
  Value(std::string&& s) noexcept  // NOLINT(google-explicit-constructor)
      : type_(Type::kString) {
    Own(s);
  }
  Value(Json j) noexcept : type_(Type::kJson) { sv_ = j.text(); }  // NOLINT
  template <JsonDumpable T>
  Value(const T& json)  // NOLINT(google-explicit-constructor)
      : type_(Type::kJson) {
    Own(json.dump());
  }

  Value(const Value& other) noexcept : type_(other.type_) {
    if (other.owned_) {
      Own(other.sv_);
    } else {
      CopyPayload(other);
    }
  }
  Value(Value&& other) noexcept : type_(other.type_), owned_(other.owned_) {
    CopyPayload(other);
    other.Disown();
  }
  Value& operator=(const Value& other) noexcept {
    if (this != &other) {
      Value copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    if (this != &other) {
      Release();
      type_ = other.type_;
      owned_ = other.owned_;
      CopyPayload(other);
      other.Disown();
    }
    return *this;
  }
  ~Value() { Release(); }

  Type type() const noexcept { return type_; }
  bool is_string() const noexcept { return type_ == Type::kString; }
  bool is_json() const noexcept { return type_ == Type::kJson; }

  /// The text of a kString or kJson value; empty for other types.
  std::string_view str() const noexcept {
    if (type_ != Type::kString && type_ != Type::kJson) return {};
    return sv_;
  }
  int64_t as_int64() const noexcept { return i_; }
  uint64_t as_uint64() const noexcept { return u_; }
  double as_double() const noexcept { return d_; }
  bool as_bool() const noexcept { return b_; }

  /// Appends a human-readable rendering (strings unquoted, JSON as text) to `out`.
  void AppendTo(std::string& out) const;
  /// The rendering of AppendTo as a new string.
  std::string ToString() const;

 private:
  // Points sv_ at a new copy of `s` that this Value owns (empty on out of memory).
  void Own(std::string_view s) noexcept;
  void Release() noexcept {
    if (owned_) delete[] sv_.data();
  }
  void CopyPayload(const Value& other) noexcept {
    // The union's bytes, whichever member is active (sv_ is the widest and shares the address).
    std::memcpy(static_cast<void*>(&sv_), static_cast<const void*>(&other.sv_), sizeof(sv_));
  }
  // After a move: the block now belongs to the other Value.
  void Disown() noexcept {
    if (owned_) {
      owned_ = false;
      sv_ = std::string_view();
    }
  }

  Type type_;
  bool owned_ = false;  // sv_ views a block from Own()
  union {
    int64_t i_;
    uint64_t u_;
    double d_;
    bool b_;
    std::string_view sv_{};
  };
};

/// A key and a typed value. Keys are usually string literals.
struct Field {
  std::string_view key;
  Value value;
};

/// Appends `s` to `out` as a JSON string literal: quoted, with `"`, `\\` and control characters
/// escaped. Used wherever a string is rendered for a reader (log lines, JSON attribute values).
void AppendJsonString(std::string& out, std::string_view s);

/// The fields given to a span, a record or an event. Valid only during the call that receives it.
using FieldSpan = std::span<const Field>;

}  // namespace vllora
