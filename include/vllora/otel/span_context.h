// SpanContext: the propagated identity of a span (trace id, span id, flags, tracestate).
//
// This is what crosses process boundaries (see propagation.h) and what a child span needs from
// its parent (see context.h and tracer.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "vllora/otel/ids.h"

namespace vllora::otel {

/// W3C trace-flags bits.
enum class TraceFlags : uint8_t { kNone = 0, kSampled = 1 };

/// Immutable identity of a span. Default-constructed = invalid.
/// Thread-safety: immutable; safe to share between threads.
class SpanContext {
 public:
  SpanContext() = default;
  /// Allocation: only if `trace_state` does not fit the small-string buffer.
  SpanContext(TraceId trace_id, SpanId span_id, uint8_t trace_flags, bool is_remote,
              std::string trace_state = {})
      : trace_id_(trace_id),
        span_id_(span_id),
        trace_flags_(trace_flags),
        is_remote_(is_remote),
        // The empty case skips the move: moving a short string is a libc memcpy call.
        trace_state_(trace_state.empty() ? std::string() : std::move(trace_state)) {}

  const TraceId& trace_id() const noexcept { return trace_id_; }
  const SpanId& span_id() const noexcept { return span_id_; }
  /// Raw W3C trace-flags byte.
  uint8_t trace_flags() const noexcept { return trace_flags_; }
  /// True when the sampled flag is set.
  bool IsSampled() const noexcept {
    return (trace_flags_ & static_cast<uint8_t>(TraceFlags::kSampled)) != 0;
  }
  /// True when this context was extracted from a remote process.
  bool IsRemote() const noexcept { return is_remote_; }
  /// True when both the trace id and span id are valid (non-zero).
  bool IsValid() const noexcept { return trace_id_.IsValid() && span_id_.IsValid(); }
  /// W3C tracestate header value ("" if none).
  const std::string& trace_state() const noexcept { return trace_state_; }

  bool operator==(const SpanContext&) const = default;

 private:
  TraceId trace_id_;
  SpanId span_id_;
  uint8_t trace_flags_ = 0;
  bool is_remote_ = false;
  std::string trace_state_;
};

}  // namespace vllora::otel
