// Attribute values and the compact owning attribute list used by spans, events, links and
// resources.
//
// AttributeValue is a cheap VIEW (strings are std::string_view); pass it by value or const&.
// Attributes owns its data in ONE heap block (an entry table plus a byte arena for keys and
// string values), so a span with a handful of attributes costs one allocation for all of them.
//
// Notes on values:
//  * uint64_t values are kept as uint64_t here; exporters write them as int64 when the value
//    fits (<= INT64_MAX) and otherwise as their decimal string.
//  * A `const char*` argument selects std::string_view (never bool). `unsigned int` is ambiguous
//    between int64_t and uint64_t: cast it.
// Read next: span.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace vllora::otel {

/// A non-owning attribute value.
using AttributeValue = std::variant<bool, int64_t, uint64_t, double, std::string_view>;

namespace internal {
/// A 6-bit digest of an attribute key: keys with different digests differ.
inline unsigned KeyDigest(std::string_view key) noexcept {
  if (key.empty()) return 0;
  const auto first = static_cast<unsigned char>(key.front());
  const auto last = static_cast<unsigned char>(key.back());
  return (static_cast<unsigned>(key.size()) * 7U + first + last * 3U) & 63U;
}
inline uint64_t KeyDigestBit(std::string_view key) noexcept {
  return uint64_t{1} << KeyDigest(key);
}

/// memcpy for the short keys and values of span attributes: two overlapping word copies instead
/// of a call into libc (most keys and values are 4-32 bytes).
inline void CopyShortBytes(char* dst, const char* src, size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    uint64_t head;
    uint64_t tail;
    std::memcpy(&head, src, 8);
    std::memcpy(&tail, src + n - 8, 8);
    std::memcpy(dst, &head, 8);
    std::memcpy(dst + n - 8, &tail, 8);
  } else if (n > 16 && n <= 32) {
    uint64_t w[4];
    std::memcpy(&w[0], src, 16);
    std::memcpy(&w[2], src + n - 16, 16);
    std::memcpy(dst, &w[0], 16);
    std::memcpy(dst + n - 16, &w[2], 16);
  } else if (n >= 4 && n < 8) {
    uint32_t head;
    uint32_t tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n != 0) {
    std::memcpy(dst, src, n);
  }
}

/// True if the `n` bytes at `a` and `b` are equal. Keys of 8-16 bytes compare as two overlapping
/// words, without a call into libc (distinct keys of one length usually differ early).
inline bool SameShortBytes(const char* a, const char* b, size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    uint64_t x[2];
    uint64_t y[2];
    std::memcpy(&x[0], a, 8);
    std::memcpy(&y[0], b, 8);
    std::memcpy(&x[1], a + n - 8, 8);
    std::memcpy(&y[1], b + n - 8, 8);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }
  return n == 0 || std::memcmp(a, b, n) == 0;
}
}  // namespace internal

/// A non-owning key/value pair.
struct KeyValueView {
  std::string_view key;
  AttributeValue value;
};

/// Owning, compact, insertion-ordered attribute list.
/// Allocation: one block; blocks of up to 512 bytes are recycled through an internal pool.
/// InlineAttributes<N> (below) starts with a block inside the object, so a span's usual
/// attributes need no allocation at all. Setting an existing key replaces its value in place
/// (the position is kept).
/// Thread-safety: like a std::vector (concurrent reads OK; writes need external sync).
/// Lookup is linear, which beats hashing for the tens of attributes spans carry.
class Attributes {
 private:
  // One entry of the table at the front of block_. Trivially copyable so the block can be grown
  // with memcpy; keys and string values are (offset, length) into the byte arena after the table.
  struct Entry {
    struct Slice {
      uint32_t offset;
      uint32_t length;
    };
    uint32_t key_offset;
    uint32_t key_length;
    uint8_t type;  // index into AttributeValue
    union {
      bool b;
      int64_t i;
      uint64_t u;
      double d;
      Slice s;
    } value;
  };

  // Stores a scalar value (bool, int64_t, uint64_t or double) in `e`.
  template <class T>
  static void StoreScalar(Entry& e, T value) noexcept {
    if constexpr (std::is_same_v<T, bool>) {
      e.value.b = value;
    } else if constexpr (std::is_same_v<T, int64_t>) {
      e.value.i = value;
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      e.value.u = value;
    } else {
      static_assert(std::is_same_v<T, double>);
      e.value.d = value;
    }
  }

