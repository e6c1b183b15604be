#include "vllora/otel/ids.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

namespace vllora::otel {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
bool ParseHex(std::string_view hex, std::array<uint8_t, N>& out) noexcept {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

template <size_t N>
std::string ToHexString(const std::array<uint8_t, N>& bytes) {
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xF];
  }
  return out;
}

// --- per-thread wyrand ------------------------------------------------------------------

// Bumped in the child after fork() so every thread-local generator reseeds instead of
// repeating the parent's sequence.
std::atomic<uint64_t> g_fork_generation{1};

void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

void RegisterForkHandler() noexcept {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, &OnForkChild);
    return true;
  }();
  (void)registered;
}

uint64_t SplitMix64(uint64_t& state) noexcept {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// wyrand (64-bit state, one 64x64->128 multiply per word): ids need uniqueness and a uniform
// low half (TraceIdRatio sampling), not cryptographic strength.
__extension__ typedef unsigned __int128 U128;

struct Rng {
  uint64_t state = 0;
  uint64_t generation = 0;

  void Seed() noexcept {
    uint64_t seed = 0;
    try {
      std::random_device device;
      seed = (static_cast<uint64_t>(device()) << 32) ^ device();
    } catch (...) {
      // No entropy device: fall back to time and addresses (ids only need uniqueness).
    }
    seed ^=
        static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
    seed ^= static_cast<uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())) << 1;
    seed ^= reinterpret_cast<uintptr_t>(this);  // distinct per thread (TLS address)
    state = SplitMix64(seed);
  }

  // Reseeds after fork() (and on first use). Call once per id, not per word.
  void CheckGeneration() noexcept {
    // relaxed: only needs to eventually observe the post-fork bump, which happens in the
    // single-threaded child before any other code runs.
    const uint64_t current = g_fork_generation.load(std::memory_order_relaxed);
    if (generation != current) [[unlikely]] {
      RegisterForkHandler();
      Seed();
      generation = current;
    }
  }

  uint64_t Next() noexcept {
    state += 0xA0761D6478BD642FULL;
    const U128 product = static_cast<U128>(state) * (state ^ 0xE7037ED1A0B428DBULL);
    return static_cast<uint64_t>(product >> 64) ^ static_cast<uint64_t>(product);
  }
};

// Constant-initialised and trivially destructible: no guard on access.
thread_local Rng t_rng;

void FillRandom(uint8_t* out, size_t words) noexcept {
  Rng& rng = t_rng;
  rng.CheckGeneration();
  for (size_t i = 0; i < words; ++i) {
    const uint64_t r = rng.Next();
    std::memcpy(out + 8 * i, &r, 8);
  }
}

SpanId RandomSpanId() noexcept {
  SpanId id;
  do {
    FillRandom(id.bytes.data(), 1);
  } while (!id.IsValid());
  return id;
}

// Marks random bytes as a UUID v4: version nibble 4, variant 10xx.
void SetUuidV4Bits(TraceId& id) noexcept {
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x40);
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);
}

// Fills a root span's ids from one generator state: one reseed check, three words.
template <bool kUuid>
void FillRootIds(TraceId& trace_id, SpanId& span_id) noexcept {
  Rng& rng = t_rng;
  rng.CheckGeneration();
  do {
    const uint64_t words[2] = {rng.Next(), rng.Next()};
    std::memcpy(trace_id.bytes.data(), words, sizeof(words));
    if constexpr (kUuid) SetUuidV4Bits(trace_id);
  } while (!trace_id.IsValid());  // a UUID never is all-zero: the version nibble is set
  do {
    const uint64_t word = rng.Next();
    std::memcpy(span_id.bytes.data(), &word, sizeof(word));
  } while (!span_id.IsValid());
}

class RandomIdGenerator final : public IdGenerator {
 public:
  TraceId GenerateTraceId() noexcept override {
    TraceId id;
    do {
      FillRandom(id.bytes.data(), 2);
    } while (!id.IsValid());
    return id;
  }
  SpanId GenerateSpanId() noexcept override { return RandomSpanId(); }
  void GenerateRootIds(TraceId& trace_id, SpanId& span_id) noexcept override {
    FillRootIds<false>(trace_id, span_id);
  }
};

class UuidIdGenerator final : public IdGenerator {
 public:
  TraceId GenerateTraceId() noexcept override {
    TraceId id;
    FillRandom(id.bytes.data(), 2);
    SetUuidV4Bits(id);
    return id;  // never all-zero: the version nibble is set
  }
  SpanId GenerateSpanId() noexcept override { return RandomSpanId(); }
  void GenerateRootIds(TraceId& trace_id, SpanId& span_id) noexcept override {
    FillRootIds<true>(trace_id, span_id);
  }
};

}  // namespace

std::string TraceId::ToHex() const { return ToHexString(bytes); }
std::optional<TraceId> TraceId::FromHex(std::string_view hex) noexcept {
  TraceId id;
  if (!ParseHex(hex, id.bytes)) return std::nullopt;
  return id;
}

std::string SpanId::ToHex() const { return ToHexString(bytes); }
std::optional<SpanId> SpanId::FromHex(std::string_view hex) noexcept {
  SpanId id;
  if (!ParseHex(hex, id.bytes)) return std::nullopt;
  return id;
}

uint64_t SpanId::ToUint64() const noexcept {
  uint64_t value = 0;
  for (uint8_t b : bytes) value = (value << 8) | b;
  return value;
}

SpanId SpanId::FromUint64(uint64_t value) noexcept {
  SpanId id;
  for (size_t i = 0; i < 8; ++i) id.bytes[7 - i] = static_cast<uint8_t>(value >> (8 * i));
  return id;
}

std::string TraceIdToUuid(const TraceId& trace_id) {
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[trace_id.bytes[i] >> 4]);
    out.push_back(kHexDigits[trace_id.bytes[i] & 0xF]);
  }
  return out;
}

std::optional<TraceId> TraceIdFromUuid(std::string_view uuid) noexcept {
  char compact[32];
  size_t n = 0;
  for (char c : uuid) {
    if (c == '-') continue;
    if (n == sizeof(compact)) return std::nullopt;
    compact[n++] = c;
  }
  return TraceId::FromHex(std::string_view(compact, n));
}

std::unique_ptr<IdGenerator> MakeRandomIdGenerator() {
  return std::make_unique<RandomIdGenerator>();
}

std::unique_ptr<IdGenerator> MakeUuidIdGenerator() { return std::make_unique<UuidIdGenerator>(); }

}  // namespace vllora::otel
