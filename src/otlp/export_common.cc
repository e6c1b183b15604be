#include "otlp/export_common.h"

#include <functional>
#include <random>
#include <thread>

#include "vllora/otel/diagnostics.h"

namespace vllora::otlp::internal {
namespace {

constexpr std::chrono::seconds kLogInterval{10};

std::string SuppressedSuffix(uint64_t suppressed) {
  if (suppressed == 0) return {};
  return " (" + std::to_string(suppressed) + " similar message(s) suppressed)";
}

bool ReadVarint(std::string_view& in, uint64_t* out) noexcept {
  uint64_t value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *out = value;
      return true;
    }
  }
  return false;
}

// One field of a message: its number, wire type, and the varint value or the bytes.
struct Field {
  uint64_t number = 0;
  uint64_t wire_type = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

// Reads the next field; false at the end or on malformed input (`*ok` tells which).
bool NextField(std::string_view& in, Field* field, bool* ok) noexcept {
  *ok = true;
  if (in.empty()) return false;
  uint64_t tag = 0;
  *ok = false;
  if (!ReadVarint(in, &tag)) return false;
  field->number = tag >> 3;
  field->wire_type = tag & 7;
  switch (field->wire_type) {
    case 0:
      if (!ReadVarint(in, &field->varint)) return false;
      break;
    case 1:
      if (in.size() < 8) return false;
      in.remove_prefix(8);
      break;
    case 2: {
      uint64_t length = 0;
      if (!ReadVarint(in, &length) || length > in.size()) return false;
      field->bytes = in.substr(0, length);
      in.remove_prefix(length);
      break;
    }
    case 5:
      if (in.size() < 4) return false;
      in.remove_prefix(4);
      break;
    default:
      return false;
  }
  *ok = true;
  return true;
}

// google.protobuf.Duration {int64 seconds = 1; int32 nanos = 2;} inside google.rpc.RetryInfo
// {Duration retry_delay = 1;}.
std::optional<std::chrono::milliseconds> ParseRetryInfo(std::string_view in) noexcept {
  Field field;
  bool ok = true;
  while (NextField(in, &field, &ok)) {
    if (field.number != 1 || field.wire_type != 2) continue;
    std::string_view duration = field.bytes;
    int64_t seconds = 0;
    int64_t nanos = 0;
    Field inner;
    while (NextField(duration, &inner, &ok)) {
      if (inner.wire_type != 0) continue;
      // Two's complement reinterpretation: protobuf encodes negative int64 as 10-byte varints.
      if (inner.number == 1) seconds = static_cast<int64_t>(inner.varint);
      if (inner.number == 2) nanos = static_cast<int32_t>(inner.varint);
    }
    if (!ok || seconds < 0 || nanos < 0 || seconds > 24 * 3600) return std::nullopt;
    return std::chrono::milliseconds(seconds * 1000 + nanos / 1000000);
  }
  return std::nullopt;
}

}  // namespace

bool LogLimiter::Allow(uint64_t* suppressed) noexcept {
  const int64_t now = SteadyClock::now().time_since_epoch().count();
  // Relaxed: this only thins out log lines; no other memory depends on it.
  int64_t next = next_allowed_.load(std::memory_order_relaxed);
  const int64_t interval = std::chrono::duration_cast<SteadyClock::duration>(kLogInterval).count();
  if (now < next ||
      !next_allowed_.compare_exchange_strong(next, now + interval, std::memory_order_relaxed)) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  *suppressed = skipped_.exchange(0, std::memory_order_relaxed);
  return true;
}

void ExportCounters::Snapshot(OtlpExporterStats* out) const noexcept {
  out->exported_spans = exported_spans.load(std::memory_order_relaxed);
  out->failed_spans = failed_spans.load(std::memory_order_relaxed);
  out->rejected_spans = rejected_spans.load(std::memory_order_relaxed);
  out->retries = retries.load(std::memory_order_relaxed);
  out->export_calls = export_calls.load(std::memory_order_relaxed);
}

bool ShutdownSignal::SleepUntil(SteadyClock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_until(lock, until, [this] { return flag_.load(std::memory_order_relaxed); });
}

