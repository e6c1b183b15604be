// InitTracing configuration: TracingOptions over OTEL_* over defaults, one warning per invalid
// variable naming it and its value. Nothing here talks to a network.
#include "vllora/setup/setup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "setup/setup_config.h"
#include "vllora/otel/diagnostics.h"

namespace vllora {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr const char* kVariables[] = {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                                      "OTEL_SPAN_EVENT_COUNT_LIMIT",
                                      "OTEL_SPAN_LINK_COUNT_LIMIT",
                                      "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                                      "OTEL_SDK_DISABLED",
                                      "OTEL_TRACES_EXPORTER",
                                      "OTEL_EXPORTER_OTLP_PROTOCOL",
                                      "OTEL_TRACES_SAMPLER",
                                      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                                      "OTEL_TRACES_SAMPLER_ARG",
                                      "OTEL_PROPAGATORS",
                                      "OTEL_SERVICE_NAME",
                                      "OTEL_EXPORTER_OTLP_ENDPOINT",
                                      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                      "OTEL_RESOURCE_ATTRIBUTES"};

class SetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Clear();
    Messages().clear();
    otel::SetDiagnosticHandler([](otel::DiagnosticLevel, std::string_view message) {
      std::lock_guard<std::mutex> lock(Mutex());
      Messages().emplace_back(message);
    });
  }
  void TearDown() override {
    otel::SetDiagnosticHandler(nullptr);
    Clear();
  }
  static void Clear() {
    for (const char* name : kVariables) unsetenv(name);
  }
  static std::vector<std::string> Warnings() {
    std::lock_guard<std::mutex> lock(Mutex());
    return Messages();
  }
  static internal::TracingConfig Resolve(const TracingOptions& options = {}) {
    return internal::ResolveTracingConfig(options);
  }
  // A pipeline that exports nowhere and is not installed globally.
  static TracingOptions Quiet() {
    TracingOptions options;
    options.install_global = false;
    options.fmt_layer = false;
    options.shutdown_timeout = std::chrono::milliseconds(500);
    return options;
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

TEST_F(SetupTest, Defaults) {
  const internal::TracingConfig config = Resolve();
  EXPECT_FALSE(config.disabled);
  EXPECT_THAT(config.exporters, ElementsAre(TracesExporter::kOtlp));
  EXPECT_EQ(config.protocol, OtlpProtocol::kGrpc);
  EXPECT_THAT(config.sampler->Description(), HasSubstr("ParentBased{root:AlwaysOnSampler"));
  EXPECT_THAT(config.propagators, ElementsAre("tracecontext", "baggage"));
  EXPECT_THAT(Warnings(), IsEmpty());
}

TEST_F(SetupTest, SdkDisabled) {
  setenv("OTEL_SDK_DISABLED", "TRUE", 1);
  EXPECT_TRUE(Resolve().disabled);
  TracingOptions options;
  options.sdk_disabled = false;
  EXPECT_FALSE(Resolve(options).disabled) << "code overrides the environment";
  setenv("OTEL_SDK_DISABLED", "yes", 1);
  EXPECT_FALSE(Resolve().disabled);
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("OTEL_SDK_DISABLED=\"yes\""));
}

TEST_F(SetupTest, TracesExporter) {
  setenv("OTEL_TRACES_EXPORTER", "console", 1);
  EXPECT_THAT(Resolve().exporters, ElementsAre(TracesExporter::kConsole));
  setenv("OTEL_TRACES_EXPORTER", "otlp, console", 1);
  EXPECT_THAT(Resolve().exporters, ElementsAre(TracesExporter::kOtlp, TracesExporter::kConsole));
  setenv("OTEL_TRACES_EXPORTER", "none", 1);
  EXPECT_THAT(Resolve().exporters, IsEmpty());
  TracingOptions options;
  options.exporters = std::vector<TracesExporter>{TracesExporter::kOtlp};
  EXPECT_THAT(Resolve(options).exporters, ElementsAre(TracesExporter::kOtlp));
  EXPECT_THAT(Warnings(), IsEmpty());
}

TEST_F(SetupTest, InvalidTracesExporterWarnsAndUsesOtlp) {
  setenv("OTEL_TRACES_EXPORTER", "jaeger", 1);
  EXPECT_THAT(Resolve().exporters, ElementsAre(TracesExporter::kOtlp));
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("OTEL_TRACES_EXPORTER=\"jaeger\""));
  EXPECT_THAT(Warnings()[0], HasSubstr("using otlp"));
}

TEST_F(SetupTest, Protocol) {
  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
  EXPECT_EQ(Resolve().protocol, OtlpProtocol::kHttpJson);
  setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", 1);
  EXPECT_EQ(Resolve().protocol, OtlpProtocol::kHttpProtobuf) << "signal-specific wins";
  setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc", 1);
  EXPECT_EQ(Resolve().protocol, OtlpProtocol::kGrpc);
  TracingOptions options;
  options.protocol = OtlpProtocol::kHttpJson;
  EXPECT_EQ(Resolve(options).protocol, OtlpProtocol::kHttpJson) << "code overrides";
  EXPECT_THAT(Warnings(), IsEmpty());
  EXPECT_STREQ(ToString(OtlpProtocol::kHttpProtobuf), "http/protobuf");
}

