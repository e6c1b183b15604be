#include "vllora/otel_layer/otel_layer.h"

#include <link.h>

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "vllora/core/context.h"

namespace vllora {

namespace {

// The SDK span of a facade span. One per facade span, shared by every OTel layer (the registry
// keys extensions by type), so layers sharing a tracer find each other's spans as parents.
// The SDK span itself lives in `storage` (Tracer::StartSpanIn), and the extension inside the
// registry's span record (SpanRef::Emplace): bridging a span allocates neither. The SDK span
// holds no reference on its provider (see StartSpanIn): the tracer of the layer that started it
// outlives it, because the registry keeps its layers and closes its spans (its installed
// subscribers are kept until process exit).
struct OtelSpanExt {
  explicit OtelSpanExt(const Layer* layer) noexcept : owner(layer) {}
  OtelSpanExt(const OtelSpanExt&) = delete;
  OtelSpanExt& operator=(const OtelSpanExt&) = delete;
  ~OtelSpanExt() {
    if (span != nullptr) std::destroy_at(span);
  }

  otel::Span* span = nullptr;  // in `storage` from the start until the owner's OnClose
  const Layer* owner;
  alignas(otel::Span) std::byte storage[sizeof(otel::Span)];
};
static_assert(sizeof(OtelSpanExt) <= internal::kInlineExtensionBytes &&
              alignof(OtelSpanExt) <= alignof(void*));

constexpr size_t kInlineAttributes = 32;

// A fixed array of KeyValueView whose elements are constructed on assignment only.
class InlineViews {
 public:
  static_assert(std::is_trivially_destructible_v<otel::KeyValueView>);
  InlineViews() noexcept {}  // NOLINT(modernize-use-equals-default): storage stays uninitialised
  static constexpr size_t size() noexcept { return kInlineAttributes; }
  otel::KeyValueView* data() noexcept { return reinterpret_cast<otel::KeyValueView*>(storage_); }
  otel::KeyValueView& operator[](size_t i) noexcept { return data()[i]; }