std::string RetryPolicy::Check(std::string_view what) const {
  const std::string name(what);
  if (timeout <= std::chrono::milliseconds::zero()) return name + " timeout must be positive";
  if (max_attempts < 1) return name + " max_attempts must be >= 1";
  if (initial_backoff < std::chrono::milliseconds::zero() || max_backoff < initial_backoff) {
    return name + " backoff must satisfy 0 <= initial_backoff <= max_backoff";
  }
  if (!(backoff_multiplier >= 1.0)) return name + " backoff_multiplier must be >= 1";
  return {};
}

std::chrono::milliseconds Jittered(double backoff_ms) noexcept {
  thread_local std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(
      std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
      static_cast<size_t>(SteadyClock::now().time_since_epoch().count())));
  std::uniform_real_distribution<double> unit(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(backoff_ms * unit(rng)));
}

void OnAccepted(ExportCounters& counters, LogLimiter& limiter, std::string_view where,
                uint64_t sent, int64_t rejected, std::string_view error_message) noexcept {
  const auto rejected_u = static_cast<uint64_t>(std::max<int64_t>(rejected, 0));
  counters.rejected_spans.fetch_add(rejected_u, std::memory_order_relaxed);
  counters.exported_spans.fetch_add(sent - std::min(sent, rejected_u), std::memory_order_relaxed);
  if (rejected_u == 0 && error_message.empty()) return;
  uint64_t suppressed = 0;
  if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kWarn) || !limiter.Allow(&suppressed)) {
    return;
  }
  try {
    std::string message(where);
    if (rejected_u > 0) {
      message +=
          " rejected " + std::to_string(rejected_u) + " of " + std::to_string(sent) + " span(s)";
    } else {
      message += " accepted all spans with a warning";
    }
    if (!error_message.empty()) message.append(": ").append(error_message);
    message += SuppressedSuffix(suppressed);
    otel::EmitDiagnostic(otel::DiagnosticLevel::kWarn, message);
  } catch (...) {
    // Out of memory while formatting a diagnostic: the spans were delivered; skip the message.
  }
}

void OnFailed(ExportCounters& counters, LogLimiter& limiter, std::string_view what, int attempts,
              std::string_view why, uint64_t spans) noexcept {
  counters.failed_spans.fetch_add(spans, std::memory_order_relaxed);
  uint64_t suppressed = 0;
  if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kError) || !limiter.Allow(&suppressed)) {
    return;
  }
  try {
    std::string message(what);
    message += " failed after " + std::to_string(attempts) + " attempt(s): ";
    message.append(why);
    message += "; dropped " + std::to_string(spans) + " span(s)" + SuppressedSuffix(suppressed);
    otel::EmitDiagnostic(otel::DiagnosticLevel::kError, message);
  } catch (...) {
    // Out of memory while formatting a diagnostic: the failure is already counted.
  }
}

std::optional<RpcStatusInfo> ParseRpcStatus(std::string_view bytes) {
  // google.rpc.Status {int32 code = 1; string message = 2; repeated google.protobuf.Any
  // details = 3;}, Any {string type_url = 1; bytes value = 2;}.
  constexpr std::string_view kRetryInfoType = "type.googleapis.com/google.rpc.RetryInfo";
  RpcStatusInfo info;
  Field field;
  bool ok = true;
  bool any = false;
  while (NextField(bytes, &field, &ok)) {
    any = true;
    if (field.number == 2 && field.wire_type == 2) {
      info.message = std::string(field.bytes);
    } else if (field.number == 3 && field.wire_type == 2) {
      std::string_view detail = field.bytes;
      std::string_view type_url;
      std::string_view value;
      Field inner;
      bool inner_ok = true;
      while (NextField(detail, &inner, &inner_ok)) {
        if (inner.wire_type != 2) continue;
        if (inner.number == 1) type_url = inner.bytes;
        if (inner.number == 2) value = inner.bytes;
      }
      if (inner_ok && type_url == kRetryInfoType) info.retry_delay = ParseRetryInfo(value);
    } else if (field.wire_type == 1 || field.wire_type == 5) {
      return std::nullopt;  // Status has no fixed-width fields: not a Status
    }
  }
  if (!ok || !any) return std::nullopt;
  return info;
}

}  // namespace vllora::otlp::internal
