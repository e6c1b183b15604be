#include "vllora/subscriber/registry.h"

#include <bit>
#include <cstdint>
#include <mutex>
#include <new>

namespace vllora {

namespace internal {
int AssignExtensionSlot(std::atomic<int>& slot) noexcept {
  // -1: every index was taken before this type asked (no lock on every use).
  if (slot.load(std::memory_order_relaxed) == -1) return -1;
  // Rare (once per extension type): a lock, so racing threads agree and no index is wasted.
  static std::mutex mutex;
  static int next = 0;
  std::lock_guard<std::mutex> lock(mutex);
  int index = slot.load(std::memory_order_relaxed);
  if (index == kUnassignedExtensionSlot) {
    index = next < kMaxExtensions ? next++ : -1;
    slot.store(index, std::memory_order_relaxed);
  }
  return index;
}
}  // namespace internal

namespace {

using internal::SpanRecord;

std::atomic<uint64_t> g_next_span_id{1};

// Per-thread registry state, constant-initialised (no thread_local guard call).
//  - Span ids: each thread takes a block of kIdBlock ids at a time, so threads starting spans at
//    once do not all write one counter. Unique and never 0; not in global creation order.
//  - The thread's stripe of Registry::live_spans_, assigned round-robin with its first id
//    block. Any stripe keeps the sum right, so a thread that only closes spans uses stripe 0.
constexpr uint64_t kIdBlock = 1024;
struct ThreadState {
  uint64_t next_id = 0;
  uint64_t end_id = 0;
  size_t stripe = 0;
};
constinit thread_local ThreadState tl_state;

[[gnu::noinline]] void RefillIds(ThreadState& state) noexcept {
  static std::atomic<size_t> next_stripe{0};
  if (state.end_id == 0) state.stripe = next_stripe.fetch_add(1, std::memory_order_relaxed);
  // Relaxed: ids only need to be unique.
  state.next_id = g_next_span_id.fetch_add(kIdBlock, std::memory_order_relaxed);
  state.end_id = state.next_id + kIdBlock;
}

SpanRecord* AsRecord(internal::SpanNode* node) noexcept { return static_cast<SpanRecord*>(node); }

// SpanRecords are allocated and freed on application threads, usually the same one: a small
// per-thread free list saves a malloc/free pair per span. A record freed on another thread
// joins that thread's list. At most kMaxCached records per thread; returned to the system when
// the thread exits.
class RecordCache {
 public:
  // A record is ~1 KiB (its extensions hold the OTel layer's SDK span inline): 64 cover deep
  // nesting and bursts of sibling spans, at most 64 KiB per thread.
  static constexpr uint32_t kMaxCached = 64;
  ~RecordCache() {
    tl_dead = true;  // spans closed later in this thread's teardown use the heap
    while (head_ != nullptr) {
      Node* next = head_->next;
      ::operator delete(head_);
      head_ = next;
    }
  }
  void* Allocate() noexcept {
    if (head_ == nullptr) return ::operator new(sizeof(SpanRecord), std::nothrow);
    Node* node = head_;
    head_ = node->next;
    --count_;
    return node;
  }
  void Free(void* p) noexcept {
    if (count_ >= kMaxCached) {
      ::operator delete(p);
      return;
    }
    auto* node = static_cast<Node*>(p);
    node->next = head_;
    head_ = node;
    ++count_;
  }
  // constinit + trivial: readable at any point of thread teardown.
  static constinit thread_local bool tl_dead;

