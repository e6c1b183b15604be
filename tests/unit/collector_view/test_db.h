// Test helper: a collector database built by hand with the contract's DDL (schema version 3, 2 or
// 1), and the rows the collector stores for tracing_example's trace. Independent of src/collector.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vllora::collector_view::testing {

inline constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE traces (
  trace_id        TEXT    NOT NULL,
  span_id         TEXT    NOT NULL,
  parent_span_id  TEXT,
  thread_id       TEXT,
  operation_name  TEXT    NOT NULL,
  start_time_us   INTEGER NOT NULL,
  finish_time_us  INTEGER NOT NULL,
  attribute       TEXT    NOT NULL,
  run_id          TEXT,
  project_id      TEXT,
  tenant          TEXT    NOT NULL,
  label           TEXT,
  tags            TEXT,
  kind            INTEGER NOT NULL,
  status_code     INTEGER NOT NULL,
  status_message  TEXT,
  events          TEXT    NOT NULL,
  resource        TEXT    NOT NULL,
  scope_name      TEXT,
  received_at_us  INTEGER NOT NULL,
  PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX traces_run_id ON traces(run_id);
CREATE INDEX traces_thread_id ON traces(thread_id);
CREATE INDEX traces_start ON traces(start_time_us);
PRAGMA user_version = 1;
)sql";

