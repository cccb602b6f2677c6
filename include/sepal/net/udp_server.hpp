#ifndef SEPAL_NET_UDP_SERVER_HPP
#define SEPAL_NET_UDP_SERVER_HPP

// A UDP server that runs the sepal datagram protocol (docs/protocol.md §7)
// on N worker threads: demultiplexing, pending handshakes with the
// anti-amplification budget and resend timers, optional stateless retry,
// sessions, idle timeouts, bounded everything, batched system calls
// (docs/net.md).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../handshake/protocol.hpp"
#include "../handshake/retry.hpp"
#include "../rng.hpp"
#include "address.hpp"
#include "batch_io.hpp"
#include "counters.hpp"
#include "detail/path.hpp"
#include "detail/route.hpp"
#include "limits.hpp"
#include "socket.hpp"

namespace sepal::net {

/// A peer's id on a server: unique for the server's lifetime (worker,
/// slot and generation), never reused for another session.
using peer_id = std::uint64_t;

namespace detail {
/// A datagram is a session packet when its first byte has the fixed bit and
/// it holds at least a header and a tag (docs/protocol.md §7).
template <class Session>
[[nodiscard]] bool is_session_packet(std::span<const std::uint8_t> d) noexcept {
  return d.size() >= Session::overhead && (d[0] & 0x40) != 0;
}
/// The connection id a session packet carries (after its first byte).
[[nodiscard]] inline handshake::connection_id connection_id_of(std::span<const std::uint8_t> packet) noexcept {
  handshake::connection_id id{};
  std::copy_n(packet.begin() + 1, id.size(), id.begin());
  return id;
}
struct connection_id_hash {
  std::size_t seed = 0;
  std::size_t operator()(const handshake::connection_id& id) const noexcept {
    std::uint64_t h = 1469598103934665603ull ^ seed;
    for (const auto b : id) h = (h ^ b) * 1099511628211ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};
inline std::uint64_t unix_now() noexcept { return static_cast<std::uint64_t>(std::time(nullptr)); }
/// A ClientHello being reassembled: its sender and its fragments' binding.
struct reassembly_key {
  route_key route;
  handshake::fragment_binding binding{};
  friend bool operator==(const reassembly_key&, const reassembly_key&) = default;
};
struct reassembly_hash {
  route_hash h;
  std::size_t operator()(const reassembly_key& k) const noexcept {
    std::size_t v = h(k.route);
    for (const auto b : k.binding) v = (v ^ b) * 1099511628211ull;
    return v;
  }
};
}  // namespace detail

/// The server: binds `config.threads` sockets to one port (SO_REUSEPORT
/// when more than one), and runs one worker thread per socket from
/// construction until `stop()` or destruction.
///
/// Threading: each worker owns its socket, its pending handshakes and its
/// sessions; nothing of a session is ever touched by another thread. The
/// kernel keeps a peer address and port on one socket during the handshake,
/// and then steers its session packets by the first byte of the server's
/// connection id, the worker's index (`udp_socket::steer_by_connection_id`),
/// so a peer stays on one worker when its address changes. The handlers, and the handshake config's `allow_client` and
/// `verify_client_chain`, run on the worker threads, concurrently when
/// there are several: what they share, they must synchronize. A
/// `connection&` a handler receives is valid only during that call (keep
/// its `id()`).
///
/// Security: a datagram from an address with no session never makes the
/// server send more than `handshake::amplification_limit` times the bytes
/// that address sent (the handshake's budget, resends included); with
/// `address_validation` the first reply to an address is a 46-byte
/// HelloRetry and no state is kept until the cookie comes back. Nothing
/// unauthenticated changes a session. Sessions are found by connection id
/// (docs/protocol.md §7.1); a session moves to a new client address only
/// when the client answered a path challenge sent there (§7.3), and what
/// the server sends an unvalidated address is at most 3 times what it
/// received from it. See docs/net.md for the limits.
///
/// Errors: the constructor throws `sepal::error(errc::io_error)` when a
/// socket cannot be bound, `invalid_argument` for 0 or more than 255
/// threads. Peer input never throws; it is counted in `stats()`.
template <handshake::handshake_suite Suite = handshake::default_suite>
class udp_server {
  class worker_state;

 public:
  using identity_type = std::optional<public_key<typename Suite::sig>>;  ///< a client's key, when it sent one

  /// An established peer, as the handlers see it (on its worker thread).
  class connection {
   public:
    /// Unique for the server's lifetime.
    [[nodiscard]] peer_id id() const noexcept { return m_id; }
    /// The peer's address and port: where it was last validated (its
    /// handshake, or a path challenge it answered, docs/protocol.md §7.3).
    [[nodiscard]] const endpoint& remote() const noexcept { return m_remote; }
    /// The client's authenticated key (mutual mode), else empty.
    [[nodiscard]] const identity_type& client_identity() const noexcept { return m_established.client_identity(); }
    /// The handshake result (exporter, certificate chain).
    [[nodiscard]] handshake::established<Suite>& established() noexcept { return m_established; }
    /// A value the application keeps with the peer (for example a player index).
    [[nodiscard]] std::uint64_t& user() noexcept { return m_user; }

