// libFuzzer harness: X.509 parsing through sepal's API (certificates in DER
// and PEM bundles, CSRs, CRLs), chain validation of whatever parses, and a
// certificate-authenticated handshake client fed a fuzzed ServerHello.
// Invariants: nothing throws; nothing forged validates against the fixture's
// anchor; re-encoding a parsed object parses again.

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include <sepal/handshake/certificates.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/pki/authority.hpp>
#include <sepal/pki/validation.hpp>

namespace {

namespace pki = sepal::pki;
namespace hs = sepal::handshake;

void require(bool ok) {
  if (!ok) std::abort();
}

struct fixture {
  pki::certificate_authority<sepal::p256> root = pki::certificate_authority<sepal::p256>::create_root(
      sepal::private_key<sepal::p256>::unsafe_test_key(), {"fuzz root"}, 1'700'000'000, 1'900'000'000);
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  hs::client_config<hs::default_suite> client{std::nullopt, nullptr,
                                               hs::x509_verifier<sepal::p256>(anchors, pki::purpose::server, "fuzz.example")};
  fixture() { anchors->add(root.cert()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
  switch (data[0] % 5) {
    case 0: {  // a DER certificate: re-encodes to the same bytes; validates only if the root signed it
      if (auto c = pki::certificate::from_der(in)) {
        require(c->to_der() == std::vector<std::uint8_t>(in.begin(), in.end()));
        (void)c->subject();
        (void)c->alt_names();
        const std::vector<pki::certificate> chain{*c};
        const auto v = pki::verify_chain(chain, *f.anchors, {1'800'000'000, "", pki::purpose::any, false});
        // Valid means the fixture's root signed it (or it is the root): a
        // mutation that still validated would be a forged signature.
        require(!v.has_value() || c->issuer().common_name == "fuzz root");
      }
      break;
    }
    case 1: {  // a PEM bundle
      if (auto chain = pki::certificate::chain_from_pem(text))
        require(!chain->empty() && chain->size() <= pki::max_chain_length);
      break;
    }
    case 2: {  // a CSR: anything that parses proved possession of its key
      if (auto r = pki::certificate_request::from_der(in)) require(r->verify_signature());
      break;
    }
    case 3: {  // a CRL
      if (auto crl = pki::revocation_list::from_der(in)) (void)crl->revokes(f.root.cert());
      break;
    }
    default: {  // a ServerHello at a certificate-authenticated client
      auto c = hs::client_handshake<hs::default_suite>::start(f.client);
      require(!c.receive(in, 1'800'000'000).has_value());
      break;
    }
  }
  return 0;
}
