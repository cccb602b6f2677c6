#include <catch2/catch_test_macros.hpp>

#include <botan/ber_dec.h>
#include <botan/der_enc.h>
#include <botan/ec_group.h>
#include <botan/pkcs10.h>
#include <botan/pubkey.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>

#include <sepal/pki/authority.hpp>
#include <sepal/pki/validation.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace pki = sepal::pki;
using sepal::errc;

namespace {

constexpr std::int64_t t0 = 1'800'000'000;  // 2027-01-15
constexpr std::int64_t day = 86400, year = 365 * day;

template <class C>
std::shared_ptr<const sepal::private_key<C>> shared_key() {
  return std::make_shared<const sepal::private_key<C>>(sepal::private_key<C>::generate());
}

/// The names the test hierarchy's leaves ask for.
const pki::name_policy server_names{.dns = {"api.example.com", "www.example.com"}, .ip = {"127.0.0.1"}};
const pki::name_policy client_names{.uri = {"spiffe://example.org/billing"}, .common_names = {"billing-service"}};

template <class C>
struct hierarchy {
  std::shared_ptr<const sepal::private_key<C>> root_key = shared_key<C>(), inter_key = shared_key<C>(),
                                               server_key = shared_key<C>(), client_key = shared_key<C>();
  pki::certificate_authority<C> root =
      pki::certificate_authority<C>::create_root(root_key, {"sepal test root", "sepal", "", "DE"}, t0 - day, t0 + 10 * year);
  std::optional<pki::certificate_authority<C>> inter;
  std::optional<pki::certificate> server, client;
  pki::trust_store anchors;

  hierarchy() {
    auto inter_cert = root.issue_intermediate(pki::certificate_request::create(*inter_key, {"sepal test intermediate"}),
                                              0, t0 - day, t0 + 5 * year);
    REQUIRE(inter_cert.has_value());
    inter.emplace(pki::certificate_authority<C>::from(*inter_cert, inter_key).value());
    server = inter->issue(pki::certificate_request::create(*server_key, {"api.example.com"},
                                                           {{"api.example.com", "www.example.com"}, {"127.0.0.1"}, {}}),
                          pki::usage::server, server_names, t0 - day, t0 + year)
                 .value();
    client = inter->issue(pki::certificate_request::create(*client_key, {"billing-service"},
                                                           {{}, {}, {"spiffe://example.org/billing"}}),
                          pki::usage::client, client_names, t0 - day, t0 + year)
                 .value();
    anchors.add(root.cert());
  }
  std::vector<pki::certificate> server_chain() const { return {*server, inter->cert()}; }
  std::vector<pki::certificate> client_chain() const { return {*client, inter->cert()}; }
};

pki::verify_options server_at(std::int64_t t, pki::expected_host host = "api.example.com") {
  return {t, std::move(host), pki::purpose::server, false};
}

/// A certificate made with Botan directly, for shapes sepal's CA refuses to
/// make: signed by `signer_key` under `issuer_dn`, with `ext`.
template <class C>
pki::certificate forge(const sepal::private_key<C>& signer_key, const Botan::X509_DN& issuer_dn,
                       const sepal::private_key<C>& subject_key, const std::string& cn, Botan::Extensions ext) {
  auto& rng = sepal::system_rng();
  Botan::PK_Signer signer(signer_key.botan(), rng, "SHA-256", Botan::Signature_Format::DerSequence);
  Botan::X509_DN subject;
  subject.add_attribute("X520.CommonName", cn);
  return pki::certificate(Botan::X509_CA::make_cert(
      signer, rng, Botan::BigInt(12345), signer.algorithm_identifier(), subject_key.public_key().to_der(),
      pki::detail::x509_time(t0 - day), pki::detail::x509_time(t0 + year), issuer_dn, subject, ext));
}

}  // namespace

