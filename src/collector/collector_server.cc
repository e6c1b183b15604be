#include "vllora/collector/collector_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <utility>

#include "collector/json_text.h"
#include "collector/otlp_json.h"
#include "collector/otlp_mapping.h"
#include "collector/otlp_protobuf.h"
#include "collector/otlp_wire_rows.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "vllora/collector/sqlite_span_store.h"

namespace vllora::collector {
namespace {

// The largest gRPC request buffer a receiving thread keeps for the next request.
constexpr size_t kMaxKeptJoinBytes = 4 << 20;

using internal::ExportRequest;
using ExportResponse = opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using opentelemetry::proto::collector::trace::v1::TraceService;

struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> stored{0};
  std::atomic<uint64_t> rejected{0};
};

// What an export is answered with, independent of the transport.
struct Answer {
  enum class Code { kOk, kUnavailable, kInternal };
  Code code = Code::kOk;
  int64_t rejected_spans = 0;
  std::string message;  // partial-success message (kOk) or the error (otherwise)
};

// Writes the rows of a decoded request and calls `done` after the commit (on the store's thread,
// or at once when there is nothing to write).
void Ingest(SpanStore& store, Counters& counters, internal::DecodedRequest decoded,
            std::function<void(const Answer&)> done) {
  counters.rejected.fetch_add(static_cast<uint64_t>(decoded.rejected_spans),
                              std::memory_order_relaxed);
  Answer answer;
  answer.rejected_spans = decoded.rejected_spans;
  answer.message = std::move(decoded.error_message);
  if (decoded.batch.empty()) {
    done(answer);
    return;
  }
  const size_t rows = decoded.batch.size();
  store.WriteAsync(std::move(decoded.batch), [&counters, answer = std::move(answer), rows,
                                              done = std::move(done)](const WriteResult& result) {
    Answer final_answer = answer;
    if (result.ok) {
      counters.stored.fetch_add(rows, std::memory_order_relaxed);
    } else {
      counters.refused.fetch_add(1, std::memory_order_relaxed);
      final_answer.code = result.retryable ? Answer::Code::kUnavailable : Answer::Code::kInternal;
      final_answer.message = result.error;
    }
    done(final_answer);
  });
}

// The rows of an OTLP/JSON request (decoded into messages, then mapped).
internal::JsonDecode DecodeJsonRows(const std::string& body, size_t max_values,
                                    std::string_view header_tenant, internal::DecodedRequest* out,
                                    std::string* error) {
  ExportRequest parsed;
  const internal::JsonDecode decoded = internal::DecodeOtlpJson(body, max_values, &parsed, error);
  if (decoded != internal::JsonDecode::kOk) return decoded;
  return internal::MapExportRequestInto(parsed, header_tenant, out, error)
             ? internal::JsonDecode::kOk
             : internal::JsonDecode::kTooLarge;
}

std::string EncodeResponse(const Answer& answer) {
  ExportResponse response;
  if (answer.rejected_spans > 0 || !answer.message.empty()) {
    response.mutable_partial_success()->set_rejected_spans(answer.rejected_spans);
    response.mutable_partial_success()->set_error_message(answer.message);
  }
  return response.SerializeAsString();
}

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in) || in.eof();
}

// "HOST:PORT" or "[V6]:PORT" -> host, port.
bool SplitAddress(const std::string& address, std::string& host, int& port, std::string* error) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    *error = "invalid address \"" + address + "\" (expected HOST:PORT)";
    return false;
  }
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  const auto result = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (result.ec != std::errc() || result.ptr != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    *error = "invalid port in \"" + address + "\"";
    return false;
  }
  return true;
}

