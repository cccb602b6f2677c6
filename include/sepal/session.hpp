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
/// Connection ids (`Options.connection_id_size` > 0, as in the sessions
/// handshakes make): each side's is chosen by it and carried by every packet
/// sent to it (docs/protocol.md §7.1), so a receiver finds the session by it
/// whatever address the packet came from.
///
/// Security: as `sealer` and `opener`.
template <session_suite Suite = default_cipher_suite, session_options Options = session_options{}>
class session {
 public:
  using sealer_type = sealer<Suite, Options>;  ///< the sending direction
  using opener_type = opener<Suite, Options>;  ///< the receiving direction
  static constexpr std::size_t overhead = sealer_type::overhead;  ///< bytes a packet adds to its payload
  static constexpr std::size_t connection_id_size = Options.connection_id_size;  ///< connection id bytes
  using connection_id_type = connection_id<connection_id_size>;                   ///< a connection id

  /// What `receive_in_place` opened: a payload, or a control frame
  /// (docs/protocol.md §7.3).
  struct received {
    std::span<std::uint8_t> payload;  ///< in the packet's buffer
    bool control = false;             ///< the packet was sealed with `seal_control`
  };

  /// A session from the two directions' traffic secrets, which it takes
  /// over (pass them with `std::move`): one secret, one sealer.
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  session(secret_bytes send_secret, secret_bytes receive_secret)
    requires(connection_id_size == 0)
      : m_send(std::move(send_secret)), m_receive(std::move(receive_secret)) {}

  /// A session whose packets carry connection ids: `local` is this side's
  /// (the packets it opens carry it), `peer` the peer's (the packets it seals).
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  session(secret_bytes send_secret, secret_bytes receive_secret, const connection_id_type& local,
          const connection_id_type& peer)
    requires(connection_id_size > 0)
      : m_send(std::move(send_secret), peer), m_receive(std::move(receive_secret), local) {}

  /// Seals an outgoing packet (see `sealer::seal`), first running the key
  /// update the peer started or one that is due (class comment).
  [[nodiscard]] std::span<std::uint8_t> seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                             std::span<std::uint8_t> out) {
    return seal_packet(ad, payload, out, false);
  }

  /// Seals a control packet (its C bit set, docs/protocol.md §7.3): a
  /// `frame` the peer's `receive_in_place` reports as control, never as
  /// application data; otherwise as `seal`, except that it does not count
  /// as acknowledging a key update (`ack_wanted` stays as it was).
  [[nodiscard]] std::span<std::uint8_t> seal_control(std::span<const std::uint8_t> frame, std::span<std::uint8_t> out) {
    return seal_packet({}, frame, out, true);
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

  /// `open_in_place` that also takes control packets (`seal_control`) and
  /// says which it opened. Never throws; errors as `opener::open`.
  [[nodiscard]] result<received> receive_in_place(std::span<const std::uint8_t> ad,
                                                  std::span<std::uint8_t> packet) noexcept {
    if (packet.size() < overhead) return errc::invalid_encoding;
    bool control = false;
    auto r = m_receive.open_packet(ad, packet, packet.subspan(sealer_type::header_size), false, &control);
    if (!r) return r.error();
    return received{*r, control};
  }

  /// This side's connection id (what packets to it carry).
  [[nodiscard]] const connection_id_type& local_connection_id() const noexcept { return m_receive.local_id(); }
  /// The peer's connection id (what the packets this side seals carry).
  [[nodiscard]] const connection_id_type& peer_connection_id() const noexcept { return m_send.destination(); }

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

  std::span<std::uint8_t> seal_packet(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                      std::span<std::uint8_t> out, bool control) {
    pace_key_update(detail::usage_units(payload.size() + ad.size()));
    const auto packet = m_send.seal_packet(ad, payload, out, false, m_receive.m_phase, control);
    // A control packet carries the A bit too, but it may go to an address
    // that is not the peer's (a path challenge to a spoofed one,
    // docs/protocol.md §7.3): only other packets count as the acknowledgment.
    if (!control) m_acknowledged_generation = m_receive.key_generation();
    return packet;
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
