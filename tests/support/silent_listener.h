// A TCP listener on 127.0.0.1 that accepts connections, reads and discards what is sent, and
// never answers: a receiver that hangs. For tests of how exporters stop a request in flight
// (Shutdown(), deadlines). Header-only, POSIX sockets; test code only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vllora::testing {

class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    // The sockets API takes a generic sockaddr; sockaddr_in is one of its layouts.
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Run(); });
  }

  ~SilentListener() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    for (int client : clients_) ::close(client);
    if (fd_ >= 0) ::close(fd_);
  }

  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>" (no path).
  std::string http_base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Waits until at least `count` request bytes arrived (on any connection).
  bool WaitForBytes(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return bytes_ >= count; });
  }

 private:
  // Polls the listening socket and the accepted ones every 20 ms so the destructor can stop it.
  void Run() {
    while (!stop_.load()) {
      std::vector<pollfd> fds;
      fds.push_back({fd_, POLLIN, 0});
      for (int client : clients_) fds.push_back({client, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        const int client = ::accept(fd_, nullptr, nullptr);
        if (client >= 0) clients_.push_back(client);
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buffer[4096];
        const ssize_t got = ::read(fds[i].fd, buffer, sizeof(buffer));
        if (got <= 0) {  // the client closed the connection: forget it
          ::close(fds[i].fd);
          std::erase(clients_, fds[i].fd);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu_);
        bytes_ += static_cast<size_t>(got);
        cv_.notify_all();
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> clients_;  // used by the thread only, then by the destructor after join
  std::mutex mu_;
  std::condition_variable cv_;
  size_t bytes_ = 0;
};

}  // namespace vllora::testing
