#include "collector_view/render.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "text/text.h"

namespace vllora::collector_view {

namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// ANSI SGR sequences; used only when RenderOptions::color.
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kCyan = "\x1b[36m";
constexpr std::string_view kReset = "\x1b[0m";

}  // namespace

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto escape = [&out](unsigned value, const char* format) {
    char buffer[12];
    std::snprintf(buffer, sizeof(buffer), format, value);
    out += buffer;
  };
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t length = text::Utf8SequenceLength(text, i);
    if (length == 0 || c < 0x20 || c == 0x7f) {
      escape(c, "\\x%02x");  // not well-formed UTF-8, a C0 control (ESC, BEL, CR ...) or DEL
      ++i;
      continue;
    }
    // C1 controls (U+0080..U+009F: C2 80..C2 9F), which a terminal may take as CSI or OSC.
    const auto next = length == 2 ? static_cast<unsigned char>(text[i + 1]) : 0U;
    if (c == 0xc2 && next <= 0x9f) {
      escape(next, "\\u%04x");
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

namespace {

// `text` (made terminal-safe) in the SGR style `sgr` when `color`.
std::string Paint(std::string_view text, std::string_view sgr, bool color) {
  if (!color || text.empty()) return TerminalSafe(text);
  std::string out;
  out.reserve(text.size() + sgr.size() + kReset.size());
  out.append(sgr).append(TerminalSafe(text)).append(kReset);
  return out;
}

// SQLite's CAST(text AS REAL): leading spaces, then the longest prefix that is a decimal number
// (sign, digits, '.', digits, exponent); 0 when there is none.
double SqliteTextToReal(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  const size_t begin = i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0) return 0;
  size_t end = i;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    const size_t exponent_begin = j;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j > exponent_begin) end = j;
  }
  std::string number(text.substr(begin, end - begin));
  if (!number.empty() && number[0] == '+') number.erase(0, 1);
  // strtod: from_chars does not report overflow as ±Inf, SQLite does.
  return std::strtod(number.c_str(), nullptr);
}

// SQLite's CAST(text AS INTEGER): leading spaces, sign, the longest digit prefix; saturating.
int64_t SqliteTextToInteger(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  uint64_t value = 0;
  bool overflow = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      overflow = true;
      break;
    }
    value = value * 10 + digit;
  }
  if (negative) {
    if (overflow || value > static_cast<uint64_t>(kInt64Max) + 1) return kInt64Min;
    return value == static_cast<uint64_t>(kInt64Max) + 1 ? kInt64Min : -static_cast<int64_t>(value);
  }
  if (overflow || value > static_cast<uint64_t>(kInt64Max)) return kInt64Max;
  return static_cast<int64_t>(value);
}

// SQLite's CAST(real AS INTEGER): truncation, saturating.
int64_t RealToInteger(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return kInt64Max;
  if (v <= -9223372036854775808.0) return kInt64Min;
  return static_cast<int64_t>(v);
}

// CAST(json_extract(doc, path) AS INTEGER) for the JSON value `v`.
int64_t JsonToInteger(const json& v) {
  switch (v.type()) {
    case json::value_t::number_integer:
      return v.get<int64_t>();
    case json::value_t::number_unsigned:
      return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), kInt64Max));
    case json::value_t::number_float:
      return RealToInteger(v.get<double>());
    case json::value_t::boolean:
      return v.get<bool>() ? 1 : 0;
    case json::value_t::string:
      return SqliteTextToInteger(v.get_ref<const std::string&>());
    default:  // objects and arrays are JSON text ('{', '['): 0; null: NULL, counted as 0
      return 0;
  }
}

// A string attribute holding JSON (or an object attribute) as a document; null otherwise.
json JsonDocument(const json& v) {
  if (v.is_object() || v.is_array()) return v;
  if (!v.is_string()) return json();
  return json::parse(v.get_ref<const std::string&>(), nullptr, /*allow_exceptions=*/false);
}

