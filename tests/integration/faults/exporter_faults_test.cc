// Fault injection on the exporting side (issue 8). The real pipeline - TracerProvider,
// BatchSpanProcessor, OTLP/gRPC or OTLP/HTTP exporter - runs against the independent JavaScript
// receiver (tests/support/otlp_receiver) while that receiver is absent, restarts, answers late or
// answers with errors. Each test prints one line
//   [faults] <scenario>: emitted=N delivered=N dropped=N (queue_full=N export_failed=N) ...
// (also recorded as gtest properties) and asserts the counts wherever they are deterministic:
// every emitted span is either delivered exactly once or counted as dropped.
//
// Spans are always ended on the test thread, so "End() never waits for I/O" is shown by the test
// going on while nothing can be delivered; no assertion depends on how long anything took.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/otlp_receiver_process.h"
#include "vllora/otel/batch_span_processor.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otel/tracer.h"
#include "vllora/otel/tracer_provider.h"
#include "vllora/otlp/otlp_grpc_exporter.h"
#include "vllora/otlp/otlp_http_exporter.h"

namespace vllora::otlp {
namespace {

using testing::OtlpReceiverProcess;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kWait{15000};

// A port on 127.0.0.1 that nothing listens on (bound once by the kernel's choice, then closed),
// so connecting is refused until a receiver is started on it.
int ReservePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

std::unique_ptr<OtlpReceiverProcess> StartReceiver(const OtlpReceiverProcess::Options& options) {
  std::string error;
  auto receiver = OtlpReceiverProcess::Start(options, &error);
  EXPECT_NE(receiver, nullptr) << error;
  return receiver;
}

// Exporter settings that keep every scenario short: small backoffs, a bounded attempt count.
OtlpGrpcExporterOptions GrpcOptions(const std::string& endpoint) {
  OtlpGrpcExporterOptions options;
  options.endpoint = endpoint;
  options.timeout = milliseconds(5000);
  options.max_attempts = 4;
  options.initial_backoff = milliseconds(20);
  options.max_backoff = milliseconds(100);
  return options;
}

OtlpHttpExporterOptions HttpOptions(const std::string& endpoint) {
  OtlpHttpExporterOptions options;
  options.endpoint = endpoint;
  options.timeout = milliseconds(5000);
  options.max_attempts = 4;
  options.initial_backoff = milliseconds(20);
  options.max_backoff = milliseconds(100);
  return options;
}

otel::BatchSpanProcessorOptions BatchOptions(size_t max_queue_size, size_t batch_size) {
  otel::BatchSpanProcessorOptions options;
  options.max_queue_size = max_queue_size;
  options.max_export_batch_size = batch_size;
  options.schedule_delay = milliseconds(50);
  options.export_timeout = milliseconds(10000);
  options.stats_log_interval = milliseconds(60000);
  return options;
}

// TracerProvider -> BatchSpanProcessor -> exporter, with the processor's and exporter's counters
// reachable (both are owned by the provider and live as long as it does).
struct Pipeline {
  std::shared_ptr<otel::TracerProvider> provider;
  std::shared_ptr<otel::Tracer> tracer;
  otel::BatchSpanProcessor* processor = nullptr;
  OtlpGrpcExporter* grpc = nullptr;
  OtlpHttpExporter* http = nullptr;
  std::vector<std::string> emitted_ids;  // span ids (hex) in emission order

  // Starts and ends `count` spans on the calling thread; returns how many End() calls returned.
  size_t Emit(size_t count, const std::string& prefix) {
    size_t ended = 0;
    for (size_t i = 0; i < count; ++i) {
      std::unique_ptr<otel::Span> span = tracer->StartSpan(prefix + "-" + std::to_string(i));
      otel::Span* raw = span.get();
      if (raw == nullptr) continue;
      emitted_ids.push_back(raw->context().span_id().ToHex());
      raw->End();
      ++ended;
    }
    return ended;
  }

