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

namespace {

// StartSpanOptions::fill_attributes and fill_source, read before any call: a caller that sets
// them just before an inlined Tracer::Start then calls its fill directly (its address is known),
// which the load after the calls in between would not allow once `options` escapes.
struct AttributeFill {
  void (*function)(const void*, Attributes&);
  const void* source;
};

// Where a Span is built: `storage`, or a new allocation (may throw bad_alloc) when it is null.
void* SpanStorage(void* storage) {
  return storage != nullptr ? storage : Span::operator new(sizeof(Span));
}

// The new span's SpanData: name, ids, flags, times and attributes (the tracestate is the
// span context's, set by StartRecording).
std::unique_ptr<SpanData> NewSpanData(const internal::ProviderState& state,
                                      const std::shared_ptr<const InstrumentationScope>& scope,
                                      std::string_view name, const SpanContext& parent,
                                      bool has_parent, const TraceId& trace_id,
                                      const SpanId& span_id, uint8_t flags,
                                      const StartSpanOptions& options, AttributeFill fill) {
  const uint64_t start_time =
      options.start_time_unix_nano != 0 ? options.start_time_unix_nano : NowUnixNanos();
  auto data = std::make_unique<SpanData>();
  // The plain members first, right after the constructor's defaults: nothing is called in
  // between, so the compiler drops the default stores these overwrite.
  data->trace_id = trace_id;
  data->span_id = span_id;
  data->parent_span_id = has_parent ? parent.span_id() : SpanId();
  data->parent_is_remote = has_parent && parent.IsRemote();
  data->trace_flags = flags;
  data->kind = options.kind;
  data->start_time_unix_nano = start_time;
  data->name.assign(name.empty() ? kEmptySpanName : name);
  data->resource = state.resource;
  data->scope = scope;

  const SpanLimits& limits = state.limits;
  data->attributes.SetLimits(limits.max_attributes, limits.max_attribute_value_length);
  if (fill.function != nullptr) {
    fill.function(fill.source, data->attributes);
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
  return data;
}

}  // namespace

Span* Tracer::MakeNonRecording(void* storage, SpanContext&& context) {
  return ::new (SpanStorage(storage)) Span(std::move(context));
}

[[gnu::always_inline]] inline Span* Tracer::StartRecording(void* storage, SpanContext&& context,
                                                           std::unique_ptr<SpanData> data,
                                                           const StartSpanOptions& options) {
  if (context.HasTraceState()) data->trace_state = context.trace_state();
  // May throw: before the reference is taken. A span in the caller's storage takes none (see
  // StartSpanIn).
  void* where = SpanStorage(storage);
  const bool owns_state = storage == nullptr;
  if (owns_state) state_->AddRef();
  Span* span = ::new (where) Span(std::move(context), std::move(data), state_.get(), owns_state);
  if (!state_->on_start.empty()) [[unlikely]] {
    CallOnStart(*span, options);
  }
  return span;
}

// Flattened: the SpanData and Span constructors, the sampling flags and the SpanContext are
// built inline, with no temporaries passed between calls.
[[gnu::flatten]] Span* Tracer::Start(void* storage, std::string_view name,
                                     const StartSpanOptions& options) noexcept {
  // First, before any call (see AttributeFill).
  const AttributeFill fill{options.fill_attributes, options.fill_source};
  // The parent: the given one, else the current context's span (read in place, no Context
  // copy). The Context itself is looked up only for the OnStart processors that take it.
  const SpanContext& parent = options.parent != nullptr    ? *options.parent
                              : options.context != nullptr ? options.context->span_context()
                                                           : Context::CurrentSpanContext();
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

  // The new span's context with `flags`: a child shares its parent's tracestate.
  const auto context_with = [&](uint8_t flags) {
    return has_parent ? SpanContext::WithTraceStateOf(parent, trace_id, span_id, flags)
                      : SpanContext(trace_id, span_id, flags, false);
  };
  try {
    // acquire: pairs with the release in Shutdown so a span started after it is non-recording.
    if (state.shut_down.load(std::memory_order_acquire)) {
      return MakeNonRecording(storage, context_with(0));
    }
    // A decision fixed by the parent alone (the default ParentBased(AlwaysOn) for every span)
    // skips ShouldSample and its SamplingResult; the span shares the parent's tracestate, as
    // ShouldSample would keep it.
    const uint8_t fixed = state.FixedDecision(parent);
    if (fixed == internal::ProviderState::kNotFixed) [[unlikely]] {
      return StartSampled(storage, name, options, parent, trace_id, span_id);
    }
    const uint8_t flags = SampledFlags(static_cast<SamplingDecision>(fixed));
    if (fixed == static_cast<uint8_t>(SamplingDecision::kDrop)) {
      return MakeNonRecording(storage, context_with(flags));
    }
    std::unique_ptr<SpanData> data = NewSpanData(state, scope_, name, parent, has_parent, trace_id,
                                                 span_id, flags, options, fill);
    return StartRecording(storage, context_with(flags), std::move(data), options);
  } catch (...) {
    // Out of memory: fall back to a non-recording span (or null if even that fails).
    try {
      return MakeNonRecording(storage, SpanContext(trace_id, span_id, 0, false));
    } catch (...) {
      return nullptr;
    }
  }
}

void Tracer::CallOnStart(Span& span, const StartSpanOptions& options) const noexcept {
  const Context& context =
      options.context != nullptr ? *options.context : internal::CurrentContextRef();
  for (SpanProcessor* processor : state_->on_start) processor->OnStart(span, context);
}

// A sampler without a fixed decision: ShouldSample decides, and may set the tracestate.
Span* Tracer::StartSampled(void* storage, std::string_view name, const StartSpanOptions& options,
                           const SpanContext& parent, const TraceId& trace_id,
                           const SpanId& span_id) {
  internal::ProviderState& state = *state_;
  SamplingResult result = state.sampler->ShouldSample(parent, trace_id, name, options.kind);
  const uint8_t flags = SampledFlags(result.decision);
  SpanContext span_context(trace_id, span_id, flags, false, std::move(result.trace_state));
  if (result.decision == SamplingDecision::kDrop)
    return MakeNonRecording(storage, std::move(span_context));
  return StartRecording(
      storage, std::move(span_context),
      NewSpanData(state, scope_, name, parent, parent.IsValid(), trace_id, span_id, flags, options,
                  {options.fill_attributes, options.fill_source}),
      options);
}

std::optional<SamplingDecision> Tracer::FixedSamplingDecision(
    const SpanContext* parent) const noexcept {
  const internal::ProviderState& state = *state_;
  // acquire: as in StartSpan.
  if (state.shut_down.load(std::memory_order_acquire)) return SamplingDecision::kDrop;
  const SpanContext& p = parent != nullptr ? *parent : Context::CurrentSpanContext();
  const uint8_t fixed = state.FixedDecision(p);
  if (fixed == internal::ProviderState::kNotFixed) return std::nullopt;
  return static_cast<SamplingDecision>(fixed);
}

}  // namespace vllora::otel
