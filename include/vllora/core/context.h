// Execution context: "where am I" — the current span plus any registered context (such as the
// OpenTelemetry Context with its baggage) — captured here and restored there.
//
// Use Bind() to hand work to another thread so it runs inside the span and context that were
// current where it was created:
//
//   pool.submit(vllora::Bind([] { VLLORA_INFO("runs inside the submitter's span"); }));
//
// Other modules add their own thread-local context through RegisterContextSlot(); the OTel bridge
// registers the OpenTelemetry Context, so Bind() and the coroutine support in async.h carry
// baggage too. Read async.h next.
#pragma once

#include <array>
#include <memory>
#include <type_traits>
#include <utility>

#include "vllora/core/span.h"

namespace vllora {

/// A piece of thread-local context owned by another module. Both functions must be noexcept-safe.
struct ContextSlot {
  /// Returns the current value on this thread.
  std::shared_ptr<const void> (*capture)() noexcept;
  /// Installs `value` on this thread and returns the value it replaces.
  std::shared_ptr<const void> (*exchange)(std::shared_ptr<const void> value) noexcept;
};

/// At most this many slots can be registered.
inline constexpr int kMaxContextSlots = 4;

/// Registers a slot (idempotent for the same pointer). `slot` must have static lifetime.
/// Returns its index, or -1 when all slots are taken. Thread-safety: safe at any time.
int RegisterContextSlot(const ContextSlot* slot) noexcept;

/// A captured execution context: the current span and every registered slot.
/// Thread-safety: a snapshot is a value; copy it freely.
class ContextSnapshot {
 public:
  ContextSnapshot() noexcept = default;
  /// Captures this thread's current context.
  static ContextSnapshot Capture() noexcept;
  /// A snapshot whose span is `span` and whose slots are the current ones.
  static ContextSnapshot CaptureWith(Span span) noexcept;

  const Span& span() const noexcept { return span_; }

  /// Installs this snapshot on the current thread and returns what was there (moves `*this`).
  ContextSnapshot Exchange() && noexcept;

 private:
  Span span_;
  std::array<std::shared_ptr<const void>, kMaxContextSlots> slots_{};
};

/// RAII: installs a snapshot for the lifetime of the scope, then restores the previous one.
class [[nodiscard]] ContextScope {
 public:
  explicit ContextScope(ContextSnapshot snapshot) noexcept
      : prev_(std::move(snapshot).Exchange()) {}
  ~ContextScope() { (void)std::move(prev_).Exchange(); }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  ContextSnapshot prev_;
};

/// Wraps `fn` so that, wherever and whenever it is called, it runs inside the context that is
/// current now. Allocation: the returned callable stores `fn` and one snapshot.
template <class F>
auto Bind(F&& fn) {
  return [snapshot = ContextSnapshot::Capture(),
          fn = std::forward<F>(fn)](auto&&... args) mutable -> decltype(auto) {
    ContextScope scope(snapshot);
    return fn(std::forward<decltype(args)>(args)...);
  };
}

/// Like Bind(), but the callable runs inside `span` (entered) instead of the current span.
template <class F>
auto Bind(Span span, F&& fn) {
  return [snapshot = ContextSnapshot::CaptureWith(std::move(span)),
          fn = std::forward<F>(fn)](auto&&... args) mutable -> decltype(auto) {
    ContextScope scope(snapshot);
    return fn(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace vllora