  OtlpExporterStats ExporterStats() const {
    if (grpc != nullptr) return grpc->Stats();
    if (http != nullptr) return http->Stats();
    return {};
  }
};

Pipeline MakePipeline(std::unique_ptr<otel::SpanExporter> exporter,
                      const otel::BatchSpanProcessorOptions& batch_options) {
  Pipeline pipeline;
  auto processor = std::make_unique<otel::BatchSpanProcessor>(std::move(exporter), batch_options);
  pipeline.processor = processor.get();
  pipeline.provider = otel::TracerProvider::builder()
                          .WithSpanProcessor(std::move(processor))
                          .WithResource(otel::Resource::Create({{"service.name", "faults"}}))
                          .Build();
  pipeline.tracer = pipeline.provider->GetTracer("faults.test");
  return pipeline;
}

Pipeline MakeGrpcPipeline(const OtlpGrpcExporterOptions& options,
                          const otel::BatchSpanProcessorOptions& batch_options) {
  std::string error;
  auto exporter = OtlpGrpcExporter::Create(options, &error);
  EXPECT_NE(exporter, nullptr) << error;
  OtlpGrpcExporter* raw = exporter.get();
  Pipeline pipeline = MakePipeline(std::move(exporter), batch_options);
  pipeline.grpc = raw;
  return pipeline;
}

Pipeline MakeHttpPipeline(const OtlpHttpExporterOptions& options,
                          const otel::BatchSpanProcessorOptions& batch_options) {
  std::string error;
  auto exporter = OtlpHttpExporter::Create(options, &error);
  EXPECT_NE(exporter, nullptr) << error;
  OtlpHttpExporter* raw = exporter.get();
  Pipeline pipeline = MakePipeline(std::move(exporter), batch_options);
  pipeline.http = raw;
  return pipeline;
}

// Span ids the receivers accepted; `duplicates` counts ids seen more than once.
struct Delivered {
  std::set<std::string> ids;
  size_t records = 0;
  size_t duplicates = 0;
};

Delivered CollectDelivered(const std::vector<const OtlpReceiverProcess*>& receivers) {
  Delivered out;
  for (const OtlpReceiverProcess* receiver : receivers) {
    for (const Json& span : receiver->Spans()) {
      ++out.records;
      if (!out.ids.insert(span.value("spanId", "")).second) ++out.duplicates;
    }
  }
  return out;
}

size_t CountRequests(const OtlpReceiverProcess& receiver, const std::string& status) {
  size_t n = 0;
  for (const Json& request : receiver.Requests()) {
    if (request.value("status", "") == status) ++n;
  }
  return n;
}

// The one line (and gtest properties) each scenario reports.
void Report(const std::string& scenario, size_t emitted, size_t delivered,
            const otel::BatchSpanProcessorStats& stats, size_t requests) {
  const uint64_t dropped =
      stats.dropped_queue_full + stats.dropped_byte_limit + stats.export_failures;
  std::printf(
      "[faults] %s: emitted=%zu delivered=%zu dropped=%llu (queue_full=%llu byte_limit=%llu "
      "export_failed=%llu) export_calls=%llu receiver_requests=%zu\n",
      scenario.c_str(), emitted, delivered, static_cast<unsigned long long>(dropped),
      static_cast<unsigned long long>(stats.dropped_queue_full),
      static_cast<unsigned long long>(stats.dropped_byte_limit),
      static_cast<unsigned long long>(stats.export_failures),
      static_cast<unsigned long long>(stats.export_calls), requests);
  std::fflush(stdout);
  ::testing::Test::RecordProperty("emitted", std::to_string(emitted));
  ::testing::Test::RecordProperty("delivered", std::to_string(delivered));
  ::testing::Test::RecordProperty("dropped", std::to_string(dropped));
  ::testing::Test::RecordProperty("dropped_queue_full", std::to_string(stats.dropped_queue_full));
  ::testing::Test::RecordProperty("export_failed", std::to_string(stats.export_failures));
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
template <typename F>
bool WaitUntil(F done, milliseconds timeout) {
  const SteadyClock::time_point end = SteadyClock::now() + timeout;
  while (!done()) {
    if (SteadyClock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

// SDK diagnostics emitted while a test runs.
class DiagnosticCapture {
 public:
  DiagnosticCapture() {
    {
      std::lock_guard<std::mutex> lock(Mutex());
      Messages().clear();
    }
    otel::SetDiagnosticHandler([](otel::DiagnosticLevel, std::string_view message) {
      std::lock_guard<std::mutex> lock(Mutex());
      Messages().emplace_back(message);
    });
  }
  ~DiagnosticCapture() { otel::SetDiagnosticHandler(nullptr); }
  DiagnosticCapture(const DiagnosticCapture&) = delete;
  DiagnosticCapture& operator=(const DiagnosticCapture&) = delete;

  std::vector<std::string> Matching(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(Mutex());
    std::vector<std::string> out;
    for (const std::string& m : Messages()) {
      if (m.find(needle) != std::string::npos) out.push_back(m);
    }
    return out;
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

// 1. The receiver is absent when the app starts: spans queue up to the bound, the rest are
// dropped and counted; once the receiver appears on the configured port, export resumes by
// itself and every span is delivered once or counted as dropped.
TEST(ExporterFaults, ReceiverAbsentAtStartThenAppears) {
  const int port = ReservePort();
  ASSERT_GT(port, 0);
  OtlpGrpcExporterOptions options = GrpcOptions("http://127.0.0.1:" + std::to_string(port));
  options.timeout = milliseconds(1000);
  options.max_attempts = 2;
  constexpr size_t kQueue = 64;
  Pipeline pipeline = MakeGrpcPipeline(options, BatchOptions(kQueue, 16));
  ASSERT_NE(pipeline.grpc, nullptr);

  // The app runs normally with nowhere to send: 2000 spans end on this thread.
  constexpr size_t kWhileAbsent = 2000;
  ASSERT_EQ(pipeline.Emit(kWhileAbsent, "absent"), kWhileAbsent);
  const otel::BatchSpanProcessorStats absent = pipeline.processor->Stats();
  // Every span was either queued or dropped at once; at most kQueue are in the queue and at most
  // max_concurrent_exports batches are out of it (being exported), so the rest were dropped and
  // counted.
  EXPECT_EQ(absent.enqueued + absent.dropped_queue_full, kWhileAbsent);
  EXPECT_GE(absent.dropped_queue_full,
            kWhileAbsent - kQueue - 16 * otel::BatchSpanProcessorOptions{}.max_concurrent_exports);
  EXPECT_EQ(absent.exported, 0u);

  // The receiver appears where the exporter points. Keep emitting a span every 50 ms (as an app
  // would) until one arrives: nothing in the test pokes the pipeline.
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.port = port;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  ASSERT_EQ(receiver->port(), port);
  size_t trickle = 0;
  const bool resumed = WaitUntil(
      [&] {
        trickle += pipeline.Emit(1, "trickle-" + std::to_string(trickle));
        std::this_thread::sleep_for(milliseconds(30));
        return !receiver->Spans().empty();
      },
      kWait);
  ASSERT_TRUE(resumed) << "export did not resume after the receiver appeared";

  // Now the pipeline is healthy: a final batch below the queue bound arrives completely, once
  // what queued while the receiver was absent is out of the queue (the first delivery says the
  // export resumed, not that the queue has room: under TSan the final batch found it still full).
  ASSERT_TRUE(pipeline.provider->ForceFlush(kWait));
  constexpr size_t kAfter = 40;
  ASSERT_EQ(pipeline.Emit(kAfter, "after"), kAfter);
  ASSERT_TRUE(pipeline.provider->ForceFlush(kWait));
  ASSERT_TRUE(pipeline.provider->Shutdown(kWait));

  const size_t emitted = kWhileAbsent + trickle + kAfter;
  ASSERT_EQ(pipeline.emitted_ids.size(), emitted);
  const otel::BatchSpanProcessorStats stats = pipeline.processor->Stats();
  const Delivered delivered = CollectDelivered({receiver.get()});
  Report("receiver absent at start", emitted, delivered.ids.size(), stats,
         receiver->Requests().size());
  EXPECT_EQ(delivered.duplicates, 0u);
  EXPECT_EQ(delivered.ids.size() + stats.dropped_queue_full + stats.export_failures, emitted);
  EXPECT_EQ(stats.exported, delivered.ids.size());
  EXPECT_EQ(pipeline.grpc->Stats().exported_spans, delivered.ids.size());
  EXPECT_EQ(pipeline.grpc->Stats().failed_spans, stats.export_failures);
  EXPECT_EQ(stats.dropped_byte_limit, 0u);
  // Every delivered id was emitted, and all of the final batch arrived.
  const std::set<std::string> emitted_set(pipeline.emitted_ids.begin(), pipeline.emitted_ids.end());
  for (const std::string& id : delivered.ids) EXPECT_EQ(emitted_set.count(id), 1u) << id;
  for (size_t i = emitted - kAfter; i < emitted; ++i) {
    EXPECT_EQ(delivered.ids.count(pipeline.emitted_ids[i]), 1u) << "final span " << i;
  }
}

// 2. The receiver restarts on the same port in the middle of a run: the batch in flight is
// retried until it is back, spans beyond the queue bound are dropped and counted, nothing else is
// lost and nothing arrives twice.
TEST(ExporterFaults, ReceiverRestartsMidRun) {
  auto first = StartReceiver({});
  ASSERT_NE(first, nullptr);
  const int port = first->port();
  OtlpGrpcExporterOptions options = GrpcOptions(first->endpoint());
  // Retries cover the restart (however slow the receiver is to come back, up to 15 s): attempts
  // 50..200 ms apart; the timeout, not the attempt count, is the bound here.
  options.timeout = milliseconds(15000);
  options.max_attempts = 1000;
  options.initial_backoff = milliseconds(50);
  options.max_backoff = milliseconds(200);
  constexpr size_t kQueue = 256;
  constexpr size_t kBatch = 32;
  Pipeline pipeline = MakeGrpcPipeline(options, BatchOptions(kQueue, kBatch));
  ASSERT_NE(pipeline.grpc, nullptr);

  constexpr size_t kBefore = 100;
  ASSERT_EQ(pipeline.Emit(kBefore, "before"), kBefore);
  ASSERT_TRUE(pipeline.provider->ForceFlush(kWait));
  ASSERT_EQ(CollectDelivered({first.get()}).ids.size(), kBefore);

  // Down: more spans than the queue holds are ended while nothing listens.
  first->Stop();
  constexpr size_t kWhileDown = 400;
  ASSERT_EQ(pipeline.Emit(kWhileDown, "down"), kWhileDown);
  const uint64_t dropped_while_down = pipeline.processor->Stats().dropped_queue_full;

  OtlpReceiverProcess::Options restart;
  restart.port = port;
  auto second = StartReceiver(restart);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(second->port(), port);
  ASSERT_TRUE(pipeline.provider->ForceFlush(kWait));

  constexpr size_t kAfter = 100;
  ASSERT_EQ(pipeline.Emit(kAfter, "after"), kAfter);
  ASSERT_TRUE(pipeline.provider->ForceFlush(kWait));
  ASSERT_TRUE(pipeline.provider->Shutdown(kWait));

  const size_t emitted = kBefore + kWhileDown + kAfter;
  const otel::BatchSpanProcessorStats stats = pipeline.processor->Stats();
  const Delivered delivered = CollectDelivered({first.get(), second.get()});
  Report("receiver restarts mid-run", emitted, delivered.ids.size(), stats,
         first->Requests().size() + second->Requests().size());
  EXPECT_EQ(delivered.duplicates, 0u);
  EXPECT_EQ(stats.export_failures, 0u);
  EXPECT_EQ(stats.dropped_queue_full, dropped_while_down);
  // Only what did not fit in the queue was lost: the queue had room for kQueue spans at least.
  EXPECT_LE(stats.dropped_queue_full, kWhileDown - kQueue);
  EXPECT_EQ(delivered.ids.size() + stats.dropped_queue_full, emitted);
  EXPECT_EQ(stats.exported, delivered.ids.size());
  EXPECT_EQ(CollectDelivered({second.get()}).ids.size(),
            kWhileDown - stats.dropped_queue_full + kAfter);
  EXPECT_GE(pipeline.grpc->Stats().retries, 1u);
}

// 3. Failing receivers: every export makes a bounded number of attempts (counted as request
// records by the receiver), then its spans are dropped and counted.
struct FailureCase {
  const char* name;
  bool http;
  std::vector<std::string> control;  // control lines sent to the receiver before emitting
  int max_attempts;
  milliseconds timeout;
  // Attempts expected for the one export, and the status each of them is recorded with.
  size_t attempts;
  const char* status;
};

void PrintTo(const FailureCase& c, std::ostream* os) { *os << c.name; }

class ExporterFailures : public ::testing::TestWithParam<FailureCase> {};

TEST_P(ExporterFailures, BoundedAttemptsThenDropAndCount) {
  const FailureCase& c = GetParam();
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.enable_http = c.http;
  auto receiver = StartReceiver(receiver_options);
  ASSERT_NE(receiver, nullptr);
  for (const std::string& line : c.control) ASSERT_TRUE(receiver->Control(line)) << line;

  constexpr size_t kSpans = 10;
  Pipeline pipeline;
  if (c.http) {
    OtlpHttpExporterOptions options = HttpOptions(receiver->http_endpoint());
    options.max_attempts = c.max_attempts;
    options.timeout = c.timeout;
    pipeline = MakeHttpPipeline(options, BatchOptions(64, 64));
    ASSERT_NE(pipeline.http, nullptr);
  } else {
    OtlpGrpcExporterOptions options = GrpcOptions(receiver->endpoint());
    options.max_attempts = c.max_attempts;
    options.timeout = c.timeout;
    pipeline = MakeGrpcPipeline(options, BatchOptions(64, 64));
    ASSERT_NE(pipeline.grpc, nullptr);
  }
  ASSERT_EQ(pipeline.Emit(kSpans, c.name), kSpans);
  ASSERT_TRUE(pipeline.provider->ForceFlush(kWait));
  ASSERT_TRUE(pipeline.provider->Shutdown(kWait));

  // A request the client gave up on is recorded when the receiver's delayed answer is due.
  ASSERT_TRUE(receiver->WaitForRequests(c.attempts, kWait));
  const otel::BatchSpanProcessorStats stats = pipeline.processor->Stats();
  const OtlpExporterStats exporter = pipeline.ExporterStats();
  const Delivered delivered = CollectDelivered({receiver.get()});
  Report(c.name, kSpans, delivered.ids.size(), stats, receiver->Requests().size());

  EXPECT_EQ(receiver->Requests().size(), c.attempts);
  EXPECT_EQ(CountRequests(*receiver, c.status), c.attempts);
  EXPECT_LE(c.attempts, static_cast<size_t>(c.max_attempts));
  EXPECT_EQ(exporter.export_calls, 1u);
  EXPECT_EQ(exporter.retries, c.attempts - 1);
  EXPECT_EQ(exporter.failed_spans, kSpans);
  EXPECT_EQ(exporter.exported_spans, 0u);
  EXPECT_EQ(stats.export_calls, 1u);
  EXPECT_EQ(stats.export_failures, kSpans);
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(stats.dropped_queue_full, 0u);
  EXPECT_TRUE(delivered.ids.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Receivers, ExporterFailures,
    ::testing::Values(
        // Answers 1.5 s late with a 0.5 s export timeout: the one attempt that fits is cancelled.
        FailureCase{
            "GrpcSlowReceiver", false, {"delay 1500"}, 4, milliseconds(500), 1, "CANCELLED"},
        FailureCase{"HttpSlowReceiver", true, {"delay 1500"}, 4, milliseconds(500), 1, "CANCELLED"},
        FailureCase{"GrpcUnavailableAlways",
                    false,
                    {"fail always", "fail-code UNAVAILABLE"},
                    4,
                    milliseconds(5000),
                    4,
                    "UNAVAILABLE"},
        // Without RetryInfo the limit is not a transient one: no retry (OTLP specification).
        FailureCase{"GrpcResourceExhaustedNoRetryInfo",
                    false,
                    {"fail always", "fail-code RESOURCE_EXHAUSTED"},
                    4,
                    milliseconds(5000),
                    1,
                    "RESOURCE_EXHAUSTED"},
        FailureCase{"GrpcResourceExhaustedRetryInfo",
                    false,
                    {"fail always", "fail-code RESOURCE_EXHAUSTED", "retry-info-ms 30"},
                    4,
                    milliseconds(5000),
                    4,
                    "RESOURCE_EXHAUSTED"},
        // A RetryInfo delay beyond the export deadline: not worth waiting for, fail now.
        FailureCase{"GrpcResourceExhaustedRetryInfoBeyondDeadline",
                    false,
                    {"fail always", "fail-code RESOURCE_EXHAUSTED", "retry-info-ms 60000"},
                    4,
                    milliseconds(5000),
                    1,
                    "RESOURCE_EXHAUSTED"},
        // Retry-After: 1 s, three attempts within 5 s.
        FailureCase{"Http503RetryAfter",
                    true,
                    {"fail always", "http-status 503 1"},
                    3,
                    milliseconds(5000),
                    3,
                    "HTTP 503"},
        FailureCase{"Http503RetryAfterBeyondDeadline",
                    true,
                    {"fail always", "http-status 503 60"},
                    3,
                    milliseconds(5000),
                    1,
                    "HTTP 503"},
        FailureCase{"Http429",
                    true,
                    {"fail always", "http-status 429 -"},
                    4,
                    milliseconds(5000),
                    4,
                    "HTTP 429"}),
    [](const ::testing::TestParamInfo<FailureCase>& param_info) {
      return std::string(param_info.param.name);
    });

// 4. Shutdown with the receiver down returns within its deadline, also when the exporter's own
// timeout (default 10 s) is longer than the shutdown deadline.
TEST(ExporterFaults, ShutdownWithReceiverDownReturnsWithinDeadline) {
  const int port = ReservePort();
  ASSERT_GT(port, 0);
  // Default exporter settings (10 s timeout, 5 attempts, 1..5 s backoff): a failing export
  // outlives the shutdown deadline below.
  OtlpGrpcExporterOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(port);
  Pipeline pipeline = MakeGrpcPipeline(options, BatchOptions(256, 64));
  ASSERT_NE(pipeline.grpc, nullptr);
  constexpr size_t kSpans = 50;
  ASSERT_EQ(pipeline.Emit(kSpans, "down"), kSpans);
  // Let the worker pick the batch up so the shutdown meets an export in its retry loop.
  ASSERT_TRUE(WaitUntil([&] { return pipeline.grpc->Stats().export_calls >= 1; }, kWait));

  constexpr milliseconds kDeadline{1500};
  const SteadyClock::time_point start = SteadyClock::now();
  const bool clean = pipeline.provider->Shutdown(kDeadline);
  const auto took = SteadyClock::now() - start;
  std::printf("[faults] shutdown returned %s after %lld ms\n", clean ? "true" : "false",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(took).count()));
  // Hang guard, not a performance test: the call must come back at all (ctest's TIMEOUT would
  // catch a hang too, but later and with less information).
  EXPECT_LT(took, kDeadline + std::chrono::seconds(5));
  // The export could not finish before the deadline, so shutdown reports it did not drain.
  EXPECT_FALSE(clean);
  // The export thread was abandoned, still owning the exporter, which is still retrying.
  // Cancelling it (as the exporter's Shutdown does for a call in flight or a backoff wait) ends
  // the export as a failure: the batch is counted, not lost silently.
  pipeline.grpc->Shutdown(SteadyClock::now());
  ASSERT_TRUE(
      WaitUntil([&] { return pipeline.processor->Stats().export_failures == kSpans; }, kWait));
  const otel::BatchSpanProcessorStats stats = pipeline.processor->Stats();
  Report("shutdown with receiver down (stuck export)", kSpans, 0, stats, 0);
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(pipeline.grpc->Stats().failed_spans, kSpans);
  EXPECT_EQ(pipeline.grpc->Stats().exported_spans, 0u);
}

TEST(ExporterFaults, ShutdownWithReceiverDownDrainsAsFailuresWithinDeadline) {
  const int port = ReservePort();
  ASSERT_GT(port, 0);
  // An export timeout shorter than the shutdown deadline: the drain completes (as failures).
  OtlpGrpcExporterOptions options = GrpcOptions("http://127.0.0.1:" + std::to_string(port));
  options.timeout = milliseconds(500);
  options.max_attempts = 100;
  Pipeline pipeline = MakeGrpcPipeline(options, BatchOptions(256, 256));
  ASSERT_NE(pipeline.grpc, nullptr);
  constexpr size_t kSpans = 50;
  ASSERT_EQ(pipeline.Emit(kSpans, "down"), kSpans);

  constexpr milliseconds kDeadline{3000};
  const SteadyClock::time_point start = SteadyClock::now();
  const bool clean = pipeline.provider->Shutdown(kDeadline);
  const auto took = SteadyClock::now() - start;
  EXPECT_LT(took, kDeadline + std::chrono::seconds(5));  // hang guard, not a performance test
  EXPECT_TRUE(clean);
  const otel::BatchSpanProcessorStats stats = pipeline.processor->Stats();
  Report("shutdown with receiver down (drained)", kSpans, 0, stats, 0);
  EXPECT_EQ(stats.export_failures, kSpans);
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(pipeline.grpc->Stats().failed_spans, kSpans);
}

// 5. The counters are readable from the API, and the failure summary is logged once per
// interval (here: once during the run, once at shutdown), not per span or per failed export.
TEST(ExporterFaults, CountersReadableAndSummaryLoggedOncePerInterval) {
  DiagnosticCapture diagnostics;
  const int port = ReservePort();
  ASSERT_GT(port, 0);
  OtlpGrpcExporterOptions options = GrpcOptions("http://127.0.0.1:" + std::to_string(port));
  options.max_attempts = 1;
  otel::BatchSpanProcessorOptions batch_options = BatchOptions(16, 8);
  batch_options.schedule_delay = milliseconds(20);
  batch_options.stats_log_interval = milliseconds(60000);  // longer than the test
  Pipeline pipeline = MakeGrpcPipeline(options, batch_options);
  ASSERT_NE(pipeline.grpc, nullptr);

  // Keep failing for a while: rounds of 40 spans (more than the queue holds) until at least 10
  // exports have failed.
  size_t emitted = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        emitted += pipeline.Emit(40, "round");
        return pipeline.processor->Stats().export_calls >= 10;
      },
      kWait));
  const otel::BatchSpanProcessorStats running = pipeline.processor->Stats();
  EXPECT_GT(running.dropped_queue_full, 0u);
  EXPECT_GT(running.export_failures, 0u);
  EXPECT_EQ(running.enqueued + running.dropped_queue_full, emitted);
  ASSERT_TRUE(pipeline.provider->Shutdown(kWait));

  const otel::BatchSpanProcessorStats stats = pipeline.processor->Stats();
  Report("counters and summary", emitted, 0, stats, 0);
  EXPECT_EQ(stats.enqueued + stats.dropped_queue_full, emitted);
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(stats.export_failures, stats.enqueued);
  EXPECT_EQ(pipeline.grpc->Stats().failed_spans, stats.export_failures);
  EXPECT_EQ(pipeline.grpc->Stats().export_calls, stats.export_calls);
  EXPECT_GE(stats.export_calls, 10u);

  // The processor's summary: the first drop/failure is reported at once, then nothing until the
  // interval passes, then one final summary at shutdown. Their numbers add up to the counters.
  const std::vector<std::string> summaries = diagnostics.Matching("BatchSpanProcessor: dropped");
  ASSERT_EQ(summaries.size(), 2u);
  const std::regex pattern(
      "BatchSpanProcessor: dropped ([0-9]+) span\\(s\\) with the queue full .*, ([0-9]+) over "
      "the byte limit .*; ([0-9]+) span\\(s\\) failed to export; totals since start: ([0-9]+) / "
      "([0-9]+) / ([0-9]+)");
  uint64_t queue_full = 0;
  uint64_t failed = 0;
  for (const std::string& summary : summaries) {
    std::smatch match;
    ASSERT_TRUE(std::regex_search(summary, match, pattern)) << summary;
    queue_full += std::stoull(match[1].str());
    failed += std::stoull(match[3].str());
  }
  EXPECT_EQ(queue_full, stats.dropped_queue_full);
  EXPECT_EQ(failed, stats.export_failures);
  // The exporter reports failed exports at most once per 10 s: one message for >= 10 failures.
  EXPECT_EQ(diagnostics.Matching(" failed after ").size(), 1u);
}

}  // namespace
}  // namespace vllora::otlp
