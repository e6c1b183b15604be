#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "vllora/otel/diagnostics.h"
#include "vllora/otel/span_data.h"
#include "vllora/otel/tracer_provider.h"

namespace vllora::otel {
namespace {

std::vector<std::string>* g_messages = nullptr;

void Capture(DiagnosticLevel, std::string_view message) {
  if (g_messages != nullptr) g_messages->emplace_back(message);
}

class ResourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("OTEL_SERVICE_NAME");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    g_messages = &messages_;
    SetDiagnosticHandler(&Capture);
  }
  void TearDown() override {
    unsetenv("OTEL_SERVICE_NAME");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    SetDiagnosticHandler(nullptr);
    g_messages = nullptr;
  }
  static std::string Get(const Resource& resource, std::string_view key) {
    auto value = resource.attributes().Find(key);
    if (!value) return "<missing>";
    return std::string(std::get<std::string_view>(*value));
  }
  std::vector<std::string> messages_;
};

TEST_F(ResourceTest, Defaults) {
  Resource resource = Resource::Create();
  EXPECT_EQ(Get(resource, "telemetry.sdk.name"), "vllora-telemetry-cpp");
  EXPECT_EQ(Get(resource, "telemetry.sdk.language"), "cpp");
  EXPECT_EQ(Get(resource, "telemetry.sdk.version"), kSdkVersion);
  EXPECT_EQ(Get(resource, "service.name"), "unknown_service:otel_resource_test");
  EXPECT_TRUE(messages_.empty());
  EXPECT_TRUE(Resource::Empty().attributes().empty());
}

TEST_F(ResourceTest, EnvAttributesPercentDecodedAndMalformedWarnedOnce) {
  setenv("OTEL_RESOURCE_ATTRIBUTES",
         "deployment.environment=prod, team=ml%20infra,broken,=x,bad=%zz,service.name=from-attrs",
         1);
  Resource resource = Resource::Create();
  EXPECT_EQ(Get(resource, "deployment.environment"), "prod");
  EXPECT_EQ(Get(resource, "team"), "ml infra");
  EXPECT_EQ(Get(resource, "service.name"), "from-attrs");
  EXPECT_EQ(Get(resource, "bad"), "<missing>");
  ASSERT_EQ(messages_.size(), 1U);
  EXPECT_NE(messages_[0].find("OTEL_RESOURCE_ATTRIBUTES"), std::string::npos);
  EXPECT_NE(messages_[0].find("3 malformed"), std::string::npos);
}

TEST_F(ResourceTest, Precedence) {
  setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,k=env", 1);
  setenv("OTEL_SERVICE_NAME", "from-service-name", 1);
  EXPECT_EQ(Get(Resource::Create(), "service.name"), "from-service-name");
  Resource with_extra = Resource::Create({{"service.name", "extra"}, {"k", "extra-k"}});
  EXPECT_EQ(Get(with_extra, "service.name"), "extra");
  EXPECT_EQ(Get(with_extra, "k"), "extra-k");
}

TEST_F(ResourceTest, SpanLimitsFromEnv) {
  setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "7", 1);
  setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "nope", 1);
  setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100", 1);
  SpanLimits limits = SpanLimits::FromEnv();
  unsetenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT");
  unsetenv("OTEL_SPAN_EVENT_COUNT_LIMIT");
  unsetenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
  EXPECT_EQ(limits.max_attributes, 7U);
  EXPECT_EQ(limits.max_events, 128U);
  EXPECT_EQ(limits.max_links, 128U);
  EXPECT_EQ(limits.max_attribute_value_length, 100U);
  ASSERT_EQ(messages_.size(), 1U);
  EXPECT_NE(messages_[0].find("OTEL_SPAN_EVENT_COUNT_LIMIT"), std::string::npos);
  EXPECT_NE(messages_[0].find("nope"), std::string::npos);
}

}  // namespace
}  // namespace vllora::otel
