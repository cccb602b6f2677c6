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

/// A server identity that signs with `key` and presents `chain` (leaf first,
/// without the root).
///
/// Errors: throws `sepal::error(invalid_argument)` when the leaf does not
/// hold `key`, or the chain is empty or too long.
template <handshake_suite Suite>
[[nodiscard]] server_identity<Suite> certified_identity(const private_key<typename Suite::sig>& key,
                                                         std::span<const pki::certificate> chain) {
  if (chain.empty()) throw error(errc::invalid_argument);
  const auto leaf_key = chain.front().template public_key<typename Suite::sig>();
  if (!leaf_key || !(*leaf_key == key.public_key())) throw error(errc::invalid_argument);
  return server_identity<Suite>::certified(key, to_der_chain(chain));
}

/// A chain verifier: RFC 5280 path validation against `anchors` (shared, so
/// the verifier can be copied into configs), for `purpose` (server or
/// client authentication) and, when not empty, `hostname`; then the leaf's
/// key on `Sig`.
template <signature_scheme Sig>
[[nodiscard]] chain_verifier<Sig> x509_verifier(std::shared_ptr<const pki::trust_store> anchors, pki::purpose purpose,
                                                std::string hostname = {}) {
  return [anchors = std::move(anchors), purpose, hostname = std::move(hostname)](
             std::span<const std::span<const std::uint8_t>> der, std::uint64_t now) -> result<public_key<Sig>> {
    std::vector<pki::certificate> chain;
    for (const auto c : der) {
      auto cert = pki::certificate::from_der(c);
      if (!cert) return cert.error();
      chain.push_back(std::move(*cert));
    }
    const auto verified = pki::verify_chain(chain, *anchors, {static_cast<std::int64_t>(now), hostname, purpose, false});
    if (!verified) return errc::invalid_signature;
    return verified.leaf().template public_key<Sig>();
  };
}

}  // namespace sepal::handshake

#endif
