#include "vllora/collector/sqlite_span_store.h"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

namespace vllora::collector {

WriteResult SpanStore::Write(std::vector<SpanRow> rows) {
  std::promise<WriteResult> promise;
  std::future<WriteResult> future = promise.get_future();
  WriteAsync(std::move(rows), [&promise](const WriteResult& result) { promise.set_value(result); });
  return future.get();
}

namespace {

// Migration N takes the database from user_version N-1 to N and sets user_version = N itself
// (constant SQL text). Version 1 is the database contract.
constexpr const char* kMigrations[] = {
    R"sql(
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
)sql",
};
constexpr int kMigrationCount = static_cast<int>(std::size(kMigrations));
static_assert(kMigrationCount == kSchemaVersion);

constexpr const char* kInsertSql =
    "INSERT OR IGNORE INTO traces (trace_id, span_id, parent_span_id, thread_id, operation_name, "
    "start_time_us, finish_time_us, attribute, run_id, project_id, tenant, label, tags, kind, "
    "status_code, status_message, events, resource, scope_name, received_at_us) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

std::string SqliteError(sqlite3* db, const std::string& what) {
  return what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
}

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    *error = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
  }
  return true;
}

int UserVersion(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return version;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void BindText(sqlite3_stmt* stmt, int index, const std::string& text) {
  // SQLITE_STATIC: the row outlives the statement step that reads it.
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void BindOptional(sqlite3_stmt* stmt, int index, const std::optional<std::string>& text) {
  if (text) {
    BindText(stmt, index, *text);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

}  // namespace

struct SqliteSpanStore::Impl {
  struct Request {
    std::vector<SpanRow> rows;
    Callback done;
  };

  SqliteSpanStoreOptions options;
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Request> pending;  // guarded by mu
  size_t pending_rows = 0;      // guarded by mu
  bool closing = false;         // guarded by mu
  bool closed = false;          // guarded by mu
  SqliteSpanStoreStats stats;   // guarded by mu
  std::thread writer;

  ~Impl() {
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }

  bool Migrate(std::string* error) {
    const int version = UserVersion(db);
    if (version < 0) {
      *error = SqliteError(db, "cannot read user_version");
      return false;
    }
    if (version > kSchemaVersion) {
      *error = "database schema version " + std::to_string(version) +
               " is newer than this collector's (" + std::to_string(kSchemaVersion) + ")";
      return false;
    }
    for (int next = version + 1; next <= kSchemaVersion; ++next) {
      if (!Exec(db, "BEGIN IMMEDIATE", error)) return false;
      if (!Exec(db, kMigrations[next - 1], error)) {
        std::string ignored;
        Exec(db, "ROLLBACK", &ignored);
        *error = "schema migration to version " + std::to_string(next) + " failed: " + *error;
        return false;
      }
      if (!Exec(db, "COMMIT", error)) return false;
    }
    return true;
  }

  // Inserts every row of `batch` in one transaction. Returns false with `error` on failure (the
  // transaction is rolled back: all or nothing).
  bool Commit(std::deque<Request>& batch, std::vector<size_t>& inserted, std::string& error) {
    if (!Exec(db, "BEGIN IMMEDIATE", &error)) return false;
    const int64_t now = NowUs();
    inserted.assign(batch.size(), 0);
    for (size_t r = 0; r < batch.size(); ++r) {
      for (const SpanRow& row : batch[r].rows) {
        sqlite3_reset(insert);
        BindText(insert, 1, row.trace_id);
        BindText(insert, 2, row.span_id);
        BindOptional(insert, 3, row.parent_span_id);
        BindOptional(insert, 4, row.thread_id);
        BindText(insert, 5, row.operation_name);
        sqlite3_bind_int64(insert, 6, row.start_time_us);
        sqlite3_bind_int64(insert, 7, row.finish_time_us);
        BindText(insert, 8, row.attribute);
        BindOptional(insert, 9, row.run_id);
        BindOptional(insert, 10, row.project_id);
        BindText(insert, 11, row.tenant);
        BindOptional(insert, 12, row.label);
        BindOptional(insert, 13, row.tags);
        sqlite3_bind_int64(insert, 14, row.kind);
        sqlite3_bind_int64(insert, 15, row.status_code);
        BindOptional(insert, 16, row.status_message);
        BindText(insert, 17, row.events);
        BindText(insert, 18, row.resource);
        BindOptional(insert, 19, row.scope_name);
        sqlite3_bind_int64(insert, 20, now);
        if (sqlite3_step(insert) != SQLITE_DONE) {
          error = SqliteError(db, "insert failed");
          sqlite3_reset(insert);
          std::string ignored;
          Exec(db, "ROLLBACK", &ignored);
          return false;
        }
        inserted[r] += static_cast<size_t>(sqlite3_changes(db));
      }
    }
    sqlite3_reset(insert);
    sqlite3_clear_bindings(insert);
    if (!Exec(db, "COMMIT", &error)) {
      std::string ignored;
      Exec(db, "ROLLBACK", &ignored);
      return false;
    }
    return true;
  }

  void Run() {
    std::deque<Request> batch;
    std::vector<size_t> inserted;
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !pending.empty() || closing; });
        if (pending.empty()) return;  // closing and drained
        batch.swap(pending);
        pending_rows = 0;
      }
      std::string error;
      const bool ok = Commit(batch, inserted, error);
      size_t total_rows = 0;
      size_t total_inserted = 0;
      for (size_t r = 0; r < batch.size(); ++r) {
        total_rows += batch[r].rows.size();
        if (ok) total_inserted += inserted[r];
      }
      {
        std::lock_guard lock(mu);
        if (ok) {
          ++stats.transactions;
          stats.rows_inserted += total_inserted;
          stats.rows_ignored += total_rows - total_inserted;
        } else {
          stats.requests_failed += batch.size();
        }
      }
      for (size_t r = 0; r < batch.size(); ++r) {
        WriteResult result;
        result.ok = ok;
        result.inserted = ok ? inserted[r] : 0;
        result.error = error;
        if (batch[r].done) batch[r].done(result);
      }
      batch.clear();
    }
  }
};

