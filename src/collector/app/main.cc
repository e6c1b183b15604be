// vllora-collector: `serve` receives OTLP traces into SQLite; the viewer's subcommands (runs,
// threads, traces, show, ...) read that database. See docs/design/0004-collector.md.
#include <google/protobuf/stubs/logging.h>
#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "collector_view/viewer_cli.h"
#include "vllora/collector/collector_server.h"

namespace {

int Serve(const vllora::collector::CollectorOptions& options) {
  // SIGTERM/SIGINT are blocked in every thread (the servers' threads inherit this mask) and
  // taken synchronously by sigwait() below, so shutdown runs on the main thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that goes away mid-answer must not kill the collector.
  signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto server = vllora::collector::CollectorServer::Start(options, &error);
  if (server == nullptr) {
    std::cerr << "vllora-collector: " << error << "\n";
    return 1;
  }
  std::cout << "listening grpc=" << server->grpc_address() << " http=" << server->http_address()
            << std::endl;  // flushed: tests and scripts wait for this line
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "vllora-collector: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ", draining\n";
  server->Shutdown();
  const auto stats = server->Stats();
  std::cerr << "vllora-collector: stopped; requests=" << stats.requests
            << " spans_stored=" << stats.spans_stored << " spans_rejected=" << stats.spans_rejected
            << " malformed_requests=" << stats.malformed_requests
            << " refused_requests=" << stats.refused_requests << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Freed request buffers stay in the heap instead of going back to the kernel. glibc's
  // default gives the top of a thread's heap back once 128 KiB are free there (madvise), which
  // happened on about one request in four: each madvise is a TLB shoot-down that interrupts the
  // other cores, where the applications sending the traces run (docs/performance.md, B4/B5).
  // Memory stays bounded by the server's own limits; it is reused, not returned.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  // protobuf logs an ERROR line for each string that is not UTF-8; the collector repairs those
  // strings (and counts nothing as lost), so the lines would only be noise.
  google::protobuf::SetLogHandler(nullptr);

  CLI::App app{"vllora-collector: local OTLP trace collector (SQLite) and trace viewer"};
  app.require_subcommand(1);

  vllora::collector::CollectorOptions options;
  CLI::App* serve = app.add_subcommand("serve", "Receive OTLP traces (gRPC and HTTP) into SQLite");
  serve->add_option("--db", options.db_path, "SQLite database file (created if missing)")
      ->required();
  serve
      ->add_option("--grpc", options.grpc_address,
                   "OTLP/gRPC listen address HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  serve
      ->add_option("--http", options.http_address,
                   "OTLP/HTTP listen address HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  serve->add_option("--token", options.token,
                    "Require 'authorization: Bearer TOKEN' on every request");
  auto* cert =
      serve->add_option("--tls-cert", options.tls_cert_path, "PEM certificate chain: serve TLS")
          ->check(CLI::ExistingFile);
  auto* key = serve->add_option("--tls-key", options.tls_key_path, "PEM private key for --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  serve
      ->add_option("--max-request-bytes", options.max_request_bytes,
                   "Largest request on the wire (gRPC message / HTTP body)")
      ->capture_default_str();
  serve
      ->add_option("--max-json-values", options.max_json_values,
                   "Most JSON values in an OTLP/JSON body (memory: up to ~175 bytes each)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_flag("--fsync", options.synchronous_full,
                  "fsync every commit (PRAGMA synchronous=FULL): survives power loss");

  vllora::collector::AddViewerCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }
  if (serve->parsed()) return Serve(options);
  return 0;
}
