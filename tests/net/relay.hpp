#ifndef SEPAL_TESTS_NET_RELAY_HPP
#define SEPAL_TESTS_NET_RELAY_HPP

// A small UDP relay for loopback network tests: it sits between one client
// and a server, on a thread of its own, and drops, duplicates and reorders
// datagrams in each direction with a seeded RNG (an on-path network that
// loses, repeats and reorders). For the datagrams of one size (a test's
// payload packets) it records, in the order they arrived, whether the kernel
// took at least one copy from it, so a test can state exactly what the
// receiver must get. `kernel_drops` says whether a socket buffer dropped
// something on the way, which would make that statement void. With
// `rebind_every` it is also a NAT that rebinds: every so many datagrams to
// the server it sends from a new port, and what the server still sends to
// the previous port is lost (and recorded as not forwarded).

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include "net_support.hpp"

namespace net_test {

/// What the relay does to each direction's datagrams.
struct faults {
  double loss = 0;       ///< probability a datagram is dropped
  double duplicate = 0;  ///< probability a forwarded datagram is sent twice
  double reorder = 0;    ///< probability a copy is held back behind later ones
  int max_hold = 32;     ///< a held copy goes after 1 to max_hold later datagrams (or 3 ms)
  int rebind_every = 0;  ///< a new source port toward the server every this many datagrams (0: never)
};

class relay {
 public:
  enum direction : std::size_t { to_server = 0, to_client = 1 };

  /// Relays between the client that first sends to `address()` and `server`.
  /// `tracked_size`: the datagram size whose fate is recorded.
  relay(const net::endpoint& server, faults f, std::uint64_t seed, std::size_t tracked_size)
      : m_server(server), m_faults(f), m_rng(seed), m_tracked_size(tracked_size),
        m_front(*net::endpoint::parse("127.0.0.1", 0), net::socket_options{.gro = false, .gso = false}),
        m_back(std::make_unique<net::udp_socket>(*net::endpoint::parse("127.0.0.1", 0),
                                                 net::socket_options{.gro = false, .gso = false})),
        m_thread([this](std::stop_token st) { run(st); }) {}
  ~relay() { stop(); }
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// Where the client sends (it takes the relay for the server).
  [[nodiscard]] const net::endpoint& address() const noexcept { return m_front.local(); }

  /// Ends the relay thread; what it recorded may be read afterwards.
  void stop() {
    m_thread.request_stop();
    if (m_thread.joinable()) m_thread.join();
  }

  /// Per direction, per tracked datagram in arrival order: whether a copy
  /// went on (read after `stop`).
  [[nodiscard]] std::vector<bool> forwarded(direction d) const { return {m_forwarded[d].begin(), m_forwarded[d].end()}; }
  /// While running: tracked datagrams that went on, and copies still held back.
  [[nodiscard]] std::uint64_t delivered(direction d) const noexcept { return m_delivered[d].load(); }
  [[nodiscard]] std::uint64_t holding() const noexcept { return m_holding.load(); }
  /// The relay's two ports (for `kernel_drops`).
  [[nodiscard]] std::array<std::uint16_t, 2> ports() const noexcept { return {m_front.local().port(), m_back->local().port()}; }
  /// How often the relay moved to a new port toward the server.
  [[nodiscard]] std::uint64_t rebinds() const noexcept { return m_rebinds.load(); }
  /// Session packets (any size) sent twice, per direction.
  [[nodiscard]] std::uint64_t duplicated(direction d) const noexcept { return m_duplicated[d]; }
  [[nodiscard]] std::uint64_t dropped(direction d) const noexcept { return m_dropped[d]; }
  [[nodiscard]] std::uint64_t reordered(direction d) const noexcept { return m_reordered[d]; }

 private:
  struct held {
    bytes datagram;
    std::int64_t tracked;  // index in m_forwarded, or -1
    int after;  // goes when this many later datagrams have passed
    std::chrono::steady_clock::time_point since;
  };

  void run(const std::stop_token& st) {
    bytes buffer(65536);
    while (!st.stop_requested()) {
      std::array<pollfd, 2> fds{pollfd{m_front.fd(), POLLIN, 0}, pollfd{m_back->fd(), POLLIN, 0}};
      (void)::poll(fds.data(), fds.size(), 1);
      drain(m_front, to_server, buffer);
      // The port left behind first: what the server sent there came before
      // anything it sent to the new one.
      if (m_stale) drain(*m_stale, to_client, buffer, true);
      drain(*m_back, to_client, buffer);
      release_aged(to_server);
      release_aged(to_client);
    }
  }