// Version 2 (what the collector writes now): the run and thread indexes are partial.
inline constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE traces (
  trace_id        TEXT    NOT NULL,
  span_id         TEXT    NOT NULL,
  parent_span_id  TEXT,
  thread_id       TEXT,
  operation_name  TEXT    NOT NULL,
  start_time_us   INTEGER NOT NULL,
  finish_time_us  INTEGER NOT NULL,
  attribute       TEXT    NOT NULL,
  run_id          TEXT,
  project_id      TEXT,
  tenant          TEXT    NOT NULL,
  label           TEXT,
  tags            TEXT,
  kind            INTEGER NOT NULL,
  status_code     INTEGER NOT NULL,
  status_message  TEXT,
  events          TEXT    NOT NULL,
  resource        TEXT    NOT NULL,
  scope_name      TEXT,
  received_at_us  INTEGER NOT NULL,
  PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX traces_run_id ON traces(run_id) WHERE run_id IS NOT NULL;
CREATE INDEX traces_thread_id ON traces(thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX traces_start ON traces(start_time_us);
PRAGMA user_version = 2;
)sql";

inline constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE traces (
  trace_id        TEXT    NOT NULL,
  span_id         TEXT    NOT NULL,
  parent_span_id  TEXT,
  thread_id       TEXT,
  operation_name  TEXT    NOT NULL,
  start_time_us   INTEGER NOT NULL,
  finish_time_us  INTEGER NOT NULL,
  attribute       TEXT    NOT NULL,
  run_id          TEXT,
  project_id      TEXT,
  tenant          TEXT    NOT NULL,
  label           TEXT,
  tags            TEXT,
  kind            INTEGER NOT NULL,
  status_code     INTEGER NOT NULL,
  status_message  TEXT,
  events          TEXT    NOT NULL,
  resource        TEXT    NOT NULL,
  scope_name      TEXT,
  received_at_us  INTEGER NOT NULL,
  PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX traces_run_id ON traces(run_id) WHERE run_id IS NOT NULL;
CREATE INDEX traces_thread_id ON traces(thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX traces_run_start ON traces(start_time_us) WHERE run_id IS NOT NULL;
PRAGMA user_version = 3;
)sql";

/// A span to insert; run_id/thread_id default to the attributes' vllora.* values.
struct Row {
  std::string trace_id;
  std::string span_id;
  std::optional<std::string> parent_span_id;
  std::string name;
  int64_t start_us = 0;
  int64_t finish_us = 0;
  nlohmann::json attributes = nlohmann::json::object();
  int status_code = 0;
  std::optional<std::string> status_message;
  std::string raw_attribute;  ///< when set, stored instead of attributes.dump()
};

/// A Row with the common fields (the others keep their defaults).
inline Row MakeRow(std::string trace_id, std::string span_id, std::optional<std::string> parent,
                   std::string name, int64_t start_us, int64_t finish_us,
                   nlohmann::json attributes = nlohmann::json::object()) {
  Row row;
  row.trace_id = std::move(trace_id);
  row.span_id = std::move(span_id);
  row.parent_span_id = std::move(parent);
  row.name = std::move(name);
  row.start_us = start_us;
  row.finish_us = finish_us;
  row.attributes = std::move(attributes);
  return row;
}

/// A temporary database file (removed with its -wal/-shm files on destruction) and a writable
/// connection in WAL mode, like the collector's.
class TestDb {
 public:
  /// `schema_version` 0 creates nothing.
  explicit TestDb(int schema_version = 3) {
    char path[] = "/tmp/vllora-view-test-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp");
    ::close(fd);
    path_ = path;
    if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open");
    Exec("PRAGMA journal_mode=WAL");
    if (schema_version == 1) Exec(kSchemaV1);
    if (schema_version == 2) Exec(kSchemaV2);
    if (schema_version == 3) Exec(kSchemaV3);
  }
  ~TestDb() {
    sqlite3_close(db_);
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* db() const { return db_; }

  void Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error("sqlite: " + text + " in " + sql);
    }
  }

  void Insert(const Row& row) {
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "INSERT INTO traces (trace_id, span_id, parent_span_id, thread_id, operation_name, "
        "start_time_us, finish_time_us, attribute, run_id, project_id, tenant, label, tags, kind, "
        "status_code, status_message, events, resource, scope_name, received_at_us) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 'default', NULL, NULL, 1, ?10, ?11, '[]', "
        "'{}', 'tracing_example', ?7)";
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    auto text = [&](int i, const std::optional<std::string>& v) {
      if (v.has_value()) {
        sqlite3_bind_text(stmt, i, v->c_str(), -1, SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, i);
      }
    };
    auto attr = [&](const char* key) -> std::optional<std::string> {
      auto it = row.attributes.find(key);
      if (it == row.attributes.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    text(1, row.trace_id);
    text(2, row.span_id);
    text(3, row.parent_span_id);
    text(4, attr("vllora.thread_id"));
    text(5, row.name);
    sqlite3_bind_int64(stmt, 6, row.start_us);
    sqlite3_bind_int64(stmt, 7, row.finish_us);
    text(8, row.raw_attribute.empty() ? row.attributes.dump() : row.raw_attribute);
    text(9, attr("vllora.run_id"));
    sqlite3_bind_int(stmt, 10, row.status_code);
    text(11, row.status_message);
    const int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
  }

  void InsertAll(const std::vector<Row>& rows) {
    Exec("BEGIN");
    for (const Row& r : rows) Insert(r);
    Exec("COMMIT");
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

inline constexpr const char* kTraceId = "8f3a852b-dd52-494a-bf9e-3e3749593eb5";
inline constexpr const char* kRunId = "f9b6c0de-1d2e-4f3a-9b8c-7d6e5f4a3b2c";
inline constexpr const char* kThreadId = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";
inline constexpr int64_t kT0 = 1764000000000000;  // 2025-11-24T16:00:00Z

/// The 8 spans of tracing_example as the collector stores them (attribute shapes from
/// examples/common/agent_flow.cc and include/vllora/telemetry/values.h).
inline std::vector<Row> ExampleTrace(const std::string& trace_id = kTraceId,
                                     const std::string& run_id = kRunId, int64_t t0 = kT0) {
  using nlohmann::json;
  auto baggage = [&](json extra) {
    extra["vllora.run_id"] = run_id;
    extra["vllora.thread_id"] = kThreadId;
    extra["vllora.tenant"] = "default";
    return extra;
  };
  std::vector<Row> rows;
  rows.push_back(MakeRow(trace_id, "1001", std::nullopt, "execution", t0, t0 + 152200,
                         baggage({{"execution_id", 123}})));
  rows.push_back(MakeRow(trace_id, "1002", "1001", "run", t0 + 10, t0 + 152190,
                         baggage({{"tags", R"({"environment":"example"})"}})));
  rows.push_back(MakeRow(trace_id, "1003", "1002", "agent", t0 + 20, t0 + 152180,
                         baggage({{"vllora.agent_name", "research_assistant"}})));
  rows.push_back(MakeRow(trace_id, "1004", "1003", "task", t0 + 30, t0 + 152170,
                         baggage({{"vllora.task_name", "gather_information"}})));
  rows.push_back(
      MakeRow(trace_id, "1005", "1004", "api_invoke", t0 + 40, t0 + 152160,
              baggage({{"tags", R"({"session_id":"session456","user_id":"user123"})"}})));
  rows.push_back(MakeRow(
      trace_id, "1006", "1005", "model_call", t0 + 50, t0 + 152100,
      baggage(
          {{"input", "What is the capital of France?"},
           {"output", "The capital of France is Paris."},
           {"model", R"({"name":"gpt-4","provider_name":"openai"})"},
           {"provider_name", "openai"},
           {"model_name", "gpt-4"},
           {"inference_model_name", "gpt-4"},
           {"credentials_identifier", "own"},
           {"tags", R"({"model_type":"completion"})"},
           {"usage",
            R"({"input_tokens":10,"output_tokens":8,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0,"cache_creation_tokens":0,"audio_tokens":0},"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"is_cache_used":false})"},
           {"cost",
            R"({"cost":0.000301,"per_input_token":1,"per_cached_input_token":0.5,"per_cached_input_write_token":0,"per_output_token":3,"is_cache_used":false})"},
           {"ttft", 150}})));
  rows.push_back(MakeRow(
      trace_id, "1007", "1006", "openai", t0 + 100, t0 + 152000,
      baggage(
          {{"tags", R"({"provider":"openai"})"},
           {"retries_left", 0},
           {"request",
            R"({"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4o-mini","stream":true})"},
           {"usage", R"({"input_tokens":8,"output_tokens":9,"total_tokens":17})"},
           {"cost", 6.600000262260437e-6},
           {"ttft", 843129}})));
  rows.push_back(MakeRow(trace_id, "1008", "1007", "tool", t0 + 101700, t0 + 152000,
                         baggage({{"vllora.tool_name", "search_web"},
                                  {"tags", R"({"tool_type":"function"})"},
                                  {"input", "search query: Paris"},
                                  {"output", "Search results..."}})));
  return rows;
}

}  // namespace vllora::collector_view::testing
