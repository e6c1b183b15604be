// Endpoint parsing, header lists, OtlpGrpcExporterOptions::FromEnv() and factory validation.
// No network: creating a channel does not connect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <mutex>
#include <string>
#include <vector>

#include "otlp/otlp_env.h"
#include "otlp_grpc/otlp_grpc_endpoint.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otlp/otlp_grpc_exporter.h"

namespace vllora::otlp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

struct EndpointCase {
  const char* endpoint;
  bool insecure;
  const char* target;
  bool tls;
};

TEST(ParseGrpcEndpoint, AcceptsUrlsAndHostPort) {
  const EndpointCase cases[] = {
      {"http://localhost:4317", false, "localhost:4317", false},
      {"http://localhost:4317/", false, "localhost:4317", false},
      {"HTTP://collector.example.com:4317", false, "collector.example.com:4317", false},
      {"https://collector:443", false, "collector:443", true},
      {"https://collector", false, "collector:443", true},
      {"http://collector", false, "collector:80", false},
      {"http://[::1]:4317", false, "[::1]:4317", false},
      {"127.0.0.1:4317", false, "127.0.0.1:4317", true},
      {"127.0.0.1:4317", true, "127.0.0.1:4317", false},
      {"  http://h:1  ", false, "h:1", false},
      {"otel-collector", true, "otel-collector:4317", false},
  };
  for (const EndpointCase& c : cases) {
    std::string error;
    const auto target = internal::ParseGrpcEndpoint(c.endpoint, c.insecure, &error);
    ASSERT_TRUE(target.has_value()) << c.endpoint << ": " << error;
    EXPECT_EQ(target->target, c.target) << c.endpoint;
    EXPECT_EQ(target->use_tls, c.tls) << c.endpoint;
  }
}

TEST(ParseGrpcEndpoint, RejectsWithAClearMessage) {
  const std::pair<const char*, const char*> cases[] = {
      {"ftp://x", "unsupported scheme \"ftp\""},
      {"http://", "no host"},
      {"", "empty"},
      {"http://:4317", "no host"},
      {"http://h:0", "invalid port \"0\""},
      {"http://h:65536", "invalid port \"65536\""},
      {"http://h:12ab", "invalid port \"12ab\""},
      {"http://h:", "invalid port \"\""},
      {"http://h:4317/v1/traces", "no path"},
      {"http://::1:4317", "brackets"},
      {"http://[::1", "unterminated"},
      {"http://h st:1", "invalid character ' '"},
  };
  for (const auto& [endpoint, expected] : cases) {
    std::string error;
    EXPECT_FALSE(internal::ParseGrpcEndpoint(endpoint, false, &error).has_value()) << endpoint;
    EXPECT_THAT(error, HasSubstr(expected)) << endpoint;
    EXPECT_THAT(error, HasSubstr(std::string("\"") + endpoint + "\"")) << endpoint;
  }
}

// User information is refused, and the message does not repeat it (it may be a token).
TEST(ParseGrpcEndpoint, RejectsUserInformationWithoutPrintingIt) {
  for (const char* endpoint :
       {"http://s3cr3t@h:4317", "https://user:s3cr3t@h", "user:s3cr3t@h:1"}) {
    std::string error;
    EXPECT_FALSE(internal::ParseGrpcEndpoint(endpoint, false, &error).has_value()) << endpoint;
    EXPECT_THAT(error, HasSubstr("user information")) << endpoint;
    EXPECT_THAT(error, HasSubstr("***@h")) << endpoint;
    EXPECT_THAT(error, Not(HasSubstr("s3cr3t"))) << endpoint;
  }
}

TEST(ParseGrpcEndpoint, TrimsANewlineFromASecretFile) {
  std::string error;
  const auto target = internal::ParseGrpcEndpoint("http://collector:4317\r\n", false, &error);
  ASSERT_TRUE(target.has_value()) << error;
  EXPECT_EQ(target->target, "collector:4317");
}