 public:
  Attributes() noexcept = default;
  Attributes(std::initializer_list<KeyValueView> entries);
  Attributes(const Attributes& other);
  Attributes(Attributes&& other) noexcept;
  Attributes& operator=(const Attributes& other);
  Attributes& operator=(Attributes&& other) noexcept;
  ~Attributes() {
    if (!borrowed_ && block_ != nullptr) ReleaseBlock();
  }

  /// Sets `key` to `value`, copying the bytes. Replaces an existing value for `key`.
  /// A new key beyond the count limit is refused and counted in dropped_count(); string values
  /// longer than the value-length limit are truncated on a UTF-8 boundary and end with
  /// kTruncationMarker, counted within the limit (see TruncateWithMarker).
  /// Allocation: grows the single internal block geometrically when full.
  /// Errors: std::bad_alloc propagates (callers on noexcept paths catch it).
  void Set(std::string_view key, const AttributeValue& value);
  /// Sets every entry of `entries`, in order: the same result as calling Set() for each, but
  /// on an empty list with distinct keys and no value over the length limit (a span's initial
  /// attributes) it sizes the block once (`spare_entries` / `spare_bytes` more for later Set()
  /// calls) and copies each key and value once, without the per-key duplicate search.
  /// Errors: std::bad_alloc propagates.
  void SetAll(std::span<const KeyValueView> entries, size_t spare_entries = 0,
              size_t spare_bytes = 0);
  /// Returns the value for `key`; string values view into this object.
  std::optional<AttributeValue> Find(std::string_view key) const noexcept;
  /// Number of entries.
  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  /// Removes all entries (keeps the block and the limits, resets dropped_count()).
  void Clear() noexcept;
  /// Pre-sizes for `entries` entries and `bytes` bytes of keys + string values.
  void Reserve(size_t entries, size_t bytes);
  /// Bytes of keys and string values held (the arena in use; a value replaced in place by a
  /// shorter one keeps its old room). O(1); used for memory estimates.
  size_t StoredBytes() const noexcept { return bytes_used_; }
  /// Entries refused because of the count limit.
  uint32_t dropped_count() const noexcept { return dropped_; }
  /// 0 = unlimited. Applies to later Set() calls only.
  void SetLimits(uint32_t max_count, uint32_t max_value_length) noexcept {
    max_count_ = max_count;
    max_value_length_ = max_value_length;
  }

  /// The keys of an attribute list written again and again with the same keys, in the same
  /// order and with the same value types: one callsite's fields. Prepared once (Add() per key,
  /// AddConstant() per attribute whose value never changes either), then Writer::Start() puts
  /// the entry table, every key and every constant value in place with two copies, and the other
  /// values are filled by position, with no per-key digest, duplicate check or copy. Holds no
  /// pointer: it may be copied and kept. Thread-safety: like a value (concurrent reads OK).
  class Layout {
   public:
    static constexpr size_t kMaxEntries = 8;
    /// Room for the keys and the constant string values together.
    static constexpr size_t kMaxBytes = 384;

    /// Appends `key`, whose values will be of alternative `type` (AttributeValue's index: 0 bool,
    /// 1 int64_t, 2 uint64_t, 3 double, 4 string), given per list by Writer::SetString() /
    /// SetScalar(). Returns false, the layout unchanged, when it is full (kMaxEntries keys or
    /// kMaxBytes bytes) or `key` repeats an earlier key.
    bool Add(std::string_view key, uint8_t type) noexcept {
      if (type > 4) return false;
      Entry* e = Append(key, 0);
      if (e == nullptr) return false;
      e->type = type;
      return true;
    }
    /// Appends `key` with `value`, copied into the layout: every list the layout is written to
    /// gets this value without a Writer call (the writer must not set it). A string value counts
    /// against kMaxBytes; Writer::Start() refuses the layout for a list whose value-length
    /// limit it exceeds (the caller's general path then truncates it as Set() does). Returns
    /// false, the layout unchanged, as Add() does.
    bool AddConstant(std::string_view key, const AttributeValue& value) noexcept {
      const auto* str = std::get_if<std::string_view>(&value);
      Entry* e = Append(key, str != nullptr ? str->size() : 0);
      if (e == nullptr) return false;
      e->type = static_cast<uint8_t>(value.index());
      if (str == nullptr) {
        std::visit(
            [e](auto v) {
              if constexpr (!std::is_same_v<decltype(v), std::string_view>) StoreScalar(*e, v);
            },
            value);
        return true;
      }
      if (!str->empty()) std::memcpy(bytes_ + byte_count_, str->data(), str->size());
      e->value.s = {byte_count_, static_cast<uint32_t>(str->size())};
      byte_count_ += static_cast<uint32_t>(str->size());
      if (!str->empty() && str->size() - 1 > truncating_limits_) {
        truncating_limits_ = static_cast<uint32_t>(str->size() - 1);
      }
      return true;
    }
    size_t size() const noexcept { return count_; }
    /// The alternative (AttributeValue's index) of the i-th value; i < size().
    uint8_t type(size_t i) const noexcept { return entries_[i].type; }
    /// The length of the i-th key; i < size().
    size_t key_size(size_t i) const noexcept { return entries_[i].key_length; }
    /// True if the i-th key (i < size()) is `key`: the same bytes.
    bool KeyIs(size_t i, std::string_view key) const noexcept {
      const Entry& e = entries_[i];
      return e.key_length == key.size() &&
             internal::SameShortBytes(bytes_ + e.key_offset, key.data(), key.size());
    }

