// B5 (issue 7): collector ingest throughput. Starts `vllora-collector serve` on free ports with a
// fresh database, then 4 concurrent OTLP/gRPC exporters (one channel each, one request in flight
// each, as a BatchSpanProcessor does) send B1-shaped spans (name chat_completion, three 20-byte
// string attributes, one int64). A span counts when its Export() call returned OK, i.e. after the
// collector committed it. With --preencoded, every request is encoded once before the clock starts
// and its bytes are sent through a generic stub (same wire bytes), so that on a small machine the
// exporters' own encoding does not compete with the collector for the cores. Prints:
//   b5_spans_per_s=N      spans acknowledged per second of wall time
//   b5_peak_rss_mib=M     the collector's VmHWM after the run
//   b5_rows_in_db=K       rows in the database after SIGTERM (must equal the spans sent)
//   b5_collector_cpu_us_per_span=C  the collector's CPU time (all threads) per acknowledged span
// Exit status 1 when a request fails or the row count differs.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace {

namespace otlp = opentelemetry::proto;
using otlp::collector::trace::v1::ExportTraceServiceRequest;
using otlp::collector::trace::v1::ExportTraceServiceResponse;
using otlp::collector::trace::v1::TraceService;

struct Collector {
  pid_t pid = -1;
  std::string grpc_address;
};

bool StartCollector(const std::string& binary, const std::string& db, Collector& out) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execl(binary.c_str(), binary.c_str(), "serve", "--db", db.c_str(), "--grpc", "127.0.0.1:0",
          "--http", "127.0.0.1:0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  std::string line;
  char c;
  while (read(pipe_fds[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  close(pipe_fds[0]);
  out.pid = pid;
  const std::string prefix = "listening grpc=";
  if (line.rfind(prefix, 0) != 0) {
    std::cerr << "collector did not start: \"" << line << "\"\n";
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return false;
  }
  out.grpc_address = line.substr(prefix.size(), line.find(' ', prefix.size()) - prefix.size());
  return true;
}

long PeakRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(1 << 16, '\n');
  }
  return -1;
}

// User + system CPU seconds of `pid` so far (all its threads), -1 when unreadable.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string field;
  // Fields 3.. follow the command; utime and stime are fields 14 and 15.
  for (int i = 3; i < 14; ++i) fields >> field;
  long long utime = 0;
  long long stime = 0;
  if (!(fields >> utime >> stime)) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

// Requests of exporter `index`: `batches` requests of `batch` spans, unique ids.
std::vector<ExportTraceServiceRequest> BuildRequests(int index, size_t batches, size_t batch) {
  std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919U + 1U);
  std::vector<ExportTraceServiceRequest> requests(batches);
  uint64_t span_counter = static_cast<uint64_t>(index) << 40;
  const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  for (auto& request : requests) {
    auto* rs = request.add_resource_spans();
    auto* attr = rs->mutable_resource()->add_attributes();
    attr->set_key("service.name");
    attr->mutable_value()->set_string_value("b5_load");
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("vllora::user_tracing");
    const std::string trace_id = RandomBytes(rng, 16);
    for (size_t k = 0; k < batch; ++k) {
      auto* span = ss->add_spans();
      span->set_trace_id(trace_id);
      ++span_counter;
      std::string span_id(8, '\0');
      for (int b = 0; b < 8; ++b) {
        span_id[static_cast<size_t>(b)] = static_cast<char>((span_counter >> (56 - 8 * b)) & 0xFF);
      }
      span->set_span_id(span_id);
      span->set_name("chat_completion");
      span->set_kind(otlp::trace::v1::Span::SPAN_KIND_INTERNAL);
      span->set_start_time_unix_nano(now);
      span->set_end_time_unix_nano(now + 1000);
      for (const char* key : {"model_name", "provider_name", "thread_name"}) {
        auto* kv = span->add_attributes();
        kv->set_key(key);
        kv->mutable_value()->set_string_value("abcdefghijklmnopqrst");  // 20 bytes
      }
      auto* kv = span->add_attributes();
      kv->set_key("tokens");
      kv->mutable_value()->set_int_value(static_cast<int64_t>(k));
    }
  }
  return requests;
}

