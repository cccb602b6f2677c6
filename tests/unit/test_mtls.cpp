// Mutual TLS 1.3 channels in memory: both sides verify each other's chain
// with sepal's PKI; every rejection names its reason and nothing throws.

#include <catch2/catch_test_macros.hpp>

#include <ctime>

#include <sepal/pki/authority.hpp>
#include <sepal/tls/channel.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace pki = sepal::pki;
namespace tls = sepal::tls;
using sepal::errc;
using key = sepal::private_key<sepal::p256>;
using shared_key = std::shared_ptr<const key>;

namespace {

const std::int64_t now = std::time(nullptr);  // Botan's TLS validates at the current time
constexpr std::int64_t year = 365 * 86400;

shared_key new_key() { return std::make_shared<const key>(key::generate()); }

struct ca {
  pki::certificate_authority<sepal::p256> root =
      pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"mtls root"}, now - 3 * year, now + 10 * year);
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  ca() { anchors->add(root.cert()); }
  std::vector<pki::certificate> issue(const key& k, const std::string& cn, pki::usage u, std::int64_t not_after = 0) {
    return {root.issue(pki::certificate_request::create(k, {cn}, {{cn}, {"127.0.0.1"}, {}}), u,
                       {.dns = {cn}, .ip = {"127.0.0.1"}}, now - 3600, not_after ? not_after : now + year)
                .value()};
  }
};

/// Moves bytes between the two channels until neither has output.
struct tls_pair {
  tls::channel& client;
  tls::channel& server;
  std::optional<errc> client_error{}, server_error{};
  void pump() {
    for (int i = 0; i < 20; ++i) {
      auto to_server = client.take_output();
      auto to_client = server.take_output();
      if (to_server.empty() && to_client.empty()) return;
      if (!to_server.empty() && !server_error)
        if (auto r = server.receive(to_server); !r) server_error = r.error();
      if (!to_client.empty() && !client_error)
        if (auto r = client.receive(to_client); !r) client_error = r.error();
    }
  }
};

}  // namespace

TEST_CASE("mutual TLS 1.3: both sides verify, data flows, exporters agree", "[tls]") {
  ca c;
  const auto server_key = new_key(), client_key = new_key();
  const tls::config server_config{
      tls::identity::from(server_key, c.issue(*server_key, "svc.example.com", pki::usage::server)), c.anchors};
  const tls::config client_config{tls::identity::from(client_key, c.issue(*client_key, "worker-1", pki::usage::client)),
                                  c.anchors, "svc.example.com"};
  auto client = tls::channel::client(client_config);
  auto server = tls::channel::server(server_config);
  tls_pair l{client, server};
  l.pump();
  REQUIRE_FALSE(l.client_error.has_value());
  REQUIRE_FALSE(l.server_error.has_value());
  REQUIRE(client.established());
  REQUIRE(server.established());
  CHECK(server.peer_path().front().subject().common_name == "worker-1");
  CHECK(client.peer_path().front().subject().common_name == "svc.example.com");
  CHECK(client.peer_path().size() == 2);  // leaf and anchor
  CHECK(sepal::constant_time_equal(client.export_key("EXPORTER-sepal", {}, 32), server.export_key("EXPORTER-sepal", {}, 32)));

  REQUIRE(client.send(as_bytes("ping")).has_value());
  l.pump();
  CHECK(server.take_received() == as_bytes("ping"));
  REQUIRE(server.send(as_bytes("pong")).has_value());
  l.pump();
  CHECK(client.take_received() == as_bytes("pong"));
  client.close();
  l.pump();
  CHECK(server.closed());
}

