#ifndef SEPAL_KEYS_HPP
#define SEPAL_KEYS_HPP

#include <botan/data_src.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pem.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "detail/bytes.hpp"
#include "detail/files.hpp"
#include "detail/key_ops.hpp"
#include "detail/test_keys.hpp"
#include "error.hpp"
#include "rng.hpp"
#include "secret.hpp"
#include "detail/memory.hpp"

namespace sepal {

/// How a NIST curve point is written in raw (SEC1) form.
enum class point_format {
  uncompressed,  ///< 0x04 || x || y
  compressed,    ///< 0x02/0x03 || x
};

/// The SHA-256 fingerprint of a public key's SubjectPublicKeyInfo DER.
using fingerprint = std::array<std::uint8_t, 32>;

/// A public key on `Curve`. Cheap to copy (the Botan key is shared and
/// immutable).
///
/// Errors: the parsing functions never throw; they return `invalid_encoding`
/// for bytes that do not parse, `wrong_algorithm` for a key of another
/// algorithm or curve, `invalid_key` for an off-curve or identity point.
template <curve Curve>
class public_key {
  using ops = detail::key_ops<Curve>;

 public:
  using curve_type = Curve;  ///< the curve tag

  /// Parses a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). Only the one
  /// canonical encoding `to_der()` gives is accepted (X.690 DER; uncompressed
  /// points for the NIST curves), so a key has exactly one DER encoding and
  /// one fingerprint: BER forms (long-form or indefinite lengths, trailing
  /// bytes, unused bits) and compressed points are `invalid_encoding`.
  [[nodiscard]] static result<public_key> from_der(std::span<const std::uint8_t> der) noexcept {
    return detail::guarded<result<public_key>>(errc::invalid_encoding, [&]() -> result<public_key> {
      if (der.empty() || der[0] != 0x30) return errc::invalid_encoding;  // DER only: no PEM sniffing
      auto key = from_botan(*detail::decode_spki(der));
      if (key && !std::ranges::equal(key->to_der(), der)) return errc::invalid_encoding;
      return key;
    });
  }

  /// Parses a PEM "PUBLIC KEY" block.
  [[nodiscard]] static result<public_key> from_pem(std::string_view pem) noexcept {
    return detail::guarded<result<public_key>>(errc::invalid_encoding, [&]() -> result<public_key> {
      const auto der = Botan::PEM_Code::decode_check_label(pem, detail::pem_public_key);
      return from_der(der);
    });
  }

  /// Parses raw bytes: a SEC1 compressed or uncompressed point for the NIST
  /// curves, the RFC 7748 / RFC 8032 encoding otherwise.
  ///
  /// Errors: `invalid_key` for bytes that are not a valid key; the same key
  /// checks as `from_der` (Botan's `check_key`: on curve, not the identity,
  /// not of small order for Ed25519/Ed448).
  [[nodiscard]] static result<public_key> from_raw(std::span<const std::uint8_t> raw) noexcept {
    return detail::guarded<result<public_key>>(errc::invalid_key, [&]() -> result<public_key> {
      auto key = ops::public_from_raw(raw);
      if (!key || !key->check_key(system_rng(), false)) return errc::invalid_key;
      return public_key(std::move(key));
    });
  }

  /// Reads a PEM public key file. Errors: `io_error` when it cannot be read.
  [[nodiscard]] static result<public_key> load_pem(const std::filesystem::path& path) noexcept {
    return detail::parse_file<result<public_key>>(path, [](std::string_view pem) { return from_pem(pem); });
  }

  /// The DER SubjectPublicKeyInfo (id-ecPublicKey with a named curve for the
  /// NIST curves, RFC 8410 for the others).
  [[nodiscard]] std::vector<std::uint8_t> to_der() const {
    return detail::or_throw(errc::internal_error, [&] { return get().subject_public_key(); });
  }

  /// The PEM "PUBLIC KEY" block.
  [[nodiscard]] std::string to_pem() const {
    return detail::or_throw(errc::internal_error, [&] { return Botan::X509::PEM_encode(get()); });
  }

  /// The raw encoding; `format` applies to the NIST curves only.
  [[nodiscard]] std::vector<std::uint8_t> to_raw(point_format format = point_format::uncompressed) const {
    return detail::or_throw(errc::internal_error,
                            [&] { return ops::public_to_raw(get(), format == point_format::compressed); });
  }

  /// Writes the PEM to `path` atomically, mode 0644.
  /// Errors: throws `sepal::error(errc::io_error)`.
  void save_pem(const std::filesystem::path& path) const {
    const std::string pem = to_pem();
    detail::write_file_atomically(path, sepal::detail::bytes_of(pem), 0644);
  }

