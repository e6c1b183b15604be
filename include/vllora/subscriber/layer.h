// Layers: composable observers of spans and events, stacked on a Registry.
//
// A layer sees span creation, record, enter, exit, close and events — only for the spans and
// events its own filter (filter.h) lets through; one layer's filter never hides anything from
// another. Layers keep per-span data in typed extensions on SpanRef. Read registry.h next.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "vllora/core/metadata.h"
#include "vllora/core/span.h"
#include "vllora/core/subscriber.h"
#include "vllora/core/value.h"

namespace vllora {

namespace internal {
struct SpanRecord;
/// Gives `slot` (a type's, see ExtensionSlot) its process-wide index (0..kMaxExtensions-1) the
/// first time, or -1 when every index is taken; returns it. Threads may race: one index wins.
int AssignExtensionSlot(std::atomic<int>& slot) noexcept;
/// Runs an extension's deleter, when both are set.
inline void DestroyExtension(void* value, void (*deleter)(void*)) noexcept {
  if (value != nullptr && deleter != nullptr) deleter(value);
}
inline constexpr int kMaxExtensions = 8;
/// Extensions up to this size (and pointer alignment) live inside the span's record. Big
/// enough for the OTel layer's extension, which holds the SDK span itself.
inline constexpr size_t kInlineExtensionBytes = 112;
inline constexpr int kUnassignedExtensionSlot = -2;
/// T's extension slot index, or -1 when none is left. Constant-initialised: a load and a
/// branch, no guard check (it runs several times per span).
template <class T>
int ExtensionSlot() noexcept {
  static constinit std::atomic<int> slot{kUnassignedExtensionSlot};
  const int index = slot.load(std::memory_order_relaxed);
  if (index >= 0) [[likely]]
    return index;
  return AssignExtensionSlot(slot);
}
}  // namespace internal

/// A borrowed view of a live span inside the registry, given to layers.
/// Lifetime: valid for the duration of the layer callback (make a Span with ToSpan() to keep it).
/// Thread-safety: extensions are set in OnNewSpan (before the span is visible to other threads)
/// and may then be read from any thread; their own contents need their own synchronization.
class SpanRef {
 public:
  SpanRef() noexcept = default;
  explicit SpanRef(internal::SpanRecord* record) noexcept : record_(record) {}
  /// The registry record behind a Span; empty when the span is disabled or was not created by a
  /// Registry.
  static SpanRef FromSpan(const Span& span) noexcept;

  explicit operator bool() const noexcept { return record_ != nullptr; }
  const Metadata& metadata() const noexcept;
  uint64_t id() const noexcept;
  /// The parent span (whatever layers enabled it), or an empty SpanRef for a root.
  SpanRef parent() const noexcept;
  /// True when the layer at `layer_index` of the registry is enabled for this span.
  bool EnabledFor(int layer_index) const noexcept;
  /// A new owning handle to this span.
  Span ToSpan() const noexcept;

  /// True when the span holds no extension at all (cheaper than Get() for a new span).
  bool HasNoExtensions() const noexcept;
  /// The extension of type T, or null. One T per span, shared by every layer that uses T.
  template <class T>
  T* Get() const noexcept {
    return static_cast<T*>(GetRaw(internal::ExtensionSlot<T>()));
  }
  /// Stores `value` as the span's T (replacing any); the span deletes it when it closes.
  template <class T>
  T* Set(T* value) const noexcept {
    SetRaw(internal::ExtensionSlot<T>(), value, [](void* p) { delete static_cast<T*>(p); });
    return value;
  }

  /// Constructs the span's T in place (replacing any) and returns it; the span destroys it when
  /// it closes. A T of at most internal::kInlineExtensionBytes lives inside the span's record
  /// (no allocation); a bigger one is allocated as with Set(). Returns null for an empty SpanRef.
  template <class T, class... Args>
  T* Emplace(Args&&... args) const {
    constexpr bool kInline =
        sizeof(T) <= internal::kInlineExtensionBytes && alignof(T) <= alignof(void*);
    if constexpr (kInline && std::is_nothrow_constructible_v<T, Args&&...>) {
      // One call: the slot is claimed (with T's destructor) and then constructed, which cannot
      // throw, so the span never sees a claimed slot without a T in it.
      void* storage =
          ClaimInline(internal::ExtensionSlot<T>(), [](void* p) { static_cast<T*>(p)->~T(); });
      if (storage == nullptr) return nullptr;
      return ::new (storage) T(std::forward<Args>(args)...);
    } else if constexpr (kInline) {
      const int slot = internal::ExtensionSlot<T>();
      void* storage = ResetInline(slot);
      if (storage == nullptr) return nullptr;
      T* value = ::new (storage) T(std::forward<Args>(args)...);
      SetRaw(slot, value, [](void* p) { static_cast<T*>(p)->~T(); });
      return value;
    } else {
      if (record_ == nullptr) return nullptr;
      return Set(new T(std::forward<Args>(args)...));
    }
  }

