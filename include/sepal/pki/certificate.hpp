#ifndef SEPAL_PKI_CERTIFICATE_HPP
#define SEPAL_PKI_CERTIFICATE_HPP

#include <botan/data_src.h>
#include <botan/hash.h>
#include <botan/dns_name.h>
#include <botan/hex.h>
#include <botan/ipv4_address.h>
#include <botan/pem.h>
#include <botan/pkix_types.h>
#include <botan/uri.h>
#include <botan/x509_crl.h>
#include <botan/x509cert.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../concepts.hpp"
#include "../detail/botan_algorithms.hpp"
#include "../detail/boundary.hpp"
#include "../error.hpp"
#include "../keys.hpp"

namespace sepal::pki {

static_assert(sepal::detail::botan_x509, "sepal::pki needs Botan's x509 module");

/// Upper bounds on what the parsers accept.
inline constexpr std::size_t max_der_size = 64 * 1024;  ///< one certificate, CSR or CRL
inline constexpr std::size_t max_chain_length = 8;      ///< certificates in one chain

/// A subject or issuer name: the attributes sepal sets and reads.
struct name {
  std::string common_name{};
  std::string organization{};
  std::string organizational_unit{};
  std::string country{};  ///< two letters
};

/// subjectAltName entries (RFC 5280 §4.2.1.6) sepal sets and reads.
struct alt_names {
  std::vector<std::string> dns{};  ///< host names, e.g. "api.example.com"
  std::vector<std::string> ip{};   ///< IPv4 addresses, dotted ("127.0.0.1")
  std::vector<std::string> uri{};  ///< e.g. "spiffe://example.org/service"
};

namespace detail {

inline Botan::X509_DN to_dn(const name& n) {
  Botan::X509_DN dn;
  if (!n.country.empty()) dn.add_attribute(sepal::detail::dn_country, n.country);
  if (!n.organization.empty()) dn.add_attribute(sepal::detail::dn_organization, n.organization);
  if (!n.organizational_unit.empty()) dn.add_attribute(sepal::detail::dn_organizational_unit, n.organizational_unit);
  if (!n.common_name.empty()) dn.add_attribute(sepal::detail::dn_common_name, n.common_name);
  return dn;
}

inline name from_dn(const Botan::X509_DN& dn) {
  return {dn.get_first_attribute(sepal::detail::dn_common_name), dn.get_first_attribute(sepal::detail::dn_organization),
          dn.get_first_attribute(sepal::detail::dn_organizational_unit),
          dn.get_first_attribute(sepal::detail::dn_country)};
}

/// Errors: throws `sepal::error(invalid_argument)` for a DNS name or URI
/// that is not valid in a subjectAltName (Botan's DNSName and URI parsers:
/// for example a wildcard over a single label, "*.com") or an IP that is not
/// dotted IPv4.
inline Botan::AlternativeName to_alt(const alt_names& a) {
  Botan::AlternativeName out;
  for (const auto& d : a.dns) {
    auto dns = Botan::DNSName::from_san_string(d);
    if (!dns) throw error(errc::invalid_argument);
    out.add_dns(std::move(*dns));
  }
  for (const auto& u : a.uri) {
    auto uri = Botan::URI::from_string(u);
    if (!uri) throw error(errc::invalid_argument);
    out.add_uri(std::move(*uri));
  }
  for (const auto& ip : a.ip) {
    const auto address = Botan::IPv4Address::from_string(ip);
    if (!address) throw error(errc::invalid_argument);
    out.add_ipv4_address(*address);
  }
  return out;
}

// Botan 3.13's dns_names(), uri_names() and ipv4_addresses() return
// references to the name's own sets; the deprecated dns(), uris() and
// ipv4_address() returned copies, and begin()/end() on two calls of those
// were iterators into two different temporaries (undefined behaviour: an
// endless loop in practice). Each set is bound once and read from there.
inline alt_names from_alt(const Botan::AlternativeName& a) {
  alt_names out;
  const auto& dns = a.dns_names();
  for (const auto& d : dns) out.dns.push_back(d.to_string());
  const auto& uris = a.uri_names();
  for (const auto& u : uris) out.uri.push_back(u.original_input());
  const auto& ips = a.ipv4_addresses();
  for (const auto& ip : ips) out.ip.push_back(ip.to_string());
  return out;
}

inline std::int64_t unix_time(const Botan::X509_Time& t) { return static_cast<std::int64_t>(t.time_since_epoch()); }

inline Botan::X509_Time x509_time(std::int64_t seconds) {  // not "unix": a macro under -std=gnu++20
  return Botan::X509_Time(std::chrono::system_clock::time_point(std::chrono::seconds(seconds)));
}

/// DER bytes of one PEM block with `label`, never sniffing other input
/// (Botan's loaders guess PEM from "-----BEGIN" anywhere; sepal decides).
inline std::optional<std::vector<std::uint8_t>> pem_block(std::string_view pem, std::string_view label) {
  Botan::DataSource_Memory src(pem);
  std::string got;
  auto der = Botan::PEM_Code::decode(src, got);
  if (got != label || der.size() > max_der_size) return std::nullopt;
  return std::vector<std::uint8_t>(der.begin(), der.end());
}

/// Parses DER as a Botan `T` without letting Botan guess the format: its
/// loaders treat any input with "-----BEGIN" in its first 4 KiB as PEM, so a
/// DER object carrying that text in a name would be misread. The DER is
/// wrapped in a PEM block of `label` first, which is unambiguous.
///
/// Only the canonical encoding is accepted: the object must re-encode to
/// exactly the input. fuzz_pki found Botan 3.7 accepting trailing bytes and a
/// signature BIT STRING with unused bits set (one certificate, several
/// encodings). Botan 3.12+ decodes PKIX types as strict DER and refuses
/// non-canonical lengths and unused bits itself, but still ignores bytes
/// after the object (checked against 3.13.0), so the re-encoding check stays.
template <class T>
T parse_der(std::span<const std::uint8_t> der, std::string_view label) {
  const auto pem = Botan::PEM_Code::encode(der.data(), der.size(), label);
  Botan::DataSource_Memory src(pem);
  T out(src);
  const auto again = out.BER_encode();
  if (!std::equal(again.begin(), again.end(), der.begin(), der.end()))
    throw Botan::Decoding_Error("not the canonical DER encoding");
  return out;
}

/// `Out` (a sepal wrapper) from one DER object; `invalid_encoding` for
/// anything else. Never throws.
template <class Out, class BotanType>
result<Out> parse_object(std::span<const std::uint8_t> der, std::string_view label) noexcept {
  if (der.size() > max_der_size) return errc::invalid_encoding;
  return sepal::detail::guarded<result<Out>>(errc::invalid_encoding,
                                             [&]() -> result<Out> { return Out(parse_der<BotanType>(der, label)); });
}

/// `Out` from one PEM block with `label`. Never throws.
template <class Out, class BotanType>
result<Out> parse_pem_object(std::string_view pem, std::string_view label) noexcept {
  return sepal::detail::guarded<result<Out>>(errc::invalid_encoding, [&]() -> result<Out> {
    const auto der = pem_block(pem, label);
    if (!der) return errc::invalid_encoding;
    return parse_object<Out, BotanType>(*der, label);
  });
}

}  // namespace detail

/// An X.509 certificate (RFC 5280), parsed.
///
/// Errors: parsers never throw; anything that is not one well-formed
/// certificate under `max_der_size` is `invalid_encoding`.
class certificate {
 public:
  /// Parses DER.
  [[nodiscard]] static result<certificate> from_der(std::span<const std::uint8_t> der) noexcept {
    return detail::parse_object<certificate, Botan::X509_Certificate>(der, "CERTIFICATE");
  }
  /// Parses one PEM "CERTIFICATE" block.
  [[nodiscard]] static result<certificate> from_pem(std::string_view pem) noexcept {
    return detail::parse_pem_object<certificate, Botan::X509_Certificate>(pem, "CERTIFICATE");
  }
  /// Parses a PEM bundle: one or more certificates (a chain, leaf first),
  /// at most `max_chain_length`.
  [[nodiscard]] static result<std::vector<certificate>> chain_from_pem(std::string_view pem) noexcept {
    using out = result<std::vector<certificate>>;
    return sepal::detail::guarded<out>(errc::invalid_encoding, [&]() -> out {
      std::vector<certificate> chain;
      constexpr std::string_view end = "-----END CERTIFICATE-----";
      for (auto at = pem.find("-----BEGIN CERTIFICATE-----"); at != std::string_view::npos;
           at = pem.find("-----BEGIN CERTIFICATE-----", at)) {
        const auto stop = pem.find(end, at);
        if (stop == std::string_view::npos || chain.size() == max_chain_length) return errc::invalid_encoding;
        auto c = from_pem(pem.substr(at, stop + end.size() - at));
        if (!c) return c.error();
        chain.push_back(std::move(*c));
        at = stop + end.size();
      }
      if (chain.empty()) return errc::invalid_encoding;
      return chain;
    });
  }

