#ifndef SEPAL_HANDSHAKE_CERTIFICATES_HPP
#define SEPAL_HANDSHAKE_CERTIFICATES_HPP

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../pki/certificate.hpp"
#include "../pki/validation.hpp"
#include "credentials.hpp"
#include "suite.hpp"

/// X.509 for the sepal handshake (docs/protocol.md §3.2, §3.3): identities
/// backed by a certificate chain, and chain verifiers from a trust store.
namespace sepal::handshake {

/// The DER encodings of `chain` (leaf first), as the handshake carries them.
[[nodiscard]] inline der_chain to_der_chain(std::span<const pki::certificate> chain) {
  der_chain out;
  for (const auto& c : chain) out.push_back(c.to_der());
  return out;
}

/// A server identity that signs with `key` (shared with the identity) and
/// presents `chain` (leaf first, without the root).
///
/// Errors: throws `sepal::error(invalid_argument)` when the leaf does not
/// hold `key`, or the chain is empty or too long.
template <handshake_suite Suite>
[[nodiscard]] server_identity<Suite> certified_identity(shared_private_key<typename Suite::sig> key,
                                                         std::span<const pki::certificate> chain) {
  if (chain.empty() || !key) throw error(errc::invalid_argument);
  const auto leaf_key = chain.front().template public_key<typename Suite::sig>();
  if (!leaf_key || !(*leaf_key == key->public_key())) throw error(errc::invalid_argument);
  return server_identity<Suite>::certified(std::move(key), to_der_chain(chain));
}

/// `certified_identity` with the key moved in.
template <handshake_suite Suite>
[[nodiscard]] server_identity<Suite> certified_identity(private_key<typename Suite::sig>&& key,
                                                         std::span<const pki::certificate> chain) {
  return certified_identity<Suite>(share(std::move(key)), chain);
}

/// A chain verifier: RFC 5280 path validation against `anchors` (shared, so
/// the verifier can be copied into configs), for `purpose` (server or
/// client authentication, the leaf's extendedKeyUsage required) and
/// `hostname`; then the leaf's key on `Sig`.
///
/// Errors: throws `sepal::error(invalid_argument)` when `anchors` is null,
/// `purpose` is `any`, or `purpose` is `server` and `hostname` is empty:
/// verifying a server needs the host it must be (a DNS name or an IP), or
/// the explicit `pki::any_host_name_i_trust_every_leaf`. The verifier
/// itself never throws: `invalid_encoding` for DER that does not parse,
/// `unknown_identity` for a chain the anchors do not vouch for (for this
/// purpose and host), `wrong_algorithm` for a leaf key not on `Sig`.
///
/// Security: for `client`, any client certificate under `anchors` passes;
/// which client may do what is the caller's decision (from the leaf).
template <signature_scheme Sig>
[[nodiscard]] chain_verifier<Sig> x509_verifier(std::shared_ptr<const pki::trust_store> anchors, pki::purpose purpose,
                                                pki::expected_host hostname = {}) {
  if (!anchors || purpose == pki::purpose::any || (purpose == pki::purpose::server && hostname.empty()))
    throw error(errc::invalid_argument);
  return [anchors = std::move(anchors), purpose, hostname = std::move(hostname)](
             std::span<const std::span<const std::uint8_t>> der, std::uint64_t now) -> result<public_key<Sig>> {
    std::vector<pki::certificate> chain;
    for (const auto c : der) {
      auto cert = pki::certificate::from_der(c);
      if (!cert) return cert.error();
      chain.push_back(std::move(*cert));
    }
    try {  // verify_chain throws only for the options, checked above
      const auto verified =
          pki::verify_chain(chain, *anchors, {static_cast<std::int64_t>(now), hostname, purpose, false});
      if (!verified) return errc::unknown_identity;
      return verified.leaf().template public_key<Sig>();
    } catch (...) {
      return errc::internal_error;
    }
  };
}

}  // namespace sepal::handshake

#endif
