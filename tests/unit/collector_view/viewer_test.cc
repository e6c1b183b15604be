// The viewer's commands on databases built with the contract's DDL: exact text, JSON, totals
// (SQL and C++ agree), errors and exit codes, reading while a writer holds a transaction,
// --follow, and the CLI11 wiring.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "collector_view/commands.h"
#include "collector_view/store.h"
#include "collector_view/viewer_cli.h"
#include "unit/collector_view/test_db.h"

namespace vllora::collector_view {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::kRunId;
using testing::kTraceId;
using testing::MakeRow;
using testing::TestDb;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

template <class Options, class Fn>
Result Call(Fn command, const Options& options) {
  std::ostringstream out, err;
  Result r;
  r.code = command(options, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

ShowOptions ShowRun(const std::string& db, const std::string& run_id) {
  ShowOptions o;
  o.common.db_path = db;
  o.run_id = run_id;
  return o;
}

ListOptions List(const std::string& db) {
  ListOptions o;
  o.common.db_path = db;
  return o;
}

constexpr const char* kExampleTree =
    "trace 8f3a852b-dd52-494a-bf9e-3e3749593eb5  8 spans  152.2 ms  started "
    "2025-11-24T16:00:00.000Z\n"
    "execution                    152.2 ms  ██████████████████████████████\n"
    "└─ run                       152.2 ms  ██████████████████████████████\n"
    "   └─ agent                  152.2 ms  ██████████████████████████████  "
    "agent=research_assistant\n"
    "      └─ task                152.1 ms  ██████████████████████████████  "
    "task=gather_information\n"
    "         └─ api_invoke       152.1 ms  ██████████████████████████████\n"
    "            └─ model_call    152.1 ms  ██████████████████████████████  model=gpt-4  "
    "provider=openai  tokens_in=10  tokens_out=8  cost=$0.000301  ttft=150 µs\n"
    "               └─ openai     151.9 ms  ██████████████████████████████  model=gpt-4o-mini  "
    "tokens_in=8  tokens_out=9  cost=$0.0000066  ttft=843.1 ms\n"
    "                  └─ tool     50.3 ms  ····················██████████  tool=search_web\n";

TEST(CollectorViewShowTest, RunOfTheExampleAsATreeWithVlloraTotals) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  const Result r = Call(ShowCommand, ShowRun(db.path(), kRunId));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // Totals as vLLora computes them: one model_call; tokens of the non-model_call spans (the
  // openai span's 8 + 9); cost = the numeric `cost` values (the openai span's double; the
  // model_call's cost is a JSON object and counts 0).
  EXPECT_EQ(r.out, std::string(kExampleTree) +
                       "\nrun f9b6c0de-1d2e-4f3a-9b8c-7d6e5f4a3b2c: 8 spans  152.2 ms  "
                       "llm_calls=1  tokens_in=8  tokens_out=9  cost=$0.0000066  errors=0\n");
}

TEST(CollectorViewShowTest, SchemaVersion1DatabaseReadsTheSame) {
  // A database of an older collector (full run/thread indexes) is read as it is.
  TestDb db(/*schema_version=*/1);
  db.InsertAll(testing::ExampleTrace());
  const Result r = Call(ShowCommand, ShowRun(db.path(), kRunId));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kExampleTree) +
                       "\nrun f9b6c0de-1d2e-4f3a-9b8c-7d6e5f4a3b2c: 8 spans  152.2 ms  "
                       "llm_calls=1  tokens_in=8  tokens_out=9  cost=$0.0000066  errors=0\n");
}

TEST(CollectorViewShowTest, TraceByIdInAnySpelling) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  for (const std::string& id :
       {std::string(kTraceId), std::string("8F3A852BDD52494ABF9E3E3749593EB5")}) {
    ShowOptions o;
    o.common.db_path = db.path();
    o.trace_id = id;
    const Result r = Call(ShowCommand, o);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, std::string(kExampleTree) +
                         "\ntrace 8f3a852b-dd52-494a-bf9e-3e3749593eb5: 8 spans  152.2 ms  "
                         "llm_calls=1  tokens_in=8  tokens_out=9  cost=$0.0000066  errors=0\n");
  }
}