TEST(OtlpEnvText, RedactUrlCredentials) {
  using internal::RedactUrlCredentials;
  EXPECT_EQ(RedactUrlCredentials("https://user:token@host:4318/v1/traces"),
            "https://user:***@host:4318/v1/traces");
  EXPECT_EQ(RedactUrlCredentials("https://token@host/v1/traces"), "https://***@host/v1/traces");
  EXPECT_EQ(RedactUrlCredentials("user:token@host:4317"), "user:***@host:4317");
  EXPECT_EQ(RedactUrlCredentials("https://a:b@c@host/x"), "https://a:***@host/x");
  // Malformed: a '/' in the password; everything before the '@' is hidden.
  EXPECT_EQ(RedactUrlCredentials("https://user:pa/ss@host/x"), "https://***@host/x");
  // A '?' or '#' in the password: libcurl takes the URL otherwise (a host "user" with a bad
  // port, or a host "tok"), and the messages that refuse or label it must not show it.
  EXPECT_EQ(RedactUrlCredentials("https://user:p#ss@host/v1/traces"), "https://***@host/v1/traces");
  EXPECT_EQ(RedactUrlCredentials("https://tok?en@host/v1/traces"), "https://***@host/v1/traces");
  // An '@' in the query hides more than it needs to (a log line loses a little, never a secret).
  EXPECT_EQ(RedactUrlCredentials("https://host/x?mail=a@b"), "https://***@b");
  EXPECT_EQ(RedactUrlCredentials("http://localhost:4318/v1/traces"),
            "http://localhost:4318/v1/traces");
  EXPECT_EQ(RedactUrlCredentials(""), "");
}

TEST(OtlpEnvText, HttpTokensValuesAndTrimming) {
  EXPECT_TRUE(internal::IsHttpToken("X-Api-Key"));
  EXPECT_TRUE(internal::IsHttpToken("a!#$%&'*+-.^_`|~9"));
  EXPECT_FALSE(internal::IsHttpToken(""));
  EXPECT_FALSE(internal::IsHttpToken("a b"));
  EXPECT_FALSE(internal::IsHttpToken("a:b"));
  EXPECT_FALSE(internal::IsHttpToken("a\"b"));
  EXPECT_FALSE(internal::IsHttpToken("caf\xc3\xa9"));
  EXPECT_TRUE(internal::IsValidHttpHeaderValue(""));
  EXPECT_TRUE(internal::IsValidHttpHeaderValue("Bearer a\tb \xc3\xa9"));
  EXPECT_FALSE(internal::IsValidHttpHeaderValue("a\rb"));
  EXPECT_FALSE(internal::IsValidHttpHeaderValue("a\nb"));
  EXPECT_FALSE(internal::IsValidHttpHeaderValue(std::string("a\0b", 3)));
  EXPECT_FALSE(internal::IsValidHttpHeaderValue("a\x1b"));
  EXPECT_FALSE(internal::IsValidHttpHeaderValue("a\x7f"));
  EXPECT_EQ(internal::TrimSpaces(" \t\r\nx y\r\n"), "x y");
  EXPECT_EQ(internal::PrintableForLog("a\nb\x7f"), "a?b?");
  EXPECT_EQ(internal::PrintableForLog(std::string(70, 'k')), std::string(64, 'k') + "...");
}

TEST(MetadataValidation, KeysAndValues) {
  EXPECT_TRUE(internal::IsValidMetadataKey("authorization"));
  EXPECT_TRUE(internal::IsValidMetadataKey("x-api_key.v2"));
  EXPECT_FALSE(internal::IsValidMetadataKey("Authorization"));
  EXPECT_FALSE(internal::IsValidMetadataKey(""));
  EXPECT_FALSE(internal::IsValidMetadataKey("grpc-timeout"));
  EXPECT_FALSE(internal::IsValidMetadataKey("a b"));
  EXPECT_TRUE(internal::IsValidMetadataValue("k", "Bearer abc"));
  EXPECT_FALSE(internal::IsValidMetadataValue("k", "line\nbreak"));
  EXPECT_TRUE(internal::IsValidMetadataValue("k-bin", std::string("\0\xff", 2)));
}

TEST(HeaderList, ParsesTrimsAndPercentDecodes) {
  bool invalid = false;
  const auto headers = internal::ParseHeaderList(
      " Api-Key = secret%20value ,x=1,,broken, =novalue,tenant=a%2Cb%3Dc,odd=%zz", &invalid);
  EXPECT_TRUE(invalid);
  EXPECT_THAT(headers, ElementsAre(Pair("api-key", "secret value"), Pair("x", "1"),
                                   Pair("tenant", "a,b=c"), Pair("odd", "%zz")));
  invalid = false;
  EXPECT_THAT(internal::ParseHeaderList("a=b=c", &invalid), ElementsAre(Pair("a", "b=c")));
  EXPECT_FALSE(invalid);
}

// FromEnv() tests set process environment variables; they run one at a time within this binary.
std::vector<std::string>& Captured() {
  static std::vector<std::string> messages;
  return messages;
}
std::mutex& CapturedMutex() {
  static std::mutex mu;
  return mu;
}

class FromEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClearAll();
    Captured().clear();
    otel::SetDiagnosticHandler([](otel::DiagnosticLevel, std::string_view message) {
      std::lock_guard<std::mutex> lock(CapturedMutex());
      Captured().emplace_back(message);
    });
  }
  void TearDown() override {
    otel::SetDiagnosticHandler(nullptr);
    ClearAll();
  }
  static void ClearAll() {
    for (const char* suffix : {"ENDPOINT", "HEADERS", "TIMEOUT", "COMPRESSION", "CERTIFICATE",
                               "CLIENT_KEY", "CLIENT_CERTIFICATE", "INSECURE"}) {
      unsetenv((std::string("OTEL_EXPORTER_OTLP_") + suffix).c_str());
      unsetenv((std::string("OTEL_EXPORTER_OTLP_TRACES_") + suffix).c_str());
    }
  }
  static std::vector<std::string> Messages() {
    std::lock_guard<std::mutex> lock(CapturedMutex());
    return Captured();
  }
};

TEST_F(FromEnvTest, DefaultsWithoutVariables) {
  const OtlpGrpcExporterOptions options = OtlpGrpcExporterOptions::FromEnv();
  EXPECT_EQ(options.endpoint, "http://localhost:4317");
  EXPECT_TRUE(options.headers.empty());
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(10000));
  EXPECT_FALSE(options.gzip);
  EXPECT_FALSE(options.insecure);
  EXPECT_TRUE(Messages().empty());
}

TEST_F(FromEnvTest, GenericVariables) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317", 1);
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t,x-tenant=7", 1);
  setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
  setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem", 1);
  setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/key.pem", 1);
  setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/cert.pem", 1);
  setenv("OTEL_EXPORTER_OTLP_INSECURE", "TRUE", 1);
  const OtlpGrpcExporterOptions options = OtlpGrpcExporterOptions::FromEnv();
  EXPECT_EQ(options.endpoint, "https://collector:4317");
  EXPECT_THAT(options.headers,
              ElementsAre(Pair("authorization", "Bearer t"), Pair("x-tenant", "7")));
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(options.gzip);
  EXPECT_EQ(options.ca_cert_path, "/ca.pem");
  EXPECT_EQ(options.client_key_path, "/key.pem");
  EXPECT_EQ(options.client_cert_path, "/cert.pem");
  EXPECT_TRUE(options.insecure);
  EXPECT_TRUE(Messages().empty());
}

TEST_F(FromEnvTest, SignalSpecificWins) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:1", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:2", 1);
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=2", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "c=3", 1);
  setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "100", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "200", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false", 1);
  setenv("OTEL_EXPORTER_OTLP_INSECURE", "true", 1);
  const OtlpGrpcExporterOptions options = OtlpGrpcExporterOptions::FromEnv();
  EXPECT_EQ(options.endpoint, "http://traces:2");
  EXPECT_THAT(options.headers, ElementsAre(Pair("c", "3")));
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(200));
  EXPECT_FALSE(options.gzip);
  EXPECT_FALSE(options.insecure);
}

TEST_F(FromEnvTest, EmptyVariableCountsAsUnset) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:1", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", 1);
  EXPECT_EQ(OtlpGrpcExporterOptions::FromEnv().endpoint, "http://generic:1");
}