const json* Find(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// A scalar attribute as display text (strings unquoted).
std::string ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string Quoted(std::string_view text, size_t max_chars) {
  std::string s(text);
  if (s.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 start
    s = s.substr(0, cut) + "…";
  }
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

bool HasError(const SpanRow& span) {
  const json* error = Find(span.attributes, "error");
  return span.status_code == 2 || (error != nullptr && !error->is_null());
}

void OrderNodes(std::vector<TreeNode>& nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const TreeNode& a, const TreeNode& b) {
    if (a.span->start_time_us != b.span->start_time_us) {
      return a.span->start_time_us < b.span->start_time_us;
    }
    return a.span->span_id < b.span->span_id;
  });
}

// Builds the tree of one trace's spans.
TraceTree BuildOne(const std::string& trace_id, const std::vector<const SpanRow*>& spans) {
  TraceTree tree;
  tree.trace_id = trace_id;
  tree.span_count = spans.size();
  tree.start_us = kInt64Max;
  tree.finish_us = kInt64Min;
  std::unordered_map<std::string_view, const SpanRow*> by_id;
  std::unordered_map<std::string_view, std::vector<const SpanRow*>> children;
  for (const SpanRow* s : spans) {
    by_id.emplace(s->span_id, s);
    tree.start_us = std::min(tree.start_us, s->start_time_us);
    tree.finish_us = std::max(tree.finish_us, s->finish_time_us);
  }
  std::vector<std::pair<const SpanRow*, bool>> roots;  // span, orphan
  for (const SpanRow* s : spans) {
    if (!s->parent_span_id.has_value()) {
      roots.emplace_back(s, false);
    } else if (by_id.count(*s->parent_span_id) == 0 || *s->parent_span_id == s->span_id) {
      roots.emplace_back(s, true);
    } else {
      children[*s->parent_span_id].push_back(s);
    }
  }
  std::set<const SpanRow*> placed;
  // Iterative depth-first construction; a span already placed is never placed again.
  // At kMaxTreeDepth, a node takes all its descendants as children (breadth first), so the tree
  // nests no deeper however long a chain of spans is.
  auto flatten_below = [&](TreeNode& capped) {
    // capped.children grows while it is walked: read by index, nothing kept across a push.
    for (size_t next = 0; next <= capped.children.size(); ++next) {
      const TreeNode& from = next == 0 ? capped : capped.children[next - 1];
      const size_t depth = from.depth + 1;
      auto it = children.find(from.span->span_id);
      if (it == children.end()) continue;
      for (const SpanRow* child : it->second) {
        if (!placed.insert(child).second) continue;
        capped.children.push_back(TreeNode{child, false, {}, depth});
      }
    }
    OrderNodes(capped.children);
  };
  auto build = [&](const SpanRow* root, bool orphan) {
    TreeNode node{root, orphan, {}, 0};
    placed.insert(root);
    std::vector<TreeNode*> stack = {&node};
    while (!stack.empty()) {
      TreeNode* current = stack.back();
      stack.pop_back();
      if (current->depth == kMaxTreeDepth) {
        flatten_below(*current);
        continue;
      }
      auto it = children.find(current->span->span_id);
      if (it == children.end()) continue;
      for (const SpanRow* child : it->second) {
        if (!placed.insert(child).second) continue;
        current->children.push_back(TreeNode{child, false, {}, current->depth + 1});
      }
      OrderNodes(current->children);
      for (TreeNode& child : current->children) stack.push_back(&child);
    }
    return node;
  };
  for (const auto& [span, orphan] : roots) tree.roots.push_back(build(span, orphan));
  // Spans in a parent cycle are reachable from no root: show them as orphans.
  std::vector<const SpanRow*> unplaced;
  for (const SpanRow* s : spans) {
    if (placed.count(s) == 0) unplaced.push_back(s);
  }
  std::sort(unplaced.begin(), unplaced.end(), [](const SpanRow* a, const SpanRow* b) {
    return std::pair(a->start_time_us, a->span_id) < std::pair(b->start_time_us, b->span_id);
  });
  for (const SpanRow* s : unplaced) {
    if (placed.count(s) == 0) tree.roots.push_back(build(s, true));
  }
  // True roots first, then orphans; each group by start time.
  std::stable_sort(tree.roots.begin(), tree.roots.end(), [](const TreeNode& a, const TreeNode& b) {
    if (a.orphan != b.orphan) return !a.orphan;
    if (a.span->start_time_us != b.span->start_time_us) {
      return a.span->start_time_us < b.span->start_time_us;
    }
    return a.span->span_id < b.span->span_id;
  });
  if (spans.empty()) tree.start_us = tree.finish_us = 0;
  return tree;
}