std::string JoinAddress(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// ---------------------------------------------------------------------------------------------
// OTLP/gRPC

class GrpcTraceService final
    : public TraceService::WithRawCallbackMethod_Export<TraceService::Service> {
 public:
  GrpcTraceService(SpanStore& store, Counters& counters, std::string token)
      : store_(store), counters_(counters), token_(std::move(token)) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    const auto& metadata = context->client_metadata();
    if (!token_.empty()) {
      const auto it = metadata.find("authorization");
      const std::string expected = "Bearer " + token_;
      if (it == metadata.end() ||
          std::string_view(it->second.data(), it->second.size()) != expected) {
        counters_.refused.fetch_add(1, std::memory_order_relaxed);
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                     "missing or wrong bearer token (authorization metadata)"));
        return reactor;
      }
    }
    std::vector<grpc::Slice> slices;
    if (!request->Dump(&slices).ok()) {
      counters_.malformed.fetch_add(1, std::memory_order_relaxed);
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unreadable request"));
      return reactor;
    }
    // One slice is parsed in place; several (the usual case for a request of more than a few KiB)
    // are joined first, in one copy into a per-thread buffer sized once: no reallocation while
    // appending, and no fresh allocation (and page faults) per request. It is kept up to
    // kMaxKeptJoinBytes.
    thread_local std::string joined;
    std::string_view bytes;
    if (slices.size() == 1) {
      bytes = std::string_view(reinterpret_cast<const char*>(slices[0].begin()), slices[0].size());
    } else {
      joined.clear();
      joined.reserve(request->Length());
      for (const grpc::Slice& slice : slices) {
        joined.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
      bytes = joined;
    }
    // Runs when this call returns (after the decoding, the buffer's one reader).
    struct ReleaseLargeJoin {
      ~ReleaseLargeJoin() {
        if (joined.capacity() > kMaxKeptJoinBytes) std::string().swap(joined);
      }
    } release_large_join;
    std::string tenant;
    if (const auto it = metadata.find("x-project-id"); it != metadata.end()) {
      tenant.assign(it->second.data(), it->second.size());
    }
    // Decoded straight from the wire bytes into the rows the store binds.
    internal::DecodedRequest decoded;
    decoded.batch = store_.NewBatch();
    std::string error;
    if (!internal::DecodeOtlpProtobufRows(bytes, tenant, &decoded, &error)) {
      counters_.malformed.fetch_add(1, std::memory_order_relaxed);
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, error));
      return reactor;
    }
    Ingest(store_, counters_, std::move(decoded), [reactor, response](const Answer& answer) {
      switch (answer.code) {
        case Answer::Code::kOk: {
          const std::string encoded = EncodeResponse(answer);
          grpc::Slice slice(encoded);
          *response = grpc::ByteBuffer(&slice, 1);
          reactor->Finish(grpc::Status::OK);
          break;
        }
        case Answer::Code::kUnavailable:
          reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, answer.message));
          break;
        case Answer::Code::kInternal:
          reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, answer.message));
          break;
      }
    });
    return reactor;
  }

 private:
  SpanStore& store_;
  Counters& counters_;
  const std::string token_;
};

// ---------------------------------------------------------------------------------------------
// OTLP/HTTP

enum class BodyType { kProtobuf, kJson, kOther };

BodyType TypeOf(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (media == "application/x-protobuf" || media == "application/protobuf") {
    return BodyType::kProtobuf;
  }
  if (media == "application/json") return BodyType::kJson;
  return BodyType::kOther;
}

// A google.rpc.Status body: {code, message} as protobuf (field 1 varint, field 2 string) or JSON.
void SetErrorBody(httplib::Response& res, int http_status, int rpc_code, const std::string& message,
                  BodyType type) {
  res.status = http_status;
  if (type == BodyType::kProtobuf) {
    std::string body;
    body.push_back(0x08);
    body.push_back(static_cast<char>(rpc_code));  // codes are < 128
    body.push_back(0x12);
    const std::string text = internal::RepairUtf8(message);
    uint64_t length = text.size();
    while (length >= 0x80) {
      body.push_back(static_cast<char>((length & 0x7F) | 0x80));
      length >>= 7;
    }
    body.push_back(static_cast<char>(length));
    body += text;
    res.set_content(body, "application/x-protobuf");
  } else {
    nlohmann::json body = {{"code", rpc_code}, {"message", internal::RepairUtf8(message)}};
    res.set_content(body.dump(), "application/json");
  }
}