TEST_CASE("a CA hierarchy issues certificates that verify for their purpose", "[pki]") {
  hierarchy<sepal::p256> h;
  CHECK(h.root.cert().is_ca());
  CHECK(h.root.cert().subject().common_name == "sepal test root");
  CHECK(h.inter->cert().issuer().common_name == "sepal test root");
  CHECK_FALSE(h.server->is_ca());
  CHECK(h.server->alt_names().dns == std::vector<std::string>{"api.example.com", "www.example.com"});
  CHECK(h.server->alt_names().ip == std::vector<std::string>{"127.0.0.1"});
  CHECK(h.client->alt_names().uri == std::vector<std::string>{"spiffe://example.org/billing"});
  CHECK(h.server->serial().size() >= 30);  // 128 random bits
  CHECK(h.server->serial() != h.client->serial());

  const auto ok = pki::verify_chain(h.server_chain(), h.anchors, server_at(t0));
  REQUIRE(ok.has_value());
  CHECK(ok.path().size() == 3);
  CHECK(ok.leaf().subject().common_name == "api.example.com");
  CHECK(pki::verify_chain(h.server_chain(), h.anchors, server_at(t0, "www.example.com")).has_value());
  CHECK(pki::verify_chain(h.server_chain(), h.anchors, server_at(t0, "127.0.0.1")).has_value());
  CHECK(pki::verify_chain(h.client_chain(), h.anchors, {t0, "", pki::purpose::client, false}).has_value());
  // Intermediates in any order; the leaf's key comes out typed.
  const std::vector<pki::certificate> reversed{*h.server, h.inter->cert()};
  CHECK(pki::verify_chain(reversed, h.anchors, server_at(t0)).has_value());
  CHECK(h.server->public_key<sepal::p256>().value() == h.server_key->public_key());
  CHECK(h.server->public_key<sepal::p384>().error() == errc::wrong_algorithm);
}

TEST_CASE("chains are rejected for every reason, with the reason", "[pki]") {
  hierarchy<sepal::p256> h;
  const auto why = [&](std::span<const pki::certificate> chain, const pki::verify_options& o,
                       const pki::trust_store& anchors) { return pki::verify_chain(chain, anchors, o).error(); };
  const auto chain = h.server_chain();
  CHECK(why(chain, server_at(t0 + 2 * year), h.anchors) == pki::chain_error::expired);
  CHECK(why(chain, server_at(t0 - 2 * day), h.anchors) == pki::chain_error::not_yet_valid);
  CHECK(why(chain, server_at(t0, "evil.example.com"), h.anchors) == pki::chain_error::hostname_mismatch);
  CHECK(why(chain, {t0, "", pki::purpose::client, false}, h.anchors) == pki::chain_error::wrong_usage);
  CHECK(why(h.client_chain(), server_at(t0, pki::any_host_name_i_trust_every_leaf), h.anchors) ==
        pki::chain_error::wrong_usage);
  CHECK(why(chain, server_at(t0), pki::trust_store()) == pki::chain_error::untrusted);
  const std::vector<pki::certificate> no_intermediate{*h.server};
  CHECK(why(no_intermediate, server_at(t0), h.anchors) == pki::chain_error::untrusted);

  SECTION("revoked, through a CRL from the issuer") {
    h.inter->revoke(*h.server, pki::revocation_reason::KeyCompromise);
    const auto crl = h.inter->crl(t0 - 60, t0 + 7 * day);
    CHECK(crl.revokes(*h.server));
    CHECK_FALSE(crl.revokes(*h.client));
    auto with_crl = h.anchors;
    with_crl.add(crl);
    CHECK(why(chain, server_at(t0), with_crl) == pki::chain_error::revoked);
    CHECK(pki::verify_chain(h.client_chain(), with_crl, {t0, "", pki::purpose::client, false}).has_value());
    // Required revocation data: with no CRL from the leaf's issuer, refused.
    CHECK(why(h.client_chain(), {t0, "", pki::purpose::client, true}, h.anchors) ==
          pki::chain_error::no_revocation_data);
    CHECK(pki::verify_chain(h.client_chain(), with_crl, {t0, "", pki::purpose::client, true}).has_value());
    // CRL round trip.
    const auto pem = pki::revocation_list::from_pem(crl.to_pem());
    REQUIRE(pem.has_value());
    CHECK(pem->revokes(*h.server));
    CHECK(pki::revocation_list::from_der(crl.to_der()).has_value());
    CHECK(pem->next_update() == t0 + 7 * day);
  }
  SECTION("path length exceeded") {
    // The intermediate has pathLen 0: a CA below it breaks the path.
    const auto sub_key = shared_key<sepal::p256>();
    auto sub_cert = h.inter->issue_intermediate(pki::certificate_request::create(*sub_key, {"too deep"}), std::nullopt,
                                                t0 - day, t0 + year);
    REQUIRE(sub_cert.has_value());
    const auto sub = pki::certificate_authority<sepal::p256>::from(*sub_cert, sub_key).value();
    const auto leaf_key = sepal::private_key<sepal::p256>::generate();
    const auto leaf = sub.issue(pki::certificate_request::create(leaf_key, {"deep.example.com"}, {{"deep.example.com"}, {}, {}}),
                                pki::usage::server, {.dns = {"deep.example.com"}}, t0 - day, t0 + year)
                          .value();
    const std::vector<pki::certificate> deep{leaf, *sub_cert, h.inter->cert()};
    CHECK(why(deep, server_at(t0, "deep.example.com"), h.anchors) == pki::chain_error::path_length);
  }
  SECTION("an issuer with CA:false") {
    // The server certificate's key signs a certificate: a leaf posing as a CA.
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(false), true);
    const auto victim_key = sepal::private_key<sepal::p256>::generate();
    const auto fake = forge(*h.server_key, h.server->botan().subject_dn(), victim_key, "victim.example.com", ext);
    const std::vector<pki::certificate> c{fake, *h.server, h.inter->cert()};
    CHECK(why(c, {t0, "", pki::purpose::any, false}, h.anchors) == pki::chain_error::not_a_ca);
  }
  SECTION("signed by the wrong key") {
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(false), true);
    const auto mallory = sepal::private_key<sepal::p256>::generate();
    const auto fake = forge(mallory, h.inter->cert().botan().subject_dn(), mallory, "api.example.com", ext);
    const std::vector<pki::certificate> c{fake, h.inter->cert()};
    CHECK(why(c, {t0, "", pki::purpose::any, false}, h.anchors) == pki::chain_error::bad_signature);
  }
  CHECK(why({}, server_at(t0), h.anchors) == pki::chain_error::malformed);
}

