#ifndef SEPAL_DETAIL_KEY_OPS_HPP
#define SEPAL_DETAIL_KEY_OPS_HPP

// Per-curve construction, validation and raw encoding of Botan key objects.
// Each curve kind maps to Botan key classes here; headers of Botan modules
// that are not built are not included.

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/pk_algs.h>
#include <botan/pk_keys.h>
#include <botan/pkcs8.h>
#include <botan/x509_key.h>

#if defined(BOTAN_HAS_ECDSA) && defined(BOTAN_HAS_ECDH)
  #include <botan/ec_apoint.h>
  #include <botan/ec_group.h>
  #include <botan/ec_scalar.h>
  #include <botan/ecdh.h>
  #include <botan/ecdsa.h>
#endif
#if defined(BOTAN_HAS_X25519)
  #include <botan/x25519.h>
#endif
#if defined(BOTAN_HAS_X448)
  #include <botan/x448.h>
#endif
#if defined(BOTAN_HAS_ED25519)
  #include <botan/ed25519.h>
#endif
#if defined(BOTAN_HAS_ED448)
  #include <botan/bigint.h>
  #include <botan/ed448.h>
#endif

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../error.hpp"
#include "botan_algorithms.hpp"

namespace sepal::detail {

/// The Botan classes behind a curve tag. Undefined for tags whose module is
/// missing (the concepts stop such uses first).
template <class Curve>
struct botan_key_types;

#if defined(BOTAN_HAS_ECDSA) && defined(BOTAN_HAS_ECDH)
template <class Curve>
  requires(algorithm<Curve>::what == kind::weierstrass)
struct botan_key_types<Curve> {
  using private_type = Botan::ECDSA_PrivateKey;
  using public_type = Botan::ECDSA_PublicKey;
  using agreement_type = Botan::ECDH_PrivateKey;
};
#endif
#if defined(BOTAN_HAS_X25519)
template <>
struct botan_key_types<x25519> {
  using private_type = Botan::X25519_PrivateKey;
  using public_type = Botan::X25519_PublicKey;
};
#endif
#if defined(BOTAN_HAS_X448)
template <>
struct botan_key_types<x448> {
  using private_type = Botan::X448_PrivateKey;
  using public_type = Botan::X448_PublicKey;
};
#endif
#if defined(BOTAN_HAS_ED25519)
template <>
struct botan_key_types<ed25519> {
  using private_type = Botan::Ed25519_PrivateKey;
  using public_type = Botan::Ed25519_PublicKey;
};
#endif
#if defined(BOTAN_HAS_ED448)
template <>
struct botan_key_types<ed448> {
  using private_type = Botan::Ed448_PrivateKey;
  using public_type = Botan::Ed448_PublicKey;
};
#endif

/// Decodes a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with no trailing
/// data. Unlike Botan::X509::load_key it never sniffs for PEM, which it does
/// by searching the input for "-----BEGIN": key bytes an attacker chose (any
/// 32 bytes are an X25519 key) could contain that text. Throws on garbage.
inline std::unique_ptr<Botan::Public_Key> decode_spki(std::span<const std::uint8_t> der) {
  Botan::AlgorithmIdentifier alg_id;
  std::vector<std::uint8_t> key_bits;
  Botan::BER_Decoder(der)
      .start_sequence()
      .decode(alg_id)
      .decode(key_bits, Botan::ASN1_Type::BitString)
      .end_cons()
      .verify_end();
  return Botan::load_public_key(alg_id, key_bits);
}

/// Decodes an unencrypted DER PKCS#8 PrivateKeyInfo (RFC 5208 §5; version 0,
/// or 1 as in RFC 5958 OneAsymmetricKey), without PEM sniffing.
inline std::unique_ptr<Botan::Private_Key> decode_pkcs8(std::span<const std::uint8_t> der) {
  Botan::AlgorithmIdentifier alg_id;
  Botan::secure_vector<std::uint8_t> key_bits;
  std::size_t version = 0;
  Botan::BER_Decoder(der)
      .start_sequence()
      .decode(version)
      .decode(alg_id)
      .decode(key_bits, Botan::ASN1_Type::OctetString)
      .discard_remaining()
      .end_cons()
      .verify_end();
  if (version > 1) throw Botan::Decoding_Error("PKCS#8: unknown version");
  return Botan::load_private_key(alg_id, key_bits);
}

template <class Curve>
inline constexpr bool is_weierstrass = algorithm<Curve>::what == kind::weierstrass;

/// Key operations for one curve. Functions returning pointers return null for
/// input that is not a valid key of this curve; they may throw on garbage, and
/// callers wrap them in `guarded`.
template <class Curve>
struct key_ops {
  using types = botan_key_types<Curve>;
  using private_type = typename types::private_type;
  using public_type = typename types::public_type;

  static const auto& group()
    requires is_weierstrass<Curve>
  {
    static const Botan::EC_Group g = [] {
      if (!Botan::EC_Group::supports_named_group(algorithm<Curve>::group)) throw error(errc::wrong_algorithm);
      return Botan::EC_Group::from_name(algorithm<Curve>::group);
    }();
    return g;
  }

  static std::unique_ptr<private_type> generate(Botan::RandomNumberGenerator& rng) {
    if constexpr (is_weierstrass<Curve>) {
      return std::make_unique<private_type>(rng, group());
    } else {
      return std::make_unique<private_type>(rng);
    }
  }

