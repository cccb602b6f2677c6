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
/// Errors and security: as `sealer` and `opener`.
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

  /// Seals an outgoing packet (see `sealer::seal`).
  [[nodiscard]] std::span<std::uint8_t> seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                             std::span<std::uint8_t> out) {
    return m_send.seal(ad, payload, out);
  }

  /// Opens an incoming packet (see `opener::open`). Never throws.
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> ad,
                                                     std::span<const std::uint8_t> packet,
                                                     std::span<std::uint8_t> out) noexcept {
    return m_receive.open(ad, packet, out);
  }

  /// Asks for a key update of the sending direction (RFC 9001 §6).
  void update_key() { m_send.update_key(); }

  /// The sending direction.
  [[nodiscard]] sealer_type& sender() noexcept { return m_send; }
  /// The receiving direction.
  [[nodiscard]] opener_type& receiver() noexcept { return m_receive; }

  /// The two directions as separate objects (for example for a
  /// `record_writer` and a `record_reader` on a stream); the session is left
  /// moved-from (`seal` throws and `open` returns `moved_from`).
  [[nodiscard]] std::pair<sealer_type, opener_type> split() && {
    return {std::move(m_send), std::move(m_receive)};
  }

 private:
  sealer_type m_send;
  opener_type m_receive;
};

}  // namespace sepal

#endif
