#include "vllora/otlp/otlp_grpc_exporter.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/export_common.h"
#include "otlp/otlp_env.h"
#include "otlp/otlp_wire.h"
#include "otlp_grpc/otlp_grpc_endpoint.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otlp {
namespace {

using internal::SteadyClock;
using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

// The request is already serialized (otlp_wire.h), so it goes through the generic stub as raw
// bytes instead of being parsed into a message only for the generated stub to serialize it again.
// Below this many spans per request, splitting a batch costs more (per-call overhead) than
// sending the parts at the same time gains.
constexpr uint64_t kMinSpansPerRequest = 256;

// Export() calls one exporter serves at the same time (MaxConcurrentExports()): each has its
// own completion queue (a Lane) and its own helper threads. Measured on B4
// (docs/performance.md): see the header.
constexpr size_t kMaxConcurrentExports = 4;

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// One unary call on the generic stub, driven to completion on `cq` by the calling thread (no
// gRPC callback thread and no wake-up hop). Ends by the context's deadline or TryCancel().
grpc::Status BlockingUnaryCall(grpc::GenericStub& stub, grpc::CompletionQueue& cq,
                               grpc::ClientContext& context, const grpc::ByteBuffer& request,
                               grpc::ByteBuffer& reply) {
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, kExportMethod, request, &cq);
  call->StartCall();
  call->Finish(&reply, &status, &status);
  void* tag = nullptr;
  bool ok = false;
  // The queue is this exporter's and only this call is on it; Next() returns false only after
  // cq.Shutdown(), which the destructor calls once no export can run.
  while (cq.Next(&tag, &ok)) {
    if (tag == &status) break;
  }
  return status;
}

// Parses the reply as an ExportTraceServiceResponse (what the generated stub would have done).
bool ParseResponse(grpc::ByteBuffer& reply, ExportTraceServiceResponse* response) {
  grpc::Slice slice;
  if (!reply.DumpToSingleSlice(&slice).ok()) return reply.Length() == 0;
  return response->ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

// The OTLP specification's retryable codes. RESOURCE_EXHAUSTED only when the server says when
// to come back (a google.rpc.RetryInfo detail): otherwise the limit is not a transient one.
bool IsRetryable(grpc::StatusCode code, bool has_retry_info) noexcept {
  switch (code) {
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return has_retry_info;
    case grpc::StatusCode::UNAVAILABLE:
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

// Encode buffers handed to gRPC without a copy. A request's slice owns its buffer; when gRPC
// drops its last reference to the slice (on whichever thread) the buffer comes back here, still
// at its size, for the next request to reuse (no allocation and no zero-fill once warm).
// Shared with the slices, so a buffer gRPC holds past the exporter's life still has a home.
class BufferPool {
 public:
  // At most this many idle buffers are kept; one per request in flight is enough.
  static constexpr size_t kMaxIdle = 8;
  // A buffer grown past this (an unusually large batch) is freed rather than kept idle: the pool
  // holds at most 8 MiB however large a batch once was. A default batch (512 spans) is ~100 KB.
  static constexpr size_t kMaxIdleCapacity = 1 << 20;

  std::unique_ptr<std::string> Take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<std::string> buffer = std::move(idle_.back());
        idle_.pop_back();
        return buffer;
      }
    }
    return std::make_unique<std::string>();
  }

  void Give(std::unique_ptr<std::string> buffer) noexcept {
    if (buffer->capacity() > kMaxIdleCapacity) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < kMaxIdle && idle_.capacity() >= kMaxIdle) idle_.push_back(std::move(buffer));
  }

  BufferPool() { idle_.reserve(kMaxIdle); }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<std::string>> idle_;  // guarded by `mutex_`
};

// The user data of a request's slice: its buffer and where to return it.
struct SliceOwner {
  std::shared_ptr<BufferPool> pool;
  std::unique_ptr<std::string> buffer;
};

// gRPC's destroy callback for a request slice (C code calls it: must not throw).
void ReleaseSlice(void* user_data) noexcept {
  std::unique_ptr<SliceOwner> owner(static_cast<SliceOwner*>(user_data));
  owner->pool->Give(std::move(owner->buffer));
}

}  // namespace

