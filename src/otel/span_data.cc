#include "vllora/otel/span_data.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "otel/env.h"
#include "vllora/otel/diagnostics.h"
#include "vllora/otel/internal/object_pool.h"
#include "vllora/otel/propagation.h"

namespace vllora::otel {
namespace {

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string ProgramName() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n > 0) {
    std::string_view path(buffer, static_cast<size_t>(n));
    size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
    if (!path.empty()) return std::string(path);
  }
  if (std::FILE* f = std::fopen("/proc/self/comm", "r")) {
    size_t read = std::fread(buffer, 1, sizeof(buffer) - 1, f);
    std::fclose(f);
    std::string name(buffer, read);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    if (!name.empty()) return name;
  }
  return "unknown";
}

// Parses "k=v,k=v" (values percent-decoded) into `out`. Returns the number of malformed entries.
size_t ParseResourceAttributes(std::string_view text,
                               std::vector<std::pair<std::string, std::string>>& out) {
  size_t malformed = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    item = Trim(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      ++malformed;
      continue;
    }
    std::string_view key = Trim(item.substr(0, eq));
    std::string_view raw_value = Trim(item.substr(eq + 1));
    std::string value;
    if (key.empty() || !PercentDecode(raw_value, value)) {
      ++malformed;
      continue;
    }
    out.emplace_back(std::string(key), std::move(value));
  }
  return malformed;
}

}  // namespace

const char* SpanKindName(SpanKind kind) noexcept {
  switch (kind) {
    case SpanKind::kInternal:
      return "INTERNAL";
    case SpanKind::kServer:
      return "SERVER";
    case SpanKind::kClient:
      return "CLIENT";
    case SpanKind::kProducer:
      return "PRODUCER";
    case SpanKind::kConsumer:
      return "CONSUMER";
  }
  return "UNSPECIFIED";
}

const char* StatusCodeName(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kUnset:
      return "UNSET";
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kError:
      return "ERROR";
  }
  return "UNSET";
}

Resource Resource::Create(const Attributes& extra) {
  Resource resource;
  Attributes& attrs = resource.attributes_;
  // Lowest precedence first: later Set() calls replace earlier values.
  attrs.Set("telemetry.sdk.name", "vllora-telemetry-cpp");
  attrs.Set("telemetry.sdk.language", "cpp");
  attrs.Set("telemetry.sdk.version", kSdkVersion);
  std::string unknown_service = "unknown_service:" + ProgramName();
  attrs.Set("service.name", unknown_service);

  if (auto env = internal::GetEnv("OTEL_RESOURCE_ATTRIBUTES")) {
    std::vector<std::pair<std::string, std::string>> parsed;
    size_t malformed = ParseResourceAttributes(*env, parsed);
    for (const auto& [key, value] : parsed) attrs.Set(key, std::string_view(value));
    if (malformed > 0) {
      EmitDiagnostic(DiagnosticLevel::kWarn, "OTEL_RESOURCE_ATTRIBUTES: ignored " +
                                                 std::to_string(malformed) + " malformed entr" +
                                                 (malformed == 1 ? "y" : "ies") + " in \"" +
                                                 std::string(*env) + "\"");
    }
  }
  if (auto service = internal::GetEnv("OTEL_SERVICE_NAME")) attrs.Set("service.name", *service);
  for (const KeyValueView& kv : extra) attrs.Set(kv.key, kv.value);
  return resource;
}

namespace {
// sizeof(SpanData) rounded up to 64 bytes, so the pool's blocks fill whole cache lines.
using SpanDataPool = internal::FixedSizePool<(sizeof(SpanData) + 63) / 64 * 64>;
}  // namespace

void* SpanData::operator new(size_t size) {
  // A derived type (none in the SDK) is bigger than the pool's blocks: use the heap.
  return size == sizeof(SpanData) ? SpanDataPool::Allocate() : ::operator new(size);
}

void SpanData::operator delete(void* p, size_t size) noexcept {
  if (size == sizeof(SpanData)) {
    SpanDataPool::Free(p);
  } else {
    ::operator delete(p);
  }
}

Resource Resource::Empty() { return Resource(); }

Resource Resource::FromAttributes(Attributes attributes, std::string schema_url) {
  Resource resource;
  resource.attributes_ = std::move(attributes);
  resource.schema_url_ = std::move(schema_url);
  return resource;
}

}  // namespace vllora::otel
