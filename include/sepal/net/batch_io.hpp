#ifndef SEPAL_NET_BATCH_IO_HPP
#define SEPAL_NET_BATCH_IO_HPP

// Batched UDP receive and send (docs/net.md, "Batching"): recvmmsg/sendmmsg
// with UDP GRO/GSO on Linux, one recvfrom/sendto per datagram elsewhere (or
// when `io_options::batch` is off). Every buffer is allocated once, at
// construction: receiving and sending allocate nothing.

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "address.hpp"
#include "counters.hpp"
#include "socket.hpp"

namespace sepal::net {

namespace detail {
/// A byte buffer that is not zero-filled: the kernel writes what is read,
/// and large allocations map pages only as they are touched, so a client's
/// 2 MiB of GRO receive buffers cost nothing until datagrams arrive.
class raw_buffer {
 public:
  explicit raw_buffer(std::size_t n) : m_data(new std::uint8_t[n]), m_size(n) {}
  [[nodiscard]] std::uint8_t* data() noexcept { return m_data.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return m_size; }

 private:
  std::unique_ptr<std::uint8_t[]> m_data;
  std::size_t m_size;
};
}  // namespace detail

/// Batching settings shared by the server and the client.
struct io_options {
  /// recvmmsg/sendmmsg (Linux); off: one system call per datagram, as
  /// examples/udp_echo.hpp does (the measured fallback).
  bool batch = true;
  /// UDP GSO and GRO when the kernel offers them (see `socket_options`;
  /// only with `batch`: the one-call-per-datagram path reads no GRO control
  /// message, so a socket for it must be opened with `gro = false`).
  bool offload = true;
  /// Messages per recvmmsg call.
  unsigned receive_batch = 32;
  /// Bytes per receive buffer (a GRO receive needs 64 KiB).
  std::size_t receive_buffer = 65536;
  /// The send queue: at most this many datagrams, and bytes, are queued
  /// before a flush (a full queue is flushed first, so output stays bounded).
  unsigned send_queue_datagrams = 256;
  std::size_t send_queue_bytes = 512 * 1024;  ///< see `send_queue_datagrams`
};

/// One received datagram: a view into the batch's buffers, valid until the
/// next `receive`.
struct datagram {
  std::span<std::uint8_t> data;  ///< the bytes (writable: open in place if you like)
  const endpoint* from;          ///< the sender
};

/// Receives up to `io_options::receive_batch` messages per system call.
class receive_batch {
 public:
  /// Buffers for `options`; the socket's GRO setting decides how they are split.
  explicit receive_batch(const io_options& options)
      : m_count(std::max(1u, options.batch ? options.receive_batch : 1u)),
        m_buffer_size(std::max<std::size_t>(options.receive_buffer, 2048)),
        m_buffers(m_count * m_buffer_size),
        m_from(m_count),
        m_views(m_count * max_segments),
        m_batch(options.batch) {
#if defined(__linux__)
    m_iov.resize(m_count);
    m_msgs.resize(m_count);
    m_control.resize(m_count * control_size);
#endif
  }

