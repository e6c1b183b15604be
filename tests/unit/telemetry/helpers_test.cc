// The vLLora span helpers: every VLLORA_CREATE_*_SPAN macro and its function twin produce the
// exact span name, target, level and typed fields vLLora reads; disabled macros evaluate nothing.
#include "vllora/telemetry/helpers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "support/recording_layer.h"
#include "vllora/core/core.h"
#include "vllora/subscriber/filter.h"
#include "vllora/subscriber/registry.h"

namespace vllora::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string_view TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNone:
      return "none";
    case Value::Type::kString:
      return "str";
    case Value::Type::kInt64:
      return "i64";
    case Value::Type::kUint64:
      return "u64";
    case Value::Type::kDouble:
      return "f64";
    case Value::Type::kBool:
      return "bool";
    case Value::Type::kJson:
      return "json";
  }
  return "?";
}

/// What a span looked like to a layer: metadata, parent and its fields (initial then recorded,
/// a recorded key replacing the earlier value in place), each as `key=type:value`.
struct CapturedSpan {
  std::string name;
  std::string target;
  Level level = Level::kTrace;
  CallsiteKind kind = CallsiteKind::kEvent;
  std::string parent;
  std::vector<std::pair<std::string, std::string>> fields;

  std::vector<std::string> Fields() const {
    std::vector<std::string> out;
    for (const auto& [key, value] : fields) out.push_back(key + "=" + value);
    return out;
  }
};

class CaptureLayer : public Layer {
 public:
  void OnNewSpan(SpanRef span, FieldSpan fields) noexcept override {
    const Metadata& m = span.metadata();
    CapturedSpan captured{std::string(m.name),
                          std::string(m.target),
                          m.level,
                          m.kind,
                          span.parent() ? std::string(span.parent().metadata().name) : "-",
                          {}};
    std::lock_guard<std::mutex> lock(mu_);
    Merge(captured, fields);
    by_id_[span.id()] = spans_.size();
    spans_.push_back(std::move(captured));
  }
  void OnRecord(SpanRef span, FieldSpan fields) noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(span.id());
    if (it != by_id_.end()) Merge(spans_[it->second], fields);
  }

  /// The only span captured since the last call (a failure when there is not exactly one).
  CapturedSpan TakeOne() {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(spans_.size(), 1u);
    CapturedSpan out = spans_.empty() ? CapturedSpan{} : spans_.back();
    spans_.clear();
    by_id_.clear();
    return out;
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return spans_.size();
  }

 private:
  static void Merge(CapturedSpan& span, FieldSpan fields) {
    for (const Field& field : fields) {
      std::string rendered =
          std::string(TypeName(field.value.type())) + ":" + field.value.ToString();
      bool replaced = false;
      for (auto& [key, value] : span.fields) {
        if (key == field.key) {
          value = rendered;
          replaced = true;
        }
      }
      if (!replaced) span.fields.emplace_back(std::string(field.key), std::move(rendered));
    }
  }

  std::mutex mu_;
  std::vector<CapturedSpan> spans_;
  std::map<uint64_t, size_t> by_id_;
};

class HelpersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    layer_ = std::make_shared<CaptureLayer>();
    auto registry = Registry::Create();
    registry->With(layer_);
    SetGlobalSubscriber(registry);
  }
  void TearDown() override { SetGlobalSubscriber(nullptr); }

  /// Checks metadata and fields of the one span captured, for a macro and its twin alike.
  void ExpectSpan(std::string_view name, std::string_view target,
                  const std::vector<std::string>& fields) {
    CapturedSpan span = layer_->TakeOne();
    EXPECT_EQ(span.name, name);
    EXPECT_EQ(span.target, target);
    EXPECT_EQ(span.level, Level::kInfo);
    EXPECT_EQ(span.kind, CallsiteKind::kSpan);
    EXPECT_EQ(span.Fields(), fields);
  }

  std::shared_ptr<CaptureLayer> layer_;
};

TEST_F(HelpersTest, RunSpan) {
  { auto span = VLLORA_CREATE_RUN_SPAN(); }
  ExpectSpan("run", "vllora::user_tracing::run", {"tags=str:{}"});
  { auto span = CreateRunSpan(); }
  ExpectSpan("run", "vllora::user_tracing::run", {"tags=str:{}"});
  { auto span = VLLORA_CREATE_RUN_SPAN({{"environment", "example"}, {"b", "2"}}); }
  ExpectSpan("run", "vllora::user_tracing::run", {R"(tags=str:{"b":"2","environment":"example"})"});
  { auto span = CreateRunSpan({{"environment", "example"}, {"b", "2"}}); }
  ExpectSpan("run", "vllora::user_tracing::run", {R"(tags=str:{"b":"2","environment":"example"})"});
}

