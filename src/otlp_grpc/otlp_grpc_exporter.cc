#include "vllora/otlp/otlp_grpc_exporter.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otlp/otlp_env.h"
#include "otlp/otlp_recordable.h"
#include "otlp_grpc/otlp_grpc_endpoint.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otlp {
namespace {

using internal::otlp_collector::ExportTraceServiceRequest;
using internal::otlp_collector::ExportTraceServiceResponse;
using internal::otlp_collector::TraceService;
using SteadyClock = std::chrono::steady_clock;

// At most one diagnostic per kind per interval, so a collector that is down for an hour does not
// flood the diagnostic handler (a batch processor exports every few seconds).
constexpr std::chrono::seconds kLogInterval{10};

class LogLimiter {
 public:
  /// True if a message may be emitted now; then `*suppressed` is the number of messages
  /// skipped since the previous one.
  bool Allow(uint64_t* suppressed) noexcept {
    const int64_t now = SteadyClock::now().time_since_epoch().count();
    // Relaxed: this only thins out log lines; no other memory depends on it.
    int64_t next = next_allowed_.load(std::memory_order_relaxed);
    const int64_t interval =
        std::chrono::duration_cast<SteadyClock::duration>(kLogInterval).count();
    if (now < next ||
        !next_allowed_.compare_exchange_strong(next, now + interval, std::memory_order_relaxed)) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    *suppressed = skipped_.exchange(0, std::memory_order_relaxed);
    return true;
  }

 private:
  std::atomic<int64_t> next_allowed_{std::numeric_limits<int64_t>::min()};
  std::atomic<uint64_t> skipped_{0};
};

bool IsRetryable(grpc::StatusCode code) noexcept {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

const char* StatusCodeName(grpc::StatusCode code) noexcept {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

// Backoff with "equal jitter": uniform in [backoff / 2, backoff], so concurrent exporters that
// failed together do not retry together, while the wait still grows with each attempt.
std::chrono::milliseconds Jittered(double backoff_ms) noexcept {
  thread_local std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(
      std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
      static_cast<size_t>(SteadyClock::now().time_since_epoch().count())));
  std::uniform_real_distribution<double> unit(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(backoff_ms * unit(rng)));
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return false;
  *out = buffer.str();
  return true;
}

void Emit(otel::DiagnosticLevel level, const std::string& message) noexcept {
  otel::EmitDiagnostic(level, message);
}

}  // namespace

struct OtlpGrpcExporter::Impl {
  OtlpGrpcExporterOptions options;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<TraceService::Stub> stub;

  // Guards `shutdown_requested` transitions and `in_flight`; `cv` wakes retry waits on
  // Shutdown().
  std::mutex mu;
  std::condition_variable cv;
  std::vector<grpc::ClientContext*> in_flight;
  std::atomic<bool> shutdown{false};

  // Relaxed counters: each is an independent statistic, read as a snapshot.
  std::atomic<uint64_t> exported_spans{0};
  std::atomic<uint64_t> failed_spans{0};
  std::atomic<uint64_t> rejected_spans{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> export_calls{0};

  LogLimiter failure_log;
  LogLimiter partial_log;

  // Adds `context` to the calls Shutdown() cancels; false if already shut down.
  bool Register(grpc::ClientContext* context) {
    std::lock_guard<std::mutex> lock(mu);
    if (shutdown.load(std::memory_order_relaxed)) return false;
    in_flight.push_back(context);
    return true;
  }

  void Unregister(grpc::ClientContext* context) {
    std::lock_guard<std::mutex> lock(mu);
    in_flight.erase(std::remove(in_flight.begin(), in_flight.end(), context), in_flight.end());
  }

  // Sleeps until `until` unless Shutdown() comes first; returns false if it did.
  bool SleepUnlessShutdown(SteadyClock::time_point until) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_until(lock, until, [this] { return shutdown.load(std::memory_order_relaxed); });
  }

  void OnPartialSuccess(const ExportTraceServiceResponse& response, uint64_t sent) {
    const auto& partial = response.partial_success();
    const int64_t rejected = std::max<int64_t>(partial.rejected_spans(), 0);
    const auto rejected_u = static_cast<uint64_t>(rejected);
    rejected_spans.fetch_add(rejected_u, std::memory_order_relaxed);
    exported_spans.fetch_add(sent - std::min(sent, rejected_u), std::memory_order_relaxed);
    if (rejected == 0 && partial.error_message().empty()) return;
    try {
      LogPartialSuccess(partial, rejected, sent);
    } catch (...) {
      // Out of memory while formatting a diagnostic: the spans were delivered; skip the message.
    }
  }

