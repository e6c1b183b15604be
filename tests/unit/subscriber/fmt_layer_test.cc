#include "vllora/subscriber/fmt_layer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <regex>
#include <string>
#include <thread>
#include <vector>

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

// Parses "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" into microseconds since the epoch (UTC), or -1.
int64_t ParseTimestampMicros(const std::string& text) {
  std::tm tm{};
  unsigned micros = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000000 + micros;
}

TEST(FmtLayerTest, TimestampsAreTheUtcTimeOfTheEventAndThreadsAreNumbered) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  auto registry = Registry::Create();
  FmtLayerOptions options;
  options.out = out;
  options.with_target = false;
  options.with_file = false;
  options.with_line_number = false;
  registry->With(MakeFmtLayer(options));
  SetGlobalSubscriber(registry);
  auto now_micros = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before = now_micros();
  VLLORA_EVENT(Level::kInfo, "app", "first");
  std::thread([] { VLLORA_EVENT(Level::kInfo, "app", "second"); }).join();
  VLLORA_EVENT(Level::kInfo, "app", "third");  // same thread, same cached second (usually)
  const int64_t after = now_micros();
  SetGlobalSubscriber(nullptr);
  std::string text = ReadAll(out);
  std::fclose(out);

  std::regex line(R"((\S+)  INFO (ThreadId\(\d\d\)) (\w+)\n)");
  std::vector<std::string> threads;
  std::vector<std::string> messages;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it) {
    const int64_t at = ParseTimestampMicros((*it)[1]);
    EXPECT_GE(at, before) << (*it)[1];
    EXPECT_LE(at, after) << (*it)[1];
    threads.push_back((*it)[2]);
    messages.push_back((*it)[3]);
  }
  ASSERT_EQ(messages, (std::vector<std::string>{"first", "second", "third"})) << text;
  EXPECT_EQ(threads[0], threads[2]);
  EXPECT_NE(threads[0], threads[1]);
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
