// SpanContext: the propagated identity of a span (trace id, span id, flags, tracestate).
//
// This is what crosses process boundaries (see propagation.h) and what a child span needs from
// its parent (see context.h and tracer.h).
#pragma once

#include <cstdint>
#include <memory>
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
  /// A span context with no tracestate.
  SpanContext(TraceId trace_id, SpanId span_id, uint8_t trace_flags, bool is_remote) noexcept
      : trace_id_(trace_id), span_id_(span_id), trace_flags_(trace_flags), is_remote_(is_remote) {}
  /// Allocation: only for a non-empty `trace_state` (kept in one shared immutable string, so
  /// copies of the context share it; an empty one costs nothing to copy).
  SpanContext(TraceId trace_id, SpanId span_id, uint8_t trace_flags, bool is_remote,
              std::string trace_state)
      : trace_id_(trace_id),
        span_id_(span_id),
        trace_flags_(trace_flags),
        is_remote_(is_remote),
        trace_state_(trace_state.empty()
                         ? nullptr
                         : std::make_shared<const std::string>(std::move(trace_state))) {}

  /// A local span's identity that shares `parent`'s tracestate (no copy of its text).
  static SpanContext WithTraceStateOf(const SpanContext& parent, TraceId trace_id, SpanId span_id,
                                      uint8_t trace_flags) noexcept {
    SpanContext context(trace_id, span_id, trace_flags, false);
    context.trace_state_ = parent.trace_state_;
    return context;
  }

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
  const std::string& trace_state() const noexcept {
    return trace_state_ != nullptr ? *trace_state_ : EmptyTraceState();
  }
  /// True when trace_state() is not empty.
  bool HasTraceState() const noexcept { return trace_state_ != nullptr; }

  /// Equal ids, flags, remoteness and tracestate text.
  bool operator==(const SpanContext& other) const noexcept {
    return trace_id_ == other.trace_id_ && span_id_ == other.span_id_ &&
           trace_flags_ == other.trace_flags_ && is_remote_ == other.is_remote_ &&
           trace_state() == other.trace_state();
  }

 private:
  TraceId trace_id_;
  SpanId span_id_;
  uint8_t trace_flags_ = 0;
  bool is_remote_ = false;
  std::shared_ptr<const std::string> trace_state_;  // null when empty

  static const std::string& EmptyTraceState() noexcept;
};

}  // namespace vllora::otel
