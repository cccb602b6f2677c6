#ifndef SEPAL_NOISE_SYMMETRIC_STATE_HPP
#define SEPAL_NOISE_SYMMETRIC_STATE_HPP

#include <botan/hash.h>
#include <botan/mac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "../detail/boundary.hpp"
#include "../detail/botan_algorithms.hpp"
#include "../detail/memory.hpp"
#include "cipher_state.hpp"

namespace sepal::noise {

/// Noise's SymmetricState (§5.2): the chaining key `ck`, the handshake hash
/// `h` and a `cipher_state`, with one Botan hash and one HKDF object.
///
/// Security: `ck` and `h` are wiped on destruction; move-only. HKDF is
/// §4.3's construction over Botan's HMAC (the same output as RFC 5869 HKDF
/// with salt = ck and empty info).
template <cipher_function Cipher, hash_function Hash>
class symmetric_state {
 public:
  /// HASHLEN (§4.3).
  static constexpr std::size_t hash_size = Hash::digest_size;

  /// What `save()` copies, so a rejected handshake message leaves no trace.
  struct saved {
    std::array<std::uint8_t, hash_size> ck{}, h{};
    std::array<std::uint8_t, 32> k{};
    std::uint64_t n = 0;
    bool has_key = false;
    ~saved() {
      sepal::detail::wipe(ck.data(), ck.size());
      sepal::detail::wipe(k.data(), k.size());
    }
  };

  /// §5.2 InitializeSymmetric(protocol_name): h = the name padded with zeros
  /// to HASHLEN, or HASH(name) when it is longer; ck = h; no key.
  /// Errors: throws `sepal::error(errc::internal_error)` if Botan lacks the algorithms.
  explicit symmetric_state(std::string_view protocol_name) {
    sepal::detail::or_throw(errc::internal_error, [&] {
      // Botan objects from one prototype per algorithm (no name lookup per handshake).
      static const auto hash = Botan::HashFunction::create_or_throw(sepal::detail::algorithm<Hash>::hash);
      static const auto hmac = Botan::MessageAuthenticationCode::create_or_throw(sepal::detail::algorithm<Hash>::hmac);
      m_hash = hash->new_object();
      m_hmac = hmac->new_object();
    });
    if (protocol_name.size() <= hash_size) {
      std::memcpy(m_h.data(), protocol_name.data(), protocol_name.size());
    } else {
      m_hash->update(reinterpret_cast<const std::uint8_t*>(protocol_name.data()), protocol_name.size());
      m_hash->final(m_h);
    }
    m_ck = m_h;
  }

  symmetric_state(symmetric_state&&) noexcept = default;
  symmetric_state& operator=(symmetric_state&&) noexcept = default;
  ~symmetric_state() {
    sepal::detail::wipe(m_ck.data(), m_ck.size());
    sepal::detail::wipe(m_h.data(), m_h.size());
  }

  /// §5.2 MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k
  /// truncated to 32 bytes).
  void mix_key(std::span<const std::uint8_t> ikm) {
    std::array<std::uint8_t, 2 * hash_size> out{};
    hkdf(ikm, out);
    std::memcpy(m_ck.data(), out.data(), hash_size);
    m_cipher.initialize_key(std::span<const std::uint8_t>(out.data() + hash_size, 32));  // §5.2: truncate to 32
    sepal::detail::wipe(out.data(), out.size());
  }

  /// §5.2 MixHash(data): h = HASH(h || data).
  void mix_hash(std::span<const std::uint8_t> data) {
    m_hash->update(m_h);
    m_hash->update(data);
    m_hash->final(m_h);
  }

  /// §5.2 MixKeyAndHash(ikm) (for "psk", §9.2): ck, temp_h, temp_k =
  /// HKDF(ck, ikm, 3); MixHash(temp_h); InitializeKey(temp_k truncated).
  void mix_key_and_hash(std::span<const std::uint8_t> ikm) {
    std::array<std::uint8_t, 3 * hash_size> out{};
    hkdf(ikm, out);
    std::memcpy(m_ck.data(), out.data(), hash_size);
    mix_hash(std::span<const std::uint8_t>(out.data() + hash_size, hash_size));
    m_cipher.initialize_key(std::span<const std::uint8_t>(out.data() + 2 * hash_size, 32));
    sepal::detail::wipe(out.data(), out.size());
  }

  /// §5.2 GetHandshakeHash(): h, for channel binding once the handshake is done.
  [[nodiscard]] std::span<const std::uint8_t, hash_size> handshake_hash() const noexcept { return m_h; }

