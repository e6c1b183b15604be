// Fuzz target: arbitrary bytes as span names, attribute keys and string values, event names and
// status messages -> the OTLP encoders (protobuf and JSON).
// Checks: both encoders accept any input; the JSON is valid UTF-8 that parses; the protobuf
// parses back with the same span count, and every string in it is valid UTF-8 (invalid input is
// repaired with U+FFFD), so a strict receiver never rejects the batch.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "vllora/otel/span_data.h"
#include "vllora/otlp/otlp_encoding.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Splits the input into up to 8 pieces at 0xFF bytes.
std::vector<std::string> Pieces(std::string_view input) {
  std::vector<std::string> pieces;
  while (pieces.size() < 7) {
    const size_t end = input.find('\xFF');
    if (end == std::string_view::npos) break;
    pieces.emplace_back(input.substr(0, end));
    input.remove_prefix(end + 1);
  }
  pieces.emplace_back(input);
  pieces.resize(8);
  return pieces;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> p =
      Pieces(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<std::unique_ptr<vllora::otel::SpanData>> batch;
  auto span = std::make_unique<vllora::otel::SpanData>();
  span->trace_flags = 1;
  span->name = p[0];
  span->attributes.Set(p[1], std::string_view(p[2]));
  span->attributes.Set("k", std::string_view(p[3]));
  span->trace_state = p[4];
  span->status_message = p[5];
  vllora::otel::Event event;
  event.name = p[6];
  event.attributes.Set("e", std::string_view(p[7]));
  span->events.push_back(std::move(event));
  batch.push_back(std::move(span));
  const std::span<const std::unique_ptr<vllora::otel::SpanData>> view(batch.data(), batch.size());

  const std::string json = vllora::otlp::EncodeOtlpJson(view);
  Check(IsValidUtf8(json));
  Check(!nlohmann::json::parse(json, nullptr, false).is_discarded());

  const std::string proto = vllora::otlp::EncodeOtlpProtobuf(view);
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  Check(request.ParseFromString(proto));  // fails on invalid UTF-8 in string fields too
  Check(request.resource_spans_size() == 1);
  const auto& spans = request.resource_spans(0).scope_spans(0).spans();
  Check(spans.size() == 1);
  Check(IsValidUtf8(spans[0].name()));
  for (const auto& kv : spans[0].attributes()) {
    Check(IsValidUtf8(kv.key()));
    Check(IsValidUtf8(kv.value().string_value()));
  }
  Check(IsValidUtf8(spans[0].status().message()));
  return 0;
}
