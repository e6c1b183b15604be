// Private: environment-variable helpers shared by the option structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vllora::otel::internal {

/// The value of `name`, or nullopt when unset or empty.
std::optional<std::string_view> GetEnv(const char* name) noexcept;

/// Parses `name` as a decimal integer in [min_value, max_value]. Unset/empty -> `fallback`
/// silently; invalid -> one kWarn naming the variable and value, then `fallback`.
uint64_t EnvUint(const char* name, uint64_t fallback, uint64_t min_value,
                 uint64_t max_value) noexcept;

}  // namespace vllora::otel::internal
