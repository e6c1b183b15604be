// vllora-collector end to end: a real `vllora-collector serve` process on 127.0.0.1 with free
// ports, fed by the official OpenTelemetry JS SDK, by our own exporters and by raw clients
// sending bad input; every test reads the SQLite rows back and compares them exactly.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "support/otlp_span_fixtures.h"
#include "support/tls_files.h"
#include "vllora/otlp/otlp_grpc_exporter.h"
#include "vllora/otlp/otlp_http_exporter.h"

namespace {

using nlohmann::json;
namespace otlp_proto = opentelemetry::proto;
using otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
using otlp_proto::collector::trace::v1::ExportTraceServiceResponse;
using otlp_proto::collector::trace::v1::TraceService;

// A `vllora-collector serve` child process.
class Collector {
 public:
  static std::unique_ptr<Collector> Start(const std::string& db,
                                          std::vector<std::string> extra = {}) {
    int fds[2];
    if (pipe(fds) != 0) return nullptr;
    std::vector<std::string> args = {VLLORA_COLLECTOR_BINARY, "serve",  "--db",       db, "--grpc",
                                     "127.0.0.1:0",           "--http", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    auto collector = std::unique_ptr<Collector>(new Collector());
    collector->pid_ = pid;
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(fds[0]);
    const std::string prefix = "listening grpc=";
    const size_t http_at = line.find(" http=");
    if (line.rfind(prefix, 0) != 0 || http_at == std::string::npos) {
      ADD_FAILURE() << "collector did not start: \"" << line << "\"";
      return nullptr;
    }
    collector->grpc_ = line.substr(prefix.size(), http_at - prefix.size());
    collector->http_ = line.substr(http_at + 6);
    return collector;
  }

  ~Collector() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Sends `signal` and returns the exit status (or -signal when killed by a signal).
  int Stop(int signal = SIGTERM) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  const std::string& grpc() const { return grpc_; }
  const std::string& http() const { return http_; }

 private:
  Collector() = default;
  pid_t pid_ = -1;
  std::string grpc_;
  std::string http_;
};

// Every row of the traces table, in rowid order, as JSON objects keyed by column name (JSON
// columns parsed, NULL as null).
std::vector<json> ReadRows(const std::string& db_path) {
  std::vector<json> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT * FROM traces ORDER BY rowid", -1, &stmt, nullptr),
            SQLITE_OK);
  const std::set<std::string> json_columns = {"attribute", "tags", "events", "resource"};
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    json row = json::object();
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const std::string name = sqlite3_column_name(stmt, i);
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_NULL:
          row[name] = nullptr;
          break;
        case SQLITE_INTEGER:
          row[name] = sqlite3_column_int64(stmt, i);
          break;
        default: {
          const std::string text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)));
          row[name] = json_columns.count(name) ? json::parse(text) : json(text);
        }
      }
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

std::string Uuid(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string Decimal(const std::string& hex) {
  return std::to_string(std::stoull(hex, nullptr, 16));
}

int64_t Micros(const std::string& nanos) { return static_cast<int64_t>(std::stoull(nanos) / 1000); }

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/vllora-collector-it-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    db_ = (dir_ / "traces.db").string();
  }
  void TearDown() override {
    collector_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartCollector(std::vector<std::string> extra = {}) {
    collector_ = Collector::Start(db_, std::move(extra));
    ASSERT_NE(collector_, nullptr);
  }

  std::filesystem::path dir_;
  std::string db_;
  std::unique_ptr<Collector> collector_;
};

// ---------------------------------------------------------------------------------------------
// The official OpenTelemetry JS SDK.

struct SenderOutput {
  int exit_code = -1;
  std::vector<json> spans;
  json resource;
  json export_line;
};

