// Private: access to the thread's current context without a refcount round trip.
#pragma once

#include "vllora/otel/context.h"

namespace vllora::otel::internal {

/// The calling thread's current context (valid until the thread next attaches/detaches).
const Context& CurrentContextRef() noexcept;

}  // namespace vllora::otel::internal
