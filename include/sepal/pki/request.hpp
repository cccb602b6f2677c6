#ifndef SEPAL_PKI_REQUEST_HPP
#define SEPAL_PKI_REQUEST_HPP

#include <botan/pkcs10.h>
#include <botan/x509_ext.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../concepts.hpp"
#include "../detail/botan_algorithms.hpp"
#include "../detail/boundary.hpp"
#include "../error.hpp"
#include "../keys.hpp"
#include "../rng.hpp"
#include "certificate.hpp"

namespace sepal::pki {

/// A PKCS#10 certificate signing request (RFC 2986): a subject, its
/// subjectAltNames and public key, signed by the private key to prove
/// possession.
///
/// Errors: parsers never throw (`invalid_encoding`, which includes a request
/// whose self-signature does not verify: Botan checks it while parsing).
/// The CA checks `verify_signature` again before issuing.
class certificate_request {
 public:
  /// A request for `key`'s public key, signed with `key`.
  ///
  /// Errors: throws `sepal::error` (`invalid_argument` for a DNS name or
  /// URI that is not valid in a subjectAltName, or an IP SAN that is not
  /// dotted IPv4; `rng_failure`).
  template <signature_scheme Curve>
  [[nodiscard]] static certificate_request create(const private_key<Curve>& key, const name& subject,
                                                  const alt_names& alt = {},
                                                  Botan::RandomNumberGenerator& rng = system_rng()) {
    return sepal::detail::or_throw(errc::internal_error, [&] {
      Botan::Extensions ext;
      if (!alt.dns.empty() || !alt.ip.empty() || !alt.uri.empty())
        ext.add(std::make_unique<Botan::Cert_Extension::Subject_Alternative_Name>(detail::to_alt(alt)));
      return certificate_request(Botan::PKCS10_Request::create(key.botan(), detail::to_dn(subject), ext,
                                                               sepal::detail::x509_hash<Curve>, rng));
    });
  }

  /// Parses DER. Never throws.
  [[nodiscard]] static result<certificate_request> from_der(std::span<const std::uint8_t> der) noexcept {
    return detail::parse_object<certificate_request, Botan::PKCS10_Request>(der, "CERTIFICATE REQUEST");
  }
  /// Parses one PEM "CERTIFICATE REQUEST" block. Never throws.
  [[nodiscard]] static result<certificate_request> from_pem(std::string_view pem) noexcept {
    return detail::parse_pem_object<certificate_request, Botan::PKCS10_Request>(pem, "CERTIFICATE REQUEST");
  }

  [[nodiscard]] std::vector<std::uint8_t> to_der() const { return m_req.BER_encode(); }
  [[nodiscard]] std::string to_pem() const { return m_req.PEM_encode(); }
  [[nodiscard]] pki::name subject() const { return detail::from_dn(m_req.subject_dn()); }
  [[nodiscard]] pki::alt_names alt_names() const { return detail::from_alt(m_req.subject_alt_name()); }

  /// True when the request is signed by the key it carries (proof of
  /// possession). Never throws.
  [[nodiscard]] bool verify_signature() const noexcept {
    try {
      const auto key = m_req.subject_public_key();
      return m_req.check_signature(*key);
    } catch (...) {
      return false;
    }
  }

  [[nodiscard]] const Botan::PKCS10_Request& botan() const noexcept { return m_req; }
  explicit certificate_request(Botan::PKCS10_Request r) : m_req(std::move(r)) {}

 private:
  Botan::PKCS10_Request m_req;
};

}  // namespace sepal::pki

#endif