TEST_F(FromEnvTest, InvalidValuesWarnOnceAndKeepDefaults) {
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://nope", 1);
  setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli", 1);
  setenv("OTEL_EXPORTER_OTLP_INSECURE", "yes", 1);
  // An API key with an unescaped comma: the part after it is an invalid entry.
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "ok=1,authorization=Bearer sk-SECRET,123", 1);
  const OtlpGrpcExporterOptions options = OtlpGrpcExporterOptions::FromEnv();
  EXPECT_EQ(options.endpoint, "http://localhost:4317");
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(10000));
  EXPECT_FALSE(options.gzip);
  EXPECT_FALSE(options.insecure);
  EXPECT_THAT(options.headers,
              ElementsAre(Pair("ok", "1"), Pair("authorization", "Bearer sk-SECRET")));
  const std::vector<std::string> messages = Messages();
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_THAT(messages[0], HasSubstr("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"ftp://nope\""));
  EXPECT_THAT(messages[1], HasSubstr("OTEL_EXPORTER_OTLP_HEADERS is invalid"));
  EXPECT_THAT(messages[1], HasSubstr("not shown"));
  EXPECT_THAT(messages[1], Not(HasSubstr("SECRET")));
  EXPECT_THAT(messages[1], Not(HasSubstr("123")));
  EXPECT_THAT(messages[2], HasSubstr("OTEL_EXPORTER_OTLP_TIMEOUT=\"10s\""));
  EXPECT_THAT(messages[3], HasSubstr("OTEL_EXPORTER_OTLP_COMPRESSION=\"brotli\""));
  EXPECT_THAT(messages[4], HasSubstr("OTEL_EXPORTER_OTLP_INSECURE=\"yes\""));
}

TEST(OtlpGrpcExporterFactory, InvalidEndpointGivesClearError) {
  for (const char* endpoint : {"ftp://x", "http://", "http://h:99999"}) {
    OtlpGrpcExporterOptions options;
    options.endpoint = endpoint;
    std::string error;
    EXPECT_EQ(MakeOtlpGrpcExporter(options, &error), nullptr) << endpoint;
    EXPECT_THAT(error, HasSubstr("invalid OTLP gRPC endpoint")) << endpoint;
    EXPECT_THAT(error, HasSubstr(endpoint));
  }
  OtlpGrpcExporterOptions options;
  options.endpoint = "ftp://x";
  EXPECT_EQ(MakeOtlpGrpcExporter(options), nullptr);  // no error pointer: still no crash
}

TEST(OtlpGrpcExporterFactory, RejectsBadNumbersAndMissingCertificates) {
  std::string error;
  OtlpGrpcExporterOptions options;
  options.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(OtlpGrpcExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("timeout"));
  options = {};
  options.max_attempts = 0;
  EXPECT_EQ(OtlpGrpcExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("max_attempts"));
  options = {};
  options.backoff_multiplier = 0.5;
  EXPECT_EQ(OtlpGrpcExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("backoff_multiplier"));
  options = {};
  options.endpoint = "https://localhost:4317";
  options.ca_cert_path = "/nonexistent/ca.pem";
  EXPECT_EQ(OtlpGrpcExporter::Create(options, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("/nonexistent/ca.pem"));
}

TEST(OtlpGrpcExporterFactory, CreatesWithoutConnectingAndShutsDown) {
  OtlpGrpcExporterOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.headers = {{"X-Upper", "v"}, {"bad key", "v"}};
  auto exporter = OtlpGrpcExporter::Create(options);
  ASSERT_NE(exporter, nullptr);
  EXPECT_EQ(exporter->target(), "127.0.0.1:1");
  EXPECT_TRUE(exporter->ForceFlush(std::chrono::steady_clock::now()));
  EXPECT_TRUE(exporter->Shutdown(std::chrono::steady_clock::now()));
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(std::make_unique<otel::SpanData>());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(exporter->Export(batch), otel::ExportResult::kFailure);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(exporter->Stats().failed_spans, 1u);
  EXPECT_EQ(exporter->Stats().export_calls, 1u);
  // Empty batches are not calls.
  std::vector<std::unique_ptr<otel::SpanData>> empty;
  EXPECT_EQ(exporter->Export(empty), otel::ExportResult::kSuccess);
  EXPECT_EQ(exporter->Stats().export_calls, 1u);
}

TEST_F(FromEnvTest, EndpointWithCredentialsWarnsWithoutThem) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://user:s3cr3t@collector:4317", 1);
  EXPECT_EQ(OtlpGrpcExporterOptions::FromEnv().endpoint, "http://localhost:4317");
  const std::vector<std::string> messages = Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_THAT(messages[0], HasSubstr("OTEL_EXPORTER_OTLP_ENDPOINT=\"https://user:***@collector"));
  EXPECT_THAT(messages[0], Not(HasSubstr("s3cr3t")));
}

// gRPC metadata: invalid entries are dropped naming the key only; an empty value is valid
// metadata and kept (sent as an empty value, as the HTTP exporter sends an empty header).
TEST_F(FromEnvTest, InvalidMetadataIsDroppedNamingTheKeyOnly) {
  OtlpGrpcExporterOptions options;
  options.headers = {{"x-ok", ""}, {"x-bad", "s3cr3t\r\n"}, {"bad key\n", "s3cr3t"}};
  std::string error;
  ASSERT_NE(OtlpGrpcExporter::Create(options, &error), nullptr) << error;
  const std::vector<std::string> messages = Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_THAT(messages[0], HasSubstr("\"x-bad\""));
  EXPECT_THAT(messages[1], HasSubstr("\"bad key?\""));
  for (const std::string& message : messages) EXPECT_THAT(message, Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace vllora::otlp