    /// Seals `payload` and queues it for the peer (sent at the end of the
    /// current batch, or earlier when the queue fills). False when the
    /// connection is closing, the payload does not fit a datagram, or the
    /// session refused (its packet-number space is spent: it then closes).
    bool send(std::span<const std::uint8_t> payload) noexcept {
      if (m_closing) return false;
      auto room = m_worker->m_send.prepare(payload.size() + session_overhead);
      if (room.size() < payload.size() + session_overhead || payload.size() > max_payload) return false;
      try {
        const auto wire = m_established.session().seal({}, payload, room);
        m_worker->m_send.commit(m_remote, wire.size());
        m_worker->m_counters.payloads_sent.add();
        return true;
      } catch (...) {
        m_closing = true;
        return false;
      }
    }
    /// Starts a key update of the sending direction (RFC 9001 §6); the peer
    /// follows on its first packet of the new phase.
    void update_key() noexcept {
      try {
        m_established.session().update_key();
      } catch (...) {
        m_closing = true;
      }
    }
    /// Ends the session after the current handler returns (`on_close` with
    /// `close_reason::closed`). Nothing is sent: the protocol has no close message.
    void close() noexcept { m_closing = true; }

   private:
    friend class udp_server;
    connection(worker_state* w, handshake::established<Suite>&& e, const endpoint& remote, peer_id id)
        : m_worker(w), m_established(std::move(e)), m_remote(remote), m_id(id) {}
    worker_state* m_worker;
    handshake::established<Suite> m_established;
    endpoint m_remote;
    peer_id m_id;
    detail::route_key m_key{};
    std::chrono::steady_clock::time_point m_last_receive{};
    detail::path_probes<detail::route_key, endpoint, std::chrono::steady_clock::time_point> m_probes{};
    detail::route_key m_handshake_key{};  ///< the address its handshake came from
    bool m_moved = false;  ///< at an address it moved to (docs/protocol.md §7.3), not its handshake's
    std::uint64_t m_user = 0;
    bool m_closing = false;
  };

  /// One worker, as `on_tick` sees it: its connections.
  class worker {
   public:
    /// This worker's index (0 to threads - 1).
    [[nodiscard]] unsigned index() const noexcept { return m_state->m_index; }
    /// Calls `f(connection&)` for each of this worker's established peers.
    template <class F>
    void for_each_connection(F&& f) {
      for (auto& c : m_state->m_slots)
        if (c && !c->m_closing) f(*c);
    }
    /// This worker's connection `id`, or null (another worker's, or gone).
    [[nodiscard]] connection* find(peer_id id) noexcept { return m_state->find(id); }

   private:
    friend class udp_server;
    explicit worker(worker_state* s) : m_state(s) {}
    worker_state* m_state;
  };

  /// What the application hears about. Each may be empty.
  struct handlers {
    /// A peer completed its handshake (its identity: `client_identity()`).
    std::function<void(connection&)> on_connect;
    /// An authenticated payload from a peer.
    std::function<void(connection&, std::span<const std::uint8_t>)> on_payload;
    /// A peer's session ended (the connection is destroyed after this returns).
    std::function<void(connection&, close_reason)> on_close;
    /// Every `config::tick_interval` on every worker (for periodic sends).
    std::function<void(worker&)> on_tick;
  };

  /// Server settings.
  struct config {
    handshake::server_config<Suite> handshake;        ///< identity and client authentication
    endpoint bind = endpoint::loopback_v4();          ///< address and port (0: a free port)
    unsigned threads = 1;                             ///< worker threads, one socket each
    server_limits limits{};                           ///< bounds and timers
    bool address_validation = false;                  ///< stateless retry before any state (docs/protocol.md §7)
    io_options io{};                                  ///< batching and offloads
    std::chrono::milliseconds tick_interval{0};       ///< `on_tick` period (0: never)
  };

  /// Binds the sockets and starts the workers.
  udp_server(config cfg, handlers h) : m_shared(std::make_shared<shared_state>(std::move(cfg), std::move(h))) {
    const auto& c = m_shared->cfg;
    if (c.threads == 0 || c.threads > 255) throw error(errc::invalid_argument);
    socket_options so;
    so.reuse_port = c.threads > 1;
    so.gro = so.gso = c.io.offload && c.io.batch;  // the unbatched path reads no GRO control message
    endpoint at = c.bind;
    for (unsigned i = 0; i < c.threads; ++i) {
      m_workers.push_back(std::make_unique<worker_state>(m_shared.get(), i, udp_socket(at, so)));
      at = m_workers.back()->m_socket.local();  // the others bind the port the first one got
    }
    // Worker i is the group's i-th socket: session packets go to the worker
    // their connection id names (docs/net.md, "Connection ids and migration").
    if (c.threads > 1) m_steered = m_workers.front()->m_socket.steer_by_connection_id();
    for (auto& w : m_workers) m_threads.emplace_back([p = w.get()](std::stop_token st) { p->run(st); });
  }
  ~udp_server() { stop(); }
  udp_server(const udp_server&) = delete;
  udp_server& operator=(const udp_server&) = delete;

  /// Stops and joins the workers (each closes its sessions with
  /// `close_reason::server_stop`); idempotent. Call from any thread but a worker's.
  void stop() noexcept {
    for (auto& t : m_threads) t.request_stop();
    for (auto& t : m_threads)
      if (t.joinable()) t.join();
  }