SenderOutput RunSender(const std::string& protocol, const std::string& endpoint,
                       const std::string& extra_args) {
  static std::once_flag setup_once;
  std::call_once(setup_once, [] {
    const std::string setup = std::string(VLLORA_OTLP_SENDER_DIR) + "/setup.sh";
    EXPECT_EQ(std::system(setup.c_str()), 0) << "npm ci for the sender failed";
  });
  const std::string command = std::string(VLLORA_NODE_EXECUTABLE) + " " + VLLORA_OTLP_SENDER_DIR +
                              "/sender.js --protocol " + protocol + " --endpoint " + endpoint +
                              " " + extra_args;
  SenderOutput out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  const int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const json line = json::parse(text.substr(start, end - start), nullptr, false);
    if (line.contains("span")) out.spans.push_back(line["span"]);
    if (line.contains("resource")) out.resource = line["resource"];
    if (line.contains("export")) out.export_line = line;
    start = end + 1;
  }
  return out;
}

// The row the contract says a sender span must become.
json ExpectedRow(const json& span, const json& resource, const std::string& header_tenant) {
  const json& attrs = span["attributes"];
  const auto text_or_null = [&](const char* key) {
    return attrs.contains(key) ? attrs[key] : json(nullptr);
  };
  json row;
  row["trace_id"] = Uuid(span["traceId"]);
  row["span_id"] = Decimal(span["spanId"]);
  row["parent_span_id"] =
      span["parentSpanId"].is_null() ? json(nullptr) : json(Decimal(span["parentSpanId"]));
  row["thread_id"] = text_or_null("vllora.thread_id");
  row["operation_name"] = span["name"];
  row["start_time_us"] = Micros(span["startTimeUnixNano"]);
  row["finish_time_us"] = Micros(span["endTimeUnixNano"]);
  row["attribute"] = attrs;
  row["run_id"] = text_or_null("vllora.run_id");
  row["project_id"] = text_or_null("vllora.project_id");
  row["tenant"] = attrs.contains("vllora.tenant") ? attrs["vllora.tenant"]
                  : header_tenant.empty()         ? json("default")
                                                  : json(header_tenant);
  row["label"] = text_or_null("vllora.label");
  json tags = nullptr;
  if (attrs.contains("tags")) {
    json parsed = json::parse(attrs["tags"].get<std::string>(), nullptr, false);
    if (parsed.is_object()) tags = parsed;
  }
  row["tags"] = tags;
  row["kind"] = span["kind"];
  row["status_code"] = span["statusCode"];
  row["status_message"] = span["statusMessage"];
  json events = json::array();
  for (const json& e : span["events"]) {
    events.push_back({{"name", e["name"]},
                      {"time_us", Micros(e["timeUnixNano"])},
                      {"attributes", e["attributes"]}});
  }
  row["events"] = events;
  row["resource"] = resource;
  row["scope_name"] = span["scope"];
  return row;
}

void ExpectRowsMatchSender(const std::vector<json>& rows, const SenderOutput& sent,
                           const std::string& header_tenant) {
  ASSERT_EQ(sent.spans.size(), 3u);
  ASSERT_EQ(rows.size(), sent.spans.size());
  std::map<std::string, json> by_span_id;
  for (const json& row : rows) {
    json copy = row;
    EXPECT_GT(copy["received_at_us"].get<int64_t>(), 0);
    copy.erase("received_at_us");
    by_span_id[copy["span_id"]] = copy;
  }
  for (const json& span : sent.spans) {
    const json expected = ExpectedRow(span, sent.resource, header_tenant);
    ASSERT_TRUE(by_span_id.count(expected["span_id"])) << span.dump();
    EXPECT_EQ(by_span_id[expected["span_id"]], expected)
        << "row:      " << by_span_id[expected["span_id"]].dump()
        << "\nexpected: " << expected.dump();
  }
}

class JsSdkTest : public CollectorTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(JsSdkTest, EveryRowExactlyAsSent) {
  StartCollector();
  const std::string protocol = GetParam();
  const std::string endpoint = protocol == "grpc" ? "http://" + collector_->grpc()
                                                  : "http://" + collector_->http() + "/v1/traces";
  const SenderOutput sent = RunSender(protocol, endpoint, "");
  ASSERT_EQ(sent.exit_code, 0) << sent.export_line.dump();
  ASSERT_EQ(sent.export_line["export"], "ok");
  ExpectRowsMatchSender(ReadRows(db_), sent, "");
}