TEST_CASE("the CA checks proof of possession and its own validity", "[pki]") {
  hierarchy<sepal::p256> h;
  const auto key = sepal::private_key<sepal::p256>::generate();
  const auto csr = pki::certificate_request::create(key, {"svc"}, {{"svc.example.com"}, {}, {}});
  CHECK(csr.verify_signature());
  CHECK(csr.subject().common_name == "svc");
  CHECK(csr.alt_names().dns == std::vector<std::string>{"svc.example.com"});
  // A changed subject under the old signature, and a request whose key was
  // swapped: Botan refuses both at parse (it checks the self-signature), so
  // no unproven request reaches issue(), which checks again.
  auto der = csr.to_der();
  const std::string cn = "svc";
  auto name_at = std::search(der.begin(), der.end(), cn.begin(), cn.end());
  REQUIRE(name_at != der.end());
  name_at[2] = 'd';
  CHECK(pki::certificate_request::from_der(der).error() == errc::invalid_encoding);
  const auto other = sepal::private_key<sepal::p256>::generate();
  auto swapped = csr.to_der();
  const auto old_spki = key.public_key().to_der();
  const auto new_spki = other.public_key().to_der();
  const auto at = std::search(swapped.begin(), swapped.end(), old_spki.begin(), old_spki.end());
  REQUIRE(at != swapped.end());
  std::copy(new_spki.begin(), new_spki.end(), at);
  CHECK(pki::certificate_request::from_der(swapped).error() == errc::invalid_encoding);
  CHECK(pki::certificate_request::from_pem(csr.to_pem()).value().verify_signature());
  // Validity outside the CA's own, or empty.
  const pki::name_policy svc{.dns = {"svc.example.com"}, .common_names = {"svc"}};
  CHECK(h.inter->issue(csr, pki::usage::server, svc, t0, t0 + 20 * year).error() == errc::invalid_argument);
  CHECK(h.inter->issue(csr, pki::usage::server, svc, t0, t0).error() == errc::invalid_argument);
  // from(): a non-CA certificate, or a key that is not the certificate's.
  CHECK(pki::certificate_authority<sepal::p256>::from(*h.server, h.server_key).error() == errc::invalid_argument);
  CHECK(pki::certificate_authority<sepal::p256>::from(h.root.cert(), h.inter_key).error() == errc::invalid_argument);
  // The CA imposes its profile: a CSR cannot ask to be a CA.
  const auto issued = h.inter->issue(csr, pki::usage::server, svc, t0, t0 + day).value();
  CHECK_FALSE(issued.is_ca());
  CHECK_THROWS_AS(pki::certificate_request::create(key, {"x"}, {{}, {"not-an-ip"}, {}}), sepal::error);
}

