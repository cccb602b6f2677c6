#ifndef SEPAL_HANDSHAKE_SUITE_HPP
#define SEPAL_HANDSHAKE_SUITE_HPP

#include <cstdint>
#include <type_traits>

#include "../aeads.hpp"
#include "../concepts.hpp"
#include "../curves.hpp"
#include "../hashes.hpp"
#include "../kems.hpp"
#include "../suite.hpp"

namespace sepal::handshake {

namespace detail {
// Suite id codes (docs/protocol.md §2).
template <class T> inline constexpr std::uint16_t code = 0;
template <> inline constexpr std::uint16_t code<p256> = 1;
template <> inline constexpr std::uint16_t code<p384> = 2;
template <> inline constexpr std::uint16_t code<p521> = 3;
template <> inline constexpr std::uint16_t code<x25519> = 4;
template <> inline constexpr std::uint16_t code<x448> = 5;
// Hybrid key shares (draft-ietf-tls-ecdhe-mlkem).
template <> inline constexpr std::uint16_t code<x25519_mlkem768> = 6;
template <> inline constexpr std::uint16_t code<secp256r1_mlkem768> = 7;
template <> inline constexpr std::uint16_t code<secp384r1_mlkem1024> = 8;
template <> inline constexpr std::uint16_t code<ed25519> = 4;
template <> inline constexpr std::uint16_t code<ed448> = 5;
template <> inline constexpr std::uint16_t code<aes128_gcm> = 1;
template <> inline constexpr std::uint16_t code<aes256_gcm> = 2;
template <> inline constexpr std::uint16_t code<chacha20_poly1305> = 3;
template <> inline constexpr std::uint16_t code<aes128_gcm_siv> = 4;
template <> inline constexpr std::uint16_t code<aes256_gcm_siv> = 5;
template <> inline constexpr std::uint16_t code<sha256> = 1;
template <> inline constexpr std::uint16_t code<sha384> = 2;
template <> inline constexpr std::uint16_t code<sha512> = 3;
}  // namespace detail

/// A handshake suite, fixed at compile time: ephemeral key share (a
/// Diffie-Hellman curve, or a post-quantum hybrid such as `x25519_mlkem768`),
/// signature scheme (of the server's and clients' identity keys), AEAD and
/// hash. Its id and the protocol version are bound into the transcript (no
/// downgrade).
template <key_share Kex = p256, signature_scheme Sig = p256, aead_algorithm Aead = aes256_gcm,
          hash_algorithm Hash = sha256>
struct suite {
  using kex = Kex;                                  ///< ephemeral key share (key_share.hpp)
  using sig = Sig;                                  ///< identity signatures
  using aead = Aead;                                ///< handshake and session AEAD
  using hash = Hash;                                ///< transcript and key schedule
  using symmetric = cipher_suite<Aead, Hash>;       ///< what the sessions use
  /// docs/protocol.md §2.
  static constexpr std::uint16_t id = static_cast<std::uint16_t>(
      detail::code<Kex> << 12 | detail::code<Sig> << 8 | detail::code<Aead> << 4 | detail::code<Hash>);
};

/// P-256 ECDH, ECDSA-P256-SHA256, AES-256-GCM, SHA-256 (id 0x1121).
using default_suite = suite<>;

/// A handshake suite type.
template <class S>
concept handshake_suite = key_share<typename S::kex> && signature_scheme<typename S::sig> &&
                          aead_algorithm<typename S::aead> && hash_algorithm<typename S::hash> &&
                          std::is_same_v<S, suite<typename S::kex, typename S::sig, typename S::aead, typename S::hash>>;

/// The protocol version in every message header.
inline constexpr std::uint8_t protocol_version = 5;  // docs/protocol.md §10: what changed in 5

}  // namespace sepal::handshake

#endif