  /// The bound address (the port clients send to).
  [[nodiscard]] const endpoint& local() const noexcept { return m_workers.front()->m_socket.local(); }
  /// The number of workers.
  [[nodiscard]] unsigned threads() const noexcept { return static_cast<unsigned>(m_workers.size()); }
  /// Whether the kernel offers GSO / GRO on the sockets.
  [[nodiscard]] bool gso() const noexcept { return m_workers.front()->m_socket.gso(); }
  [[nodiscard]] bool gro() const noexcept { return m_workers.front()->m_socket.gro(); }  ///< see `gso`
  /// With several workers: whether the kernel steers session packets by
  /// connection id (else a client whose address changed may reach another
  /// worker, which drops its packets as `unknown_peer`).
  [[nodiscard]] bool steered() const noexcept { return m_steered; }

  /// The counters, summed over the workers (any thread).
  [[nodiscard]] server_stats stats() const noexcept {
    server_stats s;
    for (const auto& w : m_workers) {
      const auto& c = w->m_counters;
      s.io += w->m_io.snapshot();
      s.handshakes_started += c.handshakes_started.get();
      s.handshakes_completed += c.handshakes_completed.get();
      s.handshakes_failed += c.handshakes_failed.get();
      s.handshakes_expired += c.handshakes_expired.get();
      s.server_hello_resends += c.server_hello_resends.get();
      s.retries_sent += c.retries_sent.get();
      s.refused_sessions_full += c.refused_sessions_full.get();
      s.refused_pending_full += c.refused_pending_full.get();
      s.refused_pending_per_address += c.refused_pending_per_address.get();
      s.refused_rate += c.refused_rate.get();
      s.payloads_received += c.payloads_received.get();
      s.payloads_sent += c.payloads_sent.get();
      s.rejected_packets += c.rejected_packets.get();
      s.unknown_peer += c.unknown_peer.get();
      s.malformed += c.malformed.get();
      s.late_client_finished += c.late_client_finished.get();
      s.sessions_timed_out += c.sessions_timed_out.get();
      s.sessions_replaced += c.sessions_replaced.get();
      s.hello_reassemblies_expired += c.hello_reassemblies_expired.get();
      s.hello_reassemblies_evicted += c.hello_reassemblies_evicted.get();
      s.path_challenges_sent += c.path_challenges_sent.get();
      s.path_challenges_refused += c.path_challenges_refused.get();
      s.migrations += c.migrations.get();
    }
    s.sessions = m_shared->sessions.load(std::memory_order_relaxed);
    s.pending = m_shared->pending.load(std::memory_order_relaxed);
    s.hello_reassemblies = m_shared->collecting.load(std::memory_order_relaxed);
    return s;
  }

 private:
  using clock = std::chrono::steady_clock;
  using session_type = typename handshake::established<Suite>::session_type;
  static constexpr std::size_t session_overhead = handshake::established<Suite>::session_type::overhead;
  static constexpr std::size_t max_payload = 65507 - session_overhead;  // the largest UDP/IPv4 datagram

  struct shared_state {
    shared_state(config c, handlers h) : cfg(std::move(c)), on(std::move(h)) {
      if (cfg.address_validation) validator.emplace();
    }
    const config cfg;
    const handlers on;
    std::optional<const handshake::address_validator<Suite>> validator;
    std::atomic<std::size_t> sessions{0}, pending{0}, collecting{0};
    std::atomic<std::uint64_t> next_generation{1};
  };

  struct worker_counters {
    counter handshakes_started, handshakes_completed, handshakes_failed, handshakes_expired, server_hello_resends,
        retries_sent, refused_sessions_full, refused_pending_full, refused_pending_per_address, refused_rate,
        payloads_received, payloads_sent, rejected_packets, unknown_peer, malformed, late_client_finished,
        sessions_timed_out, sessions_replaced, hello_reassemblies_expired, hello_reassemblies_evicted,
        path_challenges_sent, path_challenges_refused, migrations;
  };

  struct pending_handshake {
    handshake::server_handshake<Suite> hs;
    endpoint from;
    detail::route_key address;
  };

  /// A fragmented ClientHello being collected (docs/protocol.md §3.4), with
  /// its age (the oldest makes room for a new one when the limits are full).
  struct collecting_hello {
    handshake::client_hello_collector<Suite> hello;
    detail::route_key address;
    std::uint64_t opened = 0;
  };

