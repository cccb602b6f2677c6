#ifndef SEPAL_SUITE_HPP
#define SEPAL_SUITE_HPP

#include "aeads.hpp"
#include "concepts.hpp"
#include "hashes.hpp"

namespace sepal {

/// The symmetric half of a suite: the AEAD that protects packets and the
/// hash of the key schedule (HKDF). Handshakes add the public-key half.
template <aead_algorithm Aead = aes256_gcm, hash_algorithm Hash = sha256>
struct cipher_suite {
  using aead = Aead;  ///< protects packets
  using hash = Hash;  ///< HKDF and transcript hash
};

/// AES-256-GCM with SHA-256: the default suite of sessions. (The default
/// handshake suite, which also fixes the curves, is
/// `handshake::default_suite`; one name per concept.)
using default_cipher_suite = cipher_suite<>;

/// A suite usable by sessions.
template <class S>
concept session_suite = aead_algorithm<typename S::aead> && hash_algorithm<typename S::hash>;

}  // namespace sepal

#endif