TEST(CollectorViewShowTest, JsonIsOneDocumentWithTheTreeAndTotals) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  ShowOptions o = ShowRun(db.path(), "latest");
  o.common.json = true;
  const Result r = Call(ShowCommand, o);
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["run_id"], kRunId);
  ASSERT_EQ(doc["traces"].size(), 1u);
  const json& trace = doc["traces"][0];
  EXPECT_EQ(trace["trace_id"], kTraceId);
  EXPECT_EQ(trace["span_count"], 8);
  EXPECT_EQ(trace["duration_us"], 152200);
  // The chain, each the only child of the previous one.
  const std::vector<std::string> chain = {"execution",  "run",        "agent",  "task",
                                          "api_invoke", "model_call", "openai", "tool"};
  ASSERT_EQ(trace["spans"].size(), 1u);
  const json* node = &trace["spans"][0];
  std::string parent;
  for (size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ((*node)["name"], chain[i]);
    EXPECT_EQ((*node)["span_id"], std::to_string(1001 + i));
    EXPECT_EQ((*node)["parent_span_id"], i == 0 ? json() : json(parent));
    EXPECT_EQ((*node)["orphan"], false);
    EXPECT_EQ((*node)["run_id"], kRunId);
    parent = (*node)["span_id"];
    if (i + 1 < chain.size()) {
      ASSERT_EQ((*node)["children"].size(), 1u) << chain[i];
      node = &(*node)["children"][0];
    } else {
      EXPECT_TRUE((*node)["children"].empty());
    }
  }
  EXPECT_EQ((*node)["attributes"]["vllora.tool_name"], "search_web");
  EXPECT_EQ((*node)["duration_us"], 50300);
  const json& totals = doc["totals"];
  EXPECT_EQ(totals["spans"], 8);
  EXPECT_EQ(totals["llm_calls"], 1);
  EXPECT_EQ(totals["input_tokens"], 8);
  EXPECT_EQ(totals["output_tokens"], 9);
  EXPECT_DOUBLE_EQ(totals["cost"].get<double>(), 6.600000262260437e-6);
  EXPECT_EQ(totals["errors"], 0);
}

TEST(CollectorViewShowTest, RunTotalsCountOnlyTheRunsSpansButTreesAreWhole) {
  TestDb db;
  std::vector<testing::Row> rows = testing::ExampleTrace();
  // The execution span belongs to no run; an orphan of the run arrives in another trace.
  rows[0].attributes.erase("vllora.run_id");
  rows[0].attributes["cost"] = "5";
  testing::Row orphan = MakeRow("11111111-2222-4333-8444-555555555555", "77", "76", "model_call",
                                testing::kT0 + 200000, testing::kT0 + 250000,
                                {{"vllora.run_id", kRunId}, {"error", "timeout"}});
  rows.push_back(orphan);
  db.InsertAll(rows);
  const Result r = Call(ShowCommand, ShowRun(db.path(), kRunId));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("execution                    152.2 ms"));
  EXPECT_THAT(r.out,
              HasSubstr("trace 11111111-2222-4333-8444-555555555555  1 span  50.0 ms  started "
                        "2025-11-24T16:00:00.200Z\n"
                        "model_call     50.0 ms  ██████████████████████████████  "
                        "[orphan: parent 76 not found]  error=\"timeout\"\n"));
  EXPECT_THAT(r.out, HasSubstr("run f9b6c0de-1d2e-4f3a-9b8c-7d6e5f4a3b2c: 8 spans  250.0 ms  "
                               "llm_calls=2  tokens_in=8  tokens_out=9  cost=$0.0000066  "
                               "errors=1\n  error: \"timeout\"\n"));
}