void HandleHttpExport(const CollectorOptions& options, SpanStore& store, Counters& counters,
                      const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& content_reader) {
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  const BodyType type = TypeOf(req.get_header_value("Content-Type"));
  const BodyType answer_type = type == BodyType::kProtobuf ? BodyType::kProtobuf : BodyType::kJson;
  const std::string encoding = req.get_header_value("Content-Encoding");
  bool encoding_ok = encoding.empty() || encoding == "identity" || encoding == "gzip";

  // A sender without the token has its body read (so a kept-alive connection stays in sync:
  // httplib 0.11 cannot close it from here) but not kept or parsed.
  const bool authorized =
      options.token.empty() || req.get_header_value("Authorization") == "Bearer " + options.token;
  // The body is read even for requests refused below, for the same reason; its size is bounded
  // as it arrives. Without gzip, what arrives is what was sent: the wire limit applies to a
  // chunked body too (httplib checks only a Content-Length against it).
  const bool gzip = encoding == "gzip";
  const size_t max_body = gzip
                              ? options.max_decompressed_bytes
                              : std::min(options.max_decompressed_bytes, options.max_request_bytes);
  std::string body;
  size_t received = 0;
  bool too_large = false;
  const bool read_ok = content_reader([&](const char* data, size_t length) {
    received += length;
    if (received > max_body) {
      too_large = true;
      return false;
    }
    if (authorized) body.append(data, length);
    return true;
  });
  if (!authorized) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    res.set_header("WWW-Authenticate", "Bearer");
    SetErrorBody(res, 401, 16, "missing or wrong bearer token (Authorization header)", answer_type);
    return;
  }
  if (too_large || res.status == 413) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    res.set_header("Connection", "close");
    SetErrorBody(res, 413, 8,
                 "request body larger than " + std::to_string(options.max_decompressed_bytes) +
                     " bytes (decompressed) or " + std::to_string(options.max_request_bytes) +
                     " bytes (on the wire)",
                 answer_type);
    return;
  }
  if (type == BodyType::kOther || !encoding_ok) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    SetErrorBody(res, 415, 3,
                 type == BodyType::kOther
                     ? "unsupported Content-Type \"" + req.get_header_value("Content-Type") +
                           "\" (use application/x-protobuf or application/json)"
                     : "unsupported Content-Encoding \"" + encoding + "\" (use gzip or none)",
                 answer_type);
    return;
  }
  if (!read_ok) {
    counters.malformed.fetch_add(1, std::memory_order_relaxed);
    res.set_header("Connection", "close");
    SetErrorBody(res, 400, 3, "cannot read the request body (bad gzip data or truncated body)",
                 answer_type);
    return;
  }
  const std::string header_tenant = req.get_header_value("x-project-id");
  internal::DecodedRequest decoded;
  decoded.batch = store.NewBatch();
  std::string error;
  internal::JsonDecode parsed = internal::JsonDecode::kOk;
  if (type == BodyType::kProtobuf) {
    if (!internal::DecodeOtlpProtobufRows(body, header_tenant, &decoded, &error))
      parsed = internal::JsonDecode::kMalformed;
  } else {
    parsed = DecodeJsonRows(body, options.max_json_values, header_tenant, &decoded, &error);
  }
  if (parsed == internal::JsonDecode::kTooLarge) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    SetErrorBody(res, 413, 8, error, answer_type);
    return;
  }
  if (parsed != internal::JsonDecode::kOk) {
    counters.malformed.fetch_add(1, std::memory_order_relaxed);
    SetErrorBody(res, 400, 3, error, answer_type);
    return;
  }
  std::promise<Answer> promise;
  std::future<Answer> future = promise.get_future();
  Ingest(store, counters, std::move(decoded),
         [&promise](const Answer& answer) { promise.set_value(answer); });
  const Answer answer = future.get();
  switch (answer.code) {
    case Answer::Code::kOk:
      res.status = 200;
      if (type == BodyType::kProtobuf) {
        res.set_content(EncodeResponse(answer), "application/x-protobuf");
      } else if (answer.rejected_spans > 0 || !answer.message.empty()) {
        nlohmann::json body_json = {{"partialSuccess",
                                     {{"rejectedSpans", std::to_string(answer.rejected_spans)},
                                      {"errorMessage", answer.message}}}};
        res.set_content(body_json.dump(), "application/json");
      } else {
        res.set_content("{}", "application/json");
      }
      break;
    case Answer::Code::kUnavailable:
      res.set_header("Retry-After", "1");
      SetErrorBody(res, 503, 14, answer.message, answer_type);
      break;
    case Answer::Code::kInternal:
      SetErrorBody(res, 500, 13, answer.message, answer_type);
      break;
  }
}

}  // namespace