TEST_CASE("certificates, requests and CRLs parse strictly and round-trip", "[pki]") {
  hierarchy<sepal::p256> h;
  const auto& c = *h.server;
  CHECK(pki::certificate::from_der(c.to_der()).value().to_der() == c.to_der());
  CHECK(pki::certificate::from_pem(c.to_pem()).value().fingerprint() == c.fingerprint());
  const auto bundle = c.to_pem() + h.inter->cert().to_pem();
  const auto chain = pki::certificate::chain_from_pem(bundle);
  REQUIRE(chain.has_value());
  CHECK(chain->size() == 2);
  CHECK(pki::verify_chain(*chain, h.anchors, server_at(t0)).has_value());
  for (const auto& bad : {std::string(), std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                          c.to_pem().substr(0, 100)}) {
    CHECK(pki::certificate::from_pem(bad).error() == errc::invalid_encoding);
    CHECK_FALSE(pki::certificate::chain_from_pem(bad).has_value());
  }
  // A CSR's PEM is not a certificate.
  CHECK(pki::certificate::from_pem(pki::certificate_request::create(*h.server_key, {"x"}).to_pem()).error() ==
        errc::invalid_encoding);
  auto der = c.to_der();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, der.size() / 2, der.size() - 1})
    CHECK(pki::certificate::from_der(std::span(der).first(n)).error() == errc::invalid_encoding);
  // Too many certificates in a bundle.
  std::string many;
  for (int i = 0; i < 9; ++i) many += c.to_pem();
  CHECK(pki::certificate::chain_from_pem(many).error() == errc::invalid_encoding);
  // Only canonical DER: trailing bytes, or the signature BIT STRING with
  // unused bits set (which Botan's decoder tolerates; found by fuzz_pki),
  // would give one valid certificate several fingerprints.
  auto trailing = der;
  trailing.push_back(0);
  CHECK(pki::certificate::from_der(trailing).error() == errc::invalid_encoding);
  auto unused_bits = der;
  for (std::size_t i = unused_bits.size() - 90; i + 2 < unused_bits.size(); ++i) {
    if (unused_bits[i] == 0x03 && unused_bits[i + 1] == unused_bits.size() - i - 2 && unused_bits[i + 2] == 0) {
      unused_bits[i + 2] = 5;
      break;
    }
  }
  REQUIRE(unused_bits != der);
  CHECK(pki::certificate::from_der(unused_bits).error() == errc::invalid_encoding);
  // PEM-looking text inside DER does not switch Botan to PEM: a DER input
  // is parsed as DER only.
  std::vector<std::uint8_t> trick(der.begin(), der.end());
  const std::string marker = "-----BEGIN CERTIFICATE-----";
  trick.insert(trick.begin() + 20, marker.begin(), marker.end());
  CHECK(pki::certificate::from_der(trick).error() == errc::invalid_encoding);
}

TEST_CASE("Ed25519 and P-384 hierarchies", "[pki]") {
  hierarchy<sepal::ed25519> e;
  CHECK(pki::verify_chain(e.server_chain(), e.anchors, server_at(t0)).has_value());
  hierarchy<sepal::p384> p;
  CHECK(pki::verify_chain(p.server_chain(), p.anchors, server_at(t0)).has_value());
  CHECK(pki::verify_chain(p.server_chain(), e.anchors, server_at(t0)).error() == pki::chain_error::untrusted);
}

namespace {

/// Two services (tenants) under one private CA, as in the issue's attack:
/// each holds a serverAuth certificate for its own name only.
struct tenants {
  hierarchy<sepal::p256> h;
  std::shared_ptr<const sepal::private_key<sepal::p256>> a_key = shared_key<sepal::p256>(), b_key = shared_key<sepal::p256>();
  pki::certificate a = leaf(*a_key, "a.example"), b = leaf(*b_key, "b.example");
  pki::certificate leaf(const sepal::private_key<sepal::p256>& k, const std::string& host) {
    return h.inter
        ->issue(pki::certificate_request::create(k, {host}, {{host}, {}, {}}), pki::usage::server, {.dns = {host}},
                t0 - day, t0 + year)
        .value();
  }
  std::vector<pki::certificate> chain(const pki::certificate& leaf) const { return {leaf, h.inter->cert()}; }
};

errc thrown_code(const auto& f) {
  try {
    (void)f();
  } catch (const sepal::error& e) {
    return e.code();
  }
  return errc::internal_error;  // nothing thrown
}

}  // namespace

