// Certificate-authenticated sepal handshakes (docs/protocol.md §3.2, §3.3):
// every mix of root-key, raw-key and X.509 authentication, and the attack
// cases of the handshake tests repeated for certificates.

#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/certificates.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/pki/authority.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace hs = sepal::handshake;
namespace pki = sepal::pki;
using sepal::errc;
using suite = hs::default_suite;
using key = sepal::private_key<sepal::p256>;

namespace {

constexpr std::uint64_t now = 1'800'000'000;
constexpr std::int64_t year = 365 * 86400;

/// A root, an intermediate, a server leaf and a client leaf.
struct pki_fixture {
  std::shared_ptr<const key> inter_key = std::make_shared<const key>(key::generate());
  hs::shared_private_key<sepal::p256> server_key = hs::share(key::generate()), client_key = hs::share(key::generate());
  pki::certificate_authority<sepal::p256> root = pki::certificate_authority<sepal::p256>::create_root(
      key::generate(), {"hs root"}, now - 86400, now + 10 * year);
  pki::certificate inter_cert =
      root.issue_intermediate(pki::certificate_request::create(*inter_key, {"hs intermediate"}), 0, now - 86400, now + 5 * year)
          .value();
  pki::certificate_authority<sepal::p256> inter = pki::certificate_authority<sepal::p256>::from(inter_cert, inter_key).value();
  pki::certificate server_cert =
      inter.issue(pki::certificate_request::create(*server_key, {"game.example.com"}, {{"game.example.com"}, {}, {}}),
                  pki::usage::server, {.dns = {"game.example.com"}}, now - 86400, now + year)
          .value();
  pki::certificate client_cert =
      inter.issue(pki::certificate_request::create(*client_key, {"player-7"}), pki::usage::client, {.common_names = {"player-7"}}, now - 86400, now + year)
          .value();
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  pki_fixture() { anchors->add(root.cert()); }

  std::vector<pki::certificate> server_chain() const { return {server_cert, inter_cert}; }
  hs::der_chain client_chain() const { return hs::to_der_chain(std::vector<pki::certificate>{client_cert, inter_cert}); }
  hs::chain_verifier<sepal::p256> server_verifier(pki::expected_host host = "game.example.com") const {
    return hs::x509_verifier<sepal::p256>(anchors, pki::purpose::server, std::move(host));
  }
  hs::chain_verifier<sepal::p256> client_verifier() const {
    return hs::x509_verifier<sepal::p256>(anchors, pki::purpose::client);
  }
};

struct outcome {
  std::optional<hs::established<suite>> client, server;
  std::optional<errc> client_error, server_error;
  std::size_t hello_size = 0, reply_size = 0;
};

outcome run(const hs::client_config<suite>& cc, const hs::server_config<suite>& sc, std::uint64_t at = now) {
  outcome o;
  auto c = hs::client_handshake<suite>::start(cc);
  auto s = hs::server_handshake<suite>::accept(sc, c.client_hello());
  REQUIRE(s.has_value());
  o.hello_size = c.client_hello().size();
  o.reply_size = s->server_hello().size();
  auto cd = c.receive(s->server_hello(), at);
  if (!cd) {
    o.client_error = cd.error();
    return o;
  }
  auto sd = s->receive(cd->client_finished(), at);
  if (sd) o.server.emplace(std::move(*sd));
  else o.server_error = sd.error();
  o.client.emplace(std::move(*cd));
  return o;
}

void talk(hs::established<suite>& a, hs::established<suite>& b) {
  const auto msg = as_bytes("certified packet");
  bytes wire(msg.size() + 64), got(msg.size() + 64);
  auto opened = b.session().open({}, a.session().seal({}, msg, wire), got);
  REQUIRE(opened.has_value());
  CHECK(copy(*opened) == msg);
}

}  // namespace

