#include "collector_view/commands.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "collector_view/store.h"

namespace vllora::collector_view {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int64_t kFollowBatch = 1000;

RenderOptions MakeRenderOptions(const CommonOptions& common) {
  RenderOptions r;
  r.color = common.color && !common.json;
  r.bar_width = common.bar_width;
  return r;
}

std::unique_ptr<ViewerDb> OpenOrReport(const CommonOptions& common, std::ostream& err) {
  std::string error;
  auto db = ViewerDb::Open(common.db_path, &error);
  if (db == nullptr) err << "vllora-collector: " << error << "\n";
  return db;
}

int QueryFailed(const std::string& error, std::ostream& err) {
  err << "vllora-collector: query failed: " << error << "\n";
  return kExitError;
}

json Optional(const std::optional<std::string>& s) { return s.has_value() ? json(*s) : json(); }

// Polls the table for rows after `after_rowid` (of `run_id` when set) until stopped, printing
// each new span; appends them to `collected` when not null.
int Follow(ViewerDb& db, int64_t after_rowid, const std::optional<std::string>& run_id,
           const FollowOptions& follow, const CommonOptions& common, std::ostream& out,
           std::ostream& err, std::vector<SpanRow>* collected) {
  const RenderOptions render = MakeRenderOptions(common);
  const Clock::time_point start = Clock::now();
  const auto stopped = [&] {
    if (follow.should_stop && follow.should_stop()) return true;
    return follow.timeout.has_value() && Clock::now() - start >= *follow.timeout;
  };
  std::vector<SpanRow> batch;
  while (!stopped()) {
    std::string error;
    if (!db.LoadAfter(after_rowid, run_id, kFollowBatch, &batch, &error)) {
      return QueryFailed(error, err);
    }
    for (SpanRow& span : batch) {
      if (common.json) {
        out << SpanToJson(span).dump() << "\n";
      } else {
        out << RenderFollowLine(span, render);
      }
      after_rowid = span.rowid;
      if (collected != nullptr) collected->push_back(std::move(span));
    }
    out.flush();
    if (batch.size() == static_cast<size_t>(kFollowBatch)) continue;  // more are waiting
    // Sleep in short steps so a stop request is seen quickly.
    const Clock::time_point wake = Clock::now() + follow.poll_interval;
    while (Clock::now() < wake && !stopped()) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(std::chrono::milliseconds(20), wake - Clock::now()));
    }
  }
  return kExitOk;
}

}  // namespace

std::string NormalizeTraceId(std::string id) {
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool hex32 = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                       return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                     });
  if (hex32) {
    id = id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) +
         "-" + id.substr(20);
  }
  return id;
}

namespace {
// The GroupTotals members of one `runs` / `threads` line: JSON fields and trailing table cells.
void AddGroupTotals(const GroupTotals& t, json& j) {
  j["start_time_us"] = t.start_us;
  j["finish_time_us"] = t.finish_us;
  j["duration_us"] = t.finish_us - t.start_us;
  j["traces"] = t.traces;
  j["spans"] = t.spans;
  j["llm_calls"] = t.llm_calls;
  j["input_tokens"] = t.input_tokens;
  j["output_tokens"] = t.output_tokens;
  j["cost"] = t.cost;
  j["errors"] = t.errors;
}

void AddGroupTotalsCells(const GroupTotals& t, std::vector<std::string>& row) {
  row.insert(row.end(),
             {std::to_string(t.traces), std::to_string(t.spans), std::to_string(t.llm_calls),
              std::to_string(t.input_tokens), std::to_string(t.output_tokens), FormatCost(t.cost),
              std::to_string(t.errors)});
}
}  // namespace

