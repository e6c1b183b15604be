#include "vllora/collector/span_store.h"

#include <future>
#include <string_view>
#include <utility>

namespace vllora::collector {
namespace {

// Text columns of a SpanRow in SpanBatch::TextColumn order (nullptr = NULL).
template <typename F>
void ForEachText(const SpanRow& row, F&& f) {
  const auto optional = [](const std::optional<std::string>& value) {
    return value ? &*value : nullptr;
  };
  f(&row.trace_id);
  f(&row.span_id);
  f(optional(row.parent_span_id));
  f(optional(row.thread_id));
  f(&row.operation_name);
  f(&row.attribute);
  f(optional(row.run_id));
  f(optional(row.project_id));
  f(&row.tenant);
  f(optional(row.label));
  f(optional(row.tags));
  f(optional(row.status_message));
  f(&row.events);
  f(&row.resource);
  f(optional(row.scope_name));
}

}  // namespace

bool SpanBatch::Add(const SpanRow& row) {
  size_t total = 0;
  ForEachText(row, [&](const std::string* value) {
    if (value != nullptr) total += value->size();
  });
  if (total > kMaxText || text.size() > kMaxText - total) return false;
  // A text equal to the previous row's in the same column shares its slice (the resource, scope,
  // tenant, events, trace id ... of a request's rows): less text to copy, and the writer leaves a
  // statement parameter that already holds the slice as it is. Span ids and attributes are
  // nearly always different and are not compared.
  const Row* previous = rows.empty() ? nullptr : &rows.back();
  Row out;
  size_t column = 0;
  ForEachText(row, [&](const std::string* value) {
    if (value == nullptr) {
      out.offset[column] = static_cast<uint32_t>(text.size());
      out.length[column] = -1;
    } else if (previous != nullptr && column != kSpanId && column != kAttribute &&
               previous->length[column] == static_cast<int32_t>(value->size()) &&
               std::string_view(text.data() + previous->offset[column], value->size()) == *value) {
      out.offset[column] = previous->offset[column];
      out.length[column] = previous->length[column];
    } else {
      out.offset[column] = static_cast<uint32_t>(text.size());
      out.length[column] = static_cast<int32_t>(value->size());
      text += *value;
    }
    ++column;
  });
  out.start_time_us = row.start_time_us;
  out.finish_time_us = row.finish_time_us;
  out.kind = row.kind;
  out.status_code = row.status_code;
  rows.push_back(out);
  return true;
}

SpanRow SpanBatch::Get(size_t index) const {
  const auto text_of = [&](TextColumn column) { return std::string(*Text(index, column)); };
  const auto optional_of = [&](TextColumn column) -> std::optional<std::string> {
    const auto value = Text(index, column);
    if (!value) return std::nullopt;
    return std::string(*value);
  };
  SpanRow row;
  row.trace_id = text_of(kTraceId);
  row.span_id = text_of(kSpanId);
  row.parent_span_id = optional_of(kParentSpanId);
  row.thread_id = optional_of(kThreadId);
  row.operation_name = text_of(kOperationName);
  row.attribute = text_of(kAttribute);
  row.run_id = optional_of(kRunId);
  row.project_id = optional_of(kProjectId);
  row.tenant = text_of(kTenant);
  row.label = optional_of(kLabel);
  row.tags = optional_of(kTags);
  row.status_message = optional_of(kStatusMessage);
  row.events = text_of(kEvents);
  row.resource = text_of(kResource);
  row.scope_name = optional_of(kScopeName);
  const Row& packed = rows[index];
  row.start_time_us = packed.start_time_us;
  row.finish_time_us = packed.finish_time_us;
  row.kind = packed.kind;
  row.status_code = packed.status_code;
  return row;
}

void SpanStore::WriteAsync(const std::vector<SpanRow>& rows, Callback done) {
  SpanBatch batch = NewBatch();
  batch.rows.reserve(rows.size());
  for (const SpanRow& row : rows) {
    if (!batch.Add(row)) {
      WriteResult refused;
      refused.error = "write request too large";
      if (done) done(refused);
      return;
    }
  }
  WriteAsync(std::move(batch), std::move(done));
}

WriteResult SpanStore::Write(std::vector<SpanRow> rows) {
  std::promise<WriteResult> promise;
  std::future<WriteResult> future = promise.get_future();
  WriteAsync(rows, [&promise](const WriteResult& result) { promise.set_value(result); });
  return future.get();
}

}  // namespace vllora::collector
