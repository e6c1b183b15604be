#include "vllora/otel/console_exporter.h"

#include <atomic>
#include <cinttypes>
#include <string>

namespace vllora::otel {
namespace {

void AppendValue(std::string& out, const AttributeValue& value) {
  char buffer[64];
  switch (value.index()) {
    case 0:
      out += std::get<bool>(value) ? "true" : "false";
      return;
    case 1:
      std::snprintf(buffer, sizeof(buffer), "%" PRId64, std::get<int64_t>(value));
      break;
    case 2:
      std::snprintf(buffer, sizeof(buffer), "%" PRIu64, std::get<uint64_t>(value));
      break;
    case 3:
      std::snprintf(buffer, sizeof(buffer), "%g", std::get<double>(value));
      break;
    default:
      out += '"';
      out += std::get<std::string_view>(value);
      out += '"';
      return;
  }
  out += buffer;
}

void AppendAttributes(std::string& out, const Attributes& attributes, const char* indent) {
  for (const KeyValueView& kv : attributes) {
    out += indent;
    out += kv.key;
    out += " = ";
    AppendValue(out, kv.value);
    out += '\n';
  }
}

void AppendTime(std::string& out, const char* label, uint64_t unix_nanos) {
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "  %s: %" PRIu64 ".%09" PRIu64 "\n", label,
                static_cast<uint64_t>(unix_nanos / 1000000000U),
                static_cast<uint64_t>(unix_nanos % 1000000000U));
  out += buffer;
}

class ConsoleSpanExporter final : public SpanExporter {
 public:
  explicit ConsoleSpanExporter(std::FILE* out) : out_(out) {}

  ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept override {
    if (out_ == nullptr || shut_down_) return ExportResult::kFailure;
    try {
      std::string text;
      for (const auto& span : batch) {
        if (!span) continue;
        if (!resource_printed_ && span->resource) {
          text += "Resource:\n";
          AppendAttributes(text, span->resource->attributes(), "  ");
          resource_printed_ = true;
        }
        Format(*span, text);
      }
      if (!text.empty()) {
        std::fwrite(text.data(), 1, text.size(), out_);
        std::fflush(out_);
      }
      return ExportResult::kSuccess;
    } catch (...) {
      return ExportResult::kFailure;
    }
  }

  bool ForceFlush(std::chrono::steady_clock::time_point) noexcept override {
    if (out_ != nullptr) std::fflush(out_);
    return true;
  }

  bool Shutdown(std::chrono::steady_clock::time_point) noexcept override {
    shut_down_ = true;
    return true;
  }

 private:
  static void Format(const SpanData& span, std::string& out) {
    char buffer[160];
    out += "Span \"" + span.name + "\"\n";
    out += "  trace_id: " + span.trace_id.ToHex() + "\n";
    out += "  span_id: " + span.span_id.ToHex() + "\n";
    out += "  parent_span_id: ";
    out += span.parent_span_id.IsValid() ? span.parent_span_id.ToHex() : std::string("(root)");
    if (span.parent_is_remote) out += " (remote)";
    out += '\n';
    out += "  kind: ";
    out += SpanKindName(span.kind);
    out += '\n';
    if (span.scope) {
      out += "  scope: " + span.scope->name;
      if (!span.scope->version.empty()) out += " " + span.scope->version;
      out += '\n';
    }
    AppendTime(out, "start", span.start_time_unix_nano);
    AppendTime(out, "end", span.end_time_unix_nano);
    const uint64_t duration = span.end_time_unix_nano >= span.start_time_unix_nano
                                  ? span.end_time_unix_nano - span.start_time_unix_nano
                                  : 0;
    std::snprintf(buffer, sizeof(buffer), "  duration: %.3f ms\n",
                  static_cast<double>(duration) / 1e6);
    out += buffer;
    out += "  status: ";
    out += StatusCodeName(span.status_code);
    if (!span.status_message.empty()) out += " (" + span.status_message + ")";
    out += '\n';
    if (!span.attributes.empty()) {
      out += "  attributes:\n";
      AppendAttributes(out, span.attributes, "    ");
    }
    if (!span.events.empty()) {
      out += "  events:\n";
      for (const Event& event : span.events) {
        std::snprintf(buffer, sizeof(buffer), " @ %" PRIu64 "\n", event.time_unix_nano);
        out += "    " + event.name + buffer;
        AppendAttributes(out, event.attributes, "      ");
      }
    }
    if (!span.links.empty()) {
      out += "  links:\n";
      for (const Link& link : span.links) {
        out +=
            "    " + link.context.trace_id().ToHex() + "/" + link.context.span_id().ToHex() + "\n";
        AppendAttributes(out, link.attributes, "      ");
      }
    }
    if (span.dropped_attributes_count() + span.dropped_events_count + span.dropped_links_count >
        0) {
      std::snprintf(buffer, sizeof(buffer), "  dropped: attributes=%u events=%u links=%u\n",
                    span.dropped_attributes_count(), span.dropped_events_count,
                    span.dropped_links_count);
      out += buffer;
    }
  }

  std::FILE* out_;
  bool resource_printed_ = false;
  std::atomic<bool> shut_down_{false};
};

}  // namespace

std::unique_ptr<SpanExporter> MakeConsoleSpanExporter(std::FILE* out) {
  return std::make_unique<ConsoleSpanExporter>(out);
}

}  // namespace vllora::otel
