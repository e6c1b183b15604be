// Test-only TLS material: a throw-away certificate authority, a server certificate for
// "localhost" and 127.0.0.1, and a client certificate, made with the openssl command-line tool
// in a temporary directory that is removed again.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace vllora::testing {

class TlsFiles {
 public:
  TlsFiles() {
    dir_ = std::filesystem::temp_directory_path() /
           ("vllora-test-tls-" + std::to_string(::getpid()) + "-" + std::to_string(Counter()++));
    std::filesystem::create_directories(dir_);
    const std::string commands =
        "cd '" + dir_.string() +
        "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
        "-subj /CN=vllora-test-ca >/dev/null 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=localhost >/dev/null 2>&1 && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 1 -extfile ext.cnf >/dev/null 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
        "-subj /CN=vllora-test-client >/dev/null 2>&1 && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 1 >/dev/null 2>&1";
    ok_ = std::system(commands.c_str()) == 0;
  }
  ~TlsFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;

  /// True when every file was made (the openssl tool is installed by tools/install_deps.sh).
  bool ok() const { return ok_; }
  /// ca.pem, server.pem, server.key, client.pem, client.key.
  std::string Path(const char* name) const { return (dir_ / name).string(); }

 private:
  static int& Counter() {
    static int counter = 0;
    return counter;
  }
  std::filesystem::path dir_;
  bool ok_ = false;
};

}  // namespace vllora::testing