TEST_CASE("certificate server, client verifies the chain and host name", "[handshake][x509]") {
  pki_fixture f;
  hs::server_config<suite> sc{hs::certified_identity<suite>(f.server_key, f.server_chain())};
  hs::client_config<suite> cc{std::nullopt, nullptr, f.server_verifier()};
  auto o = run(cc, sc);
  REQUIRE(o.client.has_value());
  REQUIRE(o.server.has_value());
  talk(*o.client, *o.server);
  CHECK(o.client->peer_chain_as_received().size() == 2);
  CHECK(o.client->peer_chain_as_received()[0] == f.server_cert.to_der());
  // Anti-amplification (RFC 9000 §8.1): within 3x the ClientHello (a P-256
  // leaf and intermediate still fit under 1x).
  CHECK(o.reply_size <= hs::amplification_limit * o.hello_size);
}

TEST_CASE("mutual X.509 and every mixed mode", "[handshake][x509]") {
  pki_fixture f;
  const auto root_identity = hs::share(key::generate());
  const auto raw_client = hs::share(key::generate());
  hs::fingerprint_allowlist<sepal::p256> allowed;
  allowed.allow(raw_client->public_key());

  SECTION("certificate server, certificate client") {
    hs::server_config<suite> sc{hs::certified_identity<suite>(f.server_key, f.server_chain()), {}, f.client_verifier()};
    hs::client_config<suite> cc{std::nullopt, f.client_key, f.server_verifier(), f.client_chain()};
    auto o = run(cc, sc);
    REQUIRE(o.server.has_value());
    CHECK(o.server->client_identity().value() == f.client_key->public_key());
    CHECK(o.server->peer_chain_as_received() == f.client_chain());
    talk(*o.server, *o.client);
  }
  SECTION("root-key server, certificate client") {
    hs::server_config<suite> sc{hs::server_identity<suite>::root(root_identity), {}, f.client_verifier()};
    hs::client_config<suite> cc{root_identity->public_key(), f.client_key, {}, f.client_chain()};
    auto o = run(cc, sc);
    REQUIRE(o.server.has_value());
    CHECK(o.server->client_identity().value() == f.client_key->public_key());
    CHECK(o.reply_size <= o.hello_size);  // root-key replies stay under the ClientHello
  }
  SECTION("certificate server, raw-key client") {
    hs::server_config<suite> sc{hs::certified_identity<suite>(f.server_key, f.server_chain()), allowed};
    hs::client_config<suite> cc{std::nullopt, raw_client, f.server_verifier()};
    auto o = run(cc, sc);
    REQUIRE(o.server.has_value());
    CHECK(o.server->client_identity().value() == raw_client->public_key());
    CHECK(o.server->peer_chain_as_received().empty());
  }
  SECTION("a client set up for both accepts either server") {
    hs::client_config<suite> both{root_identity->public_key(), nullptr, f.server_verifier()};
    CHECK(run(both, {hs::server_identity<suite>::root(root_identity)}).server.has_value());
    CHECK(run(both, {hs::certified_identity<suite>(f.server_key, f.server_chain())}).server.has_value());
  }
}

