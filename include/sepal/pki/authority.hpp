#ifndef SEPAL_PKI_AUTHORITY_HPP
#define SEPAL_PKI_AUTHORITY_HPP

#include <botan/bigint.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <botan/x509self.h>

#include <cstdint>
#include <ctime>
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

#include "../concepts.hpp"
#include "../detail/botan_algorithms.hpp"
#include "../detail/boundary.hpp"
#include "../error.hpp"
#include "../keys.hpp"
#include "../rng.hpp"
#include "certificate.hpp"
#include "request.hpp"

namespace sepal::pki {

/// What an end-entity certificate may be used for: its extendedKeyUsage
/// (RFC 5280 §4.2.1.12). Key usage is digitalSignature either way.
enum class usage { server, client, server_and_client };

/// Why a certificate was revoked (RFC 5280 §5.3.1 reasonCode).
using revocation_reason = Botan::CRL_Code;

/// The names a CA may certify in one end-entity certificate: every
/// subjectAltName of the request (RFC 5280 §4.2.1.6) and its subject CN must
/// be allowed here, or `issue` refuses the request. The request asks; the
/// policy, set by whoever runs the CA for this requester, decides.
///
/// DNS names compare case-insensitively (RFC 4343). A subject CN is checked
/// as a DNS name (some verifiers fall back to it when a certificate has no
/// DNS subjectAltName; sepal's `verify_chain` only when it has no
/// subjectAltName at all), unless listed in `common_names`.
///
/// Security: a default-constructed policy allows no names. Wildcards are
/// refused unless `allow_wildcards`; even then only a whole leftmost label
/// ("*.a.example.com"), itself listed in `dns` or lying wholly below one of
/// `dns_suffixes`. Email, directory and other-name alternative names are
/// always refused.
struct name_policy {
  std::vector<std::string> dns{};           ///< exact host names, e.g. "api.example.com"
  std::vector<std::string> dns_suffixes{};  ///< "example.com": any name strictly below it ("a.example.com")
  std::vector<std::string> ip{};            ///< exact IPv4 addresses, dotted
  std::vector<std::string> uri{};           ///< exact URIs
  std::vector<std::string> uri_prefixes{};  ///< e.g. "spiffe://example.org/billing/"
  std::vector<std::string> common_names{};  ///< subject CNs allowed that are not allowed host names ("billing-service")
  bool allow_wildcards = false;             ///< "*.a.example.com" (see above)

  /// True when the DNS name `name` is allowed.
  [[nodiscard]] bool allows_dns(std::string_view name) const {
    const auto n = lower(name);
    if (n.empty()) return false;
    if (n.find('*') != std::string::npos) {
      // Only "*." followed by a name without wildcards (RFC 6125 §6.4.3, strictest reading).
      if (!allow_wildcards || n.size() < 3 || n.compare(0, 2, "*.") != 0 || n.find('*', 1) != std::string::npos)
        return false;
      if (listed(dns, n)) return true;
      const auto rest = n.substr(2);
      for (const auto& s : dns_suffixes)
        if (rest == normal_suffix(s) || below(rest, normal_suffix(s))) return true;
      return false;
    }
    if (listed(dns, n)) return true;
    for (const auto& s : dns_suffixes)
      if (below(n, normal_suffix(s))) return true;
    return false;
  }
  /// True when the IPv4 address `address` (dotted) is allowed.
  [[nodiscard]] bool allows_ip(std::string_view address) const {
    return std::find(ip.begin(), ip.end(), address) != ip.end();
  }
  /// True when the URI `u` is allowed.
  [[nodiscard]] bool allows_uri(std::string_view u) const {
    if (std::find(uri.begin(), uri.end(), u) != uri.end()) return true;
    for (const auto& p : uri_prefixes)
      if (!p.empty() && u.size() > p.size() && u.substr(0, p.size()) == p) return true;
    return false;
  }
  /// True when the subject common name `cn` is allowed (empty always is).
  [[nodiscard]] bool allows_common_name(std::string_view cn) const {
    if (cn.empty()) return true;
    if (std::find(common_names.begin(), common_names.end(), cn) != common_names.end()) return true;
    return allows_dns(cn);
  }