 private:
  alignas(otel::KeyValueView) std::byte storage_[sizeof(otel::KeyValueView) * kInlineAttributes];
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

static_assert(
    std::is_same_v<std::variant_alternative_t<4, otel::AttributeValue>, std::string_view> &&
    std::is_same_v<std::variant_alternative_t<1, otel::AttributeValue>, int64_t> &&
    std::is_same_v<std::variant_alternative_t<2, otel::AttributeValue>, uint64_t> &&
    std::is_same_v<std::variant_alternative_t<3, otel::AttributeValue>, double> &&
    std::is_same_v<std::variant_alternative_t<0, otel::AttributeValue>, bool>);

// Constructs the view of `value` in `slot` (storage for a KeyValueView, which is trivially
// destructible), the variant built in place with its alternative. Returns false (slot
// untouched) for an empty value.
inline bool EmplaceAttribute(otel::KeyValueView* slot, std::string_view key,
                             const Value& value) noexcept {
  switch (value.type()) {
    case Value::Type::kString:
    case Value::Type::kJson:
      new (slot) otel::KeyValueView{key, otel::AttributeValue(std::in_place_index<4>, value.str())};
      return true;
    case Value::Type::kInt64:
      new (slot)
          otel::KeyValueView{key, otel::AttributeValue(std::in_place_index<1>, value.as_int64())};
      return true;
    case Value::Type::kUint64:
      new (slot)
          otel::KeyValueView{key, otel::AttributeValue(std::in_place_index<2>, value.as_uint64())};
      return true;
    case Value::Type::kDouble:
      new (slot)
          otel::KeyValueView{key, otel::AttributeValue(std::in_place_index<3>, value.as_double())};
      return true;
    case Value::Type::kBool:
      new (slot)
          otel::KeyValueView{key, otel::AttributeValue(std::in_place_index<0>, value.as_bool())};
      return true;
    case Value::Type::kNone:
      return false;
  }
  return false;
}

// Calls `fn` with `value` as the attribute type it becomes (std::string_view, int64_t,
// uint64_t, double or bool) and returns its result; `if_none` for an empty value.
template <class Fn>
inline bool VisitAttributeValue(const Value& value, bool if_none, Fn&& fn) noexcept {
  switch (value.type()) {
    case Value::Type::kString:
    case Value::Type::kJson:
      return fn(value.str());
    case Value::Type::kInt64:
      return fn(value.as_int64());
    case Value::Type::kUint64:
      return fn(value.as_uint64());
    case Value::Type::kDouble:
      return fn(value.as_double());
    case Value::Type::kBool:
      return fn(value.as_bool());
    case Value::Type::kNone:
      break;
  }
  return if_none;
}

// Writes `value` under `key` with the one-pass writer; true for an empty value (skipped).
inline bool WriteAttribute(otel::Attributes::Writer& writer, std::string_view key,
                           const Value& value) noexcept {
  return VisitAttributeValue(value, true, [&](auto v) {
    if constexpr (std::is_same_v<decltype(v), std::string_view>) {
      return writer.AddString(key, v);
    } else if constexpr (std::is_same_v<decltype(v), int64_t>) {
      return writer.AddInt(key, v);
    } else if constexpr (std::is_same_v<decltype(v), uint64_t>) {
      return writer.AddUint(key, v);
    } else if constexpr (std::is_same_v<decltype(v), double>) {
      return writer.AddDouble(key, v);
    } else {
      return writer.AddBool(key, v);
    }
  });
}

constexpr size_t kLocationAttributes = 3;

// The code.* attributes of a callsite: where it is in the source.
std::array<otel::KeyValueView, kLocationAttributes> LocationAttributes(const Metadata& m) noexcept {
  return {otel::KeyValueView{"code.filepath", std::string_view(m.file ? m.file : "")},
          otel::KeyValueView{"code.lineno", static_cast<int64_t>(m.line)},
          otel::KeyValueView{"code.namespace", m.target}};
}

// The attribute alternative (AttributeValue's index) a field value of `type` becomes; 5 for
// none (an empty value is no attribute).
constexpr uint8_t AlternativeOf(Value::Type type) noexcept {
  switch (type) {
    case Value::Type::kString:
    case Value::Type::kJson:
      return 4;
    case Value::Type::kInt64:
      return 1;
    case Value::Type::kUint64:
      return 2;
    case Value::Type::kDouble:
      return 3;
    case Value::Type::kBool:
      return 0;
    case Value::Type::kNone:
      break;
  }
  return 5;
}

// True if [data, data + size) lies in a read-only segment of a loaded program image (a string
// literal, for instance): its bytes never change while the image is loaded. Slow (walks the
// program headers): called once per prepared plan.
bool InReadOnlyMemory(const char* data, size_t size) noexcept {
  if (data == nullptr || size == 0) return false;
  struct Query {
    uintptr_t begin;
    uintptr_t end;
    bool found;
  } query{reinterpret_cast<uintptr_t>(data), reinterpret_cast<uintptr_t>(data) + size, false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t /*size*/, void* arg) noexcept -> int {
        auto& q = *static_cast<Query*>(arg);
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) != 0) continue;
          const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (q.begin >= begin && q.end <= begin + ph.p_memsz) {
            q.found = true;
            return 1;
          }
        }
        return 0;
      },
      &query);
  return query.found;
}

// The prepared attribute layout (otel::Attributes::Layout) of one callsite's plain fields: the
// spans of that callsite after the first have their keys compared, then copied in one piece,
// instead of digested, checked for repeats and copied one by one. Valid for a span whose
// fields have the same keys and value types in the same order (checked on every use: keys may
// come from a reused buffer), and the same location setting.
//
// With location, the code.* attributes are constants of the layout: a callsite's Metadata
// never changes and is never freed (the plan is keyed by its address; see Callsite), so its
// file, line and target are copied into the plan once and reach every span with the keys.
struct FieldPlan {
  // The fields' keys, then the code.* attributes if with_location.
  otel::Attributes::Layout layout;
  uint32_t field_count = 0;
  bool with_location = false;

  // Each field's key and value type, side by side so a match walks one array. Keys that live
  // in read-only memory (string literals, the usual field names) are known by their address:
  // those bytes cannot change while the program image is loaded (and an image with callsites is
  // never unloaded, see Callsite). Other keys (a buffer may be reused for another key) have a
  // null address here and are compared byte by byte (an empty key with a null address matches
  // only a key of size 0).
  struct Expected {
    const char* fixed_key = nullptr;
    size_t key_size = 0;
    Value::Type type = Value::Type::kNone;
  };
  std::array<Expected, otel::Attributes::Layout::kMaxEntries> expected{};