TEST_P(JsSdkTest, TenantFromSpanAttributeOrHeader) {
  StartCollector();
  const std::string protocol = GetParam();
  const std::string endpoint = protocol == "grpc" ? "http://" + collector_->grpc()
                                                  : "http://" + collector_->http() + "/v1/traces";
  const SenderOutput with_header =
      RunSender(protocol, endpoint, "--header x-project-id=proj-header --no-thread");
  ASSERT_EQ(with_header.exit_code, 0);
  ExpectRowsMatchSender(ReadRows(db_), with_header, "proj-header");
  for (const json& row : ReadRows(db_)) {
    EXPECT_EQ(row["tenant"], "proj-header");
    EXPECT_EQ(row["thread_id"], nullptr);
  }
  const SenderOutput with_attribute =
      RunSender(protocol, endpoint, "--header x-project-id=ignored --tenant acme");
  ASSERT_EQ(with_attribute.exit_code, 0);
  const auto rows = ReadRows(db_);
  ASSERT_EQ(rows.size(), 6u);
  ExpectRowsMatchSender({rows.begin() + 3, rows.end()}, with_attribute, "");
}

TEST_P(JsSdkTest, BearerToken) {
  StartCollector({"--token", "s3cret"});
  const std::string protocol = GetParam();
  const std::string endpoint = protocol == "grpc" ? "http://" + collector_->grpc()
                                                  : "http://" + collector_->http() + "/v1/traces";
  const SenderOutput refused = RunSender(protocol, endpoint, "--header 'authorization=Bearer bad'");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.export_line["export"], "failed");
  EXPECT_TRUE(ReadRows(db_).empty());
  const SenderOutput accepted =
      RunSender(protocol, endpoint, "--header 'authorization=Bearer s3cret'");
  ASSERT_EQ(accepted.exit_code, 0);
  ExpectRowsMatchSender(ReadRows(db_), accepted, "");
}

INSTANTIATE_TEST_SUITE_P(Protocols, JsSdkTest,
                         ::testing::Values("grpc", "http/protobuf", "http/json"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (c == '/') c = '_';
                           }
                           return name;
                         });

// ---------------------------------------------------------------------------------------------
// Our own exporters.

json ExpectedRichAttributes() {
  return {{"str", "hello"},
          {"str.unicode", "h\xC3\xA9llo \xE2\x9C\x93"},
          {"str.escape", "quote\" backslash\\ nl\n tab\t"},
          {"str.empty", ""},
          {"bool.true", true},
          {"int.neg", -42},
          {"int.max", std::numeric_limits<int64_t>::max()},
          {"uint.small", 7},
          {"uint.big", "18446744073709551615"},
          {"double", 0.1}};
}

void ExpectOwnExporterRows(const std::vector<json>& rows) {
  ASSERT_EQ(rows.size(), 2u);
  const json& rich = rows[0];
  EXPECT_EQ(rich["trace_id"], "10111213-1415-1617-1819-1a1b1c1d1e1f");
  EXPECT_EQ(rich["span_id"], Decimal("a1a2a3a4a5a6a7a8"));
  EXPECT_EQ(rich["parent_span_id"], Decimal("a2a3a4a5a6a7a8a9"));
  EXPECT_EQ(rich["operation_name"], "chat gpt-4o");
  EXPECT_EQ(rich["start_time_us"], 1700000000123456);
  EXPECT_EQ(rich["finish_time_us"], 1700000001987654);
  EXPECT_EQ(rich["attribute"], ExpectedRichAttributes());
  EXPECT_EQ(rich["kind"], 3);
  EXPECT_EQ(rich["status_code"], 2);
  EXPECT_EQ(rich["status_message"], "upstream failed");
  EXPECT_EQ(rich["events"],
            json::parse(R"([{"name":"first","time_us":1700000000500000,"attributes":)"
                        R"({"event.n":1,"event.flag":false}},)"
                        R"({"name":"second","time_us":1700000000600000,"attributes":{}}])"));
  EXPECT_EQ(rich["resource"], json::parse(R"({"service.name":"svc","host.cores":8})"));
  EXPECT_EQ(rich["scope_name"], "my.lib");
  EXPECT_EQ(rich["tenant"], "default");
  const json& simple = rows[1];
  EXPECT_EQ(simple["trace_id"], "30313233-3435-3637-3839-3a3b3c3d3e3f");
  EXPECT_EQ(simple["span_id"], Decimal("abacadaeafb0b1b2"));
  EXPECT_EQ(simple["parent_span_id"], nullptr);
  EXPECT_EQ(simple["operation_name"], "simple-1");
  EXPECT_EQ(simple["start_time_us"], 1);
  EXPECT_EQ(simple["finish_time_us"], 2);
  EXPECT_EQ(simple["status_message"], nullptr);
  EXPECT_EQ(simple["kind"], 1);
}

