// The OTLP/HTTP exporter against the independent JavaScript receiver
// (tests/support/otlp_receiver): the same spans must arrive identical over gRPC, http/protobuf
// and http/json, and the transport behaviours (gzip, headers, Retry-After, 400, partial success,
// connection reuse, shutdown, TLS) must hold.
#include "vllora/otlp/otlp_http_exporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/otlp_receiver_process.h"
#include "support/otlp_span_fixtures.h"
#include "support/silent_listener.h"
#include "support/tls_files.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otlp/otlp_grpc_exporter.h"

namespace vllora::otlp {
namespace {

using testing::FixtureResource;
using testing::FixtureScope;
using ::testing::HasSubstr;
using testing::MakeRichSpan;
using testing::MakeSimpleSpan;
using testing::OtlpReceiverProcess;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kWait{15000};

std::unique_ptr<OtlpReceiverProcess> StartReceiver(OtlpReceiverProcess::Options options = {}) {
  options.enable_http = true;
  std::string error;
  auto receiver = OtlpReceiverProcess::Start(options, &error);
  EXPECT_NE(receiver, nullptr) << error;
  return receiver;
}

OtlpHttpExporterOptions FastOptions(const std::string& endpoint,
                                    OtlpHttpProtocol protocol = OtlpHttpProtocol::kProtobuf) {
  OtlpHttpExporterOptions options;
  options.endpoint = endpoint;
  options.protocol = protocol;
  options.timeout = milliseconds(10000);
  options.initial_backoff = milliseconds(50);
  options.max_backoff = milliseconds(200);
  return options;
}

std::unique_ptr<OtlpHttpExporter> MakeExporter(const OtlpHttpExporterOptions& options) {
  std::string error;
  auto exporter = OtlpHttpExporter::Create(options, &error);
  EXPECT_NE(exporter, nullptr) << error;
  return exporter;
}

std::vector<std::unique_ptr<otel::SpanData>> RichBatch() {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeRichSpan());
  batch.push_back(
      MakeSimpleSpan(1, FixtureResource("other-service"), FixtureScope("other.lib", "")));
  return batch;
}

std::vector<std::unique_ptr<otel::SpanData>> SimpleBatch(int count) {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  for (int i = 0; i < count; ++i) batch.push_back(MakeSimpleSpan(static_cast<uint8_t>(i)));
  return batch;
}

// The span records of request `seq`, without the request number (which differs per transport).
std::vector<Json> SpansOfRequest(const OtlpReceiverProcess& receiver, int seq) {
  std::vector<Json> out;
  for (Json span : receiver.Spans()) {
    if (span["request"] != seq) continue;
    span.erase("request");
    out.push_back(std::move(span));
  }
  return out;
}

// Diagnostics emitted while a test runs.
class DiagnosticCapture {
 public:
  DiagnosticCapture() {
    Messages().clear();
    otel::SetDiagnosticHandler([](otel::DiagnosticLevel, std::string_view message) {
      std::lock_guard<std::mutex> lock(Mutex());
      Messages().emplace_back(message);
    });
  }
  ~DiagnosticCapture() { otel::SetDiagnosticHandler(nullptr); }
  std::vector<std::string> Get() const {
    std::lock_guard<std::mutex> lock(Mutex());
    return Messages();
  }