long CountRows(const std::string& db) {
  sqlite3* handle = nullptr;
  long count = -1;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT count(*) FROM traces", -1, &stmt, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      count = static_cast<long>(sqlite3_column_int64(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B5: vllora-collector ingest throughput"};
  std::string collector_binary;
  std::string db;
  size_t total_spans = 400'000;
  size_t batch = 512;
  int exporters = 4;
  bool preencoded = false;
  app.add_option("--collector", collector_binary, "vllora-collector binary")->required();
  app.add_option("--db", db, "database file (default: a fresh temporary file)");
  app.add_option("--spans", total_spans, "spans in total")->capture_default_str();
  app.add_option("--batch", batch, "spans per Export request")->capture_default_str();
  app.add_option("--exporters", exporters, "concurrent exporters")->capture_default_str();
  app.add_flag("--preencoded", preencoded,
               "encode every request once before the clock starts and send those bytes (generic "
               "stub): the exporters' protobuf encoding then does not compete with the collector "
               "for this machine's cores");
  CLI11_PARSE(app, argc, argv);
  if (exporters < 1 || batch < 1) return 2;

  std::filesystem::path temp_dir;
  if (db.empty()) {
    char dir_template[] = "/tmp/vllora-b5-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return 1;
    temp_dir = dir_template;
    db = (temp_dir / "b5.db").string();
  }

  const size_t batches_per_exporter = (total_spans + batch * static_cast<size_t>(exporters) - 1) /
                                      (batch * static_cast<size_t>(exporters));
  std::vector<std::vector<ExportTraceServiceRequest>> requests;
  for (int i = 0; i < exporters; ++i)
    requests.push_back(BuildRequests(i, batches_per_exporter, batch));
  const size_t sent_spans = batches_per_exporter * batch * static_cast<size_t>(exporters);
  std::vector<std::vector<std::string>> encoded(requests.size());
  if (preencoded) {
    for (size_t i = 0; i < requests.size(); ++i) {
      for (const auto& request : requests[i]) encoded[i].push_back(request.SerializeAsString());
    }
  }

  Collector collector;
  if (!StartCollector(collector_binary, db, collector)) return 1;

  std::atomic<size_t> acknowledged{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < exporters; ++i) {
    threads.emplace_back([&, i] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per exporter
      args.SetMaxSendMessageSize(-1);
      auto channel = grpc::CreateCustomChannel(collector.grpc_address,
                                               grpc::InsecureChannelCredentials(), args);
      auto stub = TraceService::NewStub(channel);
      grpc::GenericStub generic(channel);
      const auto& mine = requests[static_cast<size_t>(i)];
      for (size_t k = 0; k < mine.size(); ++k) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        ExportTraceServiceResponse response;
        grpc::Status status;
        if (preencoded) {
          grpc::Slice slice(encoded[static_cast<size_t>(i)][k]);
          const grpc::ByteBuffer request_bytes(&slice, 1);
          grpc::ByteBuffer response_bytes;
          std::promise<grpc::Status> done;
          generic.UnaryCall(&context, "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                            grpc::StubOptions(), &request_bytes, &response_bytes,
                            [&done](grpc::Status s) { done.set_value(std::move(s)); });
          status = done.get_future().get();
          std::vector<grpc::Slice> slices;
          std::string bytes;
          if (status.ok() && response_bytes.Dump(&slices).ok()) {
            for (const auto& s : slices) {
              bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
            }
          }
          if (status.ok() && !response.ParseFromString(bytes)) {
            status = grpc::Status(grpc::StatusCode::INTERNAL, "unreadable response");
          }
        } else {
          status = stub->Export(&context, mine[k], &response);
        }
        if (!status.ok() || response.partial_success().rejected_spans() != 0) {
          std::cerr << "export failed: " << status.error_message() << "\n";
          failed = true;
          return;
        }
        acknowledged.fetch_add(
            static_cast<size_t>(mine[k].resource_spans(0).scope_spans(0).spans_size()));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long rss_kib = PeakRssKib(collector.pid);
  const double collector_cpu = CpuSeconds(collector.pid);
  kill(collector.pid, SIGTERM);
  int status = 0;
  waitpid(collector.pid, &status, 0);
  const long rows = CountRows(db);

  std::printf("b5_spans_per_s=%.0f\n", static_cast<double>(acknowledged.load()) / seconds);
  std::printf("b5_peak_rss_mib=%.1f\n", static_cast<double>(rss_kib) / 1024.0);
  std::printf("b5_rows_in_db=%ld\n", rows);
  // CPU the collector spent (all threads, startup included) per acknowledged span: on a busy
  // machine a steadier figure than the wall-clock rate.
  std::printf("b5_collector_cpu_us_per_span=%.2f\n",
              collector_cpu * 1e6 / static_cast<double>(std::max<size_t>(acknowledged.load(), 1)));
  std::printf("b5_spans_sent=%zu exporters=%d batch=%zu seconds=%.3f preencoded=%d\n", sent_spans,
              exporters, batch, seconds, preencoded ? 1 : 0);
  if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir);
  const bool ok = !failed && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  rows == static_cast<long>(sent_spans) && acknowledged == sent_spans;
  return ok ? 0 : 1;
}