std::vector<std::unique_ptr<vllora::otel::SpanData>> OwnBatch() {
  std::vector<std::unique_ptr<vllora::otel::SpanData>> batch;
  batch.push_back(vllora::testing::MakeRichSpan());
  batch.push_back(vllora::testing::MakeSimpleSpan(1));
  return batch;
}

TEST_F(CollectorTest, OwnGrpcExporter) {
  StartCollector();
  vllora::otlp::OtlpGrpcExporterOptions options;
  options.endpoint = "http://" + collector_->grpc();
  auto exporter = vllora::otlp::OtlpGrpcExporter::Create(options);
  ASSERT_NE(exporter, nullptr);
  auto batch = OwnBatch();
  ASSERT_EQ(exporter->Export(batch), vllora::otel::ExportResult::kSuccess);
  EXPECT_EQ(exporter->Stats().exported_spans, 2u);
  ExpectOwnExporterRows(ReadRows(db_));
}

TEST_F(CollectorTest, OwnHttpExporterProtobufAndJsonGzip) {
  StartCollector();
  for (const auto protocol :
       {vllora::otlp::OtlpHttpProtocol::kProtobuf, vllora::otlp::OtlpHttpProtocol::kJson}) {
    vllora::otlp::OtlpHttpExporterOptions options;
    options.endpoint = "http://" + collector_->http() + "/v1/traces";
    options.protocol = protocol;
    options.gzip = protocol == vllora::otlp::OtlpHttpProtocol::kJson;
    auto exporter = vllora::otlp::OtlpHttpExporter::Create(options);
    ASSERT_NE(exporter, nullptr);
    auto batch = OwnBatch();
    ASSERT_EQ(exporter->Export(batch), vllora::otel::ExportResult::kSuccess)
        << exporter->last_error();
    ExpectOwnExporterRows(ReadRows(db_));  // the second export is a duplicate: still 2 rows
  }
}