TEST_F(HelpersTest, RunSpanAcceptsMapsAndJsonObjects) {
  std::map<std::string, std::string> map{{"k", "v"}};
  { auto span = VLLORA_CREATE_RUN_SPAN(map); }
  ExpectSpan("run", "vllora::user_tracing::run", {R"(tags=str:{"k":"v"})"});
  std::unordered_map<std::string, std::string> unordered{{"k", "v"}};
  { auto span = CreateRunSpan(unordered); }
  ExpectSpan("run", "vllora::user_tracing::run", {R"(tags=str:{"k":"v"})"});
  nlohmann::json json = {{"user", "u1"}, {"n", 1}};
  { auto span = VLLORA_CREATE_RUN_SPAN(json); }
  ExpectSpan("run", "vllora::user_tracing::run", {R"(tags=str:{"n":1,"user":"u1"})"});
}

TEST_F(HelpersTest, AgentSpan) {
  { auto span = VLLORA_CREATE_AGENT_SPAN("research_assistant"); }
  ExpectSpan("agent", "vllora::user_tracing::agent", {"vllora.agent_name=str:research_assistant"});
  std::string name = "research_assistant";
  { auto span = CreateAgentSpan(name); }
  ExpectSpan("agent", "vllora::user_tracing::agent", {"vllora.agent_name=str:research_assistant"});
}

TEST_F(HelpersTest, TaskSpan) {
  { auto span = VLLORA_CREATE_TASK_SPAN(std::string("summarize")); }
  ExpectSpan("task", "vllora::user_tracing::task", {"vllora.task_name=str:summarize"});
  { auto span = CreateTaskSpan("summarize"); }
  ExpectSpan("task", "vllora::user_tracing::task", {"vllora.task_name=str:summarize"});
}

TEST_F(HelpersTest, ApiInvokeAndThreadSpans) {
  const std::vector<std::string> fields = {R"(tags=str:{"user":"u1"})"};
  { auto span = VLLORA_CREATE_API_INVOKE_SPAN(Tags{{"user", "u1"}}); }
  ExpectSpan("api_invoke", "vllora::user_tracing::api_invoke", fields);
  { auto span = CreateApiInvokeSpan({{"user", "u1"}}); }
  ExpectSpan("api_invoke", "vllora::user_tracing::api_invoke", fields);
  { auto span = VLLORA_CREATE_THREAD_SPAN({{"user", "u1"}}); }
  ExpectSpan("api_invoke", "vllora::user_tracing::api_invoke", fields);
  { auto span = CreateThreadSpan(Tags().Set("user", "u1")); }
  ExpectSpan("api_invoke", "vllora::user_tracing::api_invoke", fields);
  { auto span = VLLORA_CREATE_API_INVOKE_SPAN(); }
  ExpectSpan("api_invoke", "vllora::user_tracing::api_invoke", {"tags=str:{}"});
  { auto span = CreateThreadSpan(); }
  ExpectSpan("api_invoke", "vllora::user_tracing::api_invoke", {"tags=str:{}"});
}

TEST_F(HelpersTest, ModelInvokeSpan) {
  const std::string model_json = R"({"model":"gpt-4"})";
  const std::vector<std::string> fields = {R"(input=str:{"messages":[]})",
                                           R"(model=str:{"model":"gpt-4"})",
                                           "provider_name=str:openai",
                                           "model_name=str:gpt-4",
                                           "inference_model_name=str:gpt-4-0613",
                                           "credentials_identifier=str:own",
                                           R"(tags=str:{"model_type":"completion"})"};
  {
    auto span =
        VLLORA_CREATE_MODEL_INVOKE_SPAN(R"({"messages":[]})", model_json, "openai", "gpt-4",
                                        "gpt-4-0613", "own", {{"model_type", "completion"}});
  }
  ExpectSpan("model_call", "vllora::user_tracing::models", fields);
  {
    auto span = CreateModelInvokeSpan(R"({"messages":[]})", model_json, "openai", "gpt-4",
                                      "gpt-4-0613", "own", {{"model_type", "completion"}});
  }
  ExpectSpan("model_call", "vllora::user_tracing::models", fields);
  { auto span = VLLORA_CREATE_MODEL_INVOKE_SPAN("in", "m", "p", "mn", "imn", "c"); }
  ExpectSpan("model_call", "vllora::user_tracing::models",
             {"input=str:in", "model=str:m", "provider_name=str:p", "model_name=str:mn",
              "inference_model_name=str:imn", "credentials_identifier=str:c", "tags=str:{}"});
}