void WaitUntilRunning(const httplib::Server& server) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---------------------------------------------------------------------------------------------

struct CollectorServer::Impl {
  CollectorOptions options;
  std::unique_ptr<SpanStore> store;
  Counters counters;
  std::unique_ptr<GrpcTraceService> grpc_service;
  std::unique_ptr<grpc::Server> grpc_server;
  std::string grpc_bound;
  std::unique_ptr<httplib::Server> http_server;
  std::thread http_thread;
  std::string http_bound;
  std::mutex shutdown_mu;
  bool shut_down = false;

  bool StartGrpc(std::string* error) {
    std::string host;
    int port = 0;
    if (!SplitAddress(options.grpc_address, host, port, error)) return false;
    std::shared_ptr<grpc::ServerCredentials> credentials;
    if (!options.tls_cert_path.empty()) {
      grpc::SslServerCredentialsOptions ssl;
      grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
      if (!ReadFile(options.tls_key_path, pair.private_key) ||
          !ReadFile(options.tls_cert_path, pair.cert_chain)) {
        *error = "cannot read TLS certificate " + options.tls_cert_path + " or key " +
                 options.tls_key_path;
        return false;
      }
      ssl.pem_key_cert_pairs.push_back(std::move(pair));
      credentials = grpc::SslServerCredentials(ssl);
    } else {
      credentials = grpc::InsecureServerCredentials();
    }
    grpc_service = std::make_unique<GrpcTraceService>(*store, counters, options.token);
    grpc::ServerBuilder builder;
    int bound_port = 0;
    builder.AddListeningPort(JoinAddress(host, port), credentials, &bound_port);
    builder.RegisterService(grpc_service.get());
    builder.SetMaxReceiveMessageSize(static_cast<int>(
        std::min<size_t>(options.max_request_bytes, static_cast<size_t>(INT32_MAX))));
    // A second collector on the same port must fail, not share it (gRPC sets SO_REUSEPORT by
    // default).
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    grpc_server = builder.BuildAndStart();
    if (grpc_server == nullptr || bound_port == 0) {
      *error = "cannot listen for OTLP/gRPC on " + options.grpc_address +
               " (address in use, or not a local address)";
      if (grpc_server) grpc_server->Shutdown();
      grpc_server.reset();
      return false;
    }
    grpc_bound = JoinAddress(host, bound_port);
    return true;
  }

