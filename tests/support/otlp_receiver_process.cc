#include "support/otlp_receiver_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

extern char** environ;

namespace vllora::testing {
namespace {

using Clock = std::chrono::steady_clock;

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Spawns argv[0] (searched in PATH) with the given file actions. Returns the pid or -1.
pid_t Spawn(const std::vector<std::string>& args, posix_spawn_file_actions_t* actions,
            std::string* error) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  // posix_spawn takes char* const[]; the strings outlive the call and are not modified.
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], actions, nullptr, argv.data(), environ);
  if (rc != 0) {
    SetError(error, "cannot run " + args[0] + ": " + std::strerror(rc));
    return -1;
  }
  return pid;
}

// Waits for `pid` up to `timeout`; returns true (and the wait status) if it exited.
bool WaitWithTimeout(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const Clock::time_point end = Clock::now() + timeout;
  while (true) {
    const pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // already reaped or not our child
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Quote(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

}  // namespace

std::string OtlpReceiverProcess::ReceiverDirectory() {
  if (const char* dir = std::getenv("VLLORA_OTLP_RECEIVER_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return VLLORA_OTLP_RECEIVER_DIR;
}

bool OtlpReceiverProcess::EnsureSetup(std::string* error) {
  static std::mutex mu;
  static bool done = false;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mu);
  if (!done) {
    done = true;
    const std::vector<std::string> args = {"bash", ReceiverDirectory() + "/setup.sh"};
    const pid_t pid = Spawn(args, nullptr, &failure);
    if (pid > 0) {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        failure = Quote(args) + " failed (exit status " + std::to_string(WEXITSTATUS(status)) +
                  "); is npm installed and the registry reachable?";
      }
    }
  }
  if (!failure.empty()) {
    SetError(error, failure);
    return false;
  }
  return true;
}

std::unique_ptr<OtlpReceiverProcess> OtlpReceiverProcess::Start(std::string* error) {
  return Start(Options{}, error);
}

std::unique_ptr<OtlpReceiverProcess> OtlpReceiverProcess::Start(const Options& options,
                                                                std::string* error) {
  if (options.run_setup && !EnsureSetup(error)) return nullptr;

  std::unique_ptr<OtlpReceiverProcess> process(new OtlpReceiverProcess());

  const char* tmp = std::getenv("TMPDIR");
  std::string path_template =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/vllora-otlp-receiver-XXXXXX";
  const int out_fd = mkstemp(path_template.data());
  if (out_fd < 0) {
    SetError(error, ErrnoText("mkstemp"));
    return nullptr;
  }
  close(out_fd);
  process->output_path_ = path_template;

  std::vector<std::string> args = {VLLORA_NODE_EXECUTABLE,
                                   ReceiverDirectory() + "/receiver.js",
                                   "--port",
                                   std::to_string(options.port),
                                   "--out",
                                   process->output_path_};
  if (options.retry_info_ms >= 0) {
    args.insert(args.end(), {"--retry-info-ms", std::to_string(options.retry_info_ms)});
  }
  if (options.fail_first > 0) {
    args.insert(args.end(), {"--fail-first", std::to_string(options.fail_first)});
  }
  if (!options.fail_code.empty()) args.insert(args.end(), {"--fail-code", options.fail_code});
  for (const std::string& header : options.require_headers) {
    args.insert(args.end(), {"--require-header", header});
  }
  if (options.delay_ms > 0) {
    args.insert(args.end(), {"--delay-ms", std::to_string(options.delay_ms)});
  }
  if (options.partial_reject > 0) {
    args.insert(args.end(), {"--partial-reject", std::to_string(options.partial_reject)});
  }
  if (!options.partial_message.empty()) {
    args.insert(args.end(), {"--partial-message", options.partial_message});
  }
  if (options.enable_http) {
    args.insert(args.end(), {"--http-port", std::to_string(options.http_port)});
    if (options.http_fail_status != 503) {
      args.insert(args.end(), {"--http-fail-status", std::to_string(options.http_fail_status)});
    }
    if (options.retry_after_seconds >= 0) {
      args.insert(args.end(), {"--retry-after", std::to_string(options.retry_after_seconds)});
      if (options.retry_after_as_date) args.push_back("--retry-after-date");
    }
    if (!options.tls_cert_path.empty()) {
      args.insert(args.end(),
                  {"--tls-cert", options.tls_cert_path, "--tls-key", options.tls_key_path});
      process->http_tls_ = true;
    }
    if (!options.tls_client_ca_path.empty()) {
      args.insert(args.end(), {"--tls-client-ca", options.tls_client_ca_path});
    }
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

  // O_CLOEXEC everywhere: only the dup2'ed copies reach the child, and children spawned by other
  // threads never inherit the write end of its stdin (which would keep it alive).
  int stdin_pipe[2];
  int stdout_pipe[2];
  if (pipe2(stdin_pipe, O_CLOEXEC) != 0) {
    SetError(error, ErrnoText("pipe2"));
    return nullptr;
  }
  if (pipe2(stdout_pipe, O_CLOEXEC) != 0) {
    SetError(error, ErrnoText("pipe2"));
    close(stdin_pipe[0]);
    close(stdin_pipe[1]);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdin_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdout_pipe[1], STDOUT_FILENO);
  const pid_t pid = Spawn(args, &actions, error);
  posix_spawn_file_actions_destroy(&actions);
  close(stdin_pipe[0]);
  close(stdout_pipe[1]);
  process->stdin_fd_ = stdin_pipe[1];
  process->stdout_fd_ = stdout_pipe[0];
  if (pid < 0) return nullptr;  // the destructor closes the pipes and removes the file
  process->pid_ = pid;

  // Read "listening <port>\n" (and "listening-http <port>\n" when HTTP is enabled).
  std::string line;
  const Clock::time_point end = Clock::now() + options.start_timeout;
  const size_t lines_needed = options.enable_http ? 2 : 1;
  const auto complete_lines = [&line] {
    return static_cast<size_t>(std::count(line.begin(), line.end(), '\n'));
  };
  while (complete_lines() < lines_needed) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) {
      SetError(error, "receiver did not report its port within the start timeout: " + Quote(args));
      return nullptr;
    }
    pollfd fd{process->stdout_fd_, POLLIN, 0};
    const int ready = poll(&fd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[256];
    const ssize_t n = read(process->stdout_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      SetError(error, "receiver exited before listening (see its stderr above): " + Quote(args));
      return nullptr;
    }
    line.append(buffer, static_cast<size_t>(n));
  }
  constexpr std::string_view kPrefix = "listening ";
  if (line.rfind(kPrefix, 0) != 0) {
    SetError(error, "unexpected first line from receiver: " + line);
    return nullptr;
  }
  process->port_ = std::atoi(line.c_str() + kPrefix.size());
  if (process->port_ <= 0) {
    SetError(error, "bad port in receiver output: " + line);
    return nullptr;
  }
  if (options.enable_http) {
    constexpr std::string_view kHttpPrefix = "listening-http ";
    const size_t second = line.find('\n') + 1;
    if (line.compare(second, kHttpPrefix.size(), kHttpPrefix) != 0) {
      SetError(error, "unexpected second line from receiver: " + line.substr(second));
      return nullptr;
    }
    process->http_port_ = std::atoi(line.c_str() + second + kHttpPrefix.size());
    if (process->http_port_ <= 0) {
      SetError(error, "bad HTTP port in receiver output: " + line);
      return nullptr;
    }
  }
  return process;
}

OtlpReceiverProcess::~OtlpReceiverProcess() {
  Stop();
  if (!output_path_.empty() && std::getenv("VLLORA_KEEP_RECEIVER_OUTPUT") == nullptr) {
    unlink(output_path_.c_str());
  }
}

bool OtlpReceiverProcess::Control(const std::string& line, std::chrono::milliseconds timeout) {
  if (stdin_fd_ < 0 || stdout_fd_ < 0) return false;
  const std::string message = line + "\n";
  for (size_t written = 0; written < message.size();) {
    const ssize_t n = write(stdin_fd_, message.data() + written, message.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  const Clock::time_point end = Clock::now() + timeout;
  for (;;) {
    size_t newline;
    while ((newline = stdout_pending_.find('\n')) != std::string::npos) {
      const std::string answer = stdout_pending_.substr(0, newline);
      stdout_pending_.erase(0, newline + 1);
      if (answer == "ok " + line) return true;
      if (answer == "error " + line) return false;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fd{stdout_fd_, POLLIN, 0};
    const int ready = poll(&fd, 1, static_cast<int>(left));
    if (ready <= 0) continue;
    char buffer[256];
    const ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    stdout_pending_.append(buffer, static_cast<size_t>(n));
  }
}

void OtlpReceiverProcess::Stop() noexcept {
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    if (!WaitWithTimeout(pid_, std::chrono::milliseconds(5000), &status)) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
}

std::string OtlpReceiverProcess::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string OtlpReceiverProcess::http_endpoint() const {
  // TLS: the test certificate is issued for "localhost", so connect by that name.
  return (http_tls_ ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(http_port_) +
         "/v1/traces";
}

std::vector<nlohmann::json> OtlpReceiverProcess::Records() const {
  std::vector<nlohmann::json> records;
  std::ifstream in(output_path_, std::ios::binary);
  if (!in) return records;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  size_t start = 0;
  while (true) {
    const size_t newline = text.find('\n', start);
    // A line without its '\n' is still being written: skip it until it is complete.
    if (newline == std::string::npos) break;
    nlohmann::json record = nlohmann::json::parse(
        text.begin() + static_cast<std::ptrdiff_t>(start),
        text.begin() + static_cast<std::ptrdiff_t>(newline), nullptr, /*allow_exceptions=*/false);
    if (!record.is_discarded()) records.push_back(std::move(record));
    start = newline + 1;
  }
  return records;
}

namespace {
std::vector<nlohmann::json> Filter(std::vector<nlohmann::json> records, std::string_view kind) {
  std::vector<nlohmann::json> out;
  for (nlohmann::json& r : records) {
    if (r.value("record", "") == kind) out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

std::vector<nlohmann::json> OtlpReceiverProcess::Spans() const { return Filter(Records(), "span"); }

std::vector<nlohmann::json> OtlpReceiverProcess::Requests() const {
  return Filter(Records(), "request");
}

bool OtlpReceiverProcess::WaitForSpans(size_t count, std::chrono::milliseconds timeout) const {
  const Clock::time_point end = Clock::now() + timeout;
  while (Spans().size() < count) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool OtlpReceiverProcess::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  const Clock::time_point end = Clock::now() + timeout;
  while (Requests().size() < count) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace vllora::testing