  internal::SpanRecord* record() const noexcept { return record_; }

 private:
  /// Destroys the slot's current value (if any) and returns the slot's inline storage; null
  /// for an empty SpanRef or an invalid slot.
  void* ResetInline(int slot) const noexcept;
  /// ResetInline + SetRaw(slot, storage, destroy) in one call; returns the storage (or null).
  void* ClaimInline(int slot, void (*destroy)(void*)) const noexcept;
  void* GetRaw(int slot) const noexcept;
  void SetRaw(int slot, void* value, void (*deleter)(void*)) const noexcept;

  internal::SpanRecord* record_ = nullptr;
};

namespace internal {
/// The registry's record of a live span. Not part of the API: in this header only so SpanRef's
/// accessors below are inline (they run several times per span).
struct SpanRecord : SpanNode {
  struct Extension {
    void* value;
    void (*deleter)(void*);
    alignas(void*) std::byte storage[kInlineExtensionBytes];  // for SpanRef::Emplace
  };
  SpanRecord* parent = nullptr;  // holds one reference
  uint64_t layer_mask = 0;       // bit i: layer i of the registry sees this span
  uint32_t extensions_set = 0;   // bit i: extensions[i] holds a value (others are unset)
  // Only the entries whose bit is set in extensions_set are initialised: a span usually has
  // one extension, and zeroing all of them on every span start showed in the profile.
  std::array<Extension, kMaxExtensions> extensions;
};

}  // namespace internal

inline const Metadata& SpanRef::metadata() const noexcept { return record_->callsite->metadata; }
inline uint64_t SpanRef::id() const noexcept { return record_->id; }
inline SpanRef SpanRef::parent() const noexcept { return SpanRef(record_->parent); }
inline bool SpanRef::HasNoExtensions() const noexcept {
  return record_ == nullptr || record_->extensions_set == 0;
}
inline void* SpanRef::GetRaw(int slot) const noexcept {
  if (record_ == nullptr || slot < 0 || ((record_->extensions_set >> slot) & 1U) == 0) {
    return nullptr;
  }
  return record_->extensions[static_cast<size_t>(slot)].value;
}
inline void* SpanRef::ClaimInline(int slot, void (*destroy)(void*)) const noexcept {
  if (record_ == nullptr || slot < 0) return nullptr;
  auto& ext = record_->extensions[static_cast<size_t>(slot)];
  const uint32_t bit = uint32_t{1} << slot;
  if ((record_->extensions_set & bit) != 0) internal::DestroyExtension(ext.value, ext.deleter);
  record_->extensions_set |= bit;
  ext.value = ext.storage;
  ext.deleter = destroy;
  return ext.storage;
}

/// One log event, as a layer sees it.
struct EventData {
  const Metadata& metadata;
  std::string_view message;
  FieldSpan fields;
  SpanRef parent;  ///< the span current where the event was emitted (may be empty)
  /// Identifies this dispatch among the events of the emitting thread: every layer that sees the
  /// same event sees the same number (layers sharing state use it to act once per event).
  uint64_t sequence = 0;
};

/// Base class of layers. Every hook has an empty default; hooks must not throw.
/// Thread-safety: hooks are called concurrently from any thread.
class Layer {
 public:
  virtual ~Layer() = default;
  /// How this layer wants the spans of a callsite its filter admits: Interest::kAlways (the
  /// default: every one) or Interest::kSometimes (ask WantsSpan() for each one). Asked when the
  /// callsite registers and after RebuildInterest(). Only when every layer that admits a
  /// callsite answers kSometimes does the registry ask before each span.
  virtual Interest SpanInterest(const Metadata& metadata) noexcept {
    (void)metadata;
    return Interest::kAlways;
  }
  /// For kSometimes callsites, before the span's fields are evaluated: does this layer want a
  /// new span under `parent` (empty: a root)? When no layer does, no span is made and the macro
  /// returns a disabled Span. Must be cheap: it runs on every use of the callsite.
  virtual bool WantsSpan(const Metadata& metadata, SpanRef parent) noexcept {
    (void)metadata;
    (void)parent;
    return true;
  }
  virtual void OnNewSpan(SpanRef span, FieldSpan fields) noexcept {
    (void)span;
    (void)fields;
  }
  virtual void OnRecord(SpanRef span, FieldSpan fields) noexcept {
    (void)span;
    (void)fields;
  }
  virtual void OnEnter(SpanRef span) noexcept { (void)span; }
  virtual void OnExit(SpanRef span) noexcept { (void)span; }
  /// False when OnEnter and OnExit do nothing for this layer: the registry then does not call
  /// them (entering and leaving a span is on the path of every instrumented scope). Asked once,
  /// when the layer is added.
  virtual bool ObservesEnterExit() const noexcept { return true; }
  /// The span ended (its last handle is gone); extensions are still readable.
  virtual void OnClose(SpanRef span) noexcept { (void)span; }
  virtual void OnEvent(const EventData& event) noexcept { (void)event; }
};

}  // namespace vllora
