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

namespace {

const std::int64_t now = std::time(nullptr);  // Botan's TLS validates at the current time
constexpr std::int64_t year = 365 * 86400;

struct ca {
  key root_key = key::generate();
  pki::certificate_authority<sepal::p256> root =
      pki::certificate_authority<sepal::p256>::create_root(root_key, {"mtls root"}, now - 3 * year, now + 10 * year);
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  ca() { anchors->add(root.cert()); }
  std::vector<pki::certificate> issue(const key& k, const std::string& cn, pki::usage u, std::int64_t not_after = 0) {
    return {root.issue(pki::certificate_request::create(k, {cn}, {{cn}, {"127.0.0.1"}, {}}), u, now - 3600,
                       not_after ? not_after : now + year)
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
  const key server_key = key::generate(), client_key = key::generate();
  const tls::config server_config{tls::identity::from(server_key, c.issue(server_key, "svc.example.com", pki::usage::server)),
                                  c.anchors};
  const tls::config client_config{tls::identity::from(client_key, c.issue(client_key, "worker-1", pki::usage::client)),
                                  c.anchors, "svc.example.com"};
  auto client = tls::channel::client(client_config);
  auto server = tls::channel::server(server_config);
  tls_pair l{client, server};
  l.pump();
  REQUIRE_FALSE(l.client_error.has_value());
  REQUIRE_FALSE(l.server_error.has_value());
  REQUIRE(client.established());
  REQUIRE(server.established());
  CHECK(server.peer_chain().front().subject().common_name == "worker-1");
  CHECK(client.peer_chain().front().subject().common_name == "svc.example.com");
  CHECK(client.peer_chain().size() == 2);  // leaf and anchor
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
  const key server_key = key::generate(), client_key = key::generate();
  const auto server_chain = c.issue(server_key, "svc.example.com", pki::usage::server);
  const tls::config server_config{tls::identity::from(server_key, server_chain), c.anchors};
  const auto attempt = [&](const tls::config& cc, const tls::config& sc) {
    auto client = tls::channel::client(cc);
    auto server = tls::channel::server(sc);
    tls_pair l{client, server};
    l.pump();
    CHECK_FALSE((client.established() && server.established()));
    return std::pair{client.verify_error(), server.verify_error()};
  };
  SECTION("a client certificate from an untrusted CA") {
    const tls::config cc{tls::identity::from(client_key, other.issue(client_key, "intruder", pki::usage::client)),
                         c.anchors, "svc.example.com"};
    CHECK(attempt(cc, server_config).second == pki::chain_error::untrusted);
  }
  SECTION("the server's own certificate as a client certificate (wrong EKU)") {
    const tls::config cc{tls::identity::from(server_key, server_chain), c.anchors, "svc.example.com"};
    CHECK(attempt(cc, server_config).second == pki::chain_error::wrong_usage);
  }
  SECTION("an expired client certificate") {
    const tls::config cc{tls::identity::from(client_key, {c.root.issue(pki::certificate_request::create(client_key, {"old"}),
                                                                       pki::usage::client, now - 2 * year, now - year)
                                                              .value()}),
                         c.anchors, "svc.example.com"};
    CHECK(attempt(cc, server_config).second == pki::chain_error::expired);
  }
  SECTION("the client expects another host, or trusts another CA") {
    const tls::config good_client{tls::identity::from(client_key, c.issue(client_key, "w", pki::usage::client)), c.anchors,
                                  "other.example.com"};
    CHECK(attempt(good_client, server_config).first == pki::chain_error::hostname_mismatch);
    const tls::config wrong_anchor{tls::identity::from(client_key, c.issue(client_key, "w", pki::usage::client)),
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
