#ifndef SEPAL_NET_SOCKET_HPP
#define SEPAL_NET_SOCKET_HPP

// A bound, non-blocking UDP socket with the Linux fast paths probed at
// creation (docs/net.md, "Batching"). POSIX; Linux adds SO_REUSEPORT load
// balancing, UDP GSO and GRO.

#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "../error.hpp"
#include "address.hpp"

#if defined(__linux__)
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#endif

namespace sepal::net {

/// How to open a socket.
struct socket_options {
  /// SO_REUSEPORT, so several sockets (one per worker thread) share a port;
  /// the kernel keeps each peer address and port on one of them.
  bool reuse_port = false;
  /// Ask for UDP generic receive offload (Linux >= 5.0): one receive may
  /// return several datagrams of one peer, split again by `receive_batch`.
  bool gro = true;
  /// Use UDP generic segmentation offload when sending (Linux >= 4.18): one
  /// send carries several equal-sized datagrams to one peer.
  bool gso = true;
  /// SO_RCVBUF / SO_SNDBUF requests in bytes (0: the system default).
  int receive_buffer = 4 << 20;
  int send_buffer = 4 << 20;  ///< see `receive_buffer`
};

/// A bound, non-blocking UDP socket (IPv4, or IPv6-only), closed on destruction.
///
/// Errors: the constructor throws `sepal::error(errc::io_error)` when the
/// socket cannot be created or bound (a local failure, not peer input).
class udp_socket {
 public:
  /// Opens a socket and binds it to `local` (port 0: a free port).
  explicit udp_socket(const endpoint& local, const socket_options& options = {}) {
    if (!local.valid()) throw error(errc::invalid_argument);
    m_fd = ::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0) throw error(errc::io_error);
    const int one = 1;
    if (local.family() == AF_INET6) (void)::setsockopt(m_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (options.reuse_port) {
#if defined(SO_REUSEPORT)
      if (::setsockopt(m_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) fail();
#else
      fail();
#endif
    }
    if (options.receive_buffer > 0)
      (void)::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer, sizeof options.receive_buffer);
    if (options.send_buffer > 0)
      (void)::setsockopt(m_fd, SOL_SOCKET, SO_SNDBUF, &options.send_buffer, sizeof options.send_buffer);
#if defined(__linux__)
    // Probes: a kernel without the option refuses it (ENOPROTOOPT), and the
    // batch paths then fall back to one datagram per message.
    const int zero = 0;
    if (options.gso) m_gso = ::setsockopt(m_fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
    if (options.gro) m_gro = ::setsockopt(m_fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
#endif
    if (::bind(m_fd, local.data(), local.size()) != 0) fail();
    endpoint bound;
    socklen_t n = endpoint::capacity;
    if (::getsockname(m_fd, bound.storage(), &n) != 0) fail();
    bound.set_size(n);
    m_local = bound;
  }
  ~udp_socket() {
    if (m_fd >= 0) ::close(m_fd);
  }
  udp_socket(udp_socket&& o) noexcept
      : m_fd(std::exchange(o.m_fd, -1)), m_local(o.m_local), m_gso(o.m_gso), m_gro(o.m_gro) {}
  udp_socket& operator=(udp_socket&& o) noexcept {
    if (this != &o) {
      if (m_fd >= 0) ::close(m_fd);
      m_fd = std::exchange(o.m_fd, -1);
      m_local = o.m_local;
      m_gso = o.m_gso;
      m_gro = o.m_gro;
    }
    return *this;
  }
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;

  /// The file descriptor (for an application's own event loop).
  [[nodiscard]] int fd() const noexcept { return m_fd; }
  /// The bound address and port.
  [[nodiscard]] const endpoint& local() const noexcept { return m_local; }
  /// True when the kernel accepted UDP_SEGMENT (and no send has failed with it since).
  /// Steers the SO_REUSEPORT group's session packets to the socket whose
  /// index is the first byte of their connection id (docs/net.md,
  /// "Connection ids and migration"): a classic BPF program on the group
  /// (SO_ATTACH_REUSEPORT_CBPF; it sees the UDP payload and returns an index
  /// into the group, whose sockets are in bind order while none leaves it).
  /// Datagrams shorter than a session packet or without the fixed bit
  /// (handshake messages), and an index past the group's end, keep the
  /// kernel's address hash. False when the kernel refuses it (then only the
  /// hash steers).
  bool steer_by_connection_id() const noexcept {
    constexpr std::uint32_t shortest = 1 + 8 + 4 + 16;  // docs/protocol.md §7.1
    sock_filter code[] = {
        {BPF_LD | BPF_W | BPF_LEN, 0, 0, 0},             // A = the payload's length
        {BPF_JMP | BPF_JGE | BPF_K, 0, 4, shortest},     // shorter than a session packet: the hash
        {BPF_LD | BPF_B | BPF_ABS, 0, 0, 0},             // A = the first byte
        {BPF_JMP | BPF_JSET | BPF_K, 0, 2, 0x40},       // fixed bit clear: a handshake message
        {BPF_LD | BPF_B | BPF_ABS, 0, 0, 1},             // A = the connection id's first byte
        {BPF_RET | BPF_A, 0, 0, 0},                      // that socket
        {BPF_RET | BPF_K, 0, 0, 0xffffffffu},            // out of range: the address hash
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    return ::setsockopt(m_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0;
  }

  [[nodiscard]] bool gso() const noexcept { return m_gso; }
  /// True when the kernel accepted UDP_GRO.
  [[nodiscard]] bool gro() const noexcept { return m_gro; }
  /// Turns GSO off after the kernel refused a segmented send (runtime fallback).
  void disable_gso() noexcept { m_gso = false; }

  /// Waits until the socket is readable or `timeout` passes; false on timeout.
  bool wait_readable(std::chrono::milliseconds timeout) const noexcept {
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  /// Sends one datagram (the portable slow path; the batch classes are the fast one).
  /// Returns false when the kernel did not take it (for example a full buffer).
  bool send_to(const endpoint& to, std::span<const std::uint8_t> datagram) const noexcept {
    return ::sendto(m_fd, datagram.data(), datagram.size(), 0, to.data(), to.size()) ==
           static_cast<ssize_t>(datagram.size());
  }

 private:
  [[noreturn]] void fail() {
    ::close(m_fd);
    m_fd = -1;
    throw error(errc::io_error);
  }
  int m_fd = -1;
  endpoint m_local;
  bool m_gso = false;
  bool m_gro = false;
};

}  // namespace sepal::net

#endif