  bool StartHttp(std::string* error) {
    std::string host;
    int port = 0;
    if (!SplitAddress(options.http_address, host, port, error)) return false;
    if (!options.tls_cert_path.empty()) {
      auto tls = std::make_unique<httplib::SSLServer>(options.tls_cert_path.c_str(),
                                                      options.tls_key_path.c_str());
      if (!tls->is_valid()) {
        *error = "cannot load TLS certificate " + options.tls_cert_path + " / key " +
                 options.tls_key_path;
        return false;
      }
      http_server = std::move(tls);
    } else {
      http_server = std::make_unique<httplib::Server>();
    }
    httplib::Server& server = *http_server;
    // SO_REUSEADDR only (httplib would also set SO_REUSEPORT): a busy port must fail.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server.set_payload_max_length(options.max_request_bytes);
    server.set_read_timeout(30, 0);
    server.set_keep_alive_timeout(30);
    server.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res,
                                     const httplib::ContentReader& reader) {
      HandleHttpExport(options, *store, counters, req, res, reader);
    });
    const auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", "POST");
      SetErrorBody(res, 405, 12, "use POST", BodyType::kJson);
    };
    server.Get("/v1/traces", not_allowed);
    server.Put("/v1/traces", not_allowed);
    server.Patch("/v1/traces", not_allowed);
    server.Delete("/v1/traces", not_allowed);
    server.Options("/v1/traces", not_allowed);
    int bound_port = port;
    if (port == 0) {
      bound_port = server.bind_to_any_port(host);
    } else if (!server.bind_to_port(host, port)) {
      bound_port = -1;
    }
    if (bound_port <= 0) {
      *error = "cannot listen for OTLP/HTTP on " + options.http_address +
               " (address in use, or not a local address)";
      http_server.reset();
      return false;
    }
    http_bound = JoinAddress(host, bound_port);
    http_thread = std::thread([&server] { server.listen_after_bind(); });
    WaitUntilRunning(server);
    return true;
  }

  void Shutdown() {
    std::lock_guard lock(shutdown_mu);
    if (shut_down) return;
    shut_down = true;
    // Stop accepting first; requests in flight finish (their rows are committed by the store,
    // still running) before the servers return.
    if (http_server) {
      // stop() does nothing before listen_after_bind() has started: wait for it first.
      WaitUntilRunning(*http_server);
      http_server->stop();
    }
    if (http_thread.joinable()) http_thread.join();
    if (grpc_server) {
      grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(30));
      grpc_server->Wait();
    }
    if (store) store->Close();
  }
};

CollectorServer::CollectorServer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

std::unique_ptr<CollectorServer> CollectorServer::Start(const CollectorOptions& options,
                                                        std::string* error) noexcept {
  return Start(options, nullptr, error);
}

std::unique_ptr<CollectorServer> CollectorServer::Start(const CollectorOptions& options,
                                                        std::unique_ptr<SpanStore> store,
                                                        std::string* error) noexcept {
  std::string local_error;
  std::string* err = error != nullptr ? error : &local_error;
  try {
    if (options.tls_cert_path.empty() != options.tls_key_path.empty()) {
      *err = "TLS needs both a certificate and a key";
      return nullptr;
    }
    if (options.grpc_address.empty() && options.http_address.empty()) {
      *err = "neither a gRPC nor an HTTP address";
      return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    if (store == nullptr) {
      SqliteSpanStoreOptions store_options;
      store_options.path = options.db_path;
      store_options.synchronous_full = options.synchronous_full;
      store_options.max_pending_rows = options.max_pending_rows;
      store_options.max_pending_bytes = options.max_pending_bytes;
      store = SqliteSpanStore::Open(store_options, err);
      if (store == nullptr) return nullptr;
    }
    impl->store = std::move(store);
    if (!options.grpc_address.empty() && !impl->StartGrpc(err)) {
      impl->Shutdown();
      return nullptr;
    }
    if (!options.http_address.empty() && !impl->StartHttp(err)) {
      impl->Shutdown();
      return nullptr;
    }
    return std::unique_ptr<CollectorServer>(new CollectorServer(std::move(impl)));
  } catch (const std::exception& e) {
    *err = e.what();
    return nullptr;
  }
}

CollectorServer::~CollectorServer() { Shutdown(); }

std::string CollectorServer::grpc_address() const { return impl_->grpc_bound; }
std::string CollectorServer::http_address() const { return impl_->http_bound; }
void CollectorServer::Shutdown() { impl_->Shutdown(); }

CollectorStats CollectorServer::Stats() const noexcept {
  CollectorStats stats;
  stats.requests = impl_->counters.requests.load(std::memory_order_relaxed);
  stats.malformed_requests = impl_->counters.malformed.load(std::memory_order_relaxed);
  stats.refused_requests = impl_->counters.refused.load(std::memory_order_relaxed);
  stats.spans_stored = impl_->counters.stored.load(std::memory_order_relaxed);
  stats.spans_rejected = impl_->counters.rejected.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace vllora::collector