  bool Matches(FieldSpan fields, bool location) const noexcept {
    if (fields.size() != field_count || location != with_location) return false;
    const Expected* e = expected.data();
    for (const Field& field : fields) {
      if (field.value.type() != e->type) return false;
      if (field.key.data() != e->fixed_key || field.key.size() != e->key_size) {
        if (!layout.KeyIs(static_cast<size_t>(e - expected.data()), field.key)) return false;
      }
      ++e;
    }
    return true;
  }

  // The plan of `fields` (no special key), with the code.* attributes of `location` if it is
  // not null: false if they do not fit a Layout (a file path of hundreds of bytes, which the
  // span's inline attribute block would not hold either), repeat a key or hold an empty value
  // (these take the general path).
  bool Build(FieldSpan fields, const Metadata* location) noexcept {
    for (const Field& field : fields) {
      const uint8_t alternative = AlternativeOf(field.value.type());
      if (field_count == expected.size() || alternative > 4 ||
          !layout.Add(field.key, alternative)) {
        return false;
      }
      Expected& e = expected[field_count++];
      if (InReadOnlyMemory(field.key.data(), field.key.size())) e.fixed_key = field.key.data();
      e.key_size = field.key.size();
      e.type = field.value.type();
    }
    with_location = location != nullptr;
    if (location == nullptr) return true;
    for (const otel::KeyValueView& kv : LocationAttributes(*location)) {
      if (!layout.AddConstant(kv.key, kv.value)) return false;
    }
    return true;
  }
};

// Each thread's plans, by callsite (its Metadata's address), in a direct-mapped table: a
// callsite whose fields change replaces its own plan, and two callsites sharing a slot take
// turns. Per thread, so plans need no synchronisation; freed when the thread exits.
class PlanCache {
 public:
  static constexpr size_t kSlots = 64;

  // The plan of `metadata`'s callsite if it matches `fields`, else null. Inline and cheap: a
  // thread-local load, one slot, the keys compared.
  static const FieldPlan* Find(const Metadata& metadata, FieldSpan fields, bool location) noexcept {
    const PlanCache* cache = tl_cache;
    if (cache == nullptr) return nullptr;
    const Slot& slot = cache->slots_[SlotOf(metadata)];
    if (slot.metadata != &metadata || !slot.plan->Matches(fields, location)) return nullptr;
    return slot.plan.get();
  }

  // Prepares the plan of `fields` for `metadata`'s callsite (slow path: once per callsite and
  // thread, and again when its fields change). Fields that get no plan (too many, an empty
  // value, a repeated key) are remembered as refused, so the callsite's next spans of that shape
  // do not try again. Gives up quietly when out of memory or when the thread is exiting.
  [[gnu::noinline]] static void Remember(const Metadata& metadata, FieldSpan fields,
                                         bool location) noexcept {
    if (tl_dead) return;
    try {
      if (tl_cache == nullptr) {
        tl_owner.cache = std::make_unique<PlanCache>();
        tl_cache = tl_owner.cache.get();
      }
      Slot& slot = tl_cache->slots_[SlotOf(metadata)];
      if (slot.refused.Is(metadata, fields, location)) return;
      auto plan = std::make_unique<FieldPlan>();
      if (!plan->Build(fields, location ? &metadata : nullptr)) {
        slot.refused.Set(metadata, fields, location);
        return;
      }
      slot.plan = std::move(plan);
      slot.metadata = &metadata;
    } catch (...) {  // std::bad_alloc: this span and the next take the general path
    }
  }

 private:
  // The shape of the last fields of a callsite that got no plan: their number and the types of
  // the first kMaxEntries, and the location setting. Keys are not compared: fields that differ
  // from a refused shape only in their keys are not tried again (they take the general path,
  // which is always exact). Without it, such a callsite would allocate and build a plan, and
  // look its keys up in the program headers, on every span.
  struct Refusal {
    const Metadata* metadata = nullptr;  // null: none
    size_t count = 0;
    bool location = false;
    std::array<Value::Type, otel::Attributes::Layout::kMaxEntries> types{};

