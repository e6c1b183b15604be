// B4 of issue 7: one application thread emits B1 spans (macro -> Registry -> OtelLayer ->
// default BatchSpanProcessor -> the real OTLP/gRPC exporter with default options) to a
// count-only receiver in its own process (otlp_count_receiver).
//
//   b4_driver <otlp_count_receiver> steady [max_rate] [seconds_per_step]
//       Steps the paced emit rate up (25k, 50k, 100k, 200k, 300k, 500k, 700k, 1M, 1.5M, 2M
//       spans/s, up to max_rate), each for seconds_per_step (default 2); a step passes when the
//       processor dropped nothing, the exporter failed nothing, every span reached the receiver
//       and the thread kept the pace. Stops at the first failing step.
//       Prints b4_max_no_drop_spans_per_s=<highest passing rate> (0: none passed).
//   b4_driver <otlp_count_receiver> burst [spans]
//       Emits `spans` (default 1,000,000) as fast as the thread can, then shuts the provider
//       down (drains the queue). Prints b4_burst_wall_s, b4_burst_emit_s,
//       b4_app_cpu_us_per_span (CLOCK_THREAD_CPUTIME_ID of the emitting thread / spans),
//       b4_burst_delivered (receiver count), b4_burst_dropped (processor drops: queue full or
//       byte limit), b4_burst_export_failed_spans, b4_peak_rss_mib (VmHWM of this process), and
//       where the
//       rest of the CPU went per delivered span: b4_burst_export_cpu_us_per_span (this process
//       minus the emitting thread) and b4_burst_receiver_cpu_us_per_span.
//
// The receiver is started by this program (pipes to its stdin/stdout) and ends when its stdin
// closes. Output: `key=value` lines on stdout, progress on stderr.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_pipeline.h"
#include "vllora/otlp/otlp_grpc_exporter.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// The receiver process and the pipes to it.
class Receiver {
 public:
  bool Start(const char* path) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    char* argv[] = {const_cast<char*>(path), nullptr};
    const int rc = posix_spawn(&pid_, path, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (rc != 0) return false;
    in_ = fdopen(to_child[1], "w");
    out_ = fdopen(from_child[0], "r");
    const std::string line = ReadLine();
    if (line.rfind("port=", 0) != 0) return false;
    port_ = std::atoi(line.c_str() + 5);
    return port_ > 0;
  }

  uint64_t Count() {
    std::fputs("count\n", in_);
    std::fflush(in_);
    const std::string line = ReadLine();
    const size_t cpu = line.find(" cpu_us=");
    cpu_us_ = cpu == std::string::npos ? 0 : std::strtoull(line.c_str() + cpu + 8, nullptr, 10);
    return line.rfind("count=", 0) == 0 ? std::strtoull(line.c_str() + 6, nullptr, 10) : 0;
  }
  // The receiver's CPU time (all threads) at the last Count().
  uint64_t cpu_us() const { return cpu_us_; }

