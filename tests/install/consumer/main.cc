// The README's quickstart, built against the installed package. Prints the spans it exported to
// an in-memory exporter, and exercises the OTLP/gRPC exporter factory.
#include <cstdio>

#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/otlp/otlp_grpc_exporter.h"
#include "vllora/subscriber/filter.h"
#include "vllora/subscriber/fmt_layer.h"
#include "vllora/subscriber/registry.h"
#include "vllora/telemetry/helpers.h"

namespace tel = vllora::telemetry;

int main() {
  std::string error;
  vllora::otlp::OtlpGrpcExporterOptions options;
  options.endpoint = "http://127.0.0.1:4317";
  if (vllora::otlp::OtlpGrpcExporter::Create(options, &error) == nullptr) {
    std::printf("exporter: %s\n", error.c_str());
    return 1;
  }
  auto memory = std::make_unique<vllora::otel::InMemorySpanExporter>();
  auto storage = memory->storage();
  auto provider = vllora::otel::TracerProvider::builder()
                      .WithSpanProcessor(vllora::otel::MakeBaggageSpanProcessor(
                          {tel::kBaggageKeys.begin(), tel::kBaggageKeys.end()}))
                      .WithSimpleExporter(std::move(memory))
                      .WithIdGenerator(vllora::otel::MakeUuidIdGenerator())
                      .Build();
  auto tracer = provider->GetTracer("consumer");
  auto registry = vllora::Registry::Create();
  registry
      ->With(vllora::MakeFmtLayer(),
             std::make_shared<vllora::EnvFilter>(vllora::EnvFilter::FromEnv("info")))
      .With(vllora::OtelLayer("vllora::user_tracing", vllora::LevelFilter::kInfo, tracer))
      .With(vllora::OtelLayer("my_app", vllora::LevelFilter::kInfo, tracer));
  vllora::SetGlobalSubscriber(registry);
  {
    auto token = vllora::otel::Context::Current()
                     .WithBaggage({{tel::kRunIdKey, "run-1"}, {tel::kTenantKey, "default"}})
                     .Attach();
    auto request = VLLORA_INFO_SPAN("my_app::server", "handle_request", {"user", "u1"});
    request.InScope([] {
      auto call = VLLORA_CREATE_MODEL_INVOKE_SPAN("Hi", R"({"name":"gpt-4"})", "openai", "gpt-4",
                                                  "gpt-4", "own");
      VLLORA_INFO("calling the model");
      call.Record("output", "Hello!");
    });
  }
  provider->Shutdown();
  auto spans = storage->Take();
  for (const auto& span : spans) {
    std::printf("span %s run_id=%s\n", span->name.c_str(),
                span->attributes.Find("vllora.run_id") ? "set" : "missing");
  }
  return spans.size() == 2 ? 0 : 1;
}