  void drain(net::udp_socket& s, direction d, bytes& buffer, bool stale = false) {
    for (;;) {
      net::endpoint from;
      socklen_t n = net::endpoint::capacity;
      const auto got = ::recvfrom(s.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT, from.storage(), &n);
      if (got < 0) return;
      from.set_size(n);
      if (d == to_server) m_client = from;
      handle(d, std::span(buffer).first(static_cast<std::size_t>(got)), stale);
      if (d == to_server && m_faults.rebind_every > 0 && ++m_since_rebind >= m_faults.rebind_every) rebind();
    }
  }

  /// The NAT's new mapping: a new port toward the server. The previous one
  /// stays open only to record what still arrives there as lost.
  void rebind() {
    m_since_rebind = 0;
    m_stale = std::move(m_back);
    m_back = std::make_unique<net::udp_socket>(*net::endpoint::parse("127.0.0.1", 0),
                                               net::socket_options{.gro = false, .gso = false});
    ++m_rebinds;
  }

  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(m_rng) < p; }

  void handle(direction d, std::span<const std::uint8_t> datagram, bool stale = false) {
    const bool session_packet = datagram.size() >= 29 && (datagram[0] & 0x40) != 0;
    const bool lost = chance(m_faults.loss) || stale;
    std::int64_t tracked = -1;
    if (session_packet && datagram.size() == m_tracked_size) {
      tracked = static_cast<std::int64_t>(m_forwarded[d].size());
      m_forwarded[d].push_back(0);
    }
    // Every arrival moves the held copies of its direction along.
    for (auto& h : m_held[d]) --h.after;
    if (lost) {
      ++m_dropped[d];
    } else {
      const int copies = chance(m_faults.duplicate) ? 2 : 1;
      if (copies == 2 && session_packet) ++m_duplicated[d];
      for (int i = 0; i < copies; ++i) {
        if (chance(m_faults.reorder)) {
          ++m_reordered[d];
          const int after = std::uniform_int_distribution<int>(1, m_faults.max_hold)(m_rng);
          m_held[d].push_back({bytes(datagram.begin(), datagram.end()), tracked, after, std::chrono::steady_clock::now()});
          ++m_holding;
        } else {
          send(d, datagram, tracked);
        }
      }
    }
    release(d, [](const held& h) { return h.after <= 0; });
  }

  void release_aged(direction d) {
    const auto old = std::chrono::steady_clock::now() - std::chrono::milliseconds(3);
    release(d, [old](const held& h) { return h.since < old; });
  }

  template <class Due>
  void release(direction d, Due due) {
    for (auto it = m_held[d].begin(); it != m_held[d].end();) {
      if (due(*it)) {
        send(d, it->datagram, it->tracked);
        it = m_held[d].erase(it);
        --m_holding;
      } else {
        ++it;
      }
    }
  }

  /// Only a copy the kernel took counts as gone on.
  void send(direction d, std::span<const std::uint8_t> datagram, std::int64_t tracked) {
    const bool sent = d == to_server ? m_back->send_to(m_server, datagram)
                                     : m_client.valid() && m_front.send_to(m_client, datagram);
    if (!sent || tracked < 0) return;
    auto& f = m_forwarded[d][static_cast<std::size_t>(tracked)];
    if (f == 0) ++m_delivered[d];
    f = 1;
  }

  net::endpoint m_server, m_client;
  faults m_faults;
  std::mt19937_64 m_rng;
  std::size_t m_tracked_size;
  net::udp_socket m_front;
  std::unique_ptr<net::udp_socket> m_back, m_stale;
  int m_since_rebind = 0;
  std::atomic<std::uint64_t> m_rebinds{0};
  std::array<std::deque<held>, 2> m_held;
  std::array<std::vector<std::uint8_t>, 2> m_forwarded;
  std::array<std::atomic<std::uint64_t>, 2> m_delivered{};
  std::atomic<std::uint64_t> m_holding{0};
  std::array<std::uint64_t, 2> m_duplicated{}, m_dropped{}, m_reordered{};
  std::jthread m_thread;  // last: starts after every member above exists
};

/// Datagrams the kernel dropped at the UDP sockets bound to these loopback
/// ports (a full receive buffer), from /proc/net/udp's `drops` column. A
/// test that states exactly what arrives is void when this is not 0.
inline std::uint64_t kernel_drops(std::span<const std::uint16_t> ports) {
  std::ifstream in("/proc/net/udp");
  std::string line;
  std::getline(in, line);  // the header
  std::uint64_t drops = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, field;
    fields >> slot >> local;
    const auto colon = local.find(':');
    if (colon == std::string::npos) continue;
    const auto port = static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
    if (std::ranges::find(ports, port) == ports.end()) continue;
    for (int i = 0; i < 10; ++i) fields >> field;  // rem_address .. pointer
    std::uint64_t d = 0;
    if (fields >> d) drops += d;
  }
  return drops;
}

}  // namespace net_test

#endif
