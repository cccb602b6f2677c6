#ifndef SEPAL_PAKE_SUITE_HPP
#define SEPAL_PAKE_SUITE_HPP

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../concepts.hpp"
#include "../curves.hpp"
#include "../detail/botan_algorithms.hpp"
#include "../hashes.hpp"

namespace sepal::pake {

/// A SPAKE2+ ciphersuite (RFC 9383 §4): a prime-order NIST group, the hash
/// of the transcript, HKDF over that hash, and HMAC over that hash. The
/// exchange itself is Botan's (`Botan::SPAKE2p`, one of its five RFC 9383
/// system parameter sets per suite).
///
/// `id` is sepal's one-byte code for the suite in records and login
/// messages; `name` is the RFC's name.
template <curve Curve, hash_algorithm Hash, std::uint8_t Id>
  requires(sepal::detail::algorithm<Curve>::what == sepal::detail::kind::weierstrass)
struct spake2plus_ciphersuite {
  static_assert(sepal::detail::botan_spake2p,
                "sepal's SPAKE2+ runs on Botan's spake2p module (Botan 3.13 or later): add it to the Botan build "
                "(tools/botan-modules.txt)");
  using curve = Curve;  ///< G
  using hash = Hash;    ///< Hash, KDF = HKDF-Hash, MAC = HMAC-Hash
  static constexpr std::uint8_t id = Id;
  /// Bytes of a scalar (w0, w1, x, y): the size of the group order.
  static constexpr std::size_t scalar_size = Curve::private_key_size;
  /// Bytes of a share, Z, V and L: SEC1 uncompressed points.
  static constexpr std::size_t point_size = Curve::public_key_size;
  /// Bytes of a confirmation message: an HMAC tag.
  static constexpr std::size_t confirm_size = Hash::digest_size;
  /// Bytes of K_shared (RFC 9383 §3.4: Nh).
  static constexpr std::size_t shared_key_size = Hash::digest_size;
  /// Bytes of each of w0s and w1s (RFC 9383 §3.2): ceil(log2(p)) + 64 bits,
  /// so reducing mod p leaves a bias of at most 2^-64.
  static constexpr std::size_t w_seed_size = (Curve::order_bits + 64 + 7) / 8;
};

/// SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256, the default.
using p256_sha256 = spake2plus_ciphersuite<p256, sha256, 1>;
/// SPAKE2+-P256-SHA512-HKDF-SHA512-HMAC-SHA512.
using p256_sha512 = spake2plus_ciphersuite<p256, sha512, 2>;
/// SPAKE2+-P384-SHA256-HKDF-SHA256-HMAC-SHA256.
using p384_sha256 = spake2plus_ciphersuite<p384, sha256, 3>;
/// SPAKE2+-P384-SHA512-HKDF-SHA512-HMAC-SHA512.
using p384_sha512 = spake2plus_ciphersuite<p384, sha512, 4>;
/// SPAKE2+-P521-SHA512-HKDF-SHA512-HMAC-SHA512.
using p521_sha512 = spake2plus_ciphersuite<p521, sha512, 5>;
/// The suite `prover`, `verifier` and the login protocol use by default.
using default_spake2plus_suite = p256_sha256;

/// One of the five RFC 9383 HMAC ciphersuites above (the CMAC-AES-128
/// suites are not offered: their MAC key is shorter than the hash, and
/// Botan's SPAKE2+ has only the HMAC ones).
template <class S>
concept spake2plus_suite = std::same_as<S, p256_sha256> || std::same_as<S, p256_sha512> ||
                           std::same_as<S, p384_sha256> || std::same_as<S, p384_sha512> ||
                           std::same_as<S, p521_sha512>;

/// The RFC 9383 name of `Suite` ("P256-SHA256-HKDF-SHA256-HMAC-SHA256").
template <spake2plus_suite Suite>
inline constexpr std::string_view suite_name = [] {
  if constexpr (std::same_as<Suite, p256_sha256>) return "P256-SHA256-HKDF-SHA256-HMAC-SHA256";
  else if constexpr (std::same_as<Suite, p256_sha512>) return "P256-SHA512-HKDF-SHA512-HMAC-SHA512";
  else if constexpr (std::same_as<Suite, p384_sha256>) return "P384-SHA256-HKDF-SHA256-HMAC-SHA256";
  else if constexpr (std::same_as<Suite, p384_sha512>) return "P384-SHA512-HKDF-SHA512-HMAC-SHA512";
  else return "P521-SHA512-HKDF-SHA512-HMAC-SHA512";
}();

}  // namespace sepal::pake

#endif