 private:
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  static std::string normal_suffix(std::string_view s) {
    auto out = lower(s);
    if (!out.empty() && out.front() == '.') out.erase(0, 1);
    return out;
  }
  static bool listed(const std::vector<std::string>& names, const std::string& n) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& x) { return lower(x) == n; });
  }
  static bool below(const std::string& n, const std::string& suffix) {
    return !suffix.empty() && n.size() > suffix.size() + 1 && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0 &&
           n[n.size() - suffix.size() - 1] == '.';
  }
};

/// A certification authority on `Curve`: a certificate (self-signed root or
/// intermediate) and its private key. It issues certificates from PKCS#10
/// requests under its own profile, not the request's: the request supplies
/// only the subject, the subjectAltNames and the key, whose possession it
/// must prove, and only names its `name_policy` allows. Serial numbers are
/// 128 random bits (RFC 5280 §4.1.2.2).
///
/// Security: the CA owns (or shares ownership of) its private key: pass the
/// key by move, or a `shared_ptr` to keep using it elsewhere. Lending a key
/// by reference does not compile, so no CA can outlive its key.
template <signature_scheme Curve>
class certificate_authority {
 public:
  /// A new self-signed root CA. `path_length` limits the intermediates
  /// below it (nullopt: no limit).
  ///
  /// Errors: throws `sepal::error` on RNG or internal failure.
  [[nodiscard]] static certificate_authority create_root(std::shared_ptr<const private_key<Curve>> key,
                                                         const name& subject, std::int64_t not_before,
                                                         std::int64_t not_after,
                                                         std::optional<std::size_t> path_length = std::nullopt,
                                                         Botan::RandomNumberGenerator& rng = system_rng()) {
    if (!key) throw error(errc::invalid_argument);
    return sepal::detail::or_throw(errc::internal_error, [&] {
      Botan::X509_Cert_Options opts;
      opts.common_name = subject.common_name;
      opts.organization = subject.organization;
      opts.org_unit = subject.organizational_unit;
      opts.country = subject.country;
      opts.start = detail::x509_time(not_before);
      opts.end = detail::x509_time(not_after);
      opts.CA_key(path_length.value_or(Botan::Cert_Extension::NO_CERT_PATH_LIMIT));
      opts.constraints = Botan::Key_Constraints(Botan::Key_Constraints::KeyCertSign | Botan::Key_Constraints::CrlSign |
                                                Botan::Key_Constraints::DigitalSignature);
      auto cert = Botan::X509::create_self_signed_cert(opts, key->botan(), std::string(sepal::detail::x509_hash<Curve>), rng);
      return certificate_authority(certificate(std::move(cert)), std::move(key));
    });
  }
  /// A new self-signed root CA that owns `key` (see above).
  [[nodiscard]] static certificate_authority create_root(private_key<Curve>&& key, const name& subject,
                                                         std::int64_t not_before, std::int64_t not_after,
                                                         std::optional<std::size_t> path_length = std::nullopt,
                                                         Botan::RandomNumberGenerator& rng = system_rng()) {
    return create_root(std::make_shared<const private_key<Curve>>(std::move(key)), subject, not_before, not_after,
                       path_length, rng);
  }
  /// Lending the key is refused: the CA would outlive it (a temporary, or a
  /// key going out of scope). Move it in or share it.
  static certificate_authority create_root(const private_key<Curve>& key, const name& subject, std::int64_t not_before,
                                           std::int64_t not_after, std::optional<std::size_t> path_length = std::nullopt,
                                           Botan::RandomNumberGenerator& rng = system_rng()) = delete;

