// Static metadata of a callsite, and the callsite's cached interest.
//
// Every span or event macro expands to one `static constinit Callsite`: its name, target, level,
// file and line, plus one atomic byte that caches whether any subscriber wants it. The disabled
// path is a relaxed load of that byte and a branch. Read subscriber.h next.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "vllora/core/level.h"

namespace vllora {

/// Whether a callsite produces a span or an event.
enum class CallsiteKind : uint8_t { kSpan, kEvent };

/// The static description of a span or event. Lifetime: static (or interned for ever).
struct Metadata {
  std::string_view name;    ///< span name, or "event"
  std::string_view target;  ///< `::` path such as "app::runtime::execution"
  Level level;
  CallsiteKind kind;
  const char* file;
  uint32_t line;
};

/// What a subscriber thinks of a callsite: never wanted, always wanted, or ask each time.
enum class Interest : uint8_t { kUnknown = 0, kNever = 1, kSometimes = 2, kAlways = 3 };

/// One per span/event macro expansion. Constant-initialized, so it costs no guard variable.
/// Registered callsites are linked together for the life of the process: a shared library that
/// holds callsites must not be unloaded (dlclose) once they were used.
///
/// Thread-safety: `interest` and `layer_mask` are atomics; `next` is written once, under the
/// callsite-registry lock.
struct Callsite {
  Metadata metadata;
  /// Interest of the current subscriber; kUnknown until first use (then registered).
  std::atomic<uint8_t> interest{0};
  /// Opaque per-callsite cache owned by the current subscriber (the registry keeps the set of
  /// layers that want this callsite here). Rewritten whenever interest is rebuilt.
  std::atomic<uint64_t> subscriber_cache{0};
  Callsite* next = nullptr;

  constexpr explicit Callsite(const Metadata& m) noexcept : metadata(m) {}
  Callsite(const Callsite&) = delete;
  Callsite& operator=(const Callsite&) = delete;
};

namespace internal {
/// Registers `cs` with the callsite registry and computes its interest. Slow path, once per
/// callsite (and again after RebuildInterest).
Interest RegisterCallsite(Callsite& cs) noexcept;
}  // namespace internal

/// The fast check every macro makes: false only when no subscriber can want this callsite.
inline bool CallsiteMayBeEnabled(Callsite& cs) noexcept {
  // Relaxed: the byte only caches a decision; a stale value is corrected on the next check after
  // RebuildInterest, which is all tracing guarantees when the subscriber changes concurrently.
  uint8_t interest = cs.interest.load(std::memory_order_relaxed);
  if (interest == static_cast<uint8_t>(Interest::kNever)) [[likely]]
    return false;
  if (interest == static_cast<uint8_t>(Interest::kUnknown)) [[unlikely]] {
    return internal::RegisterCallsite(cs) != Interest::kNever;
  }
  return true;
}

/// Recomputes the cached interest of every registered callsite. Call after changing what a
/// subscriber's filters want. Blocking: takes the callsite-registry lock.
void RebuildInterest() noexcept;

}  // namespace vllora
