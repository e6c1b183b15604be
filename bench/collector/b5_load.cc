// B5 (issue 7): collector ingest throughput. Starts `vllora-collector serve` on free ports with a
// fresh database, then 4 concurrent exporters (one request in flight each, as a
// BatchSpanProcessor does) send B1-shaped spans (name chat_completion, three 20-byte string
// attributes, one int64). A span counts when its Export() call returned OK, i.e. after the
// collector committed it. Three ways to be an exporter:
//   default       the project's own OtlpGrpcExporter (default options except the endpoint and
//                 max_concurrent_requests = 1), fed SpanData batches built before the clock
//                 starts; Export() encodes inside the clock, as it does for a user.
//   --message     the generated stub with ExportTraceServiceRequest messages built before the
//                 clock (protobuf's message serialization runs inside the clock); one channel
//                 per exporter.
//   --preencoded  every request encoded once before the clock starts, its bytes sent through a
//                 generic stub (same wire bytes): only the collector's work and gRPC's remain,
//                 so on a small machine the exporters' encoding does not compete for the cores.
// Prints:
//   b5_mode=exporter|message|preencoded
//   b5_spans_per_s=N      spans acknowledged per second of wall time
//   b5_peak_rss_mib=M     the collector's VmHWM after the run
//   b5_rows_in_db=K       rows in the database after SIGTERM (must equal the spans sent)
//   b5_collector_cpu_us_per_span=C  the collector's CPU time (all threads) per acknowledged span
//   b5_load_cpu_us_per_span=L       this process's CPU time during the clock per span
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
#include "vllora/otel/span_data.h"
#include "vllora/otlp/otlp_grpc_exporter.h"

namespace {

namespace otlp = opentelemetry::proto;
namespace otel = vllora::otel;
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

// Per-thread CPU seconds of `pid` ("comm" (tid): seconds), most first: where the collector's
// time goes without a profiler (--threads).
std::vector<std::pair<std::string, double>> ThreadCpuSeconds(pid_t pid) {
  std::vector<std::pair<std::string, double>> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    const size_t open_paren = text.find('(');
    const size_t close_paren = text.rfind(')');
    if (open_paren == std::string::npos || close_paren == std::string::npos) continue;
    std::istringstream fields(text.substr(close_paren + 2));
    std::string field;
    for (int i = 3; i < 14; ++i) fields >> field;
    long long utime = 0;
    long long stime = 0;
    if (!(fields >> utime >> stime)) continue;
    out.emplace_back(
        text.substr(open_paren + 1, close_paren - open_paren - 1) + " (" +
            entry.path().filename().string() + ")",
        static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK)));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
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

using SpanBatch = std::vector<std::unique_ptr<otel::SpanData>>;

// The same spans as BuildRequests(index, ...) (same ids, names, attributes), as SDK SpanData for
// an OtlpGrpcExporter: one resource and one scope object shared by all, as from one Tracer.
std::vector<SpanBatch> BuildSpanBatches(
    int index, size_t batches, size_t batch, const std::shared_ptr<const otel::Resource>& resource,
    const std::shared_ptr<const otel::InstrumentationScope>& scope) {
  std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919U + 1U);
  std::vector<SpanBatch> out(batches);
  uint64_t span_counter = static_cast<uint64_t>(index) << 40;
  const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  for (auto& spans : out) {
    const std::string trace_bytes = RandomBytes(rng, 16);
    otel::TraceId trace_id;
    std::memcpy(trace_id.bytes.data(), trace_bytes.data(), trace_id.bytes.size());
    spans.reserve(batch);
    for (size_t k = 0; k < batch; ++k) {
      auto span = std::make_unique<otel::SpanData>();
      span->name = "chat_completion";
      span->kind = otel::SpanKind::kInternal;
      span->resource = resource;
      span->scope = scope;
      span->trace_id = trace_id;
      span->span_id = otel::SpanId::FromUint64(++span_counter);
      span->trace_flags = 1;  // sampled
      span->start_time_unix_nano = now;
      span->end_time_unix_nano = now + 1000;
      for (const char* key : {"model_name", "provider_name", "thread_name"}) {
        span->attributes.Set(key, std::string_view("abcdefghijklmnopqrst"));  // 20 bytes
      }
      span->attributes.Set("tokens", static_cast<int64_t>(k));
      spans.push_back(std::move(span));
    }
  }
  return out;
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