// The SQL aggregates of `runs` / `threads` and ComputeTotals of `show` agree on every shape.
TEST(CollectorViewListTest, SqlTotalsAgreeWithShowTotals) {
  TestDb db;
  std::vector<testing::Row> rows = testing::ExampleTrace();
  const std::string trace = "22222222-2222-4222-8222-222222222222";
  auto extra = [&](std::string id, std::string name, json attributes) {
    attributes["vllora.run_id"] = kRunId;
    attributes["vllora.thread_id"] = testing::kThreadId;
    rows.push_back(
        MakeRow(trace, id, "1", name, testing::kT0 + 1000, testing::kT0 + 2000, attributes));
  };
  rows.push_back(MakeRow(trace, "1", std::nullopt, "api_invoke", testing::kT0 + 500,
                         testing::kT0 + 3000,
                         {{"vllora.run_id", kRunId},
                          {"vllora.thread_id", testing::kThreadId},
                          {"cost", "0.0025"},
                          {"usage", R"({"input_tokens":100,"output_tokens":20})"}}));
  extra("2", "tool", {{"cost", " 1.5abc"}, {"usage", "not json"}, {"error", "x"}});
  extra("3", "tool", {{"cost", true}, {"usage", R"({"input_tokens":2.9,"output_tokens":"4"})"}});
  extra("4", "openai", {{"cost", "{\"cost\":1}"}, {"usage", {{"input_tokens", 7}}}});
  extra("5", "model_call", {{"usage", R"({"input_tokens":1000})"}, {"cost", 0.25}});
  extra("6", "tool", {{"cost", json::array({1})}, {"usage", R"([1])"}});
  db.InsertAll(rows);
  testing::Row broken = MakeRow(trace, "7", "1", "tool", testing::kT0, testing::kT0 + 1);
  broken.raw_attribute = "{not json";
  broken.attributes["vllora.run_id"] = kRunId;  // the run_id column still says so
  db.Insert(broken);

  ListOptions list = List(db.path());
  list.common.json = true;
  const Result runs = Call(RunsCommand, list);
  ASSERT_EQ(runs.code, 0) << runs.err;
  ShowOptions show = ShowRun(db.path(), kRunId);
  show.common.json = true;
  const Result shown = Call(ShowCommand, show);
  ASSERT_EQ(shown.code, 0) << shown.err;
  const json run = json::parse(runs.out)["runs"][0];
  const json totals = json::parse(shown.out)["totals"];
  EXPECT_EQ(run["spans"], 15);
  EXPECT_EQ(totals["spans"], 15);
  for (const char* key : {"llm_calls", "input_tokens", "output_tokens", "errors"}) {
    EXPECT_EQ(run[key], totals[key]) << key;
  }
  EXPECT_DOUBLE_EQ(run["cost"].get<double>(), totals["cost"].get<double>());
  EXPECT_EQ(totals["llm_calls"], 2);
  EXPECT_EQ(totals["input_tokens"], 8 + 100 + 2 + 7);
  EXPECT_EQ(totals["output_tokens"], 9 + 20 + 4);
  EXPECT_DOUBLE_EQ(totals["cost"].get<double>(), 6.600000262260437e-6 + 0.0025 + 1.5 + 1 + 0.25);
  EXPECT_EQ(totals["errors"], 1);

  const Result threads = Call(ThreadsCommand, list);
  ASSERT_EQ(threads.code, 0) << threads.err;
  const json thread = json::parse(threads.out)["threads"][0];
  EXPECT_EQ(thread["thread_id"], testing::kThreadId);
  EXPECT_EQ(thread["spans"], 14);  // the broken row has no thread_id
  EXPECT_EQ(thread["runs"], 1);
  EXPECT_EQ(thread["traces"], 2);
  EXPECT_EQ(thread["input_tokens"], totals["input_tokens"]);
  EXPECT_DOUBLE_EQ(thread["cost"].get<double>(), totals["cost"].get<double>());
}

TEST(CollectorViewListTest, RunsThreadsTracesAsTables) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  db.InsertAll(testing::ExampleTrace("33333333-3333-4333-8333-333333333333",
                                     "44444444-4444-4444-8444-444444444444",
                                     testing::kT0 + 60000000));
  const Result runs = Call(RunsCommand, List(db.path()));
  ASSERT_EQ(runs.code, 0) << runs.err;
  EXPECT_EQ(runs.out,
            "RUN_ID                                START                     DURATION  TRACES  "
            "SPANS  LLM_CALLS  TOKENS_IN  TOKENS_OUT        COST  ERRORS\n"
            "44444444-4444-4444-8444-444444444444  2025-11-24T16:01:00.000Z  152.2 ms       1      "
            "8          1          8           9  $0.0000066       0\n"
            "f9b6c0de-1d2e-4f3a-9b8c-7d6e5f4a3b2c  2025-11-24T16:00:00.000Z  152.2 ms       1      "
            "8          1          8           9  $0.0000066       0\n");
  ListOptions one = List(db.path());
  one.limit = 1;
  const Result traces = Call(TracesCommand, one);
  ASSERT_EQ(traces.code, 0) << traces.err;
  EXPECT_EQ(traces.out,
            "TRACE_ID                              ROOT       START                     DURATION  "
            "SPANS  ERRORS\n"
            "33333333-3333-4333-8333-333333333333  execution  2025-11-24T16:01:00.000Z  152.2 ms  "
            "    8       0\n");
  const Result threads = Call(ThreadsCommand, List(db.path()));
  ASSERT_EQ(threads.code, 0) << threads.err;
  EXPECT_EQ(threads.out,
            "THREAD_ID                             FIRST                     LAST               "
            "       RUNS  TRACES  SPANS  LLM_CALLS  TOKENS_IN  TOKENS_OUT        COST  ERRORS\n"
            "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5  2025-11-24T16:00:00.000Z  "
            "2025-11-24T16:01:00.152Z     2       2     16          2         16          18  "
            "$0.0000132       0\n");
}

