// The OTLP/gRPC exporter against the independent JavaScript receiver
// (tests/support/otlp_receiver): every field must arrive exactly as it was recorded, and the
// transport behaviours (metadata, retries, deadline, gzip, partial success, shutdown) must hold.
#include "vllora/otlp/otlp_grpc_exporter.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "support/otlp_receiver_process.h"
#include "support/otlp_span_fixtures.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otlp {
namespace {

using testing::FixtureResource;
using testing::FixtureScope;
using testing::FixtureSpanId;
using testing::FixtureTraceId;
using ::testing::HasSubstr;
using testing::MakeRichSpan;
using testing::MakeSimpleSpan;
using testing::OtlpReceiverProcess;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kWait{15000};

std::unique_ptr<OtlpReceiverProcess> StartReceiver(
    const OtlpReceiverProcess::Options& options = {}) {
  std::string error;
  auto receiver = OtlpReceiverProcess::Start(options, &error);
  EXPECT_NE(receiver, nullptr) << error;
  return receiver;
}

OtlpGrpcExporterOptions FastOptions(const std::string& endpoint) {
  OtlpGrpcExporterOptions options;
  options.endpoint = endpoint;
  options.timeout = milliseconds(10000);
  options.initial_backoff = milliseconds(50);
  options.max_backoff = milliseconds(200);
  return options;
}

std::unique_ptr<OtlpGrpcExporter> MakeExporter(const OtlpGrpcExporterOptions& options) {
  std::string error;
  auto exporter = OtlpGrpcExporter::Create(options, &error);
  EXPECT_NE(exporter, nullptr) << error;
  return exporter;
}

std::vector<std::unique_ptr<otel::SpanData>> SimpleBatch(int count) {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  for (int i = 0; i < count; ++i) batch.push_back(MakeSimpleSpan(static_cast<uint8_t>(i)));
  return batch;
}

const Json* FindSpan(const std::vector<Json>& spans, std::string_view name) {
  for (const Json& span : spans) {
    if (span["name"] == name) return &span;
  }
  return nullptr;
}

Json Typed(const char* type, Json value) {
  return Json{{"type", type}, {"value", std::move(value)}};
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

TEST(OtlpGrpcExporterIntegration, EveryFieldRoundTrips) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);

  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeRichSpan());
  batch.push_back(
      MakeSimpleSpan(1, FixtureResource("other-service"), FixtureScope("other.lib", "")));
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(2, kWait));

  const std::vector<Json> spans = receiver->Spans();
  ASSERT_EQ(spans.size(), 2u);
  const Json* rich = FindSpan(spans, "chat gpt-4o");
  ASSERT_NE(rich, nullptr);
  const Json& s = *rich;
  EXPECT_EQ(s["traceId"], FixtureTraceId(1).ToHex());
  EXPECT_EQ(s["spanId"], FixtureSpanId(1).ToHex());
  EXPECT_EQ(s["parentSpanId"], FixtureSpanId(2).ToHex());
  EXPECT_EQ(s["traceState"], "vendor=abc,other=1");
  EXPECT_EQ(s["flags"], 0x301);  // sampled, remote parent (known)
  EXPECT_EQ(s["kind"], 3);       // CLIENT
  EXPECT_EQ(s["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(s["endTimeUnixNano"], "1700000001987654321");
  EXPECT_EQ(s["status"], (Json{{"code", 2}, {"message", "upstream failed"}}));
  EXPECT_EQ(s["droppedAttributesCount"], 0);
  EXPECT_EQ(s["droppedEventsCount"], 3);
  EXPECT_EQ(s["droppedLinksCount"], 4);

  const Json expected_attributes = {
      {"str", Typed("string", "hello")},
      {"str.unicode", Typed("string", "h\xC3\xA9llo \xE2\x9C\x93")},
      {"str.escape", Typed("string", "quote\" backslash\\ nl\n tab\t")},
      {"str.empty", Typed("string", "")},
      {"bool.true", Typed("bool", true)},
      {"int.neg", Typed("int", "-42")},
      {"int.max", Typed("int", "9223372036854775807")},
      {"uint.small", Typed("int", "7")},
      {"uint.big", Typed("string", "18446744073709551615")},
      {"double", Typed("double", 0.1)},
  };
  EXPECT_EQ(s["attributes"], expected_attributes) << s["attributes"].dump(2);
  EXPECT_EQ(s["attributeCount"], 10);
  EXPECT_EQ(s["attributes"]["double"]["value"].get<double>(), 0.1);

  ASSERT_EQ(s["events"].size(), 2u);
  EXPECT_EQ(s["events"][0]["name"], "first");
  EXPECT_EQ(s["events"][0]["timeUnixNano"], "1700000000500000000");
  EXPECT_EQ(s["events"][0]["attributes"],
            (Json{{"event.n", Typed("int", "1")}, {"event.flag", Typed("bool", false)}}));
  EXPECT_EQ(s["events"][1]["name"], "second");
  EXPECT_EQ(s["events"][1]["timeUnixNano"], "1700000000600000000");
  EXPECT_EQ(s["events"][1]["attributes"], Json::object());

  ASSERT_EQ(s["links"].size(), 2u);
  EXPECT_EQ(s["links"][0]["traceId"], FixtureTraceId(2).ToHex());
  EXPECT_EQ(s["links"][0]["spanId"], FixtureSpanId(3).ToHex());
  EXPECT_EQ(s["links"][0]["traceState"], "k=v");
  EXPECT_EQ(s["links"][0]["flags"], 0x301);
  EXPECT_EQ(s["links"][0]["attributes"], (Json{{"link.kind", Typed("string", "follows")}}));
  EXPECT_EQ(s["links"][1]["traceId"], FixtureTraceId(1).ToHex());
  EXPECT_EQ(s["links"][1]["spanId"], FixtureSpanId(4).ToHex());
  EXPECT_EQ(s["links"][1]["flags"], 0x100);

  EXPECT_EQ(s["resource"]["attributes"],
            (Json{{"service.name", Typed("string", "svc")}, {"host.cores", Typed("int", "8")}}));
  EXPECT_EQ(s["resource"]["schemaUrl"], "https://opentelemetry.io/schemas/1.24.0");
  EXPECT_EQ(s["scope"]["name"], "my.lib");
  EXPECT_EQ(s["scope"]["version"], "1.2.3");
  EXPECT_EQ(s["scope"]["schemaUrl"], "https://opentelemetry.io/schemas/1.21.0");

  const Json* simple = FindSpan(spans, "simple-1");
  ASSERT_NE(simple, nullptr);
  EXPECT_EQ((*simple)["parentSpanId"], "");
  EXPECT_EQ((*simple)["flags"], 0x101);
  EXPECT_EQ((*simple)["kind"], 1);
  EXPECT_EQ((*simple)["status"], (Json{{"code", 0}, {"message", ""}}));
  EXPECT_EQ((*simple)["startTimeUnixNano"], "1001");
  EXPECT_EQ((*simple)["resource"]["attributes"]["service.name"]["value"], "other-service");
  EXPECT_EQ((*simple)["scope"]["name"], "other.lib");
  EXPECT_EQ((*simple)["scope"]["version"], "");

  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["spanCount"], 2);
  EXPECT_EQ(requests[0]["grpcEncoding"], "identity");
  EXPECT_THAT(requests[0]["headers"]["user-agent"].get<std::string>(),
              HasSubstr("vllora-telemetry-cpp/"));

  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.exported_spans, 2u);
  EXPECT_EQ(stats.failed_spans, 0u);
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.export_calls, 1u);
}

