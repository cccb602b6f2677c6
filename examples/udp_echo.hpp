// A UDP echo server and client over sepal handshakes and sessions (POSIX
// sockets, loopback). Shared by udp_echo_server, udp_echo_client and demo.
//
// Datagram demultiplexing: handshake messages start with their type (1 to
// 5); session packets have the fixed bit 0x40 set in their first byte and
// are at least 29 bytes (header with the connection id, and tag).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/retry.hpp>

namespace demo {

namespace hs = sepal::handshake;
using suite = hs::default_suite;
using bytes = std::vector<std::uint8_t>;
/// The sessions handshakes make (connection ids in every packet, docs/protocol.md §7.1).
using session = hs::established<suite>::session_type;

inline std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

/// A bound UDP socket on 127.0.0.1 (port 0: any free port).
class udp_socket {
 public:
  explicit udp_socket(std::uint16_t port = 0) : m_fd(::socket(AF_INET, SOCK_DGRAM, 0)) {
    if (m_fd < 0) throw std::runtime_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  }
  ~udp_socket() { ::close(m_fd); }
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;

  [[nodiscard]] std::uint16_t port() const {
    sockaddr_in a{};
    socklen_t n = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &n);
    return ntohs(a.sin_port);
  }
  void send_to(const sockaddr_in& to, std::span<const std::uint8_t> b) const {
    (void)::sendto(m_fd, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  /// Waits up to `timeout_ms` for a datagram; its size, or nullopt.
  std::optional<std::size_t> receive(std::span<std::uint8_t> buf, sockaddr_in& from, int timeout_ms) const {
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    socklen_t n = sizeof from;
    const auto r = ::recvfrom(m_fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &n);
    if (r < 0) return std::nullopt;
    return static_cast<std::size_t>(r);
  }

 private:
  int m_fd;
};

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

inline std::uint64_t peer_id(const sockaddr_in& a) {
  return (std::uint64_t{a.sin_addr.s_addr} << 16) | a.sin_port;
}

/// The echo server: one handshake object per pending peer, one session per
/// established peer. A new ClientHello never replaces an established session
/// until its own handshake completes, nor a pending handshake until it
/// completes or times out (docs/protocol.md §7), so a spoofed ClientHello
/// cannot take a peer's place.
class echo_server {
 public:
  /// At most this many handshakes are pending at once; more are dropped.
  static constexpr std::size_t max_pending = 1024;

  /// With a `validator`, every client must first prove its address with a
  /// retry cookie (docs/protocol.md §7). The server keeps its own copy of
  /// `config` and shares the validator.
  explicit echo_server(hs::server_config<suite> config, std::uint16_t port = 0,
                       std::shared_ptr<const hs::address_validator<suite>> validator = nullptr)
      : m_config(std::move(config)), m_validator(std::move(validator)), m_socket(port) {}

  [[nodiscard]] std::uint16_t port() const { return m_socket.port(); }

  /// Serves until `stop()` (checked every 50 ms).
  void run() {
    bytes buf(65536), out(65536);
    auto last_tick = std::chrono::steady_clock::now();
    while (!m_stop.load(std::memory_order_relaxed)) {
      sockaddr_in from{};
      const auto n = m_socket.receive(buf, from, 50);
      if (n && *n > 0) handle(from, std::span(buf).first(*n), out);
      if (std::chrono::steady_clock::now() - last_tick > std::chrono::milliseconds(200)) {
        retransmit();
        last_tick = std::chrono::steady_clock::now();
      }
    }
  }
  /// Asks `run` to return (from any thread).
  void stop() { m_stop.store(true, std::memory_order_relaxed); }
  [[nodiscard]] std::size_t established_peers() const { return m_peers.load(std::memory_order_relaxed); }
  /// Handshakes completed so far (a peer may have completed more than one).
  [[nodiscard]] std::size_t completed_handshakes() const { return m_completed.load(std::memory_order_relaxed); }

 private:
  void send(const sockaddr_in& to, std::span<const std::uint8_t> b) { m_socket.send_to(to, b); }
  /// All the datagrams of a flight (a fragmented message, docs/protocol.md §3.4).
  void send(const sockaddr_in& to, std::span<const std::vector<std::uint8_t>> flight) {
    for (const auto& d : flight) m_socket.send_to(to, d);
  }
  void handle(const sockaddr_in& from, std::span<std::uint8_t> msg, bytes& out) {
    const auto id = peer_id(from);
    auto pending = m_pending.find(id);
    // A session packet is at least a header and a tag (29 bytes) with the
    // fixed bit; handshake messages start with their type (1 to 5). This
    // example finds sessions by address; sepal::net::udp_server finds them
    // by connection id, so they survive a NAT rebinding.
    if ((msg[0] & 0x40) != 0 && msg.size() >= session::overhead) {
      auto it = m_sessions.find(id);
      if (it == m_sessions.end()) {
        // Its handshake may still be pending (a lost ClientFinished): the
        // bytes count toward that address's budget; the resend timer
        // answers, never this datagram (docs/protocol.md §7).
        if (pending != m_pending.end()) (void)pending->second.handshake.on_datagram(msg);
        return;
      }
      auto payload = it->second->session().open({}, msg, out);
      if (!payload) return;  // forged, replayed or garbage: dropped silently
      // An empty payload is never data (docs/protocol.md §7.2): no echo.
      if (payload->empty()) return;
      try {
        send(from, it->second->session().seal({}, *payload, m_reply));  // reused buffer
      } catch (const sepal::error&) {
        m_sessions.erase(it);  // the session is spent (limit_reached): the client handshakes again
        m_peers.store(m_sessions.size(), std::memory_order_relaxed);
      }
      return;
    }
    const auto type = hs::carried_type(msg);
    if (auto it = m_sessions.find(id); type == 3 && it != m_sessions.end() && it->second->is_client_finished_again(msg)) {
      // ClientFinished again: the handshake-done was lost. At most 10 more
      // (handshake_done() then returns nothing), whatever else is pending.
      try {
        if (const auto done = it->second->handshake_done(); !done.empty()) send(from, done);
      } catch (const sepal::error&) {
      }
      return;
    }
    if (type == 3 && pending != m_pending.end()) {  // ClientFinished, or one of its fragments
      // Every datagram counts toward the budget; a failure changes nothing.
      auto done = pending->second.handshake.receive_datagram(msg, unix_now());
      if (!done || !done->has_value()) return;  // refused, or a fragment kept: more to come
      auto& peer = m_sessions[id] = std::make_unique<hs::established<suite>>(std::move(**done));  // only now replace
      send(from, peer->handshake_done());  // confirms the handshake (docs/protocol.md §7.2)
      m_completed.fetch_add(1, std::memory_order_relaxed);
      m_peers.store(m_sessions.size(), std::memory_order_relaxed);
      m_pending.erase(pending);
      return;
    }
    if (pending != m_pending.end()) {
      // The first pending handshake per address stays until it completes or
      // times out; its own ClientHello again (whole, or its first fragment)
      // gets the ServerHello flight again, within the amplification budget.
      if (auto again = pending->second.handshake.on_datagram_flight(msg)) send(from, *again);
      return;
    }
    if (type != 1) return;
    // A ClientHello, or one of its fragments: collected per address, port
    // and binding (the only state before the ClientHello is whole, at most
    // max_message_size bytes each; docs/protocol.md §3.4), so a spoofed
    // fragment with another binding cannot hold a client's collection; only
    // a whole ClientHello or a first fragment (offset 0) opens one.
    hs::fragment_binding binding{};
    bool opens = true;
    if (hs::is_fragment(msg)) {
      const auto f = hs::parse_fragment(msg, suite::id);
      if (!f) return;
      binding = f->binding;
      opens = f->offset == 0 && msg.size() >= hs::min_datagram_size;  // a sender's first fragment
    } else if (msg.size() >= 4 + binding.size()) {
      std::copy_n(msg.begin() + 4, binding.size(), binding.begin());  // ClientHello.random[0..8]
    }
    const auto key = std::make_pair(id, binding);
    auto collecting = m_collecting.find(key);
    if (collecting == m_collecting.end()) {
      if (!opens || m_pending.size() + m_collecting.size() >= max_pending) return;
      collecting = m_collecting.emplace(key, hs::client_hello_collector<suite>{}).first;
    }
    auto& collector = collecting->second;
    if (auto st = collector.add(msg); !st || *st != hs::reassembly::status::complete) {
      if (!collector.binding() && !collector.complete()) m_collecting.erase(collecting);  // nothing kept
      return;
    }
    auto address = hs::address_status::unvalidated;
    if (m_validator) {
      std::array<std::uint8_t, 8> addr{};  // the peer's address and port, as peer_id encodes them
      for (std::size_t i = 0; i < addr.size(); ++i) addr[i] = static_cast<std::uint8_t>(id >> (8 * i));
      const auto decision = m_validator->check(collector.message(), addr, unix_now());
      if (decision.what() == hs::retry_decision::action::send_retry) send(from, decision.hello_retry());
      if (decision.what() != hs::retry_decision::action::accept) {
        m_collecting.erase(collecting);  // no state kept
        return;
      }
      address = hs::address_status::validated;
    }
    auto h = hs::server_handshake<suite>::accept(m_config, collector, address);
    m_collecting.erase(collecting);
    if (!h) return;
    send(from, h->server_hello_datagrams());
    m_pending.emplace(id, pending_handshake{std::move(*h), from});
  }

  /// Resends each pending ServerHello on the timer (the ClientFinished may
  /// have been lost), as the handshake's budget allows; drops a handshake
  /// once it has no resends left.
  void retransmit() {
    for (auto it = m_pending.begin(); it != m_pending.end();) {
      if (it->second.handshake.exhausted()) {
        it = m_pending.erase(it);
        continue;
      }
      if (auto again = it->second.handshake.on_timer_flight()) send(it->second.peer, *again);
      ++it;
    }
    // An incomplete ClientHello goes at its second tick (docs/protocol.md §3.4).
    for (auto it = m_collecting.begin(); it != m_collecting.end();)
      it = it->second.on_timer() ? m_collecting.erase(it) : std::next(it);
  }

  struct pending_handshake {
    hs::server_handshake<suite> handshake;
    sockaddr_in peer;
  };

  hs::server_config<suite> m_config;
  std::shared_ptr<const hs::address_validator<suite>> m_validator;
  udp_socket m_socket;
  std::map<std::uint64_t, pending_handshake> m_pending;
  std::map<std::pair<std::uint64_t, hs::fragment_binding>, hs::client_hello_collector<suite>> m_collecting;
  std::map<std::uint64_t, std::unique_ptr<hs::established<suite>>> m_sessions;
  // Read by other threads (the tests) while run() works: atomic.
  std::atomic<std::size_t> m_completed = 0;
  std::atomic<std::size_t> m_peers = 0;
  bytes m_reply = bytes(65536 + session::overhead);
  std::atomic<bool> m_stop = false;
};

/// A client: handshake with retransmission on a 200 ms timer, then echo
/// round trips. Returns the handshake time.
class echo_client {
 public:
  /// A client of the server at `server_port`, from `local_port` (0: any).
  echo_client(hs::client_config<suite> config, std::uint16_t server_port, std::uint16_t local_port = 0)
      : m_config(std::move(config)), m_server(loopback(server_port)), m_socket(local_port) {}

  /// Runs the handshake until it is confirmed (the server's handshake-done
  /// packet, docs/protocol.md §7.2); throws after `attempts` timeouts of the
  /// ClientHello, or when the server never confirms.
  /// `lose_client_finished_for_testing` does not send ClientFinished, as if the
  /// network dropped it: the resend timer recovers.
  std::chrono::nanoseconds connect(int attempts = 10, bool lose_client_finished_for_testing = false) {
    const auto t0 = std::chrono::steady_clock::now();
    auto h = hs::client_handshake<suite>::start(m_config);
    bytes buf(65536);
    // Resends run on the clock, and only the server's address is heard: junk
    // datagrams cannot use up the attempts (docs/protocol.md §7).
    auto next_send = std::chrono::steady_clock::now();
    for (int sent = 0; sent <= attempts;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_send) {
        if (sent++ == attempts) break;
        // All the ClientHello's datagrams (docs/protocol.md §3.4); a resend
        // also lets an incomplete ServerHello reassembly go at its second tick.
        send(sent == 1 ? h.client_hello_datagrams() : h.on_timer());
        next_send = now + std::chrono::milliseconds(200);
      }
      sockaddr_in from{};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_send - now).count();
      const auto n = m_socket.receive(buf, from, static_cast<int>(wait) + 1);
      if (!n || !from_server(from)) continue;
      auto done = h.on_datagram(std::span(buf).first(*n), unix_now());
      if (!done) {
        if (done.error() == sepal::errc::retry_requested) {  // send the cookie now
          send(h.client_hello_datagrams());
          next_send = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        }
        continue;  // or not a valid ServerHello: ignored
      }
      if (!done->has_value()) continue;  // a ServerHello fragment: more to come
      if (!lose_client_finished_for_testing) send((*done)->client_finished_datagrams());
      m_done = std::make_unique<hs::established<suite>>(std::move(**done));
      await_confirmation(buf);
      return std::chrono::steady_clock::now() - t0;
    }
    throw std::runtime_error("handshake timed out");
  }

