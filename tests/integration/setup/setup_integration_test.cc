// InitTracing() pointed at the independent JavaScript receiver by configuration alone: the
// OTEL_EXPORTER_OTLP_* variables choose transport, encoding, endpoint, headers and compression.
#define VLLORA_TARGET "vllora::user_tracing::setup_test"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/otlp_receiver_process.h"
#include "support/silent_listener.h"
#include "vllora/core/core.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/setup/setup.h"

namespace vllora {
namespace {

using testing::OtlpReceiverProcess;
using Json = nlohmann::json;

constexpr const char* kVariables[] = {"OTEL_EXPORTER_OTLP_PROTOCOL",
                                      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                      "OTEL_EXPORTER_OTLP_ENDPOINT",
                                      "OTEL_EXPORTER_OTLP_HEADERS",
                                      "OTEL_EXPORTER_OTLP_COMPRESSION",
                                      "OTEL_SERVICE_NAME",
                                      "OTEL_TRACES_EXPORTER"};

class SetupIntegrationTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    for (const char* name : kVariables) unsetenv(name);
  }
};

std::string ProtocolName(const ::testing::TestParamInfo<const char*>& param) {
  std::string name = param.param;
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Protocols, SetupIntegrationTest,
                         ::testing::Values("grpc", "http/protobuf", "http/json"), ProtocolName);

TEST_P(SetupIntegrationTest, EnvironmentAloneSelectsTheTransport) {
  const std::string protocol = GetParam();
  OtlpReceiverProcess::Options receiver_options;
  receiver_options.enable_http = true;
  receiver_options.require_headers = {"x-api-key=secret"};
  std::string error;
  auto receiver = OtlpReceiverProcess::Start(receiver_options, &error);
  ASSERT_NE(receiver, nullptr) << error;

  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.c_str(), 1);
  if (protocol == "grpc") {
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver->endpoint().c_str(), 1);
  } else {
    // The generic variable gets /v1/traces appended, as the specification says.
    const std::string base = "http://127.0.0.1:" + std::to_string(receiver->http_port());
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", base.c_str(), 1);
  }
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
  setenv("OTEL_SERVICE_NAME", "setup-test", 1);

  TracingOptions options;
  options.fmt_layer = false;
  options.otel_targets = {"app::runtime"};
  TracingGuard tracing = InitTracing(options);
  ASSERT_TRUE(tracing.exporting_otlp()) << tracing.description();
  EXPECT_NE(tracing.description().find(protocol), std::string::npos) << tracing.description();
  {
    auto outer = VLLORA_INFO_SPAN("app::runtime::execution", "execution", {"execution_id", 7});
    auto entered = outer.Enter();
    auto inner = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run", {"step", "one"});
    auto ignored = VLLORA_INFO_SPAN("other::target", "ignored");
  }
  EXPECT_TRUE(tracing.Shutdown());
  const TracingStats stats = tracing.Stats();
  EXPECT_EQ(stats.enqueued, 2u);
  EXPECT_EQ(stats.exported, 2u);
  EXPECT_EQ(stats.dropped, 0u);

  ASSERT_TRUE(receiver->WaitForSpans(2, std::chrono::seconds(10)));
  const std::vector<Json> spans = receiver->Spans();
  ASSERT_EQ(spans.size(), 2u);
  const Json& run = spans[0]["name"] == "run" ? spans[0] : spans[1];
  const Json& execution = spans[0]["name"] == "run" ? spans[1] : spans[0];
  EXPECT_EQ(run["parentSpanId"], execution["spanId"]);
  EXPECT_EQ(run["traceId"], execution["traceId"]);
  EXPECT_EQ(run["resource"]["attributes"]["service.name"]["value"], "setup-test");
  const std::vector<Json> requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["status"], "OK");
  if (protocol == "grpc") {
    EXPECT_EQ(requests[0]["grpcEncoding"], "gzip");
  } else {
    EXPECT_EQ(requests[0]["contentEncoding"], "gzip");
    EXPECT_EQ(requests[0]["path"], "/v1/traces");
    EXPECT_EQ(requests[0]["contentType"],
              protocol == "http/json" ? "application/json" : "application/x-protobuf");
  }
}

// Against a receiver that accepts and never answers, the guard's ForceFlush runs out of time
// with an export in flight; the provider's Shutdown must still get part of the budget (about a
// fifth) to cancel that export and join the export thread, instead of abandoning it.
TEST(SetupShutdownBudget, ProviderShutdownGetsTimeToCancelAStuckExport) {
  for (const char* name : kVariables) unsetenv(name);
  static std::mutex mu;
  static std::vector<std::string> messages;
  messages.clear();
  otel::SetDiagnosticHandler([](otel::DiagnosticLevel, std::string_view message) {
    std::lock_guard<std::mutex> lock(mu);
    messages.emplace_back(message);
  });
  testing::SilentListener listener;
  ASSERT_TRUE(listener.ok());

  TracingOptions options;
  options.fmt_layer = false;
  options.install_global = false;
  options.exporters = std::vector<TracesExporter>{TracesExporter::kOtlp};
  options.protocol = OtlpProtocol::kHttpProtobuf;
  options.endpoint = listener.http_base() + "/v1/traces";
  options.export_timeout = std::chrono::seconds(60);
  otel::BatchSpanProcessorOptions batch;
  batch.schedule_delay = std::chrono::milliseconds(10);
  batch.export_timeout = std::chrono::seconds(60);
  options.batch = batch;
  options.shutdown_timeout = std::chrono::milliseconds(1000);
  TracingGuard tracing = InitTracing(options);
  ASSERT_TRUE(tracing.exporting_otlp()) << tracing.description();
  tracing.tracer()->StartSpan("stuck")->End();
  // The export is on the wire and waits for an answer that never comes.
  ASSERT_TRUE(listener.WaitForBytes(100, std::chrono::seconds(10)));

  EXPECT_FALSE(tracing.Shutdown()) << "the span could not be delivered";
  otel::SetDiagnosticHandler(nullptr);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(messages, ::testing::Contains(::testing::HasSubstr("cancelling the export")));
  EXPECT_THAT(messages,
              ::testing::Not(::testing::Contains(::testing::HasSubstr("abandoning the export"))));
}

}  // namespace
}  // namespace vllora
