// The registry's record of a live span (private to the subscriber module).
#pragma once

#include <array>
#include <cstddef>

#include "vllora/core/subscriber.h"
#include "vllora/subscriber/layer.h"

namespace vllora::internal {

struct SpanRecord : SpanNode {
  struct Extension {
    void* value;
    void (*deleter)(void*);
    alignas(void*) std::byte storage[kInlineExtensionBytes];  // for SpanRef::Emplace
  };
  SpanRecord* parent = nullptr;  // holds one reference
  uint64_t layer_mask = 0;       // bit i: layer i of the registry sees this span
  uint32_t extensions_set = 0;   // bit i: extensions[i] holds a value (others are unset)
  // Only the entries whose bit is set in extensions_set are initialised: a span usually has
  // one extension, and zeroing all of them on every span start showed in the profile.
  std::array<Extension, kMaxExtensions> extensions;
};

}  // namespace vllora::internal