// TLS on both listeners (--tls-cert/--tls-key): our exporters trusting the test CA deliver;
// plaintext clients are refused and write nothing.
TEST_F(CollectorTest, TlsOnBothListeners) {
  vllora::testing::TlsFiles tls;
  ASSERT_TRUE(tls.ok()) << "openssl could not create the test certificates";
  StartCollector({"--tls-cert", tls.Path("server.pem"), "--tls-key", tls.Path("server.key")});

  vllora::otlp::OtlpGrpcExporterOptions plain_grpc;
  plain_grpc.endpoint = "http://" + collector_->grpc();
  plain_grpc.max_attempts = 1;
  plain_grpc.timeout = std::chrono::milliseconds(2000);
  auto plain_grpc_exporter = vllora::otlp::OtlpGrpcExporter::Create(plain_grpc);
  ASSERT_NE(plain_grpc_exporter, nullptr);
  auto plain_batch = OwnBatch();
  EXPECT_EQ(plain_grpc_exporter->Export(plain_batch), vllora::otel::ExportResult::kFailure);

  vllora::otlp::OtlpHttpExporterOptions plain_http;
  plain_http.endpoint = "http://" + collector_->http() + "/v1/traces";
  plain_http.max_attempts = 1;
  plain_http.timeout = std::chrono::milliseconds(2000);
  auto plain_http_exporter = vllora::otlp::OtlpHttpExporter::Create(plain_http);
  ASSERT_NE(plain_http_exporter, nullptr);
  auto plain_http_batch = OwnBatch();
  EXPECT_EQ(plain_http_exporter->Export(plain_http_batch), vllora::otel::ExportResult::kFailure);
  EXPECT_TRUE(ReadRows(db_).empty());

  vllora::otlp::OtlpGrpcExporterOptions grpc_options;
  grpc_options.endpoint = "https://" + collector_->grpc();
  grpc_options.ca_cert_path = tls.Path("ca.pem");
  auto grpc_exporter = vllora::otlp::OtlpGrpcExporter::Create(grpc_options);
  ASSERT_NE(grpc_exporter, nullptr);
  auto batch = OwnBatch();
  ASSERT_EQ(grpc_exporter->Export(batch), vllora::otel::ExportResult::kSuccess);
  ExpectOwnExporterRows(ReadRows(db_));

  vllora::otlp::OtlpHttpExporterOptions http_options;
  http_options.endpoint = "https://" + collector_->http() + "/v1/traces";
  http_options.ca_cert_path = tls.Path("ca.pem");
  auto http_exporter = vllora::otlp::OtlpHttpExporter::Create(http_options);
  ASSERT_NE(http_exporter, nullptr);
  auto http_batch = OwnBatch();
  ASSERT_EQ(http_exporter->Export(http_batch), vllora::otel::ExportResult::kSuccess)
      << http_exporter->last_error();
  EXPECT_EQ(http_exporter->Stats().last_http_status, 200);
  ExpectOwnExporterRows(ReadRows(db_));  // the same spans again: still 2 rows
}

// ---------------------------------------------------------------------------------------------
// Bad input.

ExportTraceServiceRequest GoodRequest(uint8_t seed, int spans) {
  ExportTraceServiceRequest request;
  auto* scope = request.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* span = scope->add_spans();
    span->set_trace_id(std::string(15, '\x07') + static_cast<char>(seed));
    std::string id(8, '\0');
    id[6] = static_cast<char>(seed);
    id[7] = static_cast<char>(i + 1);
    span->set_span_id(id);
    span->set_name("op");
    span->set_start_time_unix_nano(1000);
    span->set_end_time_unix_nano(2000);
  }
  return request;
}

grpc::Status RawGrpcExport(const std::string& target, const std::string& bytes,
                           const std::vector<std::pair<std::string, std::string>>& metadata,
                           std::string* response_bytes = nullptr) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  for (const auto& [k, v] : metadata) context.AddMetadata(k, v);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                 grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  if (response_bytes != nullptr && status.ok()) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    response_bytes->clear();
    for (const auto& s : slices)
      response_bytes->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

