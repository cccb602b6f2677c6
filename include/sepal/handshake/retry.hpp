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

/// Stateless address validation (docs/protocol.md §7): a server under attack
/// answers a ClientHello that has no valid cookie with a small HelloRetry and
/// keeps no state; only a client that receives at its address can echo the
/// cookie back. Cookie = timestamp (8 bytes) || HMAC-SHA-256(key, "sepal v1
/// retry" || timestamp || address), truncated to 16 bytes.
///
/// Security: the key is random per validator and lives in wiped memory;
/// cookies expire after `lifetime` seconds. A cookie proves the address, not
/// the client's identity (the handshake does that).
template <handshake_suite Suite>
class address_validator {
 public:
  /// Cookies are accepted for this many seconds.
  static constexpr std::uint64_t lifetime = 30;

  /// A validator with a fresh random key.
  explicit address_validator(Botan::RandomNumberGenerator& rng = system_rng())
      : m_key(secret_bytes::copy_of(random_bytes<32>(rng))) {}

  /// What to do with `client_hello` from `address` (the caller's encoding of
  /// the peer's address and port): nullopt when its cookie is valid (go on to
  /// `server_handshake::accept`), otherwise the HelloRetry to send back.
  /// Never throws; never keeps state.
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> check(std::span<const std::uint8_t> client_hello,
                                                               std::span<const std::uint8_t> address,
                                                               std::uint64_t now) const noexcept {
    try {
      if (valid(cookie_of(client_hello), address, now)) return std::nullopt;
      std::vector<std::uint8_t> retry;
      detail::wire_writer w(retry);
      detail::write_header<Suite>(w, detail::hello_retry_type);
      const auto cookie = make(address, now);
      w.opaque16(cookie);
      return retry;
    } catch (...) {
      return std::vector<std::uint8_t>{};  // send nothing
    }
  }

 private:
  static constexpr std::size_t mac_size = 16;

  static std::span<const std::uint8_t> cookie_of(std::span<const std::uint8_t> hello) noexcept {
    detail::wire_reader r(hello);
    (void)r.bytes(4 + 32);
    (void)r.opaque16();
    const auto cookie = r.opaque16();
    return r.ok() ? cookie : std::span<const std::uint8_t>{};
  }

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
