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
using ::testing::IsEmpty;
using ::testing::Not;
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

TEST_F(OtlpHttpFromEnvTest, EndpointWhitespaceFromASecretFileIsTrimmed) {
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces\r\n", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, "http://collector:4318/v1/traces");
  unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", " http://collector:4318\n", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, "http://collector:4318/v1/traces");
  EXPECT_THAT(Warnings(), IsEmpty());
}

TEST_F(OtlpHttpFromEnvTest, MalformedEndpointWarnsWithoutCredentialsAndKeepsTheDefault) {
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://user:s3cr3t@127.0.0.1:99999/v1/traces", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, kDefaultOtlpHttpTracesUrl);
  unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector host:4318", 1);
  EXPECT_EQ(OtlpHttpExporterOptions::FromEnv().endpoint, kDefaultOtlpHttpTracesUrl);
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
  EXPECT_THAT(warnings[0], HasSubstr("port"));
  EXPECT_THAT(warnings[0], HasSubstr("user:***@127.0.0.1"));
  EXPECT_THAT(warnings[0], Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(warnings[1], HasSubstr("OTEL_EXPORTER_OTLP_ENDPOINT"));
}

// Each of these passed Create() before, and then every export failed.
TEST(OtlpHttpExporterCreate, RejectsMalformedEndpoints) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://127.0.0.1:99999/v1/traces", "port"},
      {"http://127.0.0.1:0/v1/traces", "port"},
      {"http://collector:4318/v1/tr aces", "invalid OTLP HTTP endpoint"},
      {"http://collector host:4318/v1/traces", "invalid OTLP HTTP endpoint"},
      {"http://collector:4318/v1/traces\nX-Injected: 1", "invalid OTLP HTTP endpoint"},
      {"http://collector\t:4318/v1/traces", "invalid OTLP HTTP endpoint"},
      {"ftp://collector/v1/traces", "http:// or https://"},
      {"collector:4318/v1/traces", "http:// or https://"},
      {"http://", "no host"},
      {"https:///v1/traces", "no host"},
  };
  for (const auto& [endpoint, expected] : cases) {
    OtlpHttpExporterOptions options;
    options.endpoint = endpoint;
    std::string error;
    EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr) << endpoint;
    EXPECT_THAT(error, HasSubstr(expected)) << endpoint;
  }
}

TEST(OtlpHttpExporterCreate, TrimsWhitespaceAroundAValidEndpoint) {
  for (const char* endpoint :
       {"http://127.0.0.1:4318/v1/traces\n", "http://127.0.0.1:4318/v1/traces\r\n",
        " \thttp://127.0.0.1:4318/v1/traces \t"}) {
    OtlpHttpExporterOptions options;
    options.endpoint = endpoint;
    std::string error;
    auto exporter = OtlpHttpExporter::Create(options, &error);
    ASSERT_NE(exporter, nullptr) << error;
    EXPECT_EQ(exporter->url(), "http://127.0.0.1:4318/v1/traces");
  }
  OtlpHttpExporterOptions options;
  options.endpoint = "https://[::1]:4318/otlp/v1/traces?tenant=a";
  std::string error;
  EXPECT_NE(OtlpHttpExporter::Create(options, &error), nullptr) << error;
}

TEST(OtlpHttpExporterCreate, CredentialsInTheEndpointAreNotInTheError) {
  OtlpHttpExporterOptions options;
  options.endpoint = "https://user:s3cr3t@collector:99999/v1/traces";
  std::string error;
  EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("https://user:***@collector:99999/v1/traces"));
  EXPECT_THAT(error, Not(HasSubstr("s3cr3t")));
  options.endpoint = "https://s3cr3t@collector:4318/v1/tr aces";
  EXPECT_EQ(OtlpHttpExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("https://***@collector"));
  EXPECT_THAT(error, Not(HasSubstr("s3cr3t")));
}

class OtlpHttpHeaderTest : public OtlpHttpFromEnvTest {};

// Invalid header entries are dropped with one warning each that names the header and never shows
// the value; empty values and tabs are valid.
TEST_F(OtlpHttpHeaderTest, InvalidEntriesAreDroppedNamingTheHeaderOnly) {
  OtlpHttpExporterOptions options;
  options.headers = {{"bad name", "s3cr3t-1"},
                     {"bad:name", "s3cr3t-2"},
                     {"", "s3cr3t-3"},
                     {"x-crlf", "s3cr3t-4\r\nX-Injected: 1"},
                     {"x-nul", std::string("s3cr3t-5\0", 9)},
                     {"x-del", "s3cr3t-6\x7f"},
                     {"x-bell", "s3cr3t-7\a"},
                     {"x-tab", "a\tb"},
                     {"x-empty", ""},
                     {"X-Api-Key", "s3cr3t-8"}};
  std::string error;
  auto exporter = OtlpHttpExporter::Create(options, &error);
  ASSERT_NE(exporter, nullptr) << error;
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 7u);
  EXPECT_THAT(warnings[0], HasSubstr("\"bad name\": the name is not an HTTP token"));
  EXPECT_THAT(warnings[1], HasSubstr("\"bad:name\""));
  EXPECT_THAT(warnings[2], HasSubstr("\"\""));
  EXPECT_THAT(warnings[3], HasSubstr("\"x-crlf\": its value contains a control character"));
  EXPECT_THAT(warnings[4], HasSubstr("\"x-nul\""));
  EXPECT_THAT(warnings[5], HasSubstr("\"x-del\""));
  EXPECT_THAT(warnings[6], HasSubstr("\"x-bell\""));
  for (const std::string& warning : warnings) {
    EXPECT_THAT(warning, Not(HasSubstr("s3cr3t"))) << warning;
    EXPECT_THAT(warning, Not(HasSubstr("Injected"))) << warning;
  }
}

TEST_F(OtlpHttpHeaderTest, NamesWithControlCharactersArePrintedSafely) {
  OtlpHttpExporterOptions options;
  options.headers = {{"x-a\nFake: line", "v"}};
  ASSERT_NE(OtlpHttpExporter::Create(options), nullptr);
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("\"x-a?Fake: line\""));
}

TEST_F(OtlpHttpHeaderTest, EnvironmentEntriesAreCheckedTheSameWay) {
  // %0A decodes to a newline inside the value; "a b" is not a token.
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-ok=1,x-bad=s3cr3t%0Ax,a b=s3cr3t,x-empty=", 1);
  const OtlpHttpExporterOptions options = OtlpHttpExporterOptions::FromEnv();
  ASSERT_NE(OtlpHttpExporter::Create(options), nullptr);
  const std::vector<std::string> warnings = Warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("\"x-bad\""));
  EXPECT_THAT(warnings[1], HasSubstr("\"a b\""));
  for (const std::string& warning : warnings) EXPECT_THAT(warning, Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace vllora::otlp
