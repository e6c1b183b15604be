// The Subscriber interface: what receives spans and events from the macros.
//
// The core knows only this interface. The registry (vllora/subscriber/registry.h) is the one you
// normally install: it implements Subscriber and fans out to layers. One subscriber is global;
// installing another rebuilds every callsite's cached interest.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "vllora/core/metadata.h"
#include "vllora/core/value.h"

namespace vllora {

class Subscriber;

namespace internal {

/// The part of a live span that the core shares with every subscriber: a reference count, the
/// callsite and the subscriber that owns it. Subscribers derive their span records from it.
struct SpanNode {
  std::atomic<uint32_t> refs{1};
  /// False when the owner has nothing to do on enter/exit: Enter guards then skip the calls.
  bool notify_enter_exit = true;
  const Callsite* callsite = nullptr;
  Subscriber* owner = nullptr;
  uint64_t id = 0;  ///< unique for the process lifetime, never 0

  void AddRef() noexcept {
    // Relaxed: taking a new reference from an existing one needs no ordering (as shared_ptr).
    refs.fetch_add(1, std::memory_order_relaxed);
  }
  /// Drops one reference; the last one closes the span through its owner.
  void Release() noexcept;
};

}  // namespace internal

/// Receives spans and events. Implementations must be thread-safe and must not throw.
class Subscriber {
 public:
  virtual ~Subscriber() = default;

  /// Once per callsite (and after RebuildInterest): how much this subscriber wants it. May store
  /// a per-callsite cache in `cs.subscriber_cache`.
  virtual Interest RegisterCallsite(Callsite& cs) noexcept = 0;
  /// Asked on every use of a callsite whose interest is kSometimes.
  virtual bool Enabled(const Callsite& cs) noexcept {
    (void)cs;
    return true;
  }
  /// Asked before every span of a callsite whose interest is kSometimes, before the span's
  /// fields are evaluated; `parent` is the span it would get (null: none, or not this
  /// subscriber's). False: no span is made, the caller gets a disabled Span.
  virtual bool SpanEnabled(const Callsite& cs, internal::SpanNode* parent) noexcept {
    (void)parent;
    return Enabled(cs);
  }
  /// Creates a span with its initial fields under `parent` (null: a root span). Returns a node
  /// holding one reference, or null when the subscriber declines.
  virtual internal::SpanNode* NewSpan(const Callsite& cs, FieldSpan fields,
                                      internal::SpanNode* parent) noexcept = 0;
  /// Adds or replaces fields of a live span.
  virtual void Record(internal::SpanNode* span, FieldSpan fields) noexcept = 0;
  /// The span becomes current on this thread / stops being current.
  virtual void Enter(internal::SpanNode* span) noexcept = 0;
  virtual void Exit(internal::SpanNode* span) noexcept = 0;
  /// A log event inside `parent` (may be null).
  virtual void Event(const Callsite& cs, std::string_view message, FieldSpan fields,
                     internal::SpanNode* parent) noexcept = 0;
  /// The last reference to `span` is gone: close it (its end time is now) and free it.
  virtual void CloseSpan(internal::SpanNode* span) noexcept = 0;
};

/// Installs `subscriber` as the process-wide subscriber (null: none) and rebuilds every
/// callsite's interest. The previous subscriber is kept alive until process exit, because spans
/// it created may still be live on other threads.
/// Thread-safety: safe to call at any time; spans started concurrently go to either subscriber.
void SetGlobalSubscriber(std::shared_ptr<Subscriber> subscriber) noexcept;

/// The process-wide subscriber, or null. Lifetime: valid until process exit.
Subscriber* GlobalSubscriber() noexcept;

namespace internal {
extern std::atomic<Subscriber*> g_subscriber;
}  // namespace internal

}  // namespace vllora
