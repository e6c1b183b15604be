#include "collector_view/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <utility>

namespace vllora::collector_view {

namespace {

// The span columns every span query selects, in SpanFromRow's order.
constexpr const char* kSpanColumns =
    "rowid, trace_id, span_id, parent_span_id, thread_id, operation_name, start_time_us, "
    "finish_time_us, attribute, run_id, status_code, status_message";

// vLLora's aggregates over the spans of a group (core/src/metadata/services/run.rs): llm_calls
// counts model_call spans; cost sums CAST(json_extract(attribute,'$.cost') AS REAL) over all
// spans; tokens sum usage.input_tokens / usage.output_tokens (usage holds JSON text) over the
// spans that are not model_call. Our additions: json_valid guards (vLLora's query fails on one
// malformed usage string) and an error count. Must agree with ComputeTotals (render.cc); a unit
// test checks both on the same rows.
constexpr const char* kAggregates =
    "SUM(CASE WHEN operation_name = 'model_call' THEN 1 ELSE 0 END), "
    "TOTAL(COALESCE(CAST(json_extract(a, '$.cost') AS REAL), 0)), "
    "SUM(CASE WHEN operation_name != 'model_call' AND json_valid(u) "
    "THEN COALESCE(CAST(json_extract(u, '$.input_tokens') AS INTEGER), 0) ELSE 0 END), "
    "SUM(CASE WHEN operation_name != 'model_call' AND json_valid(u) "
    "THEN COALESCE(CAST(json_extract(u, '$.output_tokens') AS INTEGER), 0) ELSE 0 END), "
    "SUM(CASE WHEN status_code = 2 OR json_extract(a, '$.error') IS NOT NULL THEN 1 ELSE 0 END)";

// The traces table with `a` (the attribute JSON, '{}' if it is not valid JSON) and `u` (the
// usage attribute's value).
constexpr const char* kSource =
    "(SELECT *, json_extract(a, '$.usage') AS u FROM "
    "(SELECT *, CASE WHEN json_valid(attribute) THEN attribute ELSE '{}' END AS a FROM traces))";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, std::string* error) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      if (error != nullptr) *error = sqlite3_errmsg(db);
      stmt_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  void Bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void Bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void BindNull(int index) { sqlite3_bind_null(stmt_, index); }
  /// SQLITE_ROW: a row is ready; false at the end or on error (then `*error` is set).
  bool Step(std::string* error) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE && error != nullptr) *error = sqlite3_errmsg(db_);
    failed_ = rc != SQLITE_DONE;
    return false;
  }
  bool failed() const { return failed_; }

  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return std::string();
    // sqlite3_column_text returns unsigned char*; the bytes are UTF-8 text.
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::optional<std::string> OptionalText(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return Text(col);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool failed_ = false;
};

SpanRow SpanFromRow(const Statement& s) {
  SpanRow row;
  row.rowid = s.Int(0);
  row.trace_id = s.Text(1);
  row.span_id = s.Text(2);
  row.parent_span_id = s.OptionalText(3);
  row.thread_id = s.OptionalText(4);
  row.operation_name = s.Text(5);
  row.start_time_us = s.Int(6);
  row.finish_time_us = s.Int(7);
  row.attributes = nlohmann::json::parse(s.Text(8), nullptr, /*allow_exceptions=*/false);
  if (!row.attributes.is_object()) row.attributes = nlohmann::json::object();
  row.run_id = s.OptionalText(9);
  row.status_code = static_cast<int>(s.Int(10));
  row.status_message = s.OptionalText(11);
  return row;
}

bool LoadSpans(Statement& stmt, std::vector<SpanRow>* out, std::string* error) {
  if (!stmt.ok()) return false;
  out->clear();
  while (stmt.Step(error)) out->push_back(SpanFromRow(stmt));
  return !stmt.failed();
}

}  // namespace

