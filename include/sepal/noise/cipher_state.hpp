#ifndef SEPAL_NOISE_CIPHER_STATE_HPP
#define SEPAL_NOISE_CIPHER_STATE_HPP

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>

#include "../detail/aead_engine.hpp"
#include "../detail/memory.hpp"
#include "../error.hpp"
#include "algorithms.hpp"

namespace sepal::noise {

/// The largest usable nonce: 2^64 − 1 is reserved (Noise §5.1, §11.3 rekey).
inline constexpr std::uint64_t max_nonce = std::numeric_limits<std::uint64_t>::max();

/// Noise's CipherState (§5.1): a key `k` (or none) and a 64-bit nonce `n`,
/// over one keyed Botan AEAD object per direction.
///
/// Security: the key lives in memory wiped on destruction and on move; the
/// object is move-only. Nonce 2^64 − 1 is never used for a message: the
/// call that would use it fails. Steady-state encrypt/decrypt allocate
/// nothing (the Botan objects and the tag buffer are kept).
template <cipher_function Cipher>
class cipher_state {
 public:
  /// A cipher state with no key (§5.1 InitializeKey(empty)).
  cipher_state() = default;

  cipher_state(const cipher_state&) = delete;
  cipher_state& operator=(const cipher_state&) = delete;
  /// Moves the key; the source has no key afterwards.
  cipher_state(cipher_state&& o) noexcept
      : m_enc(std::move(o.m_enc)), m_dec(std::move(o.m_dec)), m_k(o.m_k), m_n(o.m_n), m_has_key(o.m_has_key), m_moved(o.m_moved) {
    o.forget();
  }
  /// Moves the key; the old key is wiped and the source has none.
  cipher_state& operator=(cipher_state&& o) noexcept {
    if (this != &o) {
      sepal::detail::wipe(m_k.data(), m_k.size());
      m_enc = std::move(o.m_enc);
      m_dec = std::move(o.m_dec);
      m_k = o.m_k;
      m_n = o.m_n;
      m_has_key = o.m_has_key;
      m_moved = o.m_moved;
      o.forget();
    }
    return *this;
  }
  ~cipher_state() { sepal::detail::wipe(m_k.data(), m_k.size()); }

  /// §5.1 InitializeKey(key): a 32-byte key, nonce 0; an empty span removes the key.
  /// Errors: throws `sepal::error(errc::invalid_argument)` for another size.
  void initialize_key(std::span<const std::uint8_t> key) {
    if (m_moved) throw error(errc::moved_from);
    m_n = 0;
    if (key.empty()) {
      sepal::detail::wipe(m_k.data(), m_k.size());
      m_has_key = false;
      return;
    }
    if (key.size() != m_k.size()) throw error(errc::invalid_argument);
    std::memcpy(m_k.data(), key.data(), m_k.size());
    // Engines are made on first use (a transport direction needs only one).
    if (m_enc) m_enc->set_key(m_k);
    if (m_dec) m_dec->set_key(m_k);
    m_has_key = true;
  }

  /// §5.1 HasKey().
  [[nodiscard]] bool has_key() const noexcept { return m_has_key; }

  /// Errors (all operations): a moved-from cipher state throws (or returns)
  /// `moved_from` instead of passing data through unencrypted.

  /// §5.1 SetNonce(n): for out-of-order transports (the datagram transport).
  /// Security: never set a nonce that was used with this key before.
  void set_nonce(std::uint64_t n) noexcept { m_n = n; }
  /// The next nonce.
  [[nodiscard]] std::uint64_t nonce() const noexcept { return m_n; }

  /// §5.1 EncryptWithAd(ad, plaintext): writes ciphertext || tag (or the
  /// plaintext itself when there is no key) to `out` and returns its size.
  /// `plaintext` may be `out`'s own first bytes (in place).
  ///
  /// Errors: throws `sepal::error(errc::limit_reached)` when the nonce space
  /// is exhausted (n = 2^64 − 1, §5.1), `errc::invalid_argument` when `out`
  /// is too small or partially overlaps `plaintext`.
  std::size_t encrypt_with_ad(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> plaintext,
                              std::span<std::uint8_t> out) {
    if (m_moved) throw error(errc::moved_from);
    if (!m_has_key) {
      if (out.size() < plaintext.size()) throw error(errc::invalid_argument);
      if (!plaintext.empty() && plaintext.data() != out.data()) std::memmove(out.data(), plaintext.data(), plaintext.size());
      return plaintext.size();
    }
    if (m_n == max_nonce) throw error(errc::limit_reached);
    const auto nonce = make_nonce(m_n);
    const auto sealed = encryptor().seal(nonce, ad, plaintext, out);
    ++m_n;
    return sealed.size();
  }

