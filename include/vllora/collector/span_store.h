// The storage side of the collector: a row per span, written in batches that are acknowledged only
// after they are durable (committed). The receiver (OTLP/gRPC and OTLP/HTTP) knows only this
// interface, the analogue of vLLora's SpanWriterTransport, so another store can replace SQLite
// without touching it. The SQLite implementation is in sqlite_span_store.h; the table layout is the
// database contract in docs/design/0004-collector.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vllora::collector {

/// One span as stored: the columns of the `traces` table except `received_at_us`, which the store
/// sets when it commits. JSON columns hold compact JSON text.
struct SpanRow {
  std::string trace_id;                       ///< UUID form, lowercase 8-4-4-4-12.
  std::string span_id;                        ///< Decimal u64 of the 8 big-endian bytes.
  std::optional<std::string> parent_span_id;  ///< Decimal u64; nullopt for a root span.
  std::optional<std::string> thread_id;       ///< vllora.thread_id
  std::string operation_name;                 ///< Span name.
  int64_t start_time_us = 0;
  int64_t finish_time_us = 0;
  std::string attribute = "{}";  ///< JSON object of the span attributes.
  std::optional<std::string> run_id;
  std::optional<std::string> project_id;
  std::string tenant = "default";
  std::optional<std::string> label;
  std::optional<std::string> tags;  ///< JSON object text.
  int64_t kind = 0;
  int64_t status_code = 0;
  std::optional<std::string> status_message;
  std::string events = "[]";    ///< JSON array.
  std::string resource = "{}";  ///< JSON object.
  std::optional<std::string> scope_name;
};

/// Rows packed for the writer: every text column is a slice of one text buffer (several rows may
/// share a slice, e.g. a resource's JSON), the integer columns are inline. The OTLP protobuf
/// receiver decodes straight into this form; SpanRow vectors are packed into it by Add().
struct SpanBatch {
  /// The text columns, in the order of the `traces` table.
  enum TextColumn : size_t {
    kTraceId,
    kSpanId,
    kParentSpanId,
    kThreadId,
    kOperationName,
    kAttribute,
    kRunId,
    kProjectId,
    kTenant,
    kLabel,
    kTags,
    kStatusMessage,
    kEvents,
    kResource,
    kScopeName,
    kTextColumns
  };
  struct Row {
    std::array<uint32_t, kTextColumns> offset{};  ///< Into `text`.
    std::array<int32_t, kTextColumns> length{};   ///< -1 = NULL.
    int64_t start_time_us = 0;
    int64_t finish_time_us = 0;
    int64_t kind = 0;
    int64_t status_code = 0;
  };
  /// The largest `text` (offsets and lengths are 32-bit).
  static constexpr size_t kMaxText = INT32_MAX;

  std::string text;
  std::vector<Row> rows;

  size_t size() const noexcept { return rows.size(); }
  bool empty() const noexcept { return rows.empty(); }
  /// Empties the batch, keeping its memory.
  void clear() noexcept {
    text.clear();
    rows.clear();
  }
  /// Appends `row`; false (and nothing appended) when the text would exceed kMaxText.
  bool Add(const SpanRow& row);
  /// The row `index` as a SpanRow (tests, stores that want strings).
  SpanRow Get(size_t index) const;
  /// Text of column `column` of row `index`; nullopt for NULL.
  std::optional<std::string_view> Text(size_t index, TextColumn column) const noexcept {
    const Row& row = rows[index];
    if (row.length[column] < 0) return std::nullopt;
    return std::string_view(text.data() + row.offset[column],
                            static_cast<size_t>(row.length[column]));
  }
};

/// Outcome of one write.
struct WriteResult {
  /// True when every row is committed (a row whose primary key already existed counts as
  /// committed: INSERT OR IGNORE).
  bool ok = false;
  /// Rows actually inserted (re-sent duplicates are not).
  size_t inserted = 0;
  /// Why the write failed; empty when ok.
  std::string error;
  /// True when the same write may succeed if sent again later: the store refused it because too
  /// much was pending, or SQLite was busy or locked past the busy timeout, out of disk space, or
  /// failed an I/O (the transaction was rolled back). The collector then answers UNAVAILABLE /
  /// 503, which OTLP exporters retry; other failures answer INTERNAL / 500, which they do not.
  bool retryable = false;
};

/// Where the collector writes spans.
/// Thread-safety: all members may be called from any thread.
class SpanStore {
 public:
  using Callback = std::function<void(const WriteResult&)>;

  virtual ~SpanStore() = default;

  /// Queues `rows`; `done` runs exactly once, after the rows are committed (or failed), on a thread
  /// of the store (keep it short). After Close(), or when the store is over its pending limit,
  /// `done` runs at once, on the caller's thread, with ok = false.
  /// Blocking: never waits for I/O.
  virtual void WriteAsync(SpanBatch rows, Callback done) = 0;

  /// Packs `rows` into a batch (NewBatch()) and writes it as WriteAsync(SpanBatch) does.
  void WriteAsync(const std::vector<SpanRow>& rows, Callback done);

  /// An empty batch to fill and pass to WriteAsync; a store may hand out the memory of batches it
  /// has committed. Thread-safety: any thread.
  virtual SpanBatch NewBatch() { return SpanBatch(); }

  /// Writes `rows` and waits for the commit. Blocking: until the commit.
  WriteResult Write(std::vector<SpanRow> rows);

  /// Commits what is pending, answers every waiting writer and stops accepting writes.
  /// Idempotent. Blocking: until the pending writes are committed.
  virtual void Close() = 0;
};

}  // namespace vllora::collector
