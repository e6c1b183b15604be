#include "vllora/core/level.h"

#include <cctype>
#include <string>

namespace vllora {

std::string_view ToString(LevelFilter filter) noexcept {
  switch (filter) {
    case LevelFilter::kTrace:
      return "trace";
    case LevelFilter::kDebug:
      return "debug";
    case LevelFilter::kInfo:
      return "info";
    case LevelFilter::kWarn:
      return "warn";
    case LevelFilter::kError:
      return "error";
    case LevelFilter::kOff:
      return "off";
  }
  return "?";
}

std::optional<LevelFilter> ParseLevelFilter(std::string_view text) noexcept {
  std::string lower;
  lower.reserve(text.size());
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "trace") return LevelFilter::kTrace;
  if (lower == "debug") return LevelFilter::kDebug;
  if (lower == "info") return LevelFilter::kInfo;
  if (lower == "warn" || lower == "warning") return LevelFilter::kWarn;
  if (lower == "error") return LevelFilter::kError;
  if (lower == "off") return LevelFilter::kOff;
  return std::nullopt;
}

}  // namespace vllora