TEST(OtlpGrpcExporterIntegration, ChannelIsReusedAcrossExports) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto batch = SimpleBatch(2);
    ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  }
  ASSERT_TRUE(receiver->WaitForSpans(6, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  // One connection: every request comes from the same client port.
  EXPECT_EQ(requests[0]["peer"], requests[1]["peer"]);
  EXPECT_EQ(requests[1]["peer"], requests[2]["peer"]);
  EXPECT_EQ(exporter->Stats().exported_spans, 6u);
}

TEST(OtlpGrpcExporterIntegration, MetadataHeadersArrive) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.require_headers = {"authorization=Bearer secret", "x-tenant=t1"};
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.headers = {{"Authorization", "Bearer secret"}, {"x-tenant", "t1"}};
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(1, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["status"], "OK");
  EXPECT_EQ(requests[0]["headers"]["authorization"], "Bearer secret");
  EXPECT_EQ(requests[0]["headers"]["x-tenant"], "t1");
}

TEST(OtlpGrpcExporterIntegration, MissingHeaderIsNotRetried) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.require_headers = {"authorization=Bearer secret"};
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  DiagnosticCapture diagnostics;
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(2);
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  ASSERT_TRUE(receiver->WaitForRequests(1, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);  // UNAUTHENTICATED is final
  EXPECT_EQ(requests[0]["status"], "UNAUTHENTICATED");
  EXPECT_TRUE(receiver->Spans().empty());
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
  EXPECT_EQ(exporter->Stats().retries, 0u);
  const auto messages = diagnostics.Get();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_THAT(messages[0], HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(messages[0], HasSubstr("dropped 2 span(s)"));
}

TEST(OtlpGrpcExporterIntegration, RetriesUnavailableAndDeliversExactlyOnce) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 2;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(3);
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(3, kWait));
  // Nothing else is in flight once Export() returned; read once more after a pause to be sure
  // no duplicate arrives late.
  std::this_thread::sleep_for(milliseconds(300));
  const std::vector<Json> spans = receiver->Spans();
  ASSERT_EQ(spans.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(FindSpan(spans, "simple-" + std::to_string(i)), nullptr) << i;
  }
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["status"], "UNAVAILABLE");
  EXPECT_EQ(requests[1]["status"], "UNAVAILABLE");
  EXPECT_EQ(requests[2]["status"], "OK");
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.exported_spans, 3u);
  EXPECT_EQ(stats.failed_spans, 0u);
  EXPECT_EQ(stats.export_calls, 1u);
}