   private:
    friend class Attributes;
    // A new entry for `key` with room for `value_bytes` more bytes after it (zeroed, key
    // copied), or null when full or `key` repeats an earlier key.
    Entry* Append(std::string_view key, size_t value_bytes) noexcept {
      if (count_ == kMaxEntries || key.size() > kMaxBytes - byte_count_ ||
          value_bytes > kMaxBytes - byte_count_ - key.size()) {
        return nullptr;
      }
      for (uint32_t i = 0; i < count_; ++i) {
        if (KeyIs(i, key)) return nullptr;
      }
      Entry& e = entries_[count_++];
      e = Entry{};
      e.key_offset = byte_count_;
      e.key_length = static_cast<uint32_t>(key.size());
      if (!key.empty()) std::memcpy(bytes_ + byte_count_, key.data(), key.size());
      byte_count_ += static_cast<uint32_t>(key.size());
      digests_ |= internal::KeyDigestBit(key);
      return &e;
    }

    Entry entries_[kMaxEntries];
    char bytes_[kMaxBytes];  // keys and constant string values, as they are in a list's arena
    uint32_t count_ = 0;
    uint32_t byte_count_ = 0;
    // Value-length limits in [1, truncating_limits_] cut a constant string: the longest one's
    // length - 1, or 0. A list's limit 0 (none) wraps: `limit - 1U < truncating_limits_` is
    // false for it, one compare for both.
    uint32_t truncating_limits_ = 0;
    uint64_t digests_ = 0;  // KeyDigestBit of every key
  };