TEST_CASE("certificate attacks fail", "[handshake][x509]") {
  pki_fixture f;
  hs::server_config<suite> sc{hs::certified_identity<suite>(f.server_key, f.server_chain())};
  const auto client_error = [&](const hs::client_config<suite>& cc, const hs::server_config<suite>& s,
                                std::uint64_t at = now) { return run(cc, s, at).client_error; };

  CHECK(client_error({std::nullopt, nullptr, f.server_verifier("other.example.com")}, sc) == errc::invalid_signature);
  CHECK(client_error({std::nullopt, nullptr, f.server_verifier()}, sc, now + 2 * year) == errc::invalid_signature);
  CHECK(client_error({std::nullopt, nullptr, f.server_verifier()}, sc, now - 2 * 86400) == errc::invalid_signature);
  // Another CA's client trusts nothing here.
  pki_fixture other;
  CHECK(client_error({std::nullopt, nullptr, other.server_verifier()}, sc) == errc::invalid_signature);
  // A client with only a pinned root refuses a chain, and a certificate-only client a root key.
  const auto root_identity = hs::share(key::generate());
  CHECK(client_error({root_identity->public_key()}, sc) == errc::invalid_signature);
  CHECK(client_error({std::nullopt, nullptr, f.server_verifier()}, {hs::server_identity<suite>::root(root_identity)}) ==
        errc::invalid_signature);
  // A server presenting someone else's chain cannot sign for its leaf.
  const auto mallory = hs::share(key::generate());
  hs::server_config<suite> stolen{hs::server_identity<suite>::certified(mallory, hs::to_der_chain(f.server_chain()))};
  CHECK(client_error({std::nullopt, nullptr, f.server_verifier()}, stolen) == errc::invalid_signature);
  CHECK_THROWS_AS(hs::certified_identity<suite>(mallory, f.server_chain()), sepal::error);
  // The client certificate as a server certificate: wrong EKU.
  hs::server_config<suite> as_server{hs::certified_identity<suite>(f.client_key, std::vector<pki::certificate>{f.client_cert, f.inter_cert})};
  CHECK(client_error({std::nullopt, nullptr, f.server_verifier(pki::any_host_name_i_trust_every_leaf)}, as_server) ==
        errc::invalid_signature);

  SECTION("client certificates: wrong EKU, untrusted CA, missing chain, expired") {
    hs::server_config<suite> strict{hs::certified_identity<suite>(f.server_key, f.server_chain()), {}, f.client_verifier()};
    // The server's own certificate as a client certificate.
    auto o = run({std::nullopt, f.server_key, f.server_verifier(), hs::to_der_chain(f.server_chain())}, strict);
    CHECK(o.server_error == errc::unknown_identity);
    // A client certificate from another CA.
    o = run({std::nullopt, other.client_key, f.server_verifier(), other.client_chain()}, strict);
    CHECK(o.server_error == errc::unknown_identity);
    // A client with a key but no chain cannot answer a certificate request.
    o = run({std::nullopt, f.client_key, f.server_verifier()}, strict);
    CHECK(o.client_error == errc::missing_credential);
    // A chain whose leaf is not the signing key.
    o = run({std::nullopt, mallory, f.server_verifier(), f.client_chain()}, strict);
    CHECK(o.server_error == errc::invalid_signature);
  }
  SECTION("every byte of a certificate ServerHello matters") {
    auto c = hs::client_handshake<suite>::start({std::nullopt, nullptr, f.server_verifier()});
    auto s = hs::server_handshake<suite>::accept(sc, c.client_hello());
    REQUIRE(s.has_value());
    const auto reply = copy(s->server_hello());
    for (std::size_t i = 0; i < reply.size(); i += 3) {
      auto bad = reply;
      bad[i] ^= 0x01;
      CHECK_FALSE(c.receive(bad, now).has_value());
    }
    CHECK(c.receive(reply, now).has_value());  // failures left the handshake waiting
  }
}

TEST_CASE("finding 3: x509_verifier needs a host name; a.example's verifier refuses b.example", "[handshake][x509][finding3]") {
  pki_fixture f;  // one CA, two tenants
  const auto tenant = [&](const key& k, const std::string& host) {
    return f.inter
        .issue(pki::certificate_request::create(k, {host}, {{host}, {}, {}}), pki::usage::server, {.dns = {host}},
               now - 86400, now + year)
        .value();
  };
  const key a_key = key::generate(), b_key = key::generate();
  const auto a = hs::to_der_chain(std::vector<pki::certificate>{tenant(a_key, "a.example"), f.inter_cert});
  const auto b = hs::to_der_chain(std::vector<pki::certificate>{tenant(b_key, "b.example"), f.inter_cert});
  const auto check = [&](const hs::chain_verifier<sepal::p256>& v, const hs::der_chain& chain) {
    std::vector<std::span<const std::uint8_t>> spans(chain.begin(), chain.end());
    return v(spans, now);
  };
  const auto expects_a = hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::server, "a.example");
  CHECK(check(expects_a, a).value() == a_key.public_key());
  CHECK(check(expects_a, b).error() == errc::unknown_identity);
  // No host name: refused when the verifier is made (the old verifier
  // accepted b.example's chain), and so are purpose `any` and no anchors.
  const auto code = [](const auto& make) {
    try {
      (void)make();
    } catch (const sepal::error& e) {
      return e.code();
    }
    return errc::internal_error;
  };
  CHECK(code([&] { return hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::server); }) == errc::invalid_argument);
  CHECK(code([&] { return hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::server, ""); }) == errc::invalid_argument);
  CHECK(code([&] { return hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::any, "a.example"); }) ==
        errc::invalid_argument);
  CHECK(code([&] { return hs::x509_verifier<sepal::p256>(nullptr, pki::purpose::client); }) == errc::invalid_argument);
  // The explicit opt-out accepts either tenant; a client verifier needs no host.
  const auto anyone = hs::x509_verifier<sepal::p256>(f.anchors, pki::purpose::server, pki::any_host_name_i_trust_every_leaf);
  CHECK(check(anyone, a).has_value());
  CHECK(check(anyone, b).has_value());
  CHECK(check(f.client_verifier(), f.client_chain()).value() == f.client_key->public_key());
  CHECK(check(f.client_verifier(), b).error() == errc::unknown_identity);  // serverAuth only: not a client
  // Garbage never throws.
  const hs::der_chain junk{{0x30, 0x03, 0x02, 0x01, 0x01}};
  CHECK(check(expects_a, junk).error() == errc::invalid_encoding);
}

