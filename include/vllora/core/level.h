// Levels and level filters.
//
// Every span and event has a Level. A LevelFilter says which levels pass: `LevelFilter::kInfo`
// lets INFO, WARN and ERROR through. Read metadata.h next.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vllora {

/// Severity of a span or event, from most verbose to most severe.
enum class Level : uint8_t { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4 };

/// The most verbose level a filter lets through; kOff lets nothing through.
enum class LevelFilter : uint8_t {
  kTrace = 0,
  kDebug = 1,
  kInfo = 2,
  kWarn = 3,
  kError = 4,
  kOff = 5,
};

/// True when `level` passes `filter`.
constexpr bool LevelEnabled(Level level, LevelFilter filter) noexcept {
  return static_cast<uint8_t>(level) >= static_cast<uint8_t>(filter);
}

/// The filter that lets `level` and everything more severe through.
constexpr LevelFilter ToFilter(Level level) noexcept { return static_cast<LevelFilter>(level); }

/// "TRACE", "DEBUG", "INFO", "WARN", "ERROR".
constexpr std::string_view ToString(Level level) noexcept {
  switch (level) {
    case Level::kTrace:
      return "TRACE";
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

/// "trace" … "error", "off".
std::string_view ToString(LevelFilter filter) noexcept;

/// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "off", case-insensitive.
/// Errors: returns nullopt for anything else.
std::optional<LevelFilter> ParseLevelFilter(std::string_view text) noexcept;

}  // namespace vllora

// Compile-time filter: callsites more verbose than this are removed entirely. Define it to one of
// VLLORA_LEVEL_* before including any vllora header (or with -D), e.g. -DVLLORA_STATIC_MAX_LEVEL=2
// keeps INFO and above.
#define VLLORA_LEVEL_TRACE 0
#define VLLORA_LEVEL_DEBUG 1
#define VLLORA_LEVEL_INFO 2
#define VLLORA_LEVEL_WARN 3
#define VLLORA_LEVEL_ERROR 4
#define VLLORA_LEVEL_OFF 5
#ifndef VLLORA_STATIC_MAX_LEVEL
#define VLLORA_STATIC_MAX_LEVEL VLLORA_LEVEL_TRACE
#endif

namespace vllora {
/// False when VLLORA_STATIC_MAX_LEVEL removes callsites at `level`.
constexpr bool StaticallyEnabled(Level level) noexcept {
#if VLLORA_STATIC_MAX_LEVEL > 0
  return static_cast<int>(level) >= VLLORA_STATIC_MAX_LEVEL;
#else
  (void)level;
  return true;
#endif
}
}  // namespace vllora