 private:
  static std::vector<std::string>& Messages() {
    static std::vector<std::string> messages;
    return messages;
  }
  static std::mutex& Mutex() {
    static std::mutex mu;
    return mu;
  }
};

TEST(OtlpHttpExporterIntegration, SameSpansArriveIdenticalOverGrpcProtobufAndJson) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);

  OtlpGrpcExporterOptions grpc_options;
  grpc_options.endpoint = receiver->endpoint();
  std::string error;
  auto grpc = OtlpGrpcExporter::Create(grpc_options, &error);
  ASSERT_NE(grpc, nullptr) << error;
  auto batch = RichBatch();
  ASSERT_EQ(grpc->Export(batch), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(2, kWait));

  auto protobuf = MakeExporter(FastOptions(receiver->http_endpoint(), OtlpHttpProtocol::kProtobuf));
  ASSERT_NE(protobuf, nullptr);
  batch = RichBatch();
  ASSERT_EQ(protobuf->Export(batch), otel::ExportResult::kSuccess);
  auto json = MakeExporter(FastOptions(receiver->http_endpoint(), OtlpHttpProtocol::kJson));
  ASSERT_NE(json, nullptr);
  batch = RichBatch();
  ASSERT_EQ(json->Export(batch), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(6, kWait));

  const std::vector<Json> over_grpc = SpansOfRequest(*receiver, 1);
  ASSERT_EQ(over_grpc.size(), 2u);
  EXPECT_EQ(over_grpc[0]["name"], "chat gpt-4o");
  EXPECT_EQ(over_grpc[0]["attributes"]["uint.big"],
            (Json{{"type", "string"}, {"value", "18446744073709551615"}}));
  EXPECT_EQ(SpansOfRequest(*receiver, 2), over_grpc) << "http/protobuf differs from gRPC";
  EXPECT_EQ(SpansOfRequest(*receiver, 3), over_grpc) << "http/json differs from gRPC";

  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1]["transport"], "http");
  EXPECT_EQ(requests[1]["path"], "/v1/traces");
  EXPECT_EQ(requests[1]["contentType"], "application/x-protobuf");
  EXPECT_EQ(requests[2]["contentType"], "application/json");
  EXPECT_EQ(protobuf->Stats().exported_spans, 2u);
  EXPECT_EQ(json->Stats().exported_spans, 2u);
  EXPECT_EQ(json->Stats().last_http_status, 200);
}

TEST(OtlpHttpExporterIntegration, GzipRequestsArriveForBothEncodings) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  for (OtlpHttpProtocol protocol : {OtlpHttpProtocol::kProtobuf, OtlpHttpProtocol::kJson}) {
    OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint(), protocol);
    auto plain = MakeExporter(options);
    options.gzip = true;
    auto gzip = MakeExporter(options);
    ASSERT_NE(plain, nullptr);
    ASSERT_NE(gzip, nullptr);
    auto batch = RichBatch();
    ASSERT_EQ(plain->Export(batch), otel::ExportResult::kSuccess);
    batch = RichBatch();
    ASSERT_EQ(gzip->Export(batch), otel::ExportResult::kSuccess);
  }
  ASSERT_TRUE(receiver->WaitForSpans(8, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0]["contentEncoding"], "identity");
  EXPECT_EQ(requests[1]["contentEncoding"], "gzip");
  EXPECT_LT(requests[1]["bodyBytes"].get<int>(), requests[0]["bodyBytes"].get<int>());
  EXPECT_EQ(requests[3]["contentEncoding"], "gzip");
  EXPECT_EQ(SpansOfRequest(*receiver, 2), SpansOfRequest(*receiver, 1));
  EXPECT_EQ(SpansOfRequest(*receiver, 4), SpansOfRequest(*receiver, 1));
}

// Custom headers arrive as given. An empty value is sent as an empty header: libcurl drops
// "Name:" (its syntax for removing a header) and sends "Name;" as "Name:" with no value.
TEST(OtlpHttpExporterIntegration, CustomHeadersArrive) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.require_headers = {"authorization=Bearer secret"};
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint());
  options.headers = {{"Authorization", "Bearer secret"},
                     {"x-vllora-project", "p 1"},
                     {"x-empty", ""},
                     {"x-tab", "a\tb"}};
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["status"], "OK");
  EXPECT_EQ(requests[0]["headers"]["x-vllora-project"], "p 1");
  ASSERT_TRUE(requests[0]["headers"].contains("x-empty")) << requests[0]["headers"].dump();
  EXPECT_EQ(requests[0]["headers"]["x-empty"], "");
  EXPECT_EQ(requests[0]["headers"]["x-tab"], "a\tb");
  EXPECT_THAT(requests[0]["headers"]["user-agent"].get<std::string>(),
              HasSubstr("vllora-telemetry-cpp/"));

  // Without the header the receiver answers 401: not retried.
  auto anonymous = MakeExporter(FastOptions(receiver->http_endpoint()));
  batch = SimpleBatch(1);
  EXPECT_EQ(anonymous->Export(batch), otel::ExportResult::kFailure);
  EXPECT_EQ(anonymous->Stats().retries, 0u);
  EXPECT_EQ(anonymous->Stats().last_http_status, 401);
}

