#ifndef SEPAL_CURVES_HPP
#define SEPAL_CURVES_HPP

#include <cstddef>

#include "hashes.hpp"

/// Curve tags. A tag names a key type: the NIST curves sign (ECDSA) and agree
/// (ECDH) with the same key; the RFC 7748 curves only agree, the RFC 8032
/// curves only sign. Sizes are in bytes.

namespace sepal {

/// NIST P-256 (secp256r1): ECDSA and ECDH. The default curve.
struct p256 {
  static constexpr std::size_t order_bits = 256;  ///< ceil(log2(n)) of the group order n
  static constexpr bool signs = true;   ///< ECDSA
  static constexpr bool agrees = true;  ///< ECDH
  using default_hash = sha256;          ///< ECDSA hash when none is named
  static constexpr std::size_t private_key_size = 32;             ///< raw scalar
  static constexpr std::size_t public_key_size = 65;              ///< SEC1 uncompressed point
  static constexpr std::size_t compressed_public_key_size = 33;   ///< SEC1 compressed point
  static constexpr std::size_t shared_secret_size = 32;           ///< ECDH x-coordinate
  static constexpr std::size_t signature_size = 64;               ///< IEEE P1363 r||s
  static constexpr std::size_t max_der_signature_size = 72;       ///< DER SEQUENCE of r, s
};

/// NIST P-384 (secp384r1): ECDSA and ECDH.
struct p384 {
  static constexpr std::size_t order_bits = 384;  ///< ceil(log2(n)) of the group order n
  static constexpr bool signs = true;  ///< signs (ECDSA / EdDSA)
  static constexpr bool agrees = true;  ///< agrees (ECDH / X25519 / X448)
  using default_hash = sha384;  ///< ECDSA hash when none is named
  static constexpr std::size_t private_key_size = 48;  ///< raw private key (scalar, RFC 7748 key or RFC 8032 seed)
  static constexpr std::size_t public_key_size = 97;  ///< raw public key (SEC1 uncompressed for NIST curves)
  static constexpr std::size_t compressed_public_key_size = 49;  ///< SEC1 compressed point
  static constexpr std::size_t shared_secret_size = 48;  ///< key agreement output
  static constexpr std::size_t signature_size = 96;  ///< fixed-size signature (P1363 r||s, or RFC 8032)
  static constexpr std::size_t max_der_signature_size = 104;  ///< longest DER signature
};

/// NIST P-521 (secp521r1): ECDSA and ECDH.
struct p521 {
  static constexpr std::size_t order_bits = 521;  ///< ceil(log2(n)) of the group order n
  static constexpr bool signs = true;  ///< signs (ECDSA / EdDSA)
  static constexpr bool agrees = true;  ///< agrees (ECDH / X25519 / X448)
  using default_hash = sha512;  ///< ECDSA hash when none is named
  static constexpr std::size_t private_key_size = 66;  ///< raw private key (scalar, RFC 7748 key or RFC 8032 seed)
  static constexpr std::size_t public_key_size = 133;  ///< raw public key (SEC1 uncompressed for NIST curves)
  static constexpr std::size_t compressed_public_key_size = 67;  ///< SEC1 compressed point
  static constexpr std::size_t shared_secret_size = 66;  ///< key agreement output
  static constexpr std::size_t signature_size = 132;  ///< fixed-size signature (P1363 r||s, or RFC 8032)
  static constexpr std::size_t max_der_signature_size = 139;  ///< longest DER signature
};

/// X25519 (RFC 7748): key agreement only.
struct x25519 {
  static constexpr bool signs = false;  ///< signs (ECDSA / EdDSA)
  static constexpr bool agrees = true;  ///< agrees (ECDH / X25519 / X448)
  static constexpr std::size_t private_key_size = 32;  ///< raw private key (scalar, RFC 7748 key or RFC 8032 seed)
  static constexpr std::size_t public_key_size = 32;  ///< raw public key (SEC1 uncompressed for NIST curves)
  static constexpr std::size_t shared_secret_size = 32;  ///< key agreement output
};

/// X448 (RFC 7748): key agreement only.
struct x448 {
  static constexpr bool signs = false;  ///< signs (ECDSA / EdDSA)
  static constexpr bool agrees = true;  ///< agrees (ECDH / X25519 / X448)
  static constexpr std::size_t private_key_size = 56;  ///< raw private key (scalar, RFC 7748 key or RFC 8032 seed)
  static constexpr std::size_t public_key_size = 56;  ///< raw public key (SEC1 uncompressed for NIST curves)
  static constexpr std::size_t shared_secret_size = 56;  ///< key agreement output
};

/// Ed25519 (RFC 8032, pure): signatures only; signs the message itself.
struct ed25519 {
  static constexpr bool signs = true;  ///< signs (ECDSA / EdDSA)
  static constexpr bool agrees = false;  ///< agrees (ECDH / X25519 / X448)
  static constexpr std::size_t private_key_size = 32;  ///< the RFC 8032 seed
  static constexpr std::size_t public_key_size = 32;  ///< raw public key (SEC1 uncompressed for NIST curves)
  static constexpr std::size_t signature_size = 64;  ///< fixed-size signature (P1363 r||s, or RFC 8032)
};

/// Ed448 (RFC 8032, pure, empty context): signatures only.
struct ed448 {
  static constexpr bool signs = true;  ///< signs (ECDSA / EdDSA)
  static constexpr bool agrees = false;  ///< agrees (ECDH / X25519 / X448)
  static constexpr std::size_t private_key_size = 57;  ///< raw private key (scalar, RFC 7748 key or RFC 8032 seed)
  static constexpr std::size_t public_key_size = 57;  ///< raw public key (SEC1 uncompressed for NIST curves)
  static constexpr std::size_t signature_size = 114;  ///< fixed-size signature (P1363 r||s, or RFC 8032)
};

}  // namespace sepal

#endif
