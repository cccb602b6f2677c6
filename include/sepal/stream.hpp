#ifndef SEPAL_STREAM_HPP
#define SEPAL_STREAM_HPP

// Record framing for ordered byte streams (TCP): each record is a 2-byte
// big-endian length followed by one sealed packet (packet.hpp) of that
// length. Records reuse the session's sealer and opener, so they get the same
// nonces, replay protection and key updates.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "error.hpp"

namespace sepal {

/// Writes one record: length prefix, then `payload` sealed by `s`. Returns the
/// record within `out` (at least `2 + payload.size() + Sealer::overhead`).
///
/// Errors: throws `sepal::error(errc::invalid_argument)` when `payload` is
/// larger than `MaxPayload` or `out` is too small; otherwise as `sealer::seal`.
template <std::size_t MaxPayload = 16384, class Sealer>
[[nodiscard]] std::span<std::uint8_t> seal_record(Sealer& s, std::span<const std::uint8_t> ad,
                                                  std::span<const std::uint8_t> payload, std::span<std::uint8_t> out) {
  static_assert(MaxPayload + Sealer::overhead <= 0xFFFF, "a record length must fit the 2-byte prefix");
  if (payload.size() > MaxPayload || out.size() < 2) throw error(errc::invalid_argument);
  const auto packet = s.seal(ad, payload, out.subspan(2));
  out[0] = static_cast<std::uint8_t>(packet.size() >> 8);
  out[1] = static_cast<std::uint8_t>(packet.size());
  return out.first(2 + packet.size());
}

/// Reads records from a byte stream that arrives in arbitrary pieces, into a
/// fixed buffer (no allocation, bounded memory: `MaxPayload` plus overhead).
///
/// Errors (never throws): a record whose length is out of range, or that does
/// not open, ends the stream: the reader stays failed and `open` returns the
/// error, then `closed` (as TLS treats a bad record as fatal).
template <class Opener, std::size_t MaxPayload = 16384>
class record_reader {
 public:
  static constexpr std::size_t max_record = MaxPayload + Opener::overhead;  ///< longest sealed record

  /// A reader that opens records with `opener` (which must outlive it).
  explicit record_reader(Opener& opener) noexcept : m_opener(&opener) {}

  /// Takes bytes from `input` up to the end of the next record and returns
  /// how many it took. Call `open` when `ready()`; the rest of `input` is for
  /// later calls.
  std::size_t feed(std::span<const std::uint8_t> input) noexcept {
    if (m_failed || ready()) return 0;
    std::size_t used = 0;
    while (used < input.size() && !ready()) {
      if (m_have < 2) {
        m_len[m_have++] = input[used++];
        if (m_have == 2 && !length_ok()) {
          m_failed = true;
          m_error = errc::invalid_encoding;
          return used;
        }
        continue;
      }
      const std::size_t want = record_length() - (m_have - 2);
      const std::size_t take = std::min(want, input.size() - used);
      std::copy_n(input.begin() + static_cast<std::ptrdiff_t>(used), take, m_buf.begin() + (m_have - 2));
      m_have += take;
      used += take;
    }
    return used;
  }

  /// True when a whole record is buffered.
  [[nodiscard]] bool ready() const noexcept { return m_have >= 2 && m_have == 2 + record_length(); }
  /// True once the stream failed.
  [[nodiscard]] bool failed() const noexcept { return m_failed; }

  /// Opens the buffered record; the payload view is valid until the next
  /// `feed`. Errors: `invalid_argument` when no record is ready; the opener's
  /// error (and the stream fails) when it does not open.
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> ad) noexcept {
    if (m_failed) {
      const errc e = m_error;
      m_error = errc::closed;
      return e;
    }
    if (!ready()) return errc::invalid_argument;
    const auto record = std::span(m_buf).first(record_length());
    m_have = 0;
    auto payload = m_opener->open_in_place(ad, record);
    if (!payload) {
      m_failed = true;
      m_error = errc::closed;
      return payload.error();
    }
    return *payload;
  }

 private:
  [[nodiscard]] std::size_t record_length() const noexcept { return (std::size_t{m_len[0]} << 8) | m_len[1]; }
  [[nodiscard]] bool length_ok() const noexcept {
    return record_length() >= Opener::overhead && record_length() <= max_record;
  }

  Opener* m_opener;
  std::array<std::uint8_t, 2> m_len{};
  std::array<std::uint8_t, max_record> m_buf{};
  std::size_t m_have = 0;
  bool m_failed = false;
  errc m_error = errc::closed;
};

}  // namespace sepal

#endif