  /// DER encoding.
  [[nodiscard]] std::vector<std::uint8_t> to_der() const { return m_cert.BER_encode(); }
  /// PEM encoding.
  [[nodiscard]] std::string to_pem() const { return m_cert.PEM_encode(); }

  [[nodiscard]] pki::name subject() const { return detail::from_dn(m_cert.subject_dn()); }
  [[nodiscard]] pki::name issuer() const { return detail::from_dn(m_cert.issuer_dn()); }
  [[nodiscard]] pki::alt_names alt_names() const { return detail::from_alt(m_cert.subject_alt_name()); }
  /// Serial number, hex.
  [[nodiscard]] std::string serial() const { return Botan::hex_encode(m_cert.serial_number(), false); }
  /// Validity, Unix seconds.
  [[nodiscard]] std::int64_t not_before() const { return detail::unix_time(m_cert.not_before()); }
  [[nodiscard]] std::int64_t not_after() const { return detail::unix_time(m_cert.not_after()); }
  /// True for a CA certificate (basicConstraints cA).
  [[nodiscard]] bool is_ca() const { return m_cert.is_CA_cert(); }
  /// The certificate's identity: SHA-256 of its TBSCertificate (RFC 5280
  /// §4.1.1.1), everything the issuer signed. Use it for pins, deny-lists
  /// and logs.
  ///
  /// Security: the holder of a certificate cannot change it without
  /// invalidating the issuer's signature. The DER hash (`der_sha256`) is not
  /// such an identity: an ECDSA signature (r, s) also verifies as (r, n−s),
  /// so anyone can make a second, valid, strictly-DER certificate with
  /// another DER hash; both have this same fingerprint.
  [[nodiscard]] std::array<std::uint8_t, 32> fingerprint() const { return sha256_of(m_cert.tbs_data()); }