  /// Fills an EMPTY list in one pass, for code that converts its own field type (the OTel
  /// layer's facade fields) without building KeyValueViews first. Inline, so the cursor stays
  /// in registers. Each Add* returns false when this one-pass path cannot take the attribute: a
  /// key already added, no room left in the block in hand, or a limit reached. The caller then
  /// drops the writer without Commit() (the list stays empty) and uses SetAll()/Set(), which
  /// handle all of those. Nothing is visible in the list before Commit().
  class Writer {
   public:
    explicit Writer(Attributes& list) noexcept
        : list_(list),
          table_(list.entries()),
          base_(list.arena()),
          entry_room_(list.count_ == 0 ? list.entry_capacity_ : 0),
          byte_room_(list.bytes_capacity_),
          max_value_length_(list.max_value_length_) {
      if (list.max_count_ != 0 && list.max_count_ < entry_room_) entry_room_ = list.max_count_;
    }
    bool AddString(std::string_view key, std::string_view value) noexcept {
      Entry* e = Begin(key, 4);
      if (e == nullptr || (max_value_length_ != 0 && value.size() > max_value_length_) ||
          value.size() > byte_room_ - used_) {
        return false;
      }
      internal::CopyShortBytes(base_ + used_, value.data(), value.size());
      e->value.s = {static_cast<uint32_t>(used_), static_cast<uint32_t>(value.size())};
      used_ += value.size();
      return true;
    }
    bool AddBool(std::string_view key, bool value) noexcept { return AddScalar(key, value); }
    bool AddInt(std::string_view key, int64_t value) noexcept { return AddScalar(key, value); }
    bool AddUint(std::string_view key, uint64_t value) noexcept { return AddScalar(key, value); }
    bool AddDouble(std::string_view key, double value) noexcept { return AddScalar(key, value); }
    /// Any AttributeValue (a switch on its alternative).
    bool Add(std::string_view key, const AttributeValue& value) noexcept {
      if (const auto* str = std::get_if<std::string_view>(&value)) return AddString(key, *str);
      if (const auto* i = std::get_if<int64_t>(&value)) return AddScalar(key, *i);
      if (const auto* u = std::get_if<uint64_t>(&value)) return AddScalar(key, *u);
      if (const auto* d = std::get_if<double>(&value)) return AddScalar(key, *d);
      const auto* b = std::get_if<bool>(&value);
      return b != nullptr && AddScalar(key, *b);
    }
    /// Starts a fresh writer with every key and every constant value of `layout`, in its order
    /// (two copies: the entry table, then the bytes of keys and constant strings); the other
    /// values are then given by position with SetString() / SetScalar(), each exactly once,
    /// before Commit(). Returns false (nothing written) when the layout does not fit the block
    /// in hand or the count limit, when a constant string is over the value-length limit (the
    /// caller's general path truncates it), or when something was added already.
    bool Start(const Layout& layout) noexcept {
      const uint32_t n = layout.count_;
      if (count_ != 0 || n > entry_room_ || layout.byte_count_ > byte_room_ ||
          max_value_length_ - 1U < layout.truncating_limits_) {
        return false;
      }
      std::memcpy(static_cast<void*>(table_), layout.entries_, sizeof(Entry) * n);
      std::memcpy(base_, layout.bytes_, layout.byte_count_);
      count_ = n;
      used_ = layout.byte_count_;
      seen_ = layout.digests_;
      return true;
    }
    /// The value of the i-th key of the layout given to Start(), whose type is string (4).
    /// Returns false when it does not fit the block in hand or is over the value-length limit.
    bool SetString(size_t i, std::string_view value) noexcept {
      if ((max_value_length_ != 0 && value.size() > max_value_length_) ||
          value.size() > byte_room_ - used_) {
        return false;
      }
      internal::CopyShortBytes(base_ + used_, value.data(), value.size());
      table_[i].value.s = {static_cast<uint32_t>(used_), static_cast<uint32_t>(value.size())};
      used_ += value.size();
      return true;
    }
    /// The value of the i-th key of the layout given to Start(), whose type is T's alternative.
    template <class T>
    void SetScalar(size_t i, T value) noexcept {
      StoreScalar(table_[i], value);
    }
    /// The value of the i-th key of the layout given to Start(), a scalar given by its 8 bytes
    /// (an int64, uint64 or double's bits, or a bool's byte then zeros): the layout's entry
    /// already holds its type.
    void SetScalarBits(size_t i, uint64_t bits) noexcept { table_[i].value.u = bits; }
    /// Makes the attributes added so far the list's contents.
    void Commit() noexcept {
      list_.count_ = count_;
      list_.bytes_used_ = static_cast<uint32_t>(used_);
      list_.key_digests_ = seen_;
    }

   private:
    // A scalar attribute: its type index (as in AttributeValue) and its value.
    template <class T>
    bool AddScalar(std::string_view key, T value) noexcept {
      static_assert(std::is_same_v<T, bool> || std::is_same_v<T, int64_t> ||
                    std::is_same_v<T, uint64_t> || std::is_same_v<T, double>);
      constexpr uint8_t kType = std::is_same_v<T, bool>       ? 0
                                : std::is_same_v<T, int64_t>  ? 1
                                : std::is_same_v<T, uint64_t> ? 2
                                                              : 3;
      Entry* e = Begin(key, kType);
      if (e == nullptr) return false;
      StoreScalar(*e, value);
      return true;
    }

    Entry* Begin(std::string_view key, uint8_t type) noexcept {
      if (count_ >= entry_room_ || key.size() > byte_room_ - used_) return nullptr;
      // A key whose digest is new cannot repeat an earlier one; only a digest seen before
      // costs a compare.
      const uint64_t bit = internal::KeyDigestBit(key);
      if ((seen_ & bit) != 0 && list_.RepeatsEarlierKey(count_, key)) return nullptr;
      seen_ |= bit;
      Entry& e = table_[count_++];
      e.key_offset = static_cast<uint32_t>(used_);
      e.key_length = static_cast<uint32_t>(key.size());
      e.type = type;
      internal::CopyShortBytes(base_ + used_, key.data(), key.size());
      used_ += key.size();
      return &e;
    }

