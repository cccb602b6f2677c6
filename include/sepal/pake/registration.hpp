#ifndef SEPAL_PAKE_REGISTRATION_HPP
#define SEPAL_PAKE_REGISTRATION_HPP

#include <botan/ec_apoint.h>
#include <botan/ec_scalar.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "../detail/boundary.hpp"
#include "../detail/wire.hpp"
#include "../error.hpp"
#include "../rng.hpp"
#include "../secret.hpp"
#include "detail/spake2plus_group.hpp"
#include "password_kdf.hpp"
#include "suite.hpp"
#include "../detail/memory.hpp"

namespace sepal::pake {

/// The prover's (client's) password-derived secrets w0 and w1 (RFC 9383
/// §3.2). The client derives them at every login; they never leave it.
///
/// Security: password-equivalent. Held in wiped memory, move-only.
template <spake2plus_suite Suite = default_spake2plus_suite>
class prover_secrets {
 public:
  /// Salt bytes `register_password` draws for each record.
  static constexpr std::size_t salt_size = 16;

  /// RFC 9383 §3.2: w0s || w1s = PBKDF(len(pw) || pw || len(idProver) ||
  /// idProver || len(idVerifier) || idVerifier), w0 = w0s mod p, w1 = w1s
  /// mod p, with `kdf` and `salt` as the PBKDF.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` for an `external` KDF
  /// or parameters Botan rejects.
  [[nodiscard]] static prover_secrets derive(std::string_view password, std::string_view prover_id,
                                             std::string_view verifier_id, const password_kdf& kdf,
                                             std::span<const std::uint8_t> salt) {
    if (kdf.which == password_kdf::function::external) throw error(errc::invalid_argument);
    detail::length_prefixed input;  // RFC 9383 §3.2
    input.add(password).add(prover_id).add(verifier_id);
    const auto bytes = input.bytes();
    Botan::secure_vector<std::uint8_t> seed(2 * Suite::w_seed_size);
    pake::detail::run_password_kdf(
        kdf, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), salt, seed);
    return from_seed(seed);
  }

  /// The prehashed entry point: w0s || w1s from another password KDF, each
  /// half at least `Suite::w_seed_size` bytes (RFC 9383 §3.2: ceil(log2(p))
  /// + 64 bits) and at most twice the scalar size, reduced mod p.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` for other lengths.
  [[nodiscard]] static prover_secrets from_seed(std::span<const std::uint8_t> w0s_w1s) {
    const std::size_t half = w0s_w1s.size() / 2;
    if (w0s_w1s.size() % 2 != 0 || half < Suite::w_seed_size || half > 2 * Suite::scalar_size)
      throw error(errc::invalid_argument);
    return sepal::detail::or_throw(errc::internal_error, [&] {
      const auto& grp = detail::group<Suite>();
      const auto w0 = Botan::EC_Scalar::from_bytes_mod_order(grp, w0s_w1s.first(half));
      const auto w1 = Botan::EC_Scalar::from_bytes_mod_order(grp, w0s_w1s.subspan(half));
      if (w1.is_zero()) throw error(errc::invalid_argument);  // L would be the identity
      return prover_secrets(secret_bytes(w0.template serialize<Botan::secure_vector<std::uint8_t>>()),
                            secret_bytes(w1.template serialize<Botan::secure_vector<std::uint8_t>>()));
    });
  }

  /// w0 and w1 as canonical big-endian scalars (another implementation's
  /// values, or RFC 9383 Appendix C).
  ///
  /// Errors: `invalid_encoding` unless both are `Suite::scalar_size` bytes
  /// below the group order and w1 is not zero.
  [[nodiscard]] static result<prover_secrets> from_scalars(std::span<const std::uint8_t> w0,
                                                           std::span<const std::uint8_t> w1) noexcept {
    return sepal::detail::guarded<result<prover_secrets>>(errc::invalid_encoding, [&]() -> result<prover_secrets> {
      const auto s0 = detail::scalar<Suite>(w0);
      const auto s1 = detail::scalar<Suite>(w1);
      if (!s0 || !s1 || s1->is_zero()) return errc::invalid_encoding;
      return prover_secrets(secret_bytes::copy_of(w0), secret_bytes::copy_of(w1));
    });
  }

