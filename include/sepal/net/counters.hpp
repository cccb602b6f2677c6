#ifndef SEPAL_NET_COUNTERS_HPP
#define SEPAL_NET_COUNTERS_HPP

// Counters for the net layer: every limit and every dropped datagram has
// one (docs/net.md, "Limits and counters").

#include <atomic>
#include <cstdint>

namespace sepal::net {

/// A counter written by one thread (its worker) and read by any: a relaxed
/// load and store, no locked instruction on the hot path, no data race.
class counter {
 public:
  /// Adds `n` (only the owning thread calls this).
  void add(std::uint64_t n = 1) noexcept { m_v.store(m_v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  /// The current value (any thread).
  [[nodiscard]] std::uint64_t get() const noexcept { return m_v.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> m_v{0};
};

/// What the batched I/O did (per socket).
struct io_stats {
  std::uint64_t receive_calls = 0;        ///< recvmmsg / recvfrom system calls that returned data
  std::uint64_t send_calls = 0;           ///< sendmmsg / sendto system calls
  std::uint64_t datagrams_received = 0;   ///< after GRO splitting
  std::uint64_t datagrams_sent = 0;       ///< after GSO splitting
  std::uint64_t bytes_received = 0;       ///< UDP payload bytes
  std::uint64_t bytes_sent = 0;           ///< UDP payload bytes
  std::uint64_t send_dropped = 0;         ///< datagrams the kernel did not take (full buffer, error): dropped, never queued without bound
  std::uint64_t truncated = 0;            ///< received datagrams larger than the buffer: dropped
  std::uint64_t gso_sends = 0;            ///< messages that carried several datagrams (UDP_SEGMENT)
  std::uint64_t gro_receives = 0;         ///< messages that carried several datagrams (UDP_GRO)

  /// Adds `o` field by field.
  io_stats& operator+=(const io_stats& o) noexcept {
    receive_calls += o.receive_calls;
    send_calls += o.send_calls;
    datagrams_received += o.datagrams_received;
    datagrams_sent += o.datagrams_sent;
    bytes_received += o.bytes_received;
    bytes_sent += o.bytes_sent;
    send_dropped += o.send_dropped;
    truncated += o.truncated;
    gso_sends += o.gso_sends;
    gro_receives += o.gro_receives;
    return *this;
  }
};

/// Live counters behind `io_stats`.
struct io_counters {
  counter receive_calls, send_calls, datagrams_received, datagrams_sent, bytes_received, bytes_sent, send_dropped,
      truncated, gso_sends, gro_receives;
  /// A snapshot.
  [[nodiscard]] io_stats snapshot() const noexcept {
    return {receive_calls.get(), send_calls.get(),   datagrams_received.get(), datagrams_sent.get(),
            bytes_received.get(), bytes_sent.get(),  send_dropped.get(),       truncated.get(),
            gso_sends.get(),      gro_receives.get()};
  }
};

}  // namespace sepal::net

#endif
