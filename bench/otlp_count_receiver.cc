// B4's receiver (issue 7): a count-only OTLP/gRPC trace receiver, in its own process.
//
//   otlp_count_receiver            # binds 127.0.0.1 on a free port
//   -> prints "port=<n>" once it listens
//   stdin "count\n"  -> prints "count=<spans received so far>"
//   stdin EOF        -> prints "final=<spans>", shuts down and exits 0
//
// It parses each ExportTraceServiceRequest (as a real receiver must) and counts the spans in it,
// then answers an empty ExportTraceServiceResponse. Nothing is stored.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using opentelemetry::proto::collector::trace::v1::TraceService;

class CountingService final : public TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* /*context*/, const ExportTraceServiceRequest* request,
                      ExportTraceServiceResponse* /*response*/) override {
    uint64_t spans = 0;
    for (const auto& resource_spans : request->resource_spans()) {
      for (const auto& scope_spans : resource_spans.scope_spans()) {
        spans += static_cast<uint64_t>(scope_spans.spans_size());
      }
    }
    spans_.fetch_add(spans, std::memory_order_relaxed);
    requests_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status::OK;
  }
  uint64_t spans() const { return spans_.load(std::memory_order_relaxed); }
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> spans_{0};
  std::atomic<uint64_t> requests_{0};
};

}  // namespace

int main() {
  CountingService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "otlp_count_receiver: cannot listen on 127.0.0.1\n");
    return 1;
  }
  std::printf("port=%d\n", port);
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "count") {
      std::printf("count=%llu\n", static_cast<unsigned long long>(service.spans()));
      std::fflush(stdout);
    }
  }
  // A deadline: without one gRPC waits for the client's idle connection (~5 s).
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  std::printf("final=%llu requests=%llu\n", static_cast<unsigned long long>(service.spans()),
              static_cast<unsigned long long>(service.requests()));
  std::fflush(stdout);
  return 0;
}
