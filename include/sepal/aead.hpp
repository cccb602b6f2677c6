#ifndef SEPAL_AEAD_HPP
#define SEPAL_AEAD_HPP

#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "concepts.hpp"
#include "detail/aead_engine.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "rng.hpp"

namespace sepal {

/// An AEAD key with explicit nonces: the expert layer.
///
/// Security: the caller owns the nonce and must never repeat one under a key;
/// a repeat breaks confidentiality and (for GCM) authenticity. Prefer the
/// nonce-owning `sealer`/`opener` of sessions (packet.hpp). The key lives in
/// Botan's wiped memory; the type is move-only.
///
/// Errors: `seal` throws `sepal::error(errc::invalid_argument)` when `out` is
/// too small or partially overlaps the input. `open` never throws.
///
/// The hot path allocates nothing: one keyed Botan object per direction and
/// one reusable tag buffer, with the message processed in the caller's buffer.
template <aead_algorithm Aead>
class aead_key {
 public:
  static constexpr std::size_t key_size = Aead::key_size;      ///< key bytes
  static constexpr std::size_t nonce_size = Aead::nonce_size;  ///< nonce bytes
  static constexpr std::size_t tag_size = Aead::tag_size;      ///< tag bytes
  /// A nonce: exactly `nonce_size` bytes, checked at compile time.
  using nonce_view = std::span<const std::uint8_t, Aead::nonce_size>;

  /// A key from `key` (exactly `key_size` bytes).
  /// Errors: throws `sepal::error(errc::invalid_argument)` on a wrong size.
  explicit aead_key(std::span<const std::uint8_t> key) {
    m_enc.set_key(key);
    m_dec.set_key(key);
  }

  /// A fresh random key.
  [[nodiscard]] static aead_key generate(Botan::RandomNumberGenerator& rng = system_rng()) {
    Botan::secure_vector<std::uint8_t> k(key_size);
    detail::or_throw(errc::rng_failure, [&] { rng.randomize(k); });
    return aead_key(k);
  }

  /// Ciphertext size for a plaintext of `n` bytes.
  [[nodiscard]] static constexpr std::size_t sealed_size(std::size_t n) noexcept { return n + tag_size; }

  /// Encrypts `plaintext` into `out` as ciphertext || tag and returns that
  /// part of `out`. `plaintext` may be `out`'s own first bytes (in place).
  [[nodiscard]] std::span<std::uint8_t> seal(nonce_view nonce, std::span<const std::uint8_t> ad,
                                             std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
    return m_enc.seal(nonce, ad, plaintext, out);
  }

  /// `seal` in place: `buffer` holds the plaintext in its first
  /// `plaintext_size` bytes and has room for the tag after it.
  [[nodiscard]] std::span<std::uint8_t> seal_in_place(nonce_view nonce, std::span<const std::uint8_t> ad,
                                                      std::span<std::uint8_t> buffer, std::size_t plaintext_size) {
    if (plaintext_size > buffer.size()) throw error(errc::invalid_argument);
    return seal(nonce, ad, buffer.first(plaintext_size), buffer);
  }

  /// Decrypts `ciphertext` (ciphertext || tag) into `out` and returns the
  /// plaintext part of `out`. `ciphertext` may be `out`'s own first bytes.
  ///
  /// Errors: `authentication_failed` for a wrong tag, key, nonce or
  /// associated data, and for input shorter than the tag;
  /// `invalid_argument` when `out` is smaller than the plaintext or partially
  /// overlaps the input. Never throws.
  ///
  /// Security: Botan decrypts before it checks the tag; on failure the bytes
  /// written to `out` are wiped before returning.
  [[nodiscard]] result<std::span<std::uint8_t>> open(nonce_view nonce, std::span<const std::uint8_t> ad,
                                                     std::span<const std::uint8_t> ciphertext,
                                                     std::span<std::uint8_t> out) noexcept {
    return m_dec.open(nonce, ad, ciphertext, out);
  }

  /// `open` in place: `buffer` is ciphertext || tag; the plaintext is left in
  /// its first bytes.
  [[nodiscard]] result<std::span<std::uint8_t>> open_in_place(nonce_view nonce, std::span<const std::uint8_t> ad,
                                                              std::span<std::uint8_t> buffer) noexcept {
    return open(nonce, ad, buffer, buffer);
  }

 private:
  detail::aead_encryptor<Aead> m_enc;
  detail::aead_decryptor<Aead> m_dec;
};

}  // namespace sepal

#endif
