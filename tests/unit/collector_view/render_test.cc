// The viewer's pure part: tree building (orphans, cycles, order), vLLora's totals, bars and
// formats, on hand-made rows.
#include "collector_view/render.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vllora::collector_view {
namespace {

using nlohmann::json;

SpanRow Span(std::string trace, std::string id, std::optional<std::string> parent, std::string name,
             int64_t start, int64_t finish, json attributes = json::object()) {
  SpanRow s;
  s.trace_id = std::move(trace);
  s.span_id = std::move(id);
  s.parent_span_id = std::move(parent);
  s.operation_name = std::move(name);
  s.start_time_us = start;
  s.finish_time_us = finish;
  s.attributes = std::move(attributes);
  return s;
}

std::vector<std::string> Names(const std::vector<TreeNode>& nodes) {
  std::vector<std::string> out;
  for (const TreeNode& n : nodes) out.push_back(n.span->operation_name);
  return out;
}

TEST(CollectorViewTreeTest, ParentsChildrenAndOrphans) {
  const std::vector<SpanRow> spans = {
      Span("t", "4", "3", "under_orphan", 40, 50),  Span("t", "2", "1", "second", 30, 60),
      Span("t", "5", "1", "first", 10, 20),         Span("t", "3", "99", "orphan", 35, 70),
      Span("t", "1", std::nullopt, "root", 0, 100),
  };
  const std::vector<TraceTree> trees = BuildTraceTrees(spans);
  ASSERT_EQ(trees.size(), 1u);
  const TraceTree& tree = trees[0];
  EXPECT_EQ(tree.span_count, 5u);
  EXPECT_EQ(tree.start_us, 0);
  EXPECT_EQ(tree.finish_us, 100);
  ASSERT_EQ(Names(tree.roots), (std::vector<std::string>{"root", "orphan"}));
  EXPECT_FALSE(tree.roots[0].orphan);
  EXPECT_TRUE(tree.roots[1].orphan);
  EXPECT_EQ(Names(tree.roots[0].children), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(Names(tree.roots[1].children), (std::vector<std::string>{"under_orphan"}));

  RenderOptions options;
  options.bar_width = 10;
  EXPECT_EQ(RenderTraceText(tree, options),
            "trace t  5 spans  100 µs  started 1970-01-01T00:00:00.000Z\n"
            "root                 100 µs  ██████████\n"
            "├─ first              10 µs  ·█········\n"
            "└─ second             30 µs  ···███····\n"
            "orphan                35 µs  ···████···  [orphan: parent 99 not found]\n"
            "└─ under_orphan       10 µs  ····█·····\n");
}

TEST(CollectorViewTreeTest, ParentCyclesAndSelfParentsAreShownOnceAsOrphans) {
  const std::vector<SpanRow> spans = {
      Span("t", "1", "2", "a", 0, 10),
      Span("t", "2", "1", "b", 1, 9),
      Span("t", "3", "3", "self", 2, 3),
  };
  const std::vector<TraceTree> trees = BuildTraceTrees(spans);
  ASSERT_EQ(trees.size(), 1u);
  ASSERT_EQ(Names(trees[0].roots), (std::vector<std::string>{"a", "self"}));
  EXPECT_TRUE(trees[0].roots[0].orphan);
  EXPECT_TRUE(trees[0].roots[1].orphan);
  EXPECT_EQ(Names(trees[0].roots[0].children), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(trees[0].roots[0].children[0].children.empty());
}

// A chain of 20,000 spans (a runaway recursion in an agent, or a hostile sender) took 2.1 GB to
// show: one tree prefix per line, as long as its depth. The tree nests kMaxTreeDepth levels and
// the drawing indents kMaxDrawnDepth; below, lines say their depth.
TEST(CollectorViewTreeTest, AVeryDeepChainIsNestedAndDrawnToABoundedDepth) {
  constexpr int kSpans = 20000;
  std::vector<SpanRow> spans;
  spans.reserve(kSpans);
  for (int i = 0; i < kSpans; ++i) {
    spans.push_back(Span("t", std::to_string(i + 1),
                         i == 0 ? std::nullopt : std::optional(std::to_string(i)),
                         "s" + std::to_string(i), i, 2 * kSpans - i));
  }
  const std::vector<TraceTree> trees = BuildTraceTrees(spans);
  ASSERT_EQ(trees.size(), 1u);
  ASSERT_EQ(trees[0].roots.size(), 1u);
  const TreeNode* node = &trees[0].roots[0];
  for (size_t depth = 0; depth < kMaxTreeDepth; ++depth) {
    ASSERT_EQ(node->depth, depth);
    ASSERT_EQ(node->children.size(), 1u) << depth;
    node = &node->children[0];
  }
  ASSERT_EQ(node->depth, kMaxTreeDepth);
  ASSERT_EQ(node->children.size(), kSpans - 1 - kMaxTreeDepth);
  for (size_t i = 0; i < node->children.size(); ++i) {
    ASSERT_EQ(node->children[i].depth, kMaxTreeDepth + 1 + i);
    ASSERT_TRUE(node->children[i].children.empty());
    ASSERT_EQ(node->children[i].span->operation_name, "s" + std::to_string(kMaxTreeDepth + 1 + i));
  }

  const std::string text = RenderTraceText(trees[0], RenderOptions{});
  size_t lines = 0;
  size_t longest = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = text.find('\n', at);
    longest = std::max(longest, end - at);
    ++lines;
    at = end + 1;
  }
  EXPECT_EQ(lines, kSpans + 1u);  // the trace's line, then a line per span
  EXPECT_LT(longest, 300u);
  EXPECT_NE(text.find("s19999"), std::string::npos);
  EXPECT_NE(text.find("[depth 19999]"), std::string::npos);
  EXPECT_EQ(text.find("[depth 12]"), std::string::npos);
  EXPECT_NE(text.find("[depth 13]"), std::string::npos);

  const json j = TreeToJson(trees[0]);
  const json* deepest = &j["spans"][0];
  for (size_t depth = 0; depth < kMaxTreeDepth; ++depth) deepest = &(*deepest)["children"][0];
  EXPECT_FALSE(deepest->contains("depth"));
  ASSERT_EQ((*deepest)["children"].size(), kSpans - 1 - kMaxTreeDepth);
  EXPECT_EQ((*deepest)["children"][0]["depth"], kMaxTreeDepth + 1);
  EXPECT_EQ((*deepest)["children"].back()["depth"], kSpans - 1);
  EXPECT_EQ((*deepest)["children"].back()["name"], "s19999");
}

TEST(CollectorViewTreeTest, SeveralTracesOrderedByStart) {
  const std::vector<SpanRow> spans = {Span("late", "1", std::nullopt, "x", 50, 60),
                                      Span("early", "1", std::nullopt, "y", 10, 20)};
  const std::vector<TraceTree> trees = BuildTraceTrees(spans);
  ASSERT_EQ(trees.size(), 2u);
  EXPECT_EQ(trees[0].trace_id, "early");
  EXPECT_EQ(trees[1].trace_id, "late");
  EXPECT_EQ(trees[1].roots[0].span->operation_name, "x");
}

TEST(CollectorViewRenderTest, DurationBarIsPlacedOnTheTimeline) {
  EXPECT_EQ(DurationBar(0, 100, 0, 100, 10), "██████████");
  EXPECT_EQ(DurationBar(0, 10, 0, 100, 10), "█·········");
  EXPECT_EQ(DurationBar(95, 100, 0, 100, 10), "·········█");
  EXPECT_EQ(DurationBar(100, 100, 0, 100, 10), "·········█");  // zero length at the end
  EXPECT_EQ(DurationBar(21, 29, 0, 100, 10), "··█·······");
  EXPECT_EQ(DurationBar(5, 5, 5, 5, 4), "█···");  // zero-length trace
  EXPECT_EQ(DurationBar(0, 10, 0, 10, 0), "");
}

TEST(CollectorViewRenderTest, Formats) {
  EXPECT_EQ(FormatDuration(0), "0 µs");
  EXPECT_EQ(FormatDuration(999), "999 µs");
  EXPECT_EQ(FormatDuration(152200), "152.2 ms");
  EXPECT_EQ(FormatDuration(3420000), "3.42 s");
  EXPECT_EQ(FormatDuration(125000000), "2 min 05 s");
  EXPECT_EQ(FormatDuration(-5), "0 µs");
  EXPECT_EQ(FormatTimestamp(1764000000123456), "2025-11-24T16:00:00.123Z");
  EXPECT_EQ(FormatCost(0.000301), "$0.000301");
  EXPECT_EQ(FormatCost(6.600000262260437e-6), "$0.0000066");
  EXPECT_EQ(FormatCost(0), "$0");
  EXPECT_EQ(FormatCost(12.5), "$12.5");
  EXPECT_EQ(DisplayWidth("└─ a µs"), 7u);
  EXPECT_EQ(DisplayWidth("\x1b[1mab\x1b[0m"), 2u);
}

TEST(CollectorViewRenderTest, KeyAttributes) {
  SpanRow s = Span("t", "1", std::nullopt, "model_call", 0, 1,
                   {{"model_name", "gpt-4"},
                    {"provider_name", "openai"},
                    {"usage", R"({"input_tokens":10,"output_tokens":8})"},
                    {"cost", R"({"cost":0.000301,"per_input_token":1})"},
                    {"ttft", 150},
                    {"error", "rate limited\nretry"}});
  s.status_code = 2;
  s.status_message = "boom";
  EXPECT_EQ(KeyAttributes(s),
            "model=gpt-4  provider=openai  tokens_in=10  tokens_out=8  cost=$0.000301  "
            "ttft=150 µs  error=\"rate limited\\nretry\"  status=ERROR \"boom\"");
  const SpanRow api = Span("t", "2", std::nullopt, "api_invoke", 0, 1,
                           {{"request", R"({"model":"gpt-4o"})"}, {"cost", "0.0025"}});
  EXPECT_EQ(KeyAttributes(api), "model=gpt-4o  cost=$0.0025");
  const SpanRow tool = Span("t", "3", std::nullopt, "tool", 0, 1,
                            {{"vllora.tool_name", "search_web"}, {"input", "ignored"}});
  EXPECT_EQ(KeyAttributes(tool), "tool=search_web");
}

TEST(CollectorViewRenderTest, ColoursOnlyWhenAsked) {
  std::vector<SpanRow> spans = {Span("t", "1", std::nullopt, "root", 0, 10)};
  spans[0].status_code = 2;
  const std::vector<TraceTree> trees = BuildTraceTrees(spans);
  RenderOptions plain;
  EXPECT_EQ(RenderTraceText(trees[0], plain).find('\x1b'), std::string::npos);
  RenderOptions color;
  color.color = true;
  const std::string text = RenderTraceText(trees[0], color);
  EXPECT_NE(text.find("\x1b[31mroot\x1b[0m"), std::string::npos) << text;  // errors in red
}

// Text a sender wrote never reaches the terminal as a control sequence: a span name with an OSC
// title and a screen clear, an error with a bell, a status message with a C1 CSI (U+009B) and a
// lone 0x9b byte, a run id with a carriage return. Multi-byte text (é, 日本, 🙂) is kept.
TEST(CollectorViewRenderTest, SenderTextCannotControlTheTerminal) {
  EXPECT_EQ(TerminalSafe("a\x1b]0;owned\x07\x1b[2Jb"), "a\\x1b]0;owned\\x07\\x1b[2Jb");
  EXPECT_EQ(TerminalSafe("x\xc2\x9by\x9bz\x7f"), "x\\u009by\\x9bz\\x7f");
  EXPECT_EQ(TerminalSafe("\xe2\x82"), "\\xe2\\x82");           // a cut sequence
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82"),
            "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82");
  EXPECT_EQ(TerminalSafe(TerminalSafe("\x1b\x9b")), TerminalSafe("\x1b\x9b"));

  std::vector<SpanRow> spans = {
      Span("t", "1", std::nullopt, "run\x1b]0;owned\x07\x1b[2J", 0, 10, {{"error", "bell\x07"}}),
      Span("t", "2", "1", "child", 2, 8)};
  spans[0].status_code = 2;
  spans[0].status_message =
      "csi\xc2\x9b"
      "31m and \x9b";
  for (const bool color : {false, true}) {
    RenderOptions options;
    options.color = color;
    const std::vector<TraceTree> trees = BuildTraceTrees(spans);
    ASSERT_EQ(trees.size(), 1u);
    std::string out = RenderTraceText(trees[0], options);
    SpanRow followed = spans[1];
    followed.trace_id = "t\r";
    out += RenderFollowLine(followed, options);
    out += RenderTotalsText(ComputeTotals(spans), "run \x1b[2J", options);
    out += RenderTable({"RUN_ID"}, {{"r\x1b[2J"}}, {});
    for (size_t i = 0; i < out.size(); ++i) {
      const auto c = static_cast<unsigned char>(out[i]);
      if (c == '\n') continue;
      if (c == 0x1b && color) {  // only the viewer's own colours: ESC '[' digits 'm'
        ASSERT_LT(i + 2, out.size());
        EXPECT_EQ(out[i + 1], '[') << out;
        size_t j = i + 2;
        while (j < out.size() && out[j] >= '0' && out[j] <= '9') ++j;
        EXPECT_EQ(out[j], 'm') << out;
        continue;
      }
      EXPECT_FALSE(c < 0x20 || c == 0x7f) << "control byte " << static_cast<int>(c) << ": " << out;
      EXPECT_FALSE(c == 0xc2 && i + 1 < out.size() &&
                   static_cast<unsigned char>(out[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(out[i + 1]) <= 0x9f)
          << "C1 control: " << out;
      EXPECT_NE(c, 0x9b) << out;
    }
    EXPECT_NE(out.find("run\\x1b]0;owned\\x07\\x1b[2J"), std::string::npos) << out;
    EXPECT_NE(out.find("bell\\x07"), std::string::npos) << out;
    EXPECT_NE(out.find("csi\\u009b31m and \\x9b"), std::string::npos) << out;
    EXPECT_NE(out.find("t\\x0d"), std::string::npos) << out;
  }
}

// vLLora's run totals (core/src/metadata/services/run.rs) on the value shapes that occur.
TEST(CollectorViewTotalsTest, FollowsVlloraAggregation) {
  std::vector<SpanRow> spans = {
      Span("t", "1", std::nullopt, "api_invoke", 100, 900,
           {{"cost", "0.0025"}, {"usage", R"({"input_tokens":100,"output_tokens":20})"}}),
      // model_call: counted as an LLM call; its usage repeats the provider's, its cost is details.
      Span("t", "2", "1", "model_call", 200, 800,
           {{"cost", R"({"cost":0.0025})"}, {"usage", R"({"input_tokens":100})"}}),
      Span("t", "3", "2", "model_call", 300, 700),
      // A provider span: numeric cost, usage as an object (kvlist).
      Span("t", "4", "2", "openai", 250, 750,
           {{"cost", 0.5}, {"usage", {{"input_tokens", 7}, {"output_tokens", "3"}}}}),
      // Not JSON, not numbers, edge values: contribute what SQLite's CAST makes of them.
      Span("t", "5", "1", "tool", 50, 1000,
           {{"cost", " 1.5abc"}, {"usage", "not json"}, {"error", "tool failed"}}),
      Span("t", "6", "1", "tool", 60, 70, {{"cost", true}, {"usage", R"({"input_tokens":2.9})"}}),
  };
  spans[2].status_code = 2;
  spans[2].status_message = "upstream 500";
  const Totals t = ComputeTotals(spans);
  EXPECT_EQ(t.spans, 6u);
  EXPECT_EQ(t.llm_calls, 2);
  EXPECT_DOUBLE_EQ(t.cost, 0.0025 + 0.5 + 1.5 + 1.0);
  EXPECT_EQ(t.input_tokens, 100 + 7 + 2);
  EXPECT_EQ(t.output_tokens, 20 + 3);
  EXPECT_EQ(t.errors, 2);
  EXPECT_EQ(t.error_messages, (std::vector<std::string>{"upstream 500", "tool failed"}));
  EXPECT_EQ(t.start_us, 50);
  EXPECT_EQ(t.finish_us, 1000);

  const json j = TotalsToJson(t);
  EXPECT_EQ(j["llm_calls"], 2);
  EXPECT_EQ(j["input_tokens"], 109);
  EXPECT_EQ(j["duration_us"], 950);
  EXPECT_EQ(RenderTotalsText(t, "run r", RenderOptions{}),
            "run r: 6 spans  950 µs  llm_calls=2  tokens_in=109  tokens_out=23  cost=$3.0025  "
            "errors=2\n"
            "  error: \"upstream 500\"\n"
            "  error: \"tool failed\"\n");
}

TEST(CollectorViewTotalsTest, SpanCostAndTokensEdgeCases) {
  EXPECT_DOUBLE_EQ(SpanCost({{"cost", "1e-3"}}), 0.001);
  EXPECT_DOUBLE_EQ(SpanCost({{"cost", "1e"}}), 1.0);
  EXPECT_DOUBLE_EQ(SpanCost({{"cost", "Infinity"}}), 0.0);  // NaN/Inf arrive as strings
  EXPECT_DOUBLE_EQ(SpanCost({{"cost", json::array({1})}}), 0.0);
  EXPECT_DOUBLE_EQ(SpanCost(json::object()), 0.0);
  EXPECT_EQ(SpanUsageTokens({{"usage", R"({"input_tokens":"12.7"})"}}, "input_tokens"), 12);
  EXPECT_EQ(SpanUsageTokens({{"usage", R"({"input_tokens":-3})"}}, "input_tokens"), -3);
  EXPECT_EQ(SpanUsageTokens({{"usage", R"([1,2])"}}, "input_tokens"), std::nullopt);
  EXPECT_EQ(SpanUsageTokens({{"usage", 5}}, "input_tokens"), std::nullopt);
  EXPECT_EQ(SpanUsageTokens({{"usage", R"({"input_tokens":1e30})"}}, "input_tokens"), INT64_MAX);
}

}  // namespace
}  // namespace vllora::collector_view
