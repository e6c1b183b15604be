// End to end: runs the tracing_example binary (one-call setup) and tracing_example_long (the
// pipeline built by hand) against an independent OTLP receiver built from the OpenTelemetry
// project's JavaScript packages, over grpc, http/protobuf and http/json, and asserts the whole
// trace it received.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "support/otlp_receiver_process.h"

namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string output;
  double seconds = 0;
};

RunResult RunExample(const std::string& args, const std::string& protocol = "",
                     const char* binary = TRACING_EXAMPLE_PATH) {
  RunResult result;
  std::string command = std::string("timeout 60 ") + binary + " " + args + " 2>&1";
  if (!protocol.empty()) command = "OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol + " " + command;
  auto start = std::chrono::steady_clock::now();
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// The typed attribute `key` of a span as the receiver printed it ({"type": T, "value": V}).
json Attr(const json& span, const std::string& key) {
  const json& attrs = span.at("attributes");
  if (!attrs.contains(key)) return json();
  return attrs.at(key);
}

void ExpectString(const json& span, const std::string& key, const std::string& value) {
  json a = Attr(span, key);
  EXPECT_EQ(a.value("type", ""), "string") << span["name"] << "." << key;
  EXPECT_EQ(a.value("value", ""), value) << span["name"] << "." << key;
}

void ExpectInt(const json& span, const std::string& key, const std::string& value) {
  json a = Attr(span, key);
  EXPECT_EQ(a.value("type", ""), "int") << span["name"] << "." << key;
  EXPECT_EQ(a.value("value", ""), value) << span["name"] << "." << key;
}

// A string attribute holding JSON: returns the parsed document.
json JsonAttr(const json& span, const std::string& key) {
  json a = Attr(span, key);
  EXPECT_EQ(a.value("type", ""), "string") << span["name"] << "." << key;
  return json::parse(a.value("value", "null"));
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

uint64_t Nanos(const json& span, const char* key) {
  return std::stoull(span.at(key).get<std::string>());
}

struct Variant {
  const char* binary;
  const char* protocol;  // OTEL_EXPORTER_OTLP_PROTOCOL
};

// Shown by gtest and ctest instead of the struct's bytes.
void PrintTo(const Variant& variant, std::ostream* os) {
  *os << (variant.binary == std::string(TRACING_EXAMPLE_PATH) ? "tracing_example "
                                                              : "tracing_example_long ")
      << variant.protocol;
}

std::string VariantName(const ::testing::TestParamInfo<Variant>& info) {
  std::string name =
      std::string(info.param.binary == std::string(TRACING_EXAMPLE_PATH) ? "OneCall_"
                                                                         : "LongForm_") +
      info.param.protocol;
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name;
}

// The endpoint option for `protocol` on `receiver`.
std::string EndpointArg(const vllora::testing::OtlpReceiverProcess& receiver,
                        const std::string& protocol) {
  if (protocol == "grpc") return "--otlp-endpoint " + receiver.endpoint();
  return "--otlp-endpoint " + receiver.http_endpoint();
}

std::unique_ptr<vllora::testing::OtlpReceiverProcess> StartReceiver(std::string* error) {
  vllora::testing::OtlpReceiverProcess::Options options;
  options.enable_http = true;
  return vllora::testing::OtlpReceiverProcess::Start(options, error);
}

class TracingExampleE2EProtocolTest : public ::testing::TestWithParam<Variant> {};

INSTANTIATE_TEST_SUITE_P(Protocols, TracingExampleE2EProtocolTest,
                         ::testing::Values(Variant{TRACING_EXAMPLE_PATH, "grpc"},
                                           Variant{TRACING_EXAMPLE_PATH, "http/protobuf"},
                                           Variant{TRACING_EXAMPLE_PATH, "http/json"},
                                           Variant{TRACING_EXAMPLE_LONG_PATH, "grpc"},
                                           Variant{TRACING_EXAMPLE_LONG_PATH, "http/json"}),
                         VariantName);

TEST_P(TracingExampleE2EProtocolTest, TheWholeTraceArrivesExactly) {
  std::string error;
  auto receiver = StartReceiver(&error);
  ASSERT_NE(receiver, nullptr) << error;

  RunResult run = RunExample(EndpointArg(*receiver, GetParam().protocol), GetParam().protocol,
                             GetParam().binary);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Exported 8 spans to http://127.0.0.1:"));
  EXPECT_THAT(run.output, HasSubstr("1. Created run span"));
  EXPECT_THAT(run.output, HasSubstr("7. Created tool span"));

  std::vector<json> spans = receiver->Spans();
  ASSERT_EQ(spans.size(), 8u);
  std::map<std::string, json> by_name;
  for (const json& s : spans) by_name[s.at("name").get<std::string>()] = s;
  const std::vector<std::string> chain = {"execution",  "run",        "agent",  "task",
                                          "api_invoke", "model_call", "openai", "tool"};
  ASSERT_EQ(by_name.size(), 8u);
  for (const auto& name : chain) ASSERT_TRUE(by_name.count(name)) << name;

  // One trace whose id is a UUID v4; the parent chain; children inside their parents' time.
  std::string trace_id = by_name["execution"]["traceId"];
  ASSERT_EQ(trace_id.size(), 32u);
  EXPECT_EQ(trace_id[12], '4');
  EXPECT_NE(std::string("89ab").find(trace_id[16]), std::string::npos) << trace_id;
  EXPECT_EQ(by_name["execution"].value("parentSpanId", ""), "");
  for (size_t i = 0; i < chain.size(); ++i) {
    const json& span = by_name[chain[i]];
    EXPECT_EQ(span["traceId"], trace_id) << chain[i];
    EXPECT_EQ(span["kind"], 1) << chain[i];  // INTERNAL
    EXPECT_EQ(span["scope"]["name"], "tracing_example");
    if (i > 0) {
      const json& parent = by_name[chain[i - 1]];
      EXPECT_EQ(span["parentSpanId"], parent["spanId"]) << chain[i];
      EXPECT_GE(Nanos(span, "startTimeUnixNano"), Nanos(parent, "startTimeUnixNano")) << chain[i];
      EXPECT_LE(Nanos(span, "endTimeUnixNano"), Nanos(parent, "endTimeUnixNano")) << chain[i];
    }
  }
  auto duration_ms = [&](const std::string& name) {
    const json& s = by_name[name];
    return static_cast<double>(Nanos(s, "endTimeUnixNano") - Nanos(s, "startTimeUnixNano")) / 1e6;
  };
  EXPECT_GE(duration_ms("openai"), 150.0);
  EXPECT_GE(duration_ms("tool"), 50.0);

  // The three baggage entries, one value each, on every span.
  std::set<std::string> run_ids, thread_ids;
  for (const json& span : spans) {
    run_ids.insert(Attr(span, "vllora.run_id").value("value", ""));
    thread_ids.insert(Attr(span, "vllora.thread_id").value("value", ""));
    ExpectString(span, "vllora.tenant", "default");
    EXPECT_EQ(Attr(span, "vllora.run_id").value("type", ""), "string");
  }
  ASSERT_EQ(run_ids.size(), 1u);
  ASSERT_EQ(thread_ids.size(), 1u);
  EXPECT_TRUE(IsUuid(*run_ids.begin())) << *run_ids.begin();
  EXPECT_TRUE(IsUuid(*thread_ids.begin())) << *thread_ids.begin();
  EXPECT_NE(*run_ids.begin(), *thread_ids.begin());
  EXPECT_THAT(run.output, HasSubstr(*run_ids.begin()));

  // Every attribute of every span, with its OTLP type.
  ExpectInt(by_name["execution"], "execution_id", "123");
  EXPECT_EQ(JsonAttr(by_name["run"], "tags"), json({{"environment", "example"}}));
  ExpectString(by_name["agent"], "vllora.agent_name", "research_assistant");
  ExpectString(by_name["task"], "vllora.task_name", "gather_information");
  EXPECT_EQ(JsonAttr(by_name["api_invoke"], "tags"),
            json({{"user_id", "user123"}, {"session_id", "session456"}}));

  const json& model_call = by_name["model_call"];
  ExpectString(model_call, "input", "What is the capital of France?");
  ExpectString(model_call, "output", "The capital of France is Paris.");
  json usage = JsonAttr(model_call, "usage");
  EXPECT_EQ(usage["input_tokens"], 10);
  EXPECT_EQ(usage["output_tokens"], 8);
  EXPECT_EQ(usage["total_tokens"], 18);
  EXPECT_TRUE(usage.contains("prompt_tokens_details"));
  EXPECT_TRUE(usage.contains("completion_tokens_details"));
  EXPECT_EQ(usage["is_cache_used"], false);
  json cost = JsonAttr(model_call, "cost");
  EXPECT_DOUBLE_EQ(cost["cost"].get<double>(), 0.000301);
  EXPECT_DOUBLE_EQ(cost["per_input_token"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(cost["per_output_token"].get<double>(), 3.0);
  EXPECT_EQ(cost["is_cache_used"], false);
  ExpectInt(model_call, "ttft", "150");
  EXPECT_EQ(JsonAttr(model_call, "model")["name"], "gpt-4");
  ExpectString(model_call, "provider_name", "openai");
  ExpectString(model_call, "model_name", "gpt-4");
  ExpectString(model_call, "inference_model_name", "gpt-4");
  ExpectString(model_call, "credentials_identifier", "own");
  EXPECT_EQ(JsonAttr(model_call, "tags"), json({{"model_type", "completion"}}));

  const json& openai = by_name["openai"];
  json request = JsonAttr(openai, "request");
  EXPECT_TRUE(request.contains("messages"));
  EXPECT_EQ(request["model"], "gpt-4o-mini");
  EXPECT_EQ(JsonAttr(openai, "input"), json::parse(R"([{"role":"user","content":"Hello"}])"));
  ExpectInt(openai, "retries_left", "0");
  EXPECT_EQ(JsonAttr(openai, "usage")["total_tokens"], 17);
  json raw_usage = JsonAttr(openai, "raw_usage");
  EXPECT_EQ(raw_usage["prompt_tokens"], 8);
  EXPECT_EQ(raw_usage["completion_tokens"], 9);
  EXPECT_EQ(Attr(openai, "cost").value("type", ""), "double");
  EXPECT_DOUBLE_EQ(Attr(openai, "cost")["value"].get<double>(), 6.600000262260437e-6);
  EXPECT_EQ(JsonAttr(openai, "output")["choices"][0]["message"]["content"],
            "Hello! How can I assist you today?");
  ExpectInt(openai, "ttft", "843129");
  EXPECT_EQ(JsonAttr(openai, "tags"), json({{"provider", "openai"}}));

  const json& tool = by_name["tool"];
  ExpectString(tool, "vllora.tool_name", "search_web");
  ExpectString(tool, "input", "search query: Paris");
  ExpectString(tool, "output", "Search results...");
  EXPECT_EQ(JsonAttr(tool, "tags"), json({{"tool_type", "function"}}));

  // Only what the example recorded: baggage + the fields above, nothing else.
  EXPECT_EQ(by_name["execution"]["attributes"].size(), 4u);
  EXPECT_EQ(tool["attributes"].size(), 7u);
}

// Everything but ids, timestamps and the per-run baggage values: what must be identical whatever
// the transport.
std::map<std::string, json> Normalized(const std::vector<json>& spans) {
  std::map<std::string, json> out;
  for (json span : spans) {
    for (const char* key :
         {"request", "traceId", "spanId", "parentSpanId", "startTimeUnixNano", "endTimeUnixNano"}) {
      span.erase(key);
    }
    span["attributes"].erase("vllora.run_id");
    span["attributes"].erase("vllora.thread_id");
    for (json& event : span["events"]) event.erase("timeUnixNano");
    out[span.at("name").get<std::string>()] = span;
  }
  return out;
}

TEST(TracingExampleE2ETest, SameTraceOverGrpcHttpProtobufAndHttpJson) {
  std::string error;
  auto receiver = StartReceiver(&error);
  ASSERT_NE(receiver, nullptr) << error;
  std::vector<std::map<std::string, json>> traces;
  for (const char* protocol : {"grpc", "http/protobuf", "http/json"}) {
    const size_t before = receiver->Spans().size();
    RunResult run = RunExample(EndpointArg(*receiver, protocol), protocol);
    ASSERT_EQ(run.exit_code, 0) << protocol << "\n" << run.output;
    ASSERT_TRUE(receiver->WaitForSpans(before + 8, std::chrono::seconds(10))) << protocol;
    std::vector<json> spans = receiver->Spans();
    traces.push_back(
        Normalized(std::vector<json>(spans.begin() + static_cast<long>(before), spans.end())));
    ASSERT_EQ(traces.back().size(), 8u) << protocol;
  }
  EXPECT_EQ(traces[1], traces[0]) << "http/protobuf differs from grpc";
  EXPECT_EQ(traces[2], traces[0]) << "http/json differs from grpc";
  const std::vector<json> requests = receiver->Requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests.back().value("contentType", ""), "application/json");
}

TEST(TracingExampleE2ETest, UnreachableEndpointIsReportedAndExitsWithinSeconds) {
  // Port 9 on loopback: nothing listens there.
  RunResult run = RunExample("--otlp-endpoint http://127.0.0.1:9");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Could not deliver all spans to http://127.0.0.1:9"));
  EXPECT_LT(run.seconds, 15.0) << "shutdown must honour its deadline";
}

TEST(TracingExampleE2ETest, InvalidEndpointIsAClearError) {
  RunResult run = RunExample("--otlp-endpoint ftp://nowhere");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("invalid --otlp-endpoint"));
}

TEST(TracingExampleE2ETest, HelpDescribesTheOptions) {
  RunResult run = RunExample("--help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("--otlp-endpoint"));
  EXPECT_THAT(run.output, HasSubstr("--verbose"));
}

}  // namespace