  /// An existing CA: `cert` (a CA certificate) and its private `key`.
  ///
  /// Errors: `invalid_argument` when `cert` is not a CA certificate or
  /// `key` is not its key. Never throws.
  [[nodiscard]] static result<certificate_authority> from(certificate cert,
                                                         std::shared_ptr<const private_key<Curve>> key) noexcept {
    return sepal::detail::guarded<result<certificate_authority>>(
        errc::invalid_argument, [&]() -> result<certificate_authority> {
          if (!key) return errc::invalid_argument;
          const auto pub = cert.template public_key<Curve>();
          if (!cert.is_ca() || !pub || !(*pub == key->public_key())) return errc::invalid_argument;
          return certificate_authority(std::move(cert), std::move(key));
        });
  }
  /// An existing CA that owns `key`; on an error the key is dropped.
  [[nodiscard]] static result<certificate_authority> from(certificate cert, private_key<Curve>&& key) noexcept {
    return sepal::detail::guarded<result<certificate_authority>>(errc::internal_error, [&] {
      return from(std::move(cert), std::make_shared<const private_key<Curve>>(std::move(key)));
    });
  }
  /// Lending the key is refused (see `create_root`).
  static result<certificate_authority> from(certificate cert, const private_key<Curve>& key) = delete;

  /// Issues an end-entity certificate for `request`, if every name it asks
  /// for (subjectAltNames and subject CN) is in `allowed`.
  ///
  /// Errors: `invalid_signature` when the request is not signed by its own
  /// key; `unknown_identity` when it asks for a name `allowed` does not
  /// allow (a wildcard, a name outside the suffixes, an email or
  /// directory-name SAN); `invalid_argument` for a validity outside this
  /// CA's own. Throws `sepal::error` only on RNG or internal failure.
  ///
  /// Security: the certificate carries exactly the request's DNS, IPv4 and
  /// URI names; which requester may have which names is the caller's policy.
  [[nodiscard]] result<certificate> issue(const certificate_request& request, usage purpose, const name_policy& allowed,
                                          std::int64_t not_before, std::int64_t not_after,
                                          Botan::RandomNumberGenerator& rng = system_rng()) const {
    if (!names_allowed(request, allowed)) return errc::unknown_identity;
    std::vector<Botan::OID> eku;
    if (purpose != usage::client) eku.push_back(Botan::OID::from_string(sepal::detail::eku_server_auth));
    if (purpose != usage::server) eku.push_back(Botan::OID::from_string(sepal::detail::eku_client_auth));
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(false), true);
    ext.add(std::make_unique<Botan::Cert_Extension::Key_Usage>(Botan::Key_Constraints::DigitalSignature), true);
    ext.add(std::make_unique<Botan::Cert_Extension::Extended_Key_Usage>(eku));
    return make(request, std::move(ext), true, not_before, not_after, rng);
  }

  /// Issues an intermediate CA certificate for `request`; `path_length`
  /// limits the CAs below it (RFC 5280 §4.2.1.9). The request's
  /// subjectAltNames are not copied (no name policy applies: an intermediate
  /// without name constraints can issue for any name).
  ///
  /// Errors: as `issue`, without `unknown_identity`.
  [[nodiscard]] result<certificate> issue_intermediate(const certificate_request& request,
                                                       std::optional<std::size_t> path_length, std::int64_t not_before,
                                                       std::int64_t not_after,
                                                       Botan::RandomNumberGenerator& rng = system_rng()) const {
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(
                true, path_length.value_or(Botan::Cert_Extension::NO_CERT_PATH_LIMIT)),
            true);
    ext.add(std::make_unique<Botan::Cert_Extension::Key_Usage>(
                Botan::Key_Constraints(Botan::Key_Constraints::KeyCertSign | Botan::Key_Constraints::CrlSign)),
            true);
    return make(request, std::move(ext), false, not_before, not_after, rng);
  }

  /// Records `cert` as revoked for `reason`; the next `crl()` lists it.
  void revoke(const certificate& cert, revocation_reason reason = revocation_reason::Unspecified) {
    m_revoked.emplace_back(cert.botan(), reason);
  }

  /// A CRL (RFC 5280 §5) signed by this CA, listing every revoked
  /// certificate, valid from `this_update` until `next_update`.
  ///
  /// Errors: throws `sepal::error` on RNG or internal failure.
  [[nodiscard]] revocation_list crl(std::int64_t this_update, std::int64_t next_update,
                                    Botan::RandomNumberGenerator& rng = system_rng()) const {
    return sepal::detail::or_throw(errc::internal_error, [&] {
      const Botan::X509_CA ca(m_cert.botan(), m_key->botan(), std::string(sepal::detail::x509_hash<Curve>), rng);
      const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(this_update));
      const std::chrono::seconds validity(next_update - this_update);
      return revocation_list(ca.update_crl(ca.new_crl(rng, at, validity), m_revoked, rng, at, validity));
    });
  }

  /// This CA's certificate.
  [[nodiscard]] const certificate& cert() const noexcept { return m_cert; }

 private:
  certificate_authority(certificate cert, std::shared_ptr<const private_key<Curve>> key)
      : m_cert(std::move(cert)), m_key(std::move(key)) {}

  // Every name of the request is in `allowed` and of a kind sepal carries.
  static bool names_allowed(const certificate_request& request, const name_policy& allowed) {
    return sepal::detail::or_throw(errc::internal_error, [&] {
      const auto& alt = request.botan().subject_alt_name();
      // Email, directory and other names (anything but DNS, IPv4 and URI) are refused.
      if (alt.count() != alt.dns_names().size() + alt.ipv4_addresses().size() + alt.uri_names().size()) return false;
      const auto names = detail::from_alt(alt);
      for (const auto& d : names.dns)
        if (!allowed.allows_dns(d)) return false;
      for (const auto& ip : names.ip)
        if (!allowed.allows_ip(ip)) return false;
      for (const auto& u : names.uri)
        if (!allowed.allows_uri(u)) return false;
      // Every CN attribute, not only the first a verifier might read.
      for (const auto& cn : request.botan().subject_dn().get_attribute(sepal::detail::dn_common_name))
        if (!allowed.allows_common_name(cn)) return false;
      return true;
    });
  }

  result<certificate> make(const certificate_request& request, Botan::Extensions ext, bool with_names,
                           std::int64_t not_before, std::int64_t not_after, Botan::RandomNumberGenerator& rng) const {
    if (!request.verify_signature()) return errc::invalid_signature;  // proof of possession
    if (not_before >= not_after || not_before < m_cert.not_before() || not_after > m_cert.not_after())
      return errc::invalid_argument;
    return sepal::detail::or_throw(errc::internal_error, [&]() -> result<certificate> {
      const auto& req = request.botan();
      // Only the DNS, IPv4 and URI names the policy checked (RFC 5280 §4.2.1.6).
      const auto alt = detail::to_alt(detail::from_alt(req.subject_alt_name()));
      if (with_names && alt.has_items())
        ext.add(std::make_unique<Botan::Cert_Extension::Subject_Alternative_Name>(alt));
      ext.add(std::make_unique<Botan::Cert_Extension::Subject_Key_ID>(req.raw_public_key(),
                                                                       sepal::detail::key_id_hash));
      ext.add(std::make_unique<Botan::Cert_Extension::Authority_Key_ID>(m_cert.botan().subject_key_id()));
      Botan::X509_CA ca(m_cert.botan(), m_key->botan(), std::string(sepal::detail::x509_hash<Curve>), rng);
      const auto serial_bytes = random_bytes<16>(rng);
      const Botan::BigInt serial = Botan::BigInt::from_bytes(serial_bytes);
      return certificate(Botan::X509_CA::make_cert(ca.signature_op(), rng, serial, ca.algorithm_identifier(),
                                                   req.raw_public_key(), detail::x509_time(not_before),
                                                   detail::x509_time(not_after), m_cert.botan().subject_dn(),
                                                   req.subject_dn(), ext));
    });
  }

  certificate m_cert;
  std::shared_ptr<const private_key<Curve>> m_key;
  std::vector<Botan::CRL_Entry> m_revoked;
};

}  // namespace sepal::pki

#endif