  /// Reads what the socket holds without waiting: the number of datagrams
  /// now in `at(0..n)`, 0 when nothing was waiting. Never throws.
  std::size_t receive(udp_socket& socket, io_counters& stats) noexcept {
    m_n = 0;
#if defined(__linux__)
    if (m_batch) {
      for (std::size_t i = 0; i < m_count; ++i) {
        m_iov[i] = {m_buffers.data() + i * m_buffer_size, m_buffer_size};
        auto& h = m_msgs[i].msg_hdr;
        h = {};
        h.msg_name = m_from[i].storage();
        h.msg_namelen = endpoint::capacity;
        h.msg_iov = &m_iov[i];
        h.msg_iovlen = 1;
        h.msg_control = m_control.data() + i * control_size;
        h.msg_controllen = control_size;
      }
      const int r = ::recvmmsg(socket.fd(), m_msgs.data(), static_cast<unsigned>(m_count), MSG_DONTWAIT, nullptr);
      if (r <= 0) return 0;
      stats.receive_calls.add();
      for (int i = 0; i < r; ++i) {
        auto& h = m_msgs[static_cast<std::size_t>(i)].msg_hdr;
        m_from[static_cast<std::size_t>(i)].set_size(h.msg_namelen);
        if ((h.msg_flags & MSG_TRUNC) != 0) {
          stats.truncated.add();
          continue;
        }
        std::size_t segment = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
          if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int s = 0;
            std::memcpy(&s, CMSG_DATA(c), sizeof s);
            segment = s > 0 ? static_cast<std::size_t>(s) : 0;
          }
        }
        split(static_cast<std::size_t>(i), m_msgs[static_cast<std::size_t>(i)].msg_len, segment, stats);
      }
      return m_n;
    }
#endif
    for (std::size_t i = 0; i < m_count; ++i) {
      socklen_t len = endpoint::capacity;
      const auto r = ::recvfrom(socket.fd(), m_buffers.data() + i * m_buffer_size, m_buffer_size, MSG_DONTWAIT,
                                m_from[i].storage(), &len);
      if (r < 0) break;
      stats.receive_calls.add();
      m_from[i].set_size(len);
      split(i, static_cast<std::size_t>(r), 0, stats);
    }
    return m_n;
  }

  /// The `i`-th datagram of the last `receive`.
  [[nodiscard]] const datagram& at(std::size_t i) const noexcept { return m_views[i]; }
  /// How many datagrams the last `receive` returned.
  [[nodiscard]] std::size_t size() const noexcept { return m_n; }

 private:
  static constexpr std::size_t max_segments = 64;  // UDP_MAX_SEGMENTS
  static constexpr std::size_t control_size = 64;

  void split(std::size_t i, std::size_t len, std::size_t segment, io_counters& stats) noexcept {
    std::uint8_t* base = m_buffers.data() + i * m_buffer_size;
    if (segment == 0 || segment >= len) segment = len;
    if (segment != len) stats.gro_receives.add();
    for (std::size_t off = 0; off < len && m_n < m_views.size(); off += segment) {
      const auto n = std::min(segment, len - off);
      m_views[m_n++] = {std::span<std::uint8_t>(base + off, n), &m_from[i]};
      stats.datagrams_received.add();
      stats.bytes_received.add(n);
    }
    if (len == 0) {  // an empty datagram: reported, so the caller can count it
      m_views[m_n++] = {std::span<std::uint8_t>(base, 0), &m_from[i]};
      stats.datagrams_received.add();
    }
  }

  std::size_t m_count;
  std::size_t m_buffer_size;
  detail::raw_buffer m_buffers;
  std::vector<endpoint> m_from;
  std::vector<datagram> m_views;
  bool m_batch;
  std::size_t m_n = 0;
#if defined(__linux__)
  std::vector<iovec> m_iov;
  std::vector<mmsghdr> m_msgs;
  std::vector<std::uint8_t> m_control;
#endif
};

/// A bounded send queue flushed with sendmmsg; consecutive equal-sized
/// datagrams to one peer go out as one GSO message when the socket allows.
class send_batch {
 public:
  /// A queue for `socket` (which must outlive it).
  send_batch(udp_socket& socket, io_counters& stats, const io_options& options)
      : m_socket(&socket),
        m_stats(&stats),
        m_arena(std::max<std::size_t>(options.send_queue_bytes, 65536)),
        m_entries(std::max(1u, options.send_queue_datagrams)),
        m_batch(options.batch),
        m_offload(options.offload) {
#if defined(__linux__)
    m_iov.resize(m_entries.size());
    m_msgs.resize(m_entries.size());
    m_control.resize(m_entries.size() * control_size);
    m_groups.resize(m_entries.size());
#endif
  }
  send_batch(const send_batch&) = delete;
  send_batch& operator=(const send_batch&) = delete;

  /// Room for one datagram of at most `max_size` bytes (flushes first when
  /// the queue is full); write it, then `commit`. Empty when `max_size`
  /// exceeds the queue.
  [[nodiscard]] std::span<std::uint8_t> prepare(std::size_t max_size) noexcept {
    if (max_size > m_arena.size()) return {};
    if (m_used + max_size > m_arena.size() || m_n == m_entries.size()) flush();
    return {m_arena.data() + m_used, max_size};
  }
  /// Queues the first `size` bytes of the last `prepare` for `to`.
  void commit(const endpoint& to, std::size_t size) noexcept {
    m_entries[m_n++] = {m_used, size, to};
    m_used += size;
  }
  /// Queues a copy of `bytes` for `to`; false when it does not fit at all.
  bool push(const endpoint& to, std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.empty()) return false;  // nothing to send (never a 0-byte datagram)
    auto room = prepare(bytes.size());
    if (room.size() < bytes.size()) return false;
    std::memcpy(room.data(), bytes.data(), bytes.size());
    commit(to, bytes.size());
    return true;
  }
  /// Datagrams queued.
  [[nodiscard]] std::size_t pending() const noexcept { return m_n; }

  /// Sends everything queued. What the kernel does not take is dropped and
  /// counted (`send_dropped`): UDP may lose it anyway, and the queue stays
  /// bounded. Never throws.
  void flush() noexcept {
    if (m_n == 0) return;
#if defined(__linux__)
    if (m_batch) {
      flush_mmsg();
      m_n = m_used = 0;
      return;
    }
#endif
    for (std::size_t i = 0; i < m_n; ++i) {
      const auto& e = m_entries[i];
      m_stats->send_calls.add();
      if (m_socket->send_to(e.to, std::span(m_arena.data() + e.offset, e.size))) {
        m_stats->datagrams_sent.add();
        m_stats->bytes_sent.add(e.size);
      } else {
        m_stats->send_dropped.add();
      }
    }
    m_n = m_used = 0;
  }

 private:
  static constexpr std::size_t max_segments = 64;   // UDP_MAX_SEGMENTS
  static constexpr std::size_t max_gso_bytes = 65000;
  static constexpr std::size_t control_size = 64;

  struct entry {
    std::size_t offset = 0, size = 0;
    endpoint to;
  };

