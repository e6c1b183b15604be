#include "vllora/otel/attributes.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "vllora/otel/internal/object_pool.h"

namespace vllora::otel {

namespace {
bool SameBytes(const char* stored, std::string_view key) noexcept {
  return key.empty() || std::memcmp(stored, key.data(), key.size()) == 0;
}
inline bool SameKey(const char* stored, std::string_view key) noexcept {
  return internal::SameShortBytes(stored, key.data(), key.size());
}
constexpr uint8_t kBool = 0, kInt = 1, kUint = 2, kDouble = 3, kString = 4;
using internal::CopyShortBytes;
using internal::KeyDigestBit;
// Sets an entry's type from `value` and, for a scalar, its value. Returns the string of a
// string value (the caller stores its bytes), else null. A template so the private entry type
// is deduced, not named.
template <class EntryT>
inline const std::string_view* StoreTypeAndScalar(EntryT& e, const AttributeValue& value) noexcept {
  e.type = static_cast<uint8_t>(value.index());
  switch (e.type) {
    case kBool:
      if (const auto* v = std::get_if<bool>(&value)) e.value.b = *v;
      return nullptr;
    case kInt:
      if (const auto* v = std::get_if<int64_t>(&value)) e.value.i = *v;
      return nullptr;
    case kUint:
      if (const auto* v = std::get_if<uint64_t>(&value)) e.value.u = *v;
      return nullptr;
    case kDouble:
      if (const auto* v = std::get_if<double>(&value)) e.value.d = *v;
      return nullptr;
    default:
      return std::get_if<std::string_view>(&value);
  }
}
constexpr size_t kMaxArena = std::numeric_limits<uint32_t>::max();
// Blocks of this size come from a pool: the attribute block of a span is freed on the export
// thread, where a glibc free costs several hundred instructions. Every block of at most this
// size is allocated at exactly this size, so a block is pooled iff its capacity equals it.
constexpr size_t kPooledBlock = 512;
using BlockPool = internal::FixedSizePool<kPooledBlock>;
}  // namespace

std::byte* Attributes::AllocateBlock(size_t bytes) {
  if (bytes == kPooledBlock) return static_cast<std::byte*>(BlockPool::Allocate());
  return static_cast<std::byte*>(::operator new(bytes));
}

void Attributes::FreeBlock(std::byte* block, size_t bytes) noexcept {
  if (block == nullptr) return;
  if (bytes == kPooledBlock) {
    BlockPool::Free(block);
  } else {
    ::operator delete(block);
  }
}

size_t Attributes::BlockBytes() const noexcept {
  return sizeof(Entry) * entry_capacity_ + bytes_capacity_;
}

std::string_view TruncateUtf8(std::string_view value, size_t max_bytes) noexcept {
  if (value.size() <= max_bytes) return value;
  size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands on a sequence boundary.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return value.substr(0, cut);
}

std::string TruncateWithMarker(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return std::string(value);
  if (max_bytes <= kTruncationMarker.size()) return std::string(TruncateUtf8(value, max_bytes));
  std::string out(TruncateUtf8(value, max_bytes - kTruncationMarker.size()));
  out.append(kTruncationMarker);
  return out;
}

Attributes::Attributes(std::initializer_list<KeyValueView> entries) {
  for (const KeyValueView& kv : entries) Set(kv.key, kv.value);
}

Attributes::Attributes(const Attributes& other)
    : dropped_(other.dropped_),
      max_count_(other.max_count_),
      max_value_length_(other.max_value_length_) {
  if (other.count_ == 0) return;
  Grow(other.count_, other.bytes_used_);
  std::memcpy(entries(), other.entries(), sizeof(Entry) * other.count_);
  std::memcpy(arena(), other.arena(), other.bytes_used_);
  count_ = other.count_;
  bytes_used_ = other.bytes_used_;
  key_digests_ = other.key_digests_;
}

Attributes::Attributes(Attributes&& other) noexcept { MoveFrom(std::move(other)); }

Attributes& Attributes::operator=(const Attributes& other) {
  if (this != &other) CopyFrom(other);
  return *this;
}

Attributes& Attributes::operator=(Attributes&& other) noexcept {
  if (this != &other) MoveFrom(std::move(other));
  return *this;
}

void Attributes::ReleaseBlock() noexcept {
  static_assert(sizeof(Entry) == kEntryBytes, "InlineAttributes documents 24 bytes per entry");
  if (!borrowed_) FreeBlock(block_, BlockBytes());
}

void Attributes::CopyFrom(const Attributes& other) {
  if (this == &other) return;
  count_ = 0;
  bytes_used_ = 0;
  key_digests_ = 0;
  if (other.count_ > entry_capacity_ || other.bytes_used_ > bytes_capacity_) {
    Reallocate(other.count_, other.bytes_used_);
  }
  if (other.count_ > 0) {
    std::memcpy(entries(), other.entries(), sizeof(Entry) * other.count_);
    std::memcpy(arena(), other.arena(), other.bytes_used_);
  }
  count_ = other.count_;
  bytes_used_ = other.bytes_used_;
  key_digests_ = other.key_digests_;
  dropped_ = other.dropped_;
  max_count_ = other.max_count_;
  max_value_length_ = other.max_value_length_;
}

void Attributes::MoveFrom(Attributes&& other) noexcept {
  if (this == &other) return;
  if (!other.borrowed_ && other.block_ != nullptr) {
    ReleaseBlock();
    block_ = std::exchange(other.block_, nullptr);
    count_ = std::exchange(other.count_, 0);
    entry_capacity_ = std::exchange(other.entry_capacity_, 0);
    bytes_used_ = std::exchange(other.bytes_used_, 0);
    bytes_capacity_ = std::exchange(other.bytes_capacity_, 0);
    dropped_ = std::exchange(other.dropped_, 0);
    key_digests_ = std::exchange(other.key_digests_, 0);
    max_count_ = other.max_count_;
    max_value_length_ = other.max_value_length_;
    borrowed_ = false;
    return;
  }
  // The source's block is not its own to give (or it has none): copy the contents.
  try {
    CopyFrom(other);
  } catch (...) {
    // Out of memory: the entries are lost, and counted.
    dropped_ = other.dropped_ + other.count_;
    max_count_ = other.max_count_;
    max_value_length_ = other.max_value_length_;
  }
  other.Clear();
}

void Attributes::Reallocate(size_t new_entries, size_t new_bytes) {
  size_t total = sizeof(Entry) * new_entries + new_bytes;
  if (total <= kPooledBlock) {
    // Pooled: the spare room becomes arena.
    new_bytes += kPooledBlock - total;
    total = kPooledBlock;
  }
  std::byte* block = AllocateBlock(total);
  if (count_ > 0) std::memcpy(block, block_, sizeof(Entry) * count_);
  if (bytes_used_ > 0) std::memcpy(block + sizeof(Entry) * new_entries, arena(), bytes_used_);
  ReleaseBlock();
  block_ = block;
  borrowed_ = false;
  entry_capacity_ = static_cast<uint32_t>(new_entries);
  bytes_capacity_ = static_cast<uint32_t>(new_bytes);
}

void Attributes::Grow(size_t min_entries, size_t min_bytes) {
  size_t new_entries = entry_capacity_;
  if (min_entries > new_entries) {
    new_entries = std::max<size_t>({min_entries, size_t{2} * entry_capacity_, 4});
  }
  size_t new_bytes = bytes_capacity_;
  if (min_bytes > new_bytes) {
    new_bytes = std::min(std::max<size_t>({min_bytes, size_t{2} * bytes_capacity_, 64}), kMaxArena);
  }
  if (new_entries != entry_capacity_ || new_bytes != bytes_capacity_) {
    Reallocate(new_entries, new_bytes);
  }
}

void Attributes::Reserve(size_t entries_wanted, size_t bytes_wanted) {
  if (entries_wanted <= entry_capacity_ && bytes_wanted <= bytes_capacity_) return;
  // Exact sizes: the caller knows what it needs.
  Reallocate(std::max<size_t>(entry_capacity_, entries_wanted),
             std::min(std::max<size_t>(bytes_capacity_, bytes_wanted), kMaxArena));
}

inline uint32_t Attributes::AppendBytes(std::string_view bytes) {
  uint32_t offset = bytes_used_;
  if (!bytes.empty()) std::memcpy(arena() + offset, bytes.data(), bytes.size());
  bytes_used_ += static_cast<uint32_t>(bytes.size());
  return offset;
}

inline void Attributes::StoreValue(Entry& entry, const AttributeValue& value) {
  // The caller has made room for the (already truncated) string.
  if (const std::string_view* str = StoreTypeAndScalar(entry, value)) {
    const uint32_t offset = AppendBytes(*str);
    entry.value.s = {offset, static_cast<uint32_t>(str->size())};
  }
}

inline bool Attributes::PointsIntoArena(std::string_view bytes) const noexcept {
  if (block_ == nullptr || bytes.empty()) return false;
  // Compare as integers: relational operators on unrelated pointers are unspecified.
  auto begin = reinterpret_cast<uintptr_t>(arena());
  auto p = reinterpret_cast<uintptr_t>(bytes.data());
  return p >= begin && p < begin + bytes_capacity_;
}

void Attributes::Set(std::string_view key, const AttributeValue& value) {
  const std::string_view* str = std::get_if<std::string_view>(&value);
  std::string_view s = str != nullptr ? *str : std::string_view();
  const bool truncate = max_value_length_ != 0 && s.size() > max_value_length_;
  if (truncate || (block_ != nullptr && (PointsIntoArena(key) || PointsIntoArena(s))))
      [[unlikely]] {
    // Rare: a value over the limit (stored with the marker), or views into our own arena,
    // which may move.
    std::string owned_key(key);
    std::string owned_value = truncate ? TruncateWithMarker(s, max_value_length_) : std::string(s);
    if (str == nullptr) {
      SetImpl(owned_key, value, {});
    } else {
      SetImpl(owned_key, AttributeValue(std::string_view(owned_value)), owned_value);
    }
    return;
  }
  if (str == nullptr) {
    SetImpl(key, value, {});
  } else {
    SetImpl(key, AttributeValue(s), s);
  }
}

void Attributes::SetImpl(std::string_view key, const AttributeValue& stored,
                         std::string_view string_value) {
  const size_t value_bytes = string_value.size();
  Entry* table = entries();
  const char* base = arena();
  const uint64_t bit = KeyDigestBit(key);
  // A clear digest bit: the key is certainly new, no search.
  const uint32_t searched = (key_digests_ & bit) != 0 ? count_ : 0;
  for (uint32_t i = 0; i < searched; ++i) {
    Entry& e = table[i];
    if (e.key_length != key.size() || !SameBytes(base + e.key_offset, key)) continue;
    if (value_bytes > 0 && e.type == kString && e.value.s.length >= value_bytes) {
      // Reuse the old slot in place.
      std::memcpy(arena() + e.value.s.offset, string_value.data(), value_bytes);
      e.value.s.length = static_cast<uint32_t>(value_bytes);
      return;
    }
    if (bytes_used_ + value_bytes > bytes_capacity_) {
      if (bytes_used_ + value_bytes > kMaxArena) return;
      Grow(count_, bytes_used_ + value_bytes);
    }
    StoreValue(entries()[i], stored);
    return;
  }
  if (max_count_ != 0 && count_ >= max_count_) {
    ++dropped_;
    return;
  }
  const size_t needed = bytes_used_ + key.size() + value_bytes;
  if (needed > kMaxArena) {
    ++dropped_;
    return;
  }
  if (count_ + 1 > entry_capacity_ || needed > bytes_capacity_) Grow(count_ + size_t{1}, needed);
  Entry& e = entries()[count_];
  e.key_offset = AppendBytes(key);
  e.key_length = static_cast<uint32_t>(key.size());
  StoreValue(e, stored);
  ++count_;
  key_digests_ |= bit;
}

// Out of line so the loop that calls it keeps its registers.
[[gnu::noinline]] bool Attributes::RepeatsEarlierKey(size_t count,
                                                     std::string_view key) const noexcept {
  const Entry* table = entries();
  const char* base = arena();
  for (size_t j = 0; j < count; ++j) {
    if (table[j].key_length == key.size() && SameKey(base + table[j].key_offset, key)) return true;
  }
  return false;
}

bool Attributes::FastSetAll(std::span<const KeyValueView> kvs) noexcept {
  Writer writer(*this);
  for (const KeyValueView& kv : kvs) {
    if (!writer.Add(kv.key, kv.value)) return false;
  }
  writer.Commit();
  return true;
}

void Attributes::SetAll(std::span<const KeyValueView> kvs, size_t spare_entries,
                        size_t spare_bytes) {
  const size_t n = kvs.size();
  // Into the block in hand (an InlineAttributes' own storage) in one pass, when everything fits.
  if (count_ == 0 && n <= entry_capacity_ && FastSetAll(kvs)) return;
  // Else one block sized for all of them plus the spare room, then the same one pass (a fresh
  // list with distinct keys and no limit reached) or Set() for each.
  size_t bytes = 0;
  for (const KeyValueView& kv : kvs) {
    bytes += kv.key.size();
    if (const auto* str = std::get_if<std::string_view>(&kv.value)) bytes += str->size();
  }
  Reserve(count_ + n + spare_entries, bytes_used_ + bytes + spare_bytes);
  if (count_ == 0 && FastSetAll(kvs)) return;
  for (const KeyValueView& kv : kvs) Set(kv.key, kv.value);
}

std::optional<AttributeValue> Attributes::Find(std::string_view key) const noexcept {
  const Entry* table = entries();
  const char* base = arena();
  for (uint32_t i = 0; i < count_; ++i) {
    const Entry& e = table[i];
    if (e.key_length == key.size() && SameBytes(base + e.key_offset, key)) {
      return At(i).value;
    }
  }
  return std::nullopt;
}

void Attributes::Clear() noexcept {
  count_ = 0;
  bytes_used_ = 0;
  dropped_ = 0;
  key_digests_ = 0;
}

}  // namespace vllora::otel
