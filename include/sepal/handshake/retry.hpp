#ifndef SEPAL_HANDSHAKE_RETRY_HPP
#define SEPAL_HANDSHAKE_RETRY_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "../detail/bytes.hpp"
#include "../kdf.hpp"
#include "../rng.hpp"
#include "../secret.hpp"
#include "protocol.hpp"

namespace sepal::handshake {

/// What an `address_validator` decided about a datagram.
class retry_decision {
 public:
  enum class action {
    accept,      ///< a ClientHello with a valid cookie: call `server_handshake::accept` with `address_status::validated`
    send_retry,  ///< a ClientHello without a valid cookie: send `hello_retry()`, keep no state
    drop,        ///< not a well-formed ClientHello of this suite: send nothing
  };

  /// The decision.
  [[nodiscard]] action what() const noexcept { return m_action; }
  /// The HelloRetry to send (empty unless `what() == action::send_retry`).
  [[nodiscard]] std::span<const std::uint8_t> hello_retry() const noexcept { return m_retry; }

 private:
  template <handshake_suite>
  friend class address_validator;
  explicit retry_decision(action a, std::vector<std::uint8_t> retry = {}) noexcept
      : m_action(a), m_retry(std::move(retry)) {}
  action m_action;
  std::vector<std::uint8_t> m_retry;
};

/// Stateless address validation (docs/protocol.md §7): a server under attack
/// answers a ClientHello that has no valid cookie with a small HelloRetry and
/// keeps no state; only a client that receives at its address can echo the
/// cookie back. Cookie = timestamp (8 bytes) || HMAC-SHA-256(key, "sepal v1
/// retry" || timestamp || address), truncated to 16 bytes. The HelloRetry
/// carries a tag keyed with the ClientHello's random, so an off-path
/// attacker cannot forge one.
///
/// Security: the key is random per validator and lives in wiped memory;
/// cookies expire after `lifetime` seconds. A cookie proves the address, not
/// the client's identity (the handshake does that). Only a complete,
/// well-formed ClientHello (docs/protocol.md §3.1: at least 1200 bytes, this
/// version and suite, zero padding) is answered, and the 46-byte HelloRetry
/// is under 4% of it. A ClientHello sent as Fragments (docs/protocol.md
/// §3.4) is checked once a `client_hello_collector` has it whole: pass
/// `collector.message()`; the bounded reassembly is then all the state kept,
/// and it is dropped whatever the decision.
template <handshake_suite Suite>
class address_validator {
 public:
  /// Cookies are accepted for this many seconds.
  static constexpr std::uint64_t lifetime = 30;

  /// A validator with a fresh random key.
  explicit address_validator(Botan::RandomNumberGenerator& rng = system_rng())
      : m_key(secret_bytes::copy_of(random_bytes<32>(rng))) {}

  /// What to do with `datagram` from `address` (the caller's encoding of the
  /// peer's address and port). Never throws; never keeps state.
  [[nodiscard]] retry_decision check(std::span<const std::uint8_t> datagram, std::span<const std::uint8_t> address,
                                     std::uint64_t now) const noexcept {
    using action = retry_decision::action;
    const auto hello = detail::parse_client_hello<Suite>(datagram);
    if (!hello) return retry_decision(action::drop);  // before any MAC: malformed input costs nothing
    try {
      if (valid(hello->cookie, address, now)) return retry_decision(action::accept);
      std::vector<std::uint8_t> retry;
      detail::wire_writer w(retry);
      detail::write_header<Suite>(w, detail::hello_retry_type);
      w.opaque16(make(address, now));
      w.bytes(detail::retry_tag(hello->random, retry));
      return retry_decision(action::send_retry, std::move(retry));
    } catch (...) {
      return retry_decision(action::drop);
    }
  }

 private:
  static constexpr std::size_t mac_size = 16;

  std::array<std::uint8_t, 8 + mac_size> make(std::span<const std::uint8_t> address, std::uint64_t when) const {
    std::array<std::uint8_t, 8 + mac_size> out{};
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(when >> (56 - 8 * i));
    hmac<sha256> mac(m_key.reveal());
    constexpr std::string_view context = "sepal v1 retry";
    mac.update(sepal::detail::bytes_of(context));
    mac.update(std::span(out).first(8)).update(address);
    const auto tag = mac.final();
    std::copy_n(tag.begin(), mac_size, out.begin() + 8);
    return out;
  }

  bool valid(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> address, std::uint64_t now) const {
    if (cookie.size() != 8 + mac_size) return false;
    std::uint64_t when = 0;
    for (int i = 0; i < 8; ++i) when = (when << 8) | cookie[static_cast<std::size_t>(i)];
    if (when > now || now - when > lifetime) return false;
    return constant_time_equal(make(address, when), cookie);
  }

  secret_bytes m_key;
};

}  // namespace sepal::handshake

#endif
