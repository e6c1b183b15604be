// B4's receiver (issue 7): a count-only OTLP/gRPC trace receiver, in its own process.
//
//   otlp_count_receiver            # binds 127.0.0.1 on a free port
//   -> prints "port=<n>" once it listens
//   stdin "count\n"  -> prints "count=<spans received so far> cpu_us=<its CPU time so far>"
//   stdin EOF        -> prints "final=<spans>", shuts down and exits 0
//
// It does NOT parse requests into ExportTraceServiceRequest messages: it is a generic (raw
// bytes) async service, driven by one completion-queue thread, for the TraceService/Export
// method, and counts the spans by walking
// the protobuf wire format (ResourceSpans(1) > ScopeSpans(2) > Span(2)), checking only that the
// framing is well formed, and answers an empty ExportTraceServiceResponse. So B4 measures the
// exporter and the transport, not a receiver's decoding (B5 measures a real receiver). A
// malformed request gets INVALID_ARGUMENT, another method UNIMPLEMENTED. Nothing is stored.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// A cursor over protobuf wire bytes held in a list of slices (a request arrives in several;
// they are walked where they are instead of being copied into one). Positions are offsets from
// the start of the request.
class WireReader {
 public:
  explicit WireReader(const std::vector<grpc::Slice>& slices) : slices_(slices) { Enter(0); }

  uint64_t position() const { return base_ + static_cast<uint64_t>(p_ - begin_); }

  bool Varint(uint64_t* value) {
    if (end_ - p_ >= 10) [[likely]] {  // the longest varint fits in this slice: no slice checks
      const uint8_t* p = p_;
      uint64_t result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        const uint8_t byte = *p++;
        result |= uint64_t{byte & 0x7FU} << shift;
        if (byte < 0x80) {
          p_ = p;
          *value = result;
          return true;
        }
      }
      return false;
    }
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = 0;
      if (!Byte(&byte)) return false;
      result |= uint64_t{byte & 0x7FU} << shift;
      if (byte < 0x80) {
        *value = result;
        return true;
      }
    }
    return false;
  }

  // The innermost level's usual case: counts the consecutive entries with the one-byte tag
  // `tag` and a 1-2 byte length that lie wholly in this slice and end by `end`, and moves past
  // them. Stops at anything else (left to the general loop, which checks it).
  uint64_t SkipRun(uint8_t tag, uint64_t end) {
    uint64_t n = 0;
    const uint8_t* p = p_;
    const uint8_t* limit = end_;
    if (end - base_ < static_cast<uint64_t>(limit - begin_)) limit = begin_ + (end - base_);
    while (limit - p >= 3 && p[0] == tag) {
      size_t size = p[1];
      const uint8_t* body = p + 2;
      if (size >= 0x80) {
        if (p[2] >= 0x80) break;
        size = (size & 0x7FU) | (size_t{p[2]} << 7);
        ++body;
      }
      if (size > static_cast<size_t>(limit - body)) break;
      p = body + size;
      ++n;
    }
    p_ = p;
    return n;
  }

  // Skips `n` bytes; false if the request ends first.
  bool Skip(uint64_t n) {
    while (n > static_cast<uint64_t>(end_ - p_)) {
      n -= static_cast<uint64_t>(end_ - p_);
      if (index_ + 1 >= slices_.size()) return false;
      Enter(index_ + 1);
    }
    p_ += n;
    return true;
  }

 private:
  bool Byte(uint8_t* byte) {
    while (p_ == end_) {
      if (index_ + 1 >= slices_.size()) return false;
      Enter(index_ + 1);
    }
    *byte = *p_++;
    return true;
  }

  void Enter(size_t index) {
    if (index < slices_.size()) {
      if (index > 0) base_ += slices_[index_].size();
      index_ = index;
      begin_ = slices_[index].begin();
      end_ = slices_[index].end();
    } else {
      begin_ = end_ = nullptr;
    }
    p_ = begin_;
  }

  const std::vector<grpc::Slice>& slices_;
  size_t index_ = 0;
  uint64_t base_ = 0;  // offset of slices_[index_]
  const uint8_t* begin_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
};

// Counts the spans of one level: `path[0]` messages from the reader's position to `end`,
// recursing while `depth` > 0 (request -> ResourceSpans(1) -> ScopeSpans(2) -> Span(2)).
// Spans themselves are skipped, not read. False on malformed framing.
bool CountNested(WireReader& reader, uint64_t end, const uint32_t* path, int depth,
                 uint64_t* spans) {
  const uint8_t run_tag = static_cast<uint8_t>(path[0] << 3 | 2);  // path[0] < 16
  while (reader.position() < end) {
    if (depth == 0) {  // spans: the common ones without the general loop
      *spans += reader.SkipRun(run_tag, end);
      if (reader.position() >= end) break;
    }
    uint64_t tag = 0;
    if (!reader.Varint(&tag)) return false;
    bool ok = false;
    switch (tag & 7) {
      case 0: {
        uint64_t ignored = 0;
        ok = reader.Varint(&ignored);
        break;
      }
      case 1:
        ok = reader.Skip(8);
        break;
      case 5:
        ok = reader.Skip(4);
        break;
      case 2: {
        uint64_t size = 0;
        if (!reader.Varint(&size) || size > end - reader.position()) return false;
        if (static_cast<uint32_t>(tag >> 3) != path[0]) {
          ok = reader.Skip(size);
        } else if (depth == 0) {
          ++*spans;
          ok = reader.Skip(size);
        } else {
          ok = CountNested(reader, reader.position() + size, path + 1, depth - 1, spans);
        }
        break;
      }
      default:
        return false;
    }
    if (!ok) return false;
  }
  return reader.position() == end;
}

