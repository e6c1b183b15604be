#include "vllora/core/span.h"

#include "vllora/core/macros.h"

namespace vllora {
namespace internal {

namespace {
// The current span of this thread (or of the task running on it), owning one reference.
// constinit + trivial type: no TLS init guard on access.
constinit thread_local SpanNode* tl_current = nullptr;

Subscriber* SubscriberFor(const Callsite& cs) noexcept {
  Subscriber* subscriber = g_subscriber.load(std::memory_order_acquire);
  if (subscriber == nullptr) return nullptr;
  if (cs.interest.load(std::memory_order_relaxed) == static_cast<uint8_t>(Interest::kSometimes) &&
      !subscriber->Enabled(cs)) {
    return nullptr;
  }
  return subscriber;
}

FieldSpan ToFieldSpan(std::initializer_list<Field> fields) noexcept {
  return FieldSpan(fields.begin(), fields.size());
}

// The callers asked SpanMayBeWanted() first, so kSometimes is not checked again here.
Span MakeSpan(Callsite& cs, std::initializer_list<Field> fields, SpanNode* parent) noexcept {
  Subscriber* subscriber = g_subscriber.load(std::memory_order_acquire);
  if (subscriber == nullptr) return Span();
  // A parent from a previous subscriber cannot be a parent in this one.
  if (parent != nullptr && parent->owner != subscriber) parent = nullptr;
  return Span(subscriber->NewSpan(cs, ToFieldSpan(fields), parent));
}
}  // namespace

SpanNode* CurrentNode() noexcept { return tl_current; }

SpanNode* ExchangeCurrent(SpanNode* node) noexcept {
  SpanNode* prev = tl_current;
  tl_current = node;
  return prev;
}

void SpanNode::Release() noexcept {
  // acq_rel: the closing thread must see every write made through other references.
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) owner->CloseSpan(this);
}

namespace {
bool SpanWantedUnder(Callsite& cs, SpanNode* parent) noexcept {
  Subscriber* subscriber = g_subscriber.load(std::memory_order_acquire);
  if (subscriber == nullptr) return false;
  if (parent != nullptr && parent->owner != subscriber) parent = nullptr;
  return subscriber->SpanEnabled(cs, parent);
}
}  // namespace

bool SpanWanted(Callsite& cs, ContextualParent) noexcept { return SpanWantedUnder(cs, tl_current); }
bool SpanWanted(Callsite& cs, RootParent) noexcept { return SpanWantedUnder(cs, nullptr); }
bool SpanWanted(Callsite& cs, const Span& parent) noexcept {
  return SpanWantedUnder(cs, parent.node());
}

Span NewSpan(Callsite& cs, std::initializer_list<Field> fields, ContextualParent) noexcept {
  return MakeSpan(cs, fields, tl_current);
}

Span NewSpan(Callsite& cs, std::initializer_list<Field> fields, RootParent) noexcept {
  return MakeSpan(cs, fields, nullptr);
}

Span NewSpan(Callsite& cs, std::initializer_list<Field> fields, const Span& parent) noexcept {
  return MakeSpan(cs, fields, parent.node());
}

EventBuilder::~EventBuilder() {
  Subscriber* subscriber = SubscriberFor(cs_);
  if (subscriber == nullptr) return;
  subscriber->Event(cs_, message_, FieldSpan(fields_.data(), count_), tl_current);
}

}  // namespace internal

Span Span::Current() noexcept {
  internal::SpanNode* node = internal::tl_current;
  if (node != nullptr) node->AddRef();
  return Span(node);
}

const Span& Span::Record(std::string_view key, const Value& value) const noexcept {
  if (node_ == nullptr) return *this;
  // Field holds a Value by value; copying a borrowed Value copies only the view.
  Field field{key, value};
  node_->owner->Record(node_, FieldSpan(&field, 1));
  return *this;
}

const Span& Span::Record(std::initializer_list<Field> fields) const noexcept {
  if (node_ == nullptr) return *this;
  node_->owner->Record(node_, FieldSpan(fields.begin(), fields.size()));
  return *this;
}

Span::EnterGuard::EnterGuard(internal::SpanNode* span) noexcept : span_(span), prev_(nullptr) {
  if (span_ == nullptr) return;  // entering a disabled span leaves the current span as it is
  span_->AddRef();
  prev_ = internal::ExchangeCurrent(span_);
  if (span_->notify_enter_exit) span_->owner->Enter(span_);
}

Span::EnterGuard::~EnterGuard() {
  if (span_ == nullptr) return;
  if (span_->notify_enter_exit) span_->owner->Exit(span_);
  internal::SpanNode* entered = internal::ExchangeCurrent(prev_);
  if (entered != nullptr) entered->Release();
}

namespace internal {
Span StartSpanImpl(Level level, std::string_view target, std::string_view name,
                   std::initializer_list<Field> fields, const Span* parent) noexcept {
  Callsite& cs = internal::InternCallsite(level, target, name, CallsiteKind::kSpan);
  if (!CallsiteMayBeEnabled(cs)) return Span();
  if (parent != nullptr) {
    if (!SpanMayBeWanted(cs, *parent)) return Span();
    return internal::NewSpan(cs, fields, *parent);
  }
  if (!SpanMayBeWanted(cs, internal::ContextualParent{})) return Span();
  return internal::NewSpan(cs, fields, internal::ContextualParent{});
}

void EmitEventImpl(Level level, std::string_view target, std::string_view message,
                   std::initializer_list<Field> fields) noexcept {
  Callsite& cs = internal::InternCallsite(level, target, "event", CallsiteKind::kEvent);
  if (!CallsiteMayBeEnabled(cs)) return;
  Subscriber* subscriber = internal::SubscriberFor(cs);
  if (subscriber == nullptr) return;
  subscriber->Event(cs, message, FieldSpan(fields.begin(), fields.size()), internal::tl_current);
}
}  // namespace internal

}  // namespace vllora
