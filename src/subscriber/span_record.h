// The registry's record of a live span (private to the subscriber module).
#pragma once

#include <array>

#include "vllora/core/subscriber.h"
#include "vllora/subscriber/layer.h"

namespace vllora::internal {

struct SpanRecord : SpanNode {
  struct Extension {
    void* value = nullptr;
    void (*deleter)(void*) = nullptr;
  };
  SpanRecord* parent = nullptr;  // holds one reference
  uint64_t layer_mask = 0;       // bit i: layer i of the registry sees this span
  std::array<Extension, kMaxExtensions> extensions{};
};

}  // namespace vllora::internal
