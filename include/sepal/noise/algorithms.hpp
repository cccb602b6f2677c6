#ifndef SEPAL_NOISE_ALGORITHMS_HPP
#define SEPAL_NOISE_ALGORITHMS_HPP

// The Noise names (§12) and sizes of the DH functions, ciphers and hashes
// sepal supports, as traits over sepal's own algorithm tags. The Botan
// strings behind the tags stay in detail/botan_algorithms.hpp.

#include <cstddef>
#include <string_view>

#include "../aeads.hpp"
#include "../concepts.hpp"
#include "../curves.hpp"
#include "../hashes.hpp"

namespace sepal::noise {

/// Noise facts about a tag; specialized for the supported ones.
template <class T>
struct traits {
  static constexpr bool dh = false, cipher = false, hash = false;
};

/// 25519 (Noise §12.1): X25519, 32-byte keys and output.
template <>
struct traits<x25519> {
  static constexpr bool dh = true, cipher = false, hash = false;
  static constexpr std::string_view name = "25519";
  static constexpr std::size_t public_size = 32;  ///< DHLEN
};
/// 448 (Noise §12.2): X448, 56-byte keys and output.
template <>
struct traits<x448> {
  static constexpr bool dh = true, cipher = false, hash = false;
  static constexpr std::string_view name = "448";
  static constexpr std::size_t public_size = 56;
};
/// P256 as snow defines it (not in the Noise specification): 65-byte SEC1
/// uncompressed public keys; the DH output is the 32-byte x-coordinate.
template <>
struct traits<p256> {
  static constexpr bool dh = true, cipher = false, hash = false;
  static constexpr std::string_view name = "P256";
  static constexpr std::size_t public_size = 65;
};

/// ChaChaPoly (Noise §12.3): nonce = 32 zero bits || little-endian 64-bit n.
template <>
struct traits<chacha20_poly1305> {
  static constexpr bool dh = false, cipher = true, hash = false;
  static constexpr std::string_view name = "ChaChaPoly";
  static constexpr bool big_endian_nonce = false;
};
/// AESGCM (Noise §12.4): AES-256-GCM, nonce = 32 zero bits || big-endian 64-bit n.
template <>
struct traits<aes256_gcm> {
  static constexpr bool dh = false, cipher = true, hash = false;
  static constexpr std::string_view name = "AESGCM";
  static constexpr bool big_endian_nonce = true;
};

/// SHA256 (Noise §12.5).
template <>
struct traits<sha256> {
  static constexpr bool dh = false, cipher = false, hash = true;
  static constexpr std::string_view name = "SHA256";
};
/// SHA512 (Noise §12.6).
template <>
struct traits<sha512> {
  static constexpr bool dh = false, cipher = false, hash = true;
  static constexpr std::string_view name = "SHA512";
};
/// BLAKE2s (Noise §12.7).
template <>
struct traits<blake2s> {
  static constexpr bool dh = false, cipher = false, hash = true;
  static constexpr std::string_view name = "BLAKE2s";
};
/// BLAKE2b (Noise §12.8).
template <>
struct traits<blake2b> {
  static constexpr bool dh = false, cipher = false, hash = true;
  static constexpr std::string_view name = "BLAKE2b";
};

/// A Noise DH function: `x25519`, `x448`, `p256`.
template <class D>
concept dh_function = key_agreement<D> && traits<D>::dh;
/// A Noise cipher: `chacha20_poly1305` (ChaChaPoly), `aes256_gcm` (AESGCM).
template <class C>
concept cipher_function = aead_algorithm<C> && traits<C>::cipher && C::key_size == 32 && C::tag_size == 16;
/// A Noise hash: `sha256`, `sha512`, `blake2s`, `blake2b`.
template <class H>
concept hash_function = hash_algorithm<H> && traits<H>::hash;

/// The largest Noise message (§3): 65535 bytes.
inline constexpr std::size_t max_message_size = 65535;
/// The AEAD tag appended to every encrypted payload (§5.1).
inline constexpr std::size_t tag_size = 16;
/// The largest transport payload: 65535 − 16 bytes.
inline constexpr std::size_t max_payload_size = max_message_size - tag_size;

}  // namespace sepal::noise

#endif