  void LogPartialSuccess(const internal::otlp_collector::ExportTracePartialSuccess& partial,
                         int64_t rejected, uint64_t sent) {
    uint64_t suppressed = 0;
    if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kWarn) ||
        !partial_log.Allow(&suppressed)) {
      return;
    }
    std::string message = "OTLP/gRPC receiver at " + target;
    if (rejected > 0) {
      message +=
          " rejected " + std::to_string(rejected) + " of " + std::to_string(sent) + " span(s)";
    } else {
      message += " accepted all spans with a warning";
    }
    if (!partial.error_message().empty()) message += ": " + partial.error_message();
    if (suppressed > 0) {
      message += " (" + std::to_string(suppressed) + " similar message(s) suppressed)";
    }
    Emit(otel::DiagnosticLevel::kWarn, message);
  }

  void OnFailure(const grpc::Status& status, int attempts, uint64_t spans) {
    failed_spans.fetch_add(spans, std::memory_order_relaxed);
    try {
      LogFailure(status, attempts, spans);
    } catch (...) {
      // Out of memory while formatting a diagnostic: the failure is already counted.
    }
  }

  void LogFailure(const grpc::Status& status, int attempts, uint64_t spans) {
    uint64_t suppressed = 0;
    if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kError) ||
        !failure_log.Allow(&suppressed)) {
      return;
    }
    std::string message = "OTLP/gRPC export to " + target + " failed after " +
                          std::to_string(attempts) +
                          " attempt(s): " + StatusCodeName(status.error_code());
    if (!status.error_message().empty()) message += ": " + status.error_message();
    message += "; dropped " + std::to_string(spans) + " span(s)";
    if (suppressed > 0) {
      message += " (" + std::to_string(suppressed) + " similar message(s) suppressed)";
    }
    Emit(otel::DiagnosticLevel::kError, message);
  }

  otel::ExportResult Send(std::span<std::unique_ptr<otel::SpanData>> batch, uint64_t count) {
    const SteadyClock::time_point deadline = SteadyClock::now() + options.timeout;
    ExportTraceServiceRequest request;
    internal::AppendToRequest(
        std::span<const std::unique_ptr<otel::SpanData>>(batch.data(), batch.size()), request);

    double backoff_ms = static_cast<double>(options.initial_backoff.count());
    const auto max_backoff_ms = static_cast<double>(options.max_backoff.count());
    grpc::Status status;
    int attempt = 0;
    while (true) {
      ++attempt;
      const SteadyClock::duration remaining = deadline - SteadyClock::now();
      if (remaining <= SteadyClock::duration::zero()) {
        status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "export timeout elapsed");
        break;
      }
      grpc::ClientContext context;
      // gRPC takes deadlines on the system clock; derive it from the steady remaining time.
      context.set_deadline(
          std::chrono::system_clock::now() +
          std::chrono::duration_cast<std::chrono::system_clock::duration>(remaining));
      for (const auto& [key, value] : headers) context.AddMetadata(key, value);
      if (options.gzip) context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
      if (!Register(&context)) {
        status = grpc::Status(grpc::StatusCode::CANCELLED, "exporter was shut down");
        break;
      }
      ExportTraceServiceResponse response;
      status = stub->Export(&context, request, &response);
      Unregister(&context);
      if (status.ok()) {
        OnPartialSuccess(response, count);
        return otel::ExportResult::kSuccess;
      }
      if (shutdown.load(std::memory_order_acquire) || !IsRetryable(status.error_code()) ||
          attempt >= options.max_attempts) {
        break;
      }
      const std::chrono::milliseconds wait = Jittered(backoff_ms);
      const SteadyClock::time_point wake = SteadyClock::now() + wait;
      // Never sleep past the deadline: a retry that cannot start in time is not worth waiting for.
      if (wake >= deadline) break;
      retries.fetch_add(1, std::memory_order_relaxed);
      if (!SleepUnlessShutdown(wake)) {
        status = grpc::Status(grpc::StatusCode::CANCELLED, "exporter was shut down");
        break;
      }
      backoff_ms = std::min(backoff_ms * options.backoff_multiplier, max_backoff_ms);
    }
    OnFailure(status, attempt, count);
    return otel::ExportResult::kFailure;
  }
};