int RunsCommand(const ListOptions& options, std::ostream& out, std::ostream& err) {
  auto db = OpenOrReport(options.common, err);
  if (db == nullptr) return kExitError;
  std::vector<RunSummary> runs;
  std::string error;
  if (!db->ListRuns(options.limit, &runs, &error)) return QueryFailed(error, err);
  if (options.common.json) {
    json list = json::array();
    for (const RunSummary& r : runs) {
      json j{{"run_id", r.run_id}};
      AddGroupTotals(r.totals, j);
      list.push_back(std::move(j));
    }
    out << json{{"runs", list}}.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const RunSummary& r : runs) {
    const GroupTotals& t = r.totals;
    std::vector<std::string> row{r.run_id, FormatTimestamp(t.start_us),
                                 FormatDuration(t.finish_us - t.start_us)};
    AddGroupTotalsCells(t, row);
    rows.push_back(std::move(row));
  }
  out << RenderTable({"RUN_ID", "START", "DURATION", "TRACES", "SPANS", "LLM_CALLS", "TOKENS_IN",
                      "TOKENS_OUT", "COST", "ERRORS"},
                     rows, {2, 3, 4, 5, 6, 7, 8, 9});
  if (runs.empty()) out << "(no runs)\n";
  return kExitOk;
}

int ThreadsCommand(const ListOptions& options, std::ostream& out, std::ostream& err) {
  auto db = OpenOrReport(options.common, err);
  if (db == nullptr) return kExitError;
  std::vector<ThreadSummary> threads;
  std::string error;
  if (!db->ListThreads(options.limit, &threads, &error)) return QueryFailed(error, err);
  if (options.common.json) {
    json list = json::array();
    for (const ThreadSummary& t : threads) {
      json j{{"thread_id", t.thread_id}, {"runs", t.runs}};
      AddGroupTotals(t.totals, j);
      list.push_back(std::move(j));
    }
    out << json{{"threads", list}}.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const ThreadSummary& t : threads) {
    std::vector<std::string> row{t.thread_id, FormatTimestamp(t.totals.start_us),
                                 FormatTimestamp(t.totals.finish_us), std::to_string(t.runs)};
    AddGroupTotalsCells(t.totals, row);
    rows.push_back(std::move(row));
  }
  out << RenderTable({"THREAD_ID", "FIRST", "LAST", "RUNS", "TRACES", "SPANS", "LLM_CALLS",
                      "TOKENS_IN", "TOKENS_OUT", "COST", "ERRORS"},
                     rows, {3, 4, 5, 6, 7, 8, 9, 10});
  if (threads.empty()) out << "(no threads)\n";
  return kExitOk;
}

int TracesCommand(const ListOptions& options, std::ostream& out, std::ostream& err) {
  auto db = OpenOrReport(options.common, err);
  if (db == nullptr) return kExitError;
  std::vector<TraceSummary> traces;
  std::string error;
  int64_t max_rowid = 0;
  // One snapshot: the list and the rowid --follow continues from.
  if (!db->BeginRead(&error)) return QueryFailed(error, err);
  const bool ok =
      db->ListTraces(options.limit, &traces, &error) && db->MaxRowid(&max_rowid, &error);
  db->EndRead();
  if (!ok) return QueryFailed(error, err);
  if (options.common.json) {
    json list = json::array();
    for (const TraceSummary& t : traces) {
      list.push_back({{"trace_id", t.trace_id},
                      {"root", t.root_name},
                      {"run_id", Optional(t.run_id)},
                      {"start_time_us", t.start_us},
                      {"finish_time_us", t.finish_us},
                      {"duration_us", t.finish_us - t.start_us},
                      {"spans", t.spans},
                      {"errors", t.errors}});
    }
    const json doc{{"traces", list}};
    // --follow: JSON Lines (this document, then one span per line).
    out << (options.follow.enabled ? doc.dump() : doc.dump(2)) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const TraceSummary& t : traces) {
      rows.push_back({t.trace_id, t.root_name, FormatTimestamp(t.start_us),
                      FormatDuration(t.finish_us - t.start_us), std::to_string(t.spans),
                      std::to_string(t.errors)});
    }
    out << RenderTable({"TRACE_ID", "ROOT", "START", "DURATION", "SPANS", "ERRORS"}, rows,
                       {3, 4, 5});
    if (traces.empty()) out << "(no traces)\n";
  }
  if (!options.follow.enabled) return kExitOk;
  out.flush();
  if (!options.common.json) err << "following new spans (Ctrl-C to stop)\n";
  return Follow(*db, max_rowid, std::nullopt, options.follow, options.common, out, err, nullptr);
}