  /// §5.1 DecryptWithAd(ad, ciphertext): writes the plaintext to `out` and
  /// returns its size; `ciphertext` may start at `out` (in place). Never throws.
  ///
  /// Errors: `authentication_failed` for a wrong tag or a ciphertext shorter
  /// than the tag (the nonce is not advanced, and the bytes written are
  /// wiped); `limit_reached` when the nonce space is exhausted;
  /// `invalid_argument` when `out` is too small.
  [[nodiscard]] result<std::size_t> decrypt_with_ad(std::span<const std::uint8_t> ad,
                                                    std::span<const std::uint8_t> ciphertext,
                                                    std::span<std::uint8_t> out) noexcept {
    if (m_moved) return errc::moved_from;
    if (!m_has_key) {
      if (out.size() < ciphertext.size()) return errc::invalid_argument;
      if (!ciphertext.empty() && ciphertext.data() != out.data())
        std::memmove(out.data(), ciphertext.data(), ciphertext.size());
      return ciphertext.size();
    }
    if (m_n == max_nonce) return errc::limit_reached;
    const auto nonce = make_nonce(m_n);
    if (!m_dec) {
      try {
        decryptor();
      } catch (...) {
        return errc::internal_error;
      }
    }
    auto opened = m_dec->open(nonce, ad, ciphertext, out);
    if (!opened) return opened.error();
    ++m_n;
    return opened->size();
  }

  /// §11.3 Rekey(): k = the first 32 bytes of ENCRYPT(k, 2^64 − 1, "", 32
  /// zero bytes) (§4.2's default REKEY). The nonce is unchanged.
  /// Errors: throws `sepal::error(errc::invalid_argument)` without a key.
  void rekey() {
    if (!m_has_key) throw error(errc::invalid_argument);
    std::array<std::uint8_t, 32 + Cipher::tag_size> buf{};
    const auto nonce = make_nonce(max_nonce);
    (void)encryptor().seal(nonce, {}, std::span<const std::uint8_t>(buf.data(), 32), buf);
    std::memcpy(m_k.data(), buf.data(), m_k.size());
    sepal::detail::wipe(buf.data(), buf.size());
    m_enc->set_key(m_k);
    if (m_dec) m_dec->set_key(m_k);
  }

  /// Takes `from`'s Botan encryption object (keyed with this state's key
  /// on use), so a transport direction reuses the handshake's.
  void take_encryptor(cipher_state& from) noexcept {
    m_enc = std::move(from.m_enc);
    from.m_enc.reset();
  }
  /// Takes `from`'s Botan decryption object, as `take_encryptor`.
  void take_decryptor(cipher_state& from) noexcept {
    m_dec = std::move(from.m_dec);
    from.m_dec.reset();
  }

  /// The key bytes (for saving and restoring a handshake's state).
  /// Security: secret; the view is valid while `*this` lives.
  [[nodiscard]] std::span<const std::uint8_t, 32> reveal_key() const noexcept { return m_k; }

 private:
  static std::array<std::uint8_t, Cipher::nonce_size> make_nonce(std::uint64_t n) noexcept {
    std::array<std::uint8_t, Cipher::nonce_size> nonce{};  // 32 zero bits, then the counter
    // §12.4 AESGCM: big-endian; §12.3 ChaChaPoly: little-endian.
    constexpr bool big = traits<Cipher>::big_endian_nonce;
    if constexpr ((std::endian::native == std::endian::big) != big) n = byteswap(n);
    std::memcpy(nonce.data() + 4, &n, 8);
    return nonce;
  }

  static constexpr std::uint64_t byteswap(std::uint64_t v) noexcept {
    std::uint64_t r = 0;
    for (int i = 0; i < 8; ++i) r |= ((v >> (8 * i)) & 0xff) << (8 * (7 - i));
    return r;  // compilers turn this into one bswap
  }

  sepal::detail::aead_encryptor<Cipher>& encryptor() {
    if (!m_enc) {
      m_enc.emplace();
      if (m_has_key) m_enc->set_key(m_k);
    }
    return *m_enc;
  }
  sepal::detail::aead_decryptor<Cipher>& decryptor() {
    if (!m_dec) {
      m_dec.emplace();
      if (m_has_key) m_dec->set_key(m_k);
    }
    return *m_dec;
  }

  void forget() noexcept {
    sepal::detail::wipe(m_k.data(), m_k.size());
    m_has_key = false;
    m_n = 0;
    m_moved = true;
    m_enc.reset();  // moved-from engines hold no Botan object
    m_dec.reset();
  }

  std::optional<sepal::detail::aead_encryptor<Cipher>> m_enc;
  std::optional<sepal::detail::aead_decryptor<Cipher>> m_dec;
  std::array<std::uint8_t, 32> m_k{};
  std::uint64_t m_n = 0;
  bool m_has_key = false;
  bool m_moved = false;  // a moved-from state refuses to work (it must not pass plaintext through)
};

}  // namespace sepal::noise

#endif
