// A small {}-style formatter for event messages, standard library only.
//
// Messages use `{}` placeholders, replaced in order by the arguments (any type a Value accepts);
// `{{` and `}}` are literal braces. A format spec inside the braces (`{:>8}`) is accepted and
// ignored. The number of placeholders is checked against the arguments at compile time.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "vllora/core/value.h"

namespace vllora {

namespace internal {
/// Counts `{}` placeholders; returns -1 for an unbalanced brace.
constexpr int CountPlaceholders(std::string_view fmt) {
  int count = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '{') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
        ++i;
        continue;
      }
      size_t close = fmt.find('}', i);
      if (close == std::string_view::npos) return -1;
      ++count;
      i = close;
    } else if (fmt[i] == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        ++i;
        continue;
      }
      return -1;
    }
  }
  return count;
}
// Called only when a format string does not match its arguments: not constexpr, so the
// consteval constructor below fails to compile with this name in the diagnostic.
void FormatStringDoesNotMatchArguments();
}  // namespace internal

/// A format string checked at compile time against the number of arguments.
template <class... Args>
class FormatString {
 public:
  template <class S>
  requires std::is_convertible_v<const S&, std::string_view>
  consteval FormatString(const S& s)  // NOLINT(google-explicit-constructor)
      : str_(s) {
    if (internal::CountPlaceholders(str_) != static_cast<int>(sizeof...(Args))) {
      internal::FormatStringDoesNotMatchArguments();
    }
  }
  constexpr std::string_view get() const noexcept { return str_; }

 private:
  std::string_view str_;
};

/// Appends `fmt` with its placeholders replaced by `args` to `out`.
void FormatTo(std::string& out, std::string_view fmt, std::span<const Value> args);

/// Formats a message: `vllora::Format("{} of {}", 1, 2)` is "1 of 2".
template <class... Args>
std::string Format(FormatString<std::type_identity_t<Args>...> fmt, const Args&... args) {
  std::string out;
  if constexpr (sizeof...(Args) == 0) {
    FormatTo(out, fmt.get(), {});
  } else {
    const Value values[] = {Value(args)...};
    FormatTo(out, fmt.get(), values);
  }
  return out;
}

}  // namespace vllora