int ShowCommand(const ShowOptions& options, std::ostream& out, std::ostream& err) {
  if (options.trace_id.empty() == options.run_id.empty()) {
    err << "vllora-collector: show needs a TRACE_ID or --run RUN_ID (not both)\n";
    return kExitError;
  }
  if (options.follow.enabled && options.run_id.empty()) {
    err << "vllora-collector: --follow needs --run RUN_ID\n";
    return kExitError;
  }
  auto db = OpenOrReport(options.common, err);
  if (db == nullptr) return kExitError;
  const RenderOptions render = MakeRenderOptions(options.common);
  std::string error;
  std::vector<SpanRow> spans;
  int64_t max_rowid = 0;
  std::string run_id = options.run_id;
  const std::string trace_id = NormalizeTraceId(options.trace_id);
  if (!db->BeginRead(&error)) return QueryFailed(error, err);
  bool ok = true;
  if (run_id == "latest") {
    std::optional<std::string> latest;
    ok = db->LatestRunId(&latest, &error);
    if (ok && latest.has_value()) run_id = *latest;
  }
  if (ok) {
    ok = run_id.empty() ? db->LoadTrace(trace_id, &spans, &error)
                        : db->LoadRunTraces(run_id, &spans, &error);
  }
  if (ok) ok = db->MaxRowid(&max_rowid, &error);
  db->EndRead();
  if (!ok) return QueryFailed(error, err);

  if (spans.empty() && !options.follow.enabled) {
    if (run_id.empty()) {
      err << "vllora-collector: trace " << trace_id << " not found in " << options.common.db_path
          << "\n";
    } else {
      err << "vllora-collector: run " << run_id << " not found in " << options.common.db_path
          << "\n";
    }
    return kExitNotFound;
  }
  // Totals: over the run's own spans (vLLora: WHERE run_id = ?), or over the whole trace.
  std::vector<SpanRow> counted;
  for (const SpanRow& s : spans) {
    if (run_id.empty() || s.run_id == run_id) counted.push_back(s);
  }
  const std::vector<TraceTree> trees = BuildTraceTrees(spans);
  const std::string label = run_id.empty() ? "trace " + trace_id : "run " + run_id;
  if (options.common.json) {
    json doc;
    if (run_id.empty()) {
      doc["trace_id"] = trace_id;
    } else {
      doc["run_id"] = run_id;
    }
    json list = json::array();
    for (const TraceTree& tree : trees) list.push_back(TreeToJson(tree));
    doc["traces"] = std::move(list);
    doc["totals"] = TotalsToJson(ComputeTotals(counted));
    out << (options.follow.enabled ? doc.dump() : doc.dump(2)) << "\n";
  } else {
    for (size_t i = 0; i < trees.size(); ++i) {
      if (i > 0) out << "\n";
      out << RenderTraceText(trees[i], render);
    }
    if (!trees.empty()) out << "\n";
    out << RenderTotalsText(ComputeTotals(counted), label, render);
  }
  if (!options.follow.enabled) return kExitOk;
  out.flush();
  if (!options.common.json) err << "following run " << run_id << " (Ctrl-C to stop)\n";
  const int rc = Follow(*db, max_rowid, run_id, options.follow, options.common, out, err, &counted);
  if (rc != kExitOk) return rc;
  if (options.common.json) {
    out << json{{"totals", TotalsToJson(ComputeTotals(counted))}}.dump() << "\n";
  } else {
    out << RenderTotalsText(ComputeTotals(counted), label, render);
  }
  return kExitOk;
}

}  // namespace vllora::collector_view
