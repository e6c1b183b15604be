// Read-only access to the collector's SQLite database for the viewer: opens it read-only (the
// collector may be writing: WAL readers see the last committed transaction, and a busy timeout
// covers checkpoints), checks `PRAGMA user_version`, and runs the viewer's queries, all as
// prepared statements with bound parameters.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector_view/render.h"

struct sqlite3;

namespace vllora::collector_view {

/// The database schema versions the viewer reads (the collector's `PRAGMA user_version`). Both
/// have the same table and columns; version 2 only makes the run and thread indexes partial
/// (rows with a NULL run_id / thread_id are not in them), which the viewer's queries do not see.
inline constexpr int kMinSchemaVersion = 1;
inline constexpr int kSchemaVersion = 3;

/// The aggregates every grouping of spans (a run, a thread) shows, computed in SQL as vLLora
/// does (see kAggregates in store.cc).
struct GroupTotals {
  int64_t start_us = 0;
  int64_t finish_us = 0;
  int64_t spans = 0;
  int64_t traces = 0;
  int64_t llm_calls = 0;
  double cost = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t errors = 0;
};

/// One line of `runs`.
struct RunSummary {
  std::string run_id;
  GroupTotals totals;
};

/// One line of `threads`.
struct ThreadSummary {
  std::string thread_id;
  int64_t runs = 0;
  GroupTotals totals;
};

/// One line of `traces`.
struct TraceSummary {
  std::string trace_id;
  std::string root_name;  ///< the earliest span without a parent (else the earliest span)
  std::optional<std::string> run_id;
  int64_t start_us = 0;
  int64_t finish_us = 0;
  int64_t spans = 0;
  int64_t errors = 0;
};

/// A read-only connection. Thread-safety: one thread at a time.
class ViewerDb {
 public:
  /// Opens `path` read-only. Errors (nullptr and `*error`): the file does not exist, is not an
  /// SQLite database, has no `traces` table, or its user_version is not in
  /// [kMinSchemaVersion, kSchemaVersion].
  static std::unique_ptr<ViewerDb> Open(const std::string& path, std::string* error);
  ~ViewerDb();
  ViewerDb(const ViewerDb&) = delete;
  ViewerDb& operator=(const ViewerDb&) = delete;

  /// The most recent runs (by start), at most `limit`.
  bool ListRuns(int64_t limit, std::vector<RunSummary>* out, std::string* error);
  /// The most recent threads (by last activity), at most `limit`.
  bool ListThreads(int64_t limit, std::vector<ThreadSummary>* out, std::string* error);
  /// The most recent traces (by start), at most `limit`.
  bool ListTraces(int64_t limit, std::vector<TraceSummary>* out, std::string* error);

  /// Every span of one trace.
  bool LoadTrace(const std::string& trace_id, std::vector<SpanRow>* out, std::string* error);
  /// Every span of every trace that has a span of run `run_id` (whole trees, even spans outside
  /// the run; totals are computed on the run's own spans).
  bool LoadRunTraces(const std::string& run_id, std::vector<SpanRow>* out, std::string* error);
  /// Spans with rowid > `after_rowid` in rowid order, at most `limit`; only those of `run_id`
  /// when it is set.
  bool LoadAfter(int64_t after_rowid, const std::optional<std::string>& run_id, int64_t limit,
                 std::vector<SpanRow>* out, std::string* error);
  /// The largest rowid (0 for an empty table).
  bool MaxRowid(int64_t* out, std::string* error);
  /// The id of the run that started last (nullopt when there is none).
  bool LatestRunId(std::optional<std::string>* out, std::string* error);

  /// BEGIN / COMMIT: queries between them see one snapshot.
  bool BeginRead(std::string* error);
  void EndRead();

 private:
  explicit ViewerDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace vllora::collector_view