TEST_F(SetupTest, InvalidProtocolWarnsAndUsesGrpc) {
  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift", 1);
  EXPECT_EQ(Resolve().protocol, OtlpProtocol::kGrpc);
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("OTEL_EXPORTER_OTLP_PROTOCOL=\"thrift\""));
}

TEST_F(SetupTest, Samplers) {
  const auto description = [](const char* name, const char* arg) {
    setenv("OTEL_TRACES_SAMPLER", name, 1);
    if (arg != nullptr) {
      setenv("OTEL_TRACES_SAMPLER_ARG", arg, 1);
    } else {
      unsetenv("OTEL_TRACES_SAMPLER_ARG");
    }
    return internal::ResolveTracingConfig({}).sampler->Description();
  };
  EXPECT_EQ(description("always_on", nullptr), "AlwaysOnSampler");
  EXPECT_EQ(description("always_off", nullptr), "AlwaysOffSampler");
  EXPECT_EQ(description("traceidratio", "0.25"), "TraceIdRatioBased{0.250000}");
  EXPECT_THAT(description("parentbased_traceidratio", "0.5"),
              HasSubstr("root:TraceIdRatioBased{0.500000}"));
  EXPECT_THAT(description("parentbased_always_off", nullptr), HasSubstr("root:AlwaysOffSampler"));
  EXPECT_THAT(description("parentbased_always_on", nullptr), HasSubstr("root:AlwaysOnSampler"));
  EXPECT_THAT(Warnings(), IsEmpty());
  TracingOptions options;
  options.sampler = "always_off";
  EXPECT_EQ(Resolve(options).sampler->Description(), "AlwaysOffSampler") << "code overrides";
}

TEST_F(SetupTest, InvalidSamplerAndArgumentWarn) {
  setenv("OTEL_TRACES_SAMPLER", "sometimes", 1);
  EXPECT_THAT(Resolve().sampler->Description(), HasSubstr("root:AlwaysOnSampler"));
  setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
  setenv("OTEL_TRACES_SAMPLER_ARG", "1.5", 1);
  EXPECT_EQ(Resolve().sampler->Description(), "TraceIdRatioBased{1.000000}");
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("OTEL_TRACES_SAMPLER=\"sometimes\""));
  EXPECT_THAT(warnings[1], HasSubstr("OTEL_TRACES_SAMPLER_ARG=\"1.5\""));
}

TEST_F(SetupTest, Propagators) {
  setenv("OTEL_PROPAGATORS", "baggage", 1);
  EXPECT_THAT(Resolve().propagators, ElementsAre("baggage"));
  setenv("OTEL_PROPAGATORS", "none", 1);
  EXPECT_THAT(Resolve().propagators, IsEmpty());
  EXPECT_THAT(Warnings(), IsEmpty());
  setenv("OTEL_PROPAGATORS", "tracecontext,b3", 1);
  EXPECT_THAT(Resolve().propagators, ElementsAre("tracecontext"));
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("OTEL_PROPAGATORS=\"tracecontext,b3\""));
}

// InitTracing leaves the limits to TracerProvider's default, SpanLimits::FromEnv(): check the
// variables here, where the rest of the configuration surface is checked.
TEST_F(SetupTest, SpanLimitVariables) {
  setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "5", 1);
  setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "3", 1);
  setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "2", 1);
  setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "10", 1);
  otel::SpanLimits limits = otel::SpanLimits::FromEnv();
  EXPECT_EQ(limits.max_attributes, 5u);
  EXPECT_EQ(limits.max_events, 3u);
  EXPECT_EQ(limits.max_links, 2u);
  EXPECT_EQ(limits.max_attribute_value_length, 10u);
  EXPECT_THAT(Warnings(), IsEmpty());

  setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many", 1);
  setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1", 1);
  limits = otel::SpanLimits::FromEnv();
  EXPECT_EQ(limits.max_attributes, 128u);
  EXPECT_EQ(limits.max_attribute_value_length, 0u);
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"));
  EXPECT_THAT(warnings[0], HasSubstr("many"));
  EXPECT_THAT(warnings[1], HasSubstr("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"));
  EXPECT_THAT(warnings[1], HasSubstr("-1"));
}

