#ifndef SEPAL_KEM_HPP
#define SEPAL_KEM_HPP

// ML-KEM (FIPS 203) on typed keys: a public encapsulation key, a move-only
// decapsulation key, encapsulate and decapsulate. Botan's ML-KEM does the
// work; sepal adds the input checks FIPS 203 §7.2/§7.3 ask of the caller
// that Botan leaves out, and keeps every Botan exception inside.

#include <botan/hash.h>
#include <botan/ml_kem.h>
#include <botan/pubkey.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "kems.hpp"
#include "rng.hpp"
#include "secret.hpp"

namespace sepal {

namespace detail {

template <class K>
Botan::ML_KEM_Mode ml_kem_mode() {
  return Botan::ML_KEM_Mode(algorithm<K>::mode);
}

/// FIPS 203 §7.2, "modulus check": every 12-bit coefficient of the encoded
/// vector t̂ (the first 384·k bytes of ek) is below q = 3329. Public data, so
/// not constant time.
template <class K>
bool ml_kem_coefficients_reduced(std::span<const std::uint8_t> ek) noexcept {
  constexpr std::size_t encoded_t = K::encapsulation_key_size - 32;  // ek = ByteEncode12(t̂) || ρ
  for (std::size_t i = 0; i + 3 <= encoded_t; i += 3) {
    const unsigned c0 = ek[i] | (static_cast<unsigned>(ek[i + 1] & 0x0F) << 8);
    const unsigned c1 = (ek[i + 1] >> 4) | (static_cast<unsigned>(ek[i + 2]) << 4);
    if (c0 >= 3329 || c1 >= 3329) return false;
  }
  return true;
}

}  // namespace detail

/// What `encapsulation_key::encapsulate` produces: the ciphertext to send and
/// the shared secret to keep.
///
/// Security: `shared_secret` is wiped when freed; feed it to a KDF (it is
/// FIPS 203's K, uniformly random to anyone without the decapsulation key).
template <kem K>
struct encapsulation {
  std::vector<std::uint8_t> ciphertext;  ///< K::ciphertext_size bytes, for the decapsulation key's holder
  secret_bytes shared_secret;            ///< K::shared_secret_size bytes
};

/// An ML-KEM encapsulation key (FIPS 203 "ek"): public, cheap to copy.
///
/// Errors: `from_bytes` never throws: `invalid_encoding` for a wrong length,
/// `invalid_key` for a key whose coefficients are not reduced modulo q
/// (FIPS 203 §7.2's modulus check).
template <kem K>
class encapsulation_key {
 public:
  using kem_type = K;  ///< the KEM tag

  /// Parses the FIPS 203 encoding (ByteEncode12(t̂) || ρ) after the input
  /// checks of FIPS 203 §7.2 (type: the exact length; modulus: every
  /// coefficient below q).
  [[nodiscard]] static result<encapsulation_key> from_bytes(std::span<const std::uint8_t> ek) noexcept {
    if (ek.size() != K::encapsulation_key_size) return errc::invalid_encoding;
    if (!detail::ml_kem_coefficients_reduced<K>(ek)) return errc::invalid_key;
    return detail::guarded<result<encapsulation_key>>(errc::invalid_key, [&]() -> result<encapsulation_key> {
      auto key = std::make_shared<const Botan::ML_KEM_PublicKey>(ek, detail::ml_kem_mode<K>());
      if (!key->check_key(system_rng(), false)) return errc::invalid_key;
      return encapsulation_key(std::move(key));
    });
  }

  /// The FIPS 203 encoding (`K::encapsulation_key_size` bytes).
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] std::vector<std::uint8_t> to_bytes() const {
    return detail::or_throw(errc::internal_error, [&] { return get().raw_public_key_bits(); });
  }

