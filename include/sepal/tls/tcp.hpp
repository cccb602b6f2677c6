#ifndef SEPAL_TLS_TCP_HPP
#define SEPAL_TLS_TCP_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "channel.hpp"

/// A small blocking TCP transport for `tls::channel` (POSIX sockets, IPv4),
/// for examples, tests and simple tools. Sockets time out after 10 seconds.
namespace sepal::tls {

/// One TCP connection carrying one TLS channel. It owns its socket and keeps
/// nothing else: each call takes the channel it works on.
class tcp_connection {
 public:
  /// Connects to `ip`:`port` (dotted IPv4).
  ///
  /// Errors: throws `sepal::error(io_error)`.
  [[nodiscard]] static tcp_connection connect(const std::string& ip, std::uint16_t port) {
    tcp_connection c(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (c.m_fd < 0 || ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1 ||
        ::connect(c.m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw error(errc::io_error);
    return c;
  }

  /// Takes ownership of a connected socket.
  explicit tcp_connection(int fd) noexcept : m_fd(fd) {
    if (m_fd >= 0) {
      const timeval tv{10, 0};
      ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
  }
  tcp_connection(tcp_connection&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  tcp_connection& operator=(tcp_connection&& o) noexcept {
    std::swap(m_fd, o.m_fd);
    return *this;
  }
  ~tcp_connection() {
    if (m_fd >= 0) ::close(m_fd);
  }

  /// Runs `ch`'s handshake to completion. On failure the alert is sent.
  ///
  /// Errors: as `channel::receive`; `io_error` when the transport fails.
  [[nodiscard]] result<void> handshake(channel& ch) noexcept {
    while (!ch.established()) {
      if (auto r = pump(ch); !r) return r;
    }
    return flush(ch);
  }

  /// Sends application data.
  [[nodiscard]] result<void> send(channel& ch, std::span<const std::uint8_t> data) noexcept {
    if (auto r = ch.send(data); !r) return r;
    return flush(ch);
  }

  /// Waits for application data; empty when the peer closed.
  ///
  /// Errors: as `handshake`.
  [[nodiscard]] result<std::vector<std::uint8_t>> receive(channel& ch) noexcept {
    for (;;) {
      auto data = ch.take_received();
      if (!data.empty()) return data;
      if (ch.closed()) return std::vector<std::uint8_t>{};
      if (auto r = pump(ch); !r) return r.error();
    }
  }

  /// Sends close_notify.
  void close(channel& ch) noexcept {
    ch.close();
    (void)flush(ch);
  }

 private:
  result<void> flush(channel& ch) noexcept {
    try {
      const auto out = ch.take_output();
      for (std::size_t sent = 0; sent < out.size();) {
        const auto n = ::send(m_fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return errc::io_error;
        sent += static_cast<std::size_t>(n);
      }
      return {};
    } catch (...) {
      return errc::internal_error;
    }
  }

  // Flushes, reads once, feeds the channel; a failure still flushes the alert.
  result<void> pump(channel& ch) noexcept {
    if (auto r = flush(ch); !r) return r;
    std::uint8_t buf[16384];
    const auto n = ::recv(m_fd, buf, sizeof buf, 0);
    if (n <= 0) return errc::io_error;
    auto r = ch.receive(std::span(buf, static_cast<std::size_t>(n)));
    (void)flush(ch);
    return r;
  }

  int m_fd;
};

/// A listening TCP socket on 127.0.0.1 (or `ip`).
class tcp_listener {
 public:
  /// Listens on `port` (0: any free port).
  ///
  /// Errors: throws `sepal::error(io_error)`.
  explicit tcp_listener(std::uint16_t port = 0, const std::string& ip = "127.0.0.1")
      : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    const int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (m_fd < 0 || ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1 ||
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m_fd, 64) != 0) {
      if (m_fd >= 0) ::close(m_fd);  // no destructor runs for a throwing constructor
      throw error(errc::io_error);
    }
  }
  tcp_listener(const tcp_listener&) = delete;
  tcp_listener& operator=(const tcp_listener&) = delete;
  ~tcp_listener() { ::close(m_fd); }

  /// The bound port.
  [[nodiscard]] std::uint16_t port() const {
    sockaddr_in a{};
    socklen_t n = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &n);
    return ntohs(a.sin_port);
  }

  /// Waits for a connection.
  ///
  /// Errors: throws `sepal::error(io_error)`.
  [[nodiscard]] tcp_connection accept() {
    const int fd = ::accept(m_fd, nullptr, nullptr);
    if (fd < 0) throw error(errc::io_error);
    return tcp_connection(fd);
  }

 private:
  int m_fd;
};

}  // namespace sepal::tls

#endif
