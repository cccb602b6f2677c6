#ifndef SEPAL_SESSION_HPP
#define SEPAL_SESSION_HPP

#include <cstdint>
#include <span>
#include <utility>

#include "packet.hpp"
#include "secret.hpp"
#include "suite.hpp"

namespace sepal {

/// An established session: a sealer for what this side sends and an opener
/// for what it receives, each with its own traffic secret (so its own key,
/// IV, header protection key and key-update chain). Handshakes produce these;
/// tests and benchmarks can derive secrets with `hkdf`.
///
/// Key updates (docs/protocol.md §7.1, after RFC 9001 §6.1, §6.2, §6.5): a
/// session mirrors the peer's update with its next packet, and starts an
/// update of its own (asked for with `update_key`, or by itself at half the
/// AEAD's confidentiality limit) only once a packet from the peer has shown
/// that the peer's receiver holds the current keys; until then the update
/// waits (`key_update_pending`). So no loss or reordering can put a sender
/// two generations ahead of the peer's receiver (the failure that leaves
/// it behind for good); a sender whose new generation never reaches the
/// peer stops at the limit instead (`limit_reached`: handshake again). A
/// side whose receiver moved owes the peer a packet (`ack_wanted`).
///
/// Errors: as `sealer` and `opener`; `seal` also throws
/// `sepal::error(errc::limit_reached)` when the confidentiality limit of the
/// current keys is reached while the update that would replace them still
/// waits for the peer (a peer that sends nothing for half the limit: 2^22
/// packets with AES-GCM).
///
/// Security: as `sealer` and `opener`.
template <session_suite Suite = default_cipher_suite, session_options Options = session_options{}>
class session {
 public:
  using sealer_type = sealer<Suite, Options>;  ///< the sending direction
  using opener_type = opener<Suite, Options>;  ///< the receiving direction
  static constexpr std::size_t overhead = sealer_type::overhead;  ///< bytes a packet adds to its payload

  /// A session from the two directions' traffic secrets, which it takes
  /// over (pass them with `std::move`): one secret, one sealer.
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  session(secret_bytes send_secret, secret_bytes receive_secret)
      : m_send(std::move(send_secret)), m_receive(std::move(receive_secret)) {}

  /// Seals an outgoing packet (see `sealer::seal`), first running the key
  /// update the peer started or one that is due (class comment).
  [[nodiscard]] std::span<std::uint8_t> seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                             std::span<std::uint8_t> out) {
    pace_key_update(detail::usage_units(payload.size() + ad.size()));
    const auto packet = m_send.seal_packet(ad, payload, out, false, m_receive.m_phase);
    m_acknowledged_generation = m_receive.key_generation();
    return packet;
  }

  /// `seal` in place (see `sealer::seal_in_place`).
  [[nodiscard]] std::span<std::uint8_t> seal_in_place(std::span<const std::uint8_t> ad, std::span<std::uint8_t> buffer,
                                                      std::size_t payload_size) {
    if (buffer.size() < sealer_type::header_size + payload_size) throw error(errc::invalid_argument);
    return seal(ad, buffer.subspan(sealer_type::header_size, payload_size), buffer);
  }

  /// Opens an incoming packet (see `opener::open`). Never throws.
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> ad,
                                                     std::span<const std::uint8_t> packet,
                                                     std::span<std::uint8_t> out) noexcept {
    return m_receive.open(ad, packet, out);
  }

  /// `open` in place (see `opener::open_in_place`). Never throws.
  [[nodiscard]] result<std::span<std::uint8_t>> open_in_place(std::span<const std::uint8_t> ad,
                                                              std::span<std::uint8_t> packet) noexcept {
    return m_receive.open_in_place(ad, packet);
  }

  /// True when the peer's key update has not been acknowledged yet: this
  /// side's receiver moved to a new generation and nothing was sealed since
  /// (docs/protocol.md §7.1). The peer cannot start its next update until a
  /// packet tells it; an application with nothing to send should seal an
  /// empty payload (which receivers never treat as data). `net::udp_server`
  /// and `net::udp_client` do so by themselves.
  [[nodiscard]] bool ack_wanted() const noexcept { return m_receive.key_generation() != m_acknowledged_generation; }

  /// Asks for a key update of the sending direction (RFC 9001 §6): done now
  /// when the peer holds the current keys, else with the first packet sealed
  /// after the peer has shown it does. Errors: `sepal::error(errc::moved_from)`.
  void update_key() {
    if (!m_send.m_aead.usable()) throw error(errc::moved_from);
    m_update_wanted = true;
    if (may_start_update()) start_update();
  }

  /// True while an update waits for the peer's acknowledgment of the
  /// current keys.
  [[nodiscard]] bool key_update_pending() const noexcept { return m_update_wanted; }

  /// The sending direction, read only: sealing or updating through it
  /// would bypass the key update pacing (use the session's `seal`).
  [[nodiscard]] const sealer_type& sender() const noexcept { return m_send; }
  /// The receiving direction.
  [[nodiscard]] opener_type& receiver() noexcept { return m_receive; }
  [[nodiscard]] const opener_type& receiver() const noexcept { return m_receive; }

  /// The two directions as separate objects (for example for a
  /// `record_writer` and a `record_reader` on a stream); the session is left
  /// moved-from (`seal` throws and `open` returns `moved_from`).
  [[nodiscard]] std::pair<sealer_type, opener_type> split() && {
    return {std::move(m_send), std::move(m_receive)};
  }

 private:
  /// The update starts at half the limit, leaving the other half for the
  /// peer to acknowledge it before the limit.
  static constexpr std::uint64_t update_threshold =
      sealer_type::confidentiality_limit / 2 == 0 ? 1 : sealer_type::confidentiality_limit / 2;

  /// docs/protocol.md §7.1: the peer's receiver holds our current keys (it
  /// has our generation and said so in a packet's A bit), so the next
  /// generation is the one its receiver keeps ready.
  [[nodiscard]] bool may_start_update() const noexcept {
    return m_receive.key_generation() == m_send.key_generation() && m_receive.m_current_acknowledged;
  }

  void start_update() {
    m_send.update_key();
    m_update_wanted = false;
  }

  void pace_key_update(std::uint64_t units) {
    // RFC 9001 §6.2: answer the peer's update (our receiver followed it).
    if (m_send.key_generation() < m_receive.key_generation()) {
      while (m_send.key_generation() < m_receive.key_generation()) m_send.update_key();
      m_update_wanted = false;  // the sending keys are fresh
      return;
    }
    if (m_send.m_under_key + units > update_threshold) m_update_wanted = true;
    if (m_update_wanted && may_start_update()) start_update();
  }

  sealer_type m_send;
  opener_type m_receive;
  bool m_update_wanted = false;
  std::uint64_t m_acknowledged_generation = 0;  ///< receive generation when we last sealed
};

}  // namespace sepal

#endif