TEST_CASE("mutual TLS rejections", "[tls]") {
  ca c, other;
  const auto server_key = new_key(), client_key = new_key();
  const auto server_chain = c.issue(*server_key, "svc.example.com", pki::usage::server);
  const tls::config server_config{tls::identity::from(server_key, server_chain), c.anchors};
  const auto attempt = [&](const tls::config& cc, const tls::config& sc) {
    auto client = tls::channel::client(cc);
    auto server = tls::channel::server(sc);
    tls_pair l{client, server};
    l.pump();
    CHECK_FALSE((client.established() && server.established()));
    // A rejected chain is an identity this side does not accept (finding 7).
    if (client.verify_error()) CHECK(l.client_error == errc::unknown_identity);
    if (server.verify_error()) CHECK(l.server_error == errc::unknown_identity);
    return std::pair{client.verify_error(), server.verify_error()};
  };
  SECTION("a client certificate from an untrusted CA") {
    const tls::config cc{tls::identity::from(client_key, other.issue(*client_key, "intruder", pki::usage::client)),
                         c.anchors, "svc.example.com"};
    CHECK(attempt(cc, server_config).second == pki::chain_error::untrusted);
  }
  SECTION("the server's own certificate as a client certificate (wrong EKU)") {
    const tls::config cc{tls::identity::from(server_key, server_chain), c.anchors, "svc.example.com"};
    CHECK(attempt(cc, server_config).second == pki::chain_error::wrong_usage);
  }
  SECTION("an expired client certificate") {
    const tls::config cc{tls::identity::from(client_key, {c.root.issue(pki::certificate_request::create(*client_key, {"old"}),
                                                                       pki::usage::client, {.common_names = {"old"}},
                                                                       now - 2 * year, now - year)
                                                              .value()}),
                         c.anchors, "svc.example.com"};
    CHECK(attempt(cc, server_config).second == pki::chain_error::expired);
  }
  SECTION("the client expects another host, or trusts another CA") {
    const tls::config good_client{tls::identity::from(client_key, c.issue(*client_key, "w", pki::usage::client)), c.anchors,
                                  "other.example.com"};
    CHECK(attempt(good_client, server_config).first == pki::chain_error::hostname_mismatch);
    const tls::config wrong_anchor{tls::identity::from(client_key, c.issue(*client_key, "w", pki::usage::client)),
                                   other.anchors, "svc.example.com"};
    CHECK(attempt(wrong_anchor, server_config).first == pki::chain_error::untrusted);
  }
  SECTION("garbage never throws") {
    auto server = tls::channel::server(server_config);
    CHECK(server.receive(as_bytes("GET / HTTP/1.1\r\n\r\n")).error() == errc::closed);
    CHECK(server.receive(as_bytes("more")).error() == errc::closed);
    CHECK(server.send(as_bytes("x")).error() == errc::closed);
    CHECK_THROWS_AS(server.export_key("x", {}, 16), sepal::error);
  }
  CHECK_THROWS_AS(tls::identity::from(client_key, server_chain), sepal::error);  // not the leaf's key
}

TEST_CASE("finding 3: the TLS client needs a server name, and a.example's client refuses b.example", "[tls][finding3]") {
  ca c;  // one CA, two tenants
  const auto a_key = new_key(), b_key = new_key(), client_key = new_key();
  const tls::config b_server{tls::identity::from(b_key, c.issue(*b_key, "b.example", pki::usage::server)), c.anchors};
  const tls::config a_server{tls::identity::from(a_key, c.issue(*a_key, "a.example", pki::usage::server)), c.anchors};
  const auto client_id = tls::identity::from(client_key, c.issue(*client_key, "worker", pki::usage::client));
  const auto connect = [](const tls::config& cc, const tls::config& sc) {
    auto client = tls::channel::client(cc);
    auto server = tls::channel::server(sc);
    tls_pair l{client, server};
    l.pump();
    return std::tuple{client.established() && server.established(), client.verify_error(), l.client_error};
  };
  // Expecting a.example: b.example's certificate is refused, a.example's accepted.
  const tls::config expects_a{client_id, c.anchors, "a.example"};
  const auto [b_ok, b_why, b_error] = connect(expects_a, b_server);
  CHECK_FALSE(b_ok);
  CHECK(b_why == pki::chain_error::hostname_mismatch);
  CHECK(b_error == errc::unknown_identity);
  CHECK(std::get<0>(connect(expects_a, a_server)));
  // No server name: the client refuses to start (the old client accepted
  // any serverAuth certificate under the anchors here).
  const tls::config no_name{client_id, c.anchors};
  try {
    (void)tls::channel::client(no_name);
    FAIL("a client without a server name started");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::invalid_argument);
  }
  CHECK_THROWS_AS(tls::channel::client({client_id, c.anchors, ""}), sepal::error);
  CHECK_THROWS_AS(tls::channel::client({client_id, nullptr, "a.example"}), sepal::error);
  // The loud opt-out connects to either tenant.
  const tls::config anyone{client_id, c.anchors, pki::any_host_name_i_trust_every_leaf};
  CHECK(std::get<0>(connect(anyone, b_server)));
  // An IP address is a server name too (matched against IP SANs, not sent as SNI).
  CHECK(std::get<0>(connect({client_id, c.anchors, "127.0.0.1"}, b_server)));
  // The server needs no server name.
  CHECK_NOTHROW(tls::channel::server(b_server));
}