// User information in the endpoint (sent as basic authentication) never appears in the export
// label, the failure diagnostics or last_error().
TEST(OtlpHttpExporterIntegration, CredentialsInTheUrlAreNeverPrinted) {
  DiagnosticCapture diagnostics;
  OtlpHttpExporterOptions options = FastOptions("http://user:s3cr3t@127.0.0.1:1/v1/traces");
  options.timeout = milliseconds(500);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  const std::vector<std::string> messages = diagnostics.Get();
  ASSERT_FALSE(messages.empty());
  EXPECT_THAT(messages[0], HasSubstr("OTLP/HTTP export to http://user:***@127.0.0.1:1/v1/traces"));
  for (const std::string& message : messages) {
    EXPECT_THAT(message, ::testing::Not(HasSubstr("s3cr3t"))) << message;
  }
  EXPECT_THAT(exporter->last_error(), ::testing::Not(HasSubstr("s3cr3t")));
}

TEST(OtlpHttpExporterIntegration, Retries503HonouringRetryAfterAndDeliversOnce) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 2;
  receiver_options.http_fail_status = 503;
  receiver_options.retry_after_seconds = 1;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->http_endpoint()));
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(3);
  const SteadyClock::time_point start = SteadyClock::now();
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  // Two waits of Retry-After (1 s each), not the 50 ms backoff of the options.
  EXPECT_GE(SteadyClock::now() - start, milliseconds(1900));
  const OtlpHttpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.exported_spans, 3u);
  EXPECT_EQ(stats.failed_spans, 0u);
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["httpStatus"], 503);
  EXPECT_EQ(requests[1]["httpStatus"], 503);
  EXPECT_EQ(requests[2]["httpStatus"], 200);
  EXPECT_EQ(receiver->Spans().size(), 3u) << "delivered exactly once";
}

TEST(OtlpHttpExporterIntegration, RetryAfterBeyondTheDeadlineIsNotWaitedFor) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 1;
  receiver_options.retry_after_seconds = 30;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint());
  options.timeout = milliseconds(1000);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  const SteadyClock::time_point start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(1500));
  EXPECT_THAT(exporter->last_error(), HasSubstr("HTTP 503"));
}

// Retry-After as an HTTP-date ("Wed, 25 Nov 2026 12:00:30 GMT") is honoured as the delay until
// then: 30 s is past the 1 s deadline, so there is no retry (the 50 ms backoff would have retried
// and succeeded). So is a date centuries away (a "never"), whose delay in nanoseconds would
// overflow the steady clock unless it is capped.
TEST(OtlpHttpExporterIntegration, RetryAfterAsAnHttpDateIsHonoured) {
  for (const int64_t seconds : {int64_t{30}, int64_t{10'000'000'000}}) {
    OtlpReceiverProcess::Options receiver_options;
    receiver_options.fail_first = 1;
    receiver_options.retry_after_seconds = seconds;
    receiver_options.retry_after_as_date = true;
    auto receiver = StartReceiver(receiver_options);
    ASSERT_NE(receiver, nullptr);
    OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint());
    options.timeout = milliseconds(1000);
    auto exporter = MakeExporter(options);
    ASSERT_NE(exporter, nullptr);
    auto batch = SimpleBatch(1);
    EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure) << seconds;
    EXPECT_THAT(exporter->last_error(), HasSubstr("no time left for a retry")) << seconds;
    EXPECT_EQ(exporter->Stats().retries, 0u) << seconds;
    EXPECT_EQ(receiver->Requests().size(), 1u) << seconds;
  }
}