TEST_F(HelpersTest, ModelInvokeSpanParentIsCurrentOrExplicit) {
  Span explicit_parent = StartSpan(Level::kInfo, "app", "explicit_parent");
  EXPECT_EQ(layer_->TakeOne().name, "explicit_parent");
  Span current = StartSpan(Level::kInfo, "app", "current");
  EXPECT_EQ(layer_->TakeOne().name, "current");
  auto entered = current.Enter();
  { auto span = CreateModelInvokeSpan("i", "m", "p", "mn", "imn", "c"); }
  EXPECT_EQ(layer_->TakeOne().parent, "current");
  { auto span = CreateModelInvokeSpan("i", "m", "p", "mn", "imn", "c", {}, &explicit_parent); }
  EXPECT_EQ(layer_->TakeOne().parent, "explicit_parent");
  { auto span = VLLORA_CREATE_MODEL_INVOKE_SPAN("i", "m", "p", "mn", "imn", "c"); }
  EXPECT_EQ(layer_->TakeOne().parent, "current");
}

TEST_F(HelpersTest, ModelSpan) {
  const Tags tags{{"provider", "openai"}};
  const std::vector<std::string> fields = {R"(tags=str:{"provider":"openai"})",
                                           "retries_left=i64:2"};
  { auto span = VLLORA_CREATE_MODEL_SPAN(kSpanOpenai, kTargetOpenai, tags, 2); }
  ExpectSpan("openai", "vllora::user_tracing::openai", fields);
  { auto span = CreateModelSpan(kSpanOpenai, kTargetOpenai, tags, 2); }
  ExpectSpan("openai", "vllora::user_tracing::openai", fields);
  // Extra fields: at creation for the macro, recorded right after for the function.
  const std::vector<std::string> with_extra = {R"(tags=str:{"provider":"openai"})",
                                               "retries_left=i64:0", "request=str:{}",
                                               "stream=bool:true"};
  {
    auto span = VLLORA_CREATE_MODEL_SPAN(kSpanAnthropic, kTargetAnthropic, tags, 0,
                                         {"request", "{}"}, {"stream", true});
  }
  ExpectSpan("anthropic", "vllora::user_tracing::anthropic", with_extra);
  {
    auto span = CreateModelSpan(kSpanAnthropic, kTargetAnthropic, tags, 0,
                                {{"request", "{}"}, {"stream", true}});
  }
  ExpectSpan("anthropic", "vllora::user_tracing::anthropic", with_extra);
  { auto span = CreateModelSpan(kSpanGemini, kTargetGemini, {}); }
  ExpectSpan("gemini", "vllora::user_tracing::gemini", {"tags=str:{}", "retries_left=i64:0"});
  { auto span = VLLORA_CREATE_MODEL_SPAN("bedrock", "vllora::user_tracing::bedrock", Tags(), 1); }
  ExpectSpan("bedrock", "vllora::user_tracing::bedrock", {"tags=str:{}", "retries_left=i64:1"});
}

TEST_F(HelpersTest, ToolSpan) {
  const std::vector<std::string> fields = {"vllora.tool_name=str:web_search",
                                           R"(tags=str:{"q":"x"})"};
  { auto span = VLLORA_CREATE_TOOL_SPAN("web_search", {{"q", "x"}}); }
  ExpectSpan("tool", "vllora::user_tracing::tool", fields);
  { auto span = CreateToolSpan("web_search", {{"q", "x"}}); }
  ExpectSpan("tool", "vllora::user_tracing::tool", fields);
  { auto span = VLLORA_CREATE_TOOL_SPAN("web_search"); }
  ExpectSpan("tool", "vllora::user_tracing::tool",
             {"vllora.tool_name=str:web_search", "tags=str:{}"});
  { auto span = CreateToolSpan("web_search"); }
  ExpectSpan("tool", "vllora::user_tracing::tool",
             {"vllora.tool_name=str:web_search", "tags=str:{}"});
}

TEST_F(HelpersTest, RecordOutputAndRecordError) {
  {
    Span span = CreateTaskSpan("t");
    RecordOutput(span, "done");
    RecordOutput(span, Json(R"({"answer":42})"));  // replaces
    RecordError(span, "failed");
  }
  EXPECT_THAT(
      layer_->TakeOne().Fields(),
      ElementsAre("vllora.task_name=str:t", R"(output=json:{"answer":42})", "error=str:failed"));
  RecordOutput(Span(), "ignored on a disabled span");
  RecordError(Span(), "ignored on a disabled span");
  EXPECT_EQ(layer_->Size(), 0u);
}