TEST(CollectorViewListTest, EmptyDatabase) {
  TestDb db;
  EXPECT_EQ(Call(RunsCommand, List(db.path())).out.substr(0, 6), "RUN_ID");
  EXPECT_THAT(Call(RunsCommand, List(db.path())).out, HasSubstr("(no runs)\n"));
  EXPECT_THAT(Call(TracesCommand, List(db.path())).out, HasSubstr("(no traces)\n"));
  ListOptions json_list = List(db.path());
  json_list.common.json = true;
  EXPECT_EQ(json::parse(Call(ThreadsCommand, json_list).out), json({{"threads", json::array()}}));
}

TEST(CollectorViewErrorTest, MissingDatabase) {
  const Result r = Call(RunsCommand, List("/nonexistent/dir/traces.db"));
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "vllora-collector: database not found: /nonexistent/dir/traces.db (start "
            "`vllora-collector serve --db /nonexistent/dir/traces.db` first)\n");
}

TEST(CollectorViewErrorTest, WrongSchemaVersionOrNotADatabase) {
  {
    TestDb db(/*schema_version=*/0);
    db.Exec("CREATE TABLE traces (x)");  // user_version 0
    const Result r = Call(TracesCommand, List(db.path()));
    EXPECT_EQ(r.code, kExitError);
    EXPECT_EQ(r.err, "vllora-collector: " + db.path() +
                         " is not a vllora-collector database of schema version 1 to 3 "
                         "(user_version 0)\n");
  }
  {
    TestDb db(/*schema_version=*/0);
    db.Exec("PRAGMA user_version = 4");
    EXPECT_THAT(Call(TracesCommand, List(db.path())).err, HasSubstr("(user_version 4)"));
  }
  {
    TestDb db(/*schema_version=*/0);
    db.Exec("PRAGMA user_version = 1");
    const Result r = Call(TracesCommand, List(db.path()));
    EXPECT_EQ(r.code, kExitError);
    EXPECT_THAT(r.err, HasSubstr("is not a vllora-collector database (no traces table)"));
  }
  {
    char path[] = "/tmp/vllora-view-text-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string text = "this is not an sqlite database, just some text......\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    const Result r = Call(RunsCommand, List(path));
    EXPECT_EQ(r.code, kExitError);
    EXPECT_THAT(r.err, HasSubstr("is not a vllora-collector database (file is not a database)"));
    std::remove(path);
  }
}

TEST(CollectorViewErrorTest, TraceOrRunNotFound) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  ShowOptions o;
  o.common.db_path = db.path();
  o.trace_id = "00000000-0000-4000-8000-000000000000";
  Result r = Call(ShowCommand, o);
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "vllora-collector: trace 00000000-0000-4000-8000-000000000000 not found in " +
                       db.path() + "\n");
  r = Call(ShowCommand, ShowRun(db.path(), "no-such-run"));
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "vllora-collector: run no-such-run not found in " + db.path() + "\n");
  ShowOptions neither;
  neither.common.db_path = db.path();
  EXPECT_EQ(Call(ShowCommand, neither).code, kExitError);
}

