#include "vllora/collector/sqlite_span_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace vllora::collector {

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
    // Version 2: the run and thread indexes hold only rows that have a run / thread (most spans
    // of a busy collector have neither; a NULL entry cost a b-tree insert per row and served no
    // query: the viewer looks these columns up by value or groups WHERE ... IS NOT NULL).
    R"sql(
DROP INDEX traces_run_id;
DROP INDEX traces_thread_id;
CREATE INDEX traces_run_id ON traces(run_id) WHERE run_id IS NOT NULL;
CREATE INDEX traces_thread_id ON traces(thread_id) WHERE thread_id IS NOT NULL;
PRAGMA user_version = 2;
)sql",
    // Version 3: the start-time index holds only rows that have a run. Its one reader is the
    // viewer's `show --run latest` (WHERE run_id IS NOT NULL ORDER BY start_time_us DESC), which
    // this partial index serves the same way; every other query looks rows up by trace or run.
    // A row without a run no longer costs an index insert (~13% of the writer per row).
    R"sql(
DROP INDEX traces_start;
CREATE INDEX traces_run_start ON traces(start_time_us) WHERE run_id IS NOT NULL;
PRAGMA user_version = 3;
)sql",
};
constexpr int kMigrationCount = static_cast<int>(std::size(kMigrations));
static_assert(kMigrationCount == kSchemaVersion);

// Rows per INSERT statement: one statement step inserts up to this many rows (its cursors on the
// table and its four indexes are opened once, not once per row). 20 parameters per row (1,280 per
// statement, far below SQLite's 32,766). 64 rows took 1.2% fewer writer instructions per row
// than 32.
constexpr size_t kRowsPerStatement = 64;
constexpr int kColumnsPerRow = 20;

// WAL size at which a checkpoint is started (SQLite's default is 1000 pages of 4 KiB), and beyond
// which the writer checkpoints itself.
constexpr int64_t kCheckpointBytes = 4 << 20;
constexpr int64_t kMaxWalBytes = 32 << 20;

// Packed request buffers kept for reuse: how many, and the largest text kept.
constexpr size_t kMaxSpareBuffers = 8;
constexpr size_t kMaxSpareText = 2 << 20;

// What a request waiting for the writer holds: its text and its rows' offsets (as allocated).
size_t PendingBytes(const SpanBatch& rows) noexcept {
  return rows.text.capacity() + rows.rows.capacity() * sizeof(SpanBatch::Row);
}

// Whether a committed (or refused) batch's memory is small enough to keep for the next one.
bool KeepAsSpare(const SpanBatch& rows) noexcept {
  return rows.text.capacity() <= kMaxSpareText &&
         rows.rows.capacity() * sizeof(SpanBatch::Row) <= kMaxSpareText;
}

// "INSERT OR IGNORE INTO traces (...) VALUES (?,...),(?,...)" for `rows` rows (constant text
// built from the column list; no data is ever part of SQL text).
std::string InsertSql(size_t rows) {
  std::string sql =
      "INSERT OR IGNORE INTO traces (trace_id, span_id, parent_span_id, thread_id, "
      "operation_name, start_time_us, finish_time_us, attribute, run_id, project_id, tenant, "
      "label, tags, kind, status_code, status_message, events, resource, scope_name, "
      "received_at_us) VALUES ";
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ',';
    sql += "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  }
  return sql;
}

// A failure that may pass if the same write is tried again later: another connection held the
// lock past the busy timeout, the disk was full, or an I/O failed.
bool IsTransient(int code) {
  switch (code & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
      return true;
    default:
      return false;
  }
}

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