TEST(OtlpGrpcExporterIntegration, GivesUpAfterMaxAttempts) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 100;
  receiver_options.fail_code = "UNAVAILABLE";
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.max_attempts = 3;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  ASSERT_TRUE(receiver->WaitForRequests(3, kWait));
  EXPECT_EQ(receiver->Requests().size(), 3u);
  EXPECT_EQ(exporter->Stats().retries, 2u);
  EXPECT_EQ(exporter->Stats().failed_spans, 1u);
}

// A batch of at least 2 x 256 spans is sent as max_concurrent_requests requests at once; the
// call still returns only when all are answered, with complete counters.
TEST(OtlpGrpcExporterIntegration, BigBatchIsSplitIntoConcurrentRequestsDeliveredOnce) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.max_concurrent_requests = 3;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(900);
  batch[5] = nullptr;  // a null entry is skipped, not counted
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  EXPECT_EQ(exporter->Stats().exported_spans, 899u);
  EXPECT_EQ(exporter->Stats().export_calls, 1u);
  EXPECT_EQ(exporter->Stats().failed_spans, 0u);
  ASSERT_TRUE(receiver->WaitForRequests(3, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  std::vector<int> counts;
  for (const Json& request : requests) counts.push_back(request["spanCount"].get<int>());
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<int>{299, 300, 300}));
  // A batch below 2 x 256 spans stays one request.
  auto small = SimpleBatch(511);
  ASSERT_EQ(exporter->Export(small), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForRequests(4, kWait));
  EXPECT_EQ(receiver->Requests().size(), 4u);
  EXPECT_EQ(receiver->Requests()[3]["spanCount"], 511);
}

// A request that encodes over max_request_bytes is split in halves until each fits, so a
// receiver's message limit never refuses a whole batch; a lone span over the limit goes alone.
TEST(OtlpGrpcExporterIntegration, RequestsOverTheByteLimitAreSplitUntilTheyFit) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.max_concurrent_requests = 1;
  options.max_request_bytes = 100 * 1024;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  const std::string prompt(20 * 1024, 'p');  // 64 spans x 20 KiB: ~1.3 MB in all
  auto batch = SimpleBatch(64);
  for (auto& span : batch) span->attributes.Set("llm.prompt", std::string_view(prompt));
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  EXPECT_EQ(exporter->Stats().exported_spans, 64u);
  EXPECT_EQ(exporter->Stats().failed_spans, 0u);
  // 64 -> 32 -> 16 -> 8 -> 4 spans: 4 x ~20 KiB is the first size under 100 KiB.
  ASSERT_TRUE(receiver->WaitForRequests(16, kWait));
  std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 16u);
  std::vector<std::string> names;
  for (const Json& request : requests) {
    EXPECT_EQ(request["status"], "OK");
    EXPECT_EQ(request["spanCount"], 4);
  }
  std::vector<Json> spans = receiver->Spans();
  ASSERT_EQ(spans.size(), 64u);
  for (const Json& span : spans) names.push_back(span["name"].get<std::string>());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  EXPECT_EQ(names.size(), 64u);  // each span exactly once

  // One span bigger than the limit is sent alone, as it is.
  std::vector<std::unique_ptr<otel::SpanData>> big;
  big.push_back(MakeSimpleSpan(200));
  big[0]->attributes.Set("llm.prompt", std::string_view(std::string(150 * 1024, 'q')));
  ASSERT_EQ(exporter->Export(big), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForRequests(17, kWait));
  requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 17u);
  EXPECT_EQ(requests[16]["spanCount"], 1);
  EXPECT_EQ(exporter->Stats().exported_spans, 65u);
}

