#include "vllora/collector/sqlite_span_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../collector_view/test_db.h"  // the contract's DDL of schema version 1

namespace vllora::collector {
namespace {

class SqliteSpanStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/vllora-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    path_ = (dir_ / "spans.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `sql` and returns the first column of every row as text ("NULL" for NULL).
  std::vector<std::string> Query(const std::string& sql) {
    sqlite3* db = nullptr;
    std::vector<std::string> out;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out.push_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  static SpanRow Row(const std::string& span_id) {
    SpanRow row;
    row.trace_id = "0af76519-16cd-43dd-8448-eb211c80319c";
    row.span_id = span_id;
    row.operation_name = "op";
    row.start_time_us = 10;
    row.finish_time_us = 20;
    row.attribute = R"({"a":1})";
    row.tenant = "t";
    row.kind = 1;
    row.status_code = 2;
    return row;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteSpanStoreTest, FreshDatabaseGetsSchemaVersion3AndWal) {
  std::string error;
  auto store = SqliteSpanStore::Open({.path = path_}, &error);
  ASSERT_NE(store, nullptr) << error;
  store->Close();
  EXPECT_EQ(Query("PRAGMA user_version"), std::vector<std::string>{"3"});
  EXPECT_EQ(Query("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(Query("SELECT sql FROM sqlite_master WHERE type='index' AND name LIKE 'traces_%' "
                  "ORDER BY name"),
            (std::vector<std::string>{
                "CREATE INDEX traces_run_id ON traces(run_id) WHERE run_id IS NOT NULL",
                "CREATE INDEX traces_run_start ON traces(start_time_us) WHERE run_id IS NOT NULL",
                "CREATE INDEX traces_thread_id ON traces(thread_id) WHERE thread_id IS NOT NULL"}));
  EXPECT_EQ(Query("SELECT group_concat(name, ',') FROM pragma_table_info('traces')"),
            std::vector<std::string>{
                "trace_id,span_id,parent_span_id,thread_id,operation_name,start_time_us,"
                "finish_time_us,attribute,run_id,project_id,tenant,label,tags,kind,status_code,"
                "status_message,events,resource,scope_name,received_at_us"});
}

TEST_F(SqliteSpanStoreTest, ReopenIsANoOpAndKeepsRows) {
  {
    auto store = SqliteSpanStore::Open({.path = path_});
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->Write({Row("1")}).ok);
  }
  const auto schema_before = Query("SELECT sql FROM sqlite_master ORDER BY name");
  std::string error;
  auto store = SqliteSpanStore::Open({.path = path_}, &error);
  ASSERT_NE(store, nullptr) << error;
  store->Close();
  EXPECT_EQ(Query("SELECT sql FROM sqlite_master ORDER BY name"), schema_before);
  EXPECT_EQ(Query("PRAGMA user_version"), std::vector<std::string>{"3"});
  EXPECT_EQ(Query("SELECT span_id FROM traces"), std::vector<std::string>{"1"});
}

TEST_F(SqliteSpanStoreTest, Version1DatabaseIsMigratedKeepingItsRows) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, collector_view::testing::kSchemaV1, nullptr, nullptr, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO traces VALUES ('0af76519-16cd-43dd-8448-eb211c80319c', "
                           "'7', NULL, 'th', 'op', 1, 2, '{}', 'run', NULL, 't', NULL, NULL, 0, "
                           "0, NULL, '[]', '{}', NULL, 3)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::string error;
  auto store = SqliteSpanStore::Open({.path = path_}, &error);
  ASSERT_NE(store, nullptr) << error;
  SpanRow with_run = Row("8");
  with_run.run_id = "run";
  EXPECT_TRUE(store->Write({with_run, Row("9")}).ok);
  store->Close();
  EXPECT_EQ(Query("PRAGMA user_version"), std::vector<std::string>{"3"});
  EXPECT_EQ(Query("SELECT sql FROM sqlite_master WHERE name = 'traces_run_id'"),
            std::vector<std::string>{
                "CREATE INDEX traces_run_id ON traces(run_id) WHERE run_id IS NOT NULL"});
  EXPECT_EQ(Query("SELECT sql FROM sqlite_master WHERE name = 'traces_thread_id'"),
            std::vector<std::string>{
                "CREATE INDEX traces_thread_id ON traces(thread_id) WHERE thread_id IS NOT NULL"});
  // The old row survives, and the partial index answers lookups by value.
  EXPECT_EQ(Query("SELECT span_id FROM traces INDEXED BY traces_run_id WHERE run_id = 'run' "
                  "ORDER BY rowid"),
            (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(Query("SELECT span_id FROM traces INDEXED BY traces_thread_id WHERE thread_id = 'th'"),
            std::vector<std::string>{"7"});
  EXPECT_EQ(Query("SELECT count(*) FROM traces"), std::vector<std::string>{"3"});
  // Version 3: the start index holds the rows with a run only.
  EXPECT_EQ(Query("SELECT count(*) FROM sqlite_master WHERE name = 'traces_start'"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(Query("SELECT span_id FROM traces INDEXED BY traces_run_start WHERE run_id IS NOT "
                  "NULL ORDER BY start_time_us DESC, rowid DESC"),
            (std::vector<std::string>{"8", "7"}));
}

TEST_F(SqliteSpanStoreTest, Version2DatabaseIsMigratedToVersion3) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, collector_view::testing::kSchemaV2, nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::string error;
  auto store = SqliteSpanStore::Open({.path = path_}, &error);
  ASSERT_NE(store, nullptr) << error;
  store->Close();
  EXPECT_EQ(Query("PRAGMA user_version"), std::vector<std::string>{"3"});
  EXPECT_EQ(Query("SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'traces_%' "
                  "ORDER BY name"),
            (std::vector<std::string>{"traces_run_id", "traces_run_start", "traces_thread_id"}));
}

TEST_F(SqliteSpanStoreTest, NewerSchemaIsRefused) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  std::string error;
  EXPECT_EQ(SqliteSpanStore::Open({.path = path_}, &error), nullptr);
  EXPECT_EQ(error,
            "database " + path_ + ": database schema version 7 is newer than this collector's (3)");
}

TEST_F(SqliteSpanStoreTest, UnwritableLocationFails) {
  std::string error;
  EXPECT_EQ(SqliteSpanStore::Open({.path = "/nonexistent-dir/x/spans.db"}, &error), nullptr);
  EXPECT_NE(error.find("/nonexistent-dir/x/spans.db"), std::string::npos) << error;
}

TEST_F(SqliteSpanStoreTest, RowsAreStoredExactlyAndDuplicatesIgnored) {
  auto store = SqliteSpanStore::Open({.path = path_});
  ASSERT_NE(store, nullptr);
  SpanRow full = Row("2");
  full.parent_span_id = "1";
  full.thread_id = "th";
  full.run_id = "run";
  full.project_id = "proj";
  full.label = "lbl";
  full.tags = R"({"x":"y"})";
  full.status_message = "msg";
  full.events = R"([{"name":"e","time_us":15,"attributes":{}}])";
  full.resource = R"({"service.name":"s"})";
  full.scope_name = "scope";
  WriteResult first = store->Write({Row("1"), full});
  EXPECT_TRUE(first.ok);
  EXPECT_EQ(first.inserted, 2u);
  SpanRow changed = Row("1");
  changed.operation_name = "second";
  WriteResult again = store->Write({changed, Row("3")});
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(again.inserted, 1u);
  store->Close();
  EXPECT_EQ(Query("SELECT span_id || '|' || operation_name FROM traces ORDER BY rowid"),
            (std::vector<std::string>{"1|op", "2|op", "3|op"}));
  EXPECT_EQ(Query("SELECT quote(parent_span_id) || '|' || quote(thread_id) || '|' || run_id || '|' "
                  "|| project_id || '|' || tenant || '|' || label || '|' || tags || '|' || kind || "
                  "'|' || status_code || '|' || status_message || '|' || events || '|' || resource "
                  "|| '|' || scope_name || '|' || start_time_us || '|' || finish_time_us || '|' || "
                  "attribute || '|' || (received_at_us > 1600000000000000) FROM traces WHERE "
                  "span_id = '2'"),
            std::vector<std::string>{
                R"('1'|'th'|run|proj|t|lbl|{"x":"y"}|1|2|msg|[{"name":"e","time_us":15,)"
                R"("attributes":{}}]|{"service.name":"s"}|scope|10|20|{"a":1}|1)"});
  EXPECT_EQ(Query("SELECT quote(parent_span_id) || quote(thread_id) || quote(tags) FROM traces "
                  "WHERE span_id = '1'"),
            std::vector<std::string>{"NULLNULLNULL"});
  EXPECT_EQ(store->Stats().rows_inserted, 3u);
  EXPECT_EQ(store->Stats().rows_ignored, 1u);
}

// The writer leaves a text parameter alone when it is bound to the same pointer and length (SQLite
// reads static text when the statement steps). The second request below reuses the first one's
// buffer (the store hands it back), with every slice at the same offset and of the same length but
// other bytes: each row must be stored with its own request's text, in both statements (64 + 6).
TEST_F(SqliteSpanStoreTest, ReusedBufferWithSameSlicesStoresTheNewText) {
  auto store = SqliteSpanStore::Open({.path = path_});
  ASSERT_NE(store, nullptr);
  const auto request = [](char c, int first_id) {
    std::vector<SpanRow> rows;
    for (int i = 0; i < 70; ++i) {
      SpanRow row = Row(std::to_string(first_id + i));
      row.trace_id.back() = c;
      row.tenant = std::string(4, c);
      row.resource = std::string(R"({"r":")") + c + "\"}";
      row.scope_name = std::string(3, c);
      rows.push_back(row);
    }
    return rows;
  };
  EXPECT_EQ(store->Write(request('a', 1000)).inserted, 70u);
  EXPECT_EQ(store->Write(request('b', 2000)).inserted, 70u);
  store->Close();
  std::vector<std::string> expected;
  for (int i = 0; i < 140; ++i) {
    const char c = i < 70 ? 'a' : 'b';
    expected.push_back(std::to_string(i < 70 ? 1000 + i : 2000 + i - 70) + "|" + std::string(4, c) +
                       R"(|{"r":")" + c + R"("}|)" + std::string(3, c) + "|" + c);
  }
  EXPECT_EQ(Query("SELECT span_id || '|' || tenant || '|' || resource || '|' || scope_name || '|' "
                  "|| substr(trace_id, 36) FROM traces ORDER BY rowid"),
            expected);
}

TEST_F(SqliteSpanStoreTest, WritesAfterCloseFailAtOnce) {
  auto store = SqliteSpanStore::Open({.path = path_});
  ASSERT_NE(store, nullptr);
  store->Close();
  const WriteResult result = store->Write({Row("1")});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "store is closed");
}

// Another connection (a process holding the database) keeps the write lock past the busy
// timeout: the write fails as retryable, so the collector tells the sender to retry (UNAVAILABLE
// / 503), and the same rows are stored once the lock is gone. A failure that cannot pass (a
// constraint the schema enforces) is not retryable.
TEST_F(SqliteSpanStoreTest, AWriteBlockedByAnotherConnectionFailsAsRetryableAndThenSucceeds) {
  auto store = SqliteSpanStore::Open({.path = path_, .busy_timeout_ms = 50});
  ASSERT_NE(store, nullptr);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  const WriteResult blocked = store->Write({Row("1"), Row("2")});
  EXPECT_FALSE(blocked.ok);
  EXPECT_TRUE(blocked.retryable);
  EXPECT_NE(blocked.error.find("locked"), std::string::npos) << blocked.error;
  EXPECT_EQ(blocked.inserted, 0u);

  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  const WriteResult retried = store->Write({Row("1"), Row("2")});
  EXPECT_TRUE(retried.ok) << retried.error;
  EXPECT_FALSE(retried.retryable);
  EXPECT_EQ(retried.inserted, 2u);

  // A trigger makes every insert fail the way a constraint would: not retryable.
  ASSERT_EQ(sqlite3_exec(other,
                         "CREATE TRIGGER refuse BEFORE INSERT ON traces BEGIN "
                         "SELECT RAISE(ABORT, 'refused by test'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);
  const WriteResult refused = store->Write({Row("3")});
  EXPECT_FALSE(refused.ok);
  EXPECT_FALSE(refused.retryable);
  EXPECT_NE(refused.error.find("refused by test"), std::string::npos) << refused.error;
  store->Close();
  EXPECT_EQ(Query("SELECT span_id FROM traces ORDER BY span_id"),
            (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(store->Stats().requests_failed, 2u);
}

// Rows waiting for the writer are bounded in bytes as well as in count. The writer is held up
// in its first commit (another connection has the write lock); it took request 1, perhaps with
// the next one. Of the 600 KiB requests that follow, the first left waiting is queued (a
// request is accepted when nothing waits) and every later one would pass the 1 MiB limit: it is
// refused at once, as retryable. Whatever the writer took, at least two are refused.
TEST_F(SqliteSpanStoreTest, PendingRowsAreBoundedInBytes) {
  auto store = SqliteSpanStore::Open(
      {.path = path_, .max_pending_bytes = 1u << 20, .busy_timeout_ms = 10000});
  ASSERT_NE(store, nullptr);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  std::vector<std::future<WriteResult>> results;
  std::vector<std::string> ids;
  const auto write = [&](const std::string& id, size_t attribute_bytes) {
    SpanRow row = Row(id);
    row.attribute = "{\"blob\":\"" + std::string(attribute_bytes, 'b') + "\"}";
    auto promise = std::make_shared<std::promise<WriteResult>>();
    results.push_back(promise->get_future());
    ids.push_back(id);
    store->WriteAsync({row}, [promise](const WriteResult& r) { promise->set_value(r); });
  };
  write("1", 1);
  for (const char* id : {"2", "3", "4", "5"}) write(id, 600 << 10);

  // Refusals are answered before WriteAsync returns; the accepted wait for the lock.
  std::vector<std::string> stored;
  std::vector<size_t> accepted;
  size_t refused = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      stored.push_back(ids[i]);
      accepted.push_back(i);
      continue;
    }
    const WriteResult result = results[i].get();
    EXPECT_FALSE(result.ok) << i;
    EXPECT_TRUE(result.retryable) << i;
    EXPECT_EQ(result.error, "store overloaded: too many bytes waiting for commit") << i;
    ++refused;
  }
  EXPECT_GE(refused, 2u);
  EXPECT_EQ(stored.front(), "1");

  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  for (size_t i : accepted) EXPECT_TRUE(results[i].get().ok) << i;
  store->Close();
  EXPECT_EQ(Query("SELECT span_id FROM traces ORDER BY span_id"), stored);
  EXPECT_EQ(store->Stats().requests_refused, refused);
}

TEST_F(SqliteSpanStoreTest, ManyConcurrentWritersAreGroupCommitted) {
  auto store = SqliteSpanStore::Open({.path = path_});
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(store->Write({Row(std::to_string(t * 1000 + i))}).ok);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  store->Close();
  EXPECT_EQ(Query("SELECT count(*) FROM traces"), std::vector<std::string>{"200"});
  EXPECT_LE(store->Stats().transactions, 200u);
}

// A request is inserted by statements of up to 64 rows each; 201 rows take 4 statements (64, 64,
// 64, 9). Every row must land exactly once, in order, and duplicates (inside the request, and of an
// earlier request) must be counted per request.
TEST_F(SqliteSpanStoreTest, LargeRequestsAreStoredInOrderWithExactCounts) {
  auto store = SqliteSpanStore::Open({.path = path_});
  ASSERT_NE(store, nullptr);
  std::vector<SpanRow> first;
  for (int i = 0; i < 200; ++i) {
    SpanRow row = Row(std::to_string(1000 + i));
    row.operation_name = "op" + std::to_string(i);
    row.start_time_us = i;
    if (i % 3 == 0) row.thread_id = "th" + std::to_string(i);
    first.push_back(row);
  }
  first.push_back(Row("1000"));  // duplicate inside the request: ignored
  const WriteResult a = store->Write(first);
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.inserted, 200u);
  std::vector<SpanRow> second;
  for (int i = 195; i < 240; ++i) second.push_back(Row(std::to_string(1000 + i)));  // 5 known
  const WriteResult b = store->Write(second);
  EXPECT_TRUE(b.ok);
  EXPECT_EQ(b.inserted, 40u);
  store->Close();
  EXPECT_EQ(Query("SELECT count(*) FROM traces"), std::vector<std::string>{"240"});
  const auto ids = Query("SELECT span_id FROM traces ORDER BY rowid");
  ASSERT_EQ(ids.size(), 240u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], std::to_string(1000 + i));
  EXPECT_EQ(
      Query("SELECT operation_name || '|' || start_time_us || '|' || quote(thread_id) FROM "
            "traces WHERE span_id IN ('1000', '1063', '1064', '1199', '1200') ORDER BY rowid"),
      (std::vector<std::string>{"op0|0|'th0'", "op63|63|'th63'", "op64|64|NULL", "op199|199|NULL",
                                "op|10|NULL"}));
  EXPECT_EQ(store->Stats().rows_inserted, 240u);
  EXPECT_EQ(store->Stats().rows_ignored, 6u);
}

// The WAL is checkpointed while the store writes (on the checkpointer's connection, or by the
// writer when the WAL grows past its limit), so it does not grow with the database: after 60 MiB
// of rows, the WAL is far smaller than the data, every row is readable, and Close() removes it.
TEST_F(SqliteSpanStoreTest, WalIsCheckpointedDuringWritesAndRemovedAtClose) {
  auto store = SqliteSpanStore::Open({.path = path_});
  ASSERT_NE(store, nullptr);
  const std::string big(2000, 'x');
  int id = 0;
  for (int request = 0; request < 100; ++request) {
    std::vector<SpanRow> rows;
    for (int i = 0; i < 300; ++i) {
      SpanRow row = Row(std::to_string(++id));
      row.attribute = R"({"payload":")" + big + R"("})";
      rows.push_back(std::move(row));
    }
    ASSERT_TRUE(store->Write(std::move(rows)).ok);
  }
  const std::string wal = path_ + "-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_LT(std::filesystem::file_size(wal), 48u << 20);
  EXPECT_GT(std::filesystem::file_size(path_), 48u << 20);
  EXPECT_EQ(Query("SELECT count(*) FROM traces"), std::vector<std::string>{"30000"});
  store->Close();
  store.reset();
  EXPECT_FALSE(std::filesystem::exists(wal));
  EXPECT_EQ(Query("SELECT count(*) FROM traces"), std::vector<std::string>{"30000"});
}

}  // namespace
}  // namespace vllora::collector