TEST(OtlpHttpExporterIntegration, BadRequestIsNotRetriedAndIsReported) {
  for (OtlpHttpProtocol protocol : {OtlpHttpProtocol::kProtobuf, OtlpHttpProtocol::kJson}) {
    OtlpReceiverProcess::Options receiver_options;
    receiver_options.fail_first = 1;
    receiver_options.http_fail_status = 400;
    auto receiver = StartReceiver(receiver_options);
    ASSERT_NE(receiver, nullptr);
    DiagnosticCapture diagnostics;
    auto exporter = MakeExporter(FastOptions(receiver->http_endpoint(), protocol));
    ASSERT_NE(exporter, nullptr);
    auto batch = SimpleBatch(2);
    EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
    const OtlpHttpExporterStats stats = exporter->Stats();
    EXPECT_EQ(stats.retries, 0u);
    EXPECT_EQ(stats.failed_spans, 2u);
    EXPECT_EQ(stats.last_http_status, 400);
    EXPECT_EQ(receiver->Requests().size(), 1u);
    EXPECT_THAT(exporter->last_error(), HasSubstr("HTTP 400"));
    EXPECT_THAT(exporter->last_error(), HasSubstr("receiver told to fail"));
    const auto messages = diagnostics.Get();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_THAT(messages[0], HasSubstr("HTTP 400"));
    EXPECT_THAT(messages[0], HasSubstr("dropped 2 span(s)"));
  }
}

TEST(OtlpHttpExporterIntegration, PartialSuccessIsCountedAndReportedOnce) {
  for (OtlpHttpProtocol protocol : {OtlpHttpProtocol::kProtobuf, OtlpHttpProtocol::kJson}) {
    OtlpReceiverProcess::Options receiver_options;
    receiver_options.partial_reject = 1;
    receiver_options.partial_message = "span too large";
    auto receiver = StartReceiver(receiver_options);
    ASSERT_NE(receiver, nullptr);
    DiagnosticCapture diagnostics;
    auto exporter = MakeExporter(FastOptions(receiver->http_endpoint(), protocol));
    ASSERT_NE(exporter, nullptr);
    auto batch = SimpleBatch(3);
    EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
    batch = SimpleBatch(3);
    EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
    const OtlpHttpExporterStats stats = exporter->Stats();
    EXPECT_EQ(stats.rejected_spans, 2u);
    EXPECT_EQ(stats.exported_spans, 4u);
    EXPECT_EQ(stats.retries, 0u);
    const auto messages = diagnostics.Get();
    ASSERT_EQ(messages.size(), 1u) << "rate limited to one message per interval";
    EXPECT_THAT(messages[0], HasSubstr("rejected 1 of 3 span(s): span too large"));
  }
}

// A body over max_request_bytes is split into halves until each fits, for both encodings; a
// lone span over the limit is POSTed alone.
TEST(OtlpHttpExporterIntegration, BodiesOverTheByteLimitAreSplitUntilTheyFit) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  const std::string prompt(20 * 1024, 'p');
  size_t expected_requests = 0;
  for (OtlpHttpProtocol protocol : {OtlpHttpProtocol::kProtobuf, OtlpHttpProtocol::kJson}) {
    OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint(), protocol);
    options.max_request_bytes = 100 * 1024;
    auto exporter = MakeExporter(options);
    ASSERT_NE(exporter, nullptr);
    auto batch = SimpleBatch(64);  // 64 x 20 KiB: 64 -> 32 -> 16 -> 8 -> 4 spans per POST
    for (auto& span : batch) span->attributes.Set("llm.prompt", std::string_view(prompt));
    ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
    EXPECT_EQ(exporter->Stats().exported_spans, 64u);
    EXPECT_EQ(exporter->Stats().failed_spans, 0u);
    expected_requests += 16;
    ASSERT_TRUE(receiver->WaitForRequests(expected_requests, kWait));
    const std::vector<Json> requests = receiver->Requests();
    ASSERT_EQ(requests.size(), expected_requests);
    for (size_t i = expected_requests - 16; i < expected_requests; ++i) {
      EXPECT_EQ(requests[i]["spanCount"], 4) << i;
    }
  }
  EXPECT_EQ(receiver->Spans().size(), 128u);

  OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint());
  options.max_request_bytes = 10 * 1024;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  std::vector<std::unique_ptr<otel::SpanData>> big;
  big.push_back(MakeSimpleSpan(200));
  big[0]->attributes.Set("llm.prompt", std::string_view(prompt));
  ASSERT_EQ(exporter->Export(big), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForRequests(expected_requests + 1, kWait));
  EXPECT_EQ(receiver->Requests().back()["spanCount"], 1);
}

