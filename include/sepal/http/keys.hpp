#ifndef SEPAL_HTTP_KEYS_HPP
#define SEPAL_HTTP_KEYS_HPP

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "../curves.hpp"
#include "../error.hpp"
#include "../hashes.hpp"
#include "../kdf.hpp"
#include "../keys.hpp"
#include "../secret.hpp"
#include "../sign.hpp"

namespace sepal::http {

/// The HTTP Message Signature algorithms sepal signs and verifies
/// (RFC 9421 §3.3; names from the IANA registry, §6.2.2).
enum class algorithm : std::uint8_t {
  hmac_sha256,        ///< "hmac-sha256": HMAC-SHA-256 with a shared secret (§3.3.3)
  ecdsa_p256_sha256,  ///< "ecdsa-p256-sha256": r || s, 64 bytes (§3.3.4)
  ecdsa_p384_sha384,  ///< "ecdsa-p384-sha384": r || s, 96 bytes (§3.3.5)
  ed25519,            ///< "ed25519": RFC 8032 pure Ed25519 (§3.3.6)
};

/// The registered name of `a`.
[[nodiscard]] constexpr std::string_view algorithm_name(algorithm a) noexcept {
  switch (a) {
    case algorithm::hmac_sha256: return "hmac-sha256";
    case algorithm::ecdsa_p256_sha256: return "ecdsa-p256-sha256";
    case algorithm::ecdsa_p384_sha384: return "ecdsa-p384-sha384";
    case algorithm::ed25519: return "ed25519";
  }
  return "";
}

/// The algorithm registered as `name`; nullopt for any other.
[[nodiscard]] constexpr std::optional<algorithm> algorithm_from_name(std::string_view name) noexcept {
  for (auto a : {algorithm::hmac_sha256, algorithm::ecdsa_p256_sha256, algorithm::ecdsa_p384_sha384, algorithm::ed25519})
    if (algorithm_name(a) == name) return a;
  return std::nullopt;
}

/// The shortest HMAC secret sepal accepts: 128 bits. RFC 9421 §3.3.3 sets
/// no minimum and peers use 16-20-byte secrets; NIST SP 800-107 Rev. 1
/// §5.3.4 puts the security strength of HMAC at the key's bits (for a key
/// shorter than the hash output), and SP 800-131A asks for at least 112,
/// so 16 bytes give 128-bit strength. A shorter secret is refused.
inline constexpr std::size_t min_hmac_secret_size = 16;
/// The HMAC secret size sepal generates and recommends: 256 bits, the
/// output size of SHA-256 (RFC 2104 §3), full 256-bit strength.
inline constexpr std::size_t recommended_hmac_secret_size = 32;

/// A key that signs requests: an HMAC secret or a private key. The key fixes
/// the algorithm.
///
/// Security: move-only; secrets in wiped memory.
class signing_key {
 public:
  /// HMAC-SHA-256 with `secret` (strength: min(8 x size, 256) bits).
  ///
  /// Errors: `invalid_argument` under `min_hmac_secret_size` (16 bytes).
  [[nodiscard]] static result<signing_key> hmac_sha256(secret_bytes secret) {
    if (secret.size() < min_hmac_secret_size) return errc::invalid_argument;
    return signing_key(std::move(secret));
  }
  /// As `hmac_sha256`, throwing `sepal::error(invalid_argument)` instead.
  [[nodiscard]] static signing_key hmac_sha256_or_throw(secret_bytes secret) {
    return hmac_sha256(std::move(secret)).value();
  }
  [[nodiscard]] static signing_key ecdsa_p256_sha256(private_key<p256> key) { return signing_key(std::move(key)); }
  [[nodiscard]] static signing_key ecdsa_p384_sha384(private_key<p384> key) { return signing_key(std::move(key)); }
  [[nodiscard]] static signing_key ed25519(private_key<sepal::ed25519> key) { return signing_key(std::move(key)); }

  /// The algorithm this key signs with.
  [[nodiscard]] algorithm alg() const noexcept { return static_cast<algorithm>(m_key.index()); }

  /// Signs a signature base (HTTP_SIGN, RFC 9421 §3.3).
  ///
  /// Errors: throws `sepal::error` on an RNG or internal failure.
  [[nodiscard]] std::vector<std::uint8_t> sign(std::span<const std::uint8_t> base) const {
    switch (m_key.index()) {
      case 0: {
        const auto tag = hmac<sha256>(std::get<0>(m_key).reveal()).mac(base);
        return {tag.begin(), tag.end()};
      }
      case 1: return sepal::sign<sha256>(std::get<1>(m_key), base, signature_format::p1363);
      case 2: return sepal::sign<sha384>(std::get<2>(m_key), base, signature_format::p1363);
      default: return sepal::sign(std::get<3>(m_key), base);
    }
  }

 private:
  using key_type = std::variant<secret_bytes, private_key<p256>, private_key<p384>, private_key<sepal::ed25519>>;
  template <class K>
  explicit signing_key(K key) : m_key(std::move(key)) {}
  key_type m_key;
};

/// A key that verifies requests: an HMAC secret or a public key. The key
/// fixes the algorithm; a signature that names another `alg` is refused
/// (RFC 9421 §3.2 step 6, §7.3.6: no algorithm confusion).
///
/// Security: move-only (an HMAC secret is a secret).
class verification_key {
 public:
  /// HMAC-SHA-256 with `secret` (strength: min(8 x size, 256) bits).
  ///
  /// Errors: `invalid_argument` under `min_hmac_secret_size` (16 bytes).
  [[nodiscard]] static result<verification_key> hmac_sha256(secret_bytes secret) {
    if (secret.size() < min_hmac_secret_size) return errc::invalid_argument;
    return verification_key(std::move(secret));
  }
  /// As `hmac_sha256`, throwing `sepal::error(invalid_argument)` instead.
  [[nodiscard]] static verification_key hmac_sha256_or_throw(secret_bytes secret) {
    return hmac_sha256(std::move(secret)).value();
  }
  [[nodiscard]] static verification_key ecdsa_p256_sha256(public_key<p256> key) { return verification_key(std::move(key)); }
  [[nodiscard]] static verification_key ecdsa_p384_sha384(public_key<p384> key) { return verification_key(std::move(key)); }
  [[nodiscard]] static verification_key ed25519(public_key<sepal::ed25519> key) { return verification_key(std::move(key)); }

  /// The algorithm this key verifies.
  [[nodiscard]] algorithm alg() const noexcept { return static_cast<algorithm>(m_key.index()); }

  /// True when `signature` is valid for `base` (HTTP_VERIFY, RFC 9421 §3.3);
  /// MACs compared in constant time. Never throws.
  [[nodiscard]] bool verify(std::span<const std::uint8_t> base, std::span<const std::uint8_t> signature) const noexcept {
    try {
      switch (m_key.index()) {
        case 0: return hmac<sha256>(std::get<0>(m_key).reveal()).verify(base, signature);
        case 1: return sepal::verify<sha256>(std::get<1>(m_key), base, signature, signature_format::p1363);
        case 2: return sepal::verify<sha384>(std::get<2>(m_key), base, signature, signature_format::p1363);
        default: return sepal::verify(std::get<3>(m_key), base, signature);
      }
    } catch (...) {
      return false;
    }
  }

 private:
  using key_type = std::variant<secret_bytes, public_key<p256>, public_key<p384>, public_key<sepal::ed25519>>;
  template <class K>
  explicit verification_key(K key) : m_key(std::move(key)) {}
  key_type m_key;
};

}  // namespace sepal::http

#endif
