#ifndef SEPAL_HEADER_PROTECTION_HPP
#define SEPAL_HEADER_PROTECTION_HPP

#include <botan/block_cipher.h>
#include <botan/stream_cipher.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"

namespace sepal {

/// QUIC header protection (RFC 9001 §5.4): a 5-byte mask computed from a
/// 16-byte sample of the packet's ciphertext, which hides the packet number
/// and key phase on the wire. AES suites use AES-ECB on the sample (§5.4.3);
/// ChaCha20-Poly1305 uses ChaCha20 keyed with the header protection key,
/// counter = sample[0..3], nonce = sample[4..15] (§5.4.4).
///
/// Security: this hides metadata; it does not authenticate anything (the
/// AEAD does). The key is held by Botan in wiped memory.
template <aead_algorithm Aead>
class header_protector {
 public:
  static constexpr std::size_t sample_size = 16;  ///< ciphertext bytes sampled (RFC 9001 §5.4.2)
  static constexpr std::size_t mask_size = 5;     ///< mask bytes: flags and up to 4 packet number bytes
  using mask_type = std::array<std::uint8_t, mask_size>;  ///< the mask

  /// A protector keyed with `hp_key` (`Aead::key_size` bytes).
  /// Errors: throws `sepal::error(errc::invalid_argument)` on a wrong size.
  explicit header_protector(std::span<const std::uint8_t> hp_key) {
    if (hp_key.size() != Aead::key_size) throw error(errc::invalid_argument);
    detail::or_throw(errc::internal_error, [&] {
      m_cipher = cipher_type::create_or_throw(detail::algorithm<Aead>::header_protection);
      m_cipher->set_key(hp_key);
    });
  }

  /// The mask for `sample`. Does not allocate.
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from protector.
  [[nodiscard]] mask_type mask(std::span<const std::uint8_t, sample_size> sample) {
    if (!m_cipher) throw error(errc::moved_from);
    mask_type out{};
    if constexpr (is_chacha) {
      std::uint32_t counter = 0;
      for (int i = 3; i >= 0; --i) counter = (counter << 8) | sample[static_cast<std::size_t>(i)];
      m_cipher->set_iv(sample.data() + 4, 12);
      m_cipher->seek(std::uint64_t{counter} * 64);
      m_cipher->write_keystream(out.data(), out.size());
    } else {
      std::array<std::uint8_t, 16> block{};
      m_cipher->encrypt_n(sample.data(), block.data(), 1);
      std::copy_n(block.begin(), mask_size, out.begin());
    }
    return out;
  }

 private:
  static constexpr bool is_chacha = std::is_same_v<Aead, chacha20_poly1305>;
  using cipher_type = std::conditional_t<is_chacha, Botan::StreamCipher, Botan::BlockCipher>;
  std::unique_ptr<cipher_type> m_cipher;
};

}  // namespace sepal

#endif