  /// Waits for the handshake-done packet, resending ClientFinished on the
  /// 200 ms timer and when the server repeats its ServerHello.
  void await_confirmation(bytes& buf) {
    bytes out(65536);
    auto next_resend = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (!m_done->confirmed()) {
      // The timer runs on the clock, so datagrams (junk included) cannot hold it back.
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_resend) {
        auto again = m_done->on_timer_datagrams();
        if (!again) throw std::runtime_error("handshake failed: not confirmed");  // errc::timed_out
        send(*again);
        next_resend = now + std::chrono::milliseconds(200);
        continue;
      }
      sockaddr_in from{};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_resend - now).count();
      const auto n = m_socket.receive(buf, from, static_cast<int>(wait) + 1);
      if (!n || !from_server(from)) continue;
      const auto msg = std::span(buf).first(*n);
      if (m_done->is_server_hello_again(msg)) {
        send(m_done->client_finished_datagrams());
        continue;
      }
      (void)m_done->session().open({}, msg, out);  // the handshake-done packet: empty
    }
  }

  /// Sends `payload` and waits for its echo. If the server repeats its
  /// ServerHello (it lost our ClientFinished), resend ClientFinished.
  bool echo(std::span<const std::uint8_t> payload) {
    bytes packet(payload.size() + session::overhead), buf(65536), out(65536);
    for (int attempt = 0; attempt < 10; ++attempt) {
      // A retry is sealed again: the server's replay window drops a resent packet.
      m_socket.send_to(m_server, m_done->session().seal({}, payload, packet));
      // 200 ms for the echo; datagrams from elsewhere or that do not open
      // are ignored without costing an attempt.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      for (auto now = std::chrono::steady_clock::now(); now < deadline; now = std::chrono::steady_clock::now()) {
        sockaddr_in from{};
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        const auto n = m_socket.receive(buf, from, static_cast<int>(wait) + 1);
        if (!n || !from_server(from)) continue;
        const auto msg = std::span(buf).first(*n);
        if (m_done->is_server_hello_again(msg)) {
          send(m_done->client_finished_datagrams());
          continue;
        }
        auto got = m_done->session().open({}, msg, out);
        if (got && !got->empty() && std::ranges::equal(*got, payload)) return true;  // empty: a handshake-done
      }
    }
    return false;
  }

 private:
  void send(std::span<const std::vector<std::uint8_t>> flight) {
    for (const auto& d : flight) m_socket.send_to(m_server, d);
  }

  [[nodiscard]] bool from_server(const sockaddr_in& from) const noexcept {
    return from.sin_port == m_server.sin_port && from.sin_addr.s_addr == m_server.sin_addr.s_addr;
  }

  hs::client_config<suite> m_config;
  sockaddr_in m_server;
  udp_socket m_socket;
  std::unique_ptr<hs::established<suite>> m_done;
};

}  // namespace demo
