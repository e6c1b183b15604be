// Private: what the OTLP/gRPC and OTLP/HTTP exporters share around their transport: the
// Export() wrapper (span count, counters, fast failure after Shutdown(), catch-all), the retry
// loop (jittered exponential backoff, server-requested delays, deadline, shutdown wake-up),
// partial-success and failure accounting with rate-limited diagnostics, option validation, and
// the few protobuf fields read by hand from error answers (google.rpc.Status, RetryInfo).
// Each transport supplies only "make one attempt" and its error text.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "otlp/otlp_env.h"
#include "vllora/otel/exporter.h"
#include "vllora/otlp/otlp_grpc_exporter.h"

namespace vllora::otlp::internal {

using SteadyClock = std::chrono::steady_clock;

/// At most one diagnostic per interval (10 s) per kind, so a receiver that is down for an hour
/// does not flood the diagnostic handler. Thread-safety: lock-free; any thread.
class LogLimiter {
 public:
  /// True if a message may be emitted now; then `*suppressed` is the number of messages
  /// skipped since the previous one.
  bool Allow(uint64_t* suppressed) noexcept;

 private:
  std::atomic<int64_t> next_allowed_{std::numeric_limits<int64_t>::min()};
  std::atomic<uint64_t> skipped_{0};
};

/// The counters of OtlpExporterStats. Relaxed atomics: each is an independent statistic, read
/// as a snapshot.
struct ExportCounters {
  std::atomic<uint64_t> exported_spans{0};
  std::atomic<uint64_t> failed_spans{0};
  std::atomic<uint64_t> rejected_spans{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> export_calls{0};

  void Snapshot(OtlpExporterStats* out) const noexcept;
};

/// Shutdown flag plus the mutex/condition variable that wake a retry wait.
class ShutdownSignal {
 public:
  bool requested() const noexcept { return flag_.load(std::memory_order_acquire); }
  /// Sets the flag, runs `under_lock` (e.g. cancel calls in flight) with the mutex held, wakes
  /// sleepers.
  template <class F>
  void Trigger(F&& under_lock) noexcept {
    {
      std::lock_guard<std::mutex> lock(mu_);
      flag_.store(true, std::memory_order_release);
      under_lock();
    }
    cv_.notify_all();
  }
  /// Runs `fn` with the mutex held unless shut down; false if shut down.
  template <class F>
  bool RunUnlessShutdown(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (flag_.load(std::memory_order_relaxed)) return false;
    fn();
    return true;
  }
  /// Runs `fn` with the mutex held.
  template <class F>
  void WithLock(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    fn();
  }
  /// Sleeps until `until` unless shut down first; false if it was.
  bool SleepUntil(SteadyClock::time_point until);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> flag_{false};
};

/// Retry settings, copied from either exporter's options.
struct RetryPolicy {
  std::chrono::milliseconds timeout{10000};
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  double backoff_multiplier = 1.5;

