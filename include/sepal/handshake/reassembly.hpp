#ifndef SEPAL_HANDSHAKE_REASSEMBLY_HPP
#define SEPAL_HANDSHAKE_REASSEMBLY_HPP

// Handshake messages larger than one datagram (docs/protocol.md §3.4, after
// DTLS 1.3's handshake fragmentation, RFC 9147 §5.5): the Fragment datagram,
// cutting a message into Fragments, and the bounded reassembly of one
// message. The size limits of the handshake are all here.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "../detail/wire.hpp"
#include "../error.hpp"
#include "suite.hpp"

namespace sepal::handshake {

// ---- limits (docs/protocol.md §3.4) ------------------------------------------

/// No handshake message is larger: TLS 1.3's record limit (2^14, RFC 8446
/// §5.1). It holds the largest share (SecP384r1MLKEM1024, 1665 bytes) and
/// a chain of 4 certificates of up to 3.5 KB each (sepal's own P-384 chain
/// of 4 makes a 3.9 KB ServerHello, tests/unit/test_handshake_fragments.cpp;
/// certificates from other CAs, with long extension lists, are larger).
inline constexpr std::size_t max_message_size = 16384;
/// A ClientHello is padded to at least this size (docs/protocol.md §3.1),
/// the whole message whether or not it is fragmented.
inline constexpr std::size_t min_client_hello_size = 1200;
/// A datagram limit of this size (QUIC's smallest allowed maximum datagram
/// size, RFC 9000 §14.1) is the default: it crosses every IPv6 path.
inline constexpr std::size_t default_max_datagram_size = 1200;
/// The smallest `max_datagram_size` a config may set.
inline constexpr std::size_t min_datagram_size = 256;
/// No message is cut into more Fragments (a receiver drops the next one).
inline constexpr std::size_t max_fragments = 32;
/// A Fragment's bytes before its fragment_data: header (4), message_type,
/// binding[8], message_length, fragment_offset, the data's length.
inline constexpr std::size_t fragment_header_size = 4 + 1 + 8 + 2 + 2 + 2;
/// The Fragment datagram's type (0x40 clear: docs/protocol.md §7).
inline constexpr std::uint8_t fragment_type = 5;
/// An incomplete reassembly is discarded at this many ticks of the
/// receiver's resend timer (the sender resends its whole flight).
inline constexpr unsigned max_reassembly_ticks = 2;

/// The 8 bytes that bind a Fragment to its handshake: the first 8 bytes of
/// the ClientHello's random.
using fragment_binding = std::array<std::uint8_t, 8>;

/// One parsed Fragment datagram (its spans point into the datagram).
struct fragment_view {
  std::uint8_t message_type = 0;          ///< 1 ClientHello, 2 ServerHello, 3 ClientFinished
  fragment_binding binding{};             ///< ClientHello.random[0..8]
  std::size_t message_length = 0;         ///< the whole message's length
  std::size_t offset = 0;                 ///< where fragment_data starts in it
  std::span<const std::uint8_t> data{};  ///< fragment_data
};

/// True when `datagram` is a Fragment by its first byte (it may still be malformed).
[[nodiscard]] constexpr bool is_fragment(std::span<const std::uint8_t> datagram) noexcept {
  return !datagram.empty() && datagram[0] == fragment_type;
}

/// The handshake message type a datagram carries: its first byte, or for a
/// Fragment the message_type it claims (unchecked; 0 for an empty datagram).
/// For routing only: what the datagram is, is decided where it is parsed.
[[nodiscard]] constexpr std::uint8_t carried_type(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty()) return 0;
  return is_fragment(datagram) && datagram.size() > 4 ? datagram[4] : datagram[0];
}

/// Parses a Fragment of suite `suite_id` completely (docs/protocol.md §3.4).
/// Never throws, never allocates.
///
/// Errors: `invalid_encoding` (type, truncation, bytes after the data, a
/// message type other than 1 to 3, empty data, data past message_length, a
/// ClientHello under 1200 bytes), `wrong_algorithm` (version or suite),
/// `limit_reached` (message_length over `max_message_size`).
[[nodiscard]] inline result<fragment_view> parse_fragment(std::span<const std::uint8_t> datagram,
                                                          std::uint16_t suite_id) noexcept {
  sepal::detail::wire_reader r(datagram);
  const auto type = r.u8();
  const auto version = r.u8();
  const auto suite = r.u16();
  if (!r.ok() || type != fragment_type) return errc::invalid_encoding;
  if (version != protocol_version || suite != suite_id) return errc::wrong_algorithm;
  fragment_view f;
  f.message_type = r.u8();
  const auto b = r.bytes(8);
  f.message_length = r.u16();
  f.offset = r.u16();
  f.data = r.opaque16();
  if (!r.at_end() || f.message_type < 1 || f.message_type > 3) return errc::invalid_encoding;
  if (f.message_length > max_message_size) return errc::limit_reached;
  if (f.data.empty() || f.offset + f.data.size() > f.message_length) return errc::invalid_encoding;
  if (f.message_type == 1 && f.message_length < min_client_hello_size) return errc::invalid_encoding;  // §3.1's minimum
  std::copy(b.begin(), b.end(), f.binding.begin());
  return f;
}