struct OtlpGrpcExporter::Impl {
  OtlpGrpcExporterOptions options;
  internal::RetryPolicy policy;
  std::string target;
  std::string export_label;    // "OTLP/gRPC export to <target>"
  std::string receiver_label;  // "OTLP/gRPC receiver at <target>"
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  // Encoded requests, lent to gRPC without a copy (see BufferPool).
  std::shared_ptr<BufferPool> buffers = std::make_shared<BufferPool>();
  // The completion queue of one request in flight.
  struct Lane {
    bool leased = false;  // guarded by `pool_mutex`
    // Calls complete here; the lane's thread waits on it (see BlockingUnaryCall).
    grpc::CompletionQueue cq;

    Lane() = default;
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;
    ~Lane() {
      cq.Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (cq.Next(&tag, &ok)) {
      }
    }
  };

  // A thread that sends one part of a batch while the export thread sends another.
  struct Helper {
    Lane lane;
    std::mutex mutex;
    std::condition_variable cv;
    std::span<const std::unique_ptr<otel::SpanData>> job;  // guarded by `mutex`
    SteadyClock::time_point deadline;                      // guarded by `mutex`
    bool has_job = false;                                  // guarded by `mutex`
    bool done = false;                                     // guarded by `mutex`
    bool stop = false;                                     // guarded by `mutex`
    otel::ExportResult result = otel::ExportResult::kSuccess;
    std::thread thread;
    bool leased = false;  // guarded by `pool_mutex`: one Export() call is using it
  };

  // Each Export() call in progress leases a lane for the requests its own thread sends, and
  // helpers for the others: a completion queue is driven by one thread and serves one call at
  // a time (two threads waiting on one queue would take each other's events). Lanes and
  // helpers are created on first need and kept for the next calls.
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Lane>> lanes;      // guarded by `pool_mutex`
  std::vector<std::unique_ptr<Helper>> helpers;  // guarded by `pool_mutex`
  bool helpers_failed = false;                   // guarded by `pool_mutex`
  // At most this many helpers: max_concurrent_requests - 1 for each of the
  // kMaxConcurrentExports calls. A caller beyond that sends fewer parts at a time.
  size_t max_helpers = 0;

  ~Impl() {
    for (auto& helper : helpers) {
      {
        std::lock_guard<std::mutex> lock(helper->mutex);
        helper->stop = true;
      }
      helper->cv.notify_one();
      helper->thread.join();
    }
  }

  // Its mutex guards `in_flight`; Shutdown() cancels those calls and wakes retry waits.
  internal::ShutdownSignal shutdown;
  std::vector<grpc::ClientContext*> in_flight;
  internal::ExportCounters counters;
  internal::LogLimiter failure_log;
  internal::LogLimiter partial_log;

  void RunHelper(Helper& helper) noexcept {
    std::unique_lock<std::mutex> lock(helper.mutex);
    while (true) {
      helper.cv.wait(lock, [&] { return helper.has_job || helper.stop; });
      if (helper.stop) return;
      const auto job = helper.job;
      const SteadyClock::time_point deadline = helper.deadline;
      lock.unlock();
      otel::ExportResult result = otel::ExportResult::kFailure;
      const uint64_t count = internal::CountSpans(job);
      try {
        result =
            count == 0 ? otel::ExportResult::kSuccess : SendPart(helper.lane, job, count, deadline);
      } catch (...) {
        counters.failed_spans.fetch_add(count, std::memory_order_relaxed);
      }
      lock.lock();
      helper.result = result;
      helper.has_job = false;
      helper.done = true;
      helper.cv.notify_all();
    }
  }

  // Leases an idle lane, creating one if none is idle. Throws std::bad_alloc (GuardedExport
  // counts the batch as failed).
  Lane& LeaseLane() {
    std::lock_guard<std::mutex> lock(pool_mutex);
    for (auto& lane : lanes) {
      if (lane->leased) continue;
      lane->leased = true;
      return *lane;
    }
    lanes.reserve(lanes.size() + 1);  // so the push_back below cannot throw after the lane exists
    auto lane = std::make_unique<Lane>();
    lane->leased = true;
    lanes.push_back(std::move(lane));
    return *lanes.back();
  }