    bool Is(const Metadata& m, FieldSpan fields, bool with_location) const noexcept {
      if (metadata != &m || count != fields.size() || location != with_location) return false;
      for (size_t i = 0; i < fields.size() && i < types.size(); ++i) {
        if (fields[i].value.type() != types[i]) return false;
      }
      return true;
    }
    void Set(const Metadata& m, FieldSpan fields, bool with_location) noexcept {
      metadata = &m;
      count = fields.size();
      location = with_location;
      for (size_t i = 0; i < fields.size() && i < types.size(); ++i) {
        types[i] = fields[i].value.type();
      }
    }
  };
  struct Slot {
    const Metadata* metadata = nullptr;  // null: empty
    std::unique_ptr<FieldPlan> plan;
    Refusal refused;
  };
  // Frees the thread's cache at thread exit; touched only when the cache is created.
  struct Owner {
    std::unique_ptr<PlanCache> cache;
    ~Owner() {
      tl_cache = nullptr;
      tl_dead = true;
    }
  };

  static size_t SlotOf(const Metadata& metadata) noexcept {
    const auto address = reinterpret_cast<uintptr_t>(&metadata);
    return static_cast<size_t>((address >> 4) ^ (address >> 10)) % kSlots;
  }

  std::array<Slot, kSlots> slots_;

  static constinit thread_local PlanCache* tl_cache;
  static constinit thread_local bool tl_dead;
  static thread_local Owner tl_owner;
};
constinit thread_local PlanCache* PlanCache::tl_cache = nullptr;
constinit thread_local bool PlanCache::tl_dead = false;
thread_local PlanCache::Owner PlanCache::tl_owner;

// The fields of a span with no special field ("otel.*", "error"), for
// StartSpanOptions::fill_attributes: every field is an attribute, in order.
struct PlainFields {
  FieldSpan fields;
  const Metadata* location;  // non-null: add code.filepath / code.lineno / code.namespace
  const FieldPlan* plan;     // non-null: the fields' prepared layout (it matches them)
};

// Writes `plain` through its plan: the keys (and the code.* values) in one piece, then each
// field's value by position. False when the values do not fit the block in hand or a limit (the
// caller takes the general path).
bool WriteWithPlan(const PlainFields& plain, otel::Attributes::Writer& writer) noexcept {
  const FieldPlan& plan = *plain.plan;
  if (!writer.Start(plan.layout)) return false;
  const FieldSpan fields = plain.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    // The plan matched the value types, and empty values are never in a plan: a string (or
    // JSON text), else a scalar whose type the layout's entry already holds. A scalar's 8
    // payload bytes are copied as they are (Value's union: GCC defines reading another member).
    const Value& value = fields[i].value;
    if (value.is_string() || value.is_json()) {
      if (!writer.SetString(i, value.str())) return false;
    } else {
      writer.SetScalarBits(i, value.as_uint64());
    }
  }
  writer.Commit();
  return true;
}

// Constructs the kLocationAttributes code.* views of `m` at views[count...]; returns the new
// count. The caller has checked the room.
size_t AppendLocationViews(const Metadata& m, InlineViews& views, size_t count) noexcept {
  for (const otel::KeyValueView& kv : LocationAttributes(m))
    new (&views[count++]) otel::KeyValueView(kv);
  return count;
}

// FillPlainFields without a plan, or when the values do not fit the plan's block.
[[gnu::noinline]] void FillPlainFieldsWithoutPlan(const PlainFields& plain,
                                                  otel::Attributes& list) noexcept {
  {
    // One pass into the span's own attribute storage.
    otel::Attributes::Writer writer(list);
    bool ok = true;
    for (const Field& field : plain.fields) {
      if (!WriteAttribute(writer, field.key, field.value)) {
        ok = false;
        break;
      }
    }
    if (ok && plain.location != nullptr) {
      for (const otel::KeyValueView& kv : LocationAttributes(*plain.location)) {
        ok = writer.Add(kv.key, kv.value);
        if (!ok) break;
      }
    }
    if (ok) {
      writer.Commit();
      return;
    }
  }
  // A repeated key, a limit or not enough room: SetAll() handles them all.
  InlineViews views;
  size_t count = 0;
  for (const Field& field : plain.fields) {
    if (EmplaceAttribute(&views[count], field.key, field.value)) ++count;
  }
  if (plain.location != nullptr) count = AppendLocationViews(*plain.location, views, count);
  list.SetAll(std::span<const otel::KeyValueView>(views.data(), count), 4, 192);
}

