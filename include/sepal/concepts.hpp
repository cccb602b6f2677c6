#ifndef SEPAL_CONCEPTS_HPP
#define SEPAL_CONCEPTS_HPP

#include <concepts>
#include <cstddef>

#include "detail/botan_algorithms.hpp"

/// The concepts that constrain every sepal template. They are satisfied only
/// by sepal's own tags (hashes.hpp, curves.hpp, aeads.hpp): each tag is backed
/// by Botan algorithms that sepal has checked. Naming a tag whose Botan module
/// is missing from the linked build fails with a static_assert that says so.

namespace sepal {

/// A hash usable for signatures, HMAC and HKDF: `sha256`, `sha384`, `sha512`.
template <class H>
concept hash_algorithm = detail::algorithm<H>::what == detail::kind::hash &&
                         detail::require_botan<H>::value && requires {
                           { H::digest_size } -> std::convertible_to<std::size_t>;
                         };

/// Any curve tag: `p256`, `p384`, `p521`, `x25519`, `x448`, `ed25519`, `ed448`.
template <class C>
concept curve = (detail::algorithm<C>::what == detail::kind::weierstrass ||
                 detail::algorithm<C>::what == detail::kind::montgomery ||
                 detail::algorithm<C>::what == detail::kind::edwards) &&
                detail::require_botan<C>::value;

/// A curve whose keys sign: `p256`, `p384`, `p521` (ECDSA), `ed25519`, `ed448`.
template <class C>
concept signature_scheme = curve<C> && C::signs;

/// A curve whose keys agree on a shared secret: `p256`, `p384`, `p521` (ECDH),
/// `x25519`, `x448`.
template <class C>
concept key_agreement = curve<C> && C::agrees;

/// An AEAD: `aes128_gcm`, `aes256_gcm`, `chacha20_poly1305`.
template <class A>
concept aead_algorithm = detail::algorithm<A>::what == detail::kind::aead &&
                         detail::require_botan<A>::value && requires {
                           { A::key_size } -> std::convertible_to<std::size_t>;
                           { A::nonce_size } -> std::convertible_to<std::size_t>;
                           { A::tag_size } -> std::convertible_to<std::size_t>;
                         };

/// A key encapsulation mechanism (FIPS 203): `ml_kem_768`, `ml_kem_1024`.
template <class K>
concept kem = detail::algorithm<K>::what == detail::kind::kem && detail::require_botan<K>::value && requires {
  { K::encapsulation_key_size } -> std::convertible_to<std::size_t>;
  { K::ciphertext_size } -> std::convertible_to<std::size_t>;
  { K::shared_secret_size } -> std::convertible_to<std::size_t>;
};

/// A hybrid of an elliptic-curve key agreement and a KEM
/// (draft-ietf-tls-ecdhe-mlkem): `x25519_mlkem768`, `secp256r1_mlkem768`,
/// `secp384r1_mlkem1024`.
template <class H>
concept hybrid_key_share = detail::algorithm<H>::what == detail::kind::hybrid && detail::require_botan<H>::value &&
                           key_agreement<typename H::ec> && kem<typename H::kem>;

/// What a handshake's ephemeral key exchange can be: a Diffie-Hellman curve
/// (the client sends a public key, the server answers with its own) or a
/// hybrid (the client sends an encapsulation key and a public key, the
/// server answers with a ciphertext and a public key). key_share.hpp has
/// the three steps.
template <class K>
concept key_share = key_agreement<K> || hybrid_key_share<K>;

/// A signature scheme that hashes with `H` first: the ECDSA curves. (Ed25519
/// and Ed448 sign the message itself and take no hash.)
template <class C, class H>
concept prehash_signature = signature_scheme<C> && hash_algorithm<H> &&
                            detail::algorithm<C>::what == detail::kind::weierstrass;

}  // namespace sepal

#endif