  /// SHA-256 over the DER SubjectPublicKeyInfo: the same value as
  /// `openssl pkey -pubin -outform DER | sha256sum`.
  [[nodiscard]] sepal::fingerprint fingerprint() const {
    return detail::or_throw(errc::internal_error, [&] {
      sepal::fingerprint out{};
      auto h = Botan::HashFunction::create_or_throw(detail::algorithm<detail::fingerprint_hash>::hash);
      h->update(to_der());
      h->final(out);
      return out;
    });
  }

  /// Keys are equal when their encodings are (public data: not constant time).
  [[nodiscard]] friend bool operator==(const public_key& a, const public_key& b) {
    return a.to_raw() == b.to_raw();
  }

  /// The Botan key, for code that goes beyond sepal's API.
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] const typename ops::public_type& botan() const { return get(); }

  /// A shared handle on the Botan key (for objects that must outlive this one).
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] std::shared_ptr<const typename ops::public_type> botan_shared() const {
    (void)get();
    return m_key;
  }

 private:
  template <curve>
  friend class private_key;

  const typename ops::public_type& get() const {
    if (!m_key) throw error(errc::moved_from);
    return *m_key;
  }

  explicit public_key(std::shared_ptr<const typename ops::public_type> key) noexcept : m_key(std::move(key)) {}

  static result<public_key> from_botan(const Botan::Public_Key& parsed) {
    auto key = ops::accept_public(parsed);
    if (!key) return errc::wrong_algorithm;
    if (!key->check_key(system_rng(), false)) return errc::invalid_key;
    return public_key(std::move(key));
  }

  std::shared_ptr<const typename ops::public_type> m_key;
};

/// A private key on `Curve`. Move-only; the key material lives in Botan's
/// wiped memory.
///
/// Security: no copy, no comparison, no printing. Encodings of the private key
/// come back as `secret_bytes`. For the NIST curves one scalar serves ECDSA
/// and ECDH (as in the original system); use separate keys per purpose where
/// a protocol calls for it.
///
/// Errors: parsing returns `invalid_encoding`, `wrong_algorithm` or
/// `invalid_key` and never throws; generation and encoding throw
/// `sepal::error` on RNG or internal failure.
template <curve Curve>
class private_key {
  using ops = detail::key_ops<Curve>;

 public:
  using curve_type = Curve;  ///< the curve tag

  /// A fresh key from `rng`.
  [[nodiscard]] static private_key generate(Botan::RandomNumberGenerator& rng = system_rng()) {
    return detail::or_throw(errc::rng_failure, [&] { return private_key(ops::generate(rng)); });
  }

  /// Parses an unencrypted DER PKCS#8 PrivateKeyInfo (RFC 5208/5958).
  [[nodiscard]] static result<private_key> from_der(std::span<const std::uint8_t> der) noexcept {
    return detail::guarded<result<private_key>>(errc::invalid_encoding, [&]() -> result<private_key> {
      if (der.empty() || der[0] != 0x30) return errc::invalid_encoding;
      return accept(detail::decode_pkcs8(der));
    });
  }

  /// Parses a PEM "PRIVATE KEY" block (unencrypted PKCS#8).
  [[nodiscard]] static result<private_key> from_pem(std::string_view pem) noexcept {
    return detail::guarded<result<private_key>>(errc::invalid_encoding, [&]() -> result<private_key> {
      const auto der = Botan::PEM_Code::decode_check_label(pem, detail::pem_private_key);
      return from_der(der);
    });
  }

  /// Parses a PEM "ENCRYPTED PRIVATE KEY" block (PKCS#8 PBES2) with
  /// `password`. A wrong password gives `invalid_encoding`.
  [[nodiscard]] static result<private_key> from_pem(std::string_view pem, std::string_view password) noexcept {
    return detail::guarded<result<private_key>>(errc::invalid_encoding, [&]() -> result<private_key> {
      const auto der = Botan::PEM_Code::decode_check_label(pem, detail::pem_encrypted_private_key);
      Botan::DataSource_Memory source(der);
      return accept(Botan::PKCS8::load_key(source, password));
    });
  }

  /// Parses the raw private key: the big-endian scalar (NIST curves), the
  /// RFC 7748 private key or the RFC 8032 seed.
  [[nodiscard]] static result<private_key> from_raw(std::span<const std::uint8_t> raw) noexcept {
    return detail::guarded<result<private_key>>(errc::invalid_key, [&]() -> result<private_key> {
      auto key = ops::private_from_raw(raw);
      if (!key) return errc::invalid_key;
      return private_key(std::move(key));
    });
  }

  /// Reads a PEM private key file (unencrypted PKCS#8).
  [[nodiscard]] static result<private_key> load_pem(const std::filesystem::path& path) noexcept {
    return detail::parse_file<result<private_key>>(path, [](std::string_view pem) { return from_pem(pem); });
  }

  /// Reads a password-encrypted PEM private key file.
  [[nodiscard]] static result<private_key> load_pem(const std::filesystem::path& path,
                                                    std::string_view password) noexcept {
    return detail::parse_file<result<private_key>>(path, [&](std::string_view pem) { return from_pem(pem, password); });
  }

