#ifndef SEPAL_PKI_VALIDATION_HPP
#define SEPAL_PKI_VALIDATION_HPP

#include <botan/certstor.h>
#include <botan/x509path.h>

#include <algorithm>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/botan_algorithms.hpp"
#include "../detail/boundary.hpp"
#include "../error.hpp"
#include "certificate.hpp"

namespace sepal::pki {

/// What a chain must be good for (RFC 5280 §4.2.1.12 and its key usage).
enum class purpose { any, server, client };

/// Why a chain was rejected.
enum class chain_error {
  untrusted,          ///< no path to a trust anchor (unknown issuer, missing intermediate)
  expired,            ///< a certificate (or a needed CRL) is past notAfter
  not_yet_valid,      ///< a certificate is before notBefore
  bad_signature,      ///< a signature in the path (or of a CRL) does not verify
  wrong_usage,        ///< the leaf's key usage or EKU does not allow the purpose
  hostname_mismatch,  ///< the leaf names another host
  revoked,            ///< a CRL from the issuer lists a certificate of the path
  path_length,        ///< a CA's pathLenConstraint is exceeded
  not_a_ca,           ///< an issuer in the path is not a CA (cA false, or no keyCertSign)
  no_revocation_data, ///< revocation data was required and is missing
  malformed,          ///< empty chain, too long, or another structural problem
  other,              ///< anything else Botan's validation reports (see `details`)
};

/// A short name for logs.
[[nodiscard]] constexpr std::string_view describe(chain_error e) noexcept {
  switch (e) {
    case chain_error::untrusted: return "no path to a trust anchor";
    case chain_error::expired: return "certificate expired";
    case chain_error::not_yet_valid: return "certificate not yet valid";
    case chain_error::bad_signature: return "bad signature in the chain";
    case chain_error::wrong_usage: return "certificate not valid for this purpose";
    case chain_error::hostname_mismatch: return "certificate does not match the host name";
    case chain_error::revoked: return "certificate revoked";
    case chain_error::path_length: return "path length constraint exceeded";
    case chain_error::not_a_ca: return "issuer is not a CA";
    case chain_error::no_revocation_data: return "no revocation data";
    case chain_error::malformed: return "malformed chain";
    case chain_error::other: return "chain rejected";
  }
  return "chain rejected";
}

/// Trust anchors (root CA certificates) and CRLs, in memory.
class trust_store {
 public:
  /// Trusts `anchor` as a root of certification paths.
  trust_store& add(const certificate& anchor) {
    m_store.add_certificate(anchor.botan());
    return *this;
  }
  /// Adds a CRL (its signature is checked during validation).
  trust_store& add(const revocation_list& crl) {
    m_store.add_crl(crl.botan());
    return *this;
  }
  [[nodiscard]] const Botan::Certificate_Store& botan() const noexcept { return m_store; }

 private:
  Botan::Certificate_Store_In_Memory m_store;
};

/// The tag type of `any_host_name_i_trust_every_leaf`.
struct any_host_name_t {
  explicit constexpr any_host_name_t() = default;
};

/// The explicit opt-out from the host-name check when verifying a server:
/// every serverAuth leaf under the anchors is accepted, whatever host it
/// names.
///
/// Security: with a CA shared by several services (tenants), any of them can
/// then impersonate any other. Use only where the anchors certify exactly one
/// service, or where the caller checks the leaf's names itself.
inline constexpr any_host_name_t any_host_name_i_trust_every_leaf{};

/// The host a server certificate must name: a DNS name or a dotted IPv4
/// address (matched against the leaf's DNS/IP subjectAltNames, RFC 6125
/// §6.4), or the explicit opt-out `any_host_name_i_trust_every_leaf`. A DNS
/// name falls back to the subject CN only when the leaf has no
/// subjectAltName extension at all (Botan's, 3.7 through 3.13:
/// `X509_Certificate::matches_dns_name`): a leaf whose only SANs are URIs
/// or IP addresses is not matched by its CN, which is stricter than "no DNS
/// SAN" and what RFC 6125 §6.4.4 asks for URI-IDs. An IPv4 address matches
/// only an IP SAN, never the CN.
///
/// Default-constructed (or from an empty string) it names nothing, which
/// verifying a server refuses: there is no silent "any host".
class expected_host {
 public:
  /// No host: refused when verifying a server (see `verify_chain`).
  expected_host() = default;
  /// The host `name` (empty: no host).
  expected_host(std::string name) : m_name(std::move(name)) {}
  /// The host `name` (empty: no host).
  expected_host(const char* name) : m_name(name ? name : "") {}
  /// The opt-out: no host-name check.
  expected_host(any_host_name_t) noexcept : m_any(true) {}

