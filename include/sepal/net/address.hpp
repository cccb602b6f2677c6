#ifndef SEPAL_NET_ADDRESS_HPP
#define SEPAL_NET_ADDRESS_HPP

// UDP endpoints (IPv4 and IPv6 address and port) for the sepal net layer
// (docs/net.md). POSIX.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sepal::net {

/// An IPv4 or IPv6 address and UDP port, stored as the `sockaddr` the
/// kernel reads and writes (so batched receives fill it in place).
class endpoint {
 public:
  /// An unset endpoint (no family); `valid()` is false.
  endpoint() noexcept { std::memset(&m_addr, 0, sizeof m_addr); }

  /// 127.0.0.1:`port` (0: any free port when binding).
  [[nodiscard]] static endpoint loopback_v4(std::uint16_t port = 0) noexcept {
    endpoint e;
    e.m_addr.v4.sin_family = AF_INET;
    e.m_addr.v4.sin_port = htons(port);
    e.m_addr.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.m_len = sizeof(sockaddr_in);
    return e;
  }
  /// [::1]:`port`.
  [[nodiscard]] static endpoint loopback_v6(std::uint16_t port = 0) noexcept {
    endpoint e;
    e.m_addr.v6.sin6_family = AF_INET6;
    e.m_addr.v6.sin6_port = htons(port);
    e.m_addr.v6.sin6_addr = in6addr_loopback;
    e.m_len = sizeof(sockaddr_in6);
    return e;
  }
  /// A numeric IPv4 ("192.0.2.1") or IPv6 ("2001:db8::1") address and a
  /// port; nullopt when `host` is neither (no name resolution).
  [[nodiscard]] static std::optional<endpoint> parse(std::string_view host, std::uint16_t port) noexcept {
    char buf[INET6_ADDRSTRLEN + 1] = {};
    if (host.size() >= sizeof buf) return std::nullopt;
    std::memcpy(buf, host.data(), host.size());
    endpoint e;
    if (::inet_pton(AF_INET, buf, &e.m_addr.v4.sin_addr) == 1) {
      e.m_addr.v4.sin_family = AF_INET;
      e.m_addr.v4.sin_port = htons(port);
      e.m_len = sizeof(sockaddr_in);
      return e;
    }
    if (::inet_pton(AF_INET6, buf, &e.m_addr.v6.sin6_addr) == 1) {
      e.m_addr.v6.sin6_family = AF_INET6;
      e.m_addr.v6.sin6_port = htons(port);
      e.m_len = sizeof(sockaddr_in6);
      return e;
    }
    return std::nullopt;
  }
  /// Copies a kernel-filled address; unset for any family but AF_INET/AF_INET6.
  [[nodiscard]] static endpoint from_sockaddr(const sockaddr* a, socklen_t len) noexcept {
    endpoint e;
    if (a == nullptr) return e;
    if (a->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
      std::memcpy(&e.m_addr.v4, a, sizeof(sockaddr_in));
      e.m_len = sizeof(sockaddr_in);
    } else if (a->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
      std::memcpy(&e.m_addr.v6, a, sizeof(sockaddr_in6));
      e.m_len = sizeof(sockaddr_in6);
    }
    return e;
  }

  /// True for an IPv4 or IPv6 endpoint.
  [[nodiscard]] bool valid() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  /// AF_INET, AF_INET6, or 0 when unset.
  [[nodiscard]] int family() const noexcept { return m_len == 0 ? 0 : m_addr.any.sa_family; }
  /// The port (host order).
  [[nodiscard]] std::uint16_t port() const noexcept {
    return ntohs(family() == AF_INET6 ? m_addr.v6.sin6_port : m_addr.v4.sin_port);
  }
  /// The same address with another port.
  [[nodiscard]] endpoint with_port(std::uint16_t port) const noexcept {
    endpoint e = *this;
    if (family() == AF_INET6) e.m_addr.v6.sin6_port = htons(port);
    else e.m_addr.v4.sin_port = htons(port);
    return e;
  }
  /// The address bytes: 4 (IPv4) or 16 (IPv6), empty when unset.
  [[nodiscard]] std::span<const std::uint8_t> address_bytes() const noexcept {
    if (family() == AF_INET) return {reinterpret_cast<const std::uint8_t*>(&m_addr.v4.sin_addr), 4};
    if (family() == AF_INET6) return {reinterpret_cast<const std::uint8_t*>(&m_addr.v6.sin6_addr), 16};
    return {};
  }
  /// "127.0.0.1:4433" or "[::1]:4433".
  [[nodiscard]] std::string to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
      ::inet_ntop(AF_INET, &m_addr.v4.sin_addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port());
    }
    if (family() == AF_INET6) {
      ::inet_ntop(AF_INET6, &m_addr.v6.sin6_addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port());
    }
    return "unset";
  }

  /// For the system calls.
  [[nodiscard]] const sockaddr* data() const noexcept { return &m_addr.any; }
  /// For the system calls.
  [[nodiscard]] socklen_t size() const noexcept { return m_len; }
  /// Room for the kernel to write an address (recvmmsg's msg_name);
  /// `set_size` records the length it wrote.
  [[nodiscard]] sockaddr* storage() noexcept { return &m_addr.any; }
  /// The capacity of `storage()`.
  static constexpr socklen_t capacity = sizeof(sockaddr_in6);
  /// Records the length the kernel wrote into `storage()`.
  void set_size(socklen_t n) noexcept {
    m_len = (n == sizeof(sockaddr_in) && m_addr.any.sa_family == AF_INET) ||
                    (n == sizeof(sockaddr_in6) && m_addr.any.sa_family == AF_INET6)
                ? n
                : 0;
  }

  /// Same family, address and port.
  friend bool operator==(const endpoint& a, const endpoint& b) noexcept {
    if (a.family() != b.family()) return false;
    if (a.port() != b.port()) return false;
    const auto x = a.address_bytes(), y = b.address_bytes();
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size()) == 0;
  }

 private:
  union {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } m_addr;
  socklen_t m_len = 0;
};

}  // namespace sepal::net

#endif
