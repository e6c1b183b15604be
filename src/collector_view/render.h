// The viewer's pure part: span rows as read from the collector's database, the trace tree built
// from them, vLLora's per-run totals, and the text / JSON renderings. No I/O, no SQLite: every
// function here is deterministic and tested on hand-made rows (tests/unit/collector_view).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vllora::collector_view {

/// One row of the collector's `traces` table (schema versions 1 and 2: the same columns).
struct SpanRow {
  int64_t rowid = 0;
  std::string trace_id;
  std::string span_id;
  std::optional<std::string> parent_span_id;
  std::optional<std::string> thread_id;
  std::string operation_name;
  int64_t start_time_us = 0;
  int64_t finish_time_us = 0;
  nlohmann::json attributes = nlohmann::json::object();  ///< the parsed `attribute` column
  std::optional<std::string> run_id;
  int status_code = 0;  ///< 0 unset, 1 ok, 2 error
  std::optional<std::string> status_message;

  int64_t duration_us() const { return finish_time_us - start_time_us; }
};

/// A span placed in its trace's tree. `orphan`: it has a parent id but that parent is not among
/// the rows (not received yet, or lost); orphans are shown at the root.
struct TreeNode {
  const SpanRow* span = nullptr;
  bool orphan = false;
  std::vector<TreeNode> children;
  /// Levels below its root (a root is 0). The tree nests at most kMaxTreeDepth levels: the
  /// descendants of a node at that depth are its children, by start time, each with its own
  /// depth, so no chain however deep makes the tree (and what walks it) recurse deeper.
  size_t depth = 0;
};

/// The deepest a TreeNode is nested (see TreeNode::depth).
inline constexpr size_t kMaxTreeDepth = 256;

/// The spans of one trace as a forest: roots (true roots, then orphans) by start time.
struct TraceTree {
  std::string trace_id;
  int64_t start_us = 0;   ///< earliest start of its spans
  int64_t finish_us = 0;  ///< latest finish of its spans
  size_t span_count = 0;
  std::vector<TreeNode> roots;
};

/// Groups `spans` by trace (traces ordered by start time) and builds each tree: parents by
/// parent_span_id, children ordered by (start, span_id). Spans unreachable from a root (parent
/// cycles) are shown as orphans, so every span appears exactly once. `spans` must outlive the
/// result.
std::vector<TraceTree> BuildTraceTrees(const std::vector<SpanRow>& spans);

/// vLLora's totals over a set of spans (core/src/metadata/services/run.rs):
/// - llm_calls: the number of `model_call` spans;
/// - cost: the sum over all spans of the `cost` attribute read as SQLite's
///   CAST(json_extract(attribute,'$.cost') AS REAL): a number counts, a numeric string counts
///   (api_invoke's "0.000301"), a JSON-object string (model_call's cost details) counts 0;
/// - input/output tokens: `usage.input_tokens` / `usage.output_tokens` (usage is a JSON string
///   or an object) summed over every span except `model_call` (whose usage repeats its
///   provider's);
/// - errors: spans with an `error` attribute or an ERROR status.
struct Totals {
  size_t spans = 0;
  int64_t llm_calls = 0;
  double cost = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t errors = 0;
  int64_t start_us = 0;
  int64_t finish_us = 0;
  std::vector<std::string> error_messages;  ///< distinct, in order of appearance
};
Totals ComputeTotals(const std::vector<SpanRow>& spans);

/// The value of one span's `cost` as vLLora sums it (see Totals).
double SpanCost(const nlohmann::json& attributes);
/// The value of usage.<key> of one span as vLLora sums it; nullopt when absent.
std::optional<int64_t> SpanUsageTokens(const nlohmann::json& attributes, std::string_view key);

/// How text is rendered.
struct RenderOptions {
  bool color = false;  ///< ANSI colours (only on a TTY, never with NO_COLOR)
  int bar_width = 30;  ///< characters of the duration bar
  int max_name_width = 48;
};

/// "850 µs", "152.2 ms", "3.42 s", "2 min 05 s".
std::string FormatDuration(int64_t micros);
/// "2026-11-24T12:00:00.123Z" (UTC).
std::string FormatTimestamp(int64_t unix_micros);
/// "$0.000301": fixed, up to 8 decimals, trailing zeros dropped.
std::string FormatCost(double cost);
/// `text` safe to print on a terminal: C0 controls and DEL become "\x1b"-style escapes, C1
/// controls (U+0080..U+009F) "\u009b"-style escapes, and bytes that are not well-formed UTF-8
/// "\xff"-style escapes; everything else is kept. Every span text a sender wrote goes through
/// it before it is printed (a span name must not retitle, clear or hide the operator's terminal).
std::string TerminalSafe(std::string_view text);
/// Columns the UTF-8 text occupies (code points; ANSI escapes ignored).
size_t DisplayWidth(std::string_view text);

/// The duration bar of [start_us, finish_us] on the timeline [t0, t1]: `width` cells, the span's
/// cells '█', the others '·'. At least one cell is filled.
std::string DurationBar(int64_t start_us, int64_t finish_us, int64_t t0, int64_t t1, int width);

/// The key attributes of a span, "key=value" separated by two spaces: agent/task/tool names,
/// model, provider, tokens, cost, ttft, error/status.
std::string KeyAttributes(const SpanRow& span);

/// One trace as text: a header line, then one line per span (tree prefix, name, duration, bar,
/// key attributes; orphans flagged).
std::string RenderTraceText(const TraceTree& tree, const RenderOptions& options);
/// The totals line(s) printed under `show`.
std::string RenderTotalsText(const Totals& totals, std::string_view label,
                             const RenderOptions& options);
/// One line for a span seen by --follow.
std::string RenderFollowLine(const SpanRow& span, const RenderOptions& options);

/// A span as JSON (ids, name, times, status, attributes); `children` added by TreeToJson.
nlohmann::json SpanToJson(const SpanRow& span);
nlohmann::json TreeToJson(const TraceTree& tree);
nlohmann::json TotalsToJson(const Totals& totals);

/// A fixed-width table: header row, then rows; columns whose index is in `right_aligned` are
/// right-aligned. Two spaces between columns, no trailing spaces.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<size_t>& right_aligned);

}  // namespace vllora::collector_view
