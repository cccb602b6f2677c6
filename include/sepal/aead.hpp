#ifndef SEPAL_AEAD_HPP
#define SEPAL_AEAD_HPP

#include <botan/aead.h>
#include <botan/mem_ops.h>
#include <botan/secmem.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "rng.hpp"

namespace sepal {

/// An AEAD key with explicit nonces: the expert layer.
///
/// Security: the caller owns the nonce and must never repeat one under a key;
/// a repeat breaks confidentiality and (for GCM) authenticity. Prefer the
/// nonce-owning `sealer`/`opener` of sessions. The key lives in Botan's wiped
/// memory; the type is move-only.
///
/// Errors: `seal` throws `sepal::error(errc::invalid_argument)` when `out` is
/// too small or partially overlaps the input. `open` never throws.
///
/// The hot path allocates nothing: one keyed Botan object per direction and
/// one reusable tag buffer, with the message processed in the caller's buffer.
template <aead_algorithm Aead>
class aead_key {
 public:
  static constexpr std::size_t key_size = Aead::key_size;
  static constexpr std::size_t nonce_size = Aead::nonce_size;
  static constexpr std::size_t tag_size = Aead::tag_size;
  /// A nonce: exactly `nonce_size` bytes, checked at compile time.
  using nonce_view = std::span<const std::uint8_t, Aead::nonce_size>;

  /// A key from `key` (exactly `key_size` bytes).
  /// Errors: throws `sepal::error(errc::invalid_argument)` on a wrong size.
  explicit aead_key(std::span<const std::uint8_t> key) {
    if (key.size() != key_size) throw error(errc::invalid_argument);
    detail::or_throw(errc::internal_error, [&] {
      m_enc = Botan::AEAD_Mode::create_or_throw(detail::algorithm<Aead>::mode, Botan::Cipher_Dir::Encryption);
      m_dec = Botan::AEAD_Mode::create_or_throw(detail::algorithm<Aead>::mode, Botan::Cipher_Dir::Decryption);
      m_enc->set_key(key);
      m_dec->set_key(key);
      m_tag.reserve(2 * tag_size);
    });
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
    const std::size_t n = plaintext.size();
    if (out.size() < sealed_size(n) || partially_overlaps(plaintext, out)) throw error(errc::invalid_argument);
    if (n != 0 && plaintext.data() != out.data()) std::memmove(out.data(), plaintext.data(), n);
    detail::or_throw(errc::internal_error, [&] {
      m_enc->set_associated_data(ad);
      m_enc->start(nonce);
      m_enc->process(out.first(n));
      m_tag.clear();
      m_enc->finish(m_tag);  // appends the tag; capacity reserved, no allocation
      std::memcpy(out.data() + n, m_tag.data(), tag_size);
    });
    return out.first(sealed_size(n));
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
    if (ciphertext.size() < tag_size) return errc::authentication_failed;
    const std::size_t n = ciphertext.size() - tag_size;
    if (out.size() < n || partially_overlaps(ciphertext, out)) return errc::invalid_argument;
    const auto body = out.first(n);
    try {
      m_tag.assign(ciphertext.begin() + n, ciphertext.end());  // before the body is overwritten in place
      if (n != 0 && ciphertext.data() != out.data()) std::memmove(out.data(), ciphertext.data(), n);
      m_dec->set_associated_data(ad);
      m_dec->start(nonce);
      m_dec->process(body);
      m_dec->finish(m_tag);  // checks the tag; throws Invalid_Authentication_Tag
      return body;
    } catch (...) {
      Botan::secure_scrub_memory(body.data(), body.size());
      reset_decryption();
      return errc::authentication_failed;
    }
  }

  /// `open` in place: `buffer` is ciphertext || tag; the plaintext is left in
  /// its first bytes.
  [[nodiscard]] result<std::span<std::uint8_t>> open_in_place(nonce_view nonce, std::span<const std::uint8_t> ad,
                                                              std::span<std::uint8_t> buffer) noexcept {
    return open(nonce, ad, buffer, buffer);
  }

 private:
  static bool partially_overlaps(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept {
    if (in.empty() || out.empty() || in.data() == out.data()) return false;
    const auto* a = in.data();
    const auto* b = out.data();
    return std::less<>{}(a, b + out.size()) && std::less<>{}(b, a + in.size());
  }

  void reset_decryption() noexcept {
    try {
      m_dec->reset();
    } catch (...) {
    }
  }

  std::unique_ptr<Botan::AEAD_Mode> m_enc;
  std::unique_ptr<Botan::AEAD_Mode> m_dec;
  Botan::secure_vector<std::uint8_t> m_tag;
};

}  // namespace sepal

#endif
