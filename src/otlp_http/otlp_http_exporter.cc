#include "vllora/otlp/otlp_http_exporter.h"

#include <curl/curl.h>
#include <google/protobuf/util/json_util.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/otlp_env.h"
#include "otlp_http/otlp_http_options.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otlp/otlp_encoding.h"

namespace vllora::otlp {
namespace {

using ExportTraceServiceResponse =
    ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using SteadyClock = std::chrono::steady_clock;

// At most one diagnostic per kind per interval, so a collector that is down for an hour does not
// flood the diagnostic handler (a batch processor exports every few seconds).
constexpr std::chrono::seconds kLogInterval{10};
// How much of an error answer's body goes into a diagnostic.
constexpr size_t kMaxBodyInMessage = 256;
// Error answers are read up to this size; the rest is discarded.
constexpr size_t kMaxResponseBody = 64 * 1024;

class LogLimiter {
 public:
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

bool IsRetryableStatus(long status) noexcept {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// Connection-level failures worth another attempt (the receiver may be restarting).
bool IsRetryableCurlCode(CURLcode code) noexcept {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
      return true;
    default:
      return false;
  }
}

// Backoff with "equal jitter": uniform in [backoff / 2, backoff].
std::chrono::milliseconds Jittered(double backoff_ms) noexcept {
  thread_local std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(
      std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
      static_cast<size_t>(SteadyClock::now().time_since_epoch().count())));
  std::uniform_real_distribution<double> unit(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(backoff_ms * unit(rng)));
}

bool IsReadable(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  std::fclose(file);
  return true;
}

bool Gzip(const std::string& in, std::string* out) {
  z_stream stream{};
  // windowBits 15 + 16 selects the gzip wrapper (RFC 1952) instead of zlib's own.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return false;
  }
  out->resize(deflateBound(&stream, static_cast<uLong>(in.size())));
  // zlib's API is not const-correct: next_in is never written through.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&stream, Z_FINISH);
  const uLong written = stream.total_out;
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return false;
  out->resize(written);
  return true;
}

// Parses "Retry-After: <delay-seconds>". HTTP-dates are rare for OTLP receivers and ignored.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  value = internal::TrimSpaces(value);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  value = internal::TrimSpaces(value);
  if (value.empty() || value.size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

bool ReadVarint(std::string_view& in, uint64_t* out) {
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

// The `message` (field 2) of a protobuf-encoded google.rpc.Status, the error body OTLP/HTTP
// prescribes. Read by hand: it is the only field we need and our protos do not include it.
std::optional<std::string> StatusMessageFromProtobuf(std::string_view in) {
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!ReadVarint(in, &tag)) return std::nullopt;
    const uint64_t field = tag >> 3;
    switch (tag & 7) {
      case 0: {
        uint64_t ignored = 0;
        if (!ReadVarint(in, &ignored)) return std::nullopt;
        break;
      }
      case 2: {
        uint64_t length = 0;
        if (!ReadVarint(in, &length) || length > in.size()) return std::nullopt;
        if (field == 2) return std::string(in.substr(0, length));
        in.remove_prefix(length);
        break;
      }
      default:
        return std::nullopt;  // Status has no fixed-width fields: not a Status
    }
  }
  return std::nullopt;
}

bool IsValidHeaderText(std::string_view text, bool is_key) {
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
    if (is_key && (c == ':' || c == ' ' || c == '\t')) return false;
  }
  return !is_key || !text.empty();
}

void InitCurlOnce() {
  // curl_global_init is not thread-safe on older libcurl; do it once, before any handle.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string OtlpHttpTracesUrlFromBase(std::string_view base) {
  std::string url(internal::TrimSpaces(base));
  if (url.empty() || url.back() != '/') url += '/';
  url += "v1/traces";
  return url;
}

struct OtlpHttpExporter::Impl {
  OtlpHttpExporterOptions options;
  std::string url;
  curl_slist* header_list = nullptr;

  // Serialises the curl handle; held for a whole Export().
  std::mutex export_mu;
  CURL* curl = nullptr;

  // Guards the retry wait and last_error; `cv` wakes retry waits on Shutdown().
  mutable std::mutex mu;
  std::condition_variable cv;
  std::string last_error;
  std::atomic<bool> shutdown{false};

