// Context and Baggage: the immutable, per-thread "what is active right now" value.
//
// A Context carries the active (parent) SpanContext and the Baggage. It is a shared_ptr to an
// immutable node, so copying is one refcount increment and the empty context is a null pointer.
// Each thread has a current Context: Attach() makes one current until its Token is destroyed;
// Wrap() carries a context to another thread or executor. Read next: propagation.h, tracer.h.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "vllora/otel/span_context.h"

namespace vllora::otel {

/// Immutable W3C baggage: an ordered list of unique key/value string pairs.
/// Thread-safety: immutable; safe to share. Copying is a refcount increment.
class Baggage {
 public:
  using Entry = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Entry>::const_iterator;

  Baggage() noexcept = default;

  /// Value for `key`, viewing into this Baggage. Allocation: none.
  std::optional<std::string_view> Get(std::string_view key) const noexcept;
  /// A copy with `key` set to `value` (replacing any previous value). Allocation: one list copy.
  Baggage Set(std::string_view key, std::string_view value) const;
  /// A copy without `key`.
  Baggage Remove(std::string_view key) const;

  size_t size() const noexcept { return entries_ ? entries_->size() : 0; }
  bool empty() const noexcept { return size() == 0; }
  /// Iterates (key, value) pairs in insertion order.
  const_iterator begin() const noexcept;
  const_iterator end() const noexcept;

  bool operator==(const Baggage& other) const noexcept;

 private:
  explicit Baggage(std::shared_ptr<const std::vector<Entry>> entries) noexcept
      : entries_(std::move(entries)) {}
  std::shared_ptr<const std::vector<Entry>> entries_;
};

/// Immutable execution context: active span context + baggage.
/// Thread-safety: immutable; safe to share and copy across threads.
class Context {
 public:
  /// The empty context (no span, no baggage). Allocation: none.
  Context() noexcept = default;

  /// The current context of this thread (empty if none attached).
  /// Allocation: none (one refcount increment).
  static Context Current() noexcept;

  /// A copy with the given baggage entries added (replacing equal keys).
  Context WithBaggage(
      std::initializer_list<std::pair<std::string_view, std::string_view>> entries) const;
  /// A copy whose baggage is `baggage` (replaces the whole baggage).
  Context WithBaggage(const Baggage& baggage) const;
  /// A copy whose active (parent) span is `active_span`.
  Context WithSpanContext(const SpanContext& active_span) const;

  /// The baggage (empty if none).
  const Baggage& baggage() const noexcept;
  /// The active span context (invalid if none).
  const SpanContext& span_context() const noexcept;
  /// The active span of this thread's current context (invalid if none), without copying the
  /// context: Current().span_context() for hot paths. Valid until the current context changes.
  static const SpanContext& CurrentSpanContext() noexcept;
  /// True for a context with neither span nor baggage.
  bool IsEmpty() const noexcept { return node_ == nullptr; }

  bool operator==(const Context& other) const noexcept { return node_ == other.node_; }

  /// RAII guard returned by Attach(); see the definition below.
  class Token;

  /// Makes this context current on the calling thread until the Token is destroyed.
  /// Allocation: none. Blocking: never.
  [[nodiscard]] Token Attach() const noexcept;

  /// Low-level: makes `next` current on this thread and returns the previous current context
  /// (for async integrations that save/restore around resumption points).
  static Context Swap(Context next) noexcept;

  /// Returns a callable that runs `f` with this context attached (for threads / executors).
  /// The callable owns a copy of this context and of `f`.
  template <class F>
  auto Wrap(F&& f) const;

 private:
  struct Node;
  explicit Context(std::shared_ptr<const Node> node) noexcept : node_(std::move(node)) {}
  std::shared_ptr<const Node> node_;
};

/// RAII guard returned by Attach(). Move-only. Its destructor restores the context that was
/// current before the Attach(). Tokens should be destroyed in reverse order of creation on the
/// thread that created them; out-of-order destruction still restores the saved context and
/// emits a kDebug diagnostic.
class Context::Token {
 public:
  Token(Token&& other) noexcept;
  Token& operator=(Token&& other) noexcept;
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;
  ~Token();

 private:
  friend class Context;
  Token(Context previous, const void* attached) noexcept
      : previous_(std::move(previous)), attached_(attached), active_(true) {}
  void Restore() noexcept;
  Context previous_;
  const void* attached_ = nullptr;
  bool active_ = false;
};

template <class F>
auto Context::Wrap(F&& f) const {
  return [context = *this, fn = std::forward<F>(f)](auto&&... args) mutable -> decltype(auto) {
    Token token = context.Attach();
    return fn(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace vllora::otel
