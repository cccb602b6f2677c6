#ifndef SEPAL_TESTS_NET_SUPPORT_HPP
#define SEPAL_TESTS_NET_SUPPORT_HPP

// Test-only helpers for the net layer: a root key and configs, raw sockets
// on other loopback addresses (127.0.0.x) to play distinct or spoofed
// peers, and waiting for a condition with a deadline.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include <sepal/net.hpp>

namespace net_test {

namespace hs = sepal::handshake;
namespace net = sepal::net;
using suite = hs::default_suite;
using bytes = std::vector<std::uint8_t>;
using server = net::udp_server<suite>;
using client = net::udp_client<suite>;
using namespace std::chrono_literals;

/// Polls `pred` every 2 ms until it holds or `timeout` passes.
template <class F>
bool eventually(F&& pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

/// A root key and the matching server and client configs.
struct keys {
  hs::shared_private_key<sepal::p256> root = hs::share(sepal::private_key<sepal::p256>::generate());
  [[nodiscard]] hs::server_config<suite> server_config() const { return {hs::server_identity<suite>::root(root), {}}; }
  [[nodiscard]] hs::client_config<suite> client_config() const { return {root->public_key(), nullptr}; }
  [[nodiscard]] client::config client_to(const net::endpoint& at) const {
    client::config c{.handshake = client_config(), .server = at};
    return c;
  }
};

/// A raw UDP socket on `address` (for example "127.0.0.2"): sends anything,
/// counts what it receives.
class raw_peer {
 public:
  explicit raw_peer(const char* address = "127.0.0.1", std::uint16_t port = 0)
      : m_socket(*net::endpoint::parse(address, port), net::socket_options{.gro = false, .gso = false}) {}
  void send(const net::endpoint& to, std::span<const std::uint8_t> b) {
    if (m_socket.send_to(to, b)) m_sent += b.size();
  }
  /// One datagram, or nullopt after `timeout`.
  std::optional<bytes> receive(std::chrono::milliseconds timeout) {
    if (!m_socket.wait_readable(timeout)) return std::nullopt;
    bytes b(65536);
    const auto n = ::recv(m_socket.fd(), b.data(), b.size(), MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    b.resize(static_cast<std::size_t>(n));
    m_received += b.size();
    return b;
  }
  /// Receives until `quiet` passes with nothing; the bytes received.
  std::size_t drain(std::chrono::milliseconds quiet) {
    while (receive(quiet)) {
    }
    return m_received;
  }
  [[nodiscard]] const net::endpoint& local() const { return m_socket.local(); }
  [[nodiscard]] std::size_t sent() const { return m_sent; }
  [[nodiscard]] std::size_t received() const { return m_received; }

 private:
  net::udp_socket m_socket;
  std::size_t m_sent = 0, m_received = 0;
};

/// Sends `payload` on a connected endpoint client and waits up to 300 ms for
/// it to come back, `attempts` times (a lost datagram is sent again).
template <class Client>
bool echoes(Client& c, std::span<const std::uint8_t> payload, int attempts = 10) {
  for (int i = 0; i < attempts; ++i) {
    if (!c.send(payload)) return false;
    c.flush();
    const auto end = std::chrono::steady_clock::now() + 300ms;
    while (std::chrono::steady_clock::now() < end) {
      auto got = c.receive(50ms);
      if (got && std::ranges::equal(*got, payload)) return true;
    }
  }
  return false;
}

inline constexpr std::uint8_t ping[] = {'p', 'i', 'n', 'g'};

}  // namespace net_test

#endif
