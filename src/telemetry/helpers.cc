#include "vllora/telemetry/helpers.h"

namespace vllora::telemetry {

Span CreateRunSpan(const Tags& tags) {
  return StartSpan(Level::kInfo, kTargetRun, kSpanRun, {{"tags", tags.ToJson()}});
}

Span CreateAgentSpan(std::string_view name) {
  return StartSpan(Level::kInfo, kTargetAgent, kSpanAgent, {{kAgentNameKey, name}});
}

Span CreateTaskSpan(std::string_view name) {
  return StartSpan(Level::kInfo, kTargetTask, kSpanTask, {{kTaskNameKey, name}});
}

Span CreateApiInvokeSpan(const Tags& tags) {
  return StartSpan(Level::kInfo, kTargetApiInvoke, kSpanApiInvoke, {{"tags", tags.ToJson()}});
}

Span CreateModelInvokeSpan(std::string_view input, std::string_view model,
                           std::string_view provider_name, std::string_view model_name,
                           std::string_view inference_model_name,
                           std::string_view credentials_identifier, const Tags& tags,
                           const Span* parent) {
  return StartSpan(Level::kInfo, kTargetModels, kSpanModelCall,
                   {{"input", input},
                    {"model", model},
                    {"provider_name", provider_name},
                    {"model_name", model_name},
                    {"inference_model_name", inference_model_name},
                    {"credentials_identifier", credentials_identifier},
                    {"tags", tags.ToJson()}},
                   parent);
}

Span CreateModelSpan(std::string_view name, std::string_view target, const Tags& tags,
                     int64_t retries_left, std::initializer_list<Field> extra) {
  Span span = StartSpan(Level::kInfo, target, name,
                        {{"tags", tags.ToJson()}, {"retries_left", retries_left}});
  if (extra.size() != 0) span.Record(extra);
  return span;
}

Span CreateToolSpan(std::string_view name, const Tags& tags) {
  return StartSpan(Level::kInfo, kTargetTool, kSpanTool,
                   {{kToolNameKey, name}, {"tags", tags.ToJson()}});
}

void RecordOutput(const Span& span, const Value& output) { span.Record("output", output); }

void RecordError(const Span& span, std::string_view message) { span.Record("error", message); }

}  // namespace vllora::telemetry
