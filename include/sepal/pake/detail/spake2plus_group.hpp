#ifndef SEPAL_PAKE_DETAIL_SPAKE2PLUS_GROUP_HPP
#define SEPAL_PAKE_DETAIL_SPAKE2PLUS_GROUP_HPP

// What sepal's SPAKE2+ keeps next to Botan's (botan/spake2p.h, Botan 3.13):
// the Botan system parameters of each suite, the checks that run before any
// peer byte reaches a Botan context (whose state is spent by an exception),
// and the RFC 9383 §3.2 length-prefixed encoding of the password KDF input
// (Botan's is private to its Argon2id-only `from_password`). The group
// arithmetic, M and N, the transcript TT and the confirmation MACs are
// Botan's.

#include <botan/build.h>
#include <botan/ec_apoint.h>
#include <botan/ec_group.h>
#include <botan/ec_scalar.h>
#include <botan/secmem.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "../../detail/botan_algorithms.hpp"
#include "../../detail/bytes.hpp"
#include "../suite.hpp"

#if defined(BOTAN_HAS_PAKE_SPAKE2PLUS)
  #include <botan/spake2p.h>
#else
  #error "sepal's SPAKE2+ needs Botan 3.13 or later built with the spake2p module (tools/botan-modules.txt)"
#endif

namespace sepal::pake::detail {

/// Botan's RFC 9383 system parameters for `Suite` (group, M, N, hash),
/// built once per process.
///
/// Errors: throws Botan's exception when the linked Botan lacks the curve
/// (callers run it under `or_throw`/`guarded`).
template <spake2plus_suite Suite>
[[nodiscard]] const Botan::SPAKE2p::SystemParameters& parameters() {
  using P = Botan::SPAKE2p::SystemParameters;
  static const P params = [] {
    if constexpr (std::same_as<Suite, p256_sha256>) return P::rfc9383_p256_sha256();
    else if constexpr (std::same_as<Suite, p256_sha512>) return P::rfc9383_p256_sha512();
    else if constexpr (std::same_as<Suite, p384_sha256>) return P::rfc9383_p384_sha256();
    else if constexpr (std::same_as<Suite, p384_sha512>) return P::rfc9383_p384_sha512();
    else return P::rfc9383_p521_sha512();
  }();
  return params;
}

/// The suite's group (for scalars and L at registration).
template <spake2plus_suite Suite>
[[nodiscard]] const Botan::EC_Group& group() {
  return parameters<Suite>().group();
}

/// True for a share Botan will accept: SEC1 uncompressed, of the suite's
/// size, on the curve (RFC 9383 §3.3: shares are validated before use; the
/// identity has no uncompressed encoding and h = 1 on NIST groups). Checked
/// before a share reaches a Botan context, so a malformed one spends
/// nothing. Never throws.
template <spake2plus_suite Suite>
[[nodiscard]] bool is_share(std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() != Suite::point_size || bytes[0] != 0x04) return false;
  try {
    return Botan::EC_AffinePoint::deserialize_uncompressed(group<Suite>(), bytes).has_value();
  } catch (...) {
    return false;
  }
}

/// A canonical scalar: exactly `scalar_size` bytes, below the order.
template <spake2plus_suite Suite>
[[nodiscard]] std::optional<Botan::EC_Scalar> scalar(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != Suite::scalar_size) return std::nullopt;
  return Botan::EC_Scalar::deserialize(group<Suite>(), bytes);
}

/// RFC 9383 §3.2's PBKDF input, len(pw) || pw || len(idProver) || idProver
/// || len(idVerifier) || idVerifier, each length 8 bytes little-endian (the
/// encoding TT also uses, §3.3).
class length_prefixed {
 public:
  length_prefixed& add(std::span<const std::uint8_t> field) {
    for (int i = 0; i < 8; ++i) m_bytes.push_back(static_cast<std::uint8_t>(std::uint64_t{field.size()} >> (8 * i)));
    m_bytes.insert(m_bytes.end(), field.begin(), field.end());
    return *this;
  }
  length_prefixed& add(std::string_view field) { return add(sepal::detail::bytes_of(field)); }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return m_bytes; }

 private:
  Botan::secure_vector<std::uint8_t> m_bytes;  // holds the password
};

}  // namespace sepal::pake::detail

#endif