void AppendPadded(std::string& out, std::string_view text, size_t width, bool right) {
  const size_t w = DisplayWidth(text);
  const size_t pad = w < width ? width - w : 0;
  if (right) out.append(pad, ' ');
  out.append(text);
  if (!right) out.append(pad, ' ');
}

void RStrip(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

struct Line {
  std::string prefix;  // tree drawing
  const TreeNode* node;
};

// Tree drawing is indented at most this many levels (36 of the name column's 48 cells); deeper
// lines are drawn at this level and flagged with their depth. Deeper indentation would leave no
// room for the name, and the prefixes would take depth^2 bytes in all.
constexpr size_t kMaxDrawnDepth = 12;

// Recurses at most kMaxTreeDepth levels (BuildTraceTrees nests no deeper).
void CollectLines(const std::vector<TreeNode>& nodes, const std::string& prefix, bool top,
                  size_t level, std::vector<Line>& out) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    const bool last = i + 1 == nodes.size();
    const bool indent = !top && level <= kMaxDrawnDepth;
    std::string mine = top ? "" : indent ? prefix + (last ? "└─ " : "├─ ") : prefix;
    out.push_back(Line{mine, &nodes[i]});
    std::string below = top ? "" : indent ? prefix + (last ? "   " : "│  ") : prefix;
    CollectLines(nodes[i].children, below, false, level + 1, out);
  }
}

// Recurses at most kMaxTreeDepth levels (BuildTraceTrees nests no deeper).
json NodeToJson(const TreeNode& node) {
  json j = SpanToJson(*node.span);
  j["orphan"] = node.orphan;
  // Only below the deepest nesting, where a node's place no longer says its depth.
  if (node.depth > kMaxTreeDepth) j["depth"] = node.depth;
  json children = json::array();
  for (const TreeNode& child : node.children) children.push_back(NodeToJson(child));
  j["children"] = std::move(children);
  return j;
}

}  // namespace

std::vector<TraceTree> BuildTraceTrees(const std::vector<SpanRow>& spans) {
  std::map<std::string_view, std::vector<const SpanRow*>> by_trace;
  for (const SpanRow& s : spans) by_trace[s.trace_id].push_back(&s);
  std::vector<TraceTree> trees;
  trees.reserve(by_trace.size());
  for (const auto& [trace_id, list] : by_trace)
    trees.push_back(BuildOne(std::string(trace_id), list));
  std::sort(trees.begin(), trees.end(), [](const TraceTree& a, const TraceTree& b) {
    return std::pair(a.start_us, a.trace_id) < std::pair(b.start_us, b.trace_id);
  });
  return trees;
}

double SpanCost(const json& attributes) {
  const json* cost = Find(attributes, "cost");
  if (cost == nullptr) return 0;
  switch (cost->type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return cost->get<double>();
    case json::value_t::boolean:
      return cost->get<bool>() ? 1 : 0;
    case json::value_t::string:
      return SqliteTextToReal(cost->get_ref<const std::string&>());
    default:  // object/array: JSON text, not a number; null: NULL
      return 0;
  }
}

