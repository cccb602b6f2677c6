#ifndef SEPAL_AEADS_HPP
#define SEPAL_AEADS_HPP

#include <cstddef>
#include <cstdint>

/// AEAD tags. Usage limits are RFC 9001 §6.6's figures (packets per key), for
/// packets up to 2^11 16-byte blocks; sessions enforce them.

namespace sepal {

/// AES-128-GCM (NIST SP 800-38D) with a 96-bit nonce and 128-bit tag.
struct aes128_gcm {
  static constexpr std::size_t key_size = 16;  ///< key bytes
  static constexpr std::size_t nonce_size = 12;  ///< nonce bytes
  static constexpr std::size_t tag_size = 16;  ///< tag bytes
  /// Packets that may be sealed under one key (RFC 9001 §6.6: 2^23).
  static constexpr std::uint64_t confidentiality_limit = std::uint64_t{1} << 23;
  /// Forged packets that may be tried against one key (RFC 9001 §6.6: 2^52).
  static constexpr std::uint64_t integrity_limit = std::uint64_t{1} << 52;
};

/// AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and 128-bit tag. The
/// default AEAD.
struct aes256_gcm {
  static constexpr std::size_t key_size = 32;  ///< key bytes
  static constexpr std::size_t nonce_size = 12;  ///< nonce bytes
  static constexpr std::size_t tag_size = 16;  ///< tag bytes
  /// RFC 9001 §6.6: 2^23.
  static constexpr std::uint64_t confidentiality_limit = std::uint64_t{1} << 23;
  /// RFC 9001 §6.6: 2^52.
  static constexpr std::uint64_t integrity_limit = std::uint64_t{1} << 52;
};

/// ChaCha20-Poly1305 (RFC 8439).
struct chacha20_poly1305 {
  static constexpr std::size_t key_size = 32;  ///< key bytes
  static constexpr std::size_t nonce_size = 12;  ///< nonce bytes
  static constexpr std::size_t tag_size = 16;  ///< tag bytes
  /// RFC 9001 §6.6: no practical limit below 2^62 packets.
  static constexpr std::uint64_t confidentiality_limit = std::uint64_t{1} << 62;
  /// RFC 9001 §6.6: 2^36.
  static constexpr std::uint64_t integrity_limit = std::uint64_t{1} << 36;
};

/// AES-128-GCM-SIV (RFC 8452): the nonce-misuse-resistant AEAD. A repeated
/// nonce reveals only whether two messages (with their associated data) were
/// equal, instead of the authentication key and the XOR of the plaintexts
/// as with GCM. For keys that must survive a nonce mistake (state restored
/// from a backup, several writers sharing a key); sepal's sessions never
/// repeat a nonce either way. It is two-pass: each message costs about
/// twice a GCM one (sepal-bench's GCM-SIV rows).
struct aes128_gcm_siv {
  static constexpr std::size_t key_size = 16;  ///< key bytes
  static constexpr std::size_t nonce_size = 12;  ///< nonce bytes
  static constexpr std::size_t tag_size = 16;  ///< tag bytes
  /// AES-GCM's RFC 9001 §6.6 figure, kept for sessions (RFC 8452 §9's
  /// bounds are looser): 2^23.
  static constexpr std::uint64_t confidentiality_limit = std::uint64_t{1} << 23;
  /// As AES-GCM: 2^52.
  static constexpr std::uint64_t integrity_limit = std::uint64_t{1} << 52;
};

/// AES-256-GCM-SIV (RFC 8452); see `aes128_gcm_siv`.
struct aes256_gcm_siv {
  static constexpr std::size_t key_size = 32;  ///< key bytes
  static constexpr std::size_t nonce_size = 12;  ///< nonce bytes
  static constexpr std::size_t tag_size = 16;  ///< tag bytes
  /// As AES-GCM: 2^23.
  static constexpr std::uint64_t confidentiality_limit = std::uint64_t{1} << 23;
  /// As AES-GCM: 2^52.
  static constexpr std::uint64_t integrity_limit = std::uint64_t{1} << 52;
};

}  // namespace sepal

#endif