TEST(OtlpGrpcExporterIntegration, SplitBatchFailsAsAWholeAndCountsEveryPart) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 100;
  receiver_options.fail_code = "UNAVAILABLE";
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.max_attempts = 2;
  options.max_concurrent_requests = 2;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(600);
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  EXPECT_EQ(exporter->Stats().failed_spans, 600u);
  EXPECT_EQ(exporter->Stats().exported_spans, 0u);
  EXPECT_EQ(exporter->Stats().retries, 2u);  // one per part
  ASSERT_TRUE(receiver->WaitForRequests(4, kWait));
  EXPECT_EQ(receiver->Requests().size(), 4u);
}

// RESOURCE_EXHAUSTED is retried only when the answer says when to come back (RetryInfo).
TEST(OtlpGrpcExporterIntegration, ResourceExhaustedWithoutRetryInfoFailsAtOnce) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 100;
  receiver_options.fail_code = "RESOURCE_EXHAUSTED";
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.max_attempts = 3;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(2);
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  ASSERT_TRUE(receiver->WaitForRequests(1, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(exporter->Stats().retries, 0u);
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
}

TEST(OtlpGrpcExporterIntegration, ResourceExhaustedWithRetryInfoIsRetried) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.fail_first = 2;
  receiver_options.fail_code = "RESOURCE_EXHAUSTED";
  receiver_options.retry_info_ms = 20;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  // A backoff far beyond the timeout: only the RetryInfo delay (replacing it) lets the retries
  // happen within the 10 s deadline.
  options.initial_backoff = milliseconds(60000);
  options.max_backoff = milliseconds(60000);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(2);
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(requests[1]["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(requests[2]["status"], "OK");
  EXPECT_EQ(receiver->Spans().size(), 2u);
  EXPECT_EQ(exporter->Stats().retries, 2u);
  EXPECT_EQ(exporter->Stats().exported_spans, 2u);
}

TEST(OtlpGrpcExporterIntegration, GzipCompressedRequestsArrive) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.gzip = true;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeRichSpan());
  ASSERT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(1, kWait));
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["grpcEncoding"], "gzip");
  const Json span = receiver->Spans()[0];
  EXPECT_EQ(span["name"], "chat gpt-4o");
  EXPECT_EQ(span["attributes"]["uint.big"], Typed("string", "18446744073709551615"));
}

TEST(OtlpGrpcExporterIntegration, PartialSuccessIsCountedAndReported) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.partial_reject = 1;
  receiver_options.partial_message = "span too large";
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  DiagnosticCapture diagnostics;
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(3);
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kSuccess);
  auto second = SimpleBatch(3);
  EXPECT_EQ(exporter->Export(second), otel::ExportResult::kSuccess);
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.rejected_spans, 2u);
  EXPECT_EQ(stats.exported_spans, 4u);
  EXPECT_EQ(stats.retries, 0u);  // partial success is never retried
  const auto messages = diagnostics.Get();
  ASSERT_EQ(messages.size(), 1u) << "rate limited to one message per interval";
  EXPECT_THAT(messages[0], HasSubstr("rejected 1 of 3 span(s): span too large"));
}

TEST(OtlpGrpcExporterIntegration, InvalidEndpointsGiveClearErrors) {
  for (const char* endpoint : {"ftp://x", "http://", "http://localhost:0", "http://localhost:x"}) {
    OtlpGrpcExporterOptions options;
    options.endpoint = endpoint;
    std::string error;
    EXPECT_EQ(MakeOtlpGrpcExporter(options, &error), nullptr) << endpoint;
    EXPECT_THAT(error, HasSubstr(std::string("invalid OTLP gRPC endpoint \"") + endpoint + "\""));
  }
}

int UnusedLocalPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  // The sockets API takes sockaddr*; sockaddr_in is its documented IPv4 layout.
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return 0;
  }
  close(fd);  // nothing listens there now
  return ntohs(address.sin_port);
}

TEST(OtlpGrpcExporterIntegration, NoReceiverFailsWithinTheTimeout) {
  const int port = UnusedLocalPort();
  ASSERT_GT(port, 0);
  OtlpGrpcExporterOptions options = FastOptions("http://127.0.0.1:" + std::to_string(port));
  options.timeout = milliseconds(1500);
  options.max_attempts = 100;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(2);
  const auto start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  const auto elapsed = SteadyClock::now() - start;
  EXPECT_LT(elapsed, milliseconds(1500 + 1000));
  EXPECT_GE(exporter->Stats().retries, 1u);
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
}

TEST(OtlpGrpcExporterIntegration, SlowReceiverHitsTheDeadline) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.delay_ms = 4000;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  OtlpGrpcExporterOptions options = FastOptions(receiver->endpoint());
  options.timeout = milliseconds(800);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = SimpleBatch(1);
  const auto start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(800 + 1000));
  EXPECT_EQ(exporter->Stats().failed_spans, 1u);
}

TEST(OtlpGrpcExporterIntegration, ShutdownCancelsAnExportInFlightAndLaterOnesFailFast) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.delay_ms = 5000;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);
  auto in_flight = std::async(std::launch::async, [&exporter] {
    auto batch = SimpleBatch(1);
    return exporter->Export(batch);
  });
  std::this_thread::sleep_for(milliseconds(500));  // let the call reach the (delaying) receiver
  const auto start = SteadyClock::now();
  EXPECT_TRUE(exporter->Shutdown(SteadyClock::now() + milliseconds(100)));
  EXPECT_EQ(in_flight.get(), otel::ExportResult::kFailure);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(2000));

  auto later = SimpleBatch(1);
  const auto later_start = SteadyClock::now();
  EXPECT_EQ(exporter->Export(later), otel::ExportResult::kFailure);
  EXPECT_LT(SteadyClock::now() - later_start, milliseconds(100));
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
}

// Two threads export on one exporter at the same time (the BatchSpanProcessor does this with
// max_concurrent_exports > 1): both succeed and every span arrives exactly once.
TEST(OtlpGrpcExporterIntegration, ConcurrentExportsFromTwoThreadsDeliverEverySpanOnce) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(FastOptions(receiver->endpoint()));
  ASSERT_NE(exporter, nullptr);
  EXPECT_EQ(exporter->MaxConcurrentExports(), 4u);
  constexpr int kPerThread = 120;
  std::latch start(2);
  auto export_from = [&](int first_seed) {
    std::vector<std::unique_ptr<otel::SpanData>> batch;
    for (int i = 0; i < kPerThread; ++i) {
      batch.push_back(MakeSimpleSpan(static_cast<uint8_t>(first_seed + i)));
    }
    start.arrive_and_wait();
    return exporter->Export(batch);
  };
  auto a = std::async(std::launch::async, export_from, 0);
  auto b = std::async(std::launch::async, export_from, kPerThread);
  EXPECT_EQ(a.get(), otel::ExportResult::kSuccess);
  EXPECT_EQ(b.get(), otel::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForSpans(2 * kPerThread, kWait));
  std::multiset<std::string> names;
  for (const Json& span : receiver->Spans()) names.insert(span["name"].get<std::string>());
  std::multiset<std::string> expected;
  for (int i = 0; i < 2 * kPerThread; ++i) expected.insert("simple-" + std::to_string(i));
  EXPECT_EQ(names, expected);
  EXPECT_EQ(receiver->Requests().size(), 2u);
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.exported_spans, 2u * kPerThread);
  EXPECT_EQ(stats.export_calls, 2u);
  EXPECT_EQ(stats.failed_spans, 0u);
  EXPECT_EQ(stats.retries, 0u);
}