  template <class Options>
  static RetryPolicy From(const Options& options) noexcept {
    return RetryPolicy{options.timeout, options.max_attempts, options.initial_backoff,
                       options.max_backoff, options.backoff_multiplier};
  }
  /// "" if valid, else why not; `what` names the exporter ("OTLP gRPC exporter").
  std::string Check(std::string_view what) const;
};

/// Backoff with "equal jitter": uniform in [backoff / 2, backoff], so exporters that failed
/// together do not retry together, while the wait still grows with each attempt.
std::chrono::milliseconds Jittered(double backoff_ms) noexcept;

/// Applies the OTEL_EXPORTER_OTLP_[TRACES_]{HEADERS, TIMEOUT, COMPRESSION, CERTIFICATE,
/// CLIENT_CERTIFICATE, CLIENT_KEY} variables that both exporters' options share (see
/// OtlpGrpcExporterOptions::FromEnv() for the rules).
template <class Options>
void ReadCommonEnv(Options& options) {
  if (auto env = GetTracesEnv("HEADERS")) {
    bool had_invalid = false;
    options.headers = ParseHeaderList(env->value, &had_invalid);
    if (had_invalid) {
      WarnInvalidSecretEnv(*env, "entries must be key=value", "the valid entries only");
    }
  }
  if (auto env = GetTracesEnv("TIMEOUT")) {
    if (auto timeout = ParseTimeoutMillis(env->value)) {
      options.timeout = *timeout;
    } else {
      WarnInvalidEnv(*env, "expected a positive number of milliseconds",
                     std::to_string(options.timeout.count()) + " ms");
    }
  }
  if (auto env = GetTracesEnv("COMPRESSION")) {
    const std::string value = AsciiLower(TrimSpaces(env->value));
    if (value == "gzip") {
      options.gzip = true;
    } else if (value == "none") {
      options.gzip = false;
    } else {
      WarnInvalidEnv(*env, "expected gzip or none", "none");
    }
  }
  if (auto env = GetTracesEnv("CERTIFICATE")) options.ca_cert_path = env->value;
  if (auto env = GetTracesEnv("CLIENT_CERTIFICATE")) {
    options.client_cert_path = env->value;
  }
  if (auto env = GetTracesEnv("CLIENT_KEY")) options.client_key_path = env->value;
}

/// What one attempt came to.
struct AttemptResult {
  enum Outcome { kSuccess, kRetryable, kPermanent } outcome = kPermanent;
  /// A delay the server asked for (Retry-After, RetryInfo); replaces the jittered backoff.
  std::optional<std::chrono::milliseconds> retry_after;
};

/// How a sequence of attempts ended.
struct RetryOutcome {
  bool success = false;
  int attempts = 0;
  /// Set when no (further) attempt was made for a reason of our own; "" when the last attempt's
  /// own error is the reason.
  std::string_view stop_reason;
};

inline constexpr std::string_view kStopTimeout = "export timeout elapsed";
inline constexpr std::string_view kStopShutdown = "exporter was shut down";
inline constexpr std::string_view kStopNoTime = "no time left for a retry";

/// Runs `attempt(remaining)` until it succeeds, fails permanently, max_attempts is reached, the
/// next try could not start before `deadline`, or `shutdown` is requested. Counts retries.
template <class AttemptFn>
RetryOutcome RunWithRetries(const RetryPolicy& policy, SteadyClock::time_point deadline,
                            ShutdownSignal& shutdown, ExportCounters& counters,
                            AttemptFn&& attempt) {
  double backoff_ms = static_cast<double>(policy.initial_backoff.count());
  const auto max_backoff_ms = static_cast<double>(policy.max_backoff.count());
  RetryOutcome out;
  while (true) {
    const SteadyClock::duration remaining = deadline - SteadyClock::now();
    if (remaining <= SteadyClock::duration::zero()) {
      out.stop_reason = kStopTimeout;
      return out;
    }
    if (shutdown.requested()) {
      out.stop_reason = kStopShutdown;
      return out;
    }
    ++out.attempts;
    const AttemptResult result = attempt(remaining);
    if (result.outcome == AttemptResult::kSuccess) {
      out.success = true;
      return out;
    }
    out.stop_reason = {};
    if (result.outcome == AttemptResult::kPermanent || out.attempts >= policy.max_attempts) {
      return out;
    }
    // A retry was due, but Shutdown() came during the attempt: that is why there is none.
    if (shutdown.requested()) {
      out.stop_reason = kStopShutdown;
      return out;
    }
    const std::chrono::milliseconds wait = result.retry_after.value_or(Jittered(backoff_ms));
    const SteadyClock::time_point wake = SteadyClock::now() + wait;
    // Never sleep past the deadline: a retry that cannot start in time is not worth waiting for.
    if (wake >= deadline) {
      out.stop_reason = kStopNoTime;
      return out;
    }
    counters.retries.fetch_add(1, std::memory_order_relaxed);
    if (!shutdown.SleepUntil(wake)) {
      out.stop_reason = kStopShutdown;
      return out;
    }
    backoff_ms = std::min(backoff_ms * policy.backoff_multiplier, max_backoff_ms);
  }
}

/// The Export() wrapper both exporters share: counts the non-null spans (an empty batch is a
/// success), counts the call, fails fast after Shutdown(), and turns anything thrown by
/// `send(count)` (std::bad_alloc while encoding) into a counted failure.
/// The spans in `batch` that are not null (exporters skip null entries).
inline uint64_t CountSpans(std::span<const std::unique_ptr<otel::SpanData>> batch) noexcept {
  uint64_t count = 0;
  for (const auto& span : batch) count += span != nullptr ? 1 : 0;
  return count;
}

template <class SendFn>
otel::ExportResult GuardedExport(std::span<std::unique_ptr<otel::SpanData>> batch,
                                 ExportCounters& counters, const ShutdownSignal& shutdown,
                                 SendFn&& send) noexcept {
  const uint64_t count = CountSpans(batch);
  if (count == 0) return otel::ExportResult::kSuccess;
  counters.export_calls.fetch_add(1, std::memory_order_relaxed);
  if (shutdown.requested()) {
    counters.failed_spans.fetch_add(count, std::memory_order_relaxed);
    return otel::ExportResult::kFailure;
  }
  try {
    return send(count);
  } catch (...) {
    counters.failed_spans.fetch_add(count, std::memory_order_relaxed);
    return otel::ExportResult::kFailure;
  }
}

/// Accounts an accepted request of `sent` spans of which the receiver rejected `rejected`, and
/// reports a rejection or warning (rate-limited by `limiter`). `where` reads like
/// "OTLP/gRPC receiver at localhost:4317". Never throws.
void OnAccepted(ExportCounters& counters, LogLimiter& limiter, std::string_view where,
                uint64_t sent, int64_t rejected, std::string_view error_message) noexcept;

/// Accounts `spans` dropped after `attempts` and reports it (rate-limited). `what` reads like
/// "OTLP/gRPC export to localhost:4317". Never throws.
void OnFailed(ExportCounters& counters, LogLimiter& limiter, std::string_view what, int attempts,
              std::string_view why, uint64_t spans) noexcept;

/// Fields of a protobuf-encoded google.rpc.Status (the error body of OTLP/HTTP, the
/// grpc-status-details-bin trailer of gRPC) that the exporters use.
struct RpcStatusInfo {
  std::optional<std::string> message;
  /// google.rpc.RetryInfo.retry_delay, when one of the details is a RetryInfo.
  std::optional<std::chrono::milliseconds> retry_delay;
};

/// Parses what it can of a google.rpc.Status; nullopt if `bytes` is not one.
std::optional<RpcStatusInfo> ParseRpcStatus(std::string_view bytes);

}  // namespace vllora::otlp::internal
