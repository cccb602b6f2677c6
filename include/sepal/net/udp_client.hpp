#ifndef SEPAL_NET_UDP_CLIENT_HPP
#define SEPAL_NET_UDP_CLIENT_HPP

// A UDP client of a sepal server (docs/net.md): the handshake with resend
// timer and HelloRetry, then a pull API over one session with batched
// sends and receives.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "../handshake/protocol.hpp"
#include "address.hpp"
#include "batch_io.hpp"
#include "counters.hpp"
#include "socket.hpp"
#include "udp_server.hpp"

namespace sepal::net {

/// What a `udp_client` counted.
struct client_stats {
  io_stats io;                            ///< system calls, datagrams, bytes, GSO/GRO, drops
  std::uint64_t client_hello_sends = 0;   ///< ClientHellos sent (first, resends, after a HelloRetry)
  std::uint64_t retries_followed = 0;     ///< HelloRetry messages followed
  std::uint64_t client_finished_resends = 0;  ///< ClientFinished sent again (timer, or a repeated ServerHello)
  std::uint64_t handshakes_failed = 0;    ///< handshakes never confirmed (docs/protocol.md §7.2: `timed_out`)
  std::uint64_t payloads_received = 0;    ///< session packets that authenticated
  std::uint64_t payloads_sent = 0;        ///< session packets sealed
  std::uint64_t rejected = 0;             ///< datagrams dropped: from another address, forged, replayed, malformed
  std::uint64_t path_responses = 0;       ///< path challenges answered (docs/protocol.md §7.3)
};

/// A client: one socket, one server, one session at a time. Not thread-safe
/// (use it from one thread; one client per thread scales).
///
/// Errors: the constructor throws `sepal::error(errc::io_error)` when the
/// socket cannot be bound. Peer input never throws: what does not
/// authenticate is dropped and counted (`stats().rejected`).
template <handshake::handshake_suite Suite = handshake::default_suite>
class udp_client {
 public:
  /// Client settings.
  struct config {
    handshake::client_config<Suite> handshake;          ///< pinned root, client key
    endpoint server;                                     ///< where the server listens
    endpoint bind{};                                     ///< local address (unset: loopback or any of the server's family, port 0)
    std::chrono::milliseconds resend_interval{200};      ///< ClientHello resend timer (docs/protocol.md §7)
    std::chrono::milliseconds handshake_timeout{5000};   ///< `connect` gives up after this
    std::chrono::milliseconds idle_timeout{10000};       ///< no authenticated packet for this long: disconnected
    io_options io{};                                     ///< batching and offloads
    bool drop_client_finished_for_testing = false;       ///< do not send the first ClientFinished (as if lost)
  };

  /// Binds the socket (nothing is sent yet).
  explicit udp_client(config cfg)
      : m_cfg(std::move(cfg)),
        m_socket(local_for(m_cfg), socket_options{.reuse_port = false,
                                                  .gro = m_cfg.io.offload && m_cfg.io.batch,
                                                  .gso = m_cfg.io.offload && m_cfg.io.batch}),
        m_receive(m_cfg.io),
        m_send(m_socket, m_io, m_cfg.io) {
    m_early.reserve(max_datagram_payload);  // no allocation when a payload confirms the handshake
  }
  udp_client(const udp_client&) = delete;
  udp_client& operator=(const udp_client&) = delete;