#if defined(__linux__)
  struct group {
    std::size_t first, count, bytes;
  };

  void flush_mmsg() noexcept {
    const bool gso = m_offload && m_socket->gso();
    // Build messages: a run of datagrams to one peer, all of one size but
    // the last (which may be shorter), becomes one GSO message.
    std::size_t msgs = 0;
    for (std::size_t i = 0; i < m_n;) {
      std::size_t j = i + 1, bytes = m_entries[i].size;
      if (gso) {
        while (j < m_n && j - i < max_segments && m_entries[j].to == m_entries[i].to &&
               m_entries[j].size <= m_entries[i].size && m_entries[j - 1].size == m_entries[i].size &&
               bytes + m_entries[j].size <= max_gso_bytes) {
          bytes += m_entries[j].size;
          ++j;
        }
      }
      auto& h = m_msgs[msgs].msg_hdr;
      h = {};
      m_iov[msgs] = {m_arena.data() + m_entries[i].offset, bytes};
      h.msg_name = const_cast<sockaddr*>(m_entries[i].to.data());
      h.msg_namelen = m_entries[i].to.size();
      h.msg_iov = &m_iov[msgs];
      h.msg_iovlen = 1;
      if (j - i > 1) {
        auto* control = m_control.data() + msgs * control_size;
        std::memset(control, 0, control_size);
        h.msg_control = control;
        h.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const auto seg = static_cast<std::uint16_t>(m_entries[i].size);
        std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
      }
      m_groups[msgs] = {i, j - i, bytes};
      ++msgs;
      i = j;
    }
    std::size_t done = 0;
    while (done < msgs) {
      m_stats->send_calls.add();
      const int r = ::sendmmsg(m_socket->fd(), m_msgs.data() + done, static_cast<unsigned>(msgs - done), MSG_DONTWAIT);
      if (r > 0) {
        for (std::size_t k = done; k < done + static_cast<std::size_t>(r); ++k) {
          m_stats->datagrams_sent.add(m_groups[k].count);
          m_stats->bytes_sent.add(m_groups[k].bytes);
          if (m_groups[k].count > 1) m_stats->gso_sends.add();
        }
        done += static_cast<std::size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EIO || errno == EINVAL) && m_msgs[done].msg_hdr.msg_controllen != 0) {
        // The kernel or the device refused segmentation: turn it off and
        // send this message's datagrams one by one (runtime fallback).
        m_socket->disable_gso();
        const auto& g = m_groups[done];
        for (std::size_t k = g.first; k < g.first + g.count; ++k) {
          const auto& e = m_entries[k];
          m_stats->send_calls.add();
          if (m_socket->send_to(e.to, std::span(m_arena.data() + e.offset, e.size))) {
            m_stats->datagrams_sent.add();
            m_stats->bytes_sent.add(e.size);
          } else {
            m_stats->send_dropped.add();
          }
        }
        ++done;
        continue;
      }
      // EAGAIN (a full socket buffer) or an error for this peer: drop the
      // first message and go on (UDP semantics; the queue stays bounded).
      m_stats->send_dropped.add(m_groups[done].count);
      ++done;
    }
  }

  std::vector<iovec> m_iov;
  std::vector<mmsghdr> m_msgs;
  std::vector<std::uint8_t> m_control;
  std::vector<group> m_groups;
#endif

  udp_socket* m_socket;
  io_counters* m_stats;
  detail::raw_buffer m_arena;
  std::vector<entry> m_entries;
  std::size_t m_n = 0, m_used = 0;
  bool m_batch, m_offload;
};

}  // namespace sepal::net

#endif