// StartSpanOptions::fill_attributes for plain fields. OnNewSpan's start (inlined there under
// link-time optimisation) calls it directly and takes its plan path inline.
void FillPlainFields(const void* source, otel::Attributes& list) {
  const auto& plain = *static_cast<const PlainFields*>(source);
  if (plain.plan != nullptr) {
    // The usual case after a callsite's first span: its prepared layout.
    otel::Attributes::Writer writer(list);
    if (WriteWithPlan(plain, writer)) return;
  }
  FillPlainFieldsWithoutPlan(plain, list);
}

// "otel.*" and "error" fields need the span API (or StartSpanOptions), not an attribute.
inline bool IsSpecialKey(std::string_view key) noexcept {
  if (key.empty()) return false;
  if (key[0] == 'o') return key.starts_with("otel.");
  return key[0] == 'e' && key == "error";
}

std::optional<otel::SpanKind> ParseKind(std::string_view s) {
  if (EqualsIgnoreCase(s, "server")) return otel::SpanKind::kServer;
  if (EqualsIgnoreCase(s, "client")) return otel::SpanKind::kClient;
  if (EqualsIgnoreCase(s, "producer")) return otel::SpanKind::kProducer;
  if (EqualsIgnoreCase(s, "consumer")) return otel::SpanKind::kConsumer;
  if (EqualsIgnoreCase(s, "internal")) return otel::SpanKind::kInternal;
  return std::nullopt;
}

bool IsSpecial(std::string_view key) { return key.starts_with("otel."); }

// Applies the fields that need the SDK span's API (status, name, error) rather than attributes.
void ApplySpecial(otel::Span& span, const Field& field) noexcept {
  std::string_view key = field.key;
  if (key == "otel.name" && field.value.is_string()) {
    span.UpdateName(field.value.str());
  } else if (key == "otel.status_code" && field.value.is_string()) {
    if (EqualsIgnoreCase(field.value.str(), "error")) span.SetStatus(otel::StatusCode::kError);
    if (EqualsIgnoreCase(field.value.str(), "ok")) span.SetStatus(otel::StatusCode::kOk);
  } else if (key == "otel.status_message" && field.value.is_string()) {
    span.SetStatus(otel::StatusCode::kError, field.value.str());
  }
}

void ApplyField(otel::Span& span, const Field& field) noexcept {
  if (IsSpecial(field.key)) {
    ApplySpecial(span, field);
    return;
  }
  if (field.key == "error" && field.value.is_string() && !field.value.str().empty()) {
    span.RecordError(field.value.str());  // status ERROR + the `error` attribute
    return;
  }
  otel::KeyValueView kv;
  if (EmplaceAttribute(&kv, field.key, field.value)) span.SetAttribute(kv.key, kv.value);
}

OtelSpanExt* NearestBridged(SpanRef span) noexcept {
  for (SpanRef s = span; s; s = s.parent()) {
    if (auto* ext = s.Get<OtelSpanExt>()) return ext;
  }
  return nullptr;
}

class OtelLayerImpl final : public Layer {
 public:
  OtelLayerImpl(std::shared_ptr<otel::Tracer> tracer, OtelLayerOptions options)
      : tracer_(std::move(tracer)), options_(options) {}

  Interest SpanInterest(const Metadata& /*metadata*/) noexcept override {
    if (tracer_ == nullptr || !options_.skip_spans_the_sampler_drops) return Interest::kAlways;
    const otel::SpanContext no_parent;
    const auto root = tracer_->FixedSamplingDecision(&no_parent);
    return root == otel::SamplingDecision::kDrop ? Interest::kSometimes : Interest::kAlways;
  }

  bool WantsSpan(const Metadata& /*metadata*/, SpanRef parent) noexcept override {
    // A root: SpanInterest() answered kSometimes only because the sampler drops every root.
    if (!parent && !otel::Context::CurrentSpanContext().IsValid()) return false;
    return WantsSpanWithParent(parent);
  }

  // The parent StartSpan would get: the nearest bridged facade span, else the current Context.
  [[gnu::noinline]] bool WantsSpanWithParent(SpanRef parent) const noexcept {
    const OtelSpanExt* bridged = NearestBridged(parent);
    const auto decision =
        tracer_->FixedSamplingDecision(bridged != nullptr ? &bridged->span->context() : nullptr);
    return decision != otel::SamplingDecision::kDrop;
  }

