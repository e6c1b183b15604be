// The span and event macros: the fast way in.
//
//   auto span = VLLORA_INFO_SPAN("app::runtime::execution", "execution", {"execution_id", 123});
//   VLLORA_INFO("1. Created run span");                      // target VLLORA_TARGET
//   VLLORA_EVENT(vllora::Level::kWarn, "app::db", "slow query took {} ms", ms).With("table", t);
//
// Each expansion owns one constant-initialized Callsite. When no layer wants it the cost is one
// relaxed byte load and a branch: field expressions and message arguments are not evaluated.
// Callsites more verbose than VLLORA_STATIC_MAX_LEVEL (level.h) compile to nothing.
//
// Span fields are `{key, value}` pairs; event fields are added with `.With(key, value)`.
// Events use the target given, or VLLORA_TARGET (define it per file; default "app").
#pragma once

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "vllora/core/format.h"
#include "vllora/core/level.h"
#include "vllora/core/metadata.h"
#include "vllora/core/span.h"
#include "vllora/core/value.h"

#ifndef VLLORA_TARGET
#define VLLORA_TARGET "app"
#endif

namespace vllora::internal {

/// Builds one event; emits it when destroyed (at the end of the full expression).
class EventBuilder {
 public:
  static constexpr size_t kMaxFields = 16;

  template <class... Args>
  EventBuilder(Callsite& cs, FormatString<std::type_identity_t<Args>...> fmt,
               const Args&... args) noexcept
      : cs_(cs) {
    try {
      if constexpr (sizeof...(Args) == 0) {
        FormatTo(message_, fmt.get(), {});
      } else {
        const Value values[] = {Value(args)...};
        FormatTo(message_, fmt.get(), values);
      }
    } catch (...) {
      message_.clear();
    }
  }
  EventBuilder(const EventBuilder&) = delete;
  EventBuilder& operator=(const EventBuilder&) = delete;
  ~EventBuilder();

  /// Adds a field; fields beyond kMaxFields are ignored.
  EventBuilder& With(std::string_view key, Value value) noexcept {
    if (count_ < kMaxFields) fields_[count_++] = Field{key, std::move(value)};
    return *this;
  }

 private:
  Callsite& cs_;
  std::string message_;
  std::array<Field, kMaxFields> fields_;
  size_t count_ = 0;
};

}  // namespace vllora::internal

#define VLLORA_INTERNAL_CALLSITE(lvl, tgt, nm, kind)                                     \
  static constinit ::vllora::Callsite vllora_internal_callsite {                         \
    ::vllora::Metadata { nm, tgt, lvl, kind, __FILE__, static_cast<uint32_t>(__LINE__) } \
  }

// Span with a parent spec: ::vllora::internal::ContextualParent{}, RootParent{} or a Span.
#define VLLORA_INTERNAL_SPAN(parent, lvl, tgt, nm, ...)                                       \
  ([&]() -> ::vllora::Span {                                                                  \
    if constexpr (!::vllora::StaticallyEnabled(lvl)) {                                        \
      return ::vllora::Span();                                                                \
    } else {                                                                                  \
      VLLORA_INTERNAL_CALLSITE(lvl, tgt, nm, ::vllora::CallsiteKind::kSpan);                  \
      if (!::vllora::CallsiteMayBeEnabled(vllora_internal_callsite)) return ::vllora::Span(); \
      const auto& vllora_internal_parent = (parent);                                          \
      if (!::vllora::internal::SpanMayBeWanted(vllora_internal_callsite,                      \
                                               vllora_internal_parent)) {                     \
        return ::vllora::Span();                                                              \
      }                                                                                       \
      return ::vllora::internal::NewSpan(vllora_internal_callsite, {__VA_ARGS__},             \
                                         vllora_internal_parent);                             \
    }                                                                                         \
  }())

/// A span at `level` (a vllora::Level) under the current span. Fields: `{key, value}, …`.
#define VLLORA_SPAN(level, target, name, ...) \
  VLLORA_INTERNAL_SPAN(::vllora::internal::ContextualParent{}, level, target, name, __VA_ARGS__)
/// A span with an explicit parent (a vllora::Span; an empty one makes a root span).
#define VLLORA_SPAN_CHILD_OF(parent, level, target, name, ...) \
  VLLORA_INTERNAL_SPAN((parent), level, target, name, __VA_ARGS__)
/// A span with no parent, whatever is current.
#define VLLORA_ROOT_SPAN(level, target, name, ...) \
  VLLORA_INTERNAL_SPAN(::vllora::internal::RootParent{}, level, target, name, __VA_ARGS__)

#define VLLORA_TRACE_SPAN(target, name, ...) \
  VLLORA_SPAN(::vllora::Level::kTrace, target, name, __VA_ARGS__)
#define VLLORA_DEBUG_SPAN(target, name, ...) \
  VLLORA_SPAN(::vllora::Level::kDebug, target, name, __VA_ARGS__)
#define VLLORA_INFO_SPAN(target, name, ...) \
  VLLORA_SPAN(::vllora::Level::kInfo, target, name, __VA_ARGS__)
#define VLLORA_WARN_SPAN(target, name, ...) \
  VLLORA_SPAN(::vllora::Level::kWarn, target, name, __VA_ARGS__)
#define VLLORA_ERROR_SPAN(target, name, ...) \
  VLLORA_SPAN(::vllora::Level::kError, target, name, __VA_ARGS__)

/// An event at `level` with `target`: `VLLORA_EVENT(level, target, "fmt {}", args…)`, optionally
/// followed by `.With(key, value)` calls. A single statement (safe in an unbraced if/else).
#define VLLORA_EVENT(level, target, ...)                                                       \
  if constexpr (!::vllora::StaticallyEnabled(level)) {                                         \
  } else if (VLLORA_INTERNAL_CALLSITE(level, target, "event", ::vllora::CallsiteKind::kEvent); \
             !::vllora::CallsiteMayBeEnabled(vllora_internal_callsite)) {                      \
  } else                                                                                       \
    ::vllora::internal::EventBuilder(vllora_internal_callsite, __VA_ARGS__)

#define VLLORA_TRACE(...) VLLORA_EVENT(::vllora::Level::kTrace, VLLORA_TARGET, __VA_ARGS__)
#define VLLORA_DEBUG(...) VLLORA_EVENT(::vllora::Level::kDebug, VLLORA_TARGET, __VA_ARGS__)
#define VLLORA_INFO(...) VLLORA_EVENT(::vllora::Level::kInfo, VLLORA_TARGET, __VA_ARGS__)
#define VLLORA_WARN(...) VLLORA_EVENT(::vllora::Level::kWarn, VLLORA_TARGET, __VA_ARGS__)
#define VLLORA_ERROR(...) VLLORA_EVENT(::vllora::Level::kError, VLLORA_TARGET, __VA_ARGS__)