TEST_CASE("hardening #4: a spoofed flood against a certificate server draws at most 3x the bytes in",
          "[handshake][x509][datagram][hardening]") {
  pki_fixture f;
  const hs::server_config<suite> sc{hs::certified_identity<suite>(f.server_key, f.server_chain())};
  auto victim = hs::client_handshake<suite>::start(hs::client_config<suite>{});
  const auto hello = copy(victim.client_hello());
  auto server = hs::server_handshake<suite>::accept(sc, hello);
  REQUIRE(server.has_value());
  std::size_t in = hello.size(), out = server->server_hello().size();
  const bytes one{0x40};
  for (int i = 0; i < 1816; ++i) {  // the measured attack: one-byte datagrams "from" the victim
    in += one.size();
    if (auto r = server->on_datagram(one)) out += r->size();
  }
  for (int i = 0; i < 100; ++i) {  // and the resend timer
    if (auto r = server->on_timer()) out += r->size();
  }
  for (int i = 0; i < 20; ++i) {  // and retransmitted ClientHellos
    in += hello.size();
    if (auto r = server->on_datagram(hello)) out += r->size();
  }
  CHECK(out <= hs::amplification_limit * in);
  CHECK(server->bytes_sent() == out);
  CHECK(server->bytes_received() == in);
}

TEST_CASE("hardening #4: a ServerHello the budget cannot resend still waits for its ClientFinished",
          "[handshake][x509][datagram][hardening]") {
  pki_fixture f;
  // A long chain: the ServerHello is between 1.5x and 3x the ClientHello, so
  // one resend would pass the 3x budget.
  const std::vector<pki::certificate> long_chain{f.server_cert, f.inter_cert, f.inter_cert, f.inter_cert};
  const hs::server_config<suite> sc{hs::certified_identity<suite>(f.server_key, long_chain)};
  auto client = hs::client_handshake<suite>::start({std::nullopt, nullptr, f.server_verifier()});
  auto server = hs::server_handshake<suite>::accept(sc, client.client_hello());
  REQUIRE(server.has_value());
  const auto hello_size = client.client_hello().size();
  REQUIRE(2 * server->server_hello().size() > hs::amplification_limit * hello_size);
  REQUIRE(server->server_hello().size() <= hs::amplification_limit * hello_size);
  CHECK_FALSE(server->exhausted());
  for (unsigned tick = 0; tick + 1 < hs::max_server_hello_resends; ++tick) {
    CHECK_FALSE(server->on_timer().has_value());  // over budget: nothing is sent...
    CHECK_FALSE(server->exhausted());             // ...but the handshake keeps waiting
  }
  CHECK(server->bytes_sent() <= hs::amplification_limit * server->bytes_received());
  auto done = client.receive(server->server_hello(), now);
  REQUIRE(done.has_value());
  CHECK(server->receive(done->client_finished(), now).has_value());  // the late ClientFinished completes
}