  // Flattened: with link-time optimisation (Release) the tracer's span start is built inline
  // here, with no call in between.
  [[gnu::flatten]] void OnNewSpan(SpanRef span, FieldSpan fields) noexcept override {
    // Already bridged (by another OTel layer): a new span usually has no extension at all.
    if (tracer_ == nullptr || (!span.HasNoExtensions() && span.Get<OtelSpanExt>() != nullptr))
      return;
    // The parent's SDK span outlives this call (its facade span is alive): no copy. Null: the
    // tracer reads the current otel::Context in place, without the shared_ptr copy
    // Context::Current() would make.
    const OtelSpanExt* bridged_parent = NearestBridged(span.parent());
    const otel::SpanContext* parent =
        bridged_parent != nullptr ? &bridged_parent->span->context() : nullptr;

    // The usual span: every field is an attribute. The tracer has them written straight into
    // the span's attribute storage (FillPlainFields), with no KeyValueView in between.
    // After a callsite's first span its fields usually match a prepared plan, which only plain
    // fields have.
    const Metadata& metadata = span.metadata();
    const bool location = options_.with_location;
    const FieldPlan* plan = PlanCache::Find(metadata, fields, location);
    bool all_plain = plan != nullptr;
    if (!all_plain) {
      all_plain = fields.size() + kLocationAttributes <= kInlineAttributes;
      for (size_t i = 0; all_plain && i < fields.size(); ++i)
        all_plain = !IsSpecialKey(fields[i].key);
      if (all_plain) PlanCache::Remember(metadata, fields, location);
    }
    if (!all_plain) {
      StartWithSpecialFields(span, fields, parent);
      return;
    }
    OtelSpanExt* ext = span.Emplace<OtelSpanExt>(this);
    if (ext == nullptr) return;
    // Options that never leave this function, set just before the (inlined) start: the compiler
    // then sees which fill the tracer calls and calls it directly.
    const PlainFields plain{fields, location ? &metadata : nullptr, plan};
    otel::StartSpanOptions start;
    start.parent = parent;
    start.fill_attributes = &FillPlainFields;
    start.fill_source = &plain;
    ext->span = tracer_->StartSpanIn(ext->storage, metadata.name, start);
  }

  // A span with "otel.*" or "error" fields (or too many fields): attributes through views, the
  // rest through StartSpanOptions or the span API.
  [[gnu::noinline]] void StartWithSpecialFields(SpanRef span, FieldSpan fields,
                                                const otel::SpanContext* parent) noexcept {
    otel::StartSpanOptions start;
    start.parent = parent;
    // Uninitialised storage (KeyValueView is trivially destructible): default-constructing 32
    // views would cost more than bridging the span's few fields.
    InlineViews attributes;
    size_t count = 0;
    // Fields that need the span API (status, error) or did not fit inline: applied after start.
    std::array<uint16_t, kInlineAttributes> deferred;  // [0, deferred_count) written before read
    size_t deferred_count = 0;
    bool overflow = false;  // more deferred fields than `deferred` holds: rescan everything
    std::string_view name = span.metadata().name;
    for (size_t i = 0; i < fields.size(); ++i) {
      const Field& field = fields[i];
      if (!IsSpecialKey(field.key) && count < attributes.size()) {
        // Converted in place (no temporary variant); the slot is taken only if it converts.
        if (EmplaceAttribute(&attributes[count], field.key, field.value)) ++count;
        continue;
      }
      if (field.key == "otel.kind" && field.value.is_string()) {
        if (auto kind = ParseKind(field.value.str())) start.kind = *kind;
        continue;
      }
      if (field.key == "otel.name" && field.value.is_string()) {
        name = field.value.str();
        continue;
      }
      if (deferred_count < deferred.size() && i <= UINT16_MAX) {
        deferred[deferred_count++] = static_cast<uint16_t>(i);
      } else {
        overflow = true;
      }
    }
    if (options_.with_location && count + kLocationAttributes <= attributes.size()) {
      count = AppendLocationViews(span.metadata(), attributes, count);
    }
    start.attributes = std::span<const otel::KeyValueView>(attributes.data(), count);

    OtelSpanExt* ext = span.Emplace<OtelSpanExt>(this);
    if (ext == nullptr) return;
    ext->span = tracer_->StartSpanIn(ext->storage, name, start);
    otel::Span* otel_span = ext->span;
    if (overflow) {
      for (const Field& field : fields) {
        if (field.key != "otel.kind" && field.key != "otel.name") ApplyField(*otel_span, field);
      }
    } else {
      for (size_t i = 0; i < deferred_count; ++i) ApplyField(*otel_span, fields[deferred[i]]);
    }
  }

