// Span: a handle to a unit of work with a start and an end.
//
// Spans are created by the macros in macros.h (VLLORA_INFO_SPAN, …) or by StartSpan(). A Span is a
// cheap reference-counted handle, like Rust tracing's `Span`: copies share the span, and the span
// closes (its end time is taken) when the last copy is gone. Children keep their parent open. A
// disabled span (no layer wanted it) is an empty handle on which every call is a no-op.
//
//   vllora::Span span = VLLORA_INFO_SPAN("app::runtime::execution", "execution",
//                                        {"execution_id", 123});
//   span.Record("status", "ok");              // before or during the work
//   { auto entered = span.Enter(); work(); }  // current on this thread while `entered` lives
//   span.InScope([] { work(); });             // the same, for a callable
//   vllora::Span::Current().Record("ttft", 843129u);
//
// For coroutines and threads read async.h and context.h.
#pragma once

#include <initializer_list>
#include <string_view>
#include <type_traits>
#include <utility>

#include "vllora/core/level.h"
#include "vllora/core/subscriber.h"
#include "vllora/core/value.h"

namespace vllora {

namespace internal {
/// This thread's current span (owning one reference), or null.
SpanNode* CurrentNode() noexcept;
/// Makes `node` current and returns the previous one; ownership of both references moves.
SpanNode* ExchangeCurrent(SpanNode* node) noexcept;
}  // namespace internal

/// A handle to a span; empty when the span is disabled.
///
/// Thread-safety: a Span may be copied, recorded on and entered from any thread.
/// Allocation: none in the handle; creating an enabled span allocates in the subscriber.
class Span {
 public:
  /// An empty (disabled) span.
  constexpr Span() noexcept = default;
  /// Adopts one reference to `node` (may be null).
  explicit Span(internal::SpanNode* node) noexcept : node_(node) {}
  Span(const Span& other) noexcept : node_(other.node_) {
    if (node_) node_->AddRef();
  }
  Span(Span&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  Span& operator=(const Span& other) noexcept {
    Span(other).swap(*this);
    return *this;
  }
  Span& operator=(Span&& other) noexcept {
    Span(std::move(other)).swap(*this);
    return *this;
  }
  ~Span() {
    if (node_) node_->Release();
  }
  void swap(Span& other) noexcept { std::swap(node_, other.node_); }

  /// The span current on this thread (or in this task, see async.h); empty if none.
  static Span Current() noexcept;

  /// True when no layer wanted this span; every call on it is a no-op.
  bool IsDisabled() const noexcept { return node_ == nullptr; }
  explicit operator bool() const noexcept { return node_ != nullptr; }
  /// The callsite metadata; null for a disabled span.
  const Metadata* metadata() const noexcept { return node_ ? &node_->callsite->metadata : nullptr; }
  /// A process-unique id; 0 for a disabled span.
  uint64_t id() const noexcept { return node_ ? node_->id : 0; }
  bool operator==(const Span& other) const noexcept { return node_ == other.node_; }

  /// Adds or replaces one field. The value is copied by the layers that keep it.
  const Span& Record(std::string_view key, const Value& value) const noexcept;
  /// Adds or replaces several fields at once.
  const Span& Record(std::initializer_list<Field> fields) const noexcept;

  /// RAII guard returned by Enter(): the span is current until the guard is destroyed.
  class [[nodiscard]] EnterGuard {
   public:
    EnterGuard(EnterGuard&& other) noexcept
        : span_(std::exchange(other.span_, nullptr)), prev_(std::exchange(other.prev_, nullptr)) {}
    EnterGuard(const EnterGuard&) = delete;
    EnterGuard& operator=(const EnterGuard&) = delete;
    EnterGuard& operator=(EnterGuard&&) = delete;
    ~EnterGuard();

   private:
    friend class Span;
    explicit EnterGuard(internal::SpanNode* span) noexcept;
    internal::SpanNode* span_;
    internal::SpanNode* prev_;
  };

  /// Makes this span current until the returned guard is destroyed. Guards nest.
  EnterGuard Enter() const noexcept { return EnterGuard(node_); }

  /// Runs `fn` with this span current and returns its result. For synchronous code; for
  /// coroutines use Instrument (async.h).
  template <class F>
  decltype(auto) InScope(F&& fn) const {
    EnterGuard guard = Enter();
    return std::forward<F>(fn)();
  }

  /// The underlying node, for subscribers and integrations.
  internal::SpanNode* node() const noexcept { return node_; }
  /// Gives up this handle's reference without releasing it (for integrations).
  internal::SpanNode* ReleaseNode() && noexcept { return std::exchange(node_, nullptr); }

 private:
  internal::SpanNode* node_ = nullptr;
};

/// Plain-function API: starts a span under the current span (or under `parent` when given). The
/// target and name need not be literals: the callsite is interned once per distinct triple.
/// Allocation: a lock and a hash lookup on every call; prefer the macros on hot paths.
/// Honours VLLORA_STATIC_MAX_LEVEL of the calling file.
inline Span StartSpan(Level level, std::string_view target, std::string_view name,
                      std::initializer_list<Field> fields = {},
                      const Span* parent = nullptr) noexcept;

/// Plain-function API: emits an event (already-formatted message) inside the current span.
inline void EmitEvent(Level level, std::string_view target, std::string_view message,
                      std::initializer_list<Field> fields = {}) noexcept;

namespace internal {
Span StartSpanImpl(Level level, std::string_view target, std::string_view name,
                   std::initializer_list<Field> fields, const Span* parent) noexcept;
void EmitEventImpl(Level level, std::string_view target, std::string_view message,
                   std::initializer_list<Field> fields) noexcept;
struct ContextualParent {};
struct RootParent {};
/// For a callsite whose interest is kSometimes: asks the subscriber whether it wants a span
/// under this parent, before the span's fields are evaluated. Out of line (the rare path).
bool SpanWanted(Callsite& cs, ContextualParent) noexcept;
bool SpanWanted(Callsite& cs, RootParent) noexcept;
bool SpanWanted(Callsite& cs, const Span& parent) noexcept;
/// True when the callsite passed the cached check and, if its interest is kSometimes, the
/// subscriber wants a span under `parent`.
template <class Parent>
inline bool SpanMayBeWanted(Callsite& cs, const Parent& parent) noexcept {
  if (cs.interest.load(std::memory_order_relaxed) == static_cast<uint8_t>(Interest::kSometimes))
      [[unlikely]] {
    return SpanWanted(cs, parent);
  }
  return true;
}
/// Slow path of the span macros, after SpanMayBeWanted() said yes.
Span NewSpan(Callsite& cs, std::initializer_list<Field> fields, ContextualParent) noexcept;
Span NewSpan(Callsite& cs, std::initializer_list<Field> fields, RootParent) noexcept;
Span NewSpan(Callsite& cs, std::initializer_list<Field> fields, const Span& parent) noexcept;
/// Interned callsite for the plain-function API. Lifetime: static.
Callsite& InternCallsite(Level level, std::string_view target, std::string_view name,
                         CallsiteKind kind) noexcept;
}  // namespace internal

inline Span StartSpan(Level level, std::string_view target, std::string_view name,
                      std::initializer_list<Field> fields, const Span* parent) noexcept {
  if (!StaticallyEnabled(level)) return Span();
  return internal::StartSpanImpl(level, target, name, fields, parent);
}

inline void EmitEvent(Level level, std::string_view target, std::string_view message,
                      std::initializer_list<Field> fields) noexcept {
  if (!StaticallyEnabled(level)) return;
  internal::EmitEventImpl(level, target, message, fields);
}

}  // namespace vllora