TEST_F(CollectorTest, GrpcBadInput) {
  StartCollector({"--token", "tok"});
  const std::vector<std::pair<std::string, std::string>> auth = {{"authorization", "Bearer tok"}};
  const std::string good = GoodRequest(1, 3).SerializeAsString();

  grpc::Status status = RawGrpcExport(collector_->grpc(), good, {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  status = RawGrpcExport(collector_->grpc(), good, {{"authorization", "Bearer nope"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  status = RawGrpcExport(collector_->grpc(), good.substr(0, good.size() - 3), auth);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "malformed protobuf ExportTraceServiceRequest");
  status = RawGrpcExport(collector_->grpc(), "\x0a\xff\xff\xff\xff\x0f garbage", auth);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(ReadRows(db_).empty());

  ExportTraceServiceRequest mixed = GoodRequest(2, 3);
  auto* spans = mixed.mutable_resource_spans(0)->mutable_scope_spans(0);
  spans->mutable_spans(0)->set_trace_id("short");
  spans->mutable_spans(2)->set_span_id(std::string(8, '\0'));
  std::string response_bytes;
  status = RawGrpcExport(collector_->grpc(), mixed.SerializeAsString(), auth, &response_bytes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExportTraceServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(response_bytes));
  EXPECT_EQ(response.partial_success().rejected_spans(), 2);
  EXPECT_EQ(response.partial_success().error_message(),
            "2 spans rejected: span 0: trace_id must be 16 bytes (got 5); span 2: span_id must "
            "not be all zero");
  const auto rows = ReadRows(db_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["span_id"], "514");  // bytes 00..00 02 02
  EXPECT_EQ(rows[0]["tenant"], "default");

  status = RawGrpcExport(collector_->grpc(), good, auth);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(ReadRows(db_).size(), 4u);
}

TEST_F(CollectorTest, GrpcTooLargeIsRefused) {
  StartCollector({"--max-request-bytes", "1000"});
  const grpc::Status status =
      RawGrpcExport(collector_->grpc(), GoodRequest(1, 200).SerializeAsString(), {});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(ReadRows(db_).empty());
}

// Sends `requests` one after the other on one new connection to "127.0.0.1:PORT" (the write
// side stays open), each once the answer to the one before has begun, and returns all that the
// server answered until `until` has arrived with the headers that follow it, or what came within
// 10 s. (Not pipelined: httplib 0.11 leaves a request it has buffered unread until more data
// arrives.)
std::string RawHttpExchange(const std::string& address, const std::vector<std::string>& requests,
                            const std::string& until = "HTTP/1.1 ") {
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  const auto read_until = [&](const std::string& text, size_t from) {
    char buffer[4096];
    for (;;) {
      const size_t at = answer.find(text, from);
      if (at != std::string::npos && answer.find("\r\n\r\n", at) != std::string::npos) return;
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      answer.append(buffer, static_cast<size_t>(n));
    }
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == 0) {
    for (size_t i = 0; i < requests.size(); ++i) {
      const std::string& bytes = requests[i];
      if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(bytes.size())) {
        break;
      }
      read_until(i + 1 == requests.size() ? until : "HTTP/1.1 ", answer.size());
    }
  }
  ::close(fd);
  return answer;
}

TEST_F(CollectorTest, HttpBadInput) {
  StartCollector({"--token", "tok", "--max-request-bytes", "20000", "--max-json-values", "50"});
  httplib::Client client("http://" + collector_->http());

  // Without the token, the body is read but not kept: the connection stays in step, and the
  // next request on it (here sent at once, behind the refused one) is answered as itself.
  const std::string refused_body =
      "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(15000, '\n');
  std::string answer = RawHttpExchange(
      collector_->http(),
      {"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
       "Content-Length: " +
           std::to_string(refused_body.size()) + "\r\n\r\n" + refused_body,
       "POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
       "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"},
      "HTTP/1.1 200");
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer;
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1 400"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1 404"), std::string::npos) << answer;
  // A chunked body is held to the wire limit as one with a Content-Length is: 30,000 bytes
  // without gzip are refused, not read up to the decompressed limit.
  std::string chunked =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
      "Content-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "2710\r\n" + std::string(10000, '\0') + "\r\n";
  chunked += "0\r\n\r\n";
  answer = RawHttpExchange(collector_->http(), {chunked});
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  // OTLP/JSON with more values than --max-json-values: refused before it is parsed.
  std::string spans = "{}";
  for (int i = 0; i < 30; ++i) spans += ",{}";
  auto too_many = client.Post("/v1/traces", {{"Authorization", "Bearer tok"}},
                              R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + spans + "]}]}]}",
                              "application/json");
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 413);
  EXPECT_EQ(json::parse(too_many->body)["message"],
            "OTLP/JSON request with more than 50 JSON values (send smaller batches, or use "
            "protobuf)");
  const httplib::Headers auth = {{"Authorization", "Bearer tok"}};
  const std::string good = GoodRequest(1, 3).SerializeAsString();

  auto res = client.Post("/v1/traces", good, "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  res = client.Post("/v1/traces", auth, good.substr(0, good.size() - 3), "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-protobuf");
  // google.rpc.Status: code = 3 (field 1), message (field 2).
  const std::string message = "malformed protobuf ExportTraceServiceRequest";
  EXPECT_EQ(res->body,
            std::string("\x08\x03\x12", 3) + static_cast<char>(message.size()) + message);

  res = client.Post("/v1/traces", auth, R"({"resourceSpans": [)", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const json error_body = json::parse(res->body);
  EXPECT_EQ(error_body["code"], 3);
  EXPECT_EQ(error_body["message"].get<std::string>().rfind("invalid JSON: ", 0), 0u) << res->body;

  res = client.Post("/v1/traces", auth,
                    R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"nothex"}]}]}]})",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["message"],
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: not a hex string");

  res = client.Post("/v1/traces", auth, good, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);

  res = client.Get("/v1/traces", auth);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");

  res = client.Post("/v1/traces", auth, GoodRequest(1, 400).SerializeAsString(),
                    "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_TRUE(ReadRows(db_).empty());

  // Wrong-length ids in JSON: per-span rejection, the rest stored; no tenant -> "default".
  httplib::Client client2("http://" + collector_->http());
  res = client2.Post("/v1/traces", auth,
                     R"({"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"0102030405060708090a0b0c0d0e0f","spanId":"0102030405060708","name":"a"},
        {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"01020304050607","name":"b"},
        {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"c",
         "startTimeUnixNano":"5000","endTimeUnixNano":"9000"}]}]}]})",
                     "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json partial = json::parse(res->body);
  EXPECT_EQ(partial["partialSuccess"]["rejectedSpans"], "2");
  EXPECT_EQ(partial["partialSuccess"]["errorMessage"],
            "2 spans rejected: span 0: trace_id must be 16 bytes (got 15); span 1: span_id must "
            "be 8 bytes (got 7)");
  const auto rows = ReadRows(db_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["trace_id"], "01020304-0506-0708-090a-0b0c0d0e0f10");
  EXPECT_EQ(rows[0]["span_id"], "72623859790382856");
  EXPECT_EQ(rows[0]["operation_name"], "c");
  EXPECT_EQ(rows[0]["start_time_us"], 5);
  EXPECT_EQ(rows[0]["finish_time_us"], 9);
  EXPECT_EQ(rows[0]["tenant"], "default");

  // Protobuf success answers with an ExportTraceServiceResponse in protobuf.
  res = client2.Post("/v1/traces", auth, good, "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-protobuf");
  ExportTraceServiceResponse response;
  EXPECT_TRUE(response.ParseFromString(res->body));
  EXPECT_FALSE(response.has_partial_success());
  EXPECT_EQ(ReadRows(db_).size(), 4u);
}