TEST_CASE("finding 3: verifying a server needs a host name; tenant b.example does not pass for a.example", "[pki][finding3]") {
  tenants t;
  const auto at = [&](pki::expected_host host) { return pki::verify_options{t0, std::move(host), pki::purpose::server}; };
  CHECK(pki::verify_chain(t.chain(t.a), t.h.anchors, at("a.example")).has_value());
  CHECK(pki::verify_chain(t.chain(t.b), t.h.anchors, at("a.example")).error() == pki::chain_error::hostname_mismatch);
  CHECK(pki::verify_chain(t.chain(t.b), t.h.anchors, at("A.Example")).error() == pki::chain_error::hostname_mismatch);
  // No host name at all: the old code accepted b's certificate here. Now a
  // server check without a host is a caller bug and throws before looking.
  CHECK(thrown_code([&] { return pki::verify_chain(t.chain(t.b), t.h.anchors, at("")); }) == errc::invalid_argument);
  CHECK(thrown_code([&] { return pki::verify_chain(t.chain(t.b), t.h.anchors, at({})); }) == errc::invalid_argument);
  CHECK(thrown_code([&] {
          return pki::verify_chain(t.chain(t.b), t.h.anchors, {t0, {}, pki::purpose::server, false});
        }) == errc::invalid_argument);
  // The opt-out is explicit, and does what it says.
  CHECK(pki::verify_chain(t.chain(t.b), t.h.anchors, at(pki::any_host_name_i_trust_every_leaf)).has_value());
  CHECK(pki::expected_host(pki::any_host_name_i_trust_every_leaf).is_any());
  CHECK(pki::expected_host("").empty());
  // Client certificates need no host name.
  CHECK(pki::verify_chain(t.h.client_chain(), t.h.anchors, {t0, {}, pki::purpose::client}).has_value());
}

TEST_CASE("finding 8: a malleated ECDSA signature (s -> n - s) keeps the certificate's fingerprint", "[pki][finding8]") {
  hierarchy<sepal::p256> h;
  const auto& original = *h.server;
  // Take the certificate apart: TBSCertificate, signatureAlgorithm, and the
  // signature BIT STRING holding ECDSA-Sig-Value SEQUENCE { r, s } (RFC 5480 §2.2.3 / RFC 3279 §2.2.3).
  Botan::BigInt r, s;
  Botan::BER_Decoder(original.botan().signature()).start_sequence().decode(r).decode(s).end_cons().verify_end();
  const auto n = Botan::EC_Group::from_name("secp256r1").get_order();
  const Botan::BigInt s2 = n - s;
  REQUIRE(s2 != s);
  std::vector<std::uint8_t> signature, der;
  Botan::DER_Encoder(signature).start_sequence().encode(r).encode(s2).end_cons();
  Botan::DER_Encoder(der)
      .start_sequence()
      .raw_bytes(original.botan().tbs_data())
      .encode(original.botan().signature_algorithm())
      .encode(signature, Botan::ASN1_Type::BitString)
      .end_cons();
  REQUIRE(der != original.to_der());
  // It parses strictly (canonical DER) and validates: (r, n - s) is a valid ECDSA signature.
  const auto twin = pki::certificate::from_der(der);
  REQUIRE(twin.has_value());
  const std::vector<pki::certificate> chain{*twin, h.inter->cert()};
  CHECK(pki::verify_chain(chain, h.anchors, server_at(t0)).has_value());
  // The DER hashes differ (as openssl's fingerprints would); the identity does not.
  CHECK(twin->der_sha256() != original.der_sha256());
  CHECK(twin->fingerprint() == original.fingerprint());
  // The fingerprint is SHA-256 over the TBSCertificate, and differs between certificates.
  CHECK(original.fingerprint() != h.client->fingerprint());
  CHECK(pki::certificate::from_pem(original.to_pem()).value().fingerprint() == original.fingerprint());
}

