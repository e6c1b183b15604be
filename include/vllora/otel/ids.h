// Trace and span identifiers and the generators that create them.
//
// TraceId (16 bytes) and SpanId (8 bytes) are plain value types; all-zero means "invalid".
// MakeRandomIdGenerator() is the default used by TracerProvider; MakeUuidIdGenerator() produces
// UUID v4 trace ids, which is what vLLora's UI expects when trace ids are shown as UUIDs.
// Read next: span_context.h.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vllora::otel {

/// A 16-byte W3C/OTel trace id. All zero = invalid.
struct TraceId {
  std::array<uint8_t, 16> bytes{};

  /// True unless all bytes are zero.
  bool IsValid() const noexcept {
    uint64_t hi = 0;
    uint64_t lo = 0;
    std::memcpy(&hi, bytes.data(), 8);
    std::memcpy(&lo, bytes.data() + 8, 8);
    return (hi | lo) != 0;
  }
  /// 32 lower-case hex characters.
  std::string ToHex() const;
  /// Parses exactly 32 hex characters (either case). Returns nullopt on any other input.
  /// The all-zero id parses successfully (check IsValid()).
  static std::optional<TraceId> FromHex(std::string_view hex) noexcept;
  bool operator==(const TraceId&) const = default;
};

/// An 8-byte W3C/OTel span id. All zero = invalid.
struct SpanId {
  std::array<uint8_t, 8> bytes{};

  /// True unless all bytes are zero.
  bool IsValid() const noexcept {
    uint64_t word = 0;
    std::memcpy(&word, bytes.data(), 8);
    return word != 0;
  }
  /// 16 lower-case hex characters.
  std::string ToHex() const;
  /// Parses exactly 16 hex characters (either case). Returns nullopt on any other input.
  static std::optional<SpanId> FromHex(std::string_view hex) noexcept;
  /// The 8 bytes read as a big-endian unsigned integer.
  uint64_t ToUint64() const noexcept;
  /// Inverse of ToUint64().
  static SpanId FromUint64(uint64_t value) noexcept;
  bool operator==(const SpanId&) const = default;
};

/// Formats the 16 bytes as a canonical UUID string "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
/// (lower-case). The bytes are printed as they are: ids from MakeUuidIdGenerator() carry the
/// v4 version nibble and 10xx variant bits, ids from other generators do not.
std::string TraceIdToUuid(const TraceId& trace_id);

/// Parses a UUID string (with or without dashes) into a TraceId.
std::optional<TraceId> TraceIdFromUuid(std::string_view uuid) noexcept;

/// Creates trace and span ids.
/// Thread-safety: implementations must be safe to call concurrently from any thread.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  /// Returns a new valid (non-zero) trace id. Allocation: none.
  virtual TraceId GenerateTraceId() noexcept = 0;
  /// Returns a new valid (non-zero) span id. Allocation: none.
  virtual SpanId GenerateSpanId() noexcept = 0;
  /// Both ids of a new root span. The default calls the two above; the built-in generators
  /// make both in one call (a root span's start is a hot path).
  virtual void GenerateRootIds(TraceId& trace_id, SpanId& span_id) noexcept {
    trace_id = GenerateTraceId();
    span_id = GenerateSpanId();
  }
};

/// Random ids from a per-thread wyrand generator seeded from the OS; the per-thread state
/// is reseeded in the child after fork(). Not cryptographically secure.
/// Allocation: none per id. Blocking: the first id on each thread reads the OS entropy source.
std::unique_ptr<IdGenerator> MakeRandomIdGenerator();

/// Trace ids are random UUID v4 (version nibble 4, variant 10xx); span ids random, non-zero.
std::unique_ptr<IdGenerator> MakeUuidIdGenerator();

}  // namespace vllora::otel