    Attributes& list_;
    Entry* table_;
    char* base_;
    uint32_t count_ = 0;
    uint32_t entry_room_;
    size_t byte_room_;
    size_t used_ = 0;
    uint64_t seen_ = 0;  // digests of the keys added
    uint32_t max_value_length_;
  };

  /// Forward iterator yielding KeyValueView by value. Views are valid while this object lives
  /// and is not modified.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = KeyValueView;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = KeyValueView;

    const_iterator() noexcept = default;
    KeyValueView operator*() const noexcept { return owner_->At(index_); }
    const_iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    const_iterator operator++(int) noexcept {
      const_iterator copy = *this;
      ++index_;
      return copy;
    }
    bool operator==(const const_iterator& other) const noexcept { return index_ == other.index_; }

   private:
    friend class Attributes;
    const_iterator(const Attributes* owner, uint32_t index) noexcept
        : owner_(owner), index_(index) {}
    const Attributes* owner_ = nullptr;
    uint32_t index_ = 0;
  };

  const_iterator begin() const noexcept { return const_iterator(this, 0); }
  const_iterator end() const noexcept { return const_iterator(this, count_); }

  /// The i-th entry (i < size()). Inline: exporters call it for every attribute they write.
  /// Calls `visitor(key, value)` for every attribute in order, with `value` typed as the
  /// attribute's alternative (bool, int64_t, uint64_t, double or std::string_view), so the
  /// visitor needs one overload per type (or a generic lambda) and no variant. The list's
  /// members are read once before the loop: a visitor that writes through a char* (an encoder)
  /// does not make them reload per attribute. The list must not change during the visit. A
  /// visitor that keeps a cursor in its own members gains only if Visit is inlined into its
  /// caller (the OTLP wire encoder marks its callers [[gnu::flatten]]).
  template <class Visitor>
  void Visit(Visitor&& visitor) const {
    const Entry* table = entries();
    const char* base = arena();
    const uint32_t n = count_;
    for (uint32_t i = 0; i < n; ++i) {
      const Entry& e = table[i];
      const std::string_view key(base + e.key_offset, e.key_length);
      switch (e.type) {
        case 0:
          visitor(key, e.value.b);
          break;
        case 1:
          visitor(key, e.value.i);
          break;
        case 2:
          visitor(key, e.value.u);
          break;
        case 3:
          visitor(key, e.value.d);
          break;
        default:
          visitor(key, std::string_view(base + e.value.s.offset, e.value.s.length));
          break;
      }
    }
  }

  KeyValueView At(size_t index) const noexcept {
    const Entry& e = entries()[index];
    const char* base = arena();
    const std::string_view key(base + e.key_offset, e.key_length);
    // Each alternative constructed in place (no default-then-assign).
    switch (e.type) {
      case 0:
        return {key, AttributeValue(std::in_place_index<0>, e.value.b)};
      case 1:
        return {key, AttributeValue(std::in_place_index<1>, e.value.i)};
      case 2:
        return {key, AttributeValue(std::in_place_index<2>, e.value.u)};
      case 3:
        return {key, AttributeValue(std::in_place_index<3>, e.value.d)};
      default:
        return {key, AttributeValue(std::in_place_index<4>,
                                    std::string_view(base + e.value.s.offset, e.value.s.length))};
    }
  }

 protected:
  /// Starts empty on `buffer` (`bytes` long, aligned for any fundamental type), which this
  /// object uses without owning it until a bigger block is needed. For InlineAttributes only.
  /// A list whose block is `buffer` (`bytes` long, not owned): half of it for the entry table
  /// (8 entries in 384 bytes), the rest for keys and string values.
  Attributes(std::byte* buffer, size_t bytes) noexcept
      : block_(buffer),
        borrowed_(true),
        entry_capacity_(static_cast<uint32_t>(bytes / (2 * kEntryBytes))),
        bytes_capacity_(static_cast<uint32_t>(bytes - kEntryBytes * (bytes / (2 * kEntryBytes)))) {}
  static constexpr size_t kEntryBytes = 24;  // sizeof(Entry), checked in attributes.cc
  /// Copies `other` into the current block when it fits (no allocation), else allocates.
  void CopyFrom(const Attributes& other);
  /// Takes `other`'s block if it owns one; copies a borrowed one (nothrow: what cannot be
  /// copied for lack of memory is counted in dropped_count()).
  void MoveFrom(Attributes&& other) noexcept;

 private:
  bool FastSetAll(std::span<const KeyValueView> entries) noexcept;
  bool RepeatsEarlierKey(size_t count, std::string_view key) const noexcept;
  void ReleaseBlock() noexcept;
  Entry* entries() const noexcept {
    // The block comes from operator new or an InlineAttributes buffer, aligned for any
    // fundamental type, and Entry is an implicit-lifetime type: usable without placement new.
    return reinterpret_cast<Entry*>(block_);
  }
  char* arena() const noexcept {
    return reinterpret_cast<char*>(block_ + sizeof(Entry) * entry_capacity_);
  }
  void Grow(size_t min_entries, size_t min_bytes);
  void Reallocate(size_t new_entries, size_t new_bytes);
  uint32_t AppendBytes(std::string_view bytes);
  void StoreValue(Entry& entry, const AttributeValue& value);
  bool PointsIntoArena(std::string_view bytes) const noexcept;
  void SetImpl(std::string_view key, const AttributeValue& stored, std::string_view string_value);

  static std::byte* AllocateBlock(size_t bytes);
  static void FreeBlock(std::byte* block, size_t bytes) noexcept;
  size_t BlockBytes() const noexcept;

  // block_ and borrowed_ first and together: all the destructor reads (SpanData's layout).
  std::byte* block_ = nullptr;  // owned unless borrowed_; see AllocateBlock/FreeBlock
  bool borrowed_ = false;       // block_ is storage this object does not own (InlineAttributes)
  uint32_t count_ = 0;
  uint32_t entry_capacity_ = 0;
  uint32_t bytes_used_ = 0;
  uint32_t bytes_capacity_ = 0;
  uint32_t dropped_ = 0;
  uint32_t max_count_ = 0;
  uint32_t max_value_length_ = 0;
  // Bit KeyDigest(k) is set for every key k held (more bits may be set): a key whose bit is
  // clear is certainly new, so adding it needs no search.
  uint64_t key_digests_ = 0;
};

