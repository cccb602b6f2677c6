// sepal-bench, certificates: certificate-authenticated sepal handshakes per
// second (server chain only, and mutual), mutual TLS 1.3 handshakes per
// second through sepal's Botan::TLS channel (which takes X25519MLKEM768), and
// OpenSSL's in-memory TLS 1.3 mutual handshake (P-256 key share) from the
// same run (when OpenSSL was found) for scale.
// One thread plays both sides; every handshake validates the peer's chain.

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include <sepal/handshake/certificates.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/pki/authority.hpp>
#include <sepal/tls/channel.hpp>

#include "bench_common.hpp"

namespace bench {
namespace {

namespace hs = sepal::handshake;
namespace pki = sepal::pki;
namespace tls = sepal::tls;
using key = sepal::private_key<sepal::p256>;

struct fixture {
  std::int64_t now = std::time(nullptr);
  std::shared_ptr<const key> server_key = std::make_shared<const key>(key::generate()),
                             client_key = std::make_shared<const key>(key::generate());
  pki::certificate_authority<sepal::p256> root =
      pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"bench root"}, now - 3600, now + 86400 * 30);
  std::vector<pki::certificate> server_chain{
      root.issue(pki::certificate_request::create(*server_key, {"bench.example"}, {{"bench.example"}, {}, {}}),
                 pki::usage::server, {.dns = {"bench.example"}}, now - 60, now + 86400)
          .value()};
  std::vector<pki::certificate> client_chain{
      root.issue(pki::certificate_request::create(*client_key, {"bench-client"}), pki::usage::client,
                 {.common_names = {"bench-client"}}, now - 60, now + 86400)
          .value()};
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  fixture() { anchors->add(root.cert()); }
};

double sepal_certificate_handshakes(const fixture& f, const options& opt, bool mutual) {
  hs::server_config<hs::default_suite> sc{hs::certified_identity<hs::default_suite>(f.server_key, f.server_chain)};
  if (mutual) sc.verify_client_chain = hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::client);
  hs::client_config<hs::default_suite> cc{std::nullopt, mutual ? f.client_key : nullptr,
                                          hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::server, "bench.example"),
                                          mutual ? hs::to_der_chain(f.client_chain) : hs::der_chain{}};
  const auto now = static_cast<std::uint64_t>(f.now);
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          auto c = hs::client_handshake<hs::default_suite>::start(cc);
          auto s = hs::server_handshake<hs::default_suite>::accept(sc, c.client_hello());
          auto cd = c.receive(s->server_hello(), now);
          if (!cd || !s->receive(cd->client_finished(), now)) std::abort();
        }
      },
      opt);
}

double sepal_mtls_handshakes(const fixture& f, const options& opt) {
  const tls::config sc{tls::identity::from(f.server_key, f.server_chain), f.anchors};
  const tls::config cc{tls::identity::from(f.client_key, f.client_chain), f.anchors, "bench.example"};
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          auto client = tls::channel::client(cc);
          auto server = tls::channel::server(sc);
          for (int round = 0; round < 10 && !(client.established() && server.established()); ++round) {
            if (!server.receive(client.take_output()) || !client.receive(server.take_output())) std::abort();
          }
          if (!client.established() || !server.established()) std::abort();
        }
      },
      opt);
}

}  // namespace

/// Nested SEQUENCEs, `depth` deep, with indefinite lengths (0x30 0x80 ...
/// 0x00 0x00): the shape behind CVE-2026-44378 (CPU denial of service in
/// Botan's BER decoder before 3.12.0).
std::vector<std::uint8_t> nested_ber(std::size_t depth) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < depth; ++i) out.insert(out.end(), {0x30, 0x80});
  for (std::size_t i = 0; i < depth; ++i) out.insert(out.end(), {0x00, 0x00});
  return out;
}

/// Microseconds for every sepal parser to reject one hostile BER input.
double hostile_ber_us(const options& opt, std::size_t depth) {
  const auto input = nested_ber(depth);
  const auto t = measure(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          if (sepal::public_key<sepal::p256>::from_der(input) || sepal::private_key<sepal::p256>::from_der(input) ||
              pki::certificate::from_der(input) || pki::certificate_request::from_der(input) ||
              pki::revocation_list::from_der(input))
            std::abort();
        }
      },
      opt, {}, 64);
  return t.ns / 1000.0;
}

section bench_pki(const options& opt, double openssl_mutual_per_s) {
  std::fprintf(stderr, "  certificates (sepal handshake, mTLS)\n");
  const fixture f;
  const double server_only = sepal_certificate_handshakes(f, opt, false);
  const double mutual = sepal_certificate_handshakes(f, opt, true);
  const double mtls = sepal_mtls_handshakes(f, opt);
  section s;
  char line[512];
  std::snprintf(line, sizeof line,
                "\ncertificate handshakes/s (one thread, both sides, P-256, leaf under a root, chain validated): "
                "sepal handshake %.0f, mutual %.0f; mTLS 1.3 (sepal channel on Botan::TLS, X25519MLKEM768) %.0f",
                server_only, mutual, mtls);
  s.text = line;
  if (openssl_mutual_per_s > 0) {
    std::snprintf(line, sizeof line, "; OpenSSL TLS 1.3 mutual, P-256 key share %.0f (sepal mTLS/OpenSSL %.2f)", openssl_mutual_per_s,
                  mtls / openssl_mutual_per_s);
    s.text += line;
  }
  s.text += "\n";
  const double ber_small = hostile_ber_us(opt, 64), ber_deep = hostile_ber_us(opt, 4096);
  std::snprintf(line, sizeof line,
                "hostile BER (nested indefinite-length SEQUENCEs) rejected by all five DER parsers: "
                "%.1f us at depth 64, %.1f us at depth 4096 (%zu bytes)\n",
                ber_small, ber_deep, nested_ber(4096).size());
  s.text += line;
  s.json_key = "certificate_handshakes_per_s";
  std::snprintf(line, sizeof line,
                "{\"sepal_certificate\": %.1f, \"sepal_certificate_mutual\": %.1f, \"sepal_mtls13\": %.1f, "
                "\"openssl_tls13_mutual\": %.1f, \"hostile_ber_us_depth_64\": %.2f, \"hostile_ber_us_depth_4096\": %.2f}",
                server_only, mutual, mtls, openssl_mutual_per_s, ber_small, ber_deep);
  s.json_value = line;
  return s;
}

}  // namespace bench