TEST_CASE("finding 9: a leaf without extendedKeyUsage is neither a server nor a client certificate", "[pki][finding9]") {
  hierarchy<sepal::p256> h;
  // sepal's CA always adds EKU: make the leaf with Botan directly.
  Botan::Extensions ext;
  ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(false), true);
  ext.add(std::make_unique<Botan::Cert_Extension::Key_Usage>(Botan::Key_Constraints::DigitalSignature), true);
  Botan::AlternativeName alt;
  alt.add_dns("noeku.example.com");
  ext.add(std::make_unique<Botan::Cert_Extension::Subject_Alternative_Name>(alt));
  const auto leaf_key = sepal::private_key<sepal::p256>::generate();
  const auto leaf = forge(*h.inter_key, h.inter->cert().botan().subject_dn(), leaf_key, "noeku.example.com", ext);
  REQUIRE(leaf.botan().extended_key_usage().empty());
  const std::vector<pki::certificate> chain{leaf, h.inter->cert()};
  // Strict by default: refused for both purposes (the old code accepted both).
  CHECK(pki::verify_chain(chain, h.anchors, server_at(t0, "noeku.example.com")).error() == pki::chain_error::wrong_usage);
  CHECK(pki::verify_chain(chain, h.anchors, {t0, {}, pki::purpose::client}).error() == pki::chain_error::wrong_usage);
  // RFC 5280 semantics on request.
  auto rfc = server_at(t0, "noeku.example.com");
  rfc.extended_key_usage = pki::eku_policy::absent_means_any;
  CHECK(pki::verify_chain(chain, h.anchors, rfc).has_value());
  CHECK(pki::verify_chain(chain, h.anchors, {t0, {}, pki::purpose::client, false, pki::eku_policy::absent_means_any})
            .has_value());
  // Purpose `any` checks no EKU (CA tooling), and sepal's own leaves pass strictly.
  CHECK(pki::verify_chain(chain, h.anchors, {t0, {}, pki::purpose::any}).has_value());
  CHECK(pki::extended_key_usage_allows(*h.server, pki::purpose::server, pki::eku_policy::required));
  CHECK_FALSE(pki::extended_key_usage_allows(*h.server, pki::purpose::client, pki::eku_policy::required));
  CHECK_FALSE(pki::extended_key_usage_allows(*h.server, pki::purpose::client, pki::eku_policy::absent_means_any));
}

