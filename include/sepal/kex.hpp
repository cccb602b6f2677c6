#ifndef SEPAL_KEX_HPP
#define SEPAL_KEX_HPP

#include <botan/pubkey.h>

#include <array>
#include <cstdint>
#include <new>
#include <span>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "keys.hpp"
#include "rng.hpp"
#include "secret.hpp"

namespace sepal {

/// Diffie-Hellman on `Curve`: the raw shared secret of `mine` and `peer`.
/// ECDH gives the x-coordinate (SEC1 §3.3.1, `Curve::shared_secret_size`
/// bytes); X25519/X448 give the RFC 7748 §5 output. Feed it to `hkdf`, never
/// use it as a key directly.
///
/// Errors: never throws. `invalid_shared_secret` for an all-zero X25519/X448
/// result (a small-order peer key, RFC 7748 §6.1); `invalid_key` when Botan
/// rejects the peer's point.
template <key_agreement Curve>
[[nodiscard]] result<secret_bytes> agree(const private_key<Curve>& mine, const public_key<Curve>& peer) noexcept {
  return detail::guarded<result<secret_bytes>>(errc::invalid_key, [&]() -> result<secret_bytes> {
    Botan::PK_Key_Agreement ka(mine.botan_agreement(), system_rng(), detail::algorithm<Curve>::kdf);
    const auto peer_value = peer.to_raw();
    Botan::secure_vector<std::uint8_t> secret;
    if constexpr (detail::is_weierstrass<Curve>) {
      secret = ka.derive_key(0, peer_value).bits_of();
    } else {
      // RFC 7748 §6.1: an all-zero X25519/X448 output means a small-order
      // peer key. Botan refuses to return it (it throws); every 32/56-byte
      // string is an acceptable X25519/X448 public key, so a throw here is
      // that case. (On the NIST curves x = 0 is an ordinary point.)
      try {
        secret = ka.derive_key(0, peer_value).bits_of();
      } catch (const std::bad_alloc&) {
        throw;
      } catch (...) {
        return errc::invalid_shared_secret;
      }
      const std::array<std::uint8_t, Curve::shared_secret_size> zero{};
      if (secret.size() == zero.size() && constant_time_equal(secret, zero)) return errc::invalid_shared_secret;
    }
    if (secret.size() != Curve::shared_secret_size) return errc::invalid_shared_secret;
    return secret_bytes(std::move(secret));
  });
}

/// `agree` with the peer's raw public key bytes (see `public_key::from_raw`),
/// as they arrive in a handshake message.
///
/// Errors: `invalid_key` when the bytes are not a valid point of `Curve`.
template <key_agreement Curve>
[[nodiscard]] result<secret_bytes> agree(const private_key<Curve>& mine,
                                         std::span<const std::uint8_t> peer_raw) noexcept {
  auto peer = public_key<Curve>::from_raw(peer_raw);
  if (!peer) return peer.error();
  return agree(mine, *peer);
}

}  // namespace sepal

#endif
