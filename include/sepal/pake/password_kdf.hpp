#ifndef SEPAL_PAKE_PASSWORD_KDF_HPP
#define SEPAL_PAKE_PASSWORD_KDF_HPP

#include <botan/pwdhash.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "../detail/botan_algorithms.hpp"
#include "../detail/boundary.hpp"
#include "../error.hpp"
#include "../secret.hpp"

namespace sepal::pake {

/// The memory-hard function that turns a password into SPAKE2+'s w0s || w1s
/// (RFC 9383 §3.2 "PBKDF"), with its cost parameters. A verifier record
/// stores these so the client can repeat the derivation at login.
///
/// Security: the defaults are RFC 9106 §4's second recommended option for
/// Argon2id (64 MiB, t = 3, p = 4) and, for scrypt, RFC 7914 parameters at
/// the same memory (N = 2^16, r = 8, p = 1). Both run at every login, on the
/// client: pick the most your slowest client tolerates.
struct password_kdf {
  /// Which function; the values are the record and wire encoding.
  enum class function : std::uint8_t {
    argon2id = 1,  ///< RFC 9106 Argon2id: memory (KiB), iterations, lanes
    scrypt = 2,    ///< RFC 7914 scrypt: N, r, p
    external = 3,  ///< the client derives w0s || w1s itself (prehashed); no parameters
  };

  function which = function::argon2id;
  std::uint32_t memory_or_n = 65536;  ///< Argon2id m (KiB) / scrypt N
  std::uint32_t iterations_or_r = 3;  ///< Argon2id t / scrypt r
  std::uint32_t parallelism = 4;      ///< Argon2id p / scrypt p

  /// Argon2id with memory `memory_kib` KiB, `iterations` passes and
  /// `parallelism` lanes.
  [[nodiscard]] static constexpr password_kdf argon2id(std::uint32_t memory_kib = 65536, std::uint32_t iterations = 3,
                                                       std::uint32_t parallelism = 4) noexcept {
    return {function::argon2id, memory_kib, iterations, parallelism};
  }
  /// scrypt with cost `n` (a power of two), block size `r` and parallelism `p`.
  [[nodiscard]] static constexpr password_kdf scrypt(std::uint32_t n = 65536, std::uint32_t r = 8,
                                                     std::uint32_t p = 1) noexcept {
    return {function::scrypt, n, r, p};
  }

  /// A record made from prehashed secrets (`prover_secrets::from_seed`).
  [[nodiscard]] static constexpr password_kdf external() noexcept { return {function::external, 0, 0, 0}; }

  /// The memory one derivation needs, in KiB.
  [[nodiscard]] constexpr std::uint64_t memory_kib() const noexcept {
    if (which == function::argon2id) return memory_or_n;
    return std::uint64_t{memory_or_n} * iterations_or_r / 8;  // 128 * N * r bytes
  }

  friend constexpr bool operator==(const password_kdf&, const password_kdf&) = default;
};

/// What a client accepts from a server before running its password KDF, and
/// what a record parser accepts: a hostile server (or a forged params
/// message) must not be able to make a client allocate much memory or spin.
///
/// The defaults admit exactly what the registration defaults need and no
/// more: Argon2id with m <= 64 MiB, t <= 3, p <= 4 (`password_kdf::argon2id()`)
/// and scrypt with 128 * N * r * p <= 64 MiB (`password_kdf::scrypt()`: N =
/// 2^16, r = 8, p = 1). scrypt's p counts against the memory bound because
/// its p ROMix runs each take the full N * r work (RFC 7914 §5), so the
/// bound caps its time as well. Records registered with costlier parameters
/// need these raised, on the client (`login_client_config::limits`) and
/// where records are parsed (`verifier_record::parse`, `file_user_store`).
///
/// Security: there is deliberately no floor. Weak parameters only weaken
/// the server's own stored record; on the wire SPAKE2+ gives an attacker one
/// online guess per exchange whatever the KDF (RFC 9383 §5).
struct password_kdf_limits {
  std::uint64_t max_memory_kib = 65536;  ///< 64 MiB: Argon2id m; scrypt 128 * N * r * p bytes
  std::uint32_t max_iterations = 3;      ///< Argon2id t
  std::uint32_t max_parallelism = 4;     ///< Argon2id lanes / scrypt p

  /// True when `kdf` is well formed and within these limits.
  [[nodiscard]] constexpr bool allow(const password_kdf& kdf) const noexcept {
    if (kdf.parallelism == 0 || kdf.parallelism > max_parallelism) return false;
    if (kdf.memory_kib() > max_memory_kib) return false;
    switch (kdf.which) {
      case password_kdf::function::argon2id:  // RFC 9106 §3.1: m >= 8 * p KiB, t >= 1
        return kdf.iterations_or_r >= 1 && kdf.iterations_or_r <= max_iterations &&
               kdf.memory_or_n >= 8 * std::uint64_t{kdf.parallelism};
      case password_kdf::function::scrypt:  // RFC 7914 §2: N > 1 a power of two; p runs of N * r work
        return kdf.memory_or_n > 1 && (kdf.memory_or_n & (kdf.memory_or_n - 1)) == 0 && kdf.iterations_or_r >= 1 &&
               kdf.iterations_or_r <= 32 && kdf.memory_kib() * kdf.parallelism <= max_memory_kib;
      case password_kdf::function::external:  // nothing to run
        return false;
    }
    return false;
  }
};

namespace detail {

/// Runs `kdf` over `input` and `salt` into `out` (Botan's PasswordHash).
///
/// Errors: throws `sepal::error(invalid_argument)` for parameters Botan
/// rejects; callers check `password_kdf_limits::allow` first.
inline void run_password_kdf(const password_kdf& kdf, std::string_view input, std::span<const std::uint8_t> salt,
                             std::span<std::uint8_t> out) {
  static_assert(sepal::detail::botan_argon2 && sepal::detail::botan_scrypt,
                "sepal: SPAKE2+ registration needs Botan's argon2 and scrypt modules");
  sepal::detail::or_throw(errc::invalid_argument, [&] {
    const auto name =
        kdf.which == password_kdf::function::argon2id ? sepal::detail::argon2id : sepal::detail::scrypt;
    const auto family = Botan::PasswordHashFamily::create_or_throw(name);
    const auto hash = family->from_params(kdf.memory_or_n, kdf.iterations_or_r, kdf.parallelism);
    hash->hash(out, input, salt);
  });
}

}  // namespace detail

}  // namespace sepal::pake

#endif
