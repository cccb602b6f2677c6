#ifndef SEPAL_NOISE_TRANSPORT_HPP
#define SEPAL_NOISE_TRANSPORT_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "../error.hpp"
#include "../keys.hpp"
#include "../replay.hpp"
#include "handshake_state.hpp"

namespace sepal::noise {

template <class Protocol, role Role>
class datagram_transport;

/// The transport phase of a finished handshake (Noise §5.4): a sending and a
/// receiving cipher state with implicit nonces, for an ordered channel
/// (TCP, a pipe). Message n must be the peer's nth message.
///
/// Security: nonces are implicit, so a dropped or reordered message fails
/// to open (and so does every later one); for UDP use `into_datagram()`.
/// Seal and open allocate nothing (one keyed Botan object per direction).
/// One-way patterns (§7.4): the initiator can only seal, the responder only
/// open; the other calls do not compile.
///
/// Errors: `seal` throws `sepal::error(errc::limit_reached)` once 2^64 − 1
/// messages were sent (§5.1), `errc::invalid_argument` for a payload over
/// `max_payload_size` or an `out` too small; `open` never throws and returns
/// `authentication_failed` (the receive nonce does not advance, the output is
/// wiped), `invalid_encoding` for a message over 65535 bytes, `limit_reached`.
template <class Protocol, role Role>
class transport {
  using Dh = typename Protocol::dh;
  using Cipher = typename Protocol::cipher;
  using Hash = typename Protocol::hash;
  static constexpr bool one_way = Protocol::def.one_way();

 public:
  /// The largest payload of one message: 65535 − 16 bytes.
  static constexpr std::size_t max_payload = max_payload_size;
  /// Bytes a message adds to its payload (the tag).
  static constexpr std::size_t overhead = tag_size;

  /// Encrypts `payload` into `out` (payload + 16 bytes) with the next
  /// sending nonce and returns the message. `payload` may be `out`'s own
  /// first bytes (in place).
  std::span<std::uint8_t> seal(std::span<const std::uint8_t> payload, std::span<std::uint8_t> out) {
    static_assert(!(one_way && Role == role::responder),
                  "sepal::noise: in a one-way pattern the responder only receives (Noise §7.4)");
    if (payload.size() > max_payload) throw error(errc::invalid_argument);
    return out.first(m_state.send.encrypt_with_ad({}, payload, out));  // §5.4: EncryptWithAd(zerolen, payload)
  }

  /// `seal` into a new vector.
  [[nodiscard]] std::vector<std::uint8_t> seal(std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out(payload.size() + overhead);
    (void)seal(payload, out);
    return out;
  }

  /// Decrypts the peer's next message into `out` (message − 16 bytes) and
  /// returns the payload; `message` may start at `out` (in place).
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> message,
                                                     std::span<std::uint8_t> out) noexcept {
    static_assert(!(one_way && Role == role::initiator),
                  "sepal::noise: in a one-way pattern the initiator only sends (Noise §7.4)");
    if (message.size() > max_message_size) return errc::invalid_encoding;
    auto n = m_state.receive.decrypt_with_ad({}, message, out);
    if (!n) return n.error();
    return out.first(*n);
  }

  /// `open` into a new vector.
  [[nodiscard]] result<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> message) {
    std::vector<std::uint8_t> out(message.size());
    auto r = open(message, out);
    if (!r) return r.error();
    out.resize(r->size());
    return out;
  }

  /// §11.3 Rekey() of the sending direction; the peer calls `rekey_receive`
  /// at the same point of its message stream.
  void rekey_send() { m_state.send.rekey(); }
  /// §11.3 Rekey() of the receiving direction.
  void rekey_receive() { m_state.receive.rekey(); }

  /// The next sending nonce (messages sent so far).
  [[nodiscard]] std::uint64_t send_nonce() const noexcept { return m_state.send.nonce(); }
  /// The next receiving nonce (messages opened so far).
  [[nodiscard]] std::uint64_t receive_nonce() const noexcept { return m_state.receive.nonce(); }

  /// The handshake hash h (§5.2, §11.2): identical on both sides, unique to
  /// this handshake; for channel binding.
  [[nodiscard]] std::span<const std::uint8_t, Hash::digest_size> handshake_hash() const noexcept {
    return m_state.handshake_hash;
  }

  /// The peer's static public key, when the pattern has one (it was
  /// authenticated by the handshake: check that it is the key you expect).
  [[nodiscard]] const std::optional<public_key<Dh>>& remote_static() const noexcept { return m_state.remote_static; }

  /// The datagram transport over the same keys (explicit counters and a
  /// replay window, for UDP). Consumes the transport.
  [[nodiscard]] datagram_transport<Protocol, Role> into_datagram() && {
    return datagram_transport<Protocol, Role>(std::move(m_state));
  }

  /// Wraps split cipher states (handshake.hpp's typestate does this).
  explicit transport(split_state<Dh, Cipher, Hash::digest_size> s) noexcept : m_state(std::move(s)) {}

 private:
  split_state<Dh, Cipher, Hash::digest_size> m_state;
};

