// SqliteSpanStore: the collector's default SpanStore, one SQLite database file in WAL mode.
//
// One writer thread owns the connection. It takes every write request pending at that moment,
// inserts all their rows in one transaction with multi-row prepared INSERTs (up to 32 rows per
// statement, never spanning two requests; group commit), commits, and only then completes each
// request: an acknowledged span is in the database file. WAL checkpoints run on a separate
// thread with its own connection; the writer checkpoints itself only past a WAL size bound.
// Durability: WAL with synchronous=NORMAL (default) survives a crash of the collector process
// (the committed WAL frames are in the OS page cache); with `synchronous_full` every commit is
// fsync'ed and also survives power loss. See docs/design/0004-collector.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vllora/collector/span_store.h"

namespace vllora::collector {

/// The schema version this build writes (`PRAGMA user_version`).
inline constexpr int kSchemaVersion = 3;

/// Settings of a SqliteSpanStore.
struct SqliteSpanStoreOptions {
  /// Database file; created with its directory's permissions when missing.
  std::string path;
  /// PRAGMA synchronous=FULL (fsync each commit) instead of NORMAL.
  bool synchronous_full = false;
  /// Write requests waiting for the writer beyond this many rows are refused (overloaded,
  /// retryable).
  size_t max_pending_rows = 1'000'000;
  /// ... or beyond this many bytes of rows (their text and offsets): a few rows can be large.
  size_t max_pending_bytes = size_t{512} << 20;
  /// How long a write waits for a lock another connection holds (a reader's checkpoint, another
  /// process) before it fails as retryable (WriteResult::retryable).
  int busy_timeout_ms = 5000;
};

/// Counters of a store since it was opened.
struct SqliteSpanStoreStats {
  uint64_t transactions = 0;
  uint64_t rows_inserted = 0;
  uint64_t rows_ignored = 0;  ///< Duplicates (same trace_id, span_id).
  uint64_t requests_refused = 0;
  uint64_t requests_failed = 0;
};

/// A SpanStore on one SQLite file.
/// Thread-safety: all members may be called from any thread.
class SqliteSpanStore final : public SpanStore {
 public:
  /// Opens (or creates) the database, applies the schema migrations up to kSchemaVersion and
  /// starts the writer thread. Returns nullptr and a one-line reason in `*error` when the file
  /// cannot be opened or written, or when its schema version is newer than this build's.
  /// Blocking: opens the file and runs the migrations. Never throws.
  static std::unique_ptr<SqliteSpanStore> Open(const SqliteSpanStoreOptions& options,
                                               std::string* error = nullptr) noexcept;

  ~SqliteSpanStore() override;  ///< Close(), then closes the database.
  SqliteSpanStore(const SqliteSpanStore&) = delete;
  SqliteSpanStore& operator=(const SqliteSpanStore&) = delete;

  using SpanStore::WriteAsync;
  void WriteAsync(SpanBatch rows, Callback done) override;
  SpanBatch NewBatch() override;
  void Close() override;

  SqliteSpanStoreStats Stats() const noexcept;

 private:
  struct Impl;
  explicit SqliteSpanStore(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vllora::collector