  // Relaxed counters: each is an independent statistic, read as a snapshot.
  std::atomic<uint64_t> exported_spans{0};
  std::atomic<uint64_t> failed_spans{0};
  std::atomic<uint64_t> rejected_spans{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> export_calls{0};
  std::atomic<int> last_http_status{0};

  LogLimiter failure_log;
  LogLimiter partial_log;

  // Per-attempt response state, written by curl callbacks on the exporting thread.
  std::string response_body;
  std::optional<std::chrono::seconds> retry_after;

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    if (header_list != nullptr) curl_slist_free_all(header_list);
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Impl*>(user);
    const size_t bytes = size * count;
    try {
      const size_t room = kMaxResponseBody - std::min(kMaxResponseBody, self->response_body.size());
      self->response_body.append(data, std::min(bytes, room));
    } catch (...) {
      return 0;  // aborts the transfer; reported as a write error
    }
    return bytes;
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Impl*>(user);
    const size_t bytes = size * count;
    const std::string_view line(data, bytes);
    constexpr std::string_view kRetryAfter = "retry-after:";
    if (line.size() > kRetryAfter.size()) {
      bool match = true;
      for (size_t i = 0; i < kRetryAfter.size(); ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != kRetryAfter[i]) {
          match = false;
          break;
        }
      }
      if (match) self->retry_after = ParseRetryAfter(line.substr(kRetryAfter.size()));
    }
    return bytes;
  }

  // Lets Shutdown() abort a transfer in flight.
  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
    auto* self = static_cast<Impl*>(user);
    return self->shutdown.load(std::memory_order_acquire) ? 1 : 0;
  }

  // Sleeps until `until` unless Shutdown() comes first; returns false if it did.
  bool SleepUnlessShutdown(SteadyClock::time_point until) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_until(lock, until, [this] { return shutdown.load(std::memory_order_relaxed); });
  }

  void SetLastError(std::string message) {
    std::lock_guard<std::mutex> lock(mu);
    last_error = std::move(message);
  }

  void OnPartialSuccess(uint64_t sent) {
    ExportTraceServiceResponse response;
    bool parsed = false;
    if (!response_body.empty()) {
      if (options.protocol == OtlpHttpProtocol::kJson) {
        google::protobuf::util::JsonParseOptions parse_options;
        parse_options.ignore_unknown_fields = true;
        parsed =
            google::protobuf::util::JsonStringToMessage(response_body, &response, parse_options)
                .ok();
      } else {
        parsed = response.ParseFromString(response_body);
      }
    }
    const int64_t rejected =
        parsed ? std::max<int64_t>(response.partial_success().rejected_spans(), 0) : 0;
    const auto rejected_u = static_cast<uint64_t>(rejected);
    rejected_spans.fetch_add(rejected_u, std::memory_order_relaxed);
    exported_spans.fetch_add(sent - std::min(sent, rejected_u), std::memory_order_relaxed);
    if (!parsed || (rejected == 0 && response.partial_success().error_message().empty())) return;
    uint64_t suppressed = 0;
    if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kWarn) ||
        !partial_log.Allow(&suppressed)) {
      return;
    }
    std::string message = "OTLP/HTTP receiver at " + url;
    if (rejected > 0) {
      message +=
          " rejected " + std::to_string(rejected) + " of " + std::to_string(sent) + " span(s)";
    } else {
      message += " accepted all spans with a warning";
    }
    const std::string& text = response.partial_success().error_message();
    if (!text.empty()) message += ": " + text;
    if (suppressed > 0) {
      message += " (" + std::to_string(suppressed) + " similar message(s) suppressed)";
    }
    otel::EmitDiagnostic(otel::DiagnosticLevel::kWarn, message);
  }

  void OnFailure(const std::string& why, int attempts, uint64_t spans) {
    failed_spans.fetch_add(spans, std::memory_order_relaxed);
    std::string message = "OTLP/HTTP export to " + url + " failed after " +
                          std::to_string(attempts) + " attempt(s): " + why + "; dropped " +
                          std::to_string(spans) + " span(s)";
    SetLastError(why);
    uint64_t suppressed = 0;
    if (!otel::IsDiagnosticEnabled(otel::DiagnosticLevel::kError) ||
        !failure_log.Allow(&suppressed)) {
      return;
    }
    if (suppressed > 0) {
      message += " (" + std::to_string(suppressed) + " similar message(s) suppressed)";
    }
    otel::EmitDiagnostic(otel::DiagnosticLevel::kError, message);
  }

  std::string DescribeHttpError(long status) const {
    std::string why = "HTTP " + std::to_string(status);
    if (!response_body.empty()) {
      std::optional<std::string> message;
      if (options.protocol == OtlpHttpProtocol::kProtobuf) {
        message = StatusMessageFromProtobuf(response_body);
      }
      std::string body = message.value_or(response_body).substr(0, kMaxBodyInMessage);
      for (char& c : body) {
        if (c == '\n' || c == '\r' || static_cast<unsigned char>(c) < 0x20) c = ' ';
      }
      why += ": " + body;
    }
    return why;
  }

  otel::ExportResult Send(std::span<std::unique_ptr<otel::SpanData>> batch, uint64_t count) {
    const SteadyClock::time_point deadline = SteadyClock::now() + options.timeout;
    const std::span<const std::unique_ptr<otel::SpanData>> spans(batch.data(), batch.size());
    std::string body = options.protocol == OtlpHttpProtocol::kJson ? EncodeOtlpJson(spans)
                                                                   : EncodeOtlpProtobuf(spans);
    if (options.gzip) {
      std::string compressed;
      if (!Gzip(body, &compressed)) {
        OnFailure("gzip compression failed", 0, count);
        return otel::ExportResult::kFailure;
      }
      body = std::move(compressed);
    }

    std::lock_guard<std::mutex> lock(export_mu);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));

    double backoff_ms = static_cast<double>(options.initial_backoff.count());
    const auto max_backoff_ms = static_cast<double>(options.max_backoff.count());
    std::string why;
    int attempt = 0;
    while (true) {
      ++attempt;
      const auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (remaining <= std::chrono::milliseconds::zero()) {
        if (why.empty()) why = "export timeout elapsed";
        break;
      }
      if (shutdown.load(std::memory_order_acquire)) {
        why = "exporter was shut down";
        break;
      }
      response_body.clear();
      retry_after.reset();
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                       static_cast<long>(std::max<int64_t>(remaining.count(), 1)));
      const CURLcode code = curl_easy_perform(curl);
      bool retryable = false;
      if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        last_http_status.store(static_cast<int>(status), std::memory_order_relaxed);
        if (status >= 200 && status < 300) {
          OnPartialSuccess(count);
          return otel::ExportResult::kSuccess;
        }
        why = DescribeHttpError(status);
        retryable = IsRetryableStatus(status);
      } else {
        last_http_status.store(0, std::memory_order_relaxed);
        why = code == CURLE_ABORTED_BY_CALLBACK ? std::string("exporter was shut down")
                                                : std::string(curl_easy_strerror(code));
        retryable = IsRetryableCurlCode(code);
      }
      if (shutdown.load(std::memory_order_acquire) || !retryable ||
          attempt >= options.max_attempts) {
        break;
      }
      std::chrono::milliseconds wait = Jittered(backoff_ms);
      if (retry_after) wait = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
      const SteadyClock::time_point wake = SteadyClock::now() + wait;
      // Never sleep past the deadline: a retry that cannot start in time is not worth waiting for.
      if (wake >= deadline) {
        why += " (no time left for a retry)";
        break;
      }
      retries.fetch_add(1, std::memory_order_relaxed);
      if (!SleepUnlessShutdown(wake)) {
        why = "exporter was shut down";
        break;
      }
      backoff_ms = std::min(backoff_ms * options.backoff_multiplier, max_backoff_ms);
    }
    OnFailure(why, attempt, count);
    return otel::ExportResult::kFailure;
  }
};

