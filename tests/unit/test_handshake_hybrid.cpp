// Handshakes with post-quantum hybrid key shares (docs/protocol.md §2, §3.1:
// X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024): every credential
// kind, the anti-amplification budget with the larger ServerHello, and
// tampered or truncated shares failing cleanly.

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/certificates.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/pki/authority.hpp>

#include <cstdio>

#include "pki_chain.hpp"
#include "test_support.hpp"

using namespace sepal_test;
namespace hs = sepal::handshake;
namespace pki = sepal::pki;
using sepal::errc;

namespace {

constexpr std::uint64_t now = pki_chain_now;

static_assert(x25519_hybrid::id == 0x6431);
static_assert(p256_hybrid::id == 0x7121);
static_assert(p384_hybrid::id == 0x8222);
static_assert(hs::default_suite::id == 0x1121);  // the default stays classical P-256

/// Offsets of the share in ClientHello and ServerHello (docs/protocol.md §3):
/// type, version, suite id (4 bytes), random (32), connection id (8), then
/// opaque share<2>.
constexpr std::size_t share_at = 4 + 32 + 8 + 2;

template <class Suite>
struct outcome {
  std::optional<hs::established<Suite>> client, server;
  std::optional<errc> client_error, server_error;
  std::size_t hello = 0, reply = 0, finished = 0;
};

template <class Suite>
outcome<Suite> run(const hs::client_config<Suite>& cc, const hs::server_config<Suite>& sc) {
  outcome<Suite> o;
  auto c = hs::client_handshake<Suite>::start(cc);
  auto s = hs::server_handshake<Suite>::accept(sc, c.client_hello());
  REQUIRE(s.has_value());
  o.hello = c.client_hello().size();
  o.reply = s->server_hello().size();
  auto cd = c.receive(s->server_hello(), now);
  if (!cd) {
    o.client_error = cd.error();
    return o;
  }
  o.finished = cd->client_finished().size();
  auto sd = s->receive(cd->client_finished(), now);
  if (sd) o.server.emplace(std::move(*sd));
  else o.server_error = sd.error();
  o.client.emplace(std::move(*cd));
  return o;
}

template <class Suite>
void talk(hs::established<Suite>& a, hs::established<Suite>& b) {
  for (int i = 0; i < 3; ++i) {
    const auto msg = as_bytes("hybrid packet " + std::to_string(i));
    bytes wire(msg.size() + 64), got(msg.size() + 64);
    auto opened = b.session().open({}, a.session().seal({}, msg, wire), got);
    REQUIRE(opened.has_value());
    CHECK(copy(*opened) == msg);
    auto back = a.session().open({}, b.session().seal({}, msg, wire), got);
    REQUIRE(back.has_value());
  }
  const auto ctx = as_bytes("ctx");
  CHECK(sepal::constant_time_equal(a.export_key("EXPORTER-hybrid", ctx, 32), b.export_key("EXPORTER-hybrid", ctx, 32)));
}

/// The sizes on the wire, and RFC 9000 §8.1's budget: the ServerHello is at
/// most `amplification_limit` times the ClientHello it answers.
template <class Suite>
void check_sizes(const outcome<Suite>& o, const char* what) {
  std::printf("%-40s suite %04x  ClientHello %4zu  ServerHello %4zu  ClientFinished %4zu  (ServerHello/ClientHello %.2f)\n",
              what, Suite::id, o.hello, o.reply, o.finished, double(o.reply) / double(o.hello));
  CHECK(o.hello <= hs::max_message_size);
  CHECK(o.reply <= hs::max_message_size);
  CHECK(o.reply <= hs::amplification_limit * o.hello);
}

/// A root, an intermediate and server and client leaves for `Sig`.
template <class Sig>
using pki_fixture = sepal_test::pki_chain<Sig>;

}  // namespace

