#include "vllora/otel/tracer_provider.h"

#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "otel/env.h"
#include "otel/provider_state.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otel {

namespace internal {

namespace {

// Resources and scopes that spans point at, kept for the rest of the process (equal ones once).
// A span's shared_ptr to them then has no control block: copying it into every SpanData on the
// application thread and dropping it on the export thread costs no atomic operations, and no
// cache line moves between the two threads per span. Bounded: past kMaxPinned distinct objects
// they are owned the usual way (reference-counted).
constexpr size_t kMaxPinned = 256;

struct Pinned {
  std::mutex mutex;
  std::vector<std::unique_ptr<const Resource>> resources;
  std::vector<std::unique_ptr<const InstrumentationScope>> scopes;
};

Pinned& GetPinned() {
  static auto* pinned = new Pinned();  // leaked on purpose: spans may outlive static destruction
  return *pinned;
}

bool SameAttributes(const Attributes& a, const Attributes& b) noexcept {
  if (a.size() != b.size() || a.dropped_count() != b.dropped_count()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const KeyValueView x = a.At(i);
    const KeyValueView y = b.At(i);
    if (x.key != y.key || x.value != y.value) return false;
  }
  return true;
}

template <class T>
std::shared_ptr<const T> NotOwning(const T* object) noexcept {
  // The aliasing constructor with an empty owner: get() == object, no control block.
  return std::shared_ptr<const T>(std::shared_ptr<const T>(), object);
}

}  // namespace

std::shared_ptr<const Resource> PinResource(Resource resource) {
  Pinned& pinned = GetPinned();
  std::lock_guard<std::mutex> lock(pinned.mutex);
  for (const auto& r : pinned.resources) {
    if (r->schema_url() == resource.schema_url() &&
        SameAttributes(r->attributes(), resource.attributes())) {
      return NotOwning(r.get());
    }
  }
  if (pinned.resources.size() >= kMaxPinned) {
    return std::make_shared<const Resource>(std::move(resource));
  }
  pinned.resources.push_back(std::make_unique<const Resource>(std::move(resource)));
  return NotOwning(pinned.resources.back().get());
}

std::shared_ptr<const InstrumentationScope> PinScope(InstrumentationScope scope) {
  Pinned& pinned = GetPinned();
  std::lock_guard<std::mutex> lock(pinned.mutex);
  for (const auto& s : pinned.scopes) {
    if (s->name == scope.name && s->version == scope.version && s->schema_url == scope.schema_url) {
      return NotOwning(s.get());
    }
  }
  if (pinned.scopes.size() >= kMaxPinned) {
    return std::make_shared<const InstrumentationScope>(std::move(scope));
  }
  pinned.scopes.push_back(std::make_unique<const InstrumentationScope>(std::move(scope)));
  return NotOwning(pinned.scopes.back().get());
}

std::shared_ptr<ProviderState> MakeProviderState() {
  // The deleter drops the owners' reference; live spans may keep the state a while longer.
  return std::shared_ptr<ProviderState>(new ProviderState(),
                                        [](ProviderState* state) { state->Release(); });
}

void ProviderState::DispatchEndToEach(std::unique_ptr<SpanData>&& data) noexcept {
  const size_t n = on_end.size();
  if (n == 0) return;
  for (size_t i = 0; i + 1 < n; ++i) {
    try {
      on_end[i]->OnEnd(std::make_unique<SpanData>(*data));
    } catch (...) {
      // Out of memory while copying: this processor misses the span.
    }
  }
  on_end[n - 1]->OnEnd(std::move(data));
}

}  // namespace internal

SpanLimits SpanLimits::FromEnv() {
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  SpanLimits limits;
  limits.max_attributes = static_cast<uint32_t>(
      internal::EnvUint("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", limits.max_attributes, 0, kMax));
  limits.max_events = static_cast<uint32_t>(
      internal::EnvUint("OTEL_SPAN_EVENT_COUNT_LIMIT", limits.max_events, 0, kMax));
  limits.max_links = static_cast<uint32_t>(
      internal::EnvUint("OTEL_SPAN_LINK_COUNT_LIMIT", limits.max_links, 0, kMax));
  limits.max_attribute_value_length = static_cast<uint32_t>(internal::EnvUint(
      "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", limits.max_attribute_value_length, 0, kMax));
  return limits;
}

// --- Builder -------------------------------------------------------------------------------

