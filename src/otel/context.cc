#include "vllora/otel/context.h"

#include <algorithm>

#include "otel/context_internal.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otel {

const std::string& SpanContext::EmptyTraceState() noexcept {
  static const std::string empty;
  return empty;
}

struct Context::Node {
  Baggage baggage;
  SpanContext span_context;
};

namespace {

thread_local Context t_current;
// The span context of t_current's node (null: none), kept in step with t_current. A trivial
// constinit thread_local: read without the TLS init guard t_current's destructor needs.
constinit thread_local const SpanContext* t_current_span = nullptr;

const SpanContext kInvalidSpanContext;

const std::vector<Baggage::Entry>& EmptyEntries() noexcept {
  static const std::vector<Baggage::Entry> empty;
  return empty;
}

}  // namespace

namespace internal {
const Context& CurrentContextRef() noexcept { return t_current; }
}  // namespace internal

// --- Baggage -------------------------------------------------------------------------------

std::optional<std::string_view> Baggage::Get(std::string_view key) const noexcept {
  if (!entries_) return std::nullopt;
  for (const Entry& entry : *entries_) {
    if (entry.first == key) return std::string_view(entry.second);
  }
  return std::nullopt;
}

Baggage Baggage::Set(std::string_view key, std::string_view value) const {
  auto entries = entries_ ? std::make_shared<std::vector<Entry>>(*entries_)
                          : std::make_shared<std::vector<Entry>>();
  auto it = std::find_if(entries->begin(), entries->end(),
                         [key](const Entry& entry) { return entry.first == key; });
  if (it != entries->end()) {
    it->second.assign(value);
  } else {
    entries->emplace_back(std::string(key), std::string(value));
  }
  return Baggage(std::move(entries));
}

Baggage Baggage::Remove(std::string_view key) const {
  if (!Get(key)) return *this;
  auto entries = std::make_shared<std::vector<Entry>>();
  entries->reserve(entries_->size() - 1);
  for (const Entry& entry : *entries_) {
    if (entry.first != key) entries->push_back(entry);
  }
  if (entries->empty()) return Baggage();
  return Baggage(std::move(entries));
}

Baggage::const_iterator Baggage::begin() const noexcept {
  return entries_ ? entries_->begin() : EmptyEntries().begin();
}

Baggage::const_iterator Baggage::end() const noexcept {
  return entries_ ? entries_->end() : EmptyEntries().end();
}

bool Baggage::operator==(const Baggage& other) const noexcept {
  if (entries_ == other.entries_) return true;
  if (size() != other.size()) return false;
  return std::equal(begin(), end(), other.begin());
}

// --- Context -------------------------------------------------------------------------------

Context Context::Current() noexcept { return t_current; }

Context Context::WithBaggage(
    std::initializer_list<std::pair<std::string_view, std::string_view>> entries) const {
  Baggage baggage = this->baggage();
  for (const auto& [key, value] : entries) baggage = baggage.Set(key, value);
  return WithBaggage(baggage);
}

Context Context::WithBaggage(const Baggage& baggage) const {
  auto node = std::make_shared<Node>();
  node->baggage = baggage;
  if (node_) node->span_context = node_->span_context;
  return Context(std::move(node));
}

Context Context::WithSpanContext(const SpanContext& active_span) const {
  auto node = std::make_shared<Node>();
  node->span_context = active_span;
  if (node_) node->baggage = node_->baggage;
  return Context(std::move(node));
}

const Baggage& Context::baggage() const noexcept {
  static const Baggage empty;
  return node_ ? node_->baggage : empty;
}

const SpanContext& Context::span_context() const noexcept {
  return node_ ? node_->span_context : kInvalidSpanContext;
}

const SpanContext& Context::CurrentSpanContext() noexcept {
  const SpanContext* span = t_current_span;
  return span != nullptr ? *span : kInvalidSpanContext;
}

Context::Token Context::Attach() const noexcept {
  const void* attached = node_.get();
  return Token(Swap(*this), attached);
}

Context Context::Swap(Context next) noexcept {
  Context previous = std::move(t_current);
  t_current = std::move(next);
  t_current_span = t_current.node_ ? &t_current.node_->span_context : nullptr;
  return previous;
}

// --- Token ---------------------------------------------------------------------------------

Context::Token::Token(Token&& other) noexcept
    : previous_(std::move(other.previous_)),
      attached_(other.attached_),
      active_(std::exchange(other.active_, false)) {}

Context::Token& Context::Token::operator=(Token&& other) noexcept {
  if (this != &other) {
    Restore();
    previous_ = std::move(other.previous_);
    attached_ = other.attached_;
    active_ = std::exchange(other.active_, false);
  }
  return *this;
}

Context::Token::~Token() { Restore(); }

void Context::Token::Restore() noexcept {
  if (!active_) return;
  active_ = false;
  if (t_current.node_.get() != attached_ && IsDiagnosticEnabled(DiagnosticLevel::kDebug)) {
    EmitDiagnostic(DiagnosticLevel::kDebug,
                   "Context::Token destroyed out of order (or on another thread); restoring the "
                   "context saved at Attach()");
  }
  t_current = std::move(previous_);
  t_current_span = t_current.node_ ? &t_current.node_->span_context : nullptr;
}

}  // namespace vllora::otel
