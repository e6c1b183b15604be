// Attribute lists rendered as strings, so tests compare keys, types and values in one
// EXPECT_EQ.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vllora/otel/attributes.h"

namespace vllora::testing {

/// Every entry of `attrs`, in order, as "key=<type index>:<value>" (the index of the value's
/// AttributeValue alternative: 0 bool, 1 int64, 2 uint64, 3 double, 4 string). Doubles and
/// uint64 values render as an empty value; the type index still tells them apart.
inline std::vector<std::string> TypedAttributeStrings(const otel::Attributes& attrs) {
  std::vector<std::string> out;
  for (const otel::KeyValueView kv : attrs) {
    std::string value;
    if (const auto* s = std::get_if<std::string_view>(&kv.value)) value = std::string(*s);
    if (const auto* i = std::get_if<int64_t>(&kv.value)) value = std::to_string(*i);
    if (const auto* b = std::get_if<bool>(&kv.value)) value = *b ? "true" : "false";
    out.push_back(std::string(kv.key) + "=" + std::to_string(kv.value.index()) + ":" + value);
  }
  return out;
}

}  // namespace vllora::testing