TEST_CASE("CA name policy (informational finding): wildcards and names outside the policy are refused", "[pki][names]") {
  hierarchy<sepal::p256> h;
  const auto key = sepal::private_key<sepal::p256>::generate();
  const auto request = [&](std::string cn, pki::alt_names alt) {
    return pki::certificate_request::create(key, {std::move(cn)}, alt);
  };
  const auto issue = [&](const pki::certificate_request& csr, const pki::name_policy& p) {
    return h.inter->issue(csr, pki::usage::server, p, t0, t0 + day);
  };
  const pki::name_policy tenant_a{.dns_suffixes = {"a.example"}, .ip = {"10.0.0.1"}};
  // Allowed: names below the suffix, an allowed IP; case does not matter.
  const auto ok = issue(request("api.a.example", {{"api.a.example", "Web.A.Example"}, {"10.0.0.1"}, {}}), tenant_a);
  REQUIRE(ok.has_value());
  CHECK(ok->alt_names().ip == std::vector<std::string>{"10.0.0.1"});
  // Wildcards are refused by default, even under an allowed suffix.
  CHECK(issue(request("api.a.example", {{"*.a.example"}, {}, {}}), tenant_a).error() == errc::unknown_identity);
  CHECK(issue(request("*.a.example", {}), tenant_a).error() == errc::unknown_identity);
  // A wildcard over one label is not even a valid SAN (Botan 3.13's DNSName):
  // no request can carry it.
  const auto request_error = [&](const std::string& dns) {
    try {
      (void)request("", {{dns}, {}, {}});
    } catch (const sepal::error& e) {
      return e.code();
    }
    return errc::internal_error;
  };
  CHECK(request_error("*.example") == errc::invalid_argument);
  CHECK(request_error("a..example") == errc::invalid_argument);
  // ... and allowed only when asked for, and only inside the policy.
  auto wild = tenant_a;
  wild.allow_wildcards = true;
  CHECK(issue(request("", {{"*.x.a.example"}, {}, {}}), wild).has_value());
  CHECK(issue(request("", {{"*.a.example"}, {}, {}}), wild).has_value());
  CHECK(issue(request("", {{"a*.a.example"}, {}, {}}), wild).error() == errc::unknown_identity);
  // Outside the suffix: another tenant, the suffix's look-alike, an IP or URI not listed.
  CHECK(issue(request("", {{"b.example"}, {}, {}}), tenant_a).error() == errc::unknown_identity);
  CHECK(issue(request("", {{"evila.example"}, {}, {}}), tenant_a).error() == errc::unknown_identity);
  CHECK(issue(request("", {{"a.example"}, {}, {}}), tenant_a).error() == errc::unknown_identity);  // strictly below
  CHECK(issue(request("", {{}, {"10.0.0.2"}, {}}), tenant_a).error() == errc::unknown_identity);
  CHECK(issue(request("", {{}, {}, {"spiffe://example.org/x"}}), tenant_a).error() == errc::unknown_identity);
  // The CN counts as a host name (verifiers fall back to it without DNS SANs).
  CHECK(issue(request("b.example", {{"api.a.example"}, {}, {}}), tenant_a).error() == errc::unknown_identity);
  CHECK(issue(request("b.example", {}), tenant_a).error() == errc::unknown_identity);
  // A default policy allows no names at all; a CSR asking for none is fine.
  CHECK(issue(request("api.a.example", {}), {}).error() == errc::unknown_identity);
  CHECK(issue(request("", {}), {}).has_value());
  // URIs: exact or below a prefix; an unlisted CN label is refused, a listed one allowed.
  const pki::name_policy spiffe{.uri_prefixes = {"spiffe://example.org/billing/"}, .common_names = {"billing"}};
  CHECK(issue(request("billing", {{}, {}, {"spiffe://example.org/billing/worker"}}), spiffe).has_value());
  CHECK(issue(request("billing", {{}, {}, {"spiffe://example.org/payroll"}}), spiffe).error() == errc::unknown_identity);
  CHECK(issue(request("payroll", {{}, {}, {"spiffe://example.org/billing/w"}}), spiffe).error() == errc::unknown_identity);
  // Email SANs are never certified.
  Botan::AlternativeName email;
  email.add_email("root@a.example");
  Botan::Extensions ext;
  ext.add(std::make_unique<Botan::Cert_Extension::Subject_Alternative_Name>(email));
  const pki::certificate_request with_email(
      Botan::PKCS10_Request::create(key.botan(), Botan::X509_DN(), ext, "SHA-256", sepal::system_rng()));
  CHECK(issue(with_email, tenant_a).error() == errc::unknown_identity);
}

TEST_CASE("finding 12: a CA owns its key (temporaries are safe)", "[pki][finding12]") {
  // A temporary key moved in: the CA keeps it alive (the old CA kept a
  // pointer to the caller's key and signed through it later).
  auto ca = pki::certificate_authority<sepal::p256>::create_root(sepal::private_key<sepal::p256>::generate(), {"owned root"},
                                                                 t0 - day, t0 + year);
  const auto k = sepal::private_key<sepal::p256>::generate();
  const auto cert = ca.issue(pki::certificate_request::create(k, {"x.example"}), pki::usage::server, {.dns = {"x.example"}},
                             t0, t0 + day);
  REQUIRE(cert.has_value());
  pki::trust_store anchors;
  anchors.add(ca.cert());
  const std::vector<pki::certificate> chain{*cert};
  CHECK(pki::verify_chain(chain, anchors, server_at(t0, "x.example")).has_value());
  CHECK(ca.crl(t0, t0 + day).issuer().common_name == "owned root");
  CHECK(pki::certificate_authority<sepal::p256>::from(ca.cert(), nullptr).error() == errc::invalid_argument);
}

namespace {

/// An intermediate under `h.root` whose NameConstraints permit DNS names
/// under example.com only, and a leaf it signed for `cn` and `dns_names`.
struct constrained {
  hierarchy<sepal::p256> h;
  std::shared_ptr<const sepal::private_key<sepal::p256>> inter_key = shared_key<sepal::p256>();
  pki::certificate inter = make_inter();