  /// Reserves one unit of a shared bound; false (nothing reserved) when full.
  static bool reserve(std::atomic<std::size_t>& n, std::size_t limit) noexcept {
    if (n.fetch_add(1, std::memory_order_relaxed) >= limit) {
      n.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  class worker_state {
   public:
    worker_state(shared_state* s, unsigned index, udp_socket socket)
        : m_shared(s),
          m_index(index),
          m_socket(std::move(socket)),
          m_receive(s->cfg.io),
          m_send(m_socket, m_io, s->cfg.io),
          m_sessions(16, detail::connection_id_hash{random_seed()}),
          m_by_address(16, detail::route_hash{random_seed()}),
          m_pending(16, detail::route_hash{random_seed()}),
          m_collecting(16, detail::reassembly_hash{detail::route_hash{random_seed()}}),
          m_per_address(16, detail::route_hash{random_seed()}),
          m_collecting_per_address(16, detail::route_hash{random_seed()}) {
      const auto& l = s->cfg.limits;
      // Reserved up front so the maps never rehash in steady state.
      m_sessions.reserve(std::min<std::size_t>(l.max_sessions, 1 << 16));
      m_by_address.reserve(std::min<std::size_t>(l.max_sessions, 1 << 16));
      m_pending.reserve(std::min<std::size_t>(l.max_pending, 1 << 16));
      m_collecting.reserve(std::min<std::size_t>(l.max_hello_reassemblies, 1 << 16));
      m_free.reserve(std::min<std::size_t>(l.max_sessions, 1 << 16));
      m_tokens = static_cast<double>(l.max_handshakes_per_second);
    }

    void run(std::stop_token stop) noexcept {
      const auto& cfg = m_shared->cfg;
      auto now = clock::now();
      m_next_resend = now + cfg.limits.resend_interval;
      m_next_tick = now + cfg.tick_interval;
      m_last_refill = now;
      worker view(this);
      while (!stop.stop_requested()) {
        now = clock::now();
        auto wake = std::min(m_next_resend, cfg.tick_interval.count() > 0 ? m_next_tick : m_next_resend);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
        wait = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(20));  // stop stays prompt
        if (m_socket.wait_readable(wait)) {
          for (int rounds = 0; rounds < 64; ++rounds) {  // drain, then let the timers run
            const auto n = m_receive.receive(m_socket, m_io);
            if (n == 0) break;
            m_now = clock::now();
            for (std::size_t i = 0; i < n; ++i) handle(m_receive.at(i));
            m_send.flush();
          }
        }
        now = clock::now();
        m_now = now;
        if (now >= m_next_resend) {
          m_next_resend = now + cfg.limits.resend_interval;
          on_resend_timer();
        }
        if (cfg.tick_interval.count() > 0 && now >= m_next_tick) {
          m_next_tick = std::max(m_next_tick + cfg.tick_interval, now - cfg.tick_interval);
          if (m_shared->on.on_tick) {
            try {
              m_shared->on.on_tick(view);
            } catch (...) {
            }
          }
          reap_closing();
        }
        m_send.flush();
      }
      for (auto& c : m_slots)
        if (c) drop_session(*c, close_reason::server_stop);
      m_shared->pending.fetch_sub(m_pending.size(), std::memory_order_relaxed);
      m_shared->collecting.fetch_sub(m_collecting.size(), std::memory_order_relaxed);
      m_pending.clear();
      m_collecting.clear();
    }

    connection* find(peer_id id) noexcept {
      const auto slot = static_cast<std::size_t>((id >> 32) & 0xffffff);
      if ((id >> 56) != m_index || slot >= m_slots.size() || !m_slots[slot] || m_slots[slot]->m_id != id) return nullptr;
      return m_slots[slot].get();
    }

   private:
    friend class udp_server;
    friend class connection;
    friend class worker;

    static std::size_t random_seed() {
      std::size_t s = 0;
      const auto r = random_bytes<sizeof(std::size_t)>();
      std::memcpy(&s, r.data(), sizeof s);
      return s;
    }

    void handle(const datagram& d) noexcept {
      const auto msg = d.data;
      const endpoint& from = *d.from;
      if (msg.empty() || !from.valid()) {
        m_counters.malformed.add();
        return;
      }
      const auto key = detail::route_of(from);
      if (detail::is_session_packet<session_type>(msg)) {
        // Found by the connection id, not the address (docs/protocol.md §7.1).
        if (auto it = m_sessions.find(detail::connection_id_of(msg)); it != m_sessions.end()) {
          on_session_packet(*m_slots[it->second], msg, from, key);
          return;
        }
        // Its handshake may still be pending (a lost ClientFinished): the
        // bytes count toward the budget; the timer answers, never this
        // datagram (docs/protocol.md §7).
        if (auto p = m_pending.find(key); p != m_pending.end()) (void)p->second.hs.on_datagram(msg);
        m_counters.unknown_peer.add();
        return;
      }
      const auto type = handshake::carried_type(msg);
      if (type == handshake::detail::client_finished_type) {
        if (auto it = m_by_address.find(key); it != m_by_address.end()) {
          auto& c = *m_slots[it->second];
          // A copy: the client resends ClientFinished until the handshake is
          // confirmed (docs/protocol.md §7.2), so the handshake-done was
          // lost. The verified ClientFinished again draws a fresh one (29
          // bytes, less than it; at most 10 per session), whatever else is
          // pending for this address (a spoofed ClientHello cannot block it).
          if (c.m_established.is_client_finished_again(msg)) {
            m_counters.late_client_finished.add();
            try {
              if (const auto done = c.m_established.handshake_done(); !done.empty()) m_send.push(from, done);
            } catch (...) {
            }
            return;
          }
        }
      }
      auto pending = m_pending.find(key);
      if (pending != m_pending.end()) {
        if (type == handshake::detail::client_finished_type) {  // whole, or a fragment of it
          finish(pending, msg);
          return;
        }
        // Only its own ClientHello again (whole, or its fragment at offset 0)
        // draws the ServerHello flight again, all of it, within the budget;
        // anything else only raises the budget.
        if (auto again = pending->second.hs.on_datagram_flight(msg)) {
          for (const auto& d : *again) m_send.push(from, d);
          m_counters.server_hello_resends.add();
        }
        return;
      }
      if (type == handshake::detail::client_finished_type && m_by_address.contains(key)) {
        m_counters.late_client_finished.add();  // not the verified one: draws nothing
        return;
      }
      if (handshake::is_fragment(msg)) {
        collect(from, key, msg);
        return;
      }
      if (msg[0] != handshake::detail::client_hello_type || msg.size() < handshake::min_client_hello_size) {
        m_counters.malformed.add();  // stray ClientFinished, HelloRetry, unknown type, short hello
        return;
      }
      start_handshake(from, key, msg, nullptr);
    }

    /// A ClientHello fragment from an address with no pending handshake
    /// (docs/protocol.md §3.4): collected per address, port and binding, in
    /// a table of its own (`max_hello_reassemblies`, and per address), so
    /// fragments cannot use up the pending handshakes' limits. Only a
    /// fragment at offset 0 of at least `min_datagram_size` bytes opens a
    /// collection (what every sender's first fragment is), so each one costs
    /// an attacker that much; when the table is full, the oldest makes room.
    /// Nothing expensive runs before the ClientHello is whole.
    void collect(const endpoint& from, const detail::route_key& key, std::span<const std::uint8_t> msg) noexcept {
      const auto f = handshake::parse_fragment(msg, Suite::id);
      if (!f || f->message_type != handshake::detail::client_hello_type) {
        m_counters.malformed.add();
        return;
      }
      const detail::reassembly_key rk{key, f->binding};
      auto it = m_collecting.find(rk);
      if (it == m_collecting.end()) {
        if (f->offset != 0 || msg.size() < handshake::min_datagram_size) {
          m_counters.malformed.add();  // not a first fragment: the sender's next flight brings one
          return;
        }
        it = open_collection(rk, detail::address_of(from));
        if (it == m_collecting.end()) return;
      }
      const auto st = it->second.hello.add(msg);
      if (!st) {
        m_counters.malformed.add();
        if (!it->second.hello.binding()) forget_collecting(it);  // nothing kept
        return;
      }
      if (*st != handshake::reassembly::status::complete) return;
      // Whole: it goes on as a whole ClientHello, through every limit.
      auto hello = std::move(it->second.hello);
      forget_collecting(it);
      start_handshake(from, key, hello.message(), &hello);
    }

    using collection_iterator =
        typename std::unordered_map<detail::reassembly_key, collecting_hello, detail::reassembly_hash>::iterator;

    /// A new collection, after the oldest (of the address, then of all)
    /// made room when a limit is full; end() when memory runs out.
    collection_iterator open_collection(const detail::reassembly_key& rk, const detail::route_key& address) noexcept {
      const auto& l = m_shared->cfg.limits;
      const auto per = m_collecting_per_address.find(address);
      if (per != m_collecting_per_address.end() && per->second >= l.max_hello_reassemblies_per_address) {
        evict_oldest([&](const collecting_hello& c) { return c.address == address; });
      } else if (m_collecting.size() >= l.max_hello_reassemblies) {
        evict_oldest([](const collecting_hello&) { return true; });
      }
      if (m_collecting.size() >= l.max_hello_reassemblies || l.max_hello_reassemblies_per_address == 0) return m_collecting.end();
      try {
        auto it = m_collecting.emplace(rk, collecting_hello{{}, address, ++m_collections_opened}).first;
        try {
          ++m_collecting_per_address[address];
        } catch (...) {
          m_collecting.erase(it);
          return m_collecting.end();
        }
        m_shared->collecting.fetch_add(1, std::memory_order_relaxed);
        return it;
      } catch (...) {
        return m_collecting.end();
      }
    }

    /// Drops the oldest collection `which` selects (a linear scan of at most
    /// `max_hello_reassemblies` entries, only when a limit is full).
    template <class Which>
    void evict_oldest(Which which) noexcept {
      auto oldest = m_collecting.end();
      for (auto it = m_collecting.begin(); it != m_collecting.end(); ++it)
        if (which(it->second) && (oldest == m_collecting.end() || it->second.opened < oldest->second.opened)) oldest = it;
      if (oldest == m_collecting.end()) return;
      m_counters.hello_reassemblies_evicted.add();
      forget_collecting(oldest);
    }

    void forget_collecting(collection_iterator it) noexcept {
      if (auto per = m_collecting_per_address.find(it->second.address);
          per != m_collecting_per_address.end() && --per->second == 0)
        m_collecting_per_address.erase(per);
      m_collecting.erase(it);
      m_shared->collecting.fetch_sub(1, std::memory_order_relaxed);
    }

    void on_session_packet(connection& c, std::span<std::uint8_t> msg, const endpoint& from,
                           const detail::route_key& key) noexcept {
      const std::size_t size = msg.size();
      auto r = c.m_established.session().receive_in_place({}, msg);
      if (!r) {
        m_counters.rejected_packets.add();  // forged, replayed or garbage: dropped silently
        if (r.error() == errc::closed) c.m_closing = true;
        reap(c);
        return;
      }
      c.m_last_receive = m_now;
      const bool new_path = key != c.m_key;
      if (r->control) {
        if (new_path) on_path_response(c, r->payload, from, key);
      } else {
        // An authenticated packet from another address: the client may have
        // moved (a NAT rebinding), or someone replays a copy from elsewhere.
        // The session stays where it is until the new address answers a
        // challenge (docs/protocol.md §7.3).
        if (new_path) probe_path(c, from, key, size);
        if (!r->payload.empty()) {  // empty: a key update acknowledgment, never data
          m_counters.payloads_received.add();
          if (m_shared->on.on_payload) {
            try {
              m_shared->on.on_payload(c, r->payload);
            } catch (...) {
            }
          }
        }
      }
      // The peer updated its keys: acknowledge (docs/protocol.md §7.1) with
      // an empty packet, unless the handler's reply already did.
      if (!c.m_closing && c.m_established.session().ack_wanted()) (void)c.send({});
      reap(c);
    }

    /// RFC 9000 §8.2, §9.3: a path challenge to the new address, at most
    /// one per resend interval and `max_challenges` per probe, and never
    /// more than 3 times the bytes that address sent (§8.1). A few probes
    /// per session (`path_probes`): a packet from yet another address takes
    /// a free slot, or one whose probe has been idle for a resend interval.
    void probe_path(connection& c, const endpoint& from, const detail::route_key& key, std::size_t bytes) noexcept {
      const auto interval = m_shared->cfg.limits.resend_interval;
      auto* p = c.m_probes.find(key);
      // Every challenge went unanswered a while ago (lost): a fresh probe,
      // with a budget of its own.
      if (p && p->challenges == p->max_challenges && m_now - p->last >= handshake::max_server_hello_resends * interval) {
        p->active = false;
        p = nullptr;
      }
      if (!p) p = c.m_probes.start(key, from, m_now, interval);
      if (!p) {
        m_counters.path_challenges_refused.add();  // every slot is busy with a younger probe
        return;
      }
      p->received += bytes;
      if (p->challenges == p->max_challenges || (p->challenges > 0 && m_now - p->last < interval)) return;
      constexpr std::size_t challenge_size = std::tuple_size_v<detail::path_frame> + session_type::overhead;
      if (p->sent + challenge_size > handshake::amplification_limit * p->received) {
        m_counters.path_challenges_refused.add();
        return;
      }
      try {
        auto& data = p->data[p->challenges % p->data.size()];
        data = random_bytes<std::tuple_size_v<detail::path_data>>();
        const auto frame = detail::make_path_frame(detail::path_challenge_frame, data);
        auto room = m_send.prepare(challenge_size);
        if (room.size() < challenge_size) return;
        const auto wire = c.m_established.session().seal_control(frame, room);
        m_send.commit(from, wire.size());
        ++p->challenges;
        p->sent += wire.size();
        p->last = m_now;
        m_counters.path_challenges_sent.add();
      } catch (...) {
        c.m_closing = true;  // the session refused to seal (its packet numbers are spent)
      }
    }

    /// A control packet from an address the session is not at: when it is
    /// the response to a challenge sent there, the session moves there
    /// (RFC 9000 §8.2.2: from the address the challenge went to).
    void on_path_response(connection& c, std::span<const std::uint8_t> frame, const endpoint& from,
                          const detail::route_key& key) noexcept {
      const auto response = detail::parse_path_frame(frame, detail::path_response_frame);
      auto* p = c.m_probes.find(key);
      if (!response || p == nullptr || !p->answers(*response)) return;
      const auto slot = static_cast<std::uint32_t>((c.m_id >> 32) & 0xffffff);
      // The address map names the session that may be replaced at an
      // address: a session that handshook there keeps its entry (a client
      // restart there replaces it); else the one that moved there last.
      if (!replaceable(key)) {
        try {
          m_by_address[key] = slot;
        } catch (...) {
          return;  // out of memory: the session stays where it was validated
        }
      }
      if (auto a = m_by_address.find(c.m_key); a != m_by_address.end() && a->second == slot) m_by_address.erase(a);
      c.m_key = key;
      c.m_remote = from;
      c.m_moved = key != c.m_handshake_key;  // back home: replaceable there again
      c.m_probes.clear();  // other probes were of addresses it did not move to
      m_counters.migrations.add();
    }

    void start_handshake(const endpoint& from, const detail::route_key& key, std::span<const std::uint8_t> msg,
                         const handshake::client_hello_collector<Suite>* collected) noexcept {
      const auto& l = m_shared->cfg.limits;
      // Limits first: a refused hello costs no MAC, no key agreement, no state.
      if (!replaceable(key) && m_shared->sessions.load(std::memory_order_relaxed) >= l.max_sessions) {
        m_counters.refused_sessions_full.add();
        return;
      }
      const auto address = detail::address_of(from);
      auto per = m_per_address.find(address);
      if (per != m_per_address.end() && per->second >= l.max_pending_per_address) {
        m_counters.refused_pending_per_address.add();
        return;
      }
      if (l.max_handshakes_per_second > 0) {
        const double rate = static_cast<double>(l.max_handshakes_per_second);
        m_tokens = std::min(rate, m_tokens + rate * std::chrono::duration<double>(m_now - m_last_refill).count());
        m_last_refill = m_now;
        if (m_tokens < 1) {
          m_counters.refused_rate.add();
          return;
        }
      }
      auto status = handshake::address_status::unvalidated;
      if (m_shared->validator) {
        const auto decision = m_shared->validator->check(msg, detail::validator_address(key), detail::unix_now());
        if (decision.what() == handshake::retry_decision::action::send_retry) {
          m_send.push(from, decision.hello_retry());
          m_counters.retries_sent.add();
        }
        if (decision.what() != handshake::retry_decision::action::accept) {
          if (decision.what() == handshake::retry_decision::action::drop) m_counters.malformed.add();
          return;  // no state kept
        }
        status = handshake::address_status::validated;
      }
      if (!reserve(m_shared->pending, l.max_pending)) {
        m_counters.refused_pending_full.add();
        return;
      }
      if (l.max_handshakes_per_second > 0) m_tokens -= 1;
      const auto id = new_connection_id();
      auto h = !id ? result<handshake::server_handshake<Suite>>(errc::rng_failure)
               : collected
                   ? handshake::server_handshake<Suite>::accept(m_shared->cfg.handshake, *collected, status, *id)
                   : handshake::server_handshake<Suite>::accept(m_shared->cfg.handshake, msg, status, *id);
      if (!h) {
        m_shared->pending.fetch_sub(1, std::memory_order_relaxed);
        m_counters.handshakes_failed.add();
        return;
      }
      try {
        for (const auto& d : h->server_hello_datagrams()) m_send.push(from, d);
        m_pending.emplace(key, pending_handshake{std::move(*h), from, address});
        ++m_per_address[address];
        m_counters.handshakes_started.add();
      } catch (...) {  // out of memory: forget it
        m_pending.erase(key);
        m_shared->pending.fetch_sub(1, std::memory_order_relaxed);
      }
    }

    /// The server's connection id for a new session: this worker's index,
    /// then 7 random bytes (docs/net.md, "Connection ids and migration"), none in use here.
    std::optional<handshake::connection_id> new_connection_id() noexcept {
      try {
        handshake::connection_id id{};
        do {
          const auto r = random_bytes<handshake::connection_id_size - 1>();
          id[0] = static_cast<std::uint8_t>(m_index);
          std::copy(r.begin(), r.end(), id.begin() + 1);
        } while (m_sessions.contains(id));
        return id;
      } catch (...) {
        return std::nullopt;
      }
    }

    void finish(typename std::unordered_map<detail::route_key, pending_handshake, detail::route_hash>::iterator p,
                std::span<const std::uint8_t> msg) noexcept {
      // Whole or a fragment of it (docs/protocol.md §3.4); every datagram
      // counts toward the budget and draws nothing.
      auto r = p->second.hs.receive_datagram(msg, detail::unix_now());
      if (!r) {
        if (handshake::is_fragment(msg)) m_counters.malformed.add();
        else m_counters.handshakes_failed.add();
        return;
      }
      if (!r->has_value()) return;  // a fragment kept: more to come
      auto done = std::move(*r);
      const endpoint from = p->second.from;
      const auto key = p->first;
      forget_pending(p);
      const auto cid = done->session().local_connection_id();
      if (m_sessions.contains(cid)) {  // chosen twice while both were pending (2^-56): this one fails
        m_counters.handshakes_failed.add();
        return;
      }
      // A new handshake from an address with a session replaces it only
      // now that it completed (docs/protocol.md §7), and only a session
      // that handshook from there: one that moved there (§7.3) may have
      // been moved by an attacker who raced its packets, who must not then
      // end it with a handshake of its own. That one stays until it times out.
      if (replaceable(key)) {
        const auto old = m_by_address.find(key);
        m_counters.sessions_replaced.add();
        drop_session(*m_slots[old->second], close_reason::replaced);
      } else if (!reserve(m_shared->sessions, m_shared->cfg.limits.max_sessions)) {
        m_counters.refused_sessions_full.add();  // filled up while this one was pending
        return;
      }
      const auto slot = install_session(std::move(*done), from, key, cid);
      if (!slot) {  // out of memory: nothing of it is kept
        m_shared->sessions.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      auto& c = *m_slots[*slot];
      m_counters.handshakes_completed.add();
      try {
        m_send.push(from, c.m_established.handshake_done());  // confirms the handshake (docs/protocol.md §7.2)
      } catch (...) {
        c.m_closing = true;  // the fresh session could not seal: it goes (reap below)
      }
      if (m_shared->on.on_connect) {
        try {
          m_shared->on.on_connect(c);
        } catch (...) {
        }
      }
      reap(c);
    }

    /// Puts an established session in a slot and both maps: all of it, or
    /// (out of memory) none of it.
    std::optional<std::uint32_t> install_session(handshake::established<Suite>&& done, const endpoint& from,
                                                 const detail::route_key& key,
                                                 const handshake::connection_id& cid) noexcept {
      std::size_t slot = m_slots.size();
      try {
        if (!m_free.empty()) {
          slot = m_free.back();
          m_free.pop_back();
        } else {
          if (slot > 0xffffff) return std::nullopt;
          m_slots.emplace_back();
        }
        const auto gen = m_shared->next_generation.fetch_add(1, std::memory_order_relaxed) & 0xffffffff;
        const peer_id id = (std::uint64_t{m_index} << 56) | (std::uint64_t{slot} << 32) | gen;
        m_slots[slot].reset(new connection(this, std::move(done), from, id));
        auto& c = *m_slots[slot];
        c.m_key = c.m_handshake_key = key;
        c.m_last_receive = m_now;
        m_sessions.emplace(cid, static_cast<std::uint32_t>(slot));
        m_by_address[key] = static_cast<std::uint32_t>(slot);
        return static_cast<std::uint32_t>(slot);
      } catch (...) {
        m_sessions.erase(cid);
        if (auto a = m_by_address.find(key); a != m_by_address.end() && a->second == slot) m_by_address.erase(a);
        if (slot < m_slots.size()) {
          m_slots[slot].reset();
          try {
            m_free.push_back(static_cast<std::uint32_t>(slot));
          } catch (...) {
          }
        }
        return std::nullopt;
      }
    }

    void forget_pending(typename std::unordered_map<detail::route_key, pending_handshake, detail::route_hash>::iterator p) noexcept {
      if (auto per = m_per_address.find(p->second.address); per != m_per_address.end() && --per->second == 0)
        m_per_address.erase(per);
      m_pending.erase(p);
      m_shared->pending.fetch_sub(1, std::memory_order_relaxed);
    }

    /// True when a new handshake from `key` would replace the session there
    /// (docs/protocol.md §7.3, Replacement): one whose handshake came from
    /// there, not one that moved there.
    [[nodiscard]] bool replaceable(const detail::route_key& key) const noexcept {
      const auto it = m_by_address.find(key);
      return it != m_by_address.end() && !m_slots[it->second]->m_moved;
    }

    /// Closes `c` now if it asked to be closed.
    void reap(connection& c) noexcept {
      if (c.m_closing) drop_session(c, close_reason::closed);
    }
    void reap_closing() noexcept {
      for (auto& c : m_slots)
        if (c && c->m_closing) drop_session(*c, close_reason::closed);
    }

    void drop_session(connection& c, close_reason why) noexcept {
      c.m_closing = true;
      if (m_shared->on.on_close) {
        try {
          m_shared->on.on_close(c, why);
        } catch (...) {
        }
      }
      const auto slot = static_cast<std::size_t>((c.m_id >> 32) & 0xffffff);
      m_sessions.erase(c.m_established.session().local_connection_id());
      if (auto a = m_by_address.find(c.m_key); a != m_by_address.end() && a->second == slot) m_by_address.erase(a);
      if (why != close_reason::replaced) m_shared->sessions.fetch_sub(1, std::memory_order_relaxed);
      m_slots[slot].reset();
      try {
        m_free.push_back(static_cast<std::uint32_t>(slot));
      } catch (...) {
      }
    }

    void on_resend_timer() noexcept {
      for (auto it = m_pending.begin(); it != m_pending.end();) {
        auto& p = it->second;
        if (p.hs.exhausted()) {
          m_counters.handshakes_expired.add();
          auto next = std::next(it);
          forget_pending(it);
          it = next;
          continue;
        }
        if (auto again = p.hs.on_timer_flight()) {  // the whole flight, or nothing
          for (const auto& d : *again) m_send.push(p.from, d);
          m_counters.server_hello_resends.add();
        }
        ++it;
      }
      // An incomplete ClientHello goes at its second tick (docs/protocol.md §3.4).
      for (auto it = m_collecting.begin(); it != m_collecting.end();) {
        auto next = std::next(it);
        if (it->second.hello.on_timer()) {
          m_counters.hello_reassemblies_expired.add();
          forget_collecting(it);
        }
        it = next;
      }
      const auto idle = m_shared->cfg.limits.idle_timeout;
      for (auto& c : m_slots) {
        if (c && m_now - c->m_last_receive > idle) {
          drop_session(*c, close_reason::timed_out);
          m_counters.sessions_timed_out.add();  // after: whoever sees it counted sees the session gone
        }
      }
    }

    shared_state* m_shared;
    unsigned m_index;
    udp_socket m_socket;
    io_counters m_io;
    worker_counters m_counters;
    receive_batch m_receive;
    send_batch m_send;
    /// Sessions by the server's connection id, and by the address they were
    /// last validated at (for handshake messages, which carry no id).
    std::unordered_map<handshake::connection_id, std::uint32_t, detail::connection_id_hash> m_sessions;
    std::unordered_map<detail::route_key, std::uint32_t, detail::route_hash> m_by_address;
    std::unordered_map<detail::route_key, pending_handshake, detail::route_hash> m_pending;
    std::unordered_map<detail::reassembly_key, collecting_hello, detail::reassembly_hash> m_collecting;
    std::unordered_map<detail::route_key, std::size_t, detail::route_hash> m_per_address;
    std::unordered_map<detail::route_key, std::size_t, detail::route_hash> m_collecting_per_address;
    std::uint64_t m_collections_opened = 0;
    std::vector<std::unique_ptr<connection>> m_slots;
    std::vector<std::uint32_t> m_free;
    clock::time_point m_now{}, m_next_resend{}, m_next_tick{}, m_last_refill{};
    double m_tokens = 0;
  };

  std::shared_ptr<shared_state> m_shared;
  std::vector<std::unique_ptr<worker_state>> m_workers;
  std::vector<std::jthread> m_threads;
  bool m_steered = false;
};

}  // namespace sepal::net

#endif