enum class Mode { kExporter, kMessage, kPreencoded };

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kExporter:
      return "exporter";
    case Mode::kMessage:
      return "message";
    case Mode::kPreencoded:
      return "preencoded";
  }
  return "?";
}

// One exporter of --message / --preencoded: its own channel (one connection) and stubs.
bool SendWithStub(const std::string& address, bool preencoded,
                  const std::vector<ExportTraceServiceRequest>& mine,
                  const std::vector<std::string>& encoded, std::atomic<size_t>& acknowledged) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per exporter
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  auto stub = TraceService::NewStub(channel);
  grpc::GenericStub generic(channel);
  for (size_t k = 0; k < mine.size(); ++k) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    ExportTraceServiceResponse response;
    grpc::Status status;
    if (preencoded) {
      grpc::Slice slice(encoded[k]);
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
      return false;
    }
    acknowledged.fetch_add(
        static_cast<size_t>(mine[k].resource_spans(0).scope_spans(0).spans_size()));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B5: vllora-collector ingest throughput"};
  std::string collector_binary;
  std::string db;
  size_t total_spans = 400'000;
  size_t batch = 512;
  int exporters = 4;
  bool message = false;
  bool preencoded = false;
  bool thread_cpu = false;
  bool own_connections = false;
  app.add_option("--collector", collector_binary, "vllora-collector binary")->required();
  app.add_option("--db", db, "database file (default: a fresh temporary file)");
  app.add_option("--spans", total_spans, "spans in total")->capture_default_str();
  app.add_option("--batch", batch, "spans per Export request")->capture_default_str();
  app.add_option("--exporters", exporters, "concurrent exporters")->capture_default_str();
  auto* message_flag = app.add_flag(
      "--message", message,
      "exporters are the generated stub sending ExportTraceServiceRequest messages (protobuf "
      "serialization inside the clock) instead of the project's OtlpGrpcExporter");
  app.add_flag("--preencoded", preencoded,
               "encode every request once before the clock starts and send those bytes (generic "
               "stub): the exporters' encoding then does not compete with the collector for this "
               "machine's cores")
      ->excludes(message_flag);
  app.add_flag("--threads", thread_cpu,
               "print the CPU seconds of every collector thread and of this process's threads "
               "(stderr)");
  app.add_flag("--own-connections", own_connections,
               "default mode: give each exporter its own TCP connection, as exporters in separate "
               "processes have (gRPC otherwise shares one connection between channels with equal "
               "arguments; this sets initial_backoff 1 ms apart per exporter)");
  CLI11_PARSE(app, argc, argv);
  if (exporters < 1 || batch < 1) return 2;
  const Mode mode = preencoded ? Mode::kPreencoded : message ? Mode::kMessage : Mode::kExporter;

  std::filesystem::path temp_dir;
  if (db.empty()) {
    char dir_template[] = "/tmp/vllora-b5-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return 1;
    temp_dir = dir_template;
    db = (temp_dir / "b5.db").string();
  }

  const size_t batches_per_exporter = (total_spans + batch * static_cast<size_t>(exporters) - 1) /
                                      (batch * static_cast<size_t>(exporters));
  const size_t sent_spans = batches_per_exporter * batch * static_cast<size_t>(exporters);
  // Everything the exporters send is built before the clock starts.
  std::vector<std::vector<ExportTraceServiceRequest>> requests(static_cast<size_t>(exporters));
  std::vector<std::vector<std::string>> encoded(static_cast<size_t>(exporters));
  std::vector<std::vector<SpanBatch>> span_batches(static_cast<size_t>(exporters));
  if (mode == Mode::kExporter) {
    const auto resource = std::make_shared<const otel::Resource>(otel::Resource::FromAttributes(
        otel::Attributes{{"service.name", std::string_view("b5_load")}}));
    const auto scope = std::make_shared<const otel::InstrumentationScope>(
        otel::InstrumentationScope{"vllora::user_tracing", "", ""});
    for (int i = 0; i < exporters; ++i) {
      span_batches[static_cast<size_t>(i)] =
          BuildSpanBatches(i, batches_per_exporter, batch, resource, scope);
    }
  } else {
    for (int i = 0; i < exporters; ++i) {
      requests[static_cast<size_t>(i)] = BuildRequests(i, batches_per_exporter, batch);
    }
  }
  if (mode == Mode::kPreencoded) {
    for (size_t i = 0; i < requests.size(); ++i) {
      for (const auto& request : requests[i]) encoded[i].push_back(request.SerializeAsString());
    }
  }

  Collector collector;
  if (!StartCollector(collector_binary, db, collector)) return 1;

  // The project's exporters (default mode), created before the clock like a BatchSpanProcessor's.
  std::vector<std::unique_ptr<vllora::otlp::OtlpGrpcExporter>> grpc_exporters;
  if (mode == Mode::kExporter) {
    vllora::otlp::OtlpGrpcExporterOptions options;  // defaults, except:
    options.endpoint = "http://" + collector.grpc_address;
    options.max_concurrent_requests = 1;  // one request in flight, as one BatchSpanProcessor
    for (int i = 0; i < exporters; ++i) {
      if (own_connections) options.initial_backoff = std::chrono::milliseconds(1000 + i);
      std::string error;
      auto exporter = vllora::otlp::OtlpGrpcExporter::Create(options, &error);
      if (exporter == nullptr) {
        std::cerr << "b5_load: exporter: " << error << "\n";
        kill(collector.pid, SIGKILL);
        waitpid(collector.pid, nullptr, 0);
        return 1;
      }
      grpc_exporters.push_back(std::move(exporter));
    }
  }

  std::atomic<size_t> acknowledged{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const double load_cpu_start = CpuSeconds(getpid());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < exporters; ++i) {
    const auto index = static_cast<size_t>(i);
    threads.emplace_back([&, index] {
      if (mode != Mode::kExporter) {
        if (!SendWithStub(collector.grpc_address, mode == Mode::kPreencoded, requests[index],
                          encoded[index], acknowledged)) {
          failed = true;
        }
        return;
      }
      for (auto& spans : span_batches[index]) {
        const size_t count = spans.size();
        if (grpc_exporters[index]->Export(spans) != otel::ExportResult::kSuccess) {
          std::cerr << "export failed (exporter " << index << ")\n";
          failed = true;
          return;
        }
        acknowledged.fetch_add(count);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double load_cpu = CpuSeconds(getpid()) - load_cpu_start;
  const long rss_kib = PeakRssKib(collector.pid);
  const double collector_cpu = CpuSeconds(collector.pid);
  if (thread_cpu) {
    for (const auto& [who, pid] : {std::pair<const char*, pid_t>{"collector", collector.pid},
                                   std::pair<const char*, pid_t>{"load", getpid()}}) {
      for (const auto& [name, cpu] : ThreadCpuSeconds(pid)) {
        if (cpu > 0) std::fprintf(stderr, "%s thread %-28s %.2f s\n", who, name.c_str(), cpu);
      }
    }
  }
  // The exporters' own account: every span exported, none failed or rejected.
  uint64_t retries = 0;
  for (const auto& exporter : grpc_exporters) {
    const auto stats = exporter->Stats();
    retries += stats.retries;
    if (stats.exported_spans != batches_per_exporter * batch || stats.failed_spans != 0 ||
        stats.rejected_spans != 0) {
      std::cerr << "exporter stats: exported " << stats.exported_spans << " failed "
                << stats.failed_spans << " rejected " << stats.rejected_spans << "\n";
      failed = true;
    }
  }
  grpc_exporters.clear();
  kill(collector.pid, SIGTERM);
  int status = 0;
  waitpid(collector.pid, &status, 0);
  const long rows = CountRows(db);

  const double acked = static_cast<double>(std::max<size_t>(acknowledged.load(), 1));
  std::printf("b5_mode=%s\n", ModeName(mode));
  std::printf("b5_spans_per_s=%.0f\n", static_cast<double>(acknowledged.load()) / seconds);
  std::printf("b5_peak_rss_mib=%.1f\n", static_cast<double>(rss_kib) / 1024.0);
  std::printf("b5_rows_in_db=%ld\n", rows);
  // CPU the collector spent (all threads, startup included) per acknowledged span: on a busy
  // machine a steadier figure than the wall-clock rate.
  std::printf("b5_collector_cpu_us_per_span=%.2f\n", collector_cpu * 1e6 / acked);
  // CPU this process (the exporters, all threads) spent while the clock ran, per span.
  std::printf("b5_load_cpu_us_per_span=%.2f\n", load_cpu * 1e6 / acked);
  std::printf("b5_spans_sent=%zu exporters=%d batch=%zu seconds=%.3f mode=%s retries=%llu\n",
              sent_spans, exporters, batch, seconds, ModeName(mode),
              static_cast<unsigned long long>(retries));
  if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir);
  const bool ok = !failed && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  rows == static_cast<long>(sent_spans) && acknowledged == sent_spans;
  return ok ? 0 : 1;
}
