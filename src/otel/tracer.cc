#include "vllora/otel/tracer.h"

#include <algorithm>

#include "otel/context_internal.h"
#include "otel/provider_state.h"
#include "vllora/otel/clock.h"

namespace vllora::otel {

Tracer::Tracer(std::shared_ptr<internal::ProviderState> state,
               std::shared_ptr<const InstrumentationScope> scope) noexcept
    : state_(std::move(state)), scope_(std::move(scope)) {}

Tracer::~Tracer() = default;

namespace {
uint8_t SampledFlags(SamplingDecision decision) noexcept {
  return decision == SamplingDecision::kRecordAndSample ? static_cast<uint8_t>(TraceFlags::kSampled)
                                                        : static_cast<uint8_t>(TraceFlags::kNone);
}
}  // namespace

std::unique_ptr<Span> Tracer::StartSpan(std::string_view name,
                                        const StartSpanOptions& options) noexcept {
  return std::unique_ptr<Span>(Start(nullptr, name, options));
}

Span* Tracer::StartSpanIn(void* storage, std::string_view name,
                          const StartSpanOptions& options) noexcept {
  return Start(storage, name, options);
}

Span* Tracer::Start(void* storage, std::string_view name,
                    const StartSpanOptions& options) noexcept {
  // Builds the Span in `storage`, or allocates it (may throw bad_alloc) when there is none.
  const auto make = [storage](auto&&... args) -> Span* {
    if (storage != nullptr) return ::new (storage) Span(std::forward<decltype(args)>(args)...);
    return new Span(std::forward<decltype(args)>(args)...);
  };
  const Context& context =
      options.context != nullptr ? *options.context : internal::CurrentContextRef();
  const SpanContext& parent = options.parent != nullptr ? *options.parent : context.span_context();
  internal::ProviderState& state = *state_;
  const bool has_parent = parent.IsValid();
  TraceId trace_id;
  SpanId span_id;
  if (has_parent) {
    trace_id = parent.trace_id();
    span_id = state.id_generator->GenerateSpanId();
  } else {
    state.id_generator->GenerateRootIds(trace_id, span_id);
  }

  try {
    // acquire: pairs with the release in Shutdown so a span started after it is non-recording.
    if (state.shut_down.load(std::memory_order_acquire)) {
      return make(has_parent ? SpanContext::WithTraceStateOf(parent, trace_id, span_id, 0)
                             : SpanContext(trace_id, span_id, 0, false));
    }
    // A decision fixed by the parent alone (the default ParentBased(AlwaysOn) for every span)
    // skips ShouldSample and its SamplingResult; the span shares the parent's tracestate, as
    // ShouldSample would keep it.
    SamplingResult result;
    SpanContext span_context;
    if (const std::optional<SamplingDecision> fixed = state.sampler->FixedDecision(parent)) {
      result.decision = *fixed;
      const uint8_t flags = SampledFlags(result.decision);
      span_context = has_parent ? SpanContext::WithTraceStateOf(parent, trace_id, span_id, flags)
                                : SpanContext(trace_id, span_id, flags, false);
    } else {
      result = state.sampler->ShouldSample(parent, trace_id, name, options.kind);
      span_context = SpanContext(trace_id, span_id, SampledFlags(result.decision), false,
                                 std::move(result.trace_state));
    }
    const uint8_t flags = span_context.trace_flags();
    if (result.decision == SamplingDecision::kDrop) {
      return make(std::move(span_context));
    }

    auto data = std::make_unique<SpanData>();
    data->trace_id = trace_id;
    data->span_id = span_id;
    if (has_parent) {
      data->parent_span_id = parent.span_id();
      data->parent_is_remote = parent.IsRemote();
    }
    if (span_context.HasTraceState()) data->trace_state = span_context.trace_state();
    data->trace_flags = flags;
    data->name.assign(name.empty() ? kEmptySpanName : name);
    data->kind = options.kind;
    data->start_time_unix_nano =
        options.start_time_unix_nano != 0 ? options.start_time_unix_nano : NowUnixNanos();
    data->resource = state.resource;
    data->scope = scope_;

    const SpanLimits& limits = state.limits;
    data->attributes.SetLimits(limits.max_attributes, limits.max_attribute_value_length);
    if (options.fill_attributes != nullptr) {
      options.fill_attributes(options.fill_source, data->attributes);
    } else {
      // One block sized for the initial attributes plus typical later additions (4 entries,
      // 192 bytes), so most spans never reallocate it.
      const size_t n = options.attributes.size();
      data->attributes.SetAll(options.attributes, n < 4 ? 8 - n : 4, 192);
    }

    if (!options.links.empty()) {
      size_t keep = options.links.size();
      if (limits.max_links != 0 && keep > limits.max_links) keep = limits.max_links;
      data->links.assign(options.links.begin(),
                         options.links.begin() + static_cast<std::ptrdiff_t>(keep));
      data->dropped_links_count = static_cast<uint32_t>(options.links.size() - keep);
    }

    Span* span = make(std::move(span_context), std::move(data), state_.get());
    for (SpanProcessor* processor : state.on_start) processor->OnStart(*span, context);
    return span;
  } catch (...) {
    // Out of memory: fall back to a non-recording span (or null if even that fails).
    try {
      return make(SpanContext(trace_id, span_id, 0, false));
    } catch (...) {
      return nullptr;
    }
  }
}

std::optional<SamplingDecision> Tracer::FixedSamplingDecision(
    const SpanContext* parent) const noexcept {
  const internal::ProviderState& state = *state_;
  // acquire: as in StartSpan.
  if (state.shut_down.load(std::memory_order_acquire)) return SamplingDecision::kDrop;
  const SpanContext& p = parent != nullptr ? *parent : Context::CurrentSpanContext();
  return state.sampler->FixedDecision(p);
}

}  // namespace vllora::otel