  /// ML-KEM.Encaps (FIPS 203 Algorithm 20): a fresh shared secret and its
  /// ciphertext under this key. `rng` gives the 32-byte message m.
  ///
  /// Errors: throws `sepal::error` (`rng_failure`; `moved_from` on a
  /// moved-from key). The key was checked when it was parsed, so nothing
  /// about it can fail here.
  [[nodiscard]] encapsulation<K> encapsulate(Botan::RandomNumberGenerator& rng = system_rng()) const {
    (void)get();
    return detail::or_throw(errc::rng_failure, [&] {
      Botan::PK_KEM_Encryptor enc(get(), detail::algorithm<K>::kdf);
      auto [ct, ss] = Botan::KEM_Encapsulation::destructure(enc.encrypt(rng, K::shared_secret_size));
      if (ct.size() != K::ciphertext_size || ss.size() != K::shared_secret_size) throw error(errc::internal_error);
      return encapsulation<K>{std::move(ct), secret_bytes(std::move(ss))};
    });
  }

  /// Keys are equal when their encodings are (public data: not constant time).
  [[nodiscard]] friend bool operator==(const encapsulation_key& a, const encapsulation_key& b) {
    return a.to_bytes() == b.to_bytes();
  }

  /// The Botan key, for code that goes beyond sepal's API.
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] const Botan::ML_KEM_PublicKey& botan() const { return get(); }

 private:
  template <kem>
  friend class decapsulation_key;

  explicit encapsulation_key(std::shared_ptr<const Botan::ML_KEM_PublicKey> key) noexcept : m_key(std::move(key)) {}

  const Botan::ML_KEM_PublicKey& get() const {
    if (!m_key) throw error(errc::moved_from);
    return *m_key;
  }

  std::shared_ptr<const Botan::ML_KEM_PublicKey> m_key;
};

/// An ML-KEM decapsulation key (FIPS 203 "dk"). Move-only; the key material
/// lives in Botan's wiped memory.
///
/// Security: no copy, no comparison, no printing; encodings come back as
/// `secret_bytes`. `decapsulate` rejects implicitly (FIPS 203 Algorithm 18):
/// a ciphertext of the right length that was not made for this key gives a
/// pseudorandom secret, never an error, so the result is no oracle.
///
/// Errors: parsing returns `invalid_encoding` (length) or `invalid_key`
/// (FIPS 203 §7.3's hash check, or coefficients out of range) and never
/// throws; generation and encoding throw `sepal::error`.
template <kem K>
class decapsulation_key {
 public:
  using kem_type = K;  ///< the KEM tag

  /// ML-KEM.KeyGen (FIPS 203 Algorithm 19) with fresh d and z from `rng`.
  /// Errors: throws `sepal::error(errc::rng_failure)`.
  [[nodiscard]] static decapsulation_key generate(Botan::RandomNumberGenerator& rng = system_rng()) {
    return detail::or_throw(errc::rng_failure, [&] {
      return decapsulation_key(std::make_unique<Botan::ML_KEM_PrivateKey>(rng, detail::ml_kem_mode<K>()));
    });
  }

  /// ML-KEM.KeyGen_internal (FIPS 203 Algorithm 16) from the 64-byte seed
  /// d || z: the compact form FIPS 203 §7.1 recommends storing.
  /// Errors: `invalid_encoding` for any other length.
  [[nodiscard]] static result<decapsulation_key> from_seed(std::span<const std::uint8_t> seed) noexcept {
    if (seed.size() != K::seed_size) return errc::invalid_encoding;
    return detail::guarded<result<decapsulation_key>>(errc::invalid_key, [&]() -> result<decapsulation_key> {
      return decapsulation_key(std::make_unique<Botan::ML_KEM_PrivateKey>(seed, detail::ml_kem_mode<K>()));
    });
  }

