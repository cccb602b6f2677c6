#ifndef SEPAL_PKI_AUTHORITY_HPP
#define SEPAL_PKI_AUTHORITY_HPP

#include <botan/bigint.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <botan/x509self.h>

#include <cstdint>
#include <ctime>
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

/// A certification authority on `Curve`: a certificate (self-signed root or
/// intermediate) and its private key. It issues certificates from PKCS#10
/// requests under its own profile, not the request's: the request supplies
/// only the subject, the subjectAltNames and the key, whose possession it
/// must prove. Serial numbers are 128 random bits (RFC 5280 §4.1.2.2).
///
/// Security: the CA refers to its private key, which must outlive it.
template <signature_scheme Curve>
class certificate_authority {
 public:
  /// A new self-signed root CA. `path_length` limits the intermediates
  /// below it (nullopt: no limit).
  ///
  /// Errors: throws `sepal::error` on RNG or internal failure.
  [[nodiscard]] static certificate_authority create_root(const private_key<Curve>& key, const name& subject,
                                                         std::int64_t not_before, std::int64_t not_after,
                                                         std::optional<std::size_t> path_length = std::nullopt,
                                                         Botan::RandomNumberGenerator& rng = system_rng()) {
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
      auto cert = Botan::X509::create_self_signed_cert(opts, key.botan(), std::string(sepal::detail::x509_hash<Curve>), rng);
      return certificate_authority(certificate(std::move(cert)), key);
    });
  }

  /// An existing CA: `cert` (a CA certificate) and its private `key`.
  ///
  /// Errors: `invalid_argument` when `cert` is not a CA certificate or
  /// `key` is not its key. Never throws.
  [[nodiscard]] static result<certificate_authority> from(certificate cert, const private_key<Curve>& key) noexcept {
    return sepal::detail::guarded<result<certificate_authority>>(
        errc::invalid_argument, [&]() -> result<certificate_authority> {
          const auto pub = cert.template public_key<Curve>();
          if (!cert.is_ca() || !pub || !(*pub == key.public_key())) return errc::invalid_argument;
          return certificate_authority(std::move(cert), key);
        });
  }

  /// Issues an end-entity certificate for `request`.
  ///
  /// Errors: `invalid_signature` when the request is not signed by its own
  /// key; `invalid_argument` for a validity outside this CA's own. Throws
  /// `sepal::error` only on RNG or internal failure.
  [[nodiscard]] result<certificate> issue(const certificate_request& request, usage purpose, std::int64_t not_before,
                                          std::int64_t not_after,
                                          Botan::RandomNumberGenerator& rng = system_rng()) const {
    std::vector<Botan::OID> eku;
    if (purpose != usage::client) eku.push_back(Botan::OID::from_string(sepal::detail::eku_server_auth));
    if (purpose != usage::server) eku.push_back(Botan::OID::from_string(sepal::detail::eku_client_auth));
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(false), true);
    ext.add(std::make_unique<Botan::Cert_Extension::Key_Usage>(Botan::Key_Constraints::DigitalSignature), true);
    ext.add(std::make_unique<Botan::Cert_Extension::Extended_Key_Usage>(eku));
    return make(request, std::move(ext), not_before, not_after, rng);
  }

  /// Issues an intermediate CA certificate for `request`; `path_length`
  /// limits the CAs below it (RFC 5280 §4.2.1.9).
  ///
  /// Errors: as `issue`.
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
    return make(request, std::move(ext), not_before, not_after, rng);
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
  certificate_authority(certificate cert, const private_key<Curve>& key) : m_cert(std::move(cert)), m_key(&key) {}

  result<certificate> make(const certificate_request& request, Botan::Extensions ext, std::int64_t not_before,
                           std::int64_t not_after, Botan::RandomNumberGenerator& rng) const {
    if (!request.verify_signature()) return errc::invalid_signature;  // proof of possession
    if (not_before >= not_after || not_before < m_cert.not_before() || not_after > m_cert.not_after())
      return errc::invalid_argument;
    return sepal::detail::or_throw(errc::internal_error, [&]() -> result<certificate> {
      const auto& req = request.botan();
      const auto& alt = req.subject_alt_name();
      if (alt.has_items()) ext.add(std::make_unique<Botan::Cert_Extension::Subject_Alternative_Name>(alt));
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
  const private_key<Curve>* m_key;
  std::vector<Botan::CRL_Entry> m_revoked;
};

}  // namespace sepal::pki

#endif