TEMPLATE_LIST_TEST_CASE("hybrid suites: root-key, delegated and raw-key mutual handshakes give working sessions",
                        "[handshake][hybrid]", hybrid_suites) {
  using S = TestType;
  using sig = typename S::sig;
  const auto root = hs::share(sepal::private_key<sig>::generate());
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  hs::client_config<S> cc{root->public_key(), nullptr};

  auto o = run(cc, sc);
  REQUIRE(o.client.has_value());
  REQUIRE(o.server.has_value());
  talk(*o.client, *o.server);
  check_sizes(o, "root key");

  // Delegated credential (docs/protocol.md §4).
  const auto online = hs::share(sepal::private_key<sig>::generate());
  const auto dc = hs::delegated_credential<S>::issue(*root, online->public_key(), now + 3600);
  hs::server_config<S> delegated{hs::server_identity<S>::delegated(online, dc), {}};
  auto d = run(cc, delegated);
  REQUIRE(d.client.has_value());
  REQUIRE(d.server.has_value());
  talk(*d.client, *d.server);
  check_sizes(d, "delegated credential");

  // Mutual, with a raw client key on an allowlist.
  const auto alice = hs::share(sepal::private_key<sig>::generate());
  hs::fingerprint_allowlist<sig> allowed;
  allowed.allow(alice->public_key());
  hs::server_config<S> strict{hs::server_identity<S>::root(root), allowed};
  hs::client_config<S> as_alice{root->public_key(), alice};
  auto m = run(as_alice, strict);
  REQUIRE(m.client.has_value());
  REQUIRE(m.server.has_value());
  REQUIRE(m.server->client_identity().has_value());
  CHECK(*m.server->client_identity() == alice->public_key());
  talk(*m.client, *m.server);
  check_sizes(m, "root key + raw client key");
}

TEMPLATE_LIST_TEST_CASE("hybrid suites: X.509 server and mutual X.509 handshakes", "[handshake][hybrid][x509]",
                        hybrid_suites) {
  using S = TestType;
  using sig = typename S::sig;
  pki_fixture<sig> f;
  const std::vector<pki::certificate> chain{f.server_cert, f.inter_cert};
  hs::server_config<S> sc{hs::certified_identity<S>(f.server_key, chain)};
  hs::client_config<S> cc{std::nullopt, nullptr,
                          hs::x509_verifier<sig>(f.anchors, pki::purpose::server, "pq.example.com")};
  auto o = run(cc, sc);
  REQUIRE(o.client.has_value());
  REQUIRE(o.server.has_value());
  talk(*o.client, *o.server);
  check_sizes(o, "certificate chain (leaf + intermediate)");

  hs::server_config<S> mutual{hs::certified_identity<S>(f.server_key, chain), {},
                              hs::x509_verifier<sig>(f.anchors, pki::purpose::client)};
  hs::client_config<S> client_cert{std::nullopt, f.client_key,
                                   hs::x509_verifier<sig>(f.anchors, pki::purpose::server, "pq.example.com"),
                                   hs::to_der_chain(std::vector<pki::certificate>{f.client_cert, f.inter_cert})};
  auto m = run(client_cert, mutual);
  REQUIRE(m.client.has_value());
  REQUIRE(m.server.has_value());
  CHECK(m.server->peer_chain_as_received().size() == 2);
  talk(*m.client, *m.server);
  check_sizes(m, "certificate chain, mutual");
}