/// A Noise transport for datagrams (UDP), as WireGuard does it (WireGuard
/// §5.4.6): each datagram is an explicit 8-byte little-endian counter
/// followed by the Noise transport message encrypted with that counter as
/// its nonce (§5.1 SetNonce), and the receiver keeps an RFC 6479 replay
/// window. Datagrams may arrive out of order: each counter is accepted once
/// while it is within the window (2048 counters).
///
/// Wire format: `LE64(counter) || ciphertext || tag(16)`.
///
/// Security: the counter is authenticated as the AEAD nonce; the window
/// moves only after a datagram authenticated, so forged or replayed
/// datagrams change nothing. Counter 2^64 − 1 is never used. No rekeying:
/// start a new handshake well before the AEAD's usage limit, as WireGuard does.
///
/// Errors: `seal` throws as `transport::seal`; `open` never throws:
/// `invalid_encoding` (shorter than 24 bytes or over 8 + 65535),
/// `replayed` (already received or older than the window),
/// `authentication_failed`.
template <class Protocol, role Role>
class datagram_transport {
  using Dh = typename Protocol::dh;
  using Cipher = typename Protocol::cipher;
  using Hash = typename Protocol::hash;
  static constexpr bool one_way = Protocol::def.one_way();

 public:
  /// The counter's size on the wire.
  static constexpr std::size_t counter_size = 8;
  /// Bytes a datagram adds to its payload: counter and tag.
  static constexpr std::size_t overhead = counter_size + tag_size;
  /// The largest payload.
  static constexpr std::size_t max_payload = max_payload_size;
  /// How many counters below the largest are remembered.
  static constexpr std::size_t window_size = replay_window<>::size;

  /// Writes `LE64(counter) || EncryptWithAd("", payload)` into `out` (payload
  /// + 24 bytes). For in place, put the payload at `out[8...]`.
  std::span<std::uint8_t> seal(std::span<const std::uint8_t> payload, std::span<std::uint8_t> out) {
    static_assert(!(one_way && Role == role::responder),
                  "sepal::noise: in a one-way pattern the responder only receives (Noise §7.4)");
    if (payload.size() > max_payload || out.size() < payload.size() + overhead) throw error(errc::invalid_argument);
    const std::uint64_t counter = m_state.send.nonce();
    if (counter == max_nonce) throw error(errc::limit_reached);
    std::array<std::uint8_t, counter_size> le{};
    for (std::size_t i = 0; i < counter_size; ++i) le[i] = static_cast<std::uint8_t>(counter >> (8 * i));
    // Encrypt first (the payload may sit at out[8...]), then write the counter.
    const std::size_t n = m_state.send.encrypt_with_ad({}, payload, out.subspan(counter_size));
    std::memcpy(out.data(), le.data(), counter_size);
    return out.first(counter_size + n);
  }

  /// `seal` into a new vector.
  [[nodiscard]] std::vector<std::uint8_t> seal(std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out(payload.size() + overhead);
    (void)seal(payload, out);
    return out;
  }

  /// Authenticates and decrypts `datagram` into `out` (datagram − 24 bytes)
  /// and returns the payload; then records its counter. `out` must not
  /// overlap `datagram` (use `open_in_place`).
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> datagram,
                                                     std::span<std::uint8_t> out) noexcept {
    static_assert(!(one_way && Role == role::initiator),
                  "sepal::noise: in a one-way pattern the initiator only sends (Noise §7.4)");
    if (datagram.size() < overhead || datagram.size() > counter_size + max_message_size) return errc::invalid_encoding;
    std::uint64_t counter = 0;
    for (std::size_t i = 0; i < counter_size; ++i) counter |= std::uint64_t{datagram[i]} << (8 * i);
    if (counter == max_nonce) return errc::invalid_encoding;
    if (!m_window.fresh(counter)) return errc::replayed;  // cheap check before any crypto
    m_state.receive.set_nonce(counter);  // §5.1 SetNonce: the explicit counter
    auto n = m_state.receive.decrypt_with_ad({}, datagram.subspan(counter_size), out);
    if (!n) return n.error();
    m_window.accept(counter);  // only after it authenticated (RFC 6479 §2)
    return out.first(*n);
  }

  /// `open` in place: the payload is returned inside `datagram` (at offset 8).
  [[nodiscard]] result<std::span<std::uint8_t>> open_in_place(std::span<std::uint8_t> datagram) noexcept {
    if (datagram.size() < overhead) return errc::invalid_encoding;
    return open(datagram, datagram.subspan(counter_size));
  }

  /// `open` into a new vector.
  [[nodiscard]] result<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> datagram) {
    std::vector<std::uint8_t> out(datagram.size());
    auto r = open(datagram, out);
    if (!r) return r.error();
    out.resize(r->size());
    return out;
  }

  /// The handshake hash (§5.2), for channel binding.
  [[nodiscard]] std::span<const std::uint8_t, Hash::digest_size> handshake_hash() const noexcept {
    return m_state.handshake_hash;
  }
  /// The peer's static public key, when the pattern has one.
  [[nodiscard]] const std::optional<public_key<Dh>>& remote_static() const noexcept { return m_state.remote_static; }

 private:
  friend class transport<Protocol, Role>;
  explicit datagram_transport(split_state<Dh, Cipher, Hash::digest_size> s) noexcept : m_state(std::move(s)) {}

  split_state<Dh, Cipher, Hash::digest_size> m_state;
  replay_window<> m_window;
};

}  // namespace sepal::noise

#endif