SqliteSpanStore::SqliteSpanStore(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

std::unique_ptr<SqliteSpanStore> SqliteSpanStore::Open(const SqliteSpanStoreOptions& options,
                                                       std::string* error) noexcept {
  std::string local_error;
  std::string& err = error != nullptr ? *error : local_error;
  try {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    if (options.path.empty()) {
      err = "no database path";
      return nullptr;
    }
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(options.path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) {
      err = SqliteError(impl->db, "cannot open database " + options.path);
      return nullptr;
    }
    sqlite3_busy_timeout(impl->db, 5000);
    std::string exec_error;
    // journal_mode returns the resulting mode as a row; sqlite3_exec ignores it. A read-only or
    // unwritable location fails here or in the migration below.
    if (!Exec(impl->db, "PRAGMA journal_mode=WAL", &exec_error) ||
        !Exec(impl->db,
              options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
              &exec_error) ||
        !Exec(impl->db, "PRAGMA foreign_keys=OFF", &exec_error)) {
      err = "cannot configure database " + options.path + ": " + exec_error;
      return nullptr;
    }
    if (!impl->Migrate(&exec_error)) {
      err = "database " + options.path + ": " + exec_error;
      return nullptr;
    }
    if (sqlite3_prepare_v3(impl->db, kInsertSql, -1, SQLITE_PREPARE_PERSISTENT, &impl->insert,
                           nullptr) != SQLITE_OK) {
      err = SqliteError(impl->db, "cannot prepare insert");
      return nullptr;
    }
    Impl* raw = impl.get();
    impl->writer = std::thread([raw] { raw->Run(); });
    return std::unique_ptr<SqliteSpanStore>(new SqliteSpanStore(std::move(impl)));
  } catch (const std::exception& e) {
    err = e.what();
    return nullptr;
  }
}

SqliteSpanStore::~SqliteSpanStore() { Close(); }

void SqliteSpanStore::WriteAsync(std::vector<SpanRow> rows, Callback done) {
  WriteResult refused;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closing) {
      refused.error = "store is closed";
    } else if (impl_->pending_rows > 0 &&
               impl_->pending_rows + rows.size() > impl_->options.max_pending_rows) {
      refused.error = "store overloaded: too many rows waiting for commit";
      refused.overloaded = true;
      ++impl_->stats.requests_refused;
    } else {
      impl_->pending_rows += rows.size();
      impl_->pending.push_back({std::move(rows), std::move(done)});
      impl_->cv.notify_one();
      return;
    }
  }
  if (done) done(refused);
}

void SqliteSpanStore::Close() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closed) return;
    impl_->closing = true;
    impl_->closed = true;
    impl_->cv.notify_one();
  }
  if (impl_->writer.joinable()) impl_->writer.join();
}

SqliteSpanStoreStats SqliteSpanStore::Stats() const noexcept {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace vllora::collector