bool CountSpans(const grpc::ByteBuffer& request, uint64_t* spans) {
  const size_t length = request.Length();
  if (length == 0) return true;
  std::vector<grpc::Slice> slices;
  if (!request.Dump(&slices).ok()) return false;
  static constexpr uint32_t kPath[] = {1, 2, 2};
  WireReader reader(slices);
  return CountNested(reader, length, kPath, 2, spans);
}

class Counters {
 public:
  void Add(uint64_t spans) {
    spans_.fetch_add(spans, std::memory_order_relaxed);
    requests_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t spans() const { return spans_.load(std::memory_order_relaxed); }
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> spans_{0};
  std::atomic<uint64_t> requests_{0};
};

// One Export call on the completion queue: request -> read -> write-and-finish -> done.
struct Call {
  enum class State { kWaiting, kReading, kFinishing };
  State state = State::kWaiting;
  grpc::GenericServerContext context;
  grpc::GenericServerAsyncReaderWriter stream{&context};
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

class Receiver {
 public:
  Receiver(grpc::AsyncGenericService& service, grpc::ServerCompletionQueue& cq)
      : service_(service), cq_(cq) {}

  // Keeps a few calls posted so concurrent exports are accepted without waiting for this thread.
  void Start() {
    for (int i = 0; i < 8; ++i) Post();
  }

  // Runs until the queue is shut down and drained.
  void Run() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      auto* call = static_cast<Call*>(tag);
      switch (call->state) {
        case Call::State::kWaiting:
          if (!ok) {  // the server is shutting down
            delete call;
            break;
          }
          Post();
          if (call->context.method() != kExportMethod) {
            call->state = Call::State::kFinishing;
            call->stream.Finish(
                grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "only TraceService/Export"), call);
            break;
          }
          call->state = Call::State::kReading;
          call->stream.Read(&call->request, call);
          break;
        case Call::State::kReading: {
          call->state = Call::State::kFinishing;
          uint64_t spans = 0;
          if (!ok || !CountSpans(call->request, &spans)) {
            call->stream.Finish(
                grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed request"), call);
            break;
          }
          counters_.Add(spans);
          grpc::Slice empty;
          call->response = grpc::ByteBuffer(&empty, 1);
          call->stream.WriteAndFinish(call->response, grpc::WriteOptions(), grpc::Status::OK, call);
          break;
        }
        case Call::State::kFinishing:
          delete call;
          break;
      }
    }
  }

  // No new calls are posted after this (posting on a shut-down queue is not allowed).
  void StopPosting() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }

  const Counters& counters() const { return counters_; }

 private:
  void Post() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    auto* call = new Call;
    service_.RequestCall(&call->context, &call->stream, &cq_, &cq_, call);
  }

  grpc::AsyncGenericService& service_;
  grpc::ServerCompletionQueue& cq_;
  Counters counters_;
  std::mutex mutex_;
  bool stopping_ = false;
};

}  // namespace

int main() {
  // Freed request buffers stay in this process's heap. By default glibc gives the top of a
  // thread's heap back to the kernel once 128 KiB are free there (madvise), which here happened
  // on nearly every request (one ~250 KiB request freed per batch): each madvise is a TLB
  // shoot-down, an interrupt to the other core, where the application under test runs.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  grpc::AsyncGenericService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.RegisterAsyncGenericService(&service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "otlp_count_receiver: cannot listen on 127.0.0.1\n");
    return 1;
  }
  Receiver receiver(service, *cq);
  receiver.Start();
  std::thread thread([&receiver] { receiver.Run(); });
  std::printf("port=%d\n", port);
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "count") {
      // The process's CPU time so far (all threads, user + system), for the driver's figures.
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      const long long cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL +
                               usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
      std::printf("count=%llu cpu_us=%lld\n",
                  static_cast<unsigned long long>(receiver.counters().spans()), cpu_us);
      std::fflush(stdout);
    }
  }
  // A deadline: without one gRPC waits for the client's idle connection (~5 s).
  receiver.StopPosting();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  cq->Shutdown();
  thread.join();
  std::printf("final=%llu requests=%llu\n",
              static_cast<unsigned long long>(receiver.counters().spans()),
              static_cast<unsigned long long>(receiver.counters().requests()));
  std::fflush(stdout);
  return 0;
}