/// The datagrams that carry `message` under a limit of `max_datagram` bytes
/// each (docs/protocol.md §3.4): the message itself when it fits, else
/// Fragments of at most `max_datagram` bytes whose data are consecutive
/// ranges covering it, in order, each as long as the limit allows.
///
/// Errors: `invalid_argument` (`max_datagram` outside `min_datagram_size` ..
/// `max_message_size`), `limit_reached` (a message over `max_message_size`,
/// or one that needs more than `max_fragments` Fragments at this limit).
[[nodiscard]] inline result<std::vector<std::vector<std::uint8_t>>> fragment_message(
    std::span<const std::uint8_t> message, std::uint8_t message_type, const fragment_binding& binding,
    std::uint16_t suite_id, std::size_t max_datagram) {
  if (max_datagram < min_datagram_size || max_datagram > max_message_size) return errc::invalid_argument;
  if (message.size() > max_message_size) return errc::limit_reached;
  std::vector<std::vector<std::uint8_t>> out;
  if (message.size() <= max_datagram) {
    out.emplace_back(message.begin(), message.end());
    return out;
  }
  const std::size_t chunk = max_datagram - fragment_header_size;
  const std::size_t count = (message.size() + chunk - 1) / chunk;
  if (count > max_fragments) return errc::limit_reached;
  out.reserve(count);
  for (std::size_t at = 0; at < message.size(); at += chunk) {
    const auto part = message.subspan(at, std::min(chunk, message.size() - at));
    std::vector<std::uint8_t> d;
    d.reserve(fragment_header_size + part.size());
    sepal::detail::wire_writer w(d);
    w.u8(fragment_type).u8(protocol_version).u16(suite_id).u8(message_type).bytes(binding);
    w.u16(static_cast<std::uint16_t>(message.size())).u16(static_cast<std::uint16_t>(at)).opaque16(part);
    out.push_back(std::move(d));
  }
  return out;
}

/// The reassembly of one fragmented handshake message (docs/protocol.md
/// §3.4, after RFC 9147 §5.5): bounded, and never poisoned by what it drops.
///
/// Security: memory is the message's length (at most `max_message_size`),
/// allocated once, when the first fragment is accepted; the accepted ranges
/// live in a fixed array of `max_fragments`. A fragment is checked against
/// the expected message type and binding (when the reassembly knows it:
/// the client's own random, or the ClientHello the server answered) and
/// against what was accepted before; a fragment that fails any check
/// changes nothing. Nothing here is expensive: the caller verifies the
/// message only once it is complete.
class reassembly {
 public:
  /// The state after `add`.
  enum class status : std::uint8_t {
    incomplete,  ///< wait for more fragments
    complete,    ///< `message()` holds the whole message
  };

  /// A reassembly of a message of `message_type` for suite `suite_id`
  /// whose fragments carry `binding`.
  reassembly(std::uint16_t suite_id, std::uint8_t message_type, const fragment_binding& binding) noexcept
      : m_suite(suite_id), m_type(message_type), m_binding(binding), m_binding_known(true) {}
  /// The same, taking the binding from the first fragment it accepts (the
  /// server's ClientHello: it has seen no random yet).
  reassembly(std::uint16_t suite_id, std::uint8_t message_type) noexcept : m_suite(suite_id), m_type(message_type) {}

  /// Adds one Fragment datagram.
  ///
  /// Errors (the fragment is dropped, nothing changes): those of
  /// `parse_fragment`; `invalid_encoding` for another message type, a
  /// message_length that differs from the first fragment's, or bytes that
  /// differ from bytes accepted before at the same offsets;
  /// `authentication_failed` for another binding; `limit_reached` for a
  /// fragment that would be accepted as the `max_fragments + 1`-th one.
  /// `invalid_encoding` also when the fragment completes a message whose
  /// first byte (its type) is not `message_type`: the reassembly is then
  /// discarded, as a message that fails to verify. A fragment whose bytes were all accepted before (a duplicate) changes
  /// nothing and returns the current status. `internal_error` when memory
  /// runs out (nothing kept).
  [[nodiscard]] result<status> add(std::span<const std::uint8_t> datagram) noexcept {
    auto f = parse_fragment(datagram, m_suite);
    if (!f) return f.error();
    return add(*f);
  }