OtlpGrpcExporterOptions OtlpGrpcExporterOptions::FromEnv() {
  OtlpGrpcExporterOptions options;
  if (auto env = internal::GetTracesEnv("ENDPOINT")) {
    std::string why;
    if (internal::ParseGrpcEndpoint(env->value, true, &why)) {
      options.endpoint = std::string(internal::TrimSpaces(env->value));
    } else {
      internal::WarnInvalidEnv(*env, why, "\"" + options.endpoint + "\"");
    }
  }
  if (auto env = internal::GetTracesEnv("HEADERS")) {
    bool had_invalid = false;
    options.headers = internal::ParseHeaderList(env->value, &had_invalid);
    if (had_invalid) {
      internal::WarnInvalidEnv(*env, "entries must be key=value", "the valid entries only");
    }
  }
  if (auto env = internal::GetTracesEnv("TIMEOUT")) {
    if (auto timeout = internal::ParseTimeoutMillis(env->value)) {
      options.timeout = *timeout;
    } else {
      internal::WarnInvalidEnv(*env, "expected a positive number of milliseconds",
                               std::to_string(options.timeout.count()) + " ms");
    }
  }
  if (auto env = internal::GetTracesEnv("COMPRESSION")) {
    const std::string value = internal::AsciiLower(internal::TrimSpaces(env->value));
    if (value == "gzip") {
      options.gzip = true;
    } else if (value == "none") {
      options.gzip = false;
    } else {
      internal::WarnInvalidEnv(*env, "expected gzip or none", "none");
    }
  }
  if (auto env = internal::GetTracesEnv("CERTIFICATE")) options.ca_cert_path = env->value;
  if (auto env = internal::GetTracesEnv("CLIENT_CERTIFICATE")) {
    options.client_cert_path = env->value;
  }
  if (auto env = internal::GetTracesEnv("CLIENT_KEY")) options.client_key_path = env->value;
  if (auto env = internal::GetTracesEnv("INSECURE")) {
    if (auto insecure = internal::ParseBool(env->value)) {
      options.insecure = *insecure;
    } else {
      internal::WarnInvalidEnv(*env, "expected true or false", "false");
    }
  }
  return options;
}