TEST_CASE("finding 12: a channel owns its config and key; nothing the caller passes must outlive the call", "[tls][finding12]") {
  ca c;
  // Configs, identities and keys that are temporaries or die before the
  // handshake runs (the old channel kept a reference to the config, and the
  // identity a non-owning pointer to the key).
  const auto make = [&](bool client) {
    auto k = key::generate();
    auto chain = c.issue(k, client ? "worker" : "svc.example.com", client ? pki::usage::client : pki::usage::server);
    tls::config cfg{tls::identity::from(std::move(k), std::move(chain)), c.anchors, client ? "svc.example.com" : ""};
    return client ? tls::channel::client(cfg) : tls::channel::server(std::move(cfg));
  };
  auto client = make(true);
  auto server = make(false);
  tls_pair l{client, server};
  l.pump();
  CHECK(client.established());
  CHECK(server.established());
  REQUIRE(client.send(as_bytes("owned")).has_value());
  l.pump();
  CHECK(server.take_received() == as_bytes("owned"));
  CHECK_THROWS_AS(tls::identity::from(shared_key{}, c.issue(*new_key(), "x", pki::usage::client)), sepal::error);
}

TEST_CASE("peer_path is the validated path, not the chain as received (informational finding)", "[tls][path]") {
  ca c;
  // root -> intermediate -> server leaf; the server also sends an unrelated certificate.
  auto inter_key = key::generate();
  const auto inter_cert =
      c.root.issue_intermediate(pki::certificate_request::create(inter_key, {"mtls intermediate"}), 0, now - 3600, now + year)
          .value();
  const auto inter = pki::certificate_authority<sepal::p256>::from(inter_cert, std::move(inter_key)).value();
  const auto server_key = new_key(), client_key = new_key(), stray_key = new_key();
  const auto leaf = inter.issue(pki::certificate_request::create(*server_key, {"svc.example.com"}, {{"svc.example.com"}, {}, {}}),
                                pki::usage::server, {.dns = {"svc.example.com"}}, now - 3600, now + 86400)
                        .value();
  const auto stray = c.issue(*stray_key, "stray.example", pki::usage::server).front();
  const tls::config sc{tls::identity::from(server_key, {leaf, stray, inter_cert}), c.anchors};
  const tls::config cc{tls::identity::from(client_key, c.issue(*client_key, "worker", pki::usage::client)), c.anchors,
                       "svc.example.com"};
  auto client = tls::channel::client(cc);
  auto server = tls::channel::server(sc);
  tls_pair l{client, server};
  l.pump();
  REQUIRE(client.established());
  const auto& path = client.peer_path();
  REQUIRE(path.size() == 3);
  CHECK(path[0].fingerprint() == leaf.fingerprint());
  CHECK(path[1].fingerprint() == inter_cert.fingerprint());
  CHECK(path[2].fingerprint() == c.root.cert().fingerprint());  // the anchor, which the server did not send
  for (const auto& cert : path) CHECK(cert.fingerprint() != stray.fingerprint());
}

TEST_CASE("post-quantum: sepal to sepal negotiates X25519MLKEM768 in one round trip", "[tls][pq]") {
  ca c;
  const auto server_key = new_key(), client_key = new_key();
  const tls::config server_config{
      tls::identity::from(server_key, c.issue(*server_key, "svc.example.com", pki::usage::server)), c.anchors};
  const tls::config client_config{tls::identity::from(client_key, c.issue(*client_key, "worker-1", pki::usage::client)),
                                  c.anchors, "svc.example.com"};
  auto client = tls::channel::client(client_config);
  const auto hello = client.take_output();
  // The ClientHello carries the hybrid key share (1216 bytes of
  // X25519MLKEM768, draft-ietf-tls-ecdhe-mlkem) and still fits in one
  // TCP segment.
  CHECK(hello.size() > 1216);
  CHECK(hello.size() < 1500);
  auto server = tls::channel::server(server_config);
  REQUIRE(server.receive(hello).has_value());
  tls_pair l{client, server};
  l.pump();
  REQUIRE(client.established());
  REQUIRE(server.established());
  CHECK(client.key_exchange_group() == "x25519/ML-KEM-768");
  CHECK(server.key_exchange_group() == "x25519/ML-KEM-768");
  CHECK(client.post_quantum());
  CHECK(server.post_quantum());
  CHECK_FALSE(client.hello_retried());
  CHECK(sepal::constant_time_equal(client.export_key("EXPORTER-pq", {}, 32), server.export_key("EXPORTER-pq", {}, 32)));
  REQUIRE(client.send(as_bytes("pq ping")).has_value());
  l.pump();
  CHECK(server.take_received() == as_bytes("pq ping"));
}

TEST_CASE("post-quantum: before the handshake no group is reported", "[tls][pq]") {
  ca c;
  const auto client_key = new_key();
  const tls::config client_config{tls::identity::from(client_key, c.issue(*client_key, "worker-1", pki::usage::client)),
                                  c.anchors, "svc.example.com"};
  auto client = tls::channel::client(client_config);
  CHECK(client.key_exchange_group().empty());
  CHECK_FALSE(client.post_quantum());
  CHECK_FALSE(client.hello_retried());
}