/// Attributes whose first block, `kBytes` long, lives inside the object: the attributes of a
/// span (SpanData) are stored without an allocation while they fit (table entries take 24
/// bytes each, keys and string values their length). Past that it behaves like Attributes.
/// Copies and moves copy the contents (the inline block cannot be handed over).
template <size_t kBytes>
class InlineAttributes : public Attributes {
 public:
  InlineAttributes() noexcept : Attributes(buffer_, kBytes) {}
  InlineAttributes(const InlineAttributes& other) : InlineAttributes() { CopyFrom(other); }
  InlineAttributes(InlineAttributes&& other) noexcept : InlineAttributes() {
    MoveFrom(std::move(other));
  }
  InlineAttributes& operator=(const InlineAttributes& other) {
    if (this != &other) CopyFrom(other);
    return *this;
  }
  InlineAttributes& operator=(InlineAttributes&& other) noexcept {
    if (this != &other) MoveFrom(std::move(other));
    return *this;
  }
  InlineAttributes& operator=(const Attributes& other) {
    if (this != &other) CopyFrom(other);
    return *this;
  }
  InlineAttributes& operator=(Attributes&& other) noexcept {
    if (this != &other) MoveFrom(std::move(other));
    return *this;
  }
  ~InlineAttributes() = default;

 private:
  alignas(8) std::byte buffer_[kBytes];
};

/// Truncates `value` to at most `max_bytes` bytes without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view value, size_t max_bytes) noexcept;

/// Appended to a string attribute value cut at the value-length limit: "…" (U+2026, 3 bytes).
inline constexpr std::string_view kTruncationMarker = "\xE2\x80\xA6";

/// What Attributes stores for a string value longer than `max_bytes` (> 0): the longest prefix
/// of at most `max_bytes - 3` bytes that does not split a UTF-8 sequence, then
/// kTruncationMarker, so the result is at most `max_bytes` bytes. With `max_bytes` <= 3 there is
/// no room for marker and content: the prefix alone. A value that fits is returned unchanged.
std::string TruncateWithMarker(std::string_view value, size_t max_bytes);

}  // namespace vllora::otel