TracerProvider::Builder::Builder() = default;
TracerProvider::Builder::~Builder() = default;
TracerProvider::Builder::Builder(Builder&&) noexcept = default;
TracerProvider::Builder& TracerProvider::Builder::operator=(Builder&&) noexcept = default;

TracerProvider::Builder& TracerProvider::Builder::WithSpanProcessor(
    std::unique_ptr<SpanProcessor> processor) {
  if (processor) processors_.push_back(std::move(processor));
  return *this;
}

TracerProvider::Builder& TracerProvider::Builder::WithBatchExporter(
    std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options) {
  if (exporter) {
    processors_.push_back(std::make_unique<BatchSpanProcessor>(std::move(exporter), options));
  }
  return *this;
}

TracerProvider::Builder& TracerProvider::Builder::WithSimpleExporter(
    std::unique_ptr<SpanExporter> exporter) {
  if (exporter) processors_.push_back(MakeSimpleSpanProcessor(std::move(exporter)));
  return *this;
}

TracerProvider::Builder& TracerProvider::Builder::WithIdGenerator(
    std::unique_ptr<IdGenerator> generator) {
  id_generator_ = std::move(generator);
  return *this;
}

TracerProvider::Builder& TracerProvider::Builder::WithSampler(std::unique_ptr<Sampler> sampler) {
  sampler_ = std::move(sampler);
  return *this;
}

TracerProvider::Builder& TracerProvider::Builder::WithResource(Resource resource) {
  resource_ = std::make_unique<Resource>(std::move(resource));
  return *this;
}

TracerProvider::Builder& TracerProvider::Builder::WithSpanLimits(SpanLimits limits) {
  limits_ = std::make_unique<SpanLimits>(limits);
  return *this;
}

std::shared_ptr<TracerProvider> TracerProvider::Builder::Build() {
  std::shared_ptr<internal::ProviderState> state = internal::MakeProviderState();
  state->processors = std::move(processors_);
  for (const auto& processor : state->processors) {
    if (processor->NeedsOnStart()) state->on_start.push_back(processor.get());
    if (processor->NeedsOnEnd()) state->on_end.push_back(processor.get());
  }
  state->id_generator = id_generator_ ? std::move(id_generator_) : MakeRandomIdGenerator();
  state->sampler = sampler_ ? std::move(sampler_) : MakeParentBasedSampler(MakeAlwaysOnSampler());
  state->sampler_shape = internal::SamplerShapeOf(*state->sampler);
  state->resource = internal::PinResource(resource_ ? std::move(*resource_) : Resource::Create());
  state->limits = limits_ ? *limits_ : SpanLimits::FromEnv();
  resource_.reset();
  limits_.reset();
  return std::shared_ptr<TracerProvider>(new TracerProvider(std::move(state)));
}

// --- TracerProvider ------------------------------------------------------------------------

TracerProvider::Builder TracerProvider::builder() { return Builder(); }

TracerProvider::TracerProvider(std::shared_ptr<internal::ProviderState> state) noexcept
    : state_(std::move(state)) {}

TracerProvider::~TracerProvider() { Shutdown(); }

const Resource& TracerProvider::resource() const noexcept { return *state_->resource; }

std::shared_ptr<Tracer> TracerProvider::GetTracer(std::string_view name, std::string_view version) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& tracer : tracers_) {
    if (tracer->scope().name == name && tracer->scope().version == version) return tracer;
  }
  auto scope = internal::PinScope(
      InstrumentationScope{std::string(name), std::string(version), std::string()});
  auto tracer = std::make_shared<Tracer>(state_, std::move(scope));
  tracers_.push_back(tracer);
  return tracer;
}

bool TracerProvider::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  for (const auto& processor : state_->processors) ok = processor->ForceFlush(deadline) && ok;
  return ok;
}

bool TracerProvider::Shutdown(std::chrono::milliseconds timeout) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shutdown_called_) return shutdown_result_;
  shutdown_called_ = true;
  // release: spans started after this see shut_down and are non-recording.
  state_->shut_down.store(true, std::memory_order_release);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  for (const auto& processor : state_->processors) ok = processor->Shutdown(deadline) && ok;
  shutdown_result_ = ok;
  if (!ok)
    EmitDiagnostic(DiagnosticLevel::kWarn, "TracerProvider::Shutdown did not complete in time");
  return ok;
}

}  // namespace vllora::otel