  // Leases up to `wanted` idle helpers into `out`, starting new ones within max_helpers.
  // Returns how many were leased (maybe fewer: all busy, the limit, or a thread that cannot
  // start).
  size_t LeaseHelpers(size_t wanted, std::vector<Helper*>& out) {
    std::lock_guard<std::mutex> lock(pool_mutex);
    for (auto& helper : helpers) {
      if (out.size() == wanted) break;
      if (helper->leased) continue;
      helper->leased = true;
      out.push_back(helper.get());
    }
    while (out.size() < wanted && helpers.size() < max_helpers && !helpers_failed) {
      helpers.reserve(helpers.size() + 1);
      out.reserve(wanted);
      auto helper = std::make_unique<Helper>();
      try {
        Helper* raw = helper.get();
        helper->thread = std::thread([this, raw] { RunHelper(*raw); });
      } catch (...) {
        helpers_failed = true;
        Emit(otel::DiagnosticLevel::kWarn,
             "OTLP gRPC exporter: cannot start a sender thread; sending fewer requests at a time");
        break;
      }
      helper->leased = true;
      out.push_back(helper.get());
      helpers.push_back(std::move(helper));
    }
    return out.size();
  }

  // Gives back what one Export() call leased. Never throws.
  void Return(Lane& lane, const std::vector<Helper*>& leased) noexcept {
    std::lock_guard<std::mutex> lock(pool_mutex);
    lane.leased = false;
    for (Helper* helper : leased) helper->leased = false;
  }

  // Splits a big batch into up to max_concurrent_requests requests of at least
  // kMinSpansPerRequest spans, sends them at the same time (the export thread sends the first,
  // helper threads the others) and waits for all: Export() stays synchronous, its result and the
  // counters are complete when it returns. Each request has its own retries within the shared
  // deadline; the result is a success only if every request succeeded. Concurrent calls use
  // separate lanes and helpers (leased here, given back at the end).
  otel::ExportResult Send(std::span<std::unique_ptr<otel::SpanData>> batch, uint64_t count) {
    const SteadyClock::time_point deadline = SteadyClock::now() + options.timeout;
    const std::span<const std::unique_ptr<otel::SpanData>> all(batch.data(), batch.size());
    size_t parts = std::min<size_t>(std::max(options.max_concurrent_requests, size_t{1}),
                                    static_cast<size_t>(count / kMinSpansPerRequest));
    std::vector<Helper*> leased;
    Lane& lane = LeaseLane();
    struct Lease {
      Impl& impl;
      Lane& lane;
      std::vector<Helper*>& helpers;
      ~Lease() { impl.Return(lane, helpers); }
    } lease{*this, lane, leased};
    if (parts > 1) {
      try {
        parts = 1 + LeaseHelpers(parts - 1, leased);
      } catch (...) {
        parts = 1 + leased.size();  // out of memory: send with what was leased
      }
    }
    if (parts <= 1) return SendPart(lane, all, count, deadline);

    const size_t per_part = (all.size() + parts - 1) / parts;
    for (size_t i = 1; i < parts; ++i) {
      Helper& helper = *leased[i - 1];
      const size_t begin = std::min(all.size(), i * per_part);
      {
        std::lock_guard<std::mutex> lock(helper.mutex);
        helper.job = all.subspan(begin, std::min(per_part, all.size() - begin));
        helper.deadline = deadline;
        helper.has_job = true;
        helper.done = false;
      }
      helper.cv.notify_one();
    }
    const auto first = all.subspan(0, std::min(per_part, all.size()));
    otel::ExportResult result = otel::ExportResult::kFailure;
    const uint64_t first_count = internal::CountSpans(first);
    try {
      result = SendPart(lane, first, first_count, deadline);
    } catch (...) {
      counters.failed_spans.fetch_add(first_count, std::memory_order_relaxed);
    }
    // Always wait for the helpers: they read `batch`, which the caller frees after we return.
    for (size_t i = 1; i < parts; ++i) {
      Helper& helper = *leased[i - 1];
      std::unique_lock<std::mutex> lock(helper.mutex);
      helper.cv.wait(lock, [&] { return helper.done; });
      if (helper.result != otel::ExportResult::kSuccess) result = otel::ExportResult::kFailure;
    }
    return result;
  }