  /// True when a key is set (payloads are encrypted).
  [[nodiscard]] bool has_key() const noexcept { return m_cipher.has_key(); }

  /// §5.2 EncryptAndHash(plaintext): ciphertext = EncryptWithAd(h,
  /// plaintext) into `out`; MixHash(ciphertext). Returns its size.
  std::size_t encrypt_and_hash(std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
    const std::size_t n = m_cipher.encrypt_with_ad(m_h, plaintext, out);
    mix_hash(out.first(n));
    return n;
  }

  /// §5.2 DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h,
  /// ciphertext) into `out`; MixHash(ciphertext). Never throws; on failure
  /// `h` is unchanged.
  [[nodiscard]] result<std::size_t> decrypt_and_hash(std::span<const std::uint8_t> ciphertext,
                                                     std::span<std::uint8_t> out) noexcept {
    return sepal::detail::guarded<result<std::size_t>>(errc::internal_error, [&]() -> result<std::size_t> {
      std::array<std::uint8_t, hash_size> next{};
      m_hash->update(m_h);
      m_hash->update(ciphertext);  // before an in-place decrypt overwrites it
      m_hash->final(next);
      auto r = m_cipher.decrypt_with_ad(m_h, ciphertext, out);
      if (r) m_h = next;
      return r;
    });
  }

  /// §5.2 Split(): temp_k1, temp_k2 = HKDF(ck, "", 2); two cipher states
  /// keyed with them (truncated to 32 bytes). The chaining key is wiped.
  /// The handshake's Botan objects move on: its encryptor to the state
  /// this side sends with (the first for the initiator), its decryptor to
  /// the one it receives with.
  [[nodiscard]] std::pair<cipher_state<Cipher>, cipher_state<Cipher>> split(bool initiator = true) {
    std::array<std::uint8_t, 2 * hash_size> out{};
    hkdf({}, out);
    std::pair<cipher_state<Cipher>, cipher_state<Cipher>> cs;
    auto& send = initiator ? cs.first : cs.second;
    auto& receive = initiator ? cs.second : cs.first;
    send.take_encryptor(m_cipher);
    receive.take_decryptor(m_cipher);
    cs.first.initialize_key(std::span<const std::uint8_t>(out.data(), 32));
    cs.second.initialize_key(std::span<const std::uint8_t>(out.data() + hash_size, 32));
    sepal::detail::wipe(out.data(), out.size());
    sepal::detail::wipe(m_ck.data(), m_ck.size());
    m_cipher.initialize_key({});
    return cs;
  }

  /// Copies ck, h and the cipher state's key and nonce.
  void save(saved& s) const noexcept {
    s.ck = m_ck;
    s.h = m_h;
    const auto k = m_cipher.reveal_key();
    std::memcpy(s.k.data(), k.data(), k.size());
    s.n = m_cipher.nonce();
    s.has_key = m_cipher.has_key();
  }

  /// Puts back what `save` copied.
  void restore(const saved& s) {
    m_ck = s.ck;
    m_h = s.h;
    if (s.has_key) {
      m_cipher.initialize_key(s.k);
    } else {
      m_cipher.initialize_key({});
    }
    m_cipher.set_nonce(s.n);
  }

 private:
  /// Noise §4.3 HKDF(chaining_key, input_key_material, num_outputs):
  /// temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key, 0x01);
  /// output_i = HMAC(temp_key, output_{i-1} || i). `out` holds 2 or 3 outputs.
  void hkdf(std::span<const std::uint8_t> ikm, std::span<std::uint8_t> out) {
    std::array<std::uint8_t, hash_size> temp_key{};
    m_hmac->set_key(m_ck);
    m_hmac->update(ikm);
    m_hmac->final(temp_key);
    m_hmac->set_key(temp_key);
    for (std::size_t i = 0; i * hash_size < out.size(); ++i) {
      if (i > 0) {
        m_hmac->set_key(temp_key);
        m_hmac->update(out.subspan((i - 1) * hash_size, hash_size));
      }
      m_hmac->update(static_cast<std::uint8_t>(i + 1));
      m_hmac->final(out.subspan(i * hash_size, hash_size));
    }
    sepal::detail::wipe(temp_key.data(), temp_key.size());
    m_hmac->clear();  // no key left in the HMAC object
  }

  std::unique_ptr<Botan::HashFunction> m_hash;
  std::unique_ptr<Botan::MessageAuthenticationCode> m_hmac;
  std::array<std::uint8_t, hash_size> m_ck{}, m_h{};
  cipher_state<Cipher> m_cipher;
};

}  // namespace sepal::noise

#endif