// An in-process TraceService that holds each request until `expected` requests are being
// handled at the same time, Release() is called, or a deadline passes: it proves that calls
// overlap.
class RendezvousTraceService final
    : public ::opentelemetry::proto::collector::trace::v1::TraceService::Service {
 public:
  explicit RendezvousTraceService(int expected) : expected_(expected) {}

  grpc::Status Export(
      grpc::ServerContext*,
      const ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request,
      ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse*) override {
    std::unique_lock<std::mutex> lock(mutex_);
    ++arrived_;
    for (const auto& resource_spans : request->resource_spans()) {
      for (const auto& scope_spans : resource_spans.scope_spans()) {
        for (const auto& span : scope_spans.spans()) names_.insert(span.name());
      }
    }
    cv_.notify_all();
    // Generous: a serializing exporter makes this wait run out (and the test fail) instead of
    // hanging; the exporter's own timeout is longer.
    cv_.wait_for(lock, std::chrono::seconds(10),
                 [&] { return arrived_ >= expected_ || released_; });
    if (arrived_ >= expected_) ++met_;
    return grpc::Status::OK;
  }

  bool WaitArrived(int count, milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return arrived_ >= count; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

  int met() {
    std::lock_guard<std::mutex> lock(mutex_);
    return met_;
  }
  std::multiset<std::string> names() {
    std::lock_guard<std::mutex> lock(mutex_);
    return names_;
  }

 private:
  const int expected_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool released_ = false;
  int met_ = 0;  // requests that saw all `expected_` requests in progress
  std::multiset<std::string> names_;
};

// An in-process gRPC server for `service` on a free port of 127.0.0.1 (`*port`); null if it
// cannot start.
std::unique_ptr<grpc::Server> StartLoopbackServer(grpc::Service& service, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterService(&service);
  return builder.BuildAndStart();
}

TEST(OtlpGrpcExporterIntegration, ConcurrentExportsAreInFlightAtTheSameTime) {
  RendezvousTraceService service(2);
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartLoopbackServer(service, &port);
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  OtlpGrpcExporterOptions options = FastOptions("http://127.0.0.1:" + std::to_string(port));
  options.timeout = milliseconds(30000);  // longer than the service's hold
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto export_one = [&](uint8_t seed) {
    std::vector<std::unique_ptr<otel::SpanData>> batch;
    batch.push_back(MakeSimpleSpan(seed));
    return exporter->Export(batch);
  };
  auto a = std::async(std::launch::async, export_one, uint8_t{1});
  auto b = std::async(std::launch::async, export_one, uint8_t{2});
  EXPECT_EQ(a.get(), otel::ExportResult::kSuccess);
  EXPECT_EQ(b.get(), otel::ExportResult::kSuccess);
  // Each request was held until the other one arrived: the two calls overlapped.
  EXPECT_EQ(service.met(), 2);
  EXPECT_EQ(service.names(), (std::multiset<std::string>{"simple-1", "simple-2"}));
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.exported_spans, 2u);
  EXPECT_EQ(stats.export_calls, 2u);
  EXPECT_EQ(stats.failed_spans, 0u);
  exporter.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

// Shutdown() cancels every concurrent call, not only one.
TEST(OtlpGrpcExporterIntegration, ShutdownCancelsEveryConcurrentExport) {
  RendezvousTraceService service(3);  // two calls never meet three: held until Release()
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartLoopbackServer(service, &port);
  ASSERT_NE(server, nullptr);
  OtlpGrpcExporterOptions options = FastOptions("http://127.0.0.1:" + std::to_string(port));
  options.timeout = milliseconds(30000);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  auto export_one = [&] {
    auto batch = SimpleBatch(1);
    return exporter->Export(batch);
  };
  auto a = std::async(std::launch::async, export_one);
  auto b = std::async(std::launch::async, export_one);
  const bool both_arrived = service.WaitArrived(2, kWait);
  EXPECT_TRUE(both_arrived);
  EXPECT_TRUE(exporter->Shutdown(SteadyClock::now() + milliseconds(100)));
  // Without the cancel each call would wait for the held answer; wait_for is a hang detector.
  EXPECT_EQ(a.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(b.wait_for(kWait), std::future_status::ready);
  service.Release();
  EXPECT_EQ(a.get(), otel::ExportResult::kFailure);
  EXPECT_EQ(b.get(), otel::ExportResult::kFailure);
  EXPECT_EQ(exporter->Stats().failed_spans, 2u);
  EXPECT_EQ(exporter->Stats().exported_spans, 0u);
  exporter.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST(OtlpGrpcExporterIntegration, ReceiverHelperReportsStartFailures) {
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.extra_args = {"--no-such-flag"};
  std::string error;
  EXPECT_EQ(OtlpReceiverProcess::Start(receiver_options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("receiver exited before listening"));
}

}  // namespace
}  // namespace vllora::otlp
