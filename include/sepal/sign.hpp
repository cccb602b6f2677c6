#ifndef SEPAL_SIGN_HPP
#define SEPAL_SIGN_HPP

#include <botan/pubkey.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "keys.hpp"
#include "rng.hpp"

namespace sepal {

/// How ECDSA signatures are encoded. Ed25519/Ed448 signatures have one
/// encoding (RFC 8032) and ignore this.
enum class signature_format {
  der,    ///< DER SEQUENCE { r, s }: what OpenSSL and the original system produce
  p1363,  ///< IEEE P1363 fixed-size r || s (JOSE, WebCrypto)
};

namespace detail {

template <class Curve>
struct default_hash {
  using type = void;
};
template <class Curve>
  requires is_weierstrass<Curve>
struct default_hash<Curve> {
  using type = typename Curve::default_hash;
};

/// ECDSA takes a hash tag; Ed25519/Ed448 take `void` (pure EdDSA).
template <class Curve, class Hash>
concept valid_signature_hash =
    signature_scheme<Curve> && (prehash_signature<Curve, Hash> || (!is_weierstrass<Curve> && std::is_void_v<Hash>));

template <class Curve, class Hash>
std::string signature_padding() {
  if constexpr (is_weierstrass<Curve>) {
    return std::string(algorithm<Hash>::hash);
  } else {
    return std::string(algorithm<Curve>::padding);
  }
}

/// The hash tag a free `sign`/`verify` call means: the named one, or the
/// curve's default when `Hash` is `void`.
template <class Curve, class Hash>
using resolved_hash = std::conditional_t<std::is_void_v<Hash>, typename default_hash<Curve>::type, Hash>;

/// Botan's encoding flag; EdDSA has only its RFC 8032 encoding.
template <class Curve>
Botan::Signature_Format botan_format(signature_format f) noexcept {
  return is_weierstrass<Curve> && f == signature_format::der ? Botan::Signature_Format::DerSequence
                                                             : Botan::Signature_Format::Standard;
}

}  // namespace detail

/// The hash a signature over `Curve` uses when none is named: the curve's
/// default (SHA-256 for P-256) for ECDSA; none (`void`) for Ed25519/Ed448,
/// which sign the message itself.
template <signature_scheme Curve>
using signature_hash_t = typename detail::default_hash<Curve>::type;

/// A reusable signer: one key, one hash, one encoding. ECDSA nonces are
/// RFC 6979 deterministic (with Botan's blinding), so a weak RNG cannot leak
/// the key through repeated nonces.
///
/// Errors: `sign` throws `sepal::error` only on RNG or internal failure.
template <signature_scheme Curve, class Hash = signature_hash_t<Curve>>
  requires detail::valid_signature_hash<Curve, Hash>
class signer {
 public:
  /// A signer over `key` (which must outlive the signer).
  explicit signer(const private_key<Curve>& key, signature_format format = signature_format::der,
                  Botan::RandomNumberGenerator& rng = system_rng())
      : m_rng(&rng),
        m_signer(detail::or_throw(errc::internal_error, [&] {
          return Botan::PK_Signer(key.botan(), rng, detail::signature_padding<Curve, Hash>(),
                                  detail::botan_format<Curve>(format));
        })) {}

  /// Signs `message`.
  [[nodiscard]] std::vector<std::uint8_t> sign(std::span<const std::uint8_t> message) {
    return detail::or_throw(errc::internal_error, [&] { return m_signer.sign_message(message, *m_rng); });
  }

 private:
  Botan::RandomNumberGenerator* m_rng;
  Botan::PK_Signer m_signer;
};

/// A reusable verifier: one public key, one hash, one encoding.
template <signature_scheme Curve, class Hash = signature_hash_t<Curve>>
  requires detail::valid_signature_hash<Curve, Hash>
class verifier {
 public:
  /// A verifier for `key` (the verifier shares ownership of the key).
  explicit verifier(const public_key<Curve>& key, signature_format format = signature_format::der)
      : m_key(key.botan_shared()),
        m_format(format),
        m_verifier(detail::or_throw(errc::internal_error, [&] { return make(*m_key, format); })) {}

  /// True when `signature` is a valid signature of `message`. Never throws:
  /// malformed, non-canonical or wrong-size signatures are `false`.
  [[nodiscard]] bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) noexcept {
    if (!plausible_size(signature.size())) return false;
    bool ok = false;
    try {
      ok = m_verifier.verify_message(message, signature);
    } catch (...) {
    }
    // Botan 3.11.1 fixed verifiers that kept state after an early rejection
    // (an invalid ECDSA DER signature, or an Ed25519 one of the wrong size,
    // could make the next valid signature fail), so one Botan verifier is
    // reused whatever the last result ("every bit flip of a signature
    // fails; ..." in tests/unit/test_sign.cpp checks it after each failure).
    return ok;
  }

 private:
  [[nodiscard]] bool plausible_size(std::size_t n) const noexcept {
    if constexpr (detail::is_weierstrass<Curve>) {
      if (m_format == signature_format::der) return n >= 8 && n <= Curve::max_der_signature_size;
    }
    return n == Curve::signature_size;
  }

  static Botan::PK_Verifier make(const Botan::Public_Key& key, signature_format format) {
    return Botan::PK_Verifier(key, detail::signature_padding<Curve, Hash>(), detail::botan_format<Curve>(format));
  }

  std::shared_ptr<const Botan::Public_Key> m_key;
  signature_format m_format;
  Botan::PK_Verifier m_verifier;
};

/// Signs `message` with `key` (ECDSA with the curve's default hash or `Hash`;
/// pure Ed25519/Ed448).
///
/// Errors: throws `sepal::error` only on RNG or internal failure.
template <class Hash = void, signature_scheme Curve>
  requires detail::valid_signature_hash<Curve, detail::resolved_hash<Curve, Hash>>
[[nodiscard]] std::vector<std::uint8_t> sign(const private_key<Curve>& key, std::span<const std::uint8_t> message,
                                             signature_format format = signature_format::der,
                                             Botan::RandomNumberGenerator& rng = system_rng()) {
  return signer<Curve, detail::resolved_hash<Curve, Hash>>(key, format, rng).sign(message);
}

/// True when `signature` is `key`'s signature of `message`. Never throws.
template <class Hash = void, signature_scheme Curve>
  requires detail::valid_signature_hash<Curve, detail::resolved_hash<Curve, Hash>>
[[nodiscard]] bool verify(const public_key<Curve>& key, std::span<const std::uint8_t> message,
                          std::span<const std::uint8_t> signature,
                          signature_format format = signature_format::der) noexcept {
  try {
    return verifier<Curve, detail::resolved_hash<Curve, Hash>>(key, format).verify(message, signature);
  } catch (...) {
    return false;
  }
}

/// As `verify`, for callers who prefer an exception.
///
/// Errors: throws `sepal::invalid_signature` when the signature does not
/// verify.
template <class Hash = void, signature_scheme Curve>
  requires detail::valid_signature_hash<Curve, detail::resolved_hash<Curve, Hash>>
void verify_or_throw(const public_key<Curve>& key, std::span<const std::uint8_t> message,
                     std::span<const std::uint8_t> signature, signature_format format = signature_format::der) {
  if (!verify<Hash>(key, message, signature, format)) throw invalid_signature();
}

}  // namespace sepal

#endif