  /// The RFC 7748 / RFC 8032 private key bytes, or the big-endian scalar.
  static std::unique_ptr<private_type> private_from_raw(std::span<const std::uint8_t> raw) {
    if (raw.size() != Curve::private_key_size) return nullptr;
    if constexpr (is_weierstrass<Curve>) {
      auto s = Botan::EC_Scalar::deserialize(group(), raw);
      if (!s || s->is_zero()) return nullptr;
      return std::make_unique<private_type>(group(), *s);
    } else {
      return std::make_unique<private_type>(Botan::secure_vector<std::uint8_t>(raw.begin(), raw.end()));
    }
  }

  static Botan::secure_vector<std::uint8_t> private_to_raw(const private_type& key) {
    if constexpr (is_weierstrass<Curve>) {
      return key._private_key().template serialize<Botan::secure_vector<std::uint8_t>>();
    } else {
      auto bits = key.raw_private_key_bits();
      bits.resize(Curve::private_key_size);  // Ed25519 keeps seed || public
      return bits;
    }
  }

  /// False for a key no signature check should accept: an Ed448 point of
  /// small order. Botan's `check_key` rejects the eight small-order Ed25519
  /// points, but for Ed448 only the identity (3.13; none in 3.7). Ed448's torsion is {(0, 1), (0, -1),
  /// (±1, 0)} (cofactor 4, RFC 8032 §5.2), exactly the points with y ≡ 0, 1
  /// or -1 (mod p); for the identity, (R = identity, S = 0) verifies every
  /// message. y is read as RFC 8032 §5.2.3 encodes it (little-endian, the
  /// last octet holds x's sign), reduced mod p so non-canonical forms count.
  static bool acceptable_public(std::span<const std::uint8_t> raw) {
#if defined(BOTAN_HAS_ED448)
    if constexpr (std::is_same_v<Curve, ed448>) {
      if (raw.size() != Curve::public_key_size) return false;
      std::vector<std::uint8_t> big_endian(raw.rbegin() + 1, raw.rend());  // drop the sign octet
      const Botan::BigInt p = (Botan::BigInt::one() << 448) - (Botan::BigInt::one() << 224) - 1;
      const Botan::BigInt y = Botan::BigInt(std::span<const std::uint8_t>(big_endian)) % p;
      return !(y.is_zero() || y == Botan::BigInt::one() || y == p - 1);
    }
#endif
    (void)raw;
    return true;
  }

  /// SEC1 (compressed or uncompressed) for the NIST curves, RFC 7748/8032
  /// bytes otherwise. Rejects the identity and points not on the curve.
  static std::shared_ptr<const public_type> public_from_raw(std::span<const std::uint8_t> raw) {
    if constexpr (is_weierstrass<Curve>) {
      if (raw.size() != Curve::public_key_size && raw.size() != Curve::compressed_public_key_size) return nullptr;
      auto p = Botan::EC_AffinePoint::deserialize(group(), raw);
      if (!p || p->is_identity()) return nullptr;
      return std::make_shared<const public_type>(group(), *p);
    } else {
      if (raw.size() != Curve::public_key_size || !acceptable_public(raw)) return nullptr;
      return std::make_shared<const public_type>(raw);
    }
  }

  static std::vector<std::uint8_t> public_to_raw(const public_type& key, bool compressed) {
    if constexpr (is_weierstrass<Curve>) {
      const auto& p = key._public_ec_point();
      return compressed ? p.serialize_compressed() : p.serialize_uncompressed();
    } else {
      return key.raw_public_key_bits();
    }
  }

  /// Re-expresses a parsed public key as this curve's key type, or null when
  /// it is of another algorithm or curve. ECDH-labelled NIST keys are accepted
  /// (the same point), as OpenSSL writes id-ecPublicKey for both.
  static std::shared_ptr<const public_type> accept_public(const Botan::Public_Key& key) {
    if constexpr (is_weierstrass<Curve>) {
      const auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(&key);
      if (ec == nullptr || !is_ecdsa_or_ecdh(key.algo_name()) || ec->domain() != group()) return nullptr;
      if (ec->_public_ec_point().is_identity()) return nullptr;
      return std::make_shared<const public_type>(group(), ec->_public_ec_point());
    } else {
      const auto* k = dynamic_cast<const public_type*>(&key);
      if (k == nullptr) return nullptr;
      return public_from_raw(k->raw_public_key_bits());
    }
  }

  /// As `accept_public`, for private keys; NIST keys are rebuilt from the
  /// scalar so a PKCS#8 file's embedded public key is never trusted.
  static std::unique_ptr<private_type> accept_private(std::unique_ptr<Botan::Private_Key> key) {
    if (!key) return nullptr;
    if constexpr (is_weierstrass<Curve>) {
      const auto* ec = dynamic_cast<const Botan::EC_PrivateKey*>(key.get());
      if (ec == nullptr || !is_ecdsa_or_ecdh(key->algo_name()) || ec->domain() != group()) return nullptr;
      if (ec->_private_key().is_zero()) return nullptr;
      return std::make_unique<private_type>(group(), ec->_private_key());
    } else {
      auto* k = dynamic_cast<private_type*>(key.get());
      if (k == nullptr) return nullptr;
      key.release();
      return std::unique_ptr<private_type>(k);
    }
  }

  /// The ECDH twin of a NIST ECDSA key: same scalar, decoded from the
  /// encoding that carries the public point, so no second scalar multiply.
  static auto agreement_key(const private_type& key)
    requires is_weierstrass<Curve>
  {
    return std::make_unique<typename types::agreement_type>(key.algorithm_identifier(), key.private_key_bits());
  }

 private:
  static bool is_ecdsa_or_ecdh(const std::string& name) {
    return name == algorithm<Curve>::signature_algorithm || name == algorithm<Curve>::agreement_algorithm;
  }
};

}  // namespace sepal::detail

#endif