  /// w0, big-endian, `Suite::scalar_size` bytes.
  [[nodiscard]] const secret_bytes& w0() const noexcept { return m_w0; }
  /// w1, big-endian, `Suite::scalar_size` bytes.
  [[nodiscard]] const secret_bytes& w1() const noexcept { return m_w1; }

  /// L = w1 * P, what the verifier stores instead of w1 (RFC 9383 §3.2).
  [[nodiscard]] std::array<std::uint8_t, Suite::point_size> verifier_point() const {
    return sepal::detail::or_throw(errc::internal_error, [&] {
      std::array<std::uint8_t, Suite::point_size> out{};
      Botan::EC_AffinePoint::g_mul(detail::scalar<Suite>(m_w1.reveal()).value(), system_rng())
          .serialize_uncompressed_to(out);
      return out;
    });
  }

 private:
  prover_secrets(secret_bytes w0, secret_bytes w1) noexcept : m_w0(std::move(w0)), m_w1(std::move(w1)) {}

  secret_bytes m_w0;
  secret_bytes m_w1;
};

/// What the server stores for one user (RFC 9383 §3.2: w0 and L), with the
/// salt and KDF parameters the client needs to derive w0 and w1 again.
/// Nothing in it is password-equivalent: logging in needs w1, which only
/// the password gives.
///
/// Security: w0 and L still let an attacker test password guesses offline
/// at the KDF's cost, and let them pose as the server: protect records like
/// password hashes. Move-only; w0 lives in wiped memory.
template <spake2plus_suite Suite = default_spake2plus_suite>
class verifier_record {
 public:
  /// The encoding version `serialize` writes and `parse` reads.
  static constexpr std::uint8_t format_version = 1;
  /// Shortest and longest salts a record holds (none for `external`).
  static constexpr std::size_t min_salt_size = 16, max_salt_size = 64;

  /// The record for `secrets`, derived with `kdf` and `salt`.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` for a salt of the wrong
  /// size (empty exactly when `kdf` is `external`).
  [[nodiscard]] static verifier_record create(const prover_secrets<Suite>& secrets, const password_kdf& kdf,
                                              std::span<const std::uint8_t> salt) {
    if (!salt_fits(kdf, salt.size())) throw error(errc::invalid_argument);
    return verifier_record(secret_bytes::copy_of(secrets.w0().reveal()), secrets.verifier_point(), kdf,
                           std::vector<std::uint8_t>(salt.begin(), salt.end()));
  }

  /// w0, big-endian.
  [[nodiscard]] const secret_bytes& w0() const noexcept { return m_w0; }
  /// L, SEC1 uncompressed.
  [[nodiscard]] std::span<const std::uint8_t> verifier_point() const noexcept { return m_l; }
  /// The client's password KDF and its parameters.
  [[nodiscard]] const password_kdf& kdf() const noexcept { return m_kdf; }
  /// The per-user salt.
  [[nodiscard]] std::span<const std::uint8_t> salt() const noexcept { return m_salt; }

  /// The stored form: version, suite id, KDF (function and three 32-bit
  /// parameters), salt<1>, w0, L. Secret (it holds w0).
  [[nodiscard]] secret_bytes serialize() const {
    std::vector<std::uint8_t> out;
    sepal::detail::wire_writer w(out);
    w.u8(format_version).u8(Suite::id);
    write_kdf(w, m_kdf);
    w.u8(static_cast<std::uint8_t>(m_salt.size())).bytes(m_salt).bytes(m_w0.reveal()).bytes(m_l);
    auto s = secret_bytes::copy_of(out);
    sepal::detail::wipe(out.data(), out.size());
    return s;
  }

