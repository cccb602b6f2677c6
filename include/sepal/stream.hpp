#ifndef SEPAL_STREAM_HPP
#define SEPAL_STREAM_HPP

// Record framing for ordered byte streams (TCP), as TLS 1.3 §5 does it:
//
//   record    = length (2 bytes, big-endian) || sealed packet (packet.hpp)
//   plaintext = payload || content type (1 byte: 0x17 data, 0x15 close)
//
// Record n carries packet number n and the reader accepts nothing else
// (TLS 1.3 §5.3's implicit sequence), so a record that is dropped,
// reordered or duplicated ends the stream. The writer's `close` sends an
// authenticated close record (TLS close_notify, §6.1); an end of input
// before it is reported as truncation, distinct from a clean close.
//
// The writer owns its sealer and the reader its opener: a stream's
// directions are used by nothing else (a datagram sealed in between would
// open a gap the reader treats as an attack).


#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "detail/memory.hpp"
#include "error.hpp"

namespace sepal {

namespace detail {
inline constexpr std::uint8_t record_data = 0x17;   // TLS 1.3's application_data
inline constexpr std::uint8_t record_close = 0x15;  // TLS 1.3's alert (close_notify)
}  // namespace detail

/// Writes the records of one stream direction with the sealer it owns.
///
/// Errors: `seal` and `close` throw `sepal::error`: `invalid_argument` when
/// the payload is larger than `MaxPayload` or `out` is too small, `closed`
/// after `close`, otherwise as `sealer::seal`.
template <class Sealer, std::size_t MaxPayload = 16384>
class record_writer {
 public:
  static constexpr std::size_t overhead = 2 + Sealer::overhead + 1;  ///< bytes a record adds to its payload
  static_assert(MaxPayload + overhead - 2 <= 0xFFFF, "a record length must fit the 2-byte prefix");

  /// A writer that seals with `sealer` (moved in; e.g. from `session::split`).
  explicit record_writer(Sealer sealer) noexcept : m_sealer(std::move(sealer)) {}

  /// Writes one data record into `out` (at least `payload.size() +
  /// overhead` bytes) and returns it. `payload` must not overlap `out`.
  [[nodiscard]] std::span<std::uint8_t> seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                             std::span<std::uint8_t> out) {
    if (payload.size() > MaxPayload) throw error(errc::invalid_argument);
    return write(ad, payload, detail::record_data, out);
  }

  /// Writes the authenticated close record (at least `overhead` bytes of
  /// `out`); the writer accepts nothing after it.
  [[nodiscard]] std::span<std::uint8_t> close(std::span<const std::uint8_t> ad, std::span<std::uint8_t> out) {
    auto record = write(ad, {}, detail::record_close, out);
    m_closed = true;
    return record;
  }

  /// True once `close` was called.
  [[nodiscard]] bool closed() const noexcept { return m_closed; }

 private:
  std::span<std::uint8_t> write(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                std::uint8_t type, std::span<std::uint8_t> out) {
    if (m_closed) throw error(errc::closed);
    if (out.size() < payload.size() + overhead) throw error(errc::invalid_argument);
    // plaintext = payload || type, sealed in place after the length prefix.
    const auto body = out.subspan(2);
    if (!payload.empty()) std::copy(payload.begin(), payload.end(), body.begin() + Sealer::header_size);
    body[Sealer::header_size + payload.size()] = type;
    const auto packet = m_sealer.seal_in_place(ad, body, payload.size() + 1);
    out[0] = static_cast<std::uint8_t>(packet.size() >> 8);
    out[1] = static_cast<std::uint8_t>(packet.size());
    return out.first(2 + packet.size());
  }

  Sealer m_sealer;
  bool m_closed = false;
};

/// Reads the records of one stream direction, arriving in arbitrary pieces,
/// into a fixed buffer (no allocation, bounded memory: `MaxPayload` plus
/// overhead), with the opener it owns.
///
/// Errors (never throws): any record that is not the next one in sequence
/// (`out_of_order`), whose length or content type is invalid
/// (`invalid_encoding`) or that does not open (`authentication_failed`, ...)
/// ends the stream: the reader stays failed, `open` returns that error once,
/// then `closed` (as TLS treats a bad record as fatal). The peer's close
/// record makes `open` return `end_of_stream`.
///
/// Security: a decrypted payload is wiped from the buffer at the next `feed`
/// (its view ends there), when the stream ends or fails, and when the reader
/// is destroyed.
template <class Opener, std::size_t MaxPayload = 16384>
class record_reader {
 public:
  static constexpr std::size_t max_record = MaxPayload + Opener::overhead + 1;  ///< longest sealed record