  // Sends `part` (`count` non-null spans) as one request, with retries, until `deadline`.
  otel::ExportResult SendPart(Lane& lane_used,
                              std::span<const std::unique_ptr<otel::SpanData>> part, uint64_t count,
                              SteadyClock::time_point deadline) {
    auto owner = std::make_unique<SliceOwner>();
    owner->pool = buffers;
    owner->buffer = buffers->Take();
    const size_t size = internal::EncodeExportRequestInto(part, *owner->buffer);
    if (size > options.max_request_bytes && part.size() > 1) {
      // Over the receiver's message limit: send two halves, each split again if needed. A
      // single span over the limit is sent as it is (the receiver may refuse it).
      owner->pool->Give(std::move(owner->buffer));
      owner.reset();
      const auto first = part.first(part.size() / 2);
      const auto second = part.subspan(part.size() / 2);
      const otel::ExportResult a =
          SendPart(lane_used, first, internal::CountSpans(first), deadline);
      const otel::ExportResult b =
          SendPart(lane_used, second, internal::CountSpans(second), deadline);
      return a == otel::ExportResult::kSuccess && b == otel::ExportResult::kSuccess
                 ? otel::ExportResult::kSuccess
                 : otel::ExportResult::kFailure;
    }
    // The slice takes the buffer (no copy) and gives it back to the pool when gRPC is done with
    // it; the byte buffer is shared by every attempt.
    char* const data = owner->buffer->data();
    grpc::Slice slice(data, size, &ReleaseSlice, owner.release());
    const grpc::ByteBuffer request(&slice, 1);

    grpc::Status status;
    const internal::RetryOutcome outcome = internal::RunWithRetries(
        policy, deadline, shutdown, counters, [&](SteadyClock::duration remaining) {
          grpc::ClientContext context;
          // gRPC takes deadlines on the system clock; derive it from the steady remaining time.
          context.set_deadline(
              std::chrono::system_clock::now() +
              std::chrono::duration_cast<std::chrono::system_clock::duration>(remaining));
          for (const auto& [key, value] : headers) context.AddMetadata(key, value);
          if (options.gzip) context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
          if (!shutdown.RunUnlessShutdown([&] { in_flight.push_back(&context); })) {
            status = grpc::Status(grpc::StatusCode::CANCELLED, "exporter was shut down");
            return internal::AttemptResult{internal::AttemptResult::kPermanent, std::nullopt};
          }
          // Unregistered however this attempt ends (the call may throw bad_alloc), before
          // `context` is destroyed: Shutdown() cancels what is registered.
          const auto unregister = [&]() noexcept {
            shutdown.WithLock([&] {
              in_flight.erase(std::remove(in_flight.begin(), in_flight.end(), &context),
                              in_flight.end());
            });
          };
          struct Unregister {
            const decltype(unregister)& run;
            ~Unregister() { run(); }
          } const registered{unregister};
          grpc::ByteBuffer reply;
          status = BlockingUnaryCall(*stub, lane_used.cq, context, request, reply);
          ExportTraceServiceResponse response;
          if (status.ok() && !ParseResponse(reply, &response)) {
            status = grpc::Status(grpc::StatusCode::INTERNAL,
                                  "cannot parse the ExportTraceServiceResponse");
          }
          if (status.ok()) {
            const auto& partial = response.partial_success();
            internal::OnAccepted(counters, partial_log, receiver_label, count,
                                 partial.rejected_spans(), partial.error_message());
            return internal::AttemptResult{internal::AttemptResult::kSuccess, std::nullopt};
          }
          // A RetryInfo detail (grpc-status-details-bin) says how long to wait.
          std::optional<std::chrono::milliseconds> delay;
          if (!status.error_details().empty()) {
            if (auto info = internal::ParseRpcStatus(status.error_details())) {
              delay = info->retry_delay;
            }
          }
          return internal::AttemptResult{IsRetryable(status.error_code(), delay.has_value())
                                             ? internal::AttemptResult::kRetryable
                                             : internal::AttemptResult::kPermanent,
                                         delay};
        });
    if (outcome.success) return otel::ExportResult::kSuccess;
    std::string why;
    if (outcome.attempts > 0) {
      why = StatusCodeName(status.error_code());
      if (!status.error_message().empty()) why += ": " + status.error_message();
    }
    if (!outcome.stop_reason.empty()) {
      why += why.empty() ? std::string(outcome.stop_reason)
                         : " (" + std::string(outcome.stop_reason) + ")";
    }
    internal::OnFailed(counters, failure_log, export_label, outcome.attempts, why, count);
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
      // The warning shows the value without user information (it may hold a token).
      const internal::EnvValue shown{
          env->name, internal::RedactUrlCredentials(internal::TrimSpaces(env->value))};
      internal::WarnInvalidEnv(shown, why, "\"" + options.endpoint + "\"");
    }
  }
  internal::ReadCommonEnv(options);
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
    const internal::RetryPolicy policy = internal::RetryPolicy::From(options);
    if (std::string bad = policy.Check("OTLP gRPC exporter"); !bad.empty()) return fail(bad);
    std::string why;
    const std::optional<internal::GrpcTarget> target =
        internal::ParseGrpcEndpoint(options.endpoint, options.insecure, &why);
    if (!target) return fail(why);

    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->policy = policy;
    impl->max_helpers =
        kMaxConcurrentExports * (std::max(options.max_concurrent_requests, size_t{1}) - 1);
    impl->target = target->target;
    impl->export_label = "OTLP/gRPC export to " + impl->target;
    impl->receiver_label = "OTLP/gRPC receiver at " + impl->target;
    for (const auto& [raw_key, value] : options.headers) {
      std::string key = internal::AsciiLower(raw_key);
      if (!internal::IsValidMetadataKey(key) || !internal::IsValidMetadataValue(key, value)) {
        Emit(otel::DiagnosticLevel::kWarn,
             "OTLP gRPC exporter: dropping header \"" + internal::PrintableForLog(raw_key) +
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
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_max_ms);
    // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is gRPC's minimum *connect timeout* (MIN_CONNECT_TIMEOUT
    // in grpc/doc/connection-backoff.md), not a backoff: with our short backoffs a TCP + HTTP/2
    // (+ TLS) handshake slower than 100 ms was abandoned ("tcp handshaker shutdown") on every
    // attempt. Give one connection as long as one export may take (1..20 s).
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                static_cast<int>(std::clamp<int64_t>(options.timeout.count(), 1000, 20000)));
    impl->channel = grpc::CreateCustomChannel(impl->target, credentials, args);
    if (!impl->channel) return fail("cannot create a gRPC channel to " + impl->target);
    impl->stub = std::make_unique<grpc::GenericStub>(impl->channel);
    return std::unique_ptr<OtlpGrpcExporter>(new OtlpGrpcExporter(std::move(impl)));
  } catch (const std::exception& e) {
    return fail(std::string("cannot create the OTLP gRPC exporter: ") + e.what());
  } catch (...) {
    return fail("cannot create the OTLP gRPC exporter");
  }
}