std::optional<int64_t> SpanUsageTokens(const json& attributes, std::string_view key) {
  const json* usage = Find(attributes, "usage");
  if (usage == nullptr) return std::nullopt;
  const json doc = JsonDocument(*usage);
  const json* value = Find(doc, key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  return JsonToInteger(*value);
}

Totals ComputeTotals(const std::vector<SpanRow>& spans) {
  Totals t;
  t.spans = spans.size();
  t.start_us = kInt64Max;
  t.finish_us = kInt64Min;
  std::set<std::string> seen_errors;
  for (const SpanRow& s : spans) {
    t.start_us = std::min(t.start_us, s.start_time_us);
    t.finish_us = std::max(t.finish_us, s.finish_time_us);
    if (s.operation_name == "model_call") {
      ++t.llm_calls;
    } else {
      t.input_tokens += SpanUsageTokens(s.attributes, "input_tokens").value_or(0);
      t.output_tokens += SpanUsageTokens(s.attributes, "output_tokens").value_or(0);
    }
    t.cost += SpanCost(s.attributes);
    if (HasError(s)) {
      ++t.errors;
      const json* error = Find(s.attributes, "error");
      std::string message = error != nullptr && !error->is_null() ? ScalarText(*error)
                            : s.status_message.has_value()        ? *s.status_message
                                                                  : std::string("ERROR status");
      if (seen_errors.insert(message).second) t.error_messages.push_back(message);
    }
  }
  if (spans.empty()) t.start_us = t.finish_us = 0;
  return t;
}

std::string FormatDuration(int64_t micros) {
  char buf[64];
  if (micros < 0) micros = 0;
  if (micros < 1000) {
    std::snprintf(buf, sizeof(buf), "%lld µs", static_cast<long long>(micros));
  } else if (micros < 1000000) {
    std::snprintf(buf, sizeof(buf), "%.1f ms", static_cast<double>(micros) / 1e3);
  } else if (micros < 60000000) {
    std::snprintf(buf, sizeof(buf), "%.2f s", static_cast<double>(micros) / 1e6);
  } else {
    const long long seconds = static_cast<long long>(micros / 1000000);
    std::snprintf(buf, sizeof(buf), "%lld min %02lld s", seconds / 60, seconds % 60);
  }
  return buf;
}

std::string FormatTimestamp(int64_t unix_micros) {
  int64_t seconds = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros / 1000));
  return buf;
}