std::unique_ptr<ViewerDb> ViewerDb::Open(const std::string& path, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error =
        "database not found: " + path + " (start `vllora-collector serve --db " + path + "` first)";
    return nullptr;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<ViewerDb> db(new ViewerDb(raw));
  if (rc != SQLITE_OK) {
    *error =
        "cannot open " + path + ": " + (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory");
    return nullptr;
  }
  // The collector writes in WAL mode; its checkpoints can hold a lock for a moment.
  sqlite3_busy_timeout(raw, 5000);
  std::string detail;
  int64_t version = -1;
  {
    Statement stmt(raw, "PRAGMA user_version", &detail);
    if (!stmt.ok() || !stmt.Step(&detail)) {
      *error = path + " is not a vllora-collector database (" +
               (detail.empty() ? std::string("no user_version") : detail) + ")";
      return nullptr;
    }
    version = stmt.Int(0);
  }
  if (version < kMinSchemaVersion || version > kSchemaVersion) {
    *error = path + " is not a vllora-collector database of schema version " +
             std::to_string(kMinSchemaVersion) + " to " + std::to_string(kSchemaVersion) +
             " (user_version " + std::to_string(version) + ")";
    return nullptr;
  }
  Statement table(raw, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'traces'",
                  &detail);
  if (!table.ok() || !table.Step(&detail)) {
    *error = path + " is not a vllora-collector database (no traces table)";
    return nullptr;
  }
  return db;
}

ViewerDb::~ViewerDb() { sqlite3_close_v2(db_); }

bool ViewerDb::BeginRead(std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, &message) != SQLITE_OK) {
    if (error != nullptr) *error = message != nullptr ? message : "BEGIN failed";
    sqlite3_free(message);
    return false;
  }
  return true;
}

void ViewerDb::EndRead() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }

namespace {
// The SELECT columns ReadGroupTotals reads, after the group key (column 0).
std::string GroupTotalsColumns() {
  return std::string(
             "MIN(start_time_us), MAX(finish_time_us), COUNT(*), COUNT(DISTINCT trace_id), ") +
         kAggregates;
}

GroupTotals ReadGroupTotals(const Statement& stmt) {
  GroupTotals t;
  t.start_us = stmt.Int(1);
  t.finish_us = stmt.Int(2);
  t.spans = stmt.Int(3);
  t.traces = stmt.Int(4);
  t.llm_calls = stmt.Int(5);
  t.cost = stmt.Real(6);
  t.input_tokens = stmt.Int(7);
  t.output_tokens = stmt.Int(8);
  t.errors = stmt.Int(9);
  return t;
}
constexpr int kAfterGroupTotals = 10;  // the first column after them
}  // namespace

bool ViewerDb::ListRuns(int64_t limit, std::vector<RunSummary>* out, std::string* error) {
  Statement stmt(db_,
                 "SELECT run_id, " + GroupTotalsColumns() + " FROM " + kSource +
                     " WHERE run_id IS NOT NULL GROUP BY run_id"
                     " ORDER BY MIN(start_time_us) DESC, run_id LIMIT ?1",
                 error);
  if (!stmt.ok()) return false;
  stmt.Bind(1, limit);
  out->clear();
  while (stmt.Step(error)) out->push_back(RunSummary{stmt.Text(0), ReadGroupTotals(stmt)});
  return !stmt.failed();
}

bool ViewerDb::ListThreads(int64_t limit, std::vector<ThreadSummary>* out, std::string* error) {
  Statement stmt(db_,
                 "SELECT thread_id, " + GroupTotalsColumns() + ", COUNT(DISTINCT run_id) FROM " +
                     kSource +
                     " WHERE thread_id IS NOT NULL GROUP BY thread_id"
                     " ORDER BY MAX(finish_time_us) DESC, thread_id LIMIT ?1",
                 error);
  if (!stmt.ok()) return false;
  stmt.Bind(1, limit);
  out->clear();
  while (stmt.Step(error)) {
    out->push_back(ThreadSummary{stmt.Text(0), stmt.Int(kAfterGroupTotals), ReadGroupTotals(stmt)});
  }
  return !stmt.failed();
}