size_t OtlpGrpcExporter::MaxConcurrentExports() const noexcept { return kMaxConcurrentExports; }

otel::ExportResult OtlpGrpcExporter::Export(
    std::span<std::unique_ptr<otel::SpanData>> batch) noexcept {
  Impl& s = *impl_;
  return internal::GuardedExport(batch, s.counters, s.shutdown,
                                 [&s, batch](uint64_t count) { return s.Send(batch, count); });
}

bool OtlpGrpcExporter::ForceFlush(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  return true;
}

bool OtlpGrpcExporter::Shutdown(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  Impl& s = *impl_;
  s.shutdown.Trigger([&s] {
    for (grpc::ClientContext* context : s.in_flight) context->TryCancel();
  });
  return true;
}

OtlpExporterStats OtlpGrpcExporter::Stats() const noexcept {
  OtlpExporterStats stats;
  impl_->counters.Snapshot(&stats);
  return stats;
}

const std::string& OtlpGrpcExporter::target() const noexcept { return impl_->target; }

std::unique_ptr<otel::SpanExporter> MakeOtlpGrpcExporter(const OtlpGrpcExporterOptions& options,
                                                         std::string* error) noexcept {
  return OtlpGrpcExporter::Create(options, error);
}

}  // namespace vllora::otlp