TEST_F(SetupTest, InitTracingWithoutExporter) {
  TracingOptions options = Quiet();
  options.exporters = std::vector<TracesExporter>{TracesExporter::kNone};
  options.service_name = "svc-from-code";
  setenv("OTEL_SERVICE_NAME", "svc-from-env", 1);
  TracingGuard guard = InitTracing(options);
  EXPECT_EQ(guard.description(), "none");
  EXPECT_FALSE(guard.exporting_otlp());
  EXPECT_TRUE(guard.error().empty());
  ASSERT_NE(guard.provider(), nullptr);
  ASSERT_NE(guard.tracer(), nullptr);
  const std::optional<otel::AttributeValue> service =
      guard.provider()->resource().attributes().Find("service.name");
  ASSERT_TRUE(service.has_value());
  EXPECT_EQ(std::get<std::string_view>(*service), "svc-from-code");
  EXPECT_TRUE(guard.Shutdown());
  EXPECT_TRUE(guard.Shutdown()) << "idempotent";
}

TEST_F(SetupTest, InitTracingDisabled) {
  setenv("OTEL_SDK_DISABLED", "true", 1);
  TracingGuard guard = InitTracing(Quiet());
  EXPECT_EQ(guard.description(), "disabled (OTEL_SDK_DISABLED)");
  EXPECT_FALSE(guard.exporting_otlp());
  auto span = guard.tracer()->StartSpan("x");
  EXPECT_FALSE(span->IsRecording());
  span->End();
}

TEST_F(SetupTest, InitTracingReportsABadEndpointAndKeepsGoing) {
  TracingOptions options = Quiet();
  options.protocol = OtlpProtocol::kHttpJson;
  options.endpoint = "ftp://nowhere";
  TracingGuard guard = InitTracing(options);
  EXPECT_FALSE(guard.exporting_otlp());
  EXPECT_THAT(guard.error(), HasSubstr("ftp://nowhere"));
  ASSERT_FALSE(Warnings().empty());
  EXPECT_THAT(Warnings().back(), HasSubstr("cannot create the OTLP exporter"));
}

TEST_F(SetupTest, InitTracingPicksTheTransportAndEndpoint) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", 1);
  TracingOptions options = Quiet();
  options.protocol = OtlpProtocol::kHttpProtobuf;
  {
    TracingGuard guard = InitTracing(options);
    EXPECT_TRUE(guard.exporting_otlp());
    EXPECT_EQ(guard.endpoint(), "http://collector:4318/v1/traces");
    EXPECT_EQ(guard.description(), "otlp http/protobuf -> http://collector:4318/v1/traces");
    // Moving keeps one owner; the moved-from guard's destructor does nothing.
    TracingGuard moved = std::move(guard);
    EXPECT_TRUE(moved.exporting_otlp());
  }
  // The environment asks for grpc, the code for http/json: no warning about the protocol.
  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
  options.protocol = OtlpProtocol::kHttpJson;
  options.endpoint = "http://langfuse:3000/api/public/otel/v1/traces";
  TracingGuard json = InitTracing(options);
  EXPECT_EQ(json.description(), "otlp http/json -> http://langfuse:3000/api/public/otel/v1/traces");
  EXPECT_THAT(Warnings(), IsEmpty());
  options.protocol = OtlpProtocol::kGrpc;
  options.endpoint = "http://vllora:4317";
  TracingGuard grpc = InitTracing(options);
  EXPECT_EQ(grpc.endpoint(), "http://vllora:4317");
  EXPECT_EQ(grpc.description(), "otlp grpc -> http://vllora:4317");
}

// A token in the endpoint's user information never reaches description(), endpoint(), error()
// or a diagnostic, whether the exporter is created or refused.
TEST_F(SetupTest, CredentialsInTheEndpointAreHidden) {
  TracingOptions options = Quiet();
  options.protocol = OtlpProtocol::kHttpProtobuf;
  options.endpoint = "https://user:s3cr3t@collector:4318/v1/traces\n";
  {
    TracingGuard guard = InitTracing(options);
    EXPECT_TRUE(guard.exporting_otlp()) << guard.error();
    EXPECT_EQ(guard.endpoint(), "https://user:***@collector:4318/v1/traces");
    EXPECT_EQ(guard.description(),
              "otlp http/protobuf -> https://user:***@collector:4318/v1/traces");
  }
  options.endpoint = "https://user:s3cr3t@collector:99999/v1/traces";
  TracingGuard bad_http = InitTracing(options);
  EXPECT_FALSE(bad_http.exporting_otlp());
  EXPECT_THAT(bad_http.error(), HasSubstr("port"));
  options.protocol = OtlpProtocol::kGrpc;
  options.endpoint = "https://s3cr3t@collector:4317";
  TracingGuard bad_grpc = InitTracing(options);
  EXPECT_FALSE(bad_grpc.exporting_otlp());
  EXPECT_THAT(bad_grpc.error(), HasSubstr("user information"));
  for (const TracingGuard* guard : {&bad_http, &bad_grpc}) {
    EXPECT_THAT(guard->error(), Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(guard->description(), Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(guard->endpoint(), Not(HasSubstr("s3cr3t")));
  }
  ASSERT_FALSE(Warnings().empty());
  for (const std::string& message : Warnings()) EXPECT_THAT(message, Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace vllora