/// A minimal expected-like type (std::expected is C++23).
template <class T, class E>
class Result {
 public:
  static Result Ok(T value) { return Result(true, std::move(value), E()); }
  static Result Err(E error) { return Result(false, T(), std::move(error)); }
  bool has_value() const { return ok_; }
  const T& value() const { return value_; }
  const E& error() const { return error_; }

 private:
  Result(bool ok, T value, E error) : ok_(ok), value_(std::move(value)), error_(std::move(error)) {}
  bool ok_;
  T value_;
  E error_;
};

TEST_F(HelpersTest, RecordResultRecordsOutputOrError) {
  {
    Span span = CreateToolSpan("calc");
    RecordResult(span, Result<int64_t, std::string>::Ok(42));
  }
  EXPECT_THAT(layer_->TakeOne().Fields(),
              ElementsAre("vllora.tool_name=str:calc", "tags=str:{}", "output=i64:42"));
  {
    Span span = CreateToolSpan("calc");
    RecordResult(span, Result<std::string, std::string>::Ok("text"));
  }
  EXPECT_THAT(layer_->TakeOne().Fields(),
              ElementsAre("vllora.tool_name=str:calc", "tags=str:{}", "output=str:text"));
  {
    Span span = CreateToolSpan("calc");
    RecordResult(span, Result<int64_t, std::string>::Err("division by zero"));
  }
  EXPECT_THAT(layer_->TakeOne().Fields(), ElementsAre("vllora.tool_name=str:calc", "tags=str:{}",
                                                      "error=str:division by zero"));
}

// Counts evaluations of a helper's arguments.
struct Evaluations {
  int count = 0;
  std::string_view Str(std::string_view s) {
    ++count;
    return s;
  }
  Tags MakeTags() {
    ++count;
    return Tags{{"k", "v"}};
  }
  int64_t Int(int64_t v) {
    ++count;
    return v;
  }
};

TEST(HelpersDisabledTest, DisabledHelpersEvaluateNoneOfTheirArguments) {
  // The only layer wants the application's spans, not vllora::user_tracing.
  auto layer =
      vllora::testing::InstallRecording(std::make_shared<TargetFilter>("app", LevelFilter::kTrace));
  Evaluations e;
  std::vector<Span> spans;
  spans.push_back(VLLORA_CREATE_RUN_SPAN(e.MakeTags()));
  spans.push_back(VLLORA_CREATE_AGENT_SPAN(e.Str("a")));
  spans.push_back(VLLORA_CREATE_TASK_SPAN(e.Str("t")));
  spans.push_back(VLLORA_CREATE_API_INVOKE_SPAN(e.MakeTags()));
  spans.push_back(VLLORA_CREATE_THREAD_SPAN(e.MakeTags()));
  spans.push_back(VLLORA_CREATE_MODEL_INVOKE_SPAN(e.Str("i"), e.Str("m"), e.Str("p"), e.Str("mn"),
                                                  e.Str("imn"), e.Str("c"), e.MakeTags()));
  spans.push_back(VLLORA_CREATE_MODEL_SPAN(kSpanOpenai, kTargetOpenai, e.MakeTags(), e.Int(1),
                                           {"extra", e.Str("x")}));
  spans.push_back(VLLORA_CREATE_TOOL_SPAN(e.Str("tool"), e.MakeTags()));
  EXPECT_EQ(e.count, 0);
  for (const Span& span : spans) EXPECT_TRUE(span.IsDisabled());
  // The function twins evaluate their arguments (they are functions) but create nothing.
  EXPECT_TRUE(CreateRunSpan().IsDisabled());
  EXPECT_TRUE(CreateAgentSpan("a").IsDisabled());
  EXPECT_TRUE(CreateTaskSpan("t").IsDisabled());
  EXPECT_TRUE(CreateApiInvokeSpan().IsDisabled());
  EXPECT_TRUE(CreateThreadSpan().IsDisabled());
  EXPECT_TRUE(CreateModelInvokeSpan("i", "m", "p", "mn", "imn", "c").IsDisabled());
  EXPECT_TRUE(CreateModelSpan(kSpanOpenai, kTargetOpenai, {}, 0, {{"extra", "x"}}).IsDisabled());
  EXPECT_TRUE(CreateToolSpan("tool").IsDisabled());
  EXPECT_THAT(layer->Take(), IsEmpty());
  SetGlobalSubscriber(nullptr);
}

}  // namespace
}  // namespace vllora::telemetry