// ---------------------------------------------------------------------------------------------
// Concurrency, shutdown, crash.

// Sends requests of `spans_per_request` unique spans (ids derived from sender and sequence)
// until `stop` or `max_requests`; records the span ids (decimal) of every acknowledged request.
void SendLoop(const std::string& target, int sender, int max_requests, int spans_per_request,
              const std::atomic<bool>& stop, std::mutex& mu, std::set<std::string>& acknowledged,
              std::atomic<int>& failures) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = TraceService::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  for (int r = 0; r < max_requests && !stop; ++r) {
    ExportTraceServiceRequest request;
    auto* scope = request.add_resource_spans()->add_scope_spans();
    std::vector<std::string> ids;
    for (int i = 0; i < spans_per_request; ++i) {
      auto* span = scope->add_spans();
      span->set_trace_id(std::string(16, static_cast<char>(sender + 1)));
      const uint64_t id = (static_cast<uint64_t>(sender + 1) << 48) |
                          (static_cast<uint64_t>(r) << 16) | static_cast<uint64_t>(i + 1);
      std::string bytes(8, '\0');
      for (int b = 0; b < 8; ++b)
        bytes[static_cast<size_t>(b)] = static_cast<char>(id >> (56 - 8 * b));
      span->set_span_id(bytes);
      span->set_name("load");
      ids.push_back(std::to_string(id));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    ExportTraceServiceResponse response;
    if (stub->Export(&context, request, &response).ok()) {
      std::lock_guard lock(mu);
      acknowledged.insert(ids.begin(), ids.end());
    } else {
      ++failures;
      if (stop) return;
    }
  }
}