  /// A reader that opens records with `opener` (moved in; e.g. from `session::split`).
  explicit record_reader(Opener opener) noexcept : m_opener(std::move(opener)) {}

  record_reader(const record_reader&) = delete;
  record_reader& operator=(const record_reader&) = delete;
  ~record_reader() { sepal::detail::wipe(m_buf.data(), m_buf.size()); }

  /// Takes bytes from `input` up to the end of the next record and returns
  /// how many it took. Call `open` when `ready()`; the rest of `input` is for
  /// later calls. Takes nothing once the stream failed or ended.
  std::size_t feed(std::span<const std::uint8_t> input) noexcept {
    if (m_failed || m_ended || ready()) return 0;
    wipe_payload();  // the last record's plaintext: its view ends here
    std::size_t used = 0;
    while (used < input.size() && !ready()) {
      if (m_have < 2) {
        m_len[m_have++] = input[used++];
        if (m_have == 2 && !length_ok()) {
          fail(errc::invalid_encoding);
          m_error = errc::invalid_encoding;  // reported by the next `open` or `finish`
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
  /// True once the peer's close record was read.
  [[nodiscard]] bool ended() const noexcept { return m_ended; }

  /// Opens the buffered record; the payload view is valid until the next
  /// `feed`. Errors: `invalid_argument` when no record is ready;
  /// `end_of_stream` (not a failure) for the peer's close record; otherwise
  /// the stream fails with the record's error (see the class).
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> ad) noexcept {
    if (m_failed) {
      const errc e = m_error;
      m_error = errc::closed;
      return e;
    }
    if (m_ended) return errc::end_of_stream;
    if (!ready()) return errc::invalid_argument;
    const auto record = std::span(m_buf).first(record_length());
    m_have = 0;
    auto plain = m_opener.open_next_in_place(ad, record);
    if (!plain) return fail(plain.error());
    m_payload_size = Opener::header_size + plain->size();
    const std::uint8_t type = plain->back();
    const auto payload = plain->first(plain->size() - 1);
    if (type == detail::record_data) return payload;
    if (type == detail::record_close && payload.empty()) {
      m_ended = true;
      wipe_payload();
      return errc::end_of_stream;
    }
    return fail(errc::invalid_encoding);
  }

  /// Call when the transport reached the end of its input: success when
  /// the peer closed the stream with its close record, else `truncated`
  /// (the connection was cut, possibly by an attacker, mid-record or at a
  /// record boundary), or the stream's error if it failed before (then
  /// `closed`). The reader is failed afterwards unless it had ended.
  [[nodiscard]] result<void> finish() noexcept {
    if (m_ended) return {};
    if (m_failed) {
      const errc e = m_error;
      m_error = errc::closed;
      return e;
    }
    return fail(errc::truncated);
  }

 private:
  [[nodiscard]] std::size_t record_length() const noexcept { return (std::size_t{m_len[0]} << 8) | m_len[1]; }
  [[nodiscard]] bool length_ok() const noexcept {
    return record_length() >= Opener::overhead + 1 && record_length() <= max_record;
  }

  void wipe_payload() noexcept {
    sepal::detail::wipe(m_buf.data(), m_payload_size);
    m_payload_size = 0;
  }

  errc fail(errc e) noexcept {
    m_failed = true;
    m_error = errc::closed;
    sepal::detail::wipe(m_buf.data(), m_buf.size());
    return e;
  }

  Opener m_opener;
  std::array<std::uint8_t, 2> m_len{};
  std::array<std::uint8_t, max_record> m_buf{};
  std::size_t m_have = 0;
  std::size_t m_payload_size = 0;  ///< bytes of `m_buf` that hold the last record's plaintext
  bool m_failed = false;
  bool m_ended = false;
  errc m_error = errc::closed;
};

}  // namespace sepal

#endif