// The integer a PRAGMA returns, -1 on error.
int PragmaInt(sqlite3* db, const char* pragma) {
  sqlite3_stmt* stmt = nullptr;
  int value = -1;
  if (sqlite3_prepare_v2(db, pragma, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return value;
}

int UserVersion(sqlite3* db) { return PragmaInt(db, "PRAGMA user_version"); }

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A prepared multi-row INSERT and what its parameters hold. Bindings survive sqlite3_reset, so a
// parameter that already holds the NULL, integer or static text to bind is left as it is: most of
// a row's NULL columns, its kind and status, the commit time and its shared text slices repeat
// from one statement step to the next, and each sqlite3_bind_* call costs ~60-80 instructions
// (~200 for a text: the old value is released and the new one checked).
class InsertStatement {
 public:
  InsertStatement() = default;
  InsertStatement(const InsertStatement&) = delete;
  InsertStatement& operator=(const InsertStatement&) = delete;
  ~InsertStatement() { sqlite3_finalize(stmt_); }

  // Prepares the statement for `rows` rows; false on error (sqlite3_errmsg has the reason).
  bool Prepare(sqlite3* db, size_t rows) {
    const std::string sql = InsertSql(rows);
    if (sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
      return false;
    }
    const size_t parameters = rows * static_cast<size_t>(kColumnsPerRow) + 1;  // 1-based
    bound_.assign(parameters, Bound{});
    return true;
  }

  sqlite3_stmt* get() const noexcept { return stmt_; }

  void BindNull(int index) {
    Bound& bound = bound_[static_cast<size_t>(index)];
    if (bound.state == State::kNull) return;
    bound.state = sqlite3_bind_null(stmt_, index) == SQLITE_OK ? State::kNull : State::kOther;
  }
  void BindInt(int index, int64_t value) {
    Bound& bound = bound_[static_cast<size_t>(index)];
    if (bound.state == State::kInt && bound.value == value) return;
    bound.state =
        sqlite3_bind_int64(stmt_, index, value) == SQLITE_OK ? State::kInt : State::kOther;
    bound.value = value;
  }
  // SQLITE_STATIC: the text must outlive the statement step that reads it. SQLite keeps only the
  // pointer and length of a static text and reads the bytes when the statement steps, so a
  // parameter that already holds this pointer and length is left as it is: it reads the same
  // bytes (whatever they held when it was bound). Rows of a request share the slices of their
  // resource, scope, tenant, and often trace id and events, so most of a row's text parameters
  // repeat from one statement step to the next.
  void BindText(int index, const char* text, int length) {
    Bound& bound = bound_[static_cast<size_t>(index)];
    if (bound.state == State::kText && bound.text == text && bound.value == length) return;
    bound.state = sqlite3_bind_text(stmt_, index, text, length, SQLITE_STATIC) == SQLITE_OK
                      ? State::kText
                      : State::kOther;
    bound.text = text;
    bound.value = length;
  }

 private:
  enum class State : uint8_t { kOther, kNull, kInt, kText };
  sqlite3_stmt* stmt_ = nullptr;
  // What a parameter holds (by parameter index).
  struct Bound {
    const char* text = nullptr;  // kText: the pointer
    int64_t value = 0;           // kInt: the value; kText: the length
    State state = State::kOther;
  };
  std::vector<Bound> bound_;
};

}  // namespace

namespace {

// The statement parameter (1-based, within a row) of each text column, in SpanBatch order.
constexpr std::array<int, SpanBatch::kTextColumns> kTextParameter = {1,  2,  3,  4,  5,  8,  9, 10,
                                                                     11, 12, 13, 16, 17, 18, 19};

// Binds row `r` of `batch` to the parameters after `base`.
void BindRow(InsertStatement& insert, int base, const SpanBatch& batch, size_t r, int64_t now) {
  const SpanBatch::Row& row = batch.rows[r];
  for (size_t c = 0; c < SpanBatch::kTextColumns; ++c) {
    const int index = base + kTextParameter[c];
    if (row.length[c] < 0) {
      insert.BindNull(index);
    } else {
      // The text outlives the statement step that reads it.
      insert.BindText(index, batch.text.data() + row.offset[c], row.length[c]);
    }
  }
  insert.BindInt(base + 6, row.start_time_us);
  insert.BindInt(base + 7, row.finish_time_us);
  insert.BindInt(base + 14, row.kind);
  insert.BindInt(base + 15, row.status_code);
  insert.BindInt(base + 20, now);
}

}  // namespace

struct SqliteSpanStore::Impl {
  struct Request {
    SpanBatch rows;
    Callback done;
  };

  SqliteSpanStoreOptions options;
  sqlite3* db = nullptr;
  // inserts[n - 1] inserts n rows; prepared when first needed (writer thread only).
  std::array<std::unique_ptr<InsertStatement>, kRowsPerStatement> inserts;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Request> pending;  // guarded by mu
  // Buffers of committed requests, reused by the next WriteAsync calls (no fresh memory, and its
  // page faults, per request). Bounded in number and size.
  std::vector<SpanBatch> spare;  // guarded by mu
  size_t pending_rows = 0;       // guarded by mu
  size_t pending_bytes = 0;      // guarded by mu
  bool closing = false;          // guarded by mu
  bool closed = false;           // guarded by mu
  SqliteSpanStoreStats stats;    // guarded by mu
  std::thread writer;

  // Checkpoints run on their own thread and connection, so the writer only appends to the WAL.
  // The writer's WAL hook asks for one when the WAL holds kCheckpointBytes; beyond kMaxWalBytes
  // (the checkpointer cannot keep up, or the WAL could never be restarted because it is never
  // fully checkpointed between two write transactions) the writer checkpoints itself.
  sqlite3* checkpoint_db = nullptr;
  std::mutex checkpoint_mu;
  std::mutex checkpoint_run_mu;  // held while a checkpoint runs (either thread)
  std::condition_variable checkpoint_cv;
  bool checkpoint_wanted = false;   // guarded by checkpoint_mu
  bool checkpoint_closing = false;  // guarded by checkpoint_mu
  std::thread checkpointer;
  int64_t page_size = 4096;

  ~Impl() {
    for (auto& insert : inserts) insert.reset();
    // The checkpointer's connection first: the last connection to close checkpoints and removes
    // the WAL.
    sqlite3_close(checkpoint_db);
    sqlite3_close(db);
  }

  static int WalHook(void* arg, sqlite3* connection, const char* name, int frames) {
    auto* self = static_cast<Impl*>(arg);
    const int64_t bytes = static_cast<int64_t>(frames) * self->page_size;
    if (bytes >= kMaxWalBytes || self->checkpoint_db == nullptr) {
      if (bytes >= kCheckpointBytes) {
        // Waits for a checkpoint the checkpointer is running (two checkpoints cannot run at
        // once; a PASSIVE one would just give up), then copies what it left: afterwards the WAL
        // is fully checkpointed and the next write transaction restarts it from the beginning.
        std::lock_guard running(self->checkpoint_run_mu);
        sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      }
    } else if (bytes >= kCheckpointBytes) {
      std::lock_guard lock(self->checkpoint_mu);
      self->checkpoint_wanted = true;
      self->checkpoint_cv.notify_one();
    }
    return SQLITE_OK;
  }

  void RunCheckpointer() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu);
        checkpoint_cv.wait(lock, [&] { return checkpoint_wanted || checkpoint_closing; });
        if (checkpoint_closing) return;
        checkpoint_wanted = false;
      }
      // PASSIVE: copies what no reader still needs, never blocks the writer or readers. A
      // failure (e.g. SQLITE_BUSY) is retried at the next request.
      std::lock_guard running(checkpoint_run_mu);
      sqlite3_wal_checkpoint_v2(checkpoint_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
  }

  void StopCheckpointer() {
    {
      std::lock_guard lock(checkpoint_mu);
      checkpoint_closing = true;
      checkpoint_cv.notify_one();
    }
    if (checkpointer.joinable()) checkpointer.join();
  }

  InsertStatement* Insert(size_t rows) {
    std::unique_ptr<InsertStatement>& insert = inserts[rows - 1];
    if (insert == nullptr) {
      auto prepared = std::make_unique<InsertStatement>();
      if (!prepared->Prepare(db, rows)) return nullptr;
      insert = std::move(prepared);
    }
    return insert.get();
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
  // transaction is rolled back: all or nothing), and `retryable` when the failure may pass (see
  // IsTransient).
  bool Commit(std::deque<Request>& batch, std::vector<size_t>& inserted, std::string& error,
              bool& retryable) {
    retryable = false;
    // Read before the ROLLBACK, which resets the connection's error code.
    const auto fail = [&](std::string message) {
      retryable = IsTransient(sqlite3_errcode(db));
      error = std::move(message);
      std::string ignored;
      Exec(db, "ROLLBACK", &ignored);
      return false;
    };
    std::string begin_error;  // its ROLLBACK finds no transaction: a harmless, ignored error
    if (!Exec(db, "BEGIN IMMEDIATE", &begin_error)) return fail(std::move(begin_error));
    const int64_t now = NowUs();
    inserted.assign(batch.size(), 0);
    for (size_t r = 0; r < batch.size(); ++r) {
      const SpanBatch& rows = batch[r].rows;
      // A statement never spans two requests, so its changes count belongs to one request.
      for (size_t first = 0; first < rows.rows.size(); first += kRowsPerStatement) {
        const size_t count = std::min(kRowsPerStatement, rows.rows.size() - first);
        InsertStatement* insert = Insert(count);
        if (insert == nullptr) return fail(SqliteError(db, "cannot prepare insert"));
        for (size_t k = 0; k < count; ++k) {
          BindRow(*insert, static_cast<int>(k) * kColumnsPerRow, rows, first + k, now);
        }
        const int step = sqlite3_step(insert->get());
        sqlite3_reset(insert->get());
        if (step != SQLITE_DONE) return fail(SqliteError(db, "insert failed"));
        inserted[r] += static_cast<size_t>(sqlite3_changes(db));
      }
    }
    std::string commit_error;
    if (!Exec(db, "COMMIT", &commit_error)) return fail(std::move(commit_error));
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
        // What was taken no longer waits.
        for (const Request& request : batch) {
          pending_rows -= request.rows.rows.size();
          pending_bytes -= PendingBytes(request.rows);
        }
      }
      std::string error;
      bool retryable = false;
      const bool ok = Commit(batch, inserted, error, retryable);
      size_t total_rows = 0;
      size_t total_inserted = 0;
      for (size_t r = 0; r < batch.size(); ++r) {
        total_rows += batch[r].rows.rows.size();
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
        for (Request& request : batch) {
          if (spare.size() < kMaxSpareBuffers && KeepAsSpare(request.rows)) {
            request.rows.clear();
            spare.push_back(std::move(request.rows));
          }
        }
      }
      for (size_t r = 0; r < batch.size(); ++r) {
        WriteResult result;
        result.ok = ok;
        result.inserted = ok ? inserted[r] : 0;
        result.error = error;
        result.retryable = retryable;
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
    sqlite3_busy_timeout(impl->db, options.busy_timeout_ms);
    std::string exec_error;
    // journal_mode returns the resulting mode as a row; sqlite3_exec ignores it. A read-only or
    // unwritable location fails here or in the migration below.
    // 16 KiB pages for a new database (an existing one keeps its size): fewer WAL frames per
    // commit than 4 KiB; less than 64 KiB to checksum and copy for each index leaf a commit
    // touches, and cheaper page splits (B5 writer: -5% instructions per row against 64 KiB).
    if (!Exec(impl->db, "PRAGMA page_size=16384", &exec_error) ||
        !Exec(impl->db, "PRAGMA journal_mode=WAL", &exec_error) ||
        !Exec(impl->db,
              options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
              &exec_error) ||
        !Exec(impl->db, "PRAGMA foreign_keys=OFF", &exec_error) ||
        !Exec(impl->db, "PRAGMA cache_size=-16384", &exec_error)) {
      err = "cannot configure database " + options.path + ": " + exec_error;
      return nullptr;
    }
    if (!impl->Migrate(&exec_error)) {
      err = "database " + options.path + ": " + exec_error;
      return nullptr;
    }
    // The statements the writer uses for sure, prepared now so that an error shows at Open.
    if (impl->Insert(1) == nullptr || impl->Insert(kRowsPerStatement) == nullptr) {
      err = SqliteError(impl->db, "cannot prepare insert");
      return nullptr;
    }
    impl->page_size = PragmaInt(impl->db, "PRAGMA page_size");
    Impl* raw = impl.get();
    // The checkpointer is an optimization: without its connection the writer checkpoints itself.
    if (sqlite3_open_v2(options.path.c_str(), &impl->checkpoint_db, flags, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(impl->checkpoint_db, options.busy_timeout_ms);
      // Reading the journal mode opens the database on this connection (a checkpoint on a
      // connection that has not is a no-op); the checkpoint syncs as the writer's setting says.
      std::string ignored;
      Exec(impl->checkpoint_db, "PRAGMA journal_mode=WAL", &ignored);
      Exec(impl->checkpoint_db,
           options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
           &ignored);
      impl->checkpointer = std::thread([raw] { raw->RunCheckpointer(); });
    } else {
      sqlite3_close(impl->checkpoint_db);
      impl->checkpoint_db = nullptr;
    }
    sqlite3_wal_hook(impl->db, &Impl::WalHook, raw);
    impl->writer = std::thread([raw] { raw->Run(); });
    return std::unique_ptr<SqliteSpanStore>(new SqliteSpanStore(std::move(impl)));
  } catch (const std::exception& e) {
    err = e.what();
    return nullptr;
  }
}

SqliteSpanStore::~SqliteSpanStore() { Close(); }

SpanBatch SqliteSpanStore::NewBatch() {
  std::lock_guard lock(impl_->mu);
  if (impl_->spare.empty()) return SpanBatch();
  SpanBatch batch = std::move(impl_->spare.back());
  impl_->spare.pop_back();
  return batch;
}

void SqliteSpanStore::WriteAsync(SpanBatch rows, Callback done) {
  WriteResult refused;
  const size_t count = rows.size();
  const size_t bytes = PendingBytes(rows);
  {
    std::lock_guard lock(impl_->mu);
    // A request is accepted when nothing waits, however large: the limits bound what queues.
    const bool waiting = !impl_->pending.empty();
    if (impl_->closing) {
      refused.error = "store is closed";
    } else if (waiting && impl_->pending_rows + count > impl_->options.max_pending_rows) {
      refused.error = "store overloaded: too many rows waiting for commit";
      refused.retryable = true;
      ++impl_->stats.requests_refused;
    } else if (waiting && impl_->pending_bytes + bytes > impl_->options.max_pending_bytes) {
      refused.error = "store overloaded: too many bytes waiting for commit";
      refused.retryable = true;
      ++impl_->stats.requests_refused;
    } else {
      impl_->pending_rows += count;
      impl_->pending_bytes += bytes;
      impl_->pending.push_back(Impl::Request{std::move(rows), std::move(done)});
      impl_->cv.notify_one();
      return;
    }
    // A refused batch's memory is kept for the next one.
    if (impl_->spare.size() < kMaxSpareBuffers && KeepAsSpare(rows)) {
      rows.clear();
      impl_->spare.push_back(std::move(rows));
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
  impl_->StopCheckpointer();
}

SqliteSpanStoreStats SqliteSpanStore::Stats() const noexcept {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace vllora::collector
