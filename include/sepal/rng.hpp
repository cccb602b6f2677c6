#ifndef SEPAL_RNG_HPP
#define SEPAL_RNG_HPP

#include <botan/rng.h>
#include <botan/system_rng.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace sepal {

/// The operating system's RNG (getrandom on Linux), shared and thread-safe.
/// Every sepal function that generates takes a `Botan::RandomNumberGenerator&`
/// that defaults to this one.
///
/// Security: no user-space state to fork or snapshot; far cheaper per call
/// than a freshly seeded AutoSeeded_RNG, which matters for handshake rates.
[[nodiscard]] inline Botan::RandomNumberGenerator& system_rng() noexcept { return Botan::system_rng(); }

/// `N` random bytes from `rng`.
///
/// Errors: throws `sepal::error` (`rng_failure`) when the RNG fails.
template <std::size_t N>
[[nodiscard]] std::array<std::uint8_t, N> random_bytes(Botan::RandomNumberGenerator& rng = system_rng());

}  // namespace sepal

#include "error.hpp"

template <std::size_t N>
std::array<std::uint8_t, N> sepal::random_bytes(Botan::RandomNumberGenerator& rng) {
  std::array<std::uint8_t, N> out{};
  try {
    rng.randomize(out);
  } catch (...) {
    throw error(errc::rng_failure);
  }
  return out;
}

#endif
