// Test-only: a root CA, an intermediate and two leaves (a server for
// "pq.example.com" and a client "player-9") for signature scheme `Sig`,
// valid around `pki_chain_now`, for the X.509 handshake tests; and the
// three hybrid suites those tests run.
#pragma once

#include <cstdint>
#include <memory>
#include <tuple>

#include <sepal/handshake/certificates.hpp>
#include <sepal/pki/authority.hpp>

namespace sepal_test {

inline constexpr std::uint64_t pki_chain_now = 1'800'000'000;
inline constexpr std::int64_t year = 365 * 86400;

using x25519_hybrid =
    sepal::handshake::suite<sepal::x25519_mlkem768, sepal::ed25519, sepal::chacha20_poly1305>;
using p256_hybrid = sepal::handshake::suite<sepal::secp256r1_mlkem768, sepal::p256>;
using p384_hybrid =
    sepal::handshake::suite<sepal::secp384r1_mlkem1024, sepal::p384, sepal::aes256_gcm, sepal::sha384>;
using hybrid_suites = std::tuple<x25519_hybrid, p256_hybrid, p384_hybrid>;

template <class Sig>
struct pki_chain {
  using key = sepal::private_key<Sig>;
  static constexpr std::int64_t now = pki_chain_now;
  std::shared_ptr<const key> inter_key = std::make_shared<const key>(key::generate());
  sepal::handshake::shared_private_key<Sig> server_key = sepal::handshake::share(key::generate()),
                                            client_key = sepal::handshake::share(key::generate());
  sepal::pki::certificate_authority<Sig> root =
      sepal::pki::certificate_authority<Sig>::create_root(key::generate(), {"test root"}, now - 86400, now + 10 * year);
  sepal::pki::certificate inter_cert =
      root.issue_intermediate(sepal::pki::certificate_request::create(*inter_key, {"test inter"}), 0, now - 86400,
                              now + 5 * year)
          .value();
  sepal::pki::certificate_authority<Sig> inter = sepal::pki::certificate_authority<Sig>::from(inter_cert, inter_key).value();
  sepal::pki::certificate server_cert =
      inter
          .issue(sepal::pki::certificate_request::create(*server_key, {"pq.example.com"}, {{"pq.example.com"}, {}, {}}),
                 sepal::pki::usage::server, {.dns = {"pq.example.com"}}, now - 86400, now + year)
          .value();
  sepal::pki::certificate client_cert =
      inter
          .issue(sepal::pki::certificate_request::create(*client_key, {"player-9"}), sepal::pki::usage::client,
                 {.common_names = {"player-9"}}, now - 86400, now + year)
          .value();
  std::shared_ptr<sepal::pki::trust_store> anchors = std::make_shared<sepal::pki::trust_store>();
  pki_chain() { anchors->add(root.cert()); }
};

}  // namespace sepal_test