  /// The expanded FIPS 203 encoding dk = dk_PKE || ek || H(ek) || z
  /// (`K::decapsulation_key_size` bytes), after FIPS 203 §7.3's input checks:
  /// the length (type check) and H(ek) against the stored hash (hash check).
  /// The embedded ek must also pass §7.2's modulus check.
  ///
  /// Errors: `invalid_encoding` (length), `invalid_key` (a check failed).
  [[nodiscard]] static result<decapsulation_key> from_expanded(std::span<const std::uint8_t> dk) noexcept {
    if (dk.size() != K::decapsulation_key_size) return errc::invalid_encoding;
    return detail::guarded<result<decapsulation_key>>(errc::invalid_key, [&]() -> result<decapsulation_key> {
      constexpr std::size_t pke = K::decapsulation_key_size - K::encapsulation_key_size - 64;  // 384·k
      const auto ek = dk.subspan(pke, K::encapsulation_key_size);
      const auto stored_hash = dk.subspan(pke + K::encapsulation_key_size, 32);
      auto h = Botan::HashFunction::create_or_throw(detail::algorithm<K>::key_hash);
      h->update(ek);
      const auto actual_hash = h->final_stdvec();
      if (!std::ranges::equal(actual_hash, stored_hash)) return errc::invalid_key;  // public values
      if (!detail::ml_kem_coefficients_reduced<K>(ek)) return errc::invalid_key;
      return decapsulation_key(std::make_unique<Botan::ML_KEM_PrivateKey>(dk, detail::ml_kem_mode<K>()));
    });
  }

  /// The matching encapsulation key.
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] sepal::encapsulation_key<K> encapsulation_key() const {
    return detail::or_throw(errc::internal_error, [&] {
      return sepal::encapsulation_key<K>(
          std::make_shared<const Botan::ML_KEM_PublicKey>(get().raw_public_key_bits(), detail::ml_kem_mode<K>()));
    });
  }

  /// True when the key was generated or read from its seed (so `to_seed`
  /// works); false for a key read in expanded form.
  [[nodiscard]] bool has_seed() const {
    return get().private_key_format() == Botan::MlPrivateKeyFormat::Seed;
  }

  /// The 64-byte seed d || z.
  /// Errors: throws `sepal::error(errc::invalid_argument)` for a key read in
  /// expanded form (the seed cannot be recovered from it).
  [[nodiscard]] secret_bytes to_seed() const {
    if (!has_seed()) throw error(errc::invalid_argument);
    return detail::or_throw(errc::internal_error, [&] {
      return secret_bytes(get().private_key_bits_with_format(Botan::MlPrivateKeyFormat::Seed));
    });
  }

  /// The expanded FIPS 203 encoding (`K::decapsulation_key_size` bytes).
  [[nodiscard]] secret_bytes to_expanded() const {
    return detail::or_throw(errc::internal_error, [&] {
      return secret_bytes(get().private_key_bits_with_format(Botan::MlPrivateKeyFormat::Expanded));
    });
  }

  /// ML-KEM.Decaps (FIPS 203 Algorithm 21): the shared secret of `ciphertext`.
  /// Never throws.
  ///
  /// Errors: `invalid_encoding` when the length is not `K::ciphertext_size`
  /// (FIPS 203 §7.3's ciphertext type check); `moved_from` on a moved-from
  /// key. Any other ciphertext succeeds: one not made for this key gives
  /// the implicit-rejection secret J(z || c), which fails later at the
  /// protocol's key confirmation.
  [[nodiscard]] result<secret_bytes> decapsulate(std::span<const std::uint8_t> ciphertext) const noexcept {
    if (!m_key) return errc::moved_from;
    if (ciphertext.size() != K::ciphertext_size) return errc::invalid_encoding;
    return detail::guarded<result<secret_bytes>>(errc::internal_error, [&]() -> result<secret_bytes> {
      Botan::PK_KEM_Decryptor dec(*m_key, system_rng(), detail::algorithm<K>::kdf);
      auto ss = dec.decrypt(ciphertext, K::shared_secret_size);
      if (ss.size() != K::shared_secret_size) return errc::internal_error;
      return secret_bytes(std::move(ss));
    });
  }

  /// The Botan key, for code that goes beyond sepal's API.
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] const Botan::ML_KEM_PrivateKey& botan() const { return get(); }

 private:
  explicit decapsulation_key(std::unique_ptr<Botan::ML_KEM_PrivateKey> key) noexcept : m_key(std::move(key)) {}

  const Botan::ML_KEM_PrivateKey& get() const {
    if (!m_key) throw error(errc::moved_from);
    return *m_key;
  }

  std::unique_ptr<Botan::ML_KEM_PrivateKey> m_key;
};

}  // namespace sepal

#endif