  /// Runs the handshake (a new one, replacing any session): sends the
  /// ClientHello, resends it every `resend_interval`, follows HelloRetry,
  /// sends ClientFinished once a ServerHello verifies, and returns when the
  /// handshake is confirmed: a packet from the server opened (its
  /// handshake-done, docs/protocol.md §7.2), ClientFinished being resent
  /// every `resend_interval` until then. A payload that confirmed it is the
  /// first one `receive` returns.
  ///
  /// Errors: `limit_reached` when no valid ServerHello came within
  /// `handshake_timeout` (datagrams that did not verify were ignored, so a
  /// spoofed one cannot end the handshake early); `timed_out` when the server
  /// never confirmed after `max_finished_resends` resends of ClientFinished
  /// (the handshake failed: connect again).
  result<void> connect() noexcept {
    drop_session();
    try {
      auto h = handshake::client_handshake<Suite>::start(m_cfg.handshake);
      const auto deadline = clock::now() + m_cfg.handshake_timeout;
      auto next_resend = clock::now();
      bool first = true;
      while (true) {
        auto now = clock::now();
        if (now >= deadline) return errc::limit_reached;
        if (now >= next_resend) {
          // All the ClientHello's datagrams (docs/protocol.md §3.4); a resend
          // also ticks the ServerHello reassembly (an incomplete one goes at
          // its second tick: the server resends the whole flight).
          send_flight(first ? h.client_hello_datagrams() : h.on_timer(), true);
          first = false;
          next_resend = now + m_cfg.resend_interval;
        }
        for (; m_cursor < m_receive.size(); ++m_cursor) {
          const auto& d = m_receive.at(m_cursor);
          if (!(*d.from == m_cfg.server) || detail::is_session_packet<session_type>(d.data)) {
            m_counters.rejected.add();
            continue;
          }
          auto done = h.on_datagram(d.data, detail::unix_now());
          if (done && !done->has_value()) continue;  // a ServerHello fragment, kept: more to come
          if (done) {
            ++m_cursor;
            m_established.emplace(std::move(**done));
            if (!m_cfg.drop_client_finished_for_testing) send_flight(m_established->client_finished_datagrams(), false);
            m_last_receive = clock::now();
            return await_confirmation();
          }
          if (done.error() == errc::retry_requested) {
            m_counters.retries_followed.add();
            send_flight(h.client_hello_datagrams(), true);
            next_resend = clock::now() + m_cfg.resend_interval;
          } else {
            m_counters.rejected.add();
          }
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(std::min(next_resend, deadline) - clock::now());
        if (wait.count() > 0) (void)m_socket.wait_readable(wait);
        m_cursor = 0;
        (void)m_receive.receive(m_socket, m_io);
      }
    } catch (...) {
      return errc::internal_error;  // RNG or key generation failed (local)
    }
  }

  /// True after `connect` succeeded and until the idle timeout (or `close`).
  [[nodiscard]] bool connected() const noexcept { return m_established.has_value(); }
  /// The handshake result (exporter, the server's chain); requires `connected()`.
  [[nodiscard]] handshake::established<Suite>& established() noexcept { return *m_established; }

  /// Seals `payload` and queues it (sent by `flush`, or when the queue
  /// fills). False when not connected, too big, or the session is spent
  /// (the client then disconnects).
  bool send(std::span<const std::uint8_t> payload) noexcept {
    if (!m_established) return false;
    auto room = m_send.prepare(payload.size() + overhead);
    if (room.size() < payload.size() + overhead) return false;
    try {
      const auto wire = m_established->session().seal({}, payload, room);
      m_send.commit(m_cfg.server, wire.size());
      m_counters.payloads_sent.add();
      return true;
    } catch (...) {
      drop_session();
      return false;
    }
  }
  /// Sends what `send` queued (one sendmmsg, GSO-merged when possible).
  void flush() noexcept { m_send.flush(); }

  /// The next authenticated payload, waiting up to `timeout` (0: only what
  /// has arrived): a view valid until the next call. Answers a repeated
  /// ServerHello with the ClientFinished again (docs/protocol.md §7) and
  /// drops everything else. Flushes queued sends first. nullopt on timeout
  /// or when not connected (then see `connected()`: the idle timeout ends
  /// the session).
  std::optional<std::span<const std::uint8_t>> receive(std::chrono::milliseconds timeout) noexcept {
    flush();
    if (m_has_early && m_established) {  // the payload that confirmed the handshake
      m_has_early = false;
      return std::span<const std::uint8_t>(m_early);
    }
    const auto deadline = clock::now() + timeout;
    while (m_established) {
      while (const auto got = next_packet()) {
        if (got->empty()) continue;  // a handshake-done or an acknowledgment: never data
        m_counters.payloads_received.add();
        return *got;
      }
      if (!m_established) break;
      if (clock::now() - m_last_receive > m_cfg.idle_timeout) {
        drop_session();
        break;
      }
      m_cursor = 0;
      if (m_receive.receive(m_socket, m_io) > 0) continue;
      const auto now = clock::now();
      if (now >= deadline) break;
      (void)m_socket.wait_readable(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                   std::chrono::milliseconds(1));
    }
    return std::nullopt;
  }

  /// Starts a key update of the sending direction (RFC 9001 §6).
  void update_key() noexcept {
    if (!m_established) return;
    try {
      m_established->session().update_key();
    } catch (...) {
      drop_session();
    }
  }
  /// Forgets the session (nothing is sent: the protocol has no close message).
  void close() noexcept { drop_session(); }

  /// The local address.
  [[nodiscard]] const endpoint& local() const noexcept { return m_socket.local(); }
  /// The socket (to wait on it in an application's own loop).
  [[nodiscard]] const udp_socket& socket() const noexcept { return m_socket; }
  /// The counters.
  [[nodiscard]] client_stats stats() const noexcept {
    return {m_io.snapshot(),
            m_counters.client_hello_sends.get(),
            m_counters.retries_followed.get(),
            m_counters.client_finished_resends.get(),
            m_counters.handshakes_failed.get(),
            m_counters.payloads_received.get(),
            m_counters.payloads_sent.get(),
            m_counters.rejected.get(),
            m_counters.path_responses.get()};
  }

  static constexpr std::size_t overhead = handshake::established<Suite>::session_type::overhead;  ///< bytes a packet adds

 private:
  using clock = std::chrono::steady_clock;
  using session_type = typename handshake::established<Suite>::session_type;

  static endpoint local_for(const config& c) {
    if (c.bind.valid()) return c.bind;
    const bool loop6 = c.server.family() == AF_INET6;
    if (!c.server.valid()) throw error(errc::invalid_argument);
    // The loopback address for a loopback server, else the wildcard.
    const auto a = c.server.address_bytes();
    const bool is_loopback = loop6 ? endpoint::loopback_v6().address_bytes().size() == a.size() &&
                                         std::equal(a.begin(), a.end(), endpoint::loopback_v6().address_bytes().begin())
                                   : a[0] == 127;
    if (is_loopback) return loop6 ? endpoint::loopback_v6() : endpoint::loopback_v4();
    return *endpoint::parse(loop6 ? "::" : "0.0.0.0", 0);
  }

  /// Sends every datagram of a handshake flight (docs/protocol.md §3.4);
  /// a ClientHello flight counts once in `client_hello_sends`.
  void send_flight(std::span<const std::vector<std::uint8_t>> flight, bool client_hello) noexcept {
    bool any = false;
    for (const auto& d : flight) any |= m_send.push(m_cfg.server, d);
    if (any && client_hello) m_counters.client_hello_sends.add();
    m_send.flush();
  }

  /// Forgets the session and anything it left (the payload kept by the
  /// confirmation wait).
  void drop_session() noexcept {
    m_established.reset();
    m_has_early = false;
  }

  struct counters_t {
    counter client_hello_sends, retries_followed, client_finished_resends, handshakes_failed, payloads_received,
        payloads_sent, rejected, path_responses;
  };

  /// docs/protocol.md §7.3: a path challenge is answered at once with its
  /// data (the server sent it to the address this client's packets now
  /// come from, after a NAT rebinding); other control frames are ignored.
  void answer_control(std::span<const std::uint8_t> frame) noexcept {
    const auto challenge = detail::parse_path_frame(frame, detail::path_challenge_frame);
    if (!challenge) return;
    const auto response = detail::make_path_frame(detail::path_response_frame, *challenge);
    auto room = m_send.prepare(response.size() + overhead);
    if (room.size() < response.size() + overhead) return;
    try {
      const auto wire = m_established->session().seal_control(response, room);
      m_send.commit(m_cfg.server, wire.size());
      m_counters.path_responses.add();
      flush();
    } catch (...) {
      drop_session();
    }
  }

  /// The next packet of the received batch that opens in the session
  /// (empty payloads included), handling the rest on the way: datagrams
  /// from elsewhere and forgeries are counted and dropped, a repeated
  /// ServerHello is answered with ClientFinished. nullopt when the batch is
  /// used up (or the session closed at the integrity limit).
  std::optional<std::span<const std::uint8_t>> next_packet() noexcept {
    for (; m_established && m_cursor < m_receive.size(); ++m_cursor) {
      const auto& d = m_receive.at(m_cursor);
      if (!(*d.from == m_cfg.server)) {
        m_counters.rejected.add();
        continue;
      }
      if (detail::is_session_packet<session_type>(d.data)) {
        auto got = m_established->session().receive_in_place({}, d.data);
        if (!got) {
          m_counters.rejected.add();
          if (got.error() == errc::closed) drop_session();
          continue;
        }
        m_last_receive = clock::now();
        if (got->control) answer_control(got->payload);
        // The server updated its keys: acknowledge at once (docs/protocol.md
        // §7.1; a control packet, as the path response, does not count).
        if (m_established && m_established->session().ack_wanted() && send({})) flush();
        if (got->control) continue;
        ++m_cursor;
        return std::span<const std::uint8_t>(got->payload);
      }
      if (m_established->is_server_hello_again(d.data)) {  // whole, or its first fragment
        send_flight(m_established->client_finished_datagrams(), false);
        m_counters.client_finished_resends.add();
        continue;
      }
      m_counters.rejected.add();
    }
    return std::nullopt;
  }

  /// docs/protocol.md §7.2: the session is provisional until a packet from
  /// the server opens; ClientFinished goes again every `resend_interval`
  /// (and when the ServerHello is repeated), at most `max_finished_resends`
  /// times, then the handshake failed.
  result<void> await_confirmation() {
    auto next_resend = clock::now() + m_cfg.resend_interval;
    while (true) {
      if (const auto got = next_packet()) {  // confirmed
        if (!got->empty()) {  // application data came first: keep it for `receive`
          m_early.assign(got->begin(), got->end());
          m_has_early = true;
          m_counters.payloads_received.add();
        }
        return {};
      }
      if (!m_established) return errc::closed;
      const auto now = clock::now();
      if (now >= next_resend) {
        auto again = m_established->on_timer_datagrams();
        if (!again) {
          drop_session();
          m_counters.handshakes_failed.add();
          return errc::timed_out;
        }
        send_flight(*again, false);
        m_counters.client_finished_resends.add();
        next_resend = now + m_cfg.resend_interval;
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_resend - clock::now());
      if (wait.count() > 0) (void)m_socket.wait_readable(wait);
      m_cursor = 0;
      (void)m_receive.receive(m_socket, m_io);
    }
  }

  config m_cfg;
  udp_socket m_socket;
  io_counters m_io;
  counters_t m_counters;
  receive_batch m_receive;
  send_batch m_send;
  std::size_t m_cursor = 0;
  std::optional<handshake::established<Suite>> m_established;
  clock::time_point m_last_receive{};
  /// UDP's largest payload: a payload that confirms the handshake fits.
  static constexpr std::size_t max_datagram_payload = 65535;
  std::vector<std::uint8_t> m_early;  ///< a payload that arrived with the confirmation
  bool m_has_early = false;
};

}  // namespace sepal::net

#endif
