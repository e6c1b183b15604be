// Writer-side companion of B5: how many B5-shaped rows per second SqliteSpanStore commits when
// `--writers` threads each keep one request of `--batch` rows in flight (as the gRPC receiver
// does), without the network and decoding. Prints store_rows_per_s, the transaction count and the
// process CPU seconds. A development tool (not part of bench/results.json).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "collector/otlp_mapping.h"
#include "vllora/collector/sqlite_span_store.h"

namespace {

namespace otlp = opentelemetry::proto;
using vllora::collector::SpanRow;

std::vector<SpanRow> BuildRows(uint64_t first_id, size_t batch, uint64_t trace_seed) {
  vllora::collector::internal::ExportRequest request;
  auto* rs = request.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("b5_load");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("vllora::user_tracing");
  std::string trace_id(16, '\0');
  for (size_t b = 0; b < 16; ++b) {
    trace_id[b] = static_cast<char>(((trace_seed * 0x9E3779B97F4A7C15ULL) >> (b * 4)) & 0xFF);
  }
  trace_id[0] = 1;
  for (size_t k = 0; k < batch; ++k) {
    auto* span = ss->add_spans();
    span->set_trace_id(trace_id);
    const uint64_t id = first_id + k;
    std::string span_id(8, '\0');
    for (int b = 0; b < 8; ++b) {
      span_id[static_cast<size_t>(b)] = static_cast<char>((id >> (56 - 8 * b)) & 0xFF);
    }
    span->set_span_id(span_id);
    span->set_name("chat_completion");
    span->set_start_time_unix_nano(1'700'000'000'000'000'000ULL);
    span->set_end_time_unix_nano(1'700'000'000'000'001'000ULL);
    for (const char* key : {"model_name", "provider_name", "thread_name"}) {
      auto* kv = span->add_attributes();
      kv->set_key(key);
      kv->mutable_value()->set_string_value("abcdefghijklmnopqrst");
    }
    auto* kv = span->add_attributes();
    kv->set_key("tokens");
    kv->mutable_value()->set_int_value(static_cast<int64_t>(k));
  }
  return vllora::collector::internal::MapExportRequest(request, "").rows;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SqliteSpanStore write throughput (B5 without the network)"};
  size_t total_rows = 400'000;
  size_t batch = 512;
  int writers = 4;
  app.add_option("--rows", total_rows)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--writers", writers)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (writers < 1 || batch < 1) return 2;
  const size_t per_writer = total_rows / (batch * static_cast<size_t>(writers));

  // Rows are built up front so that only the store is measured.
  std::vector<std::vector<std::vector<SpanRow>>> rows(static_cast<size_t>(writers));
  for (size_t w = 0; w < rows.size(); ++w) {
    for (size_t r = 0; r < per_writer; ++r) {
      rows[w].push_back(BuildRows((static_cast<uint64_t>(w) << 40) + r * batch + 1, batch,
                                  w * 1'000'003 + r + 1));
    }
  }
  char dir_template[] = "/tmp/vllora-store-load-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return 1;
  const std::filesystem::path dir = dir_template;
  vllora::collector::SqliteSpanStoreOptions options;
  options.path = (dir / "store.db").string();
  std::string error;
  auto store = vllora::collector::SqliteSpanStore::Open(options, &error);
  if (store == nullptr) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  bool failed = false;
  for (size_t w = 0; w < rows.size(); ++w) {
    threads.emplace_back([&, w] {
      for (auto& request : rows[w]) {
        if (!store->Write(std::move(request)).ok) failed = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  const auto stats = store->Stats();
  store.reset();
  std::filesystem::remove_all(dir);
  std::printf("store_rows_per_s=%.0f rows=%llu transactions=%llu seconds=%.3f cpu_s=%.3f\n",
              static_cast<double>(stats.rows_inserted) / seconds,
              static_cast<unsigned long long>(stats.rows_inserted),
              static_cast<unsigned long long>(stats.transactions), seconds, cpu);
  return failed ? 1 : 0;
}
