#ifndef SEPAL_DETAIL_AEAD_ENGINE_HPP
#define SEPAL_DETAIL_AEAD_ENGINE_HPP

// One direction of an AEAD: a keyed Botan object plus a reusable tag buffer.
// The message is processed in the caller's buffer (GCM and ChaCha20-Poly1305
// have an update granularity of 1), so steady-state calls do not allocate.
// GCM-SIV is two-pass: it goes through the reused buffer, and Botan's
// GCM-SIV allocates per message (sepal-bench's allocs column).

#include <botan/aead.h>
#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>

#include "../error.hpp"
#include "boundary.hpp"
#include "botan_algorithms.hpp"
#include "memory.hpp"

namespace sepal::detail {

/// True when `in` and `out` overlap without starting at the same byte.
inline bool partially_overlaps(std::span<const std::uint8_t> in, std::span<const std::uint8_t> out) noexcept {
  if (in.empty() || out.empty() || in.data() == out.data()) return false;
  return std::less<>{}(in.data(), out.data() + out.size()) && std::less<>{}(out.data(), in.data() + in.size());
}

template <class Aead, Botan::Cipher_Dir Dir>
class aead_engine {
 public:
  aead_engine() {
    or_throw(errc::internal_error, [&] {
      m_mode = Botan::AEAD_Mode::create_or_throw(algorithm<Aead>::mode, Dir);
      m_tag.reserve(2 * Aead::tag_size);
    });
  }

  /// Errors: throws `sepal::error(errc::invalid_argument)` on a wrong size.
  void set_key(std::span<const std::uint8_t> key) {
    if (key.size() != Aead::key_size) throw error(errc::invalid_argument);
    if (!m_mode) throw error(errc::moved_from);
    or_throw(errc::internal_error, [&] { m_mode->set_key(key); });
  }

  /// False for a moved-from engine (it holds no Botan object).
  [[nodiscard]] bool usable() const noexcept { return m_mode != nullptr; }

  /// Wipes the key; the engine is unusable until `set_key`.
  void clear() noexcept {
    if (!m_mode) return;
    try {
      m_mode->clear();
    } catch (...) {
    }
  }

 protected:
  std::unique_ptr<Botan::AEAD_Mode> m_mode;
  Botan::secure_vector<std::uint8_t> m_tag;
};

/// The sealing direction.
template <class Aead>
class aead_encryptor : public aead_engine<Aead, Botan::Cipher_Dir::Encryption> {
 public:
  using nonce_view = std::span<const std::uint8_t, Aead::nonce_size>;

  /// Encrypts `plaintext` into `out` as ciphertext || tag; `plaintext` may be
  /// `out`'s own first bytes. Errors: `sepal::error(errc::invalid_argument)`
  /// when `out` is too small or partially overlaps `plaintext`;
  /// `sepal::error(errc::moved_from)` on a moved-from engine.
  std::span<std::uint8_t> seal(nonce_view nonce, std::span<const std::uint8_t> ad,
                               std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
    if (!this->m_mode) throw error(errc::moved_from);
    const std::size_t n = plaintext.size();
    if (out.size() < n + Aead::tag_size || partially_overlaps(plaintext, out)) throw error(errc::invalid_argument);
    if (n != 0 && plaintext.data() != out.data()) std::memmove(out.data(), plaintext.data(), n);
    or_throw(errc::internal_error, [&] {
      this->m_mode->set_associated_data(ad);
      this->m_mode->start(nonce);
      if constexpr (whole_message_aead<Aead>) {
        // Two-pass (GCM-SIV): the message goes through finish() in the
        // reused buffer (sepal's buffer only grows; Botan's GCM-SIV itself
        // allocates per message for its per-nonce keys). On any failure the
        // plaintext copy is wiped and the mode reset, so the engine stays usable.
        try {
          this->m_tag.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
          this->m_mode->finish(this->m_tag);
        } catch (...) {
          wipe(this->m_tag.data(), this->m_tag.size());
          this->m_mode->reset();
          throw;
        }
        std::memcpy(out.data(), this->m_tag.data(), n + Aead::tag_size);
        wipe(this->m_tag.data(), this->m_tag.size());  // it held the plaintext
      } else {
        this->m_mode->process(out.first(n));
        this->m_tag.clear();
        this->m_mode->finish(this->m_tag);  // appends the tag; capacity reserved, no allocation
        std::memcpy(out.data() + n, this->m_tag.data(), Aead::tag_size);
      }
    });
    return out.first(n + Aead::tag_size);
  }
};

/// The opening direction.
template <class Aead>
class aead_decryptor : public aead_engine<Aead, Botan::Cipher_Dir::Decryption> {
 public:
  using nonce_view = std::span<const std::uint8_t, Aead::nonce_size>;

  /// Decrypts ciphertext || tag into `out`; never throws. On failure the
  /// bytes written to `out` are wiped: Botan decrypts before it checks the tag.
  /// A moved-from engine returns `moved_from` and touches nothing.
  result<std::span<std::uint8_t>> open(nonce_view nonce, std::span<const std::uint8_t> ad,
                                       std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out) noexcept {
    if (!this->m_mode) return errc::moved_from;
    if (ciphertext.size() < Aead::tag_size) return errc::authentication_failed;
    const std::size_t n = ciphertext.size() - Aead::tag_size;
    if (out.size() < n || partially_overlaps(ciphertext, out)) return errc::invalid_argument;
    const auto body = out.first(n);
    try {
      if constexpr (whole_message_aead<Aead>) {
        // Two-pass (GCM-SIV): decrypt and check in the reused buffer, and
        // copy out only a message whose tag verified.
        this->m_tag.assign(ciphertext.begin(), ciphertext.end());
        this->m_mode->set_associated_data(ad);
        this->m_mode->start(nonce);
        this->m_mode->finish(this->m_tag);  // throws Invalid_Authentication_Tag (and clears the buffer)
        if (n != 0) std::memcpy(out.data(), this->m_tag.data(), n);
        wipe(this->m_tag.data(), this->m_tag.size());
        return body;
      }
      this->m_tag.assign(ciphertext.begin() + static_cast<std::ptrdiff_t>(n), ciphertext.end());  // before an in-place overwrite
      if (n != 0 && ciphertext.data() != out.data()) std::memmove(out.data(), ciphertext.data(), n);
      this->m_mode->set_associated_data(ad);
      this->m_mode->start(nonce);
      this->m_mode->process(body);
      this->m_mode->finish(this->m_tag);  // checks the tag; throws Invalid_Authentication_Tag
      return body;
    } catch (...) {
      sepal::detail::wipe(body.data(), body.size());
      try {
        this->m_mode->reset();
      } catch (...) {
      }
      return errc::authentication_failed;
    }
  }
};

}  // namespace sepal::detail

#endif
