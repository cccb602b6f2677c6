#ifndef SEPAL_NET_LIMITS_HPP
#define SEPAL_NET_LIMITS_HPP

// Limits of the UDP endpoint and the counters that say when each was hit
// (docs/net.md, "Limits and counters").

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "counters.hpp"

namespace sepal::net {

/// What a `udp_server` holds at most. Every limit has a counter in
/// `server_stats` that counts what it refused.
struct server_limits {
  /// Established sessions, all worker threads together (`refused_sessions_full`).
  std::size_t max_sessions = 10000;
  /// Pending handshakes (ServerHello sent, ClientFinished awaited), all
  /// workers together (`refused_pending_full`).
  std::size_t max_pending = 1024;
  /// Pending handshakes per source IP address (any port), per worker thread
  /// (`refused_pending_per_address`). With SO_REUSEPORT one address's ports
  /// may spread over the workers: the bound is this times the thread count.
  std::size_t max_pending_per_address = 8;
  /// Fragmented ClientHellos being reassembled (docs/protocol.md §3.4), per
  /// worker thread: at most `handshake::max_message_size` bytes each. Kept
  /// apart from `max_pending`, so fragments alone cannot keep a whole
  /// ClientHello from starting a handshake. When full, the oldest collection
  /// makes room (`hello_reassemblies_evicted`): a flood of fragments then
  /// costs fragmented clients a resend round, never the server its memory.
  std::size_t max_hello_reassemblies = 256;
  /// Of those, per source IP address (any port), per worker thread; that
  /// address's oldest makes room.
  std::size_t max_hello_reassemblies_per_address = 4;
  /// New handshakes a worker starts per second (a token bucket that holds
  /// one second's worth; `refused_rate`). 0: no rate limit.
  std::size_t max_handshakes_per_second = 0;
  /// The resend timer of pending handshakes (docs/protocol.md §7: one tick;
  /// a handshake is dropped after `handshake::max_server_hello_resends` ticks).
  std::chrono::milliseconds resend_interval{200};
  /// A session that authenticated no packet for this long is closed
  /// (`close_reason::timed_out`, counted in `sessions_timed_out`).
  std::chrono::milliseconds idle_timeout{10000};
};

/// Why a peer's session ended.
enum class close_reason {
  timed_out,    ///< no authenticated packet for `idle_timeout`
  replaced,     ///< the peer completed a new handshake from the same address (a restart)
  closed,       ///< the application closed it, or the session closed itself (usage limits)
  server_stop,  ///< the server stopped
};

/// A snapshot of a server's counters (summed over its workers).
struct server_stats {
  io_stats io;                                  ///< system calls, datagrams, bytes, GSO/GRO, drops
  std::uint64_t handshakes_started = 0;         ///< ServerHellos sent for a new ClientHello
  std::uint64_t handshakes_completed = 0;       ///< sessions established
  std::uint64_t handshakes_failed = 0;          ///< ClientHellos or ClientFinished that did not verify
  std::uint64_t handshakes_expired = 0;         ///< pending handshakes dropped after their resend ticks
  std::uint64_t server_hello_resends = 0;       ///< ServerHellos sent again (timer or repeated ClientHello)
  std::uint64_t retries_sent = 0;               ///< HelloRetry messages (stateless address validation)
  std::uint64_t refused_sessions_full = 0;      ///< ClientHellos refused: `max_sessions` reached
  std::uint64_t refused_pending_full = 0;       ///< ClientHellos refused: `max_pending` reached
  std::uint64_t refused_pending_per_address = 0;  ///< ClientHellos refused: `max_pending_per_address` reached
  std::uint64_t refused_rate = 0;               ///< ClientHellos refused: `max_handshakes_per_second` reached
  std::uint64_t payloads_received = 0;          ///< session packets that authenticated
  std::uint64_t payloads_sent = 0;              ///< session packets sealed
  std::uint64_t rejected_packets = 0;           ///< session packets of a known peer that failed (forged, replayed)
  std::uint64_t unknown_peer = 0;               ///< session packets whose connection id names no session here (dropped)
  std::uint64_t malformed = 0;                  ///< datagrams that are neither (empty, unknown type, stray messages)
  std::uint64_t late_client_finished = 0;       ///< ClientFinished copies from an established peer (answered with a fresh handshake-done)
  std::uint64_t sessions_timed_out = 0;         ///< sessions closed by `idle_timeout`
  std::uint64_t sessions_replaced = 0;          ///< sessions replaced by a new handshake from the same address
  std::uint64_t hello_reassemblies_expired = 0;  ///< fragmented ClientHellos dropped incomplete at their second tick
  std::uint64_t hello_reassemblies_evicted = 0;  ///< fragmented ClientHellos dropped to make room for a newer one
  std::uint64_t path_challenges_sent = 0;       ///< path challenges sent to a session's new address (docs/protocol.md §7.3)
  std::uint64_t path_challenges_refused = 0;    ///< path challenges not sent: over 3x what the new address sent
  std::uint64_t migrations = 0;                 ///< sessions moved to a new address that answered a challenge
  std::uint64_t sessions = 0;                   ///< established sessions now
  std::uint64_t pending = 0;                    ///< pending handshakes now
  std::uint64_t hello_reassemblies = 0;         ///< fragmented ClientHellos being reassembled now
};

}  // namespace sepal::net

#endif
