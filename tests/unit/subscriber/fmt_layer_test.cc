#include "vllora/subscriber/fmt_layer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "vllora/core/core.h"
#include "vllora/subscriber/filter.h"
#include "vllora/subscriber/registry.h"

namespace vllora {
namespace {

std::string ReadAll(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

TEST(FmtLayerTest, LineFormat) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  auto registry = Registry::Create();
  FmtLayerOptions options;
  options.out = out;
  registry->With(MakeFmtLayer(options), std::make_shared<EnvFilter>(EnvFilter::Parse("info")));
  SetGlobalSubscriber(registry);
  {
    Span execution =
        VLLORA_INFO_SPAN("app::runtime::execution", "execution", {"execution_id", 123});
    auto e = execution.Enter();
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run", {"tags", R"({"env":"x"})"});
    run.Record("late", true);
    auto r = run.Enter();
    VLLORA_EVENT(Level::kInfo, "app::runtime", "1. Created run span")
        .With("n", 2)
        .With("s", "a \"q\"");
    VLLORA_DEBUG("hidden");
  }
  VLLORA_EVENT(Level::kWarn, "app", "outside");
  std::string text = ReadAll(out);
  std::fclose(out);
  std::regex line1(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z  INFO ThreadId\(\d\d\) )"
      R"(execution\{execution_id=123\}:run\{tags="\{\\"env\\":\\"x\\"\}" late=true\}: )"
      R"(app::runtime: tests/unit/subscriber/fmt_layer_test\.cc:\d+: 1\. Created run span n=2 s="a \\"q\\""\n)"
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z  WARN ThreadId\(\d\d\) app: tests/unit/subscriber/fmt_layer_test\.cc:\d+: outside\n$)");
  EXPECT_TRUE(std::regex_match(text, line1)) << text;
  EXPECT_EQ(text.find("\x1b["), std::string::npos);  // not a TTY: no colour
}

TEST(FmtLayerTest, OptionsTurnPartsOff) {
  std::FILE* out = std::tmpfile();
  auto registry = Registry::Create();
  FmtLayerOptions options;
  options.out = out;
  options.with_timestamp = false;
  options.with_thread_ids = false;
  options.with_file = false;
  options.with_line_number = false;
  options.ansi = FmtLayerOptions::Ansi::kAlways;
  registry->With(MakeFmtLayer(options));
  SetGlobalSubscriber(registry);
  VLLORA_EVENT(Level::kError, "t", "msg");
  std::string text = ReadAll(out);
  std::fclose(out);
  EXPECT_EQ(text, "\x1b[31mERROR\x1b[0m \x1b[2mt:\x1b[0m msg\n");
}

}  // namespace
}  // namespace vllora