OtlpGrpcExporter::OtlpGrpcExporter(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

OtlpGrpcExporter::~OtlpGrpcExporter() {
  if (impl_) Shutdown(SteadyClock::now());
}

std::unique_ptr<OtlpGrpcExporter> OtlpGrpcExporter::Create(const OtlpGrpcExporterOptions& options,
                                                           std::string* error) noexcept {
  const auto fail = [error](std::string message) -> std::unique_ptr<OtlpGrpcExporter> {
    if (error != nullptr) *error = std::move(message);
    return nullptr;
  };
  try {
    if (options.timeout <= std::chrono::milliseconds::zero()) {
      return fail("OTLP gRPC exporter timeout must be positive");
    }
    if (options.max_attempts < 1) return fail("OTLP gRPC exporter max_attempts must be >= 1");
    if (options.initial_backoff < std::chrono::milliseconds::zero() ||
        options.max_backoff < options.initial_backoff) {
      return fail("OTLP gRPC exporter backoff must satisfy 0 <= initial_backoff <= max_backoff");
    }
    if (!(options.backoff_multiplier >= 1.0)) {
      return fail("OTLP gRPC exporter backoff_multiplier must be >= 1");
    }
    std::string why;
    const std::optional<internal::GrpcTarget> target =
        internal::ParseGrpcEndpoint(options.endpoint, options.insecure, &why);
    if (!target) return fail(why);

    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->target = target->target;
    for (const auto& [raw_key, value] : options.headers) {
      std::string key = internal::AsciiLower(raw_key);
      if (!internal::IsValidMetadataKey(key) || !internal::IsValidMetadataValue(key, value)) {
        Emit(otel::DiagnosticLevel::kWarn,
             "OTLP gRPC exporter: dropping header \"" + raw_key +
                 "\": not valid gRPC metadata (keys: [0-9a-z_.-], not grpc-*; values: printable "
                 "ASCII)");
        continue;
      }
      impl->headers.emplace_back(std::move(key), value);
    }

    std::shared_ptr<grpc::ChannelCredentials> credentials;
    if (target->use_tls) {
      grpc::SslCredentialsOptions ssl;
      if (!options.ca_cert_path.empty() && !ReadFile(options.ca_cert_path, &ssl.pem_root_certs)) {
        return fail("cannot read OTLP CA certificate file \"" + options.ca_cert_path + "\"");
      }
      if (!options.client_cert_path.empty() &&
          !ReadFile(options.client_cert_path, &ssl.pem_cert_chain)) {
        return fail("cannot read OTLP client certificate file \"" + options.client_cert_path +
                    "\"");
      }
      if (!options.client_key_path.empty() &&
          !ReadFile(options.client_key_path, &ssl.pem_private_key)) {
        return fail("cannot read OTLP client key file \"" + options.client_key_path + "\"");
      }
      credentials = grpc::SslCredentials(ssl);
    } else {
      credentials = grpc::InsecureChannelCredentials();
    }

    grpc::ChannelArguments args;
    args.SetUserAgentPrefix(std::string("vllora-telemetry-cpp/") + otel::kSdkVersion);
    // We retry ourselves (with the OTLP rules and our deadline); gRPC's own retries would
    // multiply the attempts.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    // Reconnect no slower than we retry, so a receiver that comes back is used by the next
    // attempt instead of after gRPC's default backoff (up to 120 s).
    const int reconnect_min_ms =
        static_cast<int>(std::clamp<int64_t>(options.initial_backoff.count(), 100, 10000));
    const int reconnect_max_ms =
        static_cast<int>(std::clamp<int64_t>(options.max_backoff.count(), reconnect_min_ms, 30000));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, reconnect_min_ms);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, reconnect_min_ms);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_max_ms);
    impl->channel = grpc::CreateCustomChannel(impl->target, credentials, args);
    if (!impl->channel) return fail("cannot create a gRPC channel to " + impl->target);
    impl->stub = TraceService::NewStub(impl->channel);
    return std::unique_ptr<OtlpGrpcExporter>(new OtlpGrpcExporter(std::move(impl)));
  } catch (const std::exception& e) {
    return fail(std::string("cannot create the OTLP gRPC exporter: ") + e.what());
  } catch (...) {
    return fail("cannot create the OTLP gRPC exporter");
  }
}

otel::ExportResult OtlpGrpcExporter::Export(
    std::span<std::unique_ptr<otel::SpanData>> batch) noexcept {
  Impl& s = *impl_;
  uint64_t count = 0;
  for (const auto& span : batch) {
    if (span) ++count;
  }
  if (count == 0) return otel::ExportResult::kSuccess;
  s.export_calls.fetch_add(1, std::memory_order_relaxed);
  if (s.shutdown.load(std::memory_order_acquire)) {
    s.failed_spans.fetch_add(count, std::memory_order_relaxed);
    return otel::ExportResult::kFailure;
  }
  try {
    return s.Send(batch, count);
  } catch (...) {
    // Only std::bad_alloc can get here (building the request); gRPC itself does not throw.
    s.failed_spans.fetch_add(count, std::memory_order_relaxed);
    return otel::ExportResult::kFailure;
  }
}

bool OtlpGrpcExporter::ForceFlush(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  return true;
}

bool OtlpGrpcExporter::Shutdown(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shutdown.store(true, std::memory_order_release);
    for (grpc::ClientContext* context : s.in_flight) context->TryCancel();
  }
  s.cv.notify_all();
  return true;
}

OtlpExporterStats OtlpGrpcExporter::Stats() const noexcept {
  const Impl& s = *impl_;
  OtlpExporterStats stats;
  stats.exported_spans = s.exported_spans.load(std::memory_order_relaxed);
  stats.failed_spans = s.failed_spans.load(std::memory_order_relaxed);
  stats.rejected_spans = s.rejected_spans.load(std::memory_order_relaxed);
  stats.retries = s.retries.load(std::memory_order_relaxed);
  stats.export_calls = s.export_calls.load(std::memory_order_relaxed);
  return stats;
}

const std::string& OtlpGrpcExporter::target() const noexcept { return impl_->target; }

std::unique_ptr<otel::SpanExporter> MakeOtlpGrpcExporter(const OtlpGrpcExporterOptions& options,
                                                         std::string* error) noexcept {
  return OtlpGrpcExporter::Create(options, error);
}

}  // namespace vllora::otlp