  /// Adds one parsed Fragment (as `add(datagram)`).
  [[nodiscard]] result<status> add(const fragment_view& f) noexcept {
    if (f.message_type != m_type) return errc::invalid_encoding;
    if ((m_binding_known || m_count > 0) && f.binding != m_binding) return errc::authentication_failed;
    if (m_count > 0 && f.message_length != m_length) return errc::invalid_encoding;
    if (f.data.empty() || f.offset + f.data.size() > f.message_length || f.message_length > max_message_size)
      return errc::invalid_encoding;  // parse_fragment's rules, for a view built by hand
    const std::size_t lo = f.offset, hi = f.offset + f.data.size();
    // Bytes already accepted must match: a differing overlap is dropped.
    for (std::size_t i = 0; i < m_count; ++i) {
      const std::size_t a = std::max(lo, m_ranges[i].first), b = std::min(hi, m_ranges[i].second);
      if (a < b && !std::equal(f.data.begin() + static_cast<std::ptrdiff_t>(a - lo),
                               f.data.begin() + static_cast<std::ptrdiff_t>(b - lo),
                               m_buffer.begin() + static_cast<std::ptrdiff_t>(a)))
        return errc::invalid_encoding;
    }
    if (m_count > 0 && covered(lo, hi)) return current();  // a duplicate
    if (m_count == max_fragments) return errc::limit_reached;
    if (m_count == 0) {
      try {
        m_buffer.reserve(f.message_length);  // once: the whole message, at most max_message_size
        m_buffer.assign(f.message_length, 0);
      } catch (...) {
        std::vector<std::uint8_t>().swap(m_buffer);
        return errc::internal_error;
      }
      m_length = f.message_length;
      m_binding = f.binding;
    }
    std::copy(f.data.begin(), f.data.end(), m_buffer.begin() + static_cast<std::ptrdiff_t>(lo));
    m_ranges[m_count++] = {lo, hi};
    m_complete = covered(0, m_length);
    if (m_complete && m_buffer[0] != m_type) {  // §3.4: a message is what its fragments say it is
      reset();
      return errc::invalid_encoding;
    }
    return current();
  }

  /// True once every byte of the message arrived.
  [[nodiscard]] bool complete() const noexcept { return m_complete; }
  /// True once a fragment was accepted.
  [[nodiscard]] bool started() const noexcept { return m_count > 0; }
  /// The whole message (empty until `complete()`).
  [[nodiscard]] std::span<const std::uint8_t> message() const noexcept {
    return m_complete ? std::span<const std::uint8_t>(m_buffer) : std::span<const std::uint8_t>{};
  }
  /// The binding of the fragments (the first accepted one's, or the one given).
  [[nodiscard]] const fragment_binding& binding() const noexcept { return m_binding; }
  /// Fragments accepted so far (duplicates not counted).
  [[nodiscard]] std::size_t fragments() const noexcept { return m_count; }
  /// Bytes of memory this reassembly holds (its buffer's capacity).
  [[nodiscard]] std::size_t memory() const noexcept { return m_buffer.capacity(); }

  /// Forgets everything accepted (a complete message that failed to
  /// verify, or an incomplete one at its timer): the memory is released.
  void reset() noexcept {
    std::vector<std::uint8_t>().swap(m_buffer);  // released, not just emptied
    m_count = 0;
    m_length = 0;
    m_complete = false;
    m_ticks = 0;
  }

  /// One tick of the receiver's resend timer: an incomplete reassembly is
  /// discarded at the `max_reassembly_ticks`-th tick since it started (the
  /// sender resends its whole flight; a fragment that set a wrong length or
  /// offset cannot hold the reassembly for longer). Returns true when it
  /// was discarded.
  bool on_timer() noexcept {
    if (m_count == 0 || m_complete) return false;
    if (++m_ticks < max_reassembly_ticks) return false;
    reset();
    return true;
  }

 private:
  [[nodiscard]] status current() const noexcept { return m_complete ? status::complete : status::incomplete; }

  /// True when the accepted ranges cover [lo, hi).
  [[nodiscard]] bool covered(std::size_t lo, std::size_t hi) const noexcept {
    std::size_t at = lo;
    bool moved = true;
    while (at < hi && moved) {  // at most m_count passes: each moves `at` past one range
      moved = false;
      for (std::size_t i = 0; i < m_count; ++i) {
        if (m_ranges[i].first <= at && m_ranges[i].second > at) {
          at = m_ranges[i].second;
          moved = true;
        }
      }
    }
    return at >= hi;
  }

  std::uint16_t m_suite;
  std::uint8_t m_type;
  fragment_binding m_binding{};
  bool m_binding_known = false;
  bool m_complete = false;
  std::size_t m_length = 0;
  std::size_t m_count = 0;
  unsigned m_ticks = 0;
  std::array<std::pair<std::size_t, std::size_t>, max_fragments> m_ranges{};
  std::vector<std::uint8_t> m_buffer;
};

}  // namespace sepal::handshake

#endif