  /// SHA-256 of the whole DER encoding, as `openssl x509 -fingerprint
  /// -sha256` prints it: for matching what other tools show.
  ///
  /// Security: malleable (see `fingerprint`): one certificate can have
  /// several values; never use it as an identity, pin or deny-list entry.
  [[nodiscard]] std::array<std::uint8_t, 32> der_sha256() const { return sha256_of(to_der()); }

  /// The subject public key, as a key on `Curve`.
  ///
  /// Errors: `wrong_algorithm` when the certificate's key is of another
  /// type or curve. Never throws.
  template <signature_scheme Curve>
  [[nodiscard]] result<public_key<Curve>> public_key() const noexcept {
    return sepal::detail::guarded<result<sepal::public_key<Curve>>>(
        errc::wrong_algorithm, [&]() -> result<sepal::public_key<Curve>> {
          auto der = m_cert.subject_public_key_info();
          auto k = sepal::public_key<Curve>::from_der(der);
          if (!k) return errc::wrong_algorithm;
          return k;
        });
  }

  /// The Botan certificate, for Botan APIs.
  [[nodiscard]] const Botan::X509_Certificate& botan() const noexcept { return m_cert; }
  explicit certificate(Botan::X509_Certificate c) : m_cert(std::move(c)) {}

 private:
  static std::array<std::uint8_t, 32> sha256_of(std::span<const std::uint8_t> bytes) {
    return sepal::detail::or_throw(errc::internal_error, [&] {
      std::array<std::uint8_t, 32> out{};
      auto h = Botan::HashFunction::create_or_throw(sepal::detail::algorithm<sepal::detail::fingerprint_hash>::hash);
      h->update(bytes);
      h->final(out);
      return out;
    });
  }

  Botan::X509_Certificate m_cert;
};

/// A certificate revocation list (RFC 5280 §5), parsed.
class revocation_list {
 public:
  /// Parses DER. Never throws.
  [[nodiscard]] static result<revocation_list> from_der(std::span<const std::uint8_t> der) noexcept {
    return detail::parse_object<revocation_list, Botan::X509_CRL>(der, "X509 CRL");
  }
  /// Parses one PEM "X509 CRL" block. Never throws.
  [[nodiscard]] static result<revocation_list> from_pem(std::string_view pem) noexcept {
    return detail::parse_pem_object<revocation_list, Botan::X509_CRL>(pem, "X509 CRL");
  }
  [[nodiscard]] std::vector<std::uint8_t> to_der() const { return m_crl.BER_encode(); }
  [[nodiscard]] std::string to_pem() const { return m_crl.PEM_encode(); }
  [[nodiscard]] pki::name issuer() const { return detail::from_dn(m_crl.issuer_dn()); }
  [[nodiscard]] std::int64_t this_update() const { return detail::unix_time(m_crl.this_update()); }
  [[nodiscard]] std::int64_t next_update() const { return detail::unix_time(m_crl.next_update()); }
  /// True when this list revokes `cert` (same issuer and serial). Does not
  /// check the list's own signature: path validation does.
  [[nodiscard]] bool revokes(const certificate& cert) const noexcept {
    try {
      return m_crl.is_revoked(cert.botan());
    } catch (...) {
      return false;
    }
  }
  [[nodiscard]] const Botan::X509_CRL& botan() const noexcept { return m_crl; }
  explicit revocation_list(Botan::X509_CRL crl) : m_crl(std::move(crl)) {}

 private:
  Botan::X509_CRL m_crl;
};

}  // namespace sepal::pki

#endif
