// A tiny CA workflow: create a root CA and an intermediate, have a service
// make a key and a CSR, issue its certificate, verify the chain, revoke it
// and verify again. Writes the PEM files to a folder so the openssl CLI can
// check them too:
//
//   ca_workflow [folder]
//   openssl verify -CAfile folder/root.pem -untrusted folder/intermediate.pem folder/service.pem

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <botan/hex.h>

#include <sepal/pki/authority.hpp>
#include <sepal/pki/validation.hpp>

namespace pki = sepal::pki;
using key = sepal::private_key<sepal::p256>;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "sepal-ca";
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const std::string& pem) { std::ofstream(dir / name) << pem; };
  const std::int64_t now = std::time(nullptr), day = 86400;

  // 1. The root CA (offline in real life) and an intermediate that issues day to day.
  // Each CA owns its key (moved in).
  const auto root = pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"Example Root CA", "Example"},
                                                                         now - day, now + 3650 * day, 1);
  auto inter_key = key::generate();
  const auto inter_csr = pki::certificate_request::create(inter_key, {"Example Issuing CA", "Example"});
  const auto inter_cert = root.issue_intermediate(inter_csr, 0, now - day, now + 1825 * day).value();
  auto inter = pki::certificate_authority<sepal::p256>::from(inter_cert, std::move(inter_key)).value();
  write("root.pem", root.cert().to_pem());
  write("intermediate.pem", inter_cert.to_pem());
  std::printf("root CA:         %s\n", root.cert().subject().common_name.c_str());
  std::printf("intermediate CA: %s (issued by %s)\n", inter_cert.subject().common_name.c_str(),
              inter_cert.issuer().common_name.c_str());

  // 2. The service makes its key and CSR; only the CSR travels to the CA.
  const auto service_key = key::generate();
  service_key.save_pem(dir / "service.key");
  const auto csr = pki::certificate_request::create(service_key, {"api.example.com"},
                                                    {{"api.example.com"}, {"127.0.0.1"}, {}});
  write("service.csr", csr.to_pem());
  const auto received = pki::certificate_request::from_pem(csr.to_pem()).value();
  std::printf("CSR for %s: proof of possession %s\n", received.subject().common_name.c_str(),
              received.verify_signature() ? "ok" : "FAILED");

  // 3. The CA issues under its own profile (server auth, 90 days) and only
  //    the names this service may have: a request for anything else (another
  //    service's name, a wildcard) gets an error, not a certificate.
  const pki::name_policy service_names{.dns = {"api.example.com"}, .ip = {"127.0.0.1"}};
  const auto cert = inter.issue(received, pki::usage::server, service_names, now, now + 90 * day).value();
  const auto greedy = pki::certificate_request::create(service_key, {"api.example.com"}, {{"*.example.com"}, {}, {}});
  const auto refused = inter.issue(greedy, pki::usage::server, service_names, now, now + 90 * day);
  std::printf("CSR for *.example.com: %s\n", refused ? "issued?!" : std::string(sepal::describe(refused.error())).c_str());
  write("service.pem", cert.to_pem());
  std::printf("issued serial %s, valid %lld days, fingerprint %s\n", cert.serial().c_str(),
              static_cast<long long>((cert.not_after() - cert.not_before()) / day),
              Botan::hex_encode(cert.fingerprint()).substr(0, 16).c_str());

  // 4. A client verifies the chain for the host it connects to.
  pki::trust_store anchors;
  anchors.add(root.cert());
  const std::vector<pki::certificate> chain{cert, inter_cert};
  const auto ok = pki::verify_chain(chain, anchors, {0, "api.example.com", pki::purpose::server, false});
  std::printf("verify for api.example.com: %s\n", ok ? "ok" : std::string(pki::describe(ok.error())).c_str());
  const auto wrong = pki::verify_chain(chain, anchors, {0, "evil.example.com", pki::purpose::server, false});
  std::printf("verify for evil.example.com: %s\n", wrong ? "ok?!" : std::string(pki::describe(wrong.error())).c_str());

  // 5. The key leaks: revoke, publish a CRL, verify again.
  inter.revoke(cert, pki::revocation_reason::KeyCompromise);
  const auto crl = inter.crl(now, now + 7 * day);
  write("intermediate.crl", crl.to_pem());
  anchors.add(crl);
  const auto revoked = pki::verify_chain(chain, anchors, {0, "api.example.com", pki::purpose::server, false});
  std::printf("after revocation: %s\n", revoked ? "ok?!" : std::string(pki::describe(revoked.error())).c_str());
  std::printf("PEM files in %s\n", dir.c_str());
  return !refused && ok && !wrong && !revoked && revoked.error() == pki::chain_error::revoked ? 0 : 1;
}
