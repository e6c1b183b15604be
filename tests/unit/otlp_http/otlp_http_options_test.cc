// OtlpHttpExporterOptions: the specification's URL rules and every OTEL_EXPORTER_OTLP_* variable
// the HTTP exporter reads, including invalid values (one warning naming variable and value, the
// default applies).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "vllora/otel/diagnostics.h"
#include "vllora/otlp/otlp_http_exporter.h"

namespace vllora::otlp {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(OtlpHttpTracesUrl, GenericEndpointGetsTheSignalPath) {
  EXPECT_EQ(OtlpHttpTracesUrlFromBase("http://collector:4318"), "http://collector:4318/v1/traces");
  EXPECT_EQ(OtlpHttpTracesUrlFromBase("http://collector:4318/"), "http://collector:4318/v1/traces");
  EXPECT_EQ(OtlpHttpTracesUrlFromBase("https://cloud.example/api/public/otel"),
            "https://cloud.example/api/public/otel/v1/traces");
  EXPECT_EQ(OtlpHttpTracesUrlFromBase("https://cloud.example/otlp/"),
            "https://cloud.example/otlp/v1/traces");
}

TEST(OtlpHttpTracesUrl, DefaultIsLocalhost4318) {
  EXPECT_EQ(OtlpHttpExporterOptions{}.endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(OtlpHttpExporterOptions{}.protocol, OtlpHttpProtocol::kProtobuf);
}

class OtlpHttpFromEnvTest : public ::testing::Test {
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
    for (const char* suffix : {"ENDPOINT", "PROTOCOL", "HEADERS", "TIMEOUT", "COMPRESSION",
                               "CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE", "INSECURE"}) {
      unsetenv((std::string("OTEL_EXPORTER_OTLP_") + suffix).c_str());
      unsetenv((std::string("OTEL_EXPORTER_OTLP_TRACES_") + suffix).c_str());
    }
  }
  static std::vector<std::string> Warnings() {
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

TEST_F(OtlpHttpFromEnvTest, NothingSetGivesTheDefaults) {
  const OtlpHttpExporterOptions options = OtlpHttpExporterOptions::FromEnv();
  EXPECT_EQ(options.endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(options.protocol, OtlpHttpProtocol::kProtobuf);
  EXPECT_TRUE(options.headers.empty());
  EXPECT_EQ(options.timeout, milliseconds(10000));
  EXPECT_FALSE(options.gzip);
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(OtlpHttpFromEnvTest, GenericEndpointGetsV1Traces) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, "http://collector:4318/v1/traces");
}

TEST_F(OtlpHttpFromEnvTest, TracesEndpointIsUsedAsIsAndWins) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://langfuse.example/api/public/otel/traces",
         1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint,
            "https://langfuse.example/api/public/otel/traces");
}

TEST_F(OtlpHttpFromEnvTest, EmptyVariablesCountAsUnset) {
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", 1);
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318/", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, "http://generic:4318/v1/traces");
}

TEST_F(OtlpHttpFromEnvTest, InvalidEndpointWarnsAndKeepsTheDefault) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, "http://localhost:4318/v1/traces");
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("OTEL_EXPORTER_OTLP_ENDPOINT=\"collector:4318\""));
}

TEST_F(OtlpHttpFromEnvTest, Protocols) {
  setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().protocol, OtlpHttpProtocol::kJson);
  setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().protocol, OtlpHttpProtocol::kProtobuf);
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(OtlpHttpFromEnvTest, InvalidProtocolWarnsAndUsesProtobuf) {
  setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/xml", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().protocol, OtlpHttpProtocol::kProtobuf);
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=\"http/xml\""));
}

TEST_F(OtlpHttpFromEnvTest, HeadersTimeoutCompressionAndTls) {
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20abc, x-tenant = 7", 1);
  setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
  setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/cert.pem", 1);
  setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/key.pem", 1);
  const OtlpHttpExporterOptions options = OtlpHttpExporterOptions::FromEnv();
  EXPECT_THAT(options.headers,
              ElementsAre(Pair("authorization", "Basic abc"), Pair("x-tenant", "7")));
  EXPECT_EQ(options.timeout, milliseconds(2500));
  EXPECT_TRUE(options.gzip);
  EXPECT_EQ(options.ca_cert_path, "/ca.pem");
  EXPECT_EQ(options.client_cert_path, "/cert.pem");
  EXPECT_EQ(options.client_key_path, "/key.pem");
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(OtlpHttpFromEnvTest, TracesHeadersReplaceGenericOnes) {
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=2", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "c=3", 1);
  EXPECT_THAT(OtlpHttpExporterOptions::FromEnv().headers, ElementsAre(Pair("c", "3")));
}

TEST_F(OtlpHttpFromEnvTest, InvalidValuesWarnOnceEachAndDefaultsApply) {
  setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", 1);
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "good=1,bad", 1);
  const OtlpHttpExporterOptions options = OtlpHttpExporterOptions::FromEnv();
  EXPECT_EQ(options.timeout, milliseconds(10000));
  EXPECT_FALSE(options.gzip);
  EXPECT_THAT(options.headers, ElementsAre(Pair("good", "1")));
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_THAT(warnings[0], HasSubstr("OTEL_EXPORTER_OTLP_HEADERS is invalid"));
  EXPECT_EQ(warnings[0].find("good=1"), std::string::npos) << warnings[0];  // may be a secret
  EXPECT_THAT(warnings[1], HasSubstr("OTEL_EXPORTER_OTLP_TIMEOUT=\"10s\""));
  EXPECT_THAT(warnings[2], HasSubstr("OTEL_EXPORTER_OTLP_COMPRESSION=\"zstd\""));
}

TEST(OtlpHttpExporterCreate, RejectsBadOptions) {
  OtlpHttpExporterOptions options;
  options.timeout = milliseconds(0);
  std::string error;
  EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("timeout"));
  options = {};
  options.max_attempts = 0;
  EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("max_attempts"));
  options = {};
  EXPECT_NE(OtlpHttpExporter::Create(options, &error), nullptr);
}

}  // namespace
}  // namespace vllora::otlp
