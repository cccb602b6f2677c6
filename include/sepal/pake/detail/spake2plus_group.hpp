#ifndef SEPAL_PAKE_DETAIL_SPAKE2PLUS_GROUP_HPP
#define SEPAL_PAKE_DETAIL_SPAKE2PLUS_GROUP_HPP

// The group arithmetic SPAKE2+ needs, on Botan's EC_AffinePoint and EC_Scalar:
// the suite's group, its M and N points, point and scalar decoding that
// rejects everything RFC 9383 §3.3 says to reject, and the RFC 9383 §3.3
// transcript TT with its 8-byte little-endian length prefixes.

#include <botan/ec_apoint.h>
#include <botan/ec_group.h>
#include <botan/ec_scalar.h>
#include <botan/hex.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "../../detail/botan_algorithms.hpp"
#include "../../detail/bytes.hpp"
#include "../suite.hpp"

namespace sepal::pake::detail {

/// M and N for SPAKE2 and SPAKE2+ on each NIST group, compressed, as
/// RFC 9382 §6 lists them (the seeds are the group's OID strings hashed to a
/// point with unknown discrete log).
template <class Curve>
struct spake2_points;
template <>
struct spake2_points<p256> {
  static constexpr std::string_view m = "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
  static constexpr std::string_view n = "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";
};
template <>
struct spake2_points<p384> {
  static constexpr std::string_view m =
      "030ff0895ae5ebf6187080a82d82b42e2765e3b2f8749c7e05eba366434b363d3dc36f15314739074d2eb8613fceec2853";
  static constexpr std::string_view n =
      "02c72cf2e390853a1c1c4ad816a62fd15824f56078918f43f922ca21518f9c543bb252c5490214cf9aa3f0baab4b665c10";
};
template <>
struct spake2_points<p521> {
  static constexpr std::string_view m =
      "02003f06f38131b2ba2600791e82488e8d20ab889af753a41806c5db18d37d85608cfae06b82e4a72cd744c719193562a653ea1f"
      "119eef9356907edc9b56979962d7aa";
  static constexpr std::string_view n =
      "0200c7924b9ec017f3094562894336a53c50167ba8c5963876880542bc669e494b2532d76c5b53dfb349fdf69154b9e0048c58a4"
      "2e8ed04cef052a3bc349d95575cd25";
};

/// The group of `Suite`, built once per process (Botan's EC_Group shares
/// its data, so copies are cheap).
template <spake2plus_suite Suite>
struct group {
  using curve = typename Suite::curve;

  Botan::EC_Group g;
  Botan::EC_AffinePoint p;  // the generator P
  Botan::EC_AffinePoint m;
  Botan::EC_AffinePoint n;
  std::array<std::uint8_t, Suite::point_size> m_bytes{};
  std::array<std::uint8_t, Suite::point_size> n_bytes{};

  [[nodiscard]] static const group& get() {
    static const group instance;
    return instance;
  }

  /// A peer's point: SEC1 uncompressed, on the curve, not the identity
  /// (RFC 9383 §3.3: shares are validated before use; h = 1 on NIST groups).
  [[nodiscard]] std::optional<Botan::EC_AffinePoint> point(std::span<const std::uint8_t> bytes) const {
    if (bytes.size() != Suite::point_size || bytes[0] != 0x04) return std::nullopt;
    auto pt = Botan::EC_AffinePoint::deserialize(g, bytes);
    if (!pt || pt->is_identity()) return std::nullopt;
    return pt;
  }

  /// A canonical scalar: exactly `scalar_size` bytes, below the order.
  [[nodiscard]] std::optional<Botan::EC_Scalar> scalar(std::span<const std::uint8_t> bytes) const {
    if (bytes.size() != Suite::scalar_size) return std::nullopt;
    return Botan::EC_Scalar::deserialize(g, bytes);
  }

  [[nodiscard]] static std::array<std::uint8_t, Suite::point_size> encode(const Botan::EC_AffinePoint& pt) {
    std::array<std::uint8_t, Suite::point_size> out{};
    pt.serialize_uncompressed_to(out);
    return out;
  }

 private:
  group()
      : g(Botan::EC_Group::from_name(sepal::detail::algorithm<curve>::group)),
        p(Botan::EC_AffinePoint::generator(g)),
        m(g, Botan::hex_decode(spake2_points<curve>::m)),
        n(g, Botan::hex_decode(spake2_points<curve>::n)),
        m_bytes(encode(m)),
        n_bytes(encode(n)) {}
};

/// TT (RFC 9383 §3.3): each field as an 8-byte little-endian length and the
/// bytes.
class transcript {
 public:
  transcript& add(std::span<const std::uint8_t> field) {
    for (int i = 0; i < 8; ++i) m_bytes.push_back(static_cast<std::uint8_t>(std::uint64_t{field.size()} >> (8 * i)));
    m_bytes.insert(m_bytes.end(), field.begin(), field.end());
    return *this;
  }
  transcript& add(std::string_view field) {
    return add(sepal::detail::bytes_of(field));
  }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return m_bytes; }

 private:
  Botan::secure_vector<std::uint8_t> m_bytes;  // ends with w0
};

}  // namespace sepal::pake::detail

#endif
