#include "vllora/otel/propagation.h"

#include <cstdio>
#include <string>

#include "vllora/otel/diagnostics.h"

namespace vllora::otel {
namespace {

constexpr size_t kMaxTraceStateBytes = 512;
constexpr size_t kMaxTraceStateMembers = 32;
constexpr size_t kMaxBaggageMembers = 180;
constexpr size_t kMaxBaggageBytes = 8192;
constexpr char kHex[] = "0123456789abcdef";

void Debug(std::string_view what, std::string_view value) noexcept {
  if (!IsDiagnosticEnabled(DiagnosticLevel::kDebug)) return;
  try {
    std::string message(what);
    message += ": \"";
    message += value.substr(0, 256);
    message += "\"";
    EmitDiagnostic(DiagnosticLevel::kDebug, message);
  } catch (...) {
  }
}

std::string_view TrimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int LowerHexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int AnyHexValue(char c) noexcept {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return LowerHexValue(c);
}

bool IsLowerHex(std::string_view s) noexcept {
  for (char c : s) {
    if (LowerHexValue(c) < 0) return false;
  }
  return true;
}

// RFC 7230 token characters (baggage keys).
bool IsTokenChar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsTraceStateKeyChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
         c == '/' || c == '@';
}

// Light validation of a W3C tracestate value; returns the normalised (OWS-trimmed) string, or
// an empty string when invalid.
std::string ValidateTraceState(std::string_view header) {
  header = TrimOws(header);
  if (header.empty() || header.size() > kMaxTraceStateBytes) return {};
  std::string out;
  size_t members = 0;
  while (true) {
    size_t comma = header.find(',');
    std::string_view member = TrimOws(header.substr(0, comma));
    if (!member.empty()) {
      size_t eq = member.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == member.size()) return {};
      for (char c : member.substr(0, eq)) {
        if (!IsTraceStateKeyChar(c)) return {};
      }
      for (char c : member.substr(eq + 1)) {
        if (c < 0x20 || c > 0x7E || c == ',' || c == '=') return {};
      }
      if (++members > kMaxTraceStateMembers) return {};
      if (!out.empty()) out.push_back(',');
      out.append(member);
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return out;
}

class TraceContextPropagator final : public TextMapPropagator {
 public:
  void Inject(const Context& context, TextMapCarrier& carrier) const noexcept override {
    const SpanContext& span = context.span_context();
    if (!span.IsValid()) return;
    char buffer[55];
    buffer[0] = '0';
    buffer[1] = '0';
    buffer[2] = '-';
    size_t pos = 3;
    for (uint8_t b : span.trace_id().bytes) {
      buffer[pos++] = kHex[b >> 4];
      buffer[pos++] = kHex[b & 0xF];
    }
    buffer[pos++] = '-';
    for (uint8_t b : span.span_id().bytes) {
      buffer[pos++] = kHex[b >> 4];
      buffer[pos++] = kHex[b & 0xF];
    }
    buffer[pos++] = '-';
    buffer[pos++] = kHex[span.trace_flags() >> 4];
    buffer[pos++] = kHex[span.trace_flags() & 0xF];
    carrier.Set(kTraceParentHeader, std::string_view(buffer, pos));
    if (!span.trace_state().empty()) carrier.Set(kTraceStateHeader, span.trace_state());
  }

  Context Extract(const TextMapCarrier& carrier, const Context& into) const noexcept override {
    std::string_view raw = carrier.Get(kTraceParentHeader);
    if (raw.empty()) return into;
    std::string_view header = TrimOws(raw);
    if (header.size() < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-') {
      Debug("ignoring malformed traceparent", raw);
      return into;
    }
    std::string_view version = header.substr(0, 2);
    if (!IsLowerHex(version) || version == "ff") {
      Debug("ignoring traceparent with invalid version", raw);
      return into;
    }
    // Version 00 is exactly 55 chars; later versions may append "-..." fields.
    if (header.size() > 55 && (version == "00" || header[55] != '-')) {
      Debug("ignoring malformed traceparent", raw);
      return into;
    }
    std::string_view trace_hex = header.substr(3, 32);
    std::string_view span_hex = header.substr(36, 16);
    std::string_view flags_hex = header.substr(53, 2);
    if (!IsLowerHex(trace_hex) || !IsLowerHex(span_hex) || !IsLowerHex(flags_hex)) {
      Debug("ignoring traceparent with bad hex", raw);
      return into;
    }
    std::optional<TraceId> trace_id = TraceId::FromHex(trace_hex);
    std::optional<SpanId> span_id = SpanId::FromHex(span_hex);
    if (!trace_id || !span_id || !trace_id->IsValid() || !span_id->IsValid()) {
      Debug("ignoring traceparent with all-zero id", raw);
      return into;
    }
    auto flags =
        static_cast<uint8_t>((LowerHexValue(flags_hex[0]) << 4) | LowerHexValue(flags_hex[1]));
    try {
      std::string trace_state;
      std::string_view state_header = carrier.Get(kTraceStateHeader);
      if (!state_header.empty()) {
        trace_state = ValidateTraceState(state_header);
        if (trace_state.empty()) Debug("ignoring invalid tracestate", state_header);
      }
      return into.WithSpanContext(
          SpanContext(*trace_id, *span_id, flags, /*is_remote=*/true, std::move(trace_state)));
    } catch (...) {
      return into;
    }
  }
};

class BaggagePropagator final : public TextMapPropagator {
 public:
  void Inject(const Context& context, TextMapCarrier& carrier) const noexcept override {
    const Baggage& baggage = context.baggage();
    if (baggage.empty()) return;
    try {
      std::string header;
      size_t members = 0;
      for (const auto& [key, value] : baggage) {
        if (!IsToken(key)) continue;
        std::string member = key + "=" + PercentEncode(value);
        if (members == kMaxBaggageMembers ||
            header.size() + member.size() + (header.empty() ? 0 : 1) > kMaxBaggageBytes) {
          Debug("baggage too large, dropping entry", key);
          continue;
        }
        if (!header.empty()) header.push_back(',');
        header += member;
        ++members;
      }
      if (!header.empty()) carrier.Set(kBaggageHeader, header);
    } catch (...) {
    }
  }

  Context Extract(const TextMapCarrier& carrier, const Context& into) const noexcept override {
    std::string_view header = carrier.Get(kBaggageHeader);
    if (header.empty()) return into;
    try {
      Baggage baggage = into.baggage();
      size_t members = 0;
      size_t bytes = 0;
      bool changed = false;
      while (!header.empty()) {
        size_t comma = header.find(',');
        std::string_view member = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        bytes += member.size() + 1;
        if (bytes > kMaxBaggageBytes + 1 || members >= kMaxBaggageMembers) {
          Debug("baggage header exceeds limits; ignoring the rest", member);
          break;
        }
        std::string_view key_value = member.substr(0, member.find(';'));  // drop properties
        size_t eq = key_value.find('=');
        if (eq == std::string_view::npos) {
          if (!TrimOws(member).empty()) Debug("ignoring malformed baggage member", member);
          continue;
        }
        std::string_view key = TrimOws(key_value.substr(0, eq));
        std::string_view raw_value = TrimOws(key_value.substr(eq + 1));
        std::string value;
        if (!IsToken(key) || !PercentDecode(raw_value, value)) {
          Debug("ignoring malformed baggage member", member);
          continue;
        }
        baggage = baggage.Set(key, value);
        ++members;
        changed = true;
      }
      return changed ? into.WithBaggage(baggage) : into;
    } catch (...) {
      return into;
    }
  }
};

class CompositePropagator final : public TextMapPropagator {
 public:
  explicit CompositePropagator(std::vector<std::unique_ptr<TextMapPropagator>> propagators)
      : propagators_(std::move(propagators)) {}

  void Inject(const Context& context, TextMapCarrier& carrier) const noexcept override {
    for (const auto& propagator : propagators_) {
      if (propagator) propagator->Inject(context, carrier);
    }
  }

  Context Extract(const TextMapCarrier& carrier, const Context& into) const noexcept override {
    Context context = into;
    for (const auto& propagator : propagators_) {
      if (propagator) context = propagator->Extract(carrier, context);
    }
    return context;
  }

 private:
  std::vector<std::unique_ptr<TextMapPropagator>> propagators_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string PercentEncode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back("0123456789ABCDEF"[byte >> 4]);
      out.push_back("0123456789ABCDEF"[byte & 0xF]);
    }
  }
  return out;
}