OtlpHttpExporterOptions OtlpHttpExporterOptions::FromEnv() {
  return internal::HttpOptionsFromEnv(/*read_protocol=*/true);
}

OtlpHttpExporterOptions internal::HttpOptionsFromEnv(bool read_protocol) {
  OtlpHttpExporterOptions options;
  if (auto env = internal::GetTracesEnv("ENDPOINT")) {
    const std::string value(internal::TrimSpaces(env->value));
    const std::string lower = internal::AsciiLower(value);
    if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
      internal::WarnInvalidEnv(*env, "expected an http:// or https:// URL",
                               "\"" + options.endpoint + "\"");
    } else if (env->name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
      options.endpoint = value;
    } else {
      options.endpoint = OtlpHttpTracesUrlFromBase(value);
    }
  }
  if (auto env = read_protocol ? internal::GetTracesEnv("PROTOCOL") : std::nullopt) {
    const std::string value = internal::AsciiLower(internal::TrimSpaces(env->value));
    if (value == "http/protobuf") {
      options.protocol = OtlpHttpProtocol::kProtobuf;
    } else if (value == "http/json") {
      options.protocol = OtlpHttpProtocol::kJson;
    } else {
      internal::WarnInvalidEnv(*env, "expected http/protobuf or http/json", "http/protobuf");
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
  return options;
}

OtlpHttpExporter::OtlpHttpExporter(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

OtlpHttpExporter::~OtlpHttpExporter() {
  if (impl_) Shutdown(SteadyClock::now());
}

std::unique_ptr<OtlpHttpExporter> OtlpHttpExporter::Create(const OtlpHttpExporterOptions& options,
                                                           std::string* error) noexcept {
  const auto fail = [error](std::string message) -> std::unique_ptr<OtlpHttpExporter> {
    if (error != nullptr) *error = std::move(message);
    return nullptr;
  };
  try {
    if (options.timeout <= std::chrono::milliseconds::zero()) {
      return fail("OTLP HTTP exporter timeout must be positive");
    }
    if (options.max_attempts < 1) return fail("OTLP HTTP exporter max_attempts must be >= 1");
    if (options.initial_backoff < std::chrono::milliseconds::zero() ||
        options.max_backoff < options.initial_backoff) {
      return fail("OTLP HTTP exporter backoff must satisfy 0 <= initial_backoff <= max_backoff");
    }
    if (!(options.backoff_multiplier >= 1.0)) {
      return fail("OTLP HTTP exporter backoff_multiplier must be >= 1");
    }
    const std::string url(internal::TrimSpaces(options.endpoint));
    const std::string lower = internal::AsciiLower(url);
    size_t host_start = 0;
    if (lower.rfind("http://", 0) == 0) {
      host_start = 7;
    } else if (lower.rfind("https://", 0) == 0) {
      host_start = 8;
    } else {
      return fail("OTLP HTTP endpoint \"" + options.endpoint +
                  "\" must start with http:// or https://");
    }
    if (host_start >= url.size() || url[host_start] == '/' || url[host_start] == ':') {
      return fail("OTLP HTTP endpoint \"" + options.endpoint + "\" has no host");
    }
    for (const std::string* path :
         {&options.ca_cert_path, &options.client_cert_path, &options.client_key_path}) {
      if (!path->empty() && !IsReadable(*path)) {
        return fail("cannot read OTLP TLS file \"" + *path + "\"");
      }
    }

    InitCurlOnce();
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->url = url;
    impl->curl = curl_easy_init();
    if (impl->curl == nullptr) return fail("cannot create a curl handle");

    const auto add_header = [&impl](const std::string& line) {
      curl_slist* next = curl_slist_append(impl->header_list, line.c_str());
      if (next == nullptr) throw std::bad_alloc();
      impl->header_list = next;
    };
    add_header(options.protocol == OtlpHttpProtocol::kJson
                   ? "Content-Type: application/json"
                   : "Content-Type: application/x-protobuf");
    if (options.gzip) add_header("Content-Encoding: gzip");
    // libcurl would otherwise send "Expect: 100-continue" for large bodies and wait for it.
    add_header("Expect:");
    for (const auto& [key, value] : options.headers) {
      if (!IsValidHeaderText(key, true) || !IsValidHeaderText(value, false)) {
        otel::EmitDiagnostic(
            otel::DiagnosticLevel::kWarn,
            "OTLP HTTP exporter: dropping header \"" + key + "\": not a valid HTTP header");
        continue;
      }
      add_header(key + ": " + value);
    }

    CURL* curl = impl->curl;
    curl_easy_setopt(curl, CURLOPT_URL, impl->url.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, impl->header_list);
    curl_easy_setopt(curl, CURLOPT_USERAGENT,
                     (std::string("vllora-telemetry-cpp/") + otel::kSdkVersion).c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from the resolver in threads
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, impl.get());
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, impl.get());
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Impl::OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, impl.get());
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!options.ca_cert_path.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_cert_path.c_str());
    }
    if (!options.client_cert_path.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, options.client_cert_path.c_str());
    }
    if (!options.client_key_path.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLKEY, options.client_key_path.c_str());
    }
    return std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(std::move(impl)));
  } catch (const std::exception& e) {
    return fail(std::string("cannot create the OTLP HTTP exporter: ") + e.what());
  } catch (...) {
    return fail("cannot create the OTLP HTTP exporter");
  }
}