  /// Parses what `serialize` wrote. Never throws.
  ///
  /// Errors: `invalid_encoding` for anything else: another version or
  /// suite, trailing bytes, a KDF outside `limits`, a salt of the wrong
  /// size, w0 not below the order, L not a point or the identity.
  [[nodiscard]] static result<verifier_record> parse(std::span<const std::uint8_t> bytes,
                                                     const password_kdf_limits& limits = {}) noexcept {
    return sepal::detail::guarded<result<verifier_record>>(errc::invalid_encoding, [&]() -> result<verifier_record> {
      sepal::detail::wire_reader r(bytes);
      const bool header_ok = r.u8() == format_version && r.u8() == Suite::id;
      const auto kdf = read_kdf(r);
      const auto salt = r.bytes(r.u8());
      const auto w0 = r.bytes(Suite::scalar_size);
      const auto l = r.bytes(Suite::point_size);
      if (!header_ok || !r.at_end() || !kdf || !allowed(*kdf, limits) || !salt_fits(*kdf, salt.size()))
        return errc::invalid_encoding;
      if (!detail::scalar<Suite>(w0) || !detail::is_share<Suite>(l)) return errc::invalid_encoding;
      std::array<std::uint8_t, Suite::point_size> point{};
      std::copy(l.begin(), l.end(), point.begin());
      return verifier_record(secret_bytes::copy_of(w0), point, *kdf, std::vector<std::uint8_t>(salt.begin(), salt.end()));
    });
  }

  /// Writes a KDF as the record and the login protocol encode it.
  static void write_kdf(sepal::detail::wire_writer& w, const password_kdf& kdf) {
    w.u8(static_cast<std::uint8_t>(kdf.which));
    for (std::uint32_t v : {kdf.memory_or_n, kdf.iterations_or_r, kdf.parallelism}) {
      w.u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
    }
  }
  /// Reads what `write_kdf` wrote; nullopt for an unknown function.
  static std::optional<password_kdf> read_kdf(sepal::detail::wire_reader& r) noexcept {
    const auto which = r.u8();
    std::array<std::uint32_t, 3> v{};
    for (auto& x : v) x = static_cast<std::uint32_t>(r.u16()) << 16 | r.u16();
    if (which < 1 || which > 3) return std::nullopt;
    return password_kdf{static_cast<password_kdf::function>(which), v[0], v[1], v[2]};
  }
  /// True when `kdf` is within `limits`, or is `external` with zero parameters.
  static bool allowed(const password_kdf& kdf, const password_kdf_limits& limits) noexcept {
    if (kdf.which == password_kdf::function::external) return kdf == password_kdf::external();
    return limits.allow(kdf);
  }

 private:
  verifier_record(secret_bytes w0, const std::array<std::uint8_t, Suite::point_size>& l, const password_kdf& kdf,
                  std::vector<std::uint8_t> salt)
      : m_w0(std::move(w0)), m_l(l), m_kdf(kdf), m_salt(std::move(salt)) {}

  static bool salt_fits(const password_kdf& kdf, std::size_t n) noexcept {
    if (kdf.which == password_kdf::function::external) return n == 0;
    return n >= min_salt_size && n <= max_salt_size;
  }

  secret_bytes m_w0;
  std::array<std::uint8_t, Suite::point_size> m_l;
  password_kdf m_kdf;
  std::vector<std::uint8_t> m_salt;
};

/// Registration in one call (RFC 9383 §3.2): a fresh random salt, the
/// password KDF, and the record for the server to store. Run it where the
/// password is (the client, or an enrolment service over a trusted channel).
///
/// Errors: throws `sepal::error` for KDF parameters Botan rejects or an RNG
/// failure.
template <spake2plus_suite Suite = default_spake2plus_suite>
[[nodiscard]] verifier_record<Suite> register_password(std::string_view password, std::string_view prover_id,
                                                       std::string_view verifier_id,
                                                       const password_kdf& kdf = password_kdf::argon2id(),
                                                       Botan::RandomNumberGenerator& rng = system_rng()) {
  const auto salt = random_bytes<prover_secrets<Suite>::salt_size>(rng);
  const auto secrets = prover_secrets<Suite>::derive(password, prover_id, verifier_id, kdf, salt);
  return verifier_record<Suite>::create(secrets, kdf, salt);
}

}  // namespace sepal::pake

#endif