  pki::certificate make_inter() {
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(true, 0));
    ext.add(std::make_unique<Botan::Cert_Extension::Key_Usage>(Botan::Key_Constraints(
        Botan::Key_Constraints::KeyCertSign | Botan::Key_Constraints::CrlSign)));
    std::vector<Botan::GeneralSubtree> permitted;
    permitted.emplace_back(Botan::GeneralName::dns("example.com"));
    ext.add(std::make_unique<Botan::Cert_Extension::Name_Constraints>(
        Botan::NameConstraints(std::move(permitted), std::vector<Botan::GeneralSubtree>{})));
    return forge(*h.root_key, h.root.cert().botan().subject_dn(), *inter_key, "constrained intermediate", ext);
  }

  pki::certificate leaf(const sepal::private_key<sepal::p256>& key, const std::string& cn,
                        const std::vector<std::string>& dns_names) const {
    Botan::Extensions ext;
    ext.add(std::make_unique<Botan::Cert_Extension::Basic_Constraints>(false));
    ext.add(std::make_unique<Botan::Cert_Extension::Key_Usage>(Botan::Key_Constraints::DigitalSignature));
    ext.add(std::make_unique<Botan::Cert_Extension::Extended_Key_Usage>(
        std::vector<Botan::OID>{Botan::OID::from_string("PKIX.ServerAuth")}));
    if (!dns_names.empty()) {
      Botan::AlternativeName alt;
      for (const auto& d : dns_names) alt.add_dns(d);
      ext.add(std::make_unique<Botan::Cert_Extension::Subject_Alternative_Name>(alt));
    }
    return forge(*inter_key, inter.botan().subject_dn(), key, cn, ext);
  }
};

}  // namespace

TEST_CASE("CVE-2026-32884: names outside an intermediate's DNS name constraints are refused, in any letter case",
          "[pki][botan313]") {
  constrained c;
  const auto key = sepal::private_key<sepal::p256>::generate();
  const auto verify = [&](const pki::certificate& leaf, const std::string& host) {
    return pki::verify_chain(std::vector<pki::certificate>{leaf, c.inter}, c.h.anchors, server_at(t0, host))
        .has_value();
  };
  // Inside the permitted subtree: accepted (the constraint itself works).
  CHECK(verify(c.leaf(key, "api.example.com", {"api.example.com"}), "api.example.com"));
  // Outside it, in the SAN, whatever the letter case.
  for (const std::string name : {"evil.org", "EVIL.ORG", "Evil.Org", "api.example.com.evil.org", "example.com.evil.org",
                                 "exampleXcom", "notexample.com"}) {
    INFO(name);
    CHECK_FALSE(verify(c.leaf(key, name, {name}), name));
    // ...and alongside a permitted name.
    CHECK_FALSE(verify(c.leaf(key, "api.example.com", {"api.example.com", name}), "api.example.com"));
  }
  // Outside it in the CN of a leaf without a SAN (the CN stands in for the host name).
  for (const std::string name : {"evil.org", "EVIL.ORG"}) {
    INFO(name);
    CHECK_FALSE(verify(c.leaf(key, name, {}), name));
  }
}

TEST_CASE("CVE-2026-44378: deeply nested and indefinite-length BER is rejected by every DER parser", "[pki][botan313]") {
  // The time it takes is measured by sepal-bench ("hostile BER"), not here.
  for (std::size_t depth : {1, 2, 64, 1024, 20000}) {
    bytes nested;
    for (std::size_t i = 0; i < depth; ++i) nested.insert(nested.end(), {0x30, 0x80});
    for (std::size_t i = 0; i < depth; ++i) nested.insert(nested.end(), {0x00, 0x00});
    bytes definite;  // the same nesting with definite (long-form) lengths, built inside out
    definite = {0x30, 0x00};
    for (std::size_t i = 1; i < std::min<std::size_t>(depth, 2000); ++i) {
      bytes outer{0x30, 0x82, static_cast<std::uint8_t>(definite.size() >> 8), static_cast<std::uint8_t>(definite.size())};
      outer.insert(outer.end(), definite.begin(), definite.end());
      definite = std::move(outer);
    }
    for (const auto& input : {nested, definite}) {
      INFO("depth " << depth << ", " << input.size() << " bytes");
      CHECK_FALSE(sepal::public_key<sepal::p256>::from_der(input).has_value());
      CHECK_FALSE(sepal::private_key<sepal::p256>::from_der(input).has_value());
      CHECK_FALSE(pki::certificate::from_der(input).has_value());
      CHECK_FALSE(pki::certificate_request::from_der(input).has_value());
      CHECK_FALSE(pki::revocation_list::from_der(input).has_value());
    }
  }
}