otel::ExportResult OtlpHttpExporter::Export(
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
    // Only std::bad_alloc can get here (encoding, messages); curl itself does not throw.
    s.failed_spans.fetch_add(count, std::memory_order_relaxed);
    return otel::ExportResult::kFailure;
  }
}

bool OtlpHttpExporter::ForceFlush(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  return true;
}

bool OtlpHttpExporter::Shutdown(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shutdown.store(true, std::memory_order_release);
  }
  s.cv.notify_all();
  return true;
}

OtlpHttpExporterStats OtlpHttpExporter::Stats() const noexcept {
  const Impl& s = *impl_;
  OtlpHttpExporterStats stats;
  stats.exported_spans = s.exported_spans.load(std::memory_order_relaxed);
  stats.failed_spans = s.failed_spans.load(std::memory_order_relaxed);
  stats.rejected_spans = s.rejected_spans.load(std::memory_order_relaxed);
  stats.retries = s.retries.load(std::memory_order_relaxed);
  stats.export_calls = s.export_calls.load(std::memory_order_relaxed);
  stats.last_http_status = s.last_http_status.load(std::memory_order_relaxed);
  return stats;
}

std::string OtlpHttpExporter::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_error;
}

const std::string& OtlpHttpExporter::url() const noexcept { return impl_->url; }

std::unique_ptr<otel::SpanExporter> MakeOtlpHttpExporter(const OtlpHttpExporterOptions& options,
                                                         std::string* error) noexcept {
  return OtlpHttpExporter::Create(options, error);
}

}  // namespace vllora::otlp