TEST(OtlpHttpExporterIntegration, ConnectionIsReusedAcrossExports) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->http_endpoint()));
  ASSERT_NE(exporter, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto batch = SimpleBatch(1);
    ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  }
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["peer"], requests[1]["peer"]);
  EXPECT_EQ(requests[0]["peer"], requests[2]["peer"]);
}

TEST(OtlpHttpExporterIntegration, ShutdownMakesLaterExportsFailFast) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->http_endpoint()));
  ASSERT_NE(exporter, nullptr);
  EXPECT_TRUE(exporter->Shutdown(SteadyClock::now()));
  auto batch = SimpleBatch(2);
  const SteadyClock::time_point start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(100));
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
  EXPECT_TRUE(receiver->Requests().empty());
}

TEST(OtlpHttpExporterIntegration, ShutdownInterruptsARetryWait) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 1;
  receiver_options.retry_after_seconds = 5;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->http_endpoint()));
  ASSERT_NE(exporter, nullptr);
  std::thread stopper([&] {
    receiver->WaitForRequests(1, kWait);
    exporter->Shutdown(SteadyClock::now());
  });
  auto batch = SimpleBatch(1);
  const SteadyClock::time_point start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  stopper.join();
  EXPECT_LT(SteadyClock::now() - start, milliseconds(3000));
  EXPECT_THAT(exporter->last_error(), HasSubstr("shut down"));
}

// Exports `spans` simple spans on another thread.
std::future<otel::ExportResult> ExportInTheBackground(OtlpHttpExporter& exporter, int spans) {
  return std::async(std::launch::async, [&exporter, spans] {
    auto batch = SimpleBatch(spans);
    return exporter.Export(batch);
  });
}

// A receiver that accepts the connection and never answers: Shutdown() must end the request in
// flight at once (before, the exporter noticed only when libcurl next called its progress
// callback, about once a second, so a short BatchSpanProcessor shutdown abandoned the thread).
// The 5 s bound is a deadline far below the 60 s export timeout, not a performance assertion.
TEST(OtlpHttpExporterIntegration, ShutdownAbortsARequestInFlightWithoutRetrying) {
  testing::SilentListener listener;
  ASSERT_TRUE(listener.ok());
  OtlpHttpExporterOptions options = FastOptions(listener.http_base() + "/v1/traces");
  options.timeout = milliseconds(60000);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  std::future<otel::ExportResult> result = ExportInTheBackground(*exporter, 2);
  // The request (headers and body) is on the wire and the exporter waits for the answer.
  ASSERT_TRUE(listener.WaitForBytes(100, kWait));
  EXPECT_TRUE(exporter->Shutdown(SteadyClock::now()));
  ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "Shutdown() did not abort the request in flight";
  EXPECT_EQ(result.get(), otel::ExportResult::kFailure);
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
  EXPECT_EQ(exporter->Stats().retries, 0u);
  EXPECT_EQ(exporter->Stats().last_http_status, 0);
  EXPECT_THAT(exporter->last_error(), HasSubstr("shut down"));
}

// The multi-interface transfer loop wakes up for libcurl's own timers: the export timeout still
// ends a request to a receiver that never answers.
TEST(OtlpHttpExporterIntegration, ExportTimeoutEndsARequestToASilentReceiver) {
  testing::SilentListener listener;
  ASSERT_TRUE(listener.ok());
  OtlpHttpExporterOptions options = FastOptions(listener.http_base() + "/v1/traces");
  options.timeout = milliseconds(300);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  std::future<otel::ExportResult> result = ExportInTheBackground(*exporter, 1);
  ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(result.get(), otel::ExportResult::kFailure);
  EXPECT_EQ(exporter->Stats().failed_spans, 1u);
  EXPECT_THAT(exporter->last_error(),
              ::testing::AnyOf(HasSubstr("imeout"), HasSubstr("timed out")));
}