// The collector writes in WAL mode: the viewer reads the committed rows while a write
// transaction is open, and never sees uncommitted ones.
TEST(CollectorViewStoreTest, ReadsCommittedRowsWhileAWriterHoldsATransaction) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  db.Exec("BEGIN IMMEDIATE");
  db.Insert(MakeRow(kTraceId, "2001", "1008", "pending", testing::kT0, testing::kT0 + 1,
                    {{"vllora.run_id", kRunId}}));
  const Result r = Call(ShowCommand, ShowRun(db.path(), kRunId));
  db.Exec("COMMIT");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(": 8 spans"));
  EXPECT_EQ(r.out.find("pending"), std::string::npos);
  EXPECT_THAT(Call(ShowCommand, ShowRun(db.path(), kRunId)).out, HasSubstr(": 9 spans"));
}

// `show --run latest` finds the run with the newest span start on every schema version; on
// version 3 (no index on every row's start time) through the partial traces_run_start index.
TEST(CollectorViewStoreTest, LatestRunOnEverySchemaVersion) {
  for (const int version : {1, 2, 3}) {
    SCOPED_TRACE("schema version " + std::to_string(version));
    TestDb db(version);
    db.Insert(MakeRow(kTraceId, "1", std::nullopt, "old", 100, 200, {{"vllora.run_id", "r-old"}}));
    db.Insert(MakeRow(kTraceId, "2", std::nullopt, "new", 300, 400, {{"vllora.run_id", "r-new"}}));
    db.Insert(
        MakeRow(kTraceId, "3", std::nullopt, "later", 250, 260, {{"vllora.run_id", "r-old"}}));
    db.Insert(MakeRow(kTraceId, "4", std::nullopt, "no run", 900, 950));
    std::string error;
    auto viewer = collector_view::ViewerDb::Open(db.path(), &error);
    ASSERT_NE(viewer, nullptr) << error;
    std::optional<std::string> latest;
    ASSERT_TRUE(viewer->LatestRunId(&latest, &error)) << error;
    EXPECT_EQ(latest, "r-new");
    if (version == 3) {
      sqlite3_stmt* stmt = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db.db(),
                                   "EXPLAIN QUERY PLAN SELECT run_id FROM traces WHERE run_id IS "
                                   "NOT NULL ORDER BY start_time_us DESC, rowid DESC LIMIT 1",
                                   -1, &stmt, nullptr),
                SQLITE_OK);
      std::string plan;
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
        plan += "\n";
      }
      sqlite3_finalize(stmt);
      EXPECT_EQ(plan, "SCAN traces USING INDEX traces_run_start\n");
    }
  }
}

// --follow: the stop callback runs on the following thread between polls; the first call
// commits new rows (so they land after the snapshot, deterministically), later calls stop once
// they were printed (or after a generous deadline, which fails the test).
TEST(CollectorViewFollowTest, ShowRunFollowPrintsNewSpansThenTotals) {
  TestDb db;
  std::vector<testing::Row> rows = testing::ExampleTrace();
  db.InsertAll(std::vector<testing::Row>(rows.begin(), rows.begin() + 6));
  ShowOptions o = ShowRun(db.path(), kRunId);
  o.follow.enabled = true;
  o.follow.poll_interval = std::chrono::milliseconds(10);
  o.follow.timeout = std::chrono::seconds(30);
  int calls = 0;
  std::ostringstream out, err;
  o.follow.should_stop = [&] {
    if (++calls == 1) {
      db.InsertAll(std::vector<testing::Row>(rows.begin() + 6, rows.end()));
      db.Insert(MakeRow("other", "1", std::nullopt, "other_run", 0, 1, {{"vllora.run_id", "x"}}));
    }
    return out.str().find("tool=search_web") != std::string::npos;
  };
  const int code = ShowCommand(o, out, err);
  ASSERT_EQ(code, 0) << err.str();
  EXPECT_EQ(err.str(), "following run " + std::string(kRunId) + " (Ctrl-C to stop)\n");
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("6 spans  152.2 ms  llm_calls=1  tokens_in=0"));
  EXPECT_THAT(text,
              HasSubstr("2025-11-24T16:00:00.000Z  8f3a852b-dd52-494a-bf9e-3e3749593eb5  openai  "
                        "151.9 ms  span=1007  parent=1006  model=gpt-4o-mini  tokens_in=8  "
                        "tokens_out=9  cost=$0.0000066  ttft=843.1 ms\n"
                        "2025-11-24T16:00:00.101Z  8f3a852b-dd52-494a-bf9e-3e3749593eb5  tool  "
                        "50.3 ms  span=1008  parent=1007  tool=search_web\n"
                        "run f9b6c0de-1d2e-4f3a-9b8c-7d6e5f4a3b2c: 8 spans  152.2 ms  llm_calls=1  "
                        "tokens_in=8  tokens_out=9  cost=$0.0000066  errors=0\n"));
  EXPECT_EQ(text.find("other_run"), std::string::npos);
}

