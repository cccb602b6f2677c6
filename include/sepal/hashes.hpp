#ifndef SEPAL_HASHES_HPP
#define SEPAL_HASHES_HPP

#include <cstddef>

namespace sepal {

/// SHA-256 (FIPS 180-4). The default hash of the default suite.
struct sha256 {
  /// Output size in bytes.
  static constexpr std::size_t digest_size = 32;
  /// Input block size in bytes (HMAC's key block).
  static constexpr std::size_t block_size = 64;
};

/// SHA-384 (FIPS 180-4).
struct sha384 {
  /// Output size in bytes.
  static constexpr std::size_t digest_size = 48;
  /// Input block size in bytes (HMAC's key block).
  static constexpr std::size_t block_size = 128;
};

/// SHA-512 (FIPS 180-4).
struct sha512 {
  /// Output size in bytes.
  static constexpr std::size_t digest_size = 64;
  /// Input block size in bytes (HMAC's key block).
  static constexpr std::size_t block_size = 128;
};

/// BLAKE2s-256 (RFC 7693). Noise's "BLAKE2s" (Noise §12.8).
struct blake2s {
  /// Output size in bytes.
  static constexpr std::size_t digest_size = 32;
  /// Input block size in bytes (HMAC's key block).
  static constexpr std::size_t block_size = 64;
};

/// BLAKE2b-512 (RFC 7693). Noise's "BLAKE2b" (Noise §12.8).
struct blake2b {
  /// Output size in bytes.
  static constexpr std::size_t digest_size = 64;
  /// Input block size in bytes (HMAC's key block).
  static constexpr std::size_t block_size = 128;
};

}  // namespace sepal

#endif
