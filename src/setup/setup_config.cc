#include "setup/setup_config.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "otlp/otlp_env.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::internal {
namespace {

using otlp::internal::AsciiLower;
using otlp::internal::EnvValue;
using otlp::internal::TrimSpaces;
using otlp::internal::WarnInvalidEnv;

std::optional<EnvValue> GetEnv(const char* name) {
  // Read once, at setup time, like the rest of the SDK (getenv is not synchronised with setenv).
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return EnvValue{name, value};
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string item = AsciiLower(TrimSpaces(text.substr(0, comma)));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool ResolveDisabled(const TracingOptions& options) {
  if (options.sdk_disabled) return *options.sdk_disabled;
  if (auto env = GetEnv("OTEL_SDK_DISABLED")) {
    if (auto value = otlp::internal::ParseBool(env->value)) return *value;
    WarnInvalidEnv(*env, "expected true or false", "false");
  }
  return false;
}

std::vector<TracesExporter> ResolveExporters(const TracingOptions& options) {
  std::vector<TracesExporter> out;
  if (options.exporters) {
    for (TracesExporter exporter : *options.exporters) {
      if (exporter != TracesExporter::kNone) out.push_back(exporter);
    }
    return out;
  }
  auto env = GetEnv("OTEL_TRACES_EXPORTER");
  if (!env) return {TracesExporter::kOtlp};
  bool invalid = false;
  bool none = false;
  for (const std::string& name : SplitList(env->value)) {
    if (name == "otlp") {
      out.push_back(TracesExporter::kOtlp);
    } else if (name == "console" || name == "logging") {
      out.push_back(TracesExporter::kConsole);
    } else if (name == "none") {
      none = true;
    } else {
      invalid = true;
    }
  }
  if (invalid) {
    if (out.empty() && !none) {
      WarnInvalidEnv(*env, "expected otlp, console or none", "otlp");
      return {TracesExporter::kOtlp};
    }
    WarnInvalidEnv(*env, "expected otlp, console or none", "the valid entries only");
  }
  return out;
}

OtlpProtocol ResolveProtocol(const TracingOptions& options) {
  if (options.protocol) return *options.protocol;
  auto env = otlp::internal::GetTracesEnv("PROTOCOL");
  if (!env) return OtlpProtocol::kGrpc;
  const std::string value = AsciiLower(TrimSpaces(env->value));
  if (value == "grpc") return OtlpProtocol::kGrpc;
  if (value == "http/protobuf") return OtlpProtocol::kHttpProtobuf;
  if (value == "http/json") return OtlpProtocol::kHttpJson;
  WarnInvalidEnv(*env, "expected grpc, http/protobuf or http/json", "grpc");
  return OtlpProtocol::kGrpc;
}

// Parses a ratio in [0, 1]; nullopt for anything else.
std::optional<double> ParseRatio(std::string_view text) {
  text = TrimSpaces(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < 0.0 || value > 1.0) {
    return std::nullopt;
  }
  return value;
}

std::unique_ptr<otel::Sampler> ResolveSampler(const TracingOptions& options) {
  std::optional<EnvValue> name_env;
  std::string name;
  if (options.sampler) {
    name = AsciiLower(TrimSpaces(*options.sampler));
  } else if ((name_env = GetEnv("OTEL_TRACES_SAMPLER"))) {
    name = AsciiLower(TrimSpaces(name_env->value));
  }
  const auto ratio = [&options]() -> double {
    std::optional<EnvValue> arg;
    if (options.sampler_arg) {
      arg = EnvValue{"TracingOptions::sampler_arg", *options.sampler_arg};
    } else {
      arg = GetEnv("OTEL_TRACES_SAMPLER_ARG");
    }
    if (!arg) return 1.0;
    if (auto value = ParseRatio(arg->value)) return *value;
    WarnInvalidEnv(*arg, "expected a number in [0, 1]", "1.0");
    return 1.0;
  };
  if (name.empty() || name == "parentbased_always_on") {
    return otel::MakeParentBasedSampler(otel::MakeAlwaysOnSampler());
  }
  if (name == "always_on") return otel::MakeAlwaysOnSampler();
  if (name == "always_off") return otel::MakeAlwaysOffSampler();
  if (name == "traceidratio") return otel::MakeTraceIdRatioSampler(ratio());
  if (name == "parentbased_always_off") {
    return otel::MakeParentBasedSampler(otel::MakeAlwaysOffSampler());
  }
  if (name == "parentbased_traceidratio") {
    return otel::MakeParentBasedSampler(otel::MakeTraceIdRatioSampler(ratio()));
  }
  const EnvValue source = name_env ? *name_env : EnvValue{"TracingOptions::sampler", name};
  WarnInvalidEnv(source,
                 "expected always_on, always_off, traceidratio, parentbased_always_on, "
                 "parentbased_always_off or parentbased_traceidratio",
                 "parentbased_always_on");
  return otel::MakeParentBasedSampler(otel::MakeAlwaysOnSampler());
}

std::vector<std::string> ResolvePropagators() {
  auto env = GetEnv("OTEL_PROPAGATORS");
  if (!env) return {"tracecontext", "baggage"};
  std::vector<std::string> out;
  bool invalid = false;
  for (const std::string& name : SplitList(env->value)) {
    if (name == "tracecontext" || name == "baggage") {
      out.push_back(name);
    } else if (name == "none") {
      continue;
    } else {
      invalid = true;
    }
  }
  if (invalid) {
    WarnInvalidEnv(*env, "supported: tracecontext, baggage, none", "the supported entries only");
  }
  return out;
}

}  // namespace

TracingConfig ResolveTracingConfig(const TracingOptions& options) {
  TracingConfig config;
  config.disabled = ResolveDisabled(options);
  config.exporters = ResolveExporters(options);
  config.protocol = ResolveProtocol(options);
  config.sampler = ResolveSampler(options);
  config.propagators = ResolvePropagators();
  return config;
}

std::unique_ptr<otel::TextMapPropagator> MakePropagator(const std::vector<std::string>& names) {
  std::vector<std::unique_ptr<otel::TextMapPropagator>> propagators;
  for (const std::string& name : names) {
    if (name == "tracecontext") propagators.push_back(otel::MakeTraceContextPropagator());
    if (name == "baggage") propagators.push_back(otel::MakeBaggagePropagator());
  }
  return otel::MakeCompositePropagator(std::move(propagators));
}

}  // namespace vllora::internal