  void Stop() {
    if (pid_ <= 0) return;
    std::fclose(in_);
    (void)ReadLine();  // "final=..."
    std::fclose(out_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  ~Receiver() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  int port() const { return port_; }

 private:
  uint64_t cpu_us_ = 0;
  std::string ReadLine() {
    char buffer[256];
    if (std::fgets(buffer, sizeof buffer, out_) == nullptr) return {};
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

// A B1 pipeline whose batch processor exports over OTLP/gRPC with default options.
struct GrpcPipeline {
  std::shared_ptr<vllora::otel::TracerProvider> provider;
  vllora::otel::BatchSpanProcessor* batch = nullptr;
  vllora::otlp::OtlpGrpcExporter* exporter = nullptr;
  std::shared_ptr<vllora::Registry> registry;

  explicit GrpcPipeline(int port) {
    vllora::otlp::OtlpGrpcExporterOptions options;  // defaults, except where to send
    options.endpoint = "http://127.0.0.1:" + std::to_string(port);
    // Experiments only (B4's figures use the defaults): B4_MAX_CONCURRENT_REQUESTS overrides
    // that option (the batch processor reads its own variables, e.g.
    // OTEL_BSP_MAX_EXPORT_BATCH_SIZE and OTEL_BSP_MAX_CONCURRENT_EXPORTS).
    if (const char* v = std::getenv("B4_MAX_CONCURRENT_REQUESTS")) {
      options.max_concurrent_requests = std::strtoull(v, nullptr, 10);
    }
    std::string error;
    auto grpc = vllora::otlp::OtlpGrpcExporter::Create(options, &error);
    if (grpc == nullptr) {
      std::fprintf(stderr, "b4_driver: exporter: %s\n", error.c_str());
      std::exit(1);
    }
    exporter = grpc.get();
    auto processor = std::make_unique<vllora::otel::BatchSpanProcessor>(std::move(grpc));
    batch = processor.get();
    provider =
        vllora::otel::TracerProvider::builder().WithSpanProcessor(std::move(processor)).Build();
    registry = vllora::Registry::Create();
    registry->With(
        vllora::OtelLayer("bench", vllora::LevelFilter::kInfo, provider->GetTracer("bench")));
    vllora::SetGlobalSubscriber(registry);
  }

  void Finish() {
    provider->Shutdown(std::chrono::seconds(30));
    vllora::SetGlobalSubscriber(nullptr);
  }
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// This process's CPU time, all threads.
double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double PeakRssMib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

// Emits at `rate` spans/s for `seconds`; returns the number emitted. Paces in 1 ms slices.
uint64_t EmitPaced(double rate, double seconds) {
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  uint64_t emitted = 0;
  for (;;) {
    const auto now = Clock::now();
    if (now >= end) break;
    const auto due =
        static_cast<uint64_t>(std::chrono::duration<double>(now - start).count() * rate);
    if (emitted >= due) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    const uint64_t chunk_end = std::min<uint64_t>(due, emitted + 1000);
    while (emitted < chunk_end) vllora::bench::OneSpan(static_cast<int64_t>(++emitted));
  }
  return emitted;
}

int Steady(Receiver& receiver, double max_rate, double seconds) {
  const double rates[] = {25e3, 50e3, 100e3, 200e3, 300e3, 500e3, 700e3, 1e6, 1.5e6, 2e6};
  double best = 0;
  for (double rate : rates) {
    if (rate > max_rate) break;
    const uint64_t received_before = receiver.Count();
    GrpcPipeline pipeline(receiver.port());
    const uint64_t emitted = EmitPaced(rate, seconds);
    pipeline.Finish();
    const auto stats = pipeline.batch->Stats();
    const auto export_stats = pipeline.exporter->Stats();
    const uint64_t delivered = receiver.Count() - received_before;
    const double achieved = static_cast<double>(emitted) / seconds;
    const bool kept_pace = achieved >= 0.95 * rate;
    const uint64_t dropped = stats.dropped_queue_full + stats.dropped_byte_limit;
    const bool ok =
        kept_pace && dropped == 0 && export_stats.failed_spans == 0 && delivered == emitted;
    std::fprintf(stderr,
                 "  B4 steady %9.0f spans/s: emitted %llu (%.0f/s) delivered %llu dropped %llu "
                 "export-failed %llu -> %s\n",
                 rate, static_cast<unsigned long long>(emitted), achieved,
                 static_cast<unsigned long long>(delivered),
                 static_cast<unsigned long long>(dropped),
                 static_cast<unsigned long long>(export_stats.failed_spans),
                 ok ? "ok" : (kept_pace ? "drops" : "cannot keep pace"));
    if (!ok) break;
    best = rate;
  }
  std::printf("b4_max_no_drop_spans_per_s=%.0f\n", best);
  return 0;
}

int Burst(Receiver& receiver, uint64_t spans) {
  const uint64_t received_before = receiver.Count();
  const uint64_t receiver_cpu_before = receiver.cpu_us();
  const double process_cpu_start = ProcessCpuSeconds();
  GrpcPipeline pipeline(receiver.port());
  vllora::bench::OneSpan(0);  // warm-up (callsite registration), not counted below
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  for (uint64_t i = 1; i < spans; ++i) vllora::bench::OneSpan(static_cast<int64_t>(i));
  const double cpu = ThreadCpuSeconds() - cpu_start;
  const double emit_s = std::chrono::duration<double>(Clock::now() - start).count();
  pipeline.Finish();
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const auto stats = pipeline.batch->Stats();
  const auto export_stats = pipeline.exporter->Stats();
  const uint64_t delivered = receiver.Count() - received_before;
  const double process_cpu = ProcessCpuSeconds() - process_cpu_start;
  const double receiver_cpu = static_cast<double>(receiver.cpu_us() - receiver_cpu_before) / 1e6;
  std::printf("b4_burst_spans=%llu\n", static_cast<unsigned long long>(spans));
  std::printf("b4_burst_wall_s=%.3f\n", wall_s);
  std::printf("b4_burst_emit_s=%.3f\n", emit_s);
  std::printf("b4_app_cpu_us_per_span=%.3f\n",
              spans > 1 ? cpu * 1e6 / static_cast<double>(spans - 1) : 0.0);
  std::printf("b4_burst_delivered=%llu\n", static_cast<unsigned long long>(delivered));
  std::printf("b4_burst_dropped=%llu\n",
              static_cast<unsigned long long>(stats.dropped_queue_full + stats.dropped_byte_limit));
  std::printf("b4_burst_export_failed_spans=%llu\n",
              static_cast<unsigned long long>(export_stats.failed_spans));
  std::printf("b4_peak_rss_mib=%.1f\n", PeakRssMib());
  // Where the rest of the CPU goes, per delivered span: this process minus the application
  // thread (the export side: processor worker, encoding, gRPC), and the receiver process.
  if (delivered > 0) {
    const double per = 1e6 / static_cast<double>(delivered);
    std::printf("b4_burst_export_cpu_us_per_span=%.3f\n", (process_cpu - cpu) * per);
    std::printf("b4_burst_receiver_cpu_us_per_span=%.3f\n", receiver_cpu * per);
  }
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: b4_driver <otlp_count_receiver> steady [max_rate] [seconds_per_step]\n"
               "       b4_driver <otlp_count_receiver> burst [spans]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string_view mode = argv[2];
  if (mode != "steady" && mode != "burst") return Usage();
  Receiver receiver;
  if (!receiver.Start(argv[1])) {
    std::fprintf(stderr, "b4_driver: cannot start %s\n", argv[1]);
    return 1;
  }
  int rc = 0;
  if (mode == "steady") {
    const double max_rate = argc > 3 ? std::strtod(argv[3], nullptr) : 2e6;
    const double seconds = argc > 4 ? std::strtod(argv[4], nullptr) : 2.0;
    rc = Steady(receiver, max_rate, seconds);
  } else {
    const uint64_t spans = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1000000;
    rc = Burst(receiver, spans);
  }
  std::fflush(stdout);
  receiver.Stop();
  return rc;
}