TEST(OtlpHttpExporterIntegration, InvalidEndpointsGiveClearErrors) {
  for (const char* endpoint : {"ftp://x/v1/traces", "http://", "localhost:4318", "https:///x"}) {
    OtlpHttpExporterOptions options;
    options.endpoint = endpoint;
    std::string error;
    EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr) << endpoint;
    EXPECT_FALSE(error.empty()) << endpoint;
  }
  OtlpHttpExporterOptions options;
  options.ca_cert_path = "/nonexistent/ca.pem";
  std::string error;
  EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("/nonexistent/ca.pem"));
}

TEST(OtlpHttpExporterIntegration, NoReceiverFailsWithinTheTimeout) {
  OtlpHttpExporterOptions options = FastOptions("http://127.0.0.1:1/v1/traces");
  options.timeout = milliseconds(800);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  const SteadyClock::time_point start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(1500));
  EXPECT_GT(exporter->Stats().retries, 0u) << "connection refused is retried";
  EXPECT_EQ(exporter->Stats().last_http_status, 0);
}

// TLS: a throw-away CA and server/client certificates (tests/support/tls_files.h).
using vllora::testing::TlsFiles;

TEST(OtlpHttpExporterIntegration, TlsWithATestCertificateAuthority) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok()) << "openssl (tools/install_deps.sh) could not create the test certificates";
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.tls_cert_path = tls.Path("server.pem");
  receiver_options.tls_key_path = tls.Path("server.key");
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  ASSERT_THAT(receiver->http_endpoint(), ::testing::StartsWith("https://"));

  // Without the test CA the server is not trusted: fails, and is not retried.
  auto untrusted = MakeExporter(FastOptions(receiver->http_endpoint()));
  ASSERT_NE(untrusted, nullptr);
  auto batch = SimpleBatch(1);
  EXPECT_EQ(untrusted->Export(batch), otel::ExportResult::kFailure);
  EXPECT_EQ(untrusted->Stats().retries, 0u);

  OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint());
  options.ca_cert_path = tls.Path("ca.pem");
  auto trusted = MakeExporter(options);
  ASSERT_NE(trusted, nullptr);
  batch = SimpleBatch(2);
  EXPECT_EQ(trusted->Export(batch), otel::ExportResult::kSuccess) << trusted->last_error();
  EXPECT_TRUE(receiver->WaitForSpans(2, kWait));
}

}  // namespace
}  // namespace vllora::otlp

namespace vllora::otlp {
namespace {

TEST(OtlpHttpExporterIntegration, MutualTlsSendsTheClientCertificate) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok()) << "openssl (tools/install_deps.sh) could not create the test certificates";
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.tls_cert_path = tls.Path("server.pem");
  receiver_options.tls_key_path = tls.Path("server.key");
  receiver_options.tls_client_ca_path = tls.Path("ca.pem");
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);

  OtlpHttpExporterOptions options = FastOptions(receiver->http_endpoint());
  options.ca_cert_path = tls.Path("ca.pem");
  options.max_attempts = 1;
  auto anonymous = MakeExporter(options);
  ASSERT_NE(anonymous, nullptr);
  auto batch = SimpleBatch(1);
  EXPECT_EQ(anonymous->Export(batch), otel::ExportResult::kFailure);

  options.client_cert_path = tls.Path("client.pem");
  options.client_key_path = tls.Path("client.key");
  auto identified = MakeExporter(options);
  ASSERT_NE(identified, nullptr);
  batch = SimpleBatch(2);
  EXPECT_EQ(identified->Export(batch), otel::ExportResult::kSuccess) << identified->last_error();
  EXPECT_TRUE(receiver->WaitForSpans(2, kWait));
}

}  // namespace
}  // namespace vllora::otlp