  /// True for the opt-out.
  [[nodiscard]] bool is_any() const noexcept { return m_any; }
  /// True when neither a host nor the opt-out was given.
  [[nodiscard]] bool empty() const noexcept { return !m_any && m_name.empty(); }
  /// The host name; empty for the opt-out.
  [[nodiscard]] const std::string& name() const noexcept { return m_name; }

 private:
  std::string m_name;
  bool m_any = false;
};

/// How the leaf's extendedKeyUsage (RFC 5280 §4.2.1.12) is read for
/// `purpose::server` and `purpose::client`.
enum class eku_policy {
  /// The extension must be present and list the purpose (serverAuth or
  /// clientAuth); anyExtendedKeyUsage alone does not count. The default,
  /// and what sepal's CA issues.
  required,
  /// RFC 5280 semantics: a leaf without the extension is good for any
  /// purpose; with it, it must list the purpose (or anyExtendedKeyUsage).
  /// For certificates from CAs that omit the extension.
  absent_means_any,
};

/// Validation settings.
struct verify_options {
  std::int64_t time = 0;  ///< Unix seconds; 0: now
  /// The host the leaf must name; required for `purpose::server` (a name, an
  /// IP, or `any_host_name_i_trust_every_leaf`), optional otherwise.
  expected_host hostname{};
  /// What the leaf must be good for. `any` checks neither the EKU nor the
  /// key usage: for CA tooling, not for authenticating a peer.
  pki::purpose purpose = pki::purpose::any;
  bool require_revocation_data = false;  ///< the leaf needs a CRL from its issuer (Botan's rule)
  eku_policy extended_key_usage = eku_policy::required;  ///< see `eku_policy`
};

/// The outcome of chain validation: the verified path, or why not.
class chain_verification {
 public:
  [[nodiscard]] bool has_value() const noexcept { return !m_error.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// Why the chain was rejected; meaningless on success.
  [[nodiscard]] chain_error error() const noexcept { return m_error.value_or(chain_error::other); }
  /// Botan's description of the status, for logs.
  [[nodiscard]] const std::string& details() const noexcept { return m_details; }
  /// The leaf, on success.
  [[nodiscard]] const certificate& leaf() const { return m_chain.front(); }
  /// The certification path, leaf first, up to the trust anchor.
  [[nodiscard]] const std::vector<certificate>& path() const noexcept { return m_chain; }

  chain_verification(chain_error e, std::string details) : m_error(e), m_details(std::move(details)) {}
  explicit chain_verification(std::vector<certificate> path) : m_chain(std::move(path)) {}

 private:
  std::optional<chain_error> m_error;
  std::string m_details;
  std::vector<certificate> m_chain;
};

namespace detail {

inline chain_error classify(Botan::Certificate_Status_Code c) noexcept {
  using S = Botan::Certificate_Status_Code;
  switch (c) {
    case S::CERT_HAS_EXPIRED:
    case S::CRL_HAS_EXPIRED: return chain_error::expired;
    case S::CERT_NOT_YET_VALID:
    case S::CRL_NOT_YET_VALID: return chain_error::not_yet_valid;
    case S::CERT_ISSUER_NOT_FOUND:
    case S::CANNOT_ESTABLISH_TRUST:
    case S::CHAIN_LACKS_TRUST_ROOT:
    case S::CERT_CHAIN_LOOP:
    case S::CHAIN_NAME_MISMATCH: return chain_error::untrusted;
    case S::SIGNATURE_ERROR:
    case S::CRL_BAD_SIGNATURE:
    case S::CERT_PUBKEY_INVALID: return chain_error::bad_signature;
    case S::INVALID_USAGE: return chain_error::wrong_usage;
    case S::CERT_NAME_NOMATCH: return chain_error::hostname_mismatch;
    case S::CERT_IS_REVOKED: return chain_error::revoked;
    case S::CERT_CHAIN_TOO_LONG: return chain_error::path_length;
    case S::CA_CERT_NOT_FOR_CERT_ISSUER:
    case S::CA_CERT_NOT_FOR_CRL_ISSUER: return chain_error::not_a_ca;
    case S::NO_REVOCATION_DATA: return chain_error::no_revocation_data;
    default: return chain_error::other;
  }
}

inline Botan::Usage_Type usage_of(purpose p) noexcept {
  switch (p) {
    case purpose::server: return Botan::Usage_Type::TLS_SERVER_AUTH;
    case purpose::client: return Botan::Usage_Type::TLS_CLIENT_AUTH;
    case purpose::any: return Botan::Usage_Type::UNSPECIFIED;
  }
  return Botan::Usage_Type::UNSPECIFIED;
}

}  // namespace detail

/// True when `leaf`'s extendedKeyUsage allows `p` under `policy`
/// (RFC 5280 §4.2.1.12). `purpose::any` is always allowed.
[[nodiscard]] inline bool extended_key_usage_allows(const certificate& leaf, purpose p, eku_policy policy) noexcept {
  try {
    if (p == purpose::any) return true;
    const auto wanted = Botan::OID::from_string(p == purpose::server ? sepal::detail::eku_server_auth
                                                                      : sepal::detail::eku_client_auth);
    const auto& eku = leaf.botan().extended_key_usage();
    if (eku.empty()) return policy == eku_policy::absent_means_any;
    if (std::find(eku.begin(), eku.end(), wanted) != eku.end()) return true;
    // anyExtendedKeyUsage (RFC 5280 §4.2.1.12) counts only under RFC 5280 semantics.
    const Botan::OID any_eku{2, 5, 29, 37, 0};
    return policy == eku_policy::absent_means_any && std::find(eku.begin(), eku.end(), any_eku) != eku.end();
  } catch (...) {
    return false;
  }
}

/// Validates `chain` (leaf first, then any intermediates, in any order)
/// against `anchors` with RFC 5280 path validation (Botan's
/// `x509_path_validate`): signatures, validity at `options.time`, basic
/// constraints and path lengths, key usage and EKU for `options.purpose`
/// (EKU per `options.extended_key_usage`: by default it must be present and
/// list the purpose), the host name, and CRLs in the store.
///
/// Errors: throws `sepal::error(invalid_argument)` when `options.purpose` is
/// `server` and `options.hostname` is empty (neither a host nor
/// `any_host_name_i_trust_every_leaf`): a caller bug, caught before any
/// input is looked at. Never throws on the chain's contents.
///
/// Security: a success says the anchors vouch for the leaf for this purpose
/// (and host); which client identity is authorized is the caller's decision.
/// Botan refuses a self-signed end-entity certificate; pin a raw key (the
/// handshake's root-key mode) for self-signed setups.
[[nodiscard]] inline chain_verification verify_chain(std::span<const certificate> chain, const trust_store& anchors,
                                                     const verify_options& options = {}) {
  if (options.purpose == purpose::server && options.hostname.empty()) throw error(errc::invalid_argument);
  try {
    if (chain.empty() || chain.size() > max_chain_length) return {chain_error::malformed, "empty or too long"};
    std::vector<Botan::X509_Certificate> certs;
    for (const auto& c : chain) certs.push_back(c.botan());
    const Botan::Path_Validation_Restrictions restrictions(options.require_revocation_data, 110);
    const auto when = options.time == 0 ? std::chrono::system_clock::now()
                                        : std::chrono::system_clock::time_point(std::chrono::seconds(options.time));
    const auto result = Botan::x509_path_validate(certs, restrictions, anchors.botan(), options.hostname.name(),
                                                  detail::usage_of(options.purpose), when);
    if (!result.successful_validation()) return {detail::classify(result.result()), result.result_string()};
    // Botan reads EKU as RFC 5280 does (absent: any purpose); sepal's
    // default requires it (RFC 5280 §4.2.1.12).
    if (!extended_key_usage_allows(chain.front(), options.purpose, options.extended_key_usage))
      return {chain_error::wrong_usage, "extendedKeyUsage missing or without the purpose"};
    std::vector<certificate> path;
    for (const auto& c : result.cert_path()) path.emplace_back(c);
    return chain_verification(std::move(path));
  } catch (...) {
    return {chain_error::malformed, "exception during validation"};
  }
}

}  // namespace sepal::pki

#endif
