#ifndef SEPAL_KEMS_HPP
#define SEPAL_KEMS_HPP

#include <cstddef>

/// Key encapsulation mechanism tags (FIPS 203 ML-KEM) and the hybrid key
/// shares built from them (draft-ietf-tls-ecdhe-mlkem). Sizes are in bytes,
/// from FIPS 203 Table 3.

namespace sepal {

struct x25519;
struct p256;
struct p384;

/// ML-KEM-768 (FIPS 203, parameter set k = 3): NIST security category 3.
struct ml_kem_768 {
  static constexpr std::size_t encapsulation_key_size = 1184;  ///< ek (FIPS 203 Table 3)
  static constexpr std::size_t decapsulation_key_size = 2400;  ///< dk, the expanded FIPS 203 form
  static constexpr std::size_t seed_size = 64;                 ///< d || z (FIPS 203 §7.1, Algorithm 16)
  static constexpr std::size_t ciphertext_size = 1088;         ///< c
  static constexpr std::size_t shared_secret_size = 32;        ///< K
};

/// ML-KEM-1024 (FIPS 203, parameter set k = 4): NIST security category 5.
struct ml_kem_1024 {
  static constexpr std::size_t encapsulation_key_size = 1568;  ///< ek (FIPS 203 Table 3)
  static constexpr std::size_t decapsulation_key_size = 3168;  ///< dk, the expanded FIPS 203 form
  static constexpr std::size_t seed_size = 64;                 ///< d || z
  static constexpr std::size_t ciphertext_size = 1568;         ///< c
  static constexpr std::size_t shared_secret_size = 32;        ///< K
};

/// X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem, "Construction"; TLS group 0x11EC): ML-KEM-768
/// and X25519, the ML-KEM part first in every encoding.
struct x25519_mlkem768 {
  using ec = x25519;      ///< the elliptic-curve half
  using kem = ml_kem_768;  ///< the post-quantum half
  static constexpr bool kem_first = true;                ///< encoding order (the draft fixes it per group)
  static constexpr std::size_t ec_share_size = 32;       ///< RFC 7748 public value
  static constexpr std::size_t client_share_size = 1216;  ///< ek || X25519 public value
  static constexpr std::size_t server_share_size = 1120;  ///< ciphertext || X25519 public value
  static constexpr std::size_t shared_secret_size = 64;   ///< ML-KEM secret || X25519 secret
};

/// SecP256r1MLKEM768 (draft-ietf-tls-ecdhe-mlkem, "Construction"; TLS group 0x11EB): P-256
/// ECDH and ML-KEM-768, the elliptic-curve part first in every encoding.
struct secp256r1_mlkem768 {
  using ec = p256;         ///< the elliptic-curve half
  using kem = ml_kem_768;  ///< the post-quantum half
  static constexpr bool kem_first = false;               ///< encoding order
  static constexpr std::size_t ec_share_size = 65;       ///< SEC1 uncompressed point
  static constexpr std::size_t client_share_size = 1249;  ///< point || ek
  static constexpr std::size_t server_share_size = 1153;  ///< point || ciphertext
  static constexpr std::size_t shared_secret_size = 64;   ///< ECDH x-coordinate || ML-KEM secret
};

/// SecP384r1MLKEM1024 (draft-ietf-tls-ecdhe-mlkem, "Construction"; TLS group 0x11ED): P-384
/// ECDH and ML-KEM-1024, the elliptic-curve part first in every encoding.
struct secp384r1_mlkem1024 {
  using ec = p384;          ///< the elliptic-curve half
  using kem = ml_kem_1024;  ///< the post-quantum half
  static constexpr bool kem_first = false;               ///< encoding order
  static constexpr std::size_t ec_share_size = 97;       ///< SEC1 uncompressed point
  static constexpr std::size_t client_share_size = 1665;  ///< point || ek
  static constexpr std::size_t server_share_size = 1665;  ///< point || ciphertext
  static constexpr std::size_t shared_secret_size = 80;   ///< ECDH x-coordinate || ML-KEM secret
};

}  // namespace sepal

#endif