  /// A fixed, published key pair (the RFC 6979, RFC 7748 or RFC 8032 test
  /// key for this curve; see detail/test_keys.hpp).
  ///
  /// Security: everyone knows this private key. For tests and examples only;
  /// nothing in sepal ever uses it as a default.
  [[nodiscard]] static private_key unsafe_test_key() {
    const auto raw = Botan::hex_decode_locked(detail::test_key<Curve>::hex);
    return from_raw(raw).value();
  }

  /// The matching public key.
  [[nodiscard]] sepal::public_key<Curve> public_key() const {
    return detail::or_throw(errc::internal_error, [&] {
      return sepal::public_key<Curve>(ops::public_from_raw(ops::public_to_raw(get(), false)));
    });
  }

  /// The unencrypted DER PKCS#8 encoding.
  [[nodiscard]] secret_bytes to_der() const {
    return detail::or_throw(errc::internal_error, [&] { return secret_bytes(Botan::PKCS8::BER_encode(get())); });
  }

  /// The unencrypted PEM "PRIVATE KEY" block.
  [[nodiscard]] secret_bytes to_pem() const {
    return detail::or_throw(errc::internal_error, [&] {
      std::string pem = Botan::PEM_Code::encode(Botan::PKCS8::BER_encode(get()), detail::pem_private_key);
      auto out = secret_bytes::copy_of(sepal::detail::bytes_of(pem));
      sepal::detail::wipe(pem.data(), pem.size());  // Botan's PEM encoder returns a plain string
      return out;
    });
  }

  /// A PEM "ENCRYPTED PRIVATE KEY" block: PKCS#8 PBES2 with PBKDF2-SHA-512
  /// and AES-256-CBC (detail/botan_algorithms.hpp), readable by OpenSSL.
  [[nodiscard]] std::string to_pem(std::string_view password, Botan::RandomNumberGenerator& rng = system_rng()) const {
    return detail::or_throw(errc::internal_error, [&] {
      return Botan::PKCS8::PEM_encode_encrypted_pbkdf_iter(get(), rng, password, detail::pkcs8_pbkdf_iterations,
                                                           detail::pkcs8_cipher, detail::pkcs8_pbkdf_hash);
    });
  }

  /// The raw private key (see `from_raw`).
  [[nodiscard]] secret_bytes to_raw() const {
    return detail::or_throw(errc::internal_error, [&] { return secret_bytes(ops::private_to_raw(get())); });
  }

  /// Writes the unencrypted PEM to `path` atomically with mode 0600.
  /// Errors: throws `sepal::error(errc::io_error)`.
  void save_pem(const std::filesystem::path& path) const {
    const auto pem = to_pem();
    detail::write_file_atomically(path, pem.reveal(), 0600);
  }

  /// Writes the password-encrypted PEM to `path` atomically with mode 0600.
  void save_pem(const std::filesystem::path& path, std::string_view password,
                Botan::RandomNumberGenerator& rng = system_rng()) const {
    const auto pem = to_pem(password, rng);
    detail::write_file_atomically(path, sepal::detail::bytes_of(pem), 0600);
  }

  /// The Botan key (ECDSA for the NIST curves), for code that goes beyond
  /// sepal's API. Errors: throws `sepal::error(errc::moved_from)` on a
  /// moved-from key (as every accessor does).
  [[nodiscard]] const typename ops::private_type& botan() const { return get(); }

  /// The Botan key for key agreement: the ECDH twin on the NIST curves.
  /// Errors: throws `sepal::error(errc::moved_from)` on a moved-from key.
  [[nodiscard]] const Botan::Private_Key& botan_agreement() const
    requires Curve::agrees
  {
    if constexpr (detail::is_weierstrass<Curve>) {
      (void)get();
      return *m_agree;
    } else {
      return get();
    }
  }

 private:
  const typename ops::private_type& get() const {
    if (!m_key) throw error(errc::moved_from);
    return *m_key;
  }

  explicit private_key(std::unique_ptr<typename ops::private_type> key) : m_key(std::move(key)) {
    if constexpr (detail::is_weierstrass<Curve>) m_agree = ops::agreement_key(*m_key);
  }

  static result<private_key> accept(std::unique_ptr<Botan::Private_Key> parsed) {
    auto key = ops::accept_private(std::move(parsed));
    if (!key) return errc::wrong_algorithm;
    if (!key->check_key(system_rng(), false)) return errc::invalid_key;
    return private_key(std::move(key));
  }


  struct no_agreement {};
  using agreement_ptr = std::conditional_t<detail::is_weierstrass<Curve>, std::unique_ptr<Botan::Private_Key>, no_agreement>;

  std::unique_ptr<typename ops::private_type> m_key;
  [[no_unique_address]] agreement_ptr m_agree;
};

}  // namespace sepal

#endif
