#include "otel/env.h"

#include <charconv>
#include <cstdlib>
#include <string>

#include "vllora/otel/diagnostics.h"

namespace vllora::otel::internal {

std::optional<std::string_view> GetEnv(const char* name) noexcept {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string_view(value);
}

uint64_t EnvUint(const char* name, uint64_t fallback, uint64_t min_value,
                 uint64_t max_value) noexcept {
  std::optional<std::string_view> raw = GetEnv(name);
  if (!raw) return fallback;
  std::string_view text = *raw;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min_value ||
      value > max_value) {
    try {
      std::string message = "invalid value for ";
      message += name;
      message += ": \"";
      message += *raw;
      message += "\" (using default ";
      message += std::to_string(fallback);
      message += ")";
      EmitDiagnostic(DiagnosticLevel::kWarn, message);
    } catch (...) {
    }
    return fallback;
  }
  return value;
}

}  // namespace vllora::otel::internal
