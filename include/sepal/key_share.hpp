#ifndef SEPAL_KEY_SHARE_HPP
#define SEPAL_KEY_SHARE_HPP

// Ephemeral key shares in three steps, for handshakes: the client makes a
// share, the server responds to it (learning the shared secret), the client
// finishes with the server's share. Diffie-Hellman curves are the trivial
// case (both shares are public keys); the hybrids of draft-ietf-tls-ecdhe-mlkem
// put an ML-KEM encapsulation key in the client's share and a ciphertext in
// the server's, next to an ECDH public key.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "kem.hpp"
#include "kex.hpp"
#include "keys.hpp"
#include "rng.hpp"
#include "secret.hpp"

namespace sepal {

namespace detail {

/// Splits a hybrid share of exactly `ec_size + other_size` bytes into its
/// EC part and its ML-KEM part, in the order the draft fixes for `H`
/// (draft-ietf-tls-ecdhe-mlkem, section "Construction": client share,
/// server share, shared secret). Nullopt for any other length.
template <class H>
std::optional<std::pair<std::span<const std::uint8_t>, std::span<const std::uint8_t>>> split_hybrid(
    std::span<const std::uint8_t> share, std::size_t other_size) noexcept {
  if (share.size() != H::ec_share_size + other_size) return std::nullopt;
  if constexpr (H::kem_first) {
    return std::pair{share.subspan(other_size), share.first(other_size)};
  } else {
    return std::pair{share.first(H::ec_share_size), share.subspan(H::ec_share_size)};
  }
}

/// The EC curve of a key share, and the decapsulation key type of its KEM
/// half (nothing for a plain curve).
template <class K>
struct key_share_parts {
  struct no_kem {};
  using ec = K;
  using dk = no_kem;
};
template <class K>
  requires hybrid_key_share<K>
struct key_share_parts<K> {
  using ec = typename K::ec;
  using dk = decapsulation_key<typename K::kem>;
};

/// `kem_part` and `ec_part` in the draft's order for `H`, into `out`.
template <class H, class Out>
void join_hybrid(Out& out, std::span<const std::uint8_t> kem_part, std::span<const std::uint8_t> ec_part) {
  out.clear();
  out.reserve(kem_part.size() + ec_part.size());
  const auto first = H::kem_first ? kem_part : ec_part;
  const auto second = H::kem_first ? ec_part : kem_part;
  out.insert(out.end(), first.begin(), first.end());
  out.insert(out.end(), second.begin(), second.end());
}

}  // namespace detail

/// What the server sends back and keeps: its share and the shared secret.
template <key_share K>
struct key_share_response {
  std::vector<std::uint8_t> share;  ///< the server's share, for the client
  secret_bytes shared_secret;       ///< the handshake's (EC)DHE input
};

/// The client's ephemeral secrets for one key share: `share()` goes to the
/// server, `finish` takes the server's answer. Move-only; the secrets are
/// wiped with the object.
///
/// Encodings (docs/protocol.md §3.1): for a curve, the raw public key (SEC1
/// uncompressed for the NIST curves); for a hybrid, the draft's
/// concatenation of the ML-KEM encapsulation key and the uncompressed EC
/// public key.
template <key_share K>
class key_share_client {
 public:
  /// Fresh ephemeral keys from `rng`.
  /// Errors: throws `sepal::error(errc::rng_failure)`.
  [[nodiscard]] static key_share_client generate(Botan::RandomNumberGenerator& rng = system_rng()) {
    if constexpr (key_agreement<K>) {
      auto ec = private_key<K>::generate(rng);
      auto share = ec.public_key().to_raw();
      return key_share_client(std::move(ec), std::move(share));
    } else {
      auto ec = private_key<typename K::ec>::generate(rng);
      auto dk = decapsulation_key<typename K::kem>::generate(rng);
      std::vector<std::uint8_t> share;
      // The key's own encoding (no second parse into an encapsulation_key).
      detail::join_hybrid<K>(share, dk.botan().raw_public_key_bits(), ec.public_key().to_raw());
      return key_share_client(std::move(ec), std::move(share), std::move(dk));
    }
  }

