#include "vllora/subscriber/registry.h"

#include <bit>

#include "subscriber/span_record.h"

namespace vllora {

namespace internal {
int AllocateExtensionSlot() noexcept {
  static std::atomic<int> next{0};
  int slot = next.fetch_add(1, std::memory_order_relaxed);
  return slot < kMaxExtensions ? slot : -1;
}
}  // namespace internal

namespace {

using internal::SpanRecord;

std::atomic<uint64_t> g_next_span_id{1};

SpanRecord* AsRecord(internal::SpanNode* node) noexcept { return static_cast<SpanRecord*>(node); }

// Calls fn(layer_index) for every bit set in mask, lowest first.
template <class Fn>
inline void ForEachLayer(uint64_t mask, Fn&& fn) noexcept {
  while (mask != 0) {
    int index = std::countr_zero(mask);
    fn(static_cast<size_t>(index));
    mask &= mask - 1;
  }
}

}  // namespace

SpanRef SpanRef::FromSpan(const Span& span) noexcept {
  internal::SpanNode* node = span.node();
  if (node == nullptr || dynamic_cast<Registry*>(node->owner) == nullptr) return SpanRef();
  return SpanRef(AsRecord(node));
}

const Metadata& SpanRef::metadata() const noexcept { return record_->callsite->metadata; }
uint64_t SpanRef::id() const noexcept { return record_->id; }
SpanRef SpanRef::parent() const noexcept { return SpanRef(record_->parent); }
bool SpanRef::EnabledFor(int layer_index) const noexcept {
  return layer_index >= 0 && layer_index < 64 && ((record_->layer_mask >> layer_index) & 1u) != 0;
}
Span SpanRef::ToSpan() const noexcept {
  if (record_ == nullptr) return Span();
  record_->AddRef();
  return Span(record_);
}
void* SpanRef::GetRaw(int slot) const noexcept {
  if (record_ == nullptr || slot < 0) return nullptr;
  return record_->extensions[static_cast<size_t>(slot)].value;
}
void SpanRef::SetRaw(int slot, void* value, void (*deleter)(void*)) const noexcept {
  if (record_ == nullptr || slot < 0) {
    deleter(value);
    return;
  }
  auto& ext = record_->extensions[static_cast<size_t>(slot)];
  if (ext.value != nullptr && ext.deleter != nullptr) ext.deleter(ext.value);
  ext.value = value;
  ext.deleter = deleter;
}

std::shared_ptr<Registry> Registry::Create() { return std::shared_ptr<Registry>(new Registry()); }

Registry& Registry::With(std::shared_ptr<Layer> layer, std::shared_ptr<const Filter> filter) {
  if (layer != nullptr && layers_.size() < 64) {
    layers_.push_back(Entry{std::move(layer), std::move(filter)});
  }
  return *this;
}

int Registry::IndexOf(const Layer* layer) const noexcept {
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].layer.get() == layer) return static_cast<int>(i);
  }
  return -1;
}

uint64_t Registry::LiveSpans() const noexcept {
  return live_spans_.load(std::memory_order_relaxed);
}

Interest Registry::RegisterCallsite(Callsite& cs) noexcept {
  uint64_t mask = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& filter = layers_[i].filter;
    if (filter == nullptr || filter->Enabled(cs.metadata)) mask |= uint64_t{1} << i;
  }
  // Relaxed: published together with the interest byte, which is stored with release after us.
  cs.subscriber_cache.store(mask, std::memory_order_relaxed);
  return mask != 0 ? Interest::kAlways : Interest::kNever;
}

internal::SpanNode* Registry::NewSpan(const Callsite& cs, FieldSpan fields,
                                      internal::SpanNode* parent) noexcept {
  uint64_t mask = cs.subscriber_cache.load(std::memory_order_relaxed);
  if (mask == 0) return nullptr;
  auto* record = new (std::nothrow) SpanRecord();
  if (record == nullptr) return nullptr;
  record->callsite = &cs;
  record->owner = this;
  // Relaxed: ids only need to be unique.
  record->id = g_next_span_id.fetch_add(1, std::memory_order_relaxed);
  record->layer_mask = mask;
  if (parent != nullptr) {
    parent->AddRef();
    record->parent = AsRecord(parent);
  }
  live_spans_.fetch_add(1, std::memory_order_relaxed);
  SpanRef ref(record);
  ForEachLayer(mask, [&](size_t i) { layers_[i].layer->OnNewSpan(ref, fields); });
  return record;
}

void Registry::Record(internal::SpanNode* span, FieldSpan fields) noexcept {
  SpanRecord* record = AsRecord(span);
  SpanRef ref(record);
  ForEachLayer(record->layer_mask, [&](size_t i) { layers_[i].layer->OnRecord(ref, fields); });
}

void Registry::Enter(internal::SpanNode* span) noexcept {
  SpanRecord* record = AsRecord(span);
  SpanRef ref(record);
  ForEachLayer(record->layer_mask, [&](size_t i) { layers_[i].layer->OnEnter(ref); });
}

void Registry::Exit(internal::SpanNode* span) noexcept {
  SpanRecord* record = AsRecord(span);
  SpanRef ref(record);
  ForEachLayer(record->layer_mask, [&](size_t i) { layers_[i].layer->OnExit(ref); });
}

void Registry::Event(const Callsite& cs, std::string_view message, FieldSpan fields,
                     internal::SpanNode* parent) noexcept {
  uint64_t mask = cs.subscriber_cache.load(std::memory_order_relaxed);
  SpanRecord* parent_record =
      (parent != nullptr && parent->owner == this) ? AsRecord(parent) : nullptr;
  // Per-thread and never shared: layers are called synchronously on this thread.
  static thread_local uint64_t sequence = 0;
  EventData event{cs.metadata, message, fields, SpanRef(parent_record), ++sequence};
  ForEachLayer(mask, [&](size_t i) { layers_[i].layer->OnEvent(event); });
}

void Registry::CloseSpan(internal::SpanNode* span) noexcept {
  SpanRecord* record = AsRecord(span);
  SpanRef ref(record);
  ForEachLayer(record->layer_mask, [&](size_t i) { layers_[i].layer->OnClose(ref); });
  for (auto& ext : record->extensions) {
    if (ext.value != nullptr && ext.deleter != nullptr) ext.deleter(ext.value);
  }
  SpanRecord* parent = record->parent;
  delete record;
  live_spans_.fetch_sub(1, std::memory_order_relaxed);
  if (parent != nullptr) parent->Release();
}

}  // namespace vllora