bool PercentDecode(std::string_view value, std::string& out) {
  out.clear();
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out.push_back(value[i]);
      continue;
    }
    if (i + 2 >= value.size()) return false;
    int hi = AnyHexValue(value[i + 1]);
    int lo = AnyHexValue(value[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return true;
}

std::unique_ptr<TextMapPropagator> MakeTraceContextPropagator() {
  return std::make_unique<TraceContextPropagator>();
}

std::unique_ptr<TextMapPropagator> MakeBaggagePropagator() {
  return std::make_unique<BaggagePropagator>();
}

std::unique_ptr<TextMapPropagator> MakeCompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators) {
  return std::make_unique<CompositePropagator>(std::move(propagators));
}

std::string_view MapCarrier::Get(std::string_view key) const noexcept {
  for (const auto& [k, v] : headers_) {
    if (EqualsIgnoreCase(k, key)) return v;
  }
  return {};
}

void MapCarrier::Set(std::string_view key, std::string_view value) noexcept {
  try {
    for (auto& [k, v] : headers_) {
      if (EqualsIgnoreCase(k, key)) {
        v.assign(value);
        return;
      }
    }
    headers_.emplace_back(std::string(key), std::string(value));
  } catch (...) {
    // Allocation failure: the header is not set (documented on TextMapCarrier::Set).
  }
}

}  // namespace vllora::otel