  void OnRecord(SpanRef span, FieldSpan fields) noexcept override {
    OtelSpanExt* ext = span.Get<OtelSpanExt>();
    if (ext == nullptr || ext->owner != this) return;
    for (const Field& field : fields) ApplyField(*ext->span, field);
  }

  void OnEvent(const EventData& event) noexcept override {
    if (!options_.with_events) return;
    OtelSpanExt* ext = NearestBridged(event.parent);
    if (ext == nullptr) return;
    // Several OTel layers may let the same event through; the span gets it once.
    static thread_local uint64_t last_added = 0;
    if (event.sequence == last_added) return;
    last_added = event.sequence;
    std::array<otel::KeyValueView, kInlineAttributes> attributes;
    size_t count = 0;
    attributes[count++] = {"level", ToString(event.metadata.level)};
    attributes[count++] = {"target", event.metadata.target};
    for (const Field& field : event.fields) {
      if (count == attributes.size()) break;
      if (EmplaceAttribute(&attributes[count], field.key, field.value)) ++count;
    }
    ext->span->AddEvent(event.message.empty() ? std::string_view("event") : event.message,
                        std::span<const otel::KeyValueView>(attributes.data(), count));
  }

  bool ObservesEnterExit() const noexcept override { return false; }

  void OnClose(SpanRef span) noexcept override {
    OtelSpanExt* ext = span.Get<OtelSpanExt>();
    if (ext == nullptr || ext->owner != this) return;
    // The registry closes a span once nothing refers to it (no handle, no child, not current):
    // this layer is its SDK span's last user.
    std::exchange(ext->span, nullptr)->EndAndDestroy();
  }

 private:
  std::shared_ptr<otel::Tracer> tracer_;
  OtelLayerOptions options_;
};

std::shared_ptr<const void> CaptureOtelContext() noexcept {
  otel::Context current = otel::Context::Current();
  if (current.IsEmpty()) return nullptr;
  try {
    return std::make_shared<const otel::Context>(std::move(current));
  } catch (...) {
    return nullptr;
  }
}

std::shared_ptr<const void> ExchangeOtelContext(std::shared_ptr<const void> value) noexcept {
  otel::Context next;
  if (value != nullptr) next = *static_cast<const otel::Context*>(value.get());
  otel::Context previous = otel::Context::Swap(std::move(next));
  if (previous.IsEmpty()) return nullptr;
  try {
    return std::make_shared<const otel::Context>(std::move(previous));
  } catch (...) {
    return nullptr;
  }
}

constexpr ContextSlot kOtelContextSlot{&CaptureOtelContext, &ExchangeOtelContext};

}  // namespace

void EnableOtelContextPropagation() noexcept { (void)RegisterContextSlot(&kOtelContextSlot); }

std::shared_ptr<Layer> MakeOtelLayer(std::shared_ptr<otel::Tracer> tracer,
                                     OtelLayerOptions options) {
  EnableOtelContextPropagation();
  return std::make_shared<OtelLayerImpl>(std::move(tracer), options);
}

FilteredLayer OtelLayer(std::string_view target_prefix, LevelFilter level,
                        std::shared_ptr<otel::Tracer> tracer, OtelLayerOptions options) {
  return FilteredLayer{MakeOtelLayer(std::move(tracer), options),
                       std::make_shared<TargetFilter>(std::string(target_prefix), level)};
}

otel::SpanContext OtelSpanContext(const Span& span) noexcept {
  SpanRef ref = SpanRef::FromSpan(span);
  OtelSpanExt* ext = ref ? ref.Get<OtelSpanExt>() : nullptr;
  return ext != nullptr && ext->span != nullptr ? ext->span->context() : otel::SpanContext();
}

otel::Context CurrentOtelContext() noexcept {
  otel::Context context = otel::Context::Current();
  SpanRef ref = SpanRef::FromSpan(Span::Current());
  OtelSpanExt* ext = ref ? NearestBridged(ref) : nullptr;
  if (ext == nullptr) return context;
  try {
    return context.WithSpanContext(ext->span->context());
  } catch (...) {
    return context;
  }
}

}  // namespace vllora