bool ViewerDb::ListTraces(int64_t limit, std::vector<TraceSummary>* out, std::string* error) {
  Statement stmt(
      db_,
      "SELECT t.trace_id, MIN(t.start_time_us), MAX(t.finish_time_us), COUNT(*), "
      "SUM(CASE WHEN t.status_code = 2 OR (json_valid(t.attribute) AND "
      "json_extract(t.attribute, '$.error') IS NOT NULL) THEN 1 ELSE 0 END), "
      "(SELECT r.operation_name FROM traces r WHERE r.trace_id = t.trace_id "
      " ORDER BY r.parent_span_id IS NOT NULL, r.start_time_us, r.span_id LIMIT 1), "
      "(SELECT r.run_id FROM traces r WHERE r.trace_id = t.trace_id AND r.run_id IS NOT NULL "
      " ORDER BY r.start_time_us, r.span_id LIMIT 1) "
      "FROM traces t GROUP BY t.trace_id ORDER BY MIN(t.start_time_us) DESC, t.trace_id "
      "LIMIT ?1",
      error);
  if (!stmt.ok()) return false;
  stmt.Bind(1, limit);
  out->clear();
  while (stmt.Step(error)) {
    TraceSummary t;
    t.trace_id = stmt.Text(0);
    t.start_us = stmt.Int(1);
    t.finish_us = stmt.Int(2);
    t.spans = stmt.Int(3);
    t.errors = stmt.Int(4);
    t.root_name = stmt.Text(5);
    t.run_id = stmt.OptionalText(6);
    out->push_back(std::move(t));
  }
  return !stmt.failed();
}

bool ViewerDb::LoadTrace(const std::string& trace_id, std::vector<SpanRow>* out,
                         std::string* error) {
  Statement stmt(db_,
                 std::string("SELECT ") + kSpanColumns +
                     " FROM traces WHERE trace_id = ?1 ORDER BY start_time_us, span_id",
                 error);
  if (!stmt.ok()) return false;
  stmt.Bind(1, trace_id);
  return LoadSpans(stmt, out, error);
}

bool ViewerDb::LoadRunTraces(const std::string& run_id, std::vector<SpanRow>* out,
                             std::string* error) {
  Statement stmt(db_,
                 std::string("SELECT ") + kSpanColumns +
                     " FROM traces WHERE trace_id IN "
                     "(SELECT DISTINCT trace_id FROM traces WHERE run_id = ?1) "
                     "ORDER BY start_time_us, span_id",
                 error);
  if (!stmt.ok()) return false;
  stmt.Bind(1, run_id);
  return LoadSpans(stmt, out, error);
}

bool ViewerDb::LoadAfter(int64_t after_rowid, const std::optional<std::string>& run_id,
                         int64_t limit, std::vector<SpanRow>* out, std::string* error) {
  Statement stmt(db_,
                 std::string("SELECT ") + kSpanColumns +
                     " FROM traces WHERE rowid > ?1 AND (?2 IS NULL OR run_id = ?2) "
                     "ORDER BY rowid LIMIT ?3",
                 error);
  if (!stmt.ok()) return false;
  stmt.Bind(1, after_rowid);
  if (run_id.has_value()) {
    stmt.Bind(2, *run_id);
  } else {
    stmt.BindNull(2);
  }
  stmt.Bind(3, limit);
  return LoadSpans(stmt, out, error);
}

bool ViewerDb::MaxRowid(int64_t* out, std::string* error) {
  Statement stmt(db_, "SELECT COALESCE(MAX(rowid), 0) FROM traces", error);
  if (!stmt.ok() || !stmt.Step(error)) return false;
  *out = stmt.Int(0);
  return true;
}

bool ViewerDb::LatestRunId(std::optional<std::string>* out, std::string* error) {
  Statement stmt(db_,
                 "SELECT run_id FROM traces WHERE run_id IS NOT NULL "
                 "ORDER BY start_time_us DESC, rowid DESC LIMIT 1",
                 error);
  if (!stmt.ok()) return false;
  *out = std::nullopt;
  if (stmt.Step(error)) *out = stmt.Text(0);
  return !stmt.failed();
}

}  // namespace vllora::collector_view