TEMPLATE_LIST_TEST_CASE("hybrid suites: every byte flip of either share fails the handshake without throwing; "
                        "the genuine messages still complete",
                        "[handshake][hybrid][attack]", hybrid_suites) {
  using S = TestType;
  using K = typename S::kex;
  const auto root = hs::share(sepal::private_key<typename S::sig>::generate());
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  hs::client_config<S> cc{root->public_key(), nullptr};

  auto client = hs::client_handshake<S>::start(cc);
  const auto hello = copy(client.client_hello());
  REQUIRE(hello.size() >= share_at + K::client_share_size);
  CHECK(hello[share_at - 2] * 256 + hello[share_at - 1] == K::client_share_size);

  // The client's share: the server refuses it (an unreduced ML-KEM
  // coefficient, an invalid point), or answers with other keys and a
  // transcript the client does not share, so the client refuses the answer.
  std::size_t refused_by_server = 0, refused_by_client = 0;
  for (std::size_t i = share_at; i < share_at + K::client_share_size; ++i) {
    auto bad = hello;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto s = hs::server_handshake<S>::accept(sc, bad);
    if (!s) {
      CHECK((s.error() == errc::invalid_key || s.error() == errc::invalid_shared_secret));
      ++refused_by_server;
      continue;
    }
    auto r = client.receive(s->server_hello(), now);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::authentication_failed);
    ++refused_by_client;
  }
  CHECK(refused_by_server + refused_by_client == K::client_share_size);
  std::printf("suite %04x ClientHello share flips: %zu refused by the server, %zu by the client\n", S::id,
              refused_by_server, refused_by_client);

  // The server's share, as the client receives it.
  auto server = hs::server_handshake<S>::accept(sc, hello);
  REQUIRE(server.has_value());
  const auto reply = copy(server->server_hello());
  CHECK(reply[share_at - 2] * 256 + reply[share_at - 1] == K::server_share_size);
  for (std::size_t i = share_at; i < share_at + K::server_share_size; ++i) {
    auto bad = reply;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto r = client.receive(bad, now);
    REQUIRE_FALSE(r.has_value());
    CHECK((r.error() == errc::invalid_key || r.error() == errc::authentication_failed));
  }

  // Nothing the attacker sent changed either side.
  auto done = client.receive(reply, now);
  REQUIRE(done.has_value());
  auto established = server->receive(done->client_finished());
  REQUIRE(established.has_value());
  talk(*done, *established);
}

TEMPLATE_LIST_TEST_CASE("hybrid suites: truncated or extended shares are refused before any work",
                        "[handshake][hybrid][attack]", hybrid_suites) {
  using S = TestType;
  using K = typename S::kex;
  const auto root = hs::share(sepal::private_key<typename S::sig>::generate());
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  hs::client_config<S> cc{root->public_key(), nullptr};
  auto client = hs::client_handshake<S>::start(cc);
  const auto hello = copy(client.client_hello());

  // Re-encodes a message with its share cut to `n` bytes (or grown with
  // zeros), keeping the rest and a ClientHello's minimum size.
  const auto reshare = [](const bytes& msg, std::size_t old_len, std::size_t n) {
    bytes out(msg.begin(), msg.begin() + share_at - 2);
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n));
    for (std::size_t i = 0; i < n; ++i) out.push_back(i < old_len ? msg[share_at + i] : 0);
    out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(share_at + old_len), msg.end());
    return out;
  };
  for (std::size_t n : {std::size_t{0}, std::size_t{32}, K::client_share_size - 1, K::client_share_size + 1,
                        K::kem::encapsulation_key_size}) {
    auto bad = reshare(hello, K::client_share_size, n);
    if (bad.size() < hs::min_client_hello_size) continue;  // too short to be a ClientHello at all
    auto s = hs::server_handshake<S>::accept(sc, bad);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error() == errc::invalid_key);
  }

  auto server = hs::server_handshake<S>::accept(sc, hello);
  REQUIRE(server.has_value());
  const auto reply = copy(server->server_hello());
  for (std::size_t n : {std::size_t{0}, std::size_t{32}, K::server_share_size - 1, K::server_share_size + 1,
                        K::kem::ciphertext_size}) {
    auto r = client.receive(reshare(reply, K::server_share_size, n), now);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_key);
  }
  auto done = client.receive(reply, now);
  REQUIRE(done.has_value());
  REQUIRE(server->receive(done->client_finished()).has_value());
}

TEST_CASE("hybrid suites: a classical client and a hybrid server do not talk (no downgrade, no negotiation)",
          "[handshake][hybrid][attack]") {
  using classical = hs::suite<sepal::x25519, sepal::ed25519, sepal::chacha20_poly1305>;
  const auto root = hs::share(sepal::private_key<sepal::ed25519>::generate());
  hs::server_config<x25519_hybrid> hybrid_server{hs::server_identity<x25519_hybrid>::root(root), {}};
  hs::client_config<classical> classical_client{root->public_key(), nullptr};
  auto c = hs::client_handshake<classical>::start(classical_client);
  CHECK(hs::server_handshake<x25519_hybrid>::accept(hybrid_server, c.client_hello()).error() ==
        errc::wrong_algorithm);
}
