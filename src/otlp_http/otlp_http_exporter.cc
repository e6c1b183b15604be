#include "vllora/otlp/otlp_http_exporter.h"

#include <curl/curl.h>
#include <google/protobuf/util/json_util.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/export_common.h"
#include "otlp/otlp_env.h"
#include "otlp_http/otlp_http_options.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otlp/otlp_encoding.h"

namespace vllora::otlp {
namespace {

using ExportTraceServiceResponse =
    ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using internal::SteadyClock;

// How much of an error answer's body goes into a diagnostic.
constexpr size_t kMaxBodyInMessage = 256;
// Error answers are read up to this size; the rest is discarded.
constexpr size_t kMaxResponseBody = 64 * 1024;

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

// Parses "Retry-After: <delay-seconds>" or "Retry-After: <HTTP-date>" (the delay until then,
// 0 when it is past; by the system clock, as the server's date is).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  value = internal::TrimSpaces(value);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  value = internal::TrimSpaces(value);
  if (value.empty() || value.size() > 64) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9' && value.size() <= 9 &&
      value.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t seconds = 0;
    for (char c : value) seconds = seconds * 10 + (c - '0');
    return std::chrono::seconds(seconds);
  }
  const std::string date(value);
  const time_t when = curl_getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const time_t now = std::time(nullptr);
  // As long as the longest delay-seconds above: a "never" date (year 9999) would overflow the
  // steady clock's nanoseconds. Any delay past the export's deadline ends it without a retry.
  constexpr int64_t kMaxSeconds = 999'999'999;
  if (when <= now) return std::chrono::seconds(0);
  return std::chrono::seconds(std::min<int64_t>(static_cast<int64_t>(when - now), kMaxSeconds));
}