TEST(CollectorViewFollowTest, TracesFollowAsJsonLinesAndTimeout) {
  TestDb db;
  ListOptions o = List(db.path());
  o.common.json = true;
  o.follow.enabled = true;
  o.follow.poll_interval = std::chrono::milliseconds(10);
  o.follow.timeout = std::chrono::seconds(30);
  int calls = 0;
  std::ostringstream out, err;
  o.follow.should_stop = [&] {
    if (++calls == 1) db.InsertAll(testing::ExampleTrace());
    const std::string text = out.str();
    return std::count(text.begin(), text.end(), '\n') >= 9;
  };
  ASSERT_EQ(TracesCommand(o, out, err), 0) << err.str();
  std::istringstream lines(out.str());
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(json::parse(line), json({{"traces", json::array()}}));
  std::vector<std::string> names;
  while (std::getline(lines, line)) names.push_back(json::parse(line)["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"execution", "run", "agent", "task", "api_invoke",
                                             "model_call", "openai", "tool"}));

  // Nothing arrives: --follow-timeout ends it with exit code 0.
  ListOptions quiet = List(db.path());
  quiet.follow.enabled = true;
  quiet.follow.timeout = std::chrono::milliseconds(50);
  const Result r = Call(TracesCommand, quiet);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "following new spans (Ctrl-C to stop)\n");
}

// The CLI11 wiring, as vllora-collector's main uses it (CLI11_PARSE → App::exit).
int RunCli(std::vector<std::string> args, std::string* out) {
  CLI::App app("vllora-collector");
  vllora::collector::AddViewerCommands(app);
  app.require_subcommand(1);
  std::vector<const char*> argv = {"vllora-collector"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  ::testing::internal::CaptureStdout();
  int code = 0;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    code = app.exit(e);
  }
  *out = ::testing::internal::GetCapturedStdout();
  return code;
}

TEST(CollectorViewCliTest, SubcommandsOptionsAndExitCodes) {
  TestDb db;
  db.InsertAll(testing::ExampleTrace());
  std::string out;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"show", "--run", kRunId, "--db", db.path()}, &out), 0);
  // stdout is not a TTY here: no colours, the exact tree.
  EXPECT_EQ(out.substr(0, std::string(kExampleTree).size()), kExampleTree);
  EXPECT_EQ(RunCli({"show", kTraceId, "--db", db.path(), "--json"}, &out), 0);
  EXPECT_EQ(json::parse(out)["totals"]["llm_calls"], 1);
  EXPECT_EQ(RunCli({"runs", "--db", db.path(), "--limit", "1", "--json"}, &out), 0);
  EXPECT_EQ(json::parse(out)["runs"].size(), 1u);
  EXPECT_EQ(RunCli({"threads", "--db", db.path()}, &out), 0);
  EXPECT_THAT(out, HasSubstr(testing::kThreadId));
  EXPECT_EQ(RunCli({"traces", "-n", "5", "--db", db.path(), "--follow", "--follow-timeout", "0.05"},
                   &out),
            0);
  EXPECT_THAT(out, HasSubstr(kTraceId));
  EXPECT_EQ(RunCli({"show", "00000000-0000-4000-8000-000000000000", "--db", db.path()}, &out),
            kExitNotFound);
  EXPECT_EQ(RunCli({"runs", "--db", "/nonexistent.db"}, &out), kExitError);
  EXPECT_NE(RunCli({"runs", "--limit", "0", "--db", db.path()}, &out), 0);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("vllora-collector: trace 00000000-0000-4000-8000-000000000000 "
                             "not found in " +
                             db.path() + "\n"));
  EXPECT_THAT(err, HasSubstr("vllora-collector: database not found: /nonexistent.db"));
}

}  // namespace
}  // namespace vllora::collector_view
