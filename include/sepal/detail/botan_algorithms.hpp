#ifndef SEPAL_DETAIL_BOTAN_ALGORITHMS_HPP
#define SEPAL_DETAIL_BOTAN_ALGORITHMS_HPP

// The one place where sepal's algorithm tags meet Botan: each tag's Botan
// algorithm strings and the BOTAN_HAS_* macros its module(s) define. A tag
// whose modules are missing from the linked Botan build has
// `available == false`, and the concepts turn any use of it into a
// static_assert with a readable message instead of a run-time
// Algorithm_Not_Found.

#include <botan/build.h>

#include <cstddef>
#include <string_view>

#include "../aeads.hpp"
#include "../curves.hpp"
#include "../hashes.hpp"
#include "../kems.hpp"

namespace sepal::detail {

// One constant per Botan module sepal uses (modules: tools/botan-modules.txt).
#if defined(BOTAN_HAS_SHA2_32)
inline constexpr bool botan_sha2_32 = true;
#else
inline constexpr bool botan_sha2_32 = false;
#endif
#if defined(BOTAN_HAS_SHA2_64)
inline constexpr bool botan_sha2_64 = true;
#else
inline constexpr bool botan_sha2_64 = false;
#endif
#if defined(BOTAN_HAS_BLAKE2S)
inline constexpr bool botan_blake2s = true;
#else
inline constexpr bool botan_blake2s = false;
#endif
#if defined(BOTAN_HAS_BLAKE2B)
inline constexpr bool botan_blake2b = true;
#else
inline constexpr bool botan_blake2b = false;
#endif
#if defined(BOTAN_HAS_HMAC) && defined(BOTAN_HAS_HKDF)
inline constexpr bool botan_hmac_hkdf = true;
#else
inline constexpr bool botan_hmac_hkdf = false;
#endif
#if defined(BOTAN_HAS_AES) && defined(BOTAN_HAS_AEAD_GCM)
inline constexpr bool botan_aes_gcm = true;
#else
inline constexpr bool botan_aes_gcm = false;
#endif
#if defined(BOTAN_HAS_AES) && defined(BOTAN_HAS_AEAD_GCM_SIV)
inline constexpr bool botan_aes_gcm_siv = true;
#else
inline constexpr bool botan_aes_gcm_siv = false;
#endif
#if defined(BOTAN_HAS_AEAD_CHACHA20_POLY1305)
inline constexpr bool botan_chacha20_poly1305 = true;
#else
inline constexpr bool botan_chacha20_poly1305 = false;
#endif
#if defined(BOTAN_HAS_ECDSA) && defined(BOTAN_HAS_ECDH)
inline constexpr bool botan_ecc = true;
#else
inline constexpr bool botan_ecc = false;
#endif
#if defined(BOTAN_HAS_X25519)
inline constexpr bool botan_x25519 = true;
#else
inline constexpr bool botan_x25519 = false;
#endif
#if defined(BOTAN_HAS_ED25519)
inline constexpr bool botan_ed25519 = true;
#else
inline constexpr bool botan_ed25519 = false;
#endif
#if defined(BOTAN_HAS_X448)
inline constexpr bool botan_x448 = true;
#else
inline constexpr bool botan_x448 = false;
#endif
#if defined(BOTAN_HAS_ED448)
inline constexpr bool botan_ed448 = true;
#else
inline constexpr bool botan_ed448 = false;
#endif
#if defined(BOTAN_HAS_ARGON2)
inline constexpr bool botan_argon2 = true;
#else
inline constexpr bool botan_argon2 = false;
#endif
#if defined(BOTAN_HAS_SCRYPT)
inline constexpr bool botan_scrypt = true;
#else
inline constexpr bool botan_scrypt = false;
#endif
#if defined(BOTAN_HAS_PAKE_SPAKE2PLUS)  // the spake2p module (Botan 3.13)
inline constexpr bool botan_spake2p = true;
#else
inline constexpr bool botan_spake2p = false;
#endif
#if defined(BOTAN_HAS_X509_CERTIFICATES)
inline constexpr bool botan_x509 = true;
#else
inline constexpr bool botan_x509 = false;
#endif
#if defined(BOTAN_HAS_TLS_13)
inline constexpr bool botan_tls13 = true;
#else
inline constexpr bool botan_tls13 = false;
#endif
#if defined(BOTAN_HAS_ML_KEM) && defined(BOTAN_HAS_SHA3)
inline constexpr bool botan_ml_kem = true;
#else
inline constexpr bool botan_ml_kem = false;
#endif
#if defined(BOTAN_HAS_PEM_CODEC) && defined(BOTAN_HAS_PKCS5_PBES2)
inline constexpr bool botan_pem_pbes2 = true;
#else
inline constexpr bool botan_pem_pbes2 = false;
#endif

/// What a tag is; `none` for anything that is not a sepal algorithm tag.
enum class kind { none, hash, weierstrass, montgomery, edwards, aead, kem, hybrid };

/// Botan facts about a tag. The primary template describes non-tags.
template <class T>
struct algorithm {
  static constexpr kind what = kind::none;
  static constexpr bool available = false;
};

template <>
struct algorithm<sha256> {
  static constexpr kind what = kind::hash;
  static constexpr bool available = botan_sha2_32 && botan_hmac_hkdf;
  static constexpr std::string_view hash = "SHA-256";
  static constexpr std::string_view hmac = "HMAC(SHA-256)";
  static constexpr std::string_view hkdf_extract = "HKDF-Extract(HMAC(SHA-256))";
  static constexpr std::string_view hkdf_expand = "HKDF-Expand(HMAC(SHA-256))";
  static constexpr std::string_view hkdf = "HKDF(HMAC(SHA-256))";
};

template <>
struct algorithm<sha384> {
  static constexpr kind what = kind::hash;
  static constexpr bool available = botan_sha2_64 && botan_hmac_hkdf;
  static constexpr std::string_view hash = "SHA-384";
  static constexpr std::string_view hmac = "HMAC(SHA-384)";
  static constexpr std::string_view hkdf_extract = "HKDF-Extract(HMAC(SHA-384))";
  static constexpr std::string_view hkdf_expand = "HKDF-Expand(HMAC(SHA-384))";
  static constexpr std::string_view hkdf = "HKDF(HMAC(SHA-384))";
};

template <>
struct algorithm<sha512> {
  static constexpr kind what = kind::hash;
  static constexpr bool available = botan_sha2_64 && botan_hmac_hkdf;
  static constexpr std::string_view hash = "SHA-512";
  static constexpr std::string_view hmac = "HMAC(SHA-512)";
  static constexpr std::string_view hkdf_extract = "HKDF-Extract(HMAC(SHA-512))";
  static constexpr std::string_view hkdf_expand = "HKDF-Expand(HMAC(SHA-512))";
  static constexpr std::string_view hkdf = "HKDF(HMAC(SHA-512))";
};

// BLAKE2 (RFC 7693), for Noise (§12.8): BLAKE2s-256 and BLAKE2b-512.
template <>
struct algorithm<blake2s> {
  static constexpr kind what = kind::hash;
  static constexpr bool available = botan_blake2s && botan_hmac_hkdf;
  static constexpr std::string_view hash = "BLAKE2s(256)";
  static constexpr std::string_view hmac = "HMAC(BLAKE2s(256))";
  static constexpr std::string_view hkdf_extract = "HKDF-Extract(HMAC(BLAKE2s(256)))";
  static constexpr std::string_view hkdf_expand = "HKDF-Expand(HMAC(BLAKE2s(256)))";
  static constexpr std::string_view hkdf = "HKDF(HMAC(BLAKE2s(256)))";
};

template <>
struct algorithm<blake2b> {
  static constexpr kind what = kind::hash;
  static constexpr bool available = botan_blake2b && botan_hmac_hkdf;
  static constexpr std::string_view hash = "BLAKE2b(512)";
  static constexpr std::string_view hmac = "HMAC(BLAKE2b(512))";
  static constexpr std::string_view hkdf_extract = "HKDF-Extract(HMAC(BLAKE2b(512)))";
  static constexpr std::string_view hkdf_expand = "HKDF-Expand(HMAC(BLAKE2b(512)))";
  static constexpr std::string_view hkdf = "HKDF(HMAC(BLAKE2b(512)))";
};

/// The NIST curves share one shape: ECDSA and ECDH keys on a named group.
// Which NIST curves a Botan build supports is not a public compile-time fact
// (3.13 marks the BOTAN_HAS_PCURVES_* macros as becoming internal): ECDSA and
// ECDH are checked here, and the curve itself at run time with
// EC_Group::supports_named_group (detail/key_ops.hpp), which says so with
// `sepal::error(errc::wrong_algorithm)` before any key is made.
template <class Tag>
struct weierstrass_algorithm {
  static constexpr kind what = kind::weierstrass;
  static constexpr bool available = botan_ecc;
  static constexpr std::string_view signature_algorithm = "ECDSA";
  static constexpr std::string_view agreement_algorithm = "ECDH";
  static constexpr std::string_view kdf = "Raw";
};

template <>
struct algorithm<p256> : weierstrass_algorithm<p256> {
  static constexpr std::string_view group = "secp256r1";
};
template <>
struct algorithm<p384> : weierstrass_algorithm<p384> {
  static constexpr std::string_view group = "secp384r1";
};
template <>
struct algorithm<p521> : weierstrass_algorithm<p521> {
  static constexpr std::string_view group = "secp521r1";
};

template <>
struct algorithm<x25519> {
  static constexpr kind what = kind::montgomery;
  static constexpr bool available = botan_x25519;
  static constexpr std::string_view agreement_algorithm = "X25519";
  static constexpr std::string_view kdf = "Raw";
};
template <>
struct algorithm<x448> {
  static constexpr kind what = kind::montgomery;
  static constexpr bool available = botan_x448;
  static constexpr std::string_view agreement_algorithm = "X448";
  static constexpr std::string_view kdf = "Raw";
};
template <>
struct algorithm<ed25519> {
  static constexpr kind what = kind::edwards;
  static constexpr bool available = botan_ed25519;
  static constexpr std::string_view signature_algorithm = "Ed25519";
  static constexpr std::string_view padding = "Pure";
};
template <>
struct algorithm<ed448> {
  static constexpr kind what = kind::edwards;
  static constexpr bool available = botan_ed448;
  static constexpr std::string_view signature_algorithm = "Ed448";
  static constexpr std::string_view padding = "Pure";
};

template <>
struct algorithm<aes128_gcm> {
  static constexpr kind what = kind::aead;
  static constexpr bool available = botan_aes_gcm;
  static constexpr std::string_view mode = "AES-128/GCM";
  static constexpr std::string_view header_protection = "AES-128";  // RFC 9001 §5.4.3
};
template <>
struct algorithm<aes256_gcm> {
  static constexpr kind what = kind::aead;
  static constexpr bool available = botan_aes_gcm;
  static constexpr std::string_view mode = "AES-256/GCM";
  static constexpr std::string_view header_protection = "AES-256";  // RFC 9001 §5.4.3
};
template <>
struct algorithm<chacha20_poly1305> {
  static constexpr kind what = kind::aead;
  static constexpr bool available = botan_chacha20_poly1305;
  static constexpr std::string_view mode = "ChaCha20Poly1305";
  static constexpr std::string_view header_protection = "ChaCha(20)";  // RFC 9001 §5.4.4
};
// GCM-SIV is two-pass (Botan's requires_entire_message): the whole message
// goes to finish() at once. Header protection is RFC 9001 §5.4.3's AES-ECB
// mask, as for every AES-based AEAD.
template <>
struct algorithm<aes128_gcm_siv> {
  static constexpr kind what = kind::aead;
  static constexpr bool available = botan_aes_gcm_siv;
  static constexpr bool whole_message = true;
  static constexpr std::string_view mode = "AES-128/GCM-SIV";
  static constexpr std::string_view header_protection = "AES-128";
};
template <>
struct algorithm<aes256_gcm_siv> {
  static constexpr kind what = kind::aead;
  static constexpr bool available = botan_aes_gcm_siv;
  static constexpr bool whole_message = true;
  static constexpr std::string_view mode = "AES-256/GCM-SIV";
  static constexpr std::string_view header_protection = "AES-256";
};

/// ML-KEM (FIPS 203): Botan's mode name, the key encapsulation "KDF" (Raw:
/// the FIPS 203 shared secret K itself) and H (FIPS 203 §4.1: SHA3-256), for
/// the decapsulation key's hash check (§7.3).
template <class Tag>
struct ml_kem_algorithm {
  static constexpr kind what = kind::kem;
  static constexpr bool available = botan_ml_kem;
  static constexpr std::string_view kdf = "Raw";
  static constexpr std::string_view key_hash = "SHA-3(256)";
};
template <>
struct algorithm<ml_kem_768> : ml_kem_algorithm<ml_kem_768> {
  static constexpr std::string_view mode = "ML-KEM-768";
};
template <>
struct algorithm<ml_kem_1024> : ml_kem_algorithm<ml_kem_1024> {
  static constexpr std::string_view mode = "ML-KEM-1024";
};

/// The hybrid key shares (draft-ietf-tls-ecdhe-mlkem): both halves' modules.
template <class Tag>
struct hybrid_algorithm {
  static constexpr kind what = kind::hybrid;
  static constexpr bool available = algorithm<typename Tag::ec>::available && algorithm<typename Tag::kem>::available;
};
template <>
struct algorithm<x25519_mlkem768> : hybrid_algorithm<x25519_mlkem768> {};
template <>
struct algorithm<secp256r1_mlkem768> : hybrid_algorithm<secp256r1_mlkem768> {};
template <>
struct algorithm<secp384r1_mlkem1024> : hybrid_algorithm<secp384r1_mlkem1024> {};

/// True for AEADs that must see the whole message at once (no in-place
/// streaming through process()).
template <class A>
inline constexpr bool whole_message_aead = requires { algorithm<A>::whole_message; };

/// Password-based encryption of PKCS#8 private keys: RFC 8018 PBES2 with
/// PBKDF2-HMAC-SHA-512 (OWASP 2023 iteration count) and AES-256-CBC, which
/// OpenSSL and Python's cryptography read.
inline constexpr std::string_view pkcs8_cipher = "AES-256/CBC";
inline constexpr std::string_view pkcs8_pbkdf_hash = "SHA-512";
inline constexpr std::size_t pkcs8_pbkdf_iterations = 210000;
/// PEM labels sepal reads and writes.
inline constexpr std::string_view pem_public_key = "PUBLIC KEY";
inline constexpr std::string_view pem_private_key = "PRIVATE KEY";
inline constexpr std::string_view pem_encrypted_private_key = "ENCRYPTED PRIVATE KEY";
/// Memory-hard password hashing for SPAKE2+ registration (pake/password_kdf.hpp):
/// Botan PasswordHashFamily names.
inline constexpr std::string_view argon2id = "Argon2id";
inline constexpr std::string_view scrypt = "Scrypt";
/// X.509 (pki/): the hash each signature scheme signs certificates, CSRs and
/// CRLs with ("" for EdDSA, which hashes internally), the EKU and DN
/// attribute names Botan's OID table knows, and the PEM labels.
template <class Curve>
inline constexpr std::string_view x509_hash = "";
template <>
inline constexpr std::string_view x509_hash<p256> = "SHA-256";
template <>
inline constexpr std::string_view x509_hash<p384> = "SHA-384";
template <>
inline constexpr std::string_view x509_hash<p521> = "SHA-512";
inline constexpr std::string_view eku_server_auth = "PKIX.ServerAuth";
inline constexpr std::string_view eku_client_auth = "PKIX.ClientAuth";
inline constexpr std::string_view dn_common_name = "X520.CommonName";
inline constexpr std::string_view dn_organization = "X520.Organization";
inline constexpr std::string_view dn_organizational_unit = "X520.OrganizationalUnit";
inline constexpr std::string_view dn_country = "X520.Country";
inline constexpr std::string_view key_id_hash = "SHA-256";
/// The hash of public key fingerprints.
using fingerprint_hash = sha256;

/// Instantiated by the concepts once a tag's kind matches: a tag whose Botan
/// modules are missing stops the build here, with this message.
template <class T>
struct require_botan {
  static_assert(algorithm<T>::available,
                "sepal: this algorithm needs a module that the linked Botan build lacks "
                "(see include/sepal/detail/botan_algorithms.hpp and tools/botan-modules.txt)");
  static constexpr bool value = algorithm<T>::available;
};

}  // namespace sepal::detail

#endif