void InitCurlOnce() {
  // curl_global_init is not thread-safe on older libcurl; do it once, before any handle.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Why `url` (already trimmed) is not an http:// or https:// URL with a host and a port in
// 1-65535 that libcurl can use; "" if it is. Parsed by libcurl's own URL parser, the one the
// requests go through, so a URL that passes here is not refused at export time.
std::string UrlProblem(const std::string& url) {
  const std::string lower = internal::AsciiLower(url);
  size_t host_start = 0;
  if (lower.rfind("http://", 0) == 0) {
    host_start = 7;
  } else if (lower.rfind("https://", 0) == 0) {
    host_start = 8;
  } else {
    return "it must start with http:// or https://";
  }
  // libcurl reads "https:///x" as host "x"; a URL written like that has lost its host.
  if (host_start >= url.size() || url[host_start] == '/' || url[host_start] == ':') {
    return "it has no host";
  }
  InitCurlOnce();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (parsed == nullptr) throw std::bad_alloc();
  // No flags: a scheme is required (no guessing), and spaces or control characters are errors
  // rather than being percent-encoded.
  const CURLUcode rc = curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc == CURLUE_BAD_PORT_NUMBER) return "invalid port (expected 1-65535)";
  if (rc != CURLUE_OK) return curl_url_strerror(rc);
  char* port = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_PORT, &port, 0) == CURLUE_OK && port != nullptr) {
    const bool zero = std::string_view(port).find_first_not_of('0') == std::string_view::npos;
    curl_free(port);
    if (zero) return "invalid port (expected 1-65535)";
  }
  return {};
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
  // Drives `curl` (added for one attempt at a time) so that Shutdown() can interrupt the wait
  // with curl_multi_wakeup. Owns the connection cache, so connections outlive an attempt.
  CURLM* multi = nullptr;

  internal::RetryPolicy policy;
  std::string export_label;    // "OTLP/HTTP export to <url>"
  std::string receiver_label;  // "OTLP/HTTP receiver at <url>"
  internal::ShutdownSignal shutdown;
  internal::ExportCounters counters;
  std::atomic<int> last_http_status{0};
  internal::LogLimiter failure_log;
  internal::LogLimiter partial_log;

  mutable std::mutex last_error_mu;
  std::string last_error;  // guarded by last_error_mu

  // Per-attempt response state, written by curl callbacks on the exporting thread.
  std::string response_body;
  std::optional<std::chrono::seconds> retry_after;

  ~Impl() {
    // The easy handle is never left in the multi handle (Perform removes it), so the order of
    // these cleanups does not matter.
    if (multi != nullptr) curl_multi_cleanup(multi);
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

  // One transfer of `curl` through `multi`, like curl_easy_perform but returning
  // CURLE_ABORTED_BY_CALLBACK as soon as Shutdown() is requested: Shutdown() sets the flag and
  // then calls curl_multi_wakeup, which makes a curl_multi_poll in progress (or the next one)
  // return at once. CURLOPT_TIMEOUT_MS still bounds the transfer; libcurl shortens the poll to
  // its own timers, so the cap below only bounds how long a missed wake-up could go unseen.
  CURLcode Perform() noexcept {
    constexpr int kMaxPollMs = 1000;
    if (const CURLMcode added = curl_multi_add_handle(multi, curl); added != CURLM_OK) {
      multi_error = added;
      return CURLE_FAILED_INIT;
    }
    CURLcode result = CURLE_OK;
    bool done = false;
    while (!done) {
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi, &running);
      if (mc == CURLM_OK) {
        int queued = 0;
        while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
          if (message->msg == CURLMSG_DONE && message->easy_handle == curl) {
            result = message->data.result;
            done = true;
          }
        }
        if (done) break;
        if (shutdown.requested()) {
          result = CURLE_ABORTED_BY_CALLBACK;
          break;
        }
        mc = curl_multi_poll(multi, nullptr, 0, kMaxPollMs, nullptr);
      }
      if (mc != CURLM_OK) {
        multi_error = mc;
        result = CURLE_FAILED_INIT;
        break;
      }
    }
    // Also ends an unfinished transfer (its connection is closed, not reused).
    curl_multi_remove_handle(multi, curl);
    return result;
  }
  // Set when Perform() failed in the multi interface itself (reported instead of the CURLcode).
  std::optional<CURLMcode> multi_error;

  void SetLastError(std::string message) {
    std::lock_guard<std::mutex> lock(last_error_mu);
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
    if (!parsed) {
      internal::OnAccepted(counters, partial_log, receiver_label, sent, 0, {});
      return;
    }
    internal::OnAccepted(counters, partial_log, receiver_label, sent,
                         response.partial_success().rejected_spans(),
                         response.partial_success().error_message());
  }

  void OnFailure(const std::string& why, int attempts, uint64_t spans) {
    SetLastError(why);
    internal::OnFailed(counters, failure_log, export_label, attempts, why, spans);
  }

  std::string DescribeHttpError(long status) const {
    std::string why = "HTTP " + std::to_string(status);
    if (!response_body.empty()) {
      std::optional<std::string> message;
      if (options.protocol == OtlpHttpProtocol::kProtobuf) {
        if (auto rpc = internal::ParseRpcStatus(response_body)) message = rpc->message;
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
    const std::span<const std::unique_ptr<otel::SpanData>> spans(batch.data(), batch.size());
    return SendPart(spans, count, SteadyClock::now() + options.timeout);
  }

  // One POST of `spans` (`count` non-null), or several when the body is over
  // max_request_bytes: halves, each split again if needed, within the same deadline.
  otel::ExportResult SendPart(std::span<const std::unique_ptr<otel::SpanData>> spans,
                              uint64_t count, SteadyClock::time_point deadline) {
    std::string body = options.protocol == OtlpHttpProtocol::kJson ? EncodeOtlpJson(spans)
                                                                   : EncodeOtlpProtobuf(spans);
    if (body.size() > options.max_request_bytes && spans.size() > 1) {
      body = std::string();
      const auto first = spans.first(spans.size() / 2);
      const auto second = spans.subspan(spans.size() / 2);
      const otel::ExportResult a = SendPart(first, internal::CountSpans(first), deadline);
      const otel::ExportResult b = SendPart(second, internal::CountSpans(second), deadline);
      return a == otel::ExportResult::kSuccess && b == otel::ExportResult::kSuccess
                 ? otel::ExportResult::kSuccess
                 : otel::ExportResult::kFailure;
    }
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

    std::string why;
    const internal::RetryOutcome outcome = internal::RunWithRetries(
        policy, deadline, shutdown, counters, [&](SteadyClock::duration left) {
          const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(left);
          response_body.clear();
          retry_after.reset();
          curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                           static_cast<long>(std::max<int64_t>(remaining.count(), 1)));
          multi_error.reset();
          const CURLcode code = Perform();
          bool retryable = false;
          if (code == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
            last_http_status.store(static_cast<int>(status), std::memory_order_relaxed);
            if (status >= 200 && status < 300) {
              OnPartialSuccess(count);
              return internal::AttemptResult{internal::AttemptResult::kSuccess, std::nullopt};
            }
            why = DescribeHttpError(status);
            retryable = IsRetryableStatus(status);
          } else {
            last_http_status.store(0, std::memory_order_relaxed);
            if (multi_error) {
              why = curl_multi_strerror(*multi_error);
            } else if (code == CURLE_ABORTED_BY_CALLBACK) {
              why = internal::kStopShutdown;
            } else {
              why = curl_easy_strerror(code);
            }
            retryable = !multi_error && IsRetryableCurlCode(code);
          }
          std::optional<std::chrono::milliseconds> delay;
          if (retry_after) delay = std::chrono::milliseconds(*retry_after);
          return internal::AttemptResult{
              retryable ? internal::AttemptResult::kRetryable : internal::AttemptResult::kPermanent,
              delay};
        });
    if (outcome.success) return otel::ExportResult::kSuccess;
    if (!outcome.stop_reason.empty()) {
      why += why.empty() ? std::string(outcome.stop_reason)
                         : " (" + std::string(outcome.stop_reason) + ")";
    }
    OnFailure(why, outcome.attempts, count);
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
    const std::string url = env->name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
                                ? value
                                : OtlpHttpTracesUrlFromBase(value);
    if (std::string why = UrlProblem(url); !why.empty()) {
      // The warning shows the value without its user information (it may hold a token).
      const internal::EnvValue shown{env->name, internal::RedactUrlCredentials(value)};
      internal::WarnInvalidEnv(shown, "expected an http:// or https:// URL: " + why,
                               "\"" + options.endpoint + "\"");
    } else {
      options.endpoint = url;
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
  internal::ReadCommonEnv(options);
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
    const internal::RetryPolicy policy = internal::RetryPolicy::From(options);
    if (std::string bad = policy.Check("OTLP HTTP exporter"); !bad.empty()) return fail(bad);
    // Surrounding whitespace (a newline from a secret file) is not part of the URL.
    const std::string url(internal::TrimSpaces(options.endpoint));
    // Labels and messages show the URL without its user information (it may hold a token).
    const std::string shown = internal::RedactUrlCredentials(url);
    if (std::string why = UrlProblem(url); !why.empty()) {
      return fail("invalid OTLP HTTP endpoint \"" + shown + "\": " + why);
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
    impl->policy = policy;
    impl->url = url;
    impl->export_label = "OTLP/HTTP export to " + shown;
    impl->receiver_label = "OTLP/HTTP receiver at " + shown;
    impl->curl = curl_easy_init();
    impl->multi = curl_multi_init();
    if (impl->curl == nullptr || impl->multi == nullptr) {
      return fail("cannot create a curl handle");
    }

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
      // The warnings name the header but never show its value (it may hold credentials).
      if (!internal::IsHttpToken(key)) {
        otel::EmitDiagnostic(otel::DiagnosticLevel::kWarn,
                             "OTLP HTTP exporter: dropping header \"" +
                                 internal::PrintableForLog(key) +
                                 "\": the name is not an HTTP token (RFC 7230: letters, digits "
                                 "and !#$%&'*+-.^_`|~)");
        continue;
      }
      if (!internal::IsValidHttpHeaderValue(value)) {
        otel::EmitDiagnostic(otel::DiagnosticLevel::kWarn,
                             "OTLP HTTP exporter: dropping header \"" + key +
                                 "\": its value contains a control character (CR, LF, NUL, ...; "
                                 "the value is not shown: it may hold credentials)");
        continue;
      }
      // libcurl drops "Name:" (that form removes a header it would add itself); "Name;" is its
      // way to send a header with an empty value.
      add_header(value.empty() ? key + ";" : key + ": " + value);
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
  return internal::GuardedExport(batch, s.counters, s.shutdown,
                                 [&s, batch](uint64_t count) { return s.Send(batch, count); });
}

bool OtlpHttpExporter::ForceFlush(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  return true;
}

bool OtlpHttpExporter::Shutdown(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
  Impl& s = *impl_;
  // curl_multi_wakeup is the one multi call documented as safe from another thread; it is
  // called after the flag is set, so a Perform() that polls next sees the flag or the wake-up.
  s.shutdown.Trigger([&s] { curl_multi_wakeup(s.multi); });
  return true;
}

OtlpHttpExporterStats OtlpHttpExporter::Stats() const noexcept {
  OtlpHttpExporterStats stats;
  impl_->counters.Snapshot(&stats);
  stats.last_http_status = impl_->last_http_status.load(std::memory_order_relaxed);
  return stats;
}

std::string OtlpHttpExporter::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->last_error_mu);
  return impl_->last_error;
}

const std::string& OtlpHttpExporter::url() const noexcept { return impl_->url; }

std::unique_ptr<otel::SpanExporter> MakeOtlpHttpExporter(const OtlpHttpExporterOptions& options,
                                                         std::string* error) noexcept {
  return OtlpHttpExporter::Create(options, error);
}

}  // namespace vllora::otlp