std::string FormatCost(double cost) {
  if (!std::isfinite(cost)) return "$" + std::string(std::isnan(cost) ? "nan" : "inf");
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.8f", cost);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return "$" + s;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b && i + 1 < text.size() && text[i + 1] == '[') {  // skip an SGR sequence
      i += 2;
      while (i < text.size() && text[i] != 'm') ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string DurationBar(int64_t start_us, int64_t finish_us, int64_t t0, int64_t t1, int width) {
  if (width <= 0) return "";
  const int64_t total = std::max<int64_t>(1, t1 - t0);
  const auto cell = [&](int64_t t, bool round_up) {
    const int64_t offset = std::clamp<int64_t>(t - t0, 0, total);
    // offset * width fits in int64 for any trace shorter than ~10^4 years at width 1000.
    const int64_t scaled = offset * width;
    return static_cast<int>(round_up ? (scaled + total - 1) / total : scaled / total);
  };
  int begin = cell(start_us, false);
  int end = cell(std::max(finish_us, start_us), true);
  begin = std::min(begin, width - 1);
  end = std::clamp(end, begin + 1, width);
  std::string bar;
  for (int i = 0; i < width; ++i) bar += (i >= begin && i < end) ? "█" : "·";
  return bar;
}

std::string KeyAttributes(const SpanRow& span) {
  const json& a = span.attributes;
  std::vector<std::string> parts;
  auto add_string = [&](std::string_view key, std::string_view label) {
    const json* v = Find(a, key);
    if (v != nullptr && !v->is_null()) parts.push_back(std::string(label) + "=" + ScalarText(*v));
  };
  add_string("vllora.agent_name", "agent");
  add_string("vllora.task_name", "task");
  add_string("vllora.tool_name", "tool");
  // Model: model_call's model_name, else the model of the request (api_invoke, provider spans).
  if (const json* model = Find(a, "model_name"); model != nullptr && model->is_string()) {
    parts.push_back("model=" + model->get<std::string>());
  } else if (const json* request = Find(a, "request"); request != nullptr) {
    const json doc = JsonDocument(*request);
    if (const json* m = Find(doc, "model"); m != nullptr && m->is_string()) {
      parts.push_back("model=" + m->get<std::string>());
    }
  }
  add_string("provider_name", "provider");
  const auto in = SpanUsageTokens(a, "input_tokens");
  const auto out = SpanUsageTokens(a, "output_tokens");
  if (in.has_value()) parts.push_back("tokens_in=" + std::to_string(*in));
  if (out.has_value()) parts.push_back("tokens_out=" + std::to_string(*out));
  if (const json* cost = Find(a, "cost"); cost != nullptr) {
    const json doc = cost->is_string() ? JsonDocument(*cost) : json();
    if (const json* inner = Find(doc, "cost"); inner != nullptr && inner->is_number()) {
      parts.push_back("cost=" + FormatCost(inner->get<double>()));  // model_call's details
    } else if (cost->is_number() || cost->is_string()) {
      parts.push_back("cost=" + FormatCost(SpanCost(a)));
    }
  }
  if (const json* ttft = Find(a, "ttft"); ttft != nullptr && !ttft->is_null()) {
    parts.push_back("ttft=" + FormatDuration(JsonToInteger(*ttft)));
  }
  if (const json* error = Find(a, "error"); error != nullptr && !error->is_null()) {
    parts.push_back("error=" + Quoted(ScalarText(*error), 80));
  }
  if (span.status_code == 2) {
    parts.push_back("status=ERROR" +
                    (span.status_message.has_value() && !span.status_message->empty()
                         ? " " + Quoted(*span.status_message, 80)
                         : std::string()));
  }
  std::string out_text;
  for (const std::string& p : parts) {
    if (!out_text.empty()) out_text += "  ";
    out_text += p;
  }
  return TerminalSafe(out_text);
}

std::string RenderTraceText(const TraceTree& tree, const RenderOptions& options) {
  std::string out = Paint("trace " + tree.trace_id, kBold, options.color);
  out += "  " + std::to_string(tree.span_count) + (tree.span_count == 1 ? " span" : " spans");
  out += "  " + FormatDuration(tree.finish_us - tree.start_us);
  out += "  started " + FormatTimestamp(tree.start_us) + "\n";
  std::vector<Line> lines;
  CollectLines(tree.roots, "", true, 0, lines);
  // Every line: "<prefix><name>  <duration>  <bar>  <attributes>"; the name column is as wide
  // as the widest prefix+name (capped), so the bars line up.
  size_t name_width = 0;
  std::vector<std::string> names;
  names.reserve(lines.size());
  for (const Line& line : lines) {
    std::string name = line.prefix + TerminalSafe(line.node->span->operation_name);
    if (DisplayWidth(name) > static_cast<size_t>(options.max_name_width)) {
      // Cut on a code point boundary and mark it.
      std::string cut;
      size_t w = 0;
      for (size_t i = 0; i < name.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if ((c & 0xC0) != 0x80) {
          if (w + 1 >= static_cast<size_t>(options.max_name_width)) break;
          ++w;
        }
        cut.push_back(name[i]);
      }
      name = cut + "…";
    }
    name_width = std::max(name_width, DisplayWidth(name));
    names.push_back(std::move(name));
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const TreeNode& node = *lines[i].node;
    const SpanRow& s = *node.span;
    const bool error = HasError(s);
    std::string row;
    const std::string& name = names[i];
    const size_t prefix_len = std::min(lines[i].prefix.size(), name.size());
    std::string painted = lines[i].prefix.substr(0, prefix_len) +
                          Paint(name.substr(prefix_len), error ? kRed : kBold, options.color);
    AppendPadded(row, painted, name_width, false);
    row += "  ";
    AppendPadded(row, FormatDuration(s.duration_us()), 10, true);
    row += "  ";
    row += Paint(DurationBar(s.start_time_us, s.finish_time_us, tree.start_us, tree.finish_us,
                             options.bar_width),
                 error ? kRed : kCyan, options.color);
    std::string attrs = KeyAttributes(s);
    if (node.depth > kMaxDrawnDepth) {
      const std::string flag = "[depth " + std::to_string(node.depth) + "]";
      attrs = Paint(flag, kDim, options.color) + (attrs.empty() ? "" : "  " + attrs);
    }
    if (node.orphan) {
      std::string flag = "[orphan: parent " + s.parent_span_id.value_or("?") + " not found]";
      attrs = Paint(flag, kYellow, options.color) + (attrs.empty() ? "" : "  " + attrs);
    } else if (!attrs.empty()) {
      attrs = Paint(attrs, error ? kRed : kDim, options.color);
    }
    if (!attrs.empty()) row += "  " + attrs;
    RStrip(row);
    out += row + "\n";
  }
  return out;
}

std::string RenderTotalsText(const Totals& t, std::string_view label,
                             const RenderOptions& options) {
  std::string out = Paint(std::string(label), kBold, options.color);
  out += ": " + std::to_string(t.spans) + (t.spans == 1 ? " span" : " spans");
  out += "  " + FormatDuration(t.finish_us - t.start_us);
  out += "  llm_calls=" + std::to_string(t.llm_calls);
  out += "  tokens_in=" + std::to_string(t.input_tokens);
  out += "  tokens_out=" + std::to_string(t.output_tokens);
  out += "  cost=" + FormatCost(t.cost);
  out += "  errors=" + std::to_string(t.errors) + "\n";
  for (const std::string& message : t.error_messages) {
    out += Paint("  error: " + Quoted(message, 200), kRed, options.color) + "\n";
  }
  return out;
}

std::string RenderFollowLine(const SpanRow& s, const RenderOptions& options) {
  std::string out = FormatTimestamp(s.start_time_us) + "  " + TerminalSafe(s.trace_id) + "  ";
  out += Paint(s.operation_name, HasError(s) ? kRed : kBold, options.color);
  out += "  " + FormatDuration(s.duration_us());
  out += "  span=" + TerminalSafe(s.span_id);
  out += "  parent=" + TerminalSafe(s.parent_span_id.value_or("-"));
  std::string attrs = KeyAttributes(s);
  if (!attrs.empty()) out += "  " + Paint(attrs, kDim, options.color);
  return out + "\n";
}

json SpanToJson(const SpanRow& s) {
  json j;
  j["trace_id"] = s.trace_id;
  j["span_id"] = s.span_id;
  j["parent_span_id"] = s.parent_span_id.has_value() ? json(*s.parent_span_id) : json();
  j["name"] = s.operation_name;
  j["start_time_us"] = s.start_time_us;
  j["finish_time_us"] = s.finish_time_us;
  j["duration_us"] = s.duration_us();
  j["run_id"] = s.run_id.has_value() ? json(*s.run_id) : json();
  j["thread_id"] = s.thread_id.has_value() ? json(*s.thread_id) : json();
  j["status_code"] = s.status_code;
  j["status_message"] = s.status_message.has_value() ? json(*s.status_message) : json();
  j["attributes"] = s.attributes;
  return j;
}

json TreeToJson(const TraceTree& tree) {
  json j;
  j["trace_id"] = tree.trace_id;
  j["start_time_us"] = tree.start_us;
  j["finish_time_us"] = tree.finish_us;
  j["duration_us"] = tree.finish_us - tree.start_us;
  j["span_count"] = tree.span_count;
  json roots = json::array();
  for (const TreeNode& node : tree.roots) roots.push_back(NodeToJson(node));
  j["spans"] = std::move(roots);
  return j;
}

json TotalsToJson(const Totals& t) {
  json j;
  j["spans"] = t.spans;
  j["llm_calls"] = t.llm_calls;
  j["cost"] = t.cost;
  j["input_tokens"] = t.input_tokens;
  j["output_tokens"] = t.output_tokens;
  j["errors"] = t.errors;
  j["error_messages"] = t.error_messages;
  j["start_time_us"] = t.start_us;
  j["finish_time_us"] = t.finish_us;
  j["duration_us"] = t.finish_us - t.start_us;
  return j;
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<size_t>& right_aligned) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) widths[c] = DisplayWidth(header[c]);
  // Cells hold what senders wrote (run ids, names): made terminal-safe before they are measured.
  std::vector<std::vector<std::string>> safe_rows;
  safe_rows.reserve(rows.size());
  for (const auto& row : rows) {
    auto& safe = safe_rows.emplace_back();
    for (const std::string& cell : row) safe.push_back(TerminalSafe(cell));
  }
  for (const auto& row : safe_rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  auto render_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      if (c > 0) line += "  ";
      const bool right =
          std::find(right_aligned.begin(), right_aligned.end(), c) != right_aligned.end();
      AppendPadded(line, c < row.size() ? row[c] : "", widths[c], right);
    }
    RStrip(line);
    return line + "\n";
  };
  std::string out = render_row(header);
  for (const auto& row : safe_rows) out += render_row(row);
  return out;
}

}  // namespace vllora::collector_view
