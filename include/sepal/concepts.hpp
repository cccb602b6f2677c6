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

/// A signature scheme that hashes with `H` first: the ECDSA curves. (Ed25519
/// and Ed448 sign the message itself and take no hash.)
template <class C, class H>
concept prehash_signature = signature_scheme<C> && hash_algorithm<H> &&
                            detail::algorithm<C>::what == detail::kind::weierstrass;

}  // namespace sepal

#endif
