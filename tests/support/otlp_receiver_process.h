// Test helper: runs the independent OTLP/gRPC (and optionally OTLP/HTTP) receiver
// (tests/support/otlp_receiver/receiver.js, built on the OpenTelemetry JavaScript packages) as a
// child process and reads what it received.
//
//   auto receiver = vllora::testing::OtlpReceiverProcess::Start();
//   ASSERT_TRUE(receiver) << error;
//   options.endpoint = receiver->endpoint();           // "http://127.0.0.1:<port>"
//   ... export ...
//   ASSERT_TRUE(receiver->WaitForSpans(3, std::chrono::seconds(10)));
//   for (const nlohmann::json& span : receiver->Spans()) ...
//
// The JSON line format is documented in tests/support/otlp_receiver/README.md.
// The child's stdin is a pipe held by this object, so the receiver exits by itself if the test
// process dies; the destructor closes it, sends SIGTERM and reaps the child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vllora::testing {

/// A running receiver.js child process.
/// Thread-safety: const methods may be called from any thread; Start()/Stop() from one.
class OtlpReceiverProcess {
 public:
  /// Command-line behaviour of the receiver (see README.md for each flag).
  struct Options {
    /// Answer the first N requests with `fail_code` (--fail-first).
    int fail_first = 0;
    /// gRPC status name used for those failures (--fail-code), e.g. "UNAVAILABLE".
    std::string fail_code;
    /// "key=value" metadata every request must carry, else UNAUTHENTICATED (--require-header).
    std::vector<std::string> require_headers;
    /// Delay before answering each request (--delay-ms).
    int delay_ms = 0;
    /// Answer with partial_success.rejected_spans = N (--partial-reject) and this message.
    int partial_reject = 0;
    std::string partial_message;
    /// Also listen for OTLP/HTTP on an ephemeral port (--http-port 0); see http_endpoint().
    bool enable_http = false;
    /// HTTP status of the `fail_first` failures on the HTTP listener (--http-fail-status).
    int http_fail_status = 503;
    /// Seconds sent as Retry-After with those failures (--retry-after); negative = no header.
    int64_t retry_after_seconds = -1;
    /// Send that Retry-After as an HTTP-date, now + retry_after_seconds (--retry-after-date).
    bool retry_after_as_date = false;
    /// PEM certificate and key: serve OTLP/HTTP over TLS (--tls-cert, --tls-key); with
    /// `tls_client_ca`, also require a client certificate signed by it (--tls-client-ca).
    std::string tls_cert_path;
    std::string tls_key_path;
    std::string tls_client_ca_path;
    /// gRPC port to bind (0 = a free one) and, with enable_http, HTTP port (0 = a free one):
    /// a test that restarts the receiver on the same port passes the previous port() here.
    int port = 0;
    int http_port = 0;
    /// Attach a google.rpc.RetryInfo with this delay to gRPC failures (--retry-info-ms); < 0 =
    /// none.
    int retry_info_ms = -1;
    /// Further arguments passed as they are.
    std::vector<std::string> extra_args;
    /// Run setup.sh (npm ci when node_modules is missing or stale) before the first start.
    bool run_setup = true;
    /// How long to wait for the "listening <port>" line (the first npm ci can take a while;
    /// it is not counted here).
    std::chrono::milliseconds start_timeout{30000};
  };

  /// Spawns the receiver on 127.0.0.1 with an ephemeral port and waits until it listens.
  /// Returns nullptr and sets `*error` (when not null) if node, setup.sh or the receiver fails.
  static std::unique_ptr<OtlpReceiverProcess> Start(const Options& options,
                                                    std::string* error = nullptr);
  /// Start() with default options.
  static std::unique_ptr<OtlpReceiverProcess> Start(std::string* error = nullptr);

  /// Stops the child (see Stop()) and removes the output file unless the environment variable
  /// VLLORA_KEEP_RECEIVER_OUTPUT is set.
  ~OtlpReceiverProcess();
  OtlpReceiverProcess(const OtlpReceiverProcess&) = delete;
  OtlpReceiverProcess& operator=(const OtlpReceiverProcess&) = delete;

  /// The TCP port the receiver listens on.
  int port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>", usable as OtlpGrpcExporterOptions::endpoint.
  std::string endpoint() const;
  /// The OTLP/HTTP port (0 unless Options::enable_http).
  int http_port() const noexcept { return http_port_; }
  /// "http://127.0.0.1:<http_port>/v1/traces" ("https://localhost:..." when serving TLS), usable
  /// as OtlpHttpExporterOptions::endpoint.
  std::string http_endpoint() const;
  /// The JSON-lines file the receiver appends to.
  const std::string& output_path() const noexcept { return output_path_; }
  /// The child's process id (for tests that want to kill it).
  pid_t pid() const noexcept { return pid_; }

  /// Every complete record written so far, in order.
  std::vector<nlohmann::json> Records() const;
  /// Records with "record": "span".
  std::vector<nlohmann::json> Spans() const;
  /// Records with "record": "request".
  std::vector<nlohmann::json> Requests() const;

  /// Polls until at least `count` span records exist; false on timeout.
  bool WaitForSpans(size_t count, std::chrono::milliseconds timeout) const;
  /// Polls until at least `count` request records exist; false on timeout.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

  /// Sends one control line on the child's stdin (README.md, "Control on stdin"), e.g.
  /// "fail always", "fail-code UNAVAILABLE", "http-status 503 1", "delay 2000", "fail off", and
  /// waits for its acknowledgement. False if it was refused or not acknowledged in `timeout`.
  bool Control(const std::string& line,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  /// Closes the child's stdin, sends SIGTERM, waits up to 5 s, then SIGKILL. Idempotent.
  void Stop() noexcept;

  /// Runs setup.sh once per process; returns false (and sets `*error`) if it failed.
  static bool EnsureSetup(std::string* error);
  /// Directory holding receiver.js.
  static std::string ReceiverDirectory();

 private:
  OtlpReceiverProcess() = default;

  pid_t pid_ = -1;
  int port_ = 0;
  int http_port_ = 0;
  bool http_tls_ = false;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string output_path_;
  std::string stdout_pending_;  // stdout text read but not yet consumed (Control())
};

}  // namespace vllora::testing
