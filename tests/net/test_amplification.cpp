// The anti-amplification budget (RFC 9000 §8.1, docs/protocol.md §7) of the
// UDP endpoint under a spoofed flood: ClientHellos "from" victim addresses
// (sent from sockets bound to 127.0.0.x, which then count what the server
// sends them), for each server credential kind, with and without stateless
// retry. Prints bytes sent per byte received for each; the budget is 3.

#include <catch2/catch_test_macros.hpp>

#include <cstdio>
#include <ctime>

#include <sepal/handshake/certificates.hpp>
#include <sepal/pki/authority.hpp>

#include "net_support.hpp"

using namespace net_test;
namespace pki = sepal::pki;
using key = sepal::private_key<sepal::p256>;

namespace {

struct flood_result {
  std::size_t victim_sent = 0, victim_received = 0, hello_size = 0, reply_size = 0;
  net::server_stats stats;
  [[nodiscard]] double ratio() const { return static_cast<double>(victim_received) / static_cast<double>(victim_sent); }
};

/// Floods `srv` with ClientHellos and junk from `victims` addresses (4
/// ports each), waits until every pending handshake has expired, and
/// counts what the victims received.
flood_result flood(server& srv, const hs::client_config<suite>& client_cfg, int victims) {
  std::vector<std::unique_ptr<raw_peer>> peers;
  for (int v = 0; v < victims; ++v) {
    const std::string a = "127.0.2." + std::to_string(v + 1);
    for (int p = 0; p < 4; ++p) peers.push_back(std::make_unique<raw_peer>(a.c_str()));
  }
  flood_result r;
  for (auto& p : peers) {
    const auto h = hs::client_handshake<suite>::start(client_cfg);
    r.hello_size = h.client_hello().size();
    p->send(srv.local(), h.client_hello());
    p->send(srv.local(), h.client_hello());  // a retransmission: draws the same ServerHello, budget permitting
    const std::uint8_t junk[] = {0x43, 1, 2};  // counts toward the budget, draws nothing
    p->send(srv.local(), junk);
  }
  // 10 resend ticks of 20 ms, then the pending handshakes are gone.
  REQUIRE(eventually([&] {
    const auto s = srv.stats();
    return s.pending == 0 && s.handshakes_expired + s.retries_sent >= peers.size();
  }));
  for (auto& p : peers) {
    if (auto first = p->receive(20ms)) r.reply_size = first->size();
    p->drain(20ms);
    r.victim_sent += p->sent();
    r.victim_received += p->received();
  }
  r.stats = srv.stats();
  return r;
}

server::config quick(hs::server_config<suite> h, bool validation = false) {
  server::config c{.handshake = std::move(h)};
  c.limits.resend_interval = 20ms;
  c.address_validation = validation;
  return c;
}

void report(const char* kind, const flood_result& r) {
  std::printf("amplification, %-28s hello %zu B, reply %4zu B: victims got %6zu B for %6zu B spoofed = %.3f bytes per byte\n",
              kind, r.hello_size, r.reply_size, r.victim_received, r.victim_sent, r.ratio());
}

}  // namespace

TEST_CASE("a spoofed flood draws at most 3 bytes per byte received, for every credential kind", "[net][amplification]") {
  const auto root = hs::share(key::generate());
  const hs::client_config<suite> client_cfg{root->public_key(), nullptr};

  SECTION("root key") {
    server srv(quick({hs::server_identity<suite>::root(root), {}}), {});
    const auto r = flood(srv, client_cfg, 4);
    report("root key:", r);
    CHECK(r.ratio() <= hs::amplification_limit);
    CHECK(r.stats.server_hello_resends > 0);  // the budget was used, not only the first reply
    CHECK(r.stats.sessions == 0);
  }
  SECTION("delegated credential") {
    auto delegated = key::generate();
    const auto cred = hs::delegated_credential<suite>::issue(*root, delegated.public_key(),
                                                             static_cast<std::uint64_t>(std::time(nullptr)) + 3600);
    server srv(quick({hs::server_identity<suite>::delegated(std::move(delegated), cred), {}}), {});
    const auto r = flood(srv, client_cfg, 4);
    report("delegated credential:", r);
    CHECK(r.ratio() <= hs::amplification_limit);
    CHECK(r.stats.sessions == 0);
  }
  SECTION("X.509 certificate chain") {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    auto ca = pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"amp root"}, now - 3600,
                                                                   now + 86400);
    auto inter_key = std::make_shared<const key>(key::generate());
    auto inter_cert =
        ca.issue_intermediate(pki::certificate_request::create(*inter_key, {"amp intermediate"}), 0, now - 3600, now + 86400)
            .value();
    auto inter = pki::certificate_authority<sepal::p256>::from(inter_cert, inter_key).value();
    auto leaf_key = hs::share(key::generate());
    auto leaf = inter
                    .issue(pki::certificate_request::create(*leaf_key, {"game.example.com"}, {{"game.example.com"}, {}, {}}),
                           pki::usage::server, {.dns = {"game.example.com"}}, now - 3600, now + 86400)
                    .value();
    server srv(quick({hs::certified_identity<suite>(leaf_key, std::vector<pki::certificate>{leaf, inter_cert}), {}}), {});
    const auto r = flood(srv, client_cfg, 4);
    report("certificate chain (2 certs):", r);
    CHECK(r.reply_size > 800);  // big replies are where the budget bites
    CHECK(r.ratio() <= hs::amplification_limit);
    CHECK(r.stats.sessions == 0);
  }
  SECTION("root key with stateless retry") {
    server srv(quick({hs::server_identity<suite>::root(root), {}}, /*validation=*/true), {});
    const auto r = flood(srv, client_cfg, 4);
    report("root key, stateless retry:", r);
    CHECK(r.ratio() < 0.05);  // 46-byte HelloRetry per 1200-byte hello
    CHECK(r.stats.handshakes_started == 0);
    CHECK(r.stats.pending == 0);
  }
}