TEST_F(CollectorTest, FourConcurrentSendersNoSpanLostOrDoubled) {
  StartCollector();
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < 4; ++s) {
    threads.emplace_back(
        [&, s] { SendLoop(collector_->grpc(), s, 60, 50, stop, mu, acknowledged, failures); });
  }
  // A fifth sender re-sends sender 0's first requests: duplicates must not be stored twice.
  threads.emplace_back(
      [&] { SendLoop(collector_->grpc(), 0, 10, 50, stop, mu, acknowledged, failures); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  ASSERT_EQ(acknowledged.size(), 4u * 60u * 50u);
  ASSERT_EQ(collector_->Stop(SIGTERM), 0);
  const auto rows = ReadRows(db_);
  EXPECT_EQ(rows.size(), acknowledged.size());
  std::set<std::string> stored;
  for (const json& row : rows) stored.insert(row["span_id"].get<std::string>());
  EXPECT_EQ(stored, acknowledged);
}

void LoadThenSignal(CollectorTest* test, Collector& collector, int signal, int expected_exit,
                    const std::string& db) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < 4; ++s) {
    threads.emplace_back(
        [&, s] { SendLoop(collector.grpc(), s, 100000, 100, stop, mu, acknowledged, failures); });
  }
  // Wait until the load is well under way (not a timing assertion: a readiness condition).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (acknowledged.size() >= 2000) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(collector.Stop(signal), expected_exit);
  stop = true;
  for (auto& t : threads) t.join();
  (void)test;
  const auto rows = ReadRows(db);
  std::set<std::string> stored;
  for (const json& row : rows) stored.insert(row["span_id"].get<std::string>());
  EXPECT_EQ(stored.size(), rows.size()) << "a span stored twice";
  ASSERT_GE(acknowledged.size(), 2000u);
  size_t missing = 0;
  for (const auto& id : acknowledged) missing += stored.count(id) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u) << "acknowledged spans missing from the database, of "
                         << acknowledged.size();
}

TEST_F(CollectorTest, SigtermDrainsAndKeepsEveryAcknowledgedSpan) {
  StartCollector();
  LoadThenSignal(this, *collector_, SIGTERM, 0, db_);
}

TEST_F(CollectorTest, KillDashNineKeepsEveryAcknowledgedSpan) {
  StartCollector();
  LoadThenSignal(this, *collector_, SIGKILL, -SIGKILL, db_);
}

TEST_F(CollectorTest, CommandLineErrors) {
  const std::string binary = VLLORA_COLLECTOR_BINARY;
  EXPECT_NE(std::system((binary + " serve >/dev/null 2>&1").c_str()), 0);  // --db missing
  EXPECT_NE(
      std::system((binary + " serve --db " + db_ + " --grpc nonsense >/dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((binary + " serve --db /nonexistent-dir/x/t.db --grpc 127.0.0.1:0 --http "
                                  "127.0.0.1:0 >/dev/null 2>&1")
                            .c_str()),
            0);
  StartCollector();
  const std::string busy = binary + " serve --db " + (dir_ / "other.db").string() + " --grpc " +
                           collector_->grpc() + " --http 127.0.0.1:0 >/dev/null 2>&1";
  EXPECT_NE(std::system(busy.c_str()), 0);
  const std::string busy_http = binary + " serve --db " + (dir_ / "other2.db").string() +
                                " --grpc 127.0.0.1:0 --http " + collector_->http() +
                                " >/dev/null 2>&1";
  EXPECT_NE(std::system(busy_http.c_str()), 0);
}

}  // namespace