 private:
  struct Node {
    Node* next;
  };
  Node* head_ = nullptr;
  uint32_t count_ = 0;
};
constinit thread_local bool RecordCache::tl_dead = false;
thread_local RecordCache tl_records;

SpanRecord* NewRecord() noexcept {
  void* memory = RecordCache::tl_dead ? ::operator new(sizeof(SpanRecord), std::nothrow)
                                      : tl_records.Allocate();
  return memory != nullptr ? new (memory) SpanRecord : nullptr;  // extensions stay unset
}

void DeleteRecord(SpanRecord* record) noexcept {
  record->~SpanRecord();
  if (RecordCache::tl_dead) {
    ::operator delete(record);
  } else {
    tl_records.Free(record);
  }
}

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

bool SpanRef::EnabledFor(int layer_index) const noexcept {
  return layer_index >= 0 && layer_index < 64 && ((record_->layer_mask >> layer_index) & 1u) != 0;
}
Span SpanRef::ToSpan() const noexcept {
  if (record_ == nullptr) return Span();
  record_->AddRef();
  return Span(record_);
}
void SpanRef::SetRaw(int slot, void* value, void (*deleter)(void*)) const noexcept {
  if (record_ == nullptr || slot < 0) {
    deleter(value);
    return;
  }
  auto& ext = record_->extensions[static_cast<size_t>(slot)];
  const uint32_t bit = uint32_t{1} << slot;
  if ((record_->extensions_set & bit) != 0) internal::DestroyExtension(ext.value, ext.deleter);
  record_->extensions_set |= bit;
  ext.value = value;
  ext.deleter = deleter;
}

void* SpanRef::ResetInline(int slot) const noexcept {
  if (record_ == nullptr || slot < 0) return nullptr;
  auto& ext = record_->extensions[static_cast<size_t>(slot)];
  const uint32_t bit = uint32_t{1} << slot;
  if ((record_->extensions_set & bit) != 0) {
    record_->extensions_set &= ~bit;
    internal::DestroyExtension(ext.value, ext.deleter);
  }
  return ext.storage;
}

std::shared_ptr<Registry> Registry::Create() { return std::shared_ptr<Registry>(new Registry()); }

Registry& Registry::With(std::shared_ptr<Layer> layer, std::shared_ptr<const Filter> filter) {
  if (layer != nullptr && layers_.size() < 64) {
    if (layer->ObservesEnterExit()) enter_exit_mask_ |= uint64_t{1} << layers_.size();
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
  uint64_t sum = 0;  // unsigned wrap-around: a stripe may hold more closes than opens
  for (const LiveStripe& stripe : live_spans_) sum += stripe.count.load(std::memory_order_relaxed);
  return sum;
}

Interest Registry::RegisterCallsite(Callsite& cs) noexcept {
  uint64_t mask = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& filter = layers_[i].filter;
    if (filter == nullptr || filter->Enabled(cs.metadata)) mask |= uint64_t{1} << i;
  }
  // Relaxed: published together with the interest byte, which is stored with release after us.
  cs.subscriber_cache.store(mask, std::memory_order_relaxed);
  if (mask == 0) return Interest::kNever;
  if (cs.metadata.kind != CallsiteKind::kSpan) return Interest::kAlways;
  bool all_sometimes = true;
  ForEachLayer(mask, [&](size_t i) {
    if (layers_[i].layer->SpanInterest(cs.metadata) != Interest::kSometimes) all_sometimes = false;
  });
  return all_sometimes ? Interest::kSometimes : Interest::kAlways;
}

bool Registry::SpanEnabled(const Callsite& cs, internal::SpanNode* parent) noexcept {
  const uint64_t mask = cs.subscriber_cache.load(std::memory_order_relaxed);
  if (mask != 0 && (mask & (mask - 1)) == 0) {  // one layer (the usual case): a tail call
    return layers_[static_cast<size_t>(std::countr_zero(mask))].layer->WantsSpan(
        cs.metadata, SpanRef(parent != nullptr ? AsRecord(parent) : nullptr));
  }
  return AnyLayerWantsSpan(cs, parent, mask);
}

bool Registry::AnyLayerWantsSpan(const Callsite& cs, internal::SpanNode* parent,
                                 uint64_t mask) const noexcept {
  const SpanRef parent_ref(parent != nullptr ? AsRecord(parent) : nullptr);
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    const auto i = static_cast<size_t>(std::countr_zero(m));
    if (layers_[i].layer->WantsSpan(cs.metadata, parent_ref)) return true;
  }
  return false;
}

internal::SpanNode* Registry::NewSpan(const Callsite& cs, FieldSpan fields,
                                      internal::SpanNode* parent) noexcept {
  uint64_t mask = cs.subscriber_cache.load(std::memory_order_relaxed);
  if (mask == 0) return nullptr;
  SpanRecord* record = NewRecord();
  if (record == nullptr) return nullptr;
  record->callsite = &cs;
  record->owner = this;
  ThreadState& thread = tl_state;
  if (thread.next_id == thread.end_id) [[unlikely]]
    RefillIds(thread);
  record->id = thread.next_id++;
  record->layer_mask = mask;
  record->notify_enter_exit = (mask & enter_exit_mask_) != 0;
  if (parent != nullptr) {
    parent->AddRef();
    record->parent = AsRecord(parent);
  }
  live_spans_[thread.stripe % kLiveStripes].count.fetch_add(1, std::memory_order_relaxed);
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
  ForEachLayer(record->layer_mask & enter_exit_mask_,
               [&](size_t i) { layers_[i].layer->OnEnter(ref); });
}

void Registry::Exit(internal::SpanNode* span) noexcept {
  SpanRecord* record = AsRecord(span);
  SpanRef ref(record);
  ForEachLayer(record->layer_mask & enter_exit_mask_,
               [&](size_t i) { layers_[i].layer->OnExit(ref); });
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
  for (uint32_t set = record->extensions_set; set != 0; set &= set - 1) {
    auto& ext = record->extensions[static_cast<size_t>(std::countr_zero(set))];
    internal::DestroyExtension(ext.value, ext.deleter);
  }
  SpanRecord* parent = record->parent;
  DeleteRecord(record);
  live_spans_[tl_state.stripe % kLiveStripes].count.fetch_sub(1, std::memory_order_relaxed);
  if (parent != nullptr) parent->Release();
}

}  // namespace vllora