  /// The client's share, to send.
  [[nodiscard]] std::span<const std::uint8_t> share() const noexcept { return m_share; }

  /// The shared secret from the server's share. Never throws.
  ///
  /// Errors: `invalid_encoding` (a hybrid share of the wrong length),
  /// `invalid_key` (an invalid EC point or ciphertext),
  /// `invalid_shared_secret` (an all-zero X25519/X448 result).
  [[nodiscard]] result<secret_bytes> finish(std::span<const std::uint8_t> server_share) const noexcept {
    if constexpr (key_agreement<K>) {
      return agree(m_ec, server_share);
    } else {
      const auto parts = detail::split_hybrid<K>(server_share, K::kem::ciphertext_size);
      if (!parts) return errc::invalid_encoding;
      auto ec_secret = agree(m_ec, parts->first);
      if (!ec_secret) return ec_secret.error();
      auto kem_secret = m_dk->decapsulate(parts->second);
      if (!kem_secret) return kem_secret.error();
      return detail::guarded<result<secret_bytes>>(errc::internal_error, [&]() -> result<secret_bytes> {
        Botan::secure_vector<std::uint8_t> joined;
        detail::join_hybrid<K>(joined, kem_secret->reveal(), ec_secret->reveal());
        return secret_bytes(std::move(joined));
      });
    }
  }

 private:
  using ec_curve = typename detail::key_share_parts<K>::ec;
  using dk_type = typename detail::key_share_parts<K>::dk;

  key_share_client(private_key<ec_curve> ec, std::vector<std::uint8_t> share, std::optional<dk_type> dk = {})
      : m_ec(std::move(ec)), m_share(std::move(share)), m_dk(std::move(dk)) {}

  private_key<ec_curve> m_ec;
  std::vector<std::uint8_t> m_share;
  std::optional<dk_type> m_dk;
};

/// The server's step: answers the client's share with its own and learns the
/// shared secret. For a curve, a fresh ephemeral key agrees with the
/// client's; for a hybrid, the server encapsulates to the client's ML-KEM
/// key and agrees with its EC key. Never throws.
///
/// Errors: `invalid_encoding` (wrong length), `invalid_key` (an invalid EC
/// point, or an encapsulation key that fails FIPS 203 §7.2's checks),
/// `invalid_shared_secret` (all-zero X25519/X448), `rng_failure`.
template <key_share K>
[[nodiscard]] result<key_share_response<K>> respond_to_key_share(std::span<const std::uint8_t> client_share,
                                                                 Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
  try {
    if constexpr (key_agreement<K>) {
      auto peer = public_key<K>::from_raw(client_share);
      if (!peer) return errc::invalid_key;
      const auto mine = private_key<K>::generate(rng);
      auto secret = agree(mine, *peer);
      if (!secret) return secret.error();
      return key_share_response<K>{mine.public_key().to_raw(), std::move(*secret)};
    } else {
      using ec = typename K::ec;
      using kem_t = typename K::kem;
      const auto parts = detail::split_hybrid<K>(client_share, kem_t::encapsulation_key_size);
      if (!parts) return errc::invalid_encoding;
      auto peer = public_key<ec>::from_raw(parts->first);
      if (!peer) return errc::invalid_key;
      auto ek = encapsulation_key<kem_t>::from_bytes(parts->second);
      if (!ek) return errc::invalid_key;
      const auto mine = private_key<ec>::generate(rng);
      auto ec_secret = agree(mine, *peer);
      if (!ec_secret) return ec_secret.error();
      auto encap = ek->encapsulate(rng);
      key_share_response<K> out;
      detail::join_hybrid<K>(out.share, encap.ciphertext, mine.public_key().to_raw());
      Botan::secure_vector<std::uint8_t> joined;
      detail::join_hybrid<K>(joined, encap.shared_secret.reveal(), ec_secret->reveal());
      out.shared_secret = secret_bytes(std::move(joined));
      return out;
    }
  } catch (const error& e) {
    return e.code();
  } catch (...) {
    return errc::internal_error;
  }
}

}  // namespace sepal

#endif
