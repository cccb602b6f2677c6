// Fragmented handshakes through the UDP endpoint (docs/protocol.md §3.4):
// a hybrid X.509 handshake over real loopback UDP with datagrams of at most
// 1200 bytes; a sustained flood of ClientHello fragments from many spoofed
// addresses, the clients' own among them, stays within the reassembly
// limits and draws nothing while genuine clients connect; and a spoofed flood of a whole fragmented ClientHello flight and
// its repeated first fragment draws at most 3x the bytes it sent.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>
#include <atomic>

#include <sepal/handshake/certificates.hpp>
#include <sepal/pki/authority.hpp>

#include "net_support.hpp"

using namespace net_test;
namespace pki = sepal::pki;

namespace {

using hybrid = hs::suite<sepal::secp256r1_mlkem768, sepal::p256>;
using hybrid_server = net::udp_server<hybrid>;
using hybrid_client = net::udp_client<hybrid>;
using key = sepal::private_key<sepal::p256>;

/// A root, an intermediate and a server leaf, and the hybrid configs for them.
struct chain_fixture {
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  pki::certificate_authority<sepal::p256> ca =
      pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"frag root"}, now - 3600, now + 86400);
  std::shared_ptr<const key> inter_key = std::make_shared<const key>(key::generate());
  pki::certificate inter_cert =
      ca.issue_intermediate(pki::certificate_request::create(*inter_key, {"frag intermediate"}), 0, now - 3600, now + 86400)
          .value();
  pki::certificate_authority<sepal::p256> inter = pki::certificate_authority<sepal::p256>::from(inter_cert, inter_key).value();
  hs::shared_private_key<sepal::p256> leaf_key = hs::share(key::generate());
  pki::certificate leaf =
      inter.issue(pki::certificate_request::create(*leaf_key, {"pq.example.com"}, {{"pq.example.com"}, {}, {}}),
                  pki::usage::server, {.dns = {"pq.example.com"}}, now - 3600, now + 86400)
          .value();
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  chain_fixture() { anchors->add(ca.cert()); }

  [[nodiscard]] hybrid_server::config server() const {
    hybrid_server::config c{.handshake = {hs::certified_identity<hybrid>(leaf_key, std::vector<pki::certificate>{leaf, inter_cert})}};
    c.limits.resend_interval = 20ms;
    return c;
  }
  [[nodiscard]] hs::client_config<hybrid> client() const {
    return {std::nullopt, nullptr, hs::x509_verifier<sepal::p256>(anchors, pki::purpose::server, "pq.example.com")};
  }
};

hybrid_server::handlers echo_handlers() {
  hybrid_server::handlers h;
  h.on_payload = [](hybrid_server::connection& c, std::span<const std::uint8_t> p) { c.send(p); };
  return h;
}

}  // namespace

TEST_CASE("a hybrid X.509 handshake over real UDP with datagrams of at most 1200 bytes", "[net][fragments]") {
  chain_fixture f;
  hybrid_server srv(f.server(), echo_handlers());

  // By hand first, from a raw socket, to see every datagram the server sends.
  raw_peer peer("127.0.0.1");
  auto h = hs::client_handshake<hybrid>::start(f.client());
  REQUIRE(h.client_hello_datagrams().size() == 2);
  for (const auto& d : h.client_hello_datagrams()) {
    CHECK(d.size() <= 1200);
    peer.send(srv.local(), d);
  }
  std::optional<hs::established<hybrid>> done;
  std::size_t server_datagrams = 0;
  while (!done) {
    auto d = peer.receive(2000ms);
    REQUIRE(d.has_value());
    CHECK(d->size() <= 1200);
    ++server_datagrams;
    auto r = h.on_datagram(*d, static_cast<std::uint64_t>(std::time(nullptr)));
    REQUIRE(r.has_value());
    if (r->has_value()) done.emplace(std::move(**r));
  }
  CHECK(server_datagrams >= 2);
  for (const auto& d : done->client_finished_datagrams()) peer.send(srv.local(), d);
  REQUIRE(eventually([&] { return srv.stats().handshakes_completed == 1; }));
  std::printf("endpoint, SecP256r1MLKEM768 + 2-certificate chain at 1200 B: ClientHello %zu datagrams / %zu B, "
              "ServerHello %zu datagrams / %zu B\n",
              h.client_hello_datagrams().size(), peer.sent() - done->client_finished().size(), server_datagrams,
              peer.received());

  // Then the endpoint's own client.
  hybrid_client::config cc{.handshake = f.client(), .server = srv.local()};
  hybrid_client c(cc);
  REQUIRE(c.connect());
  CHECK(echoes(c, ping));
  CHECK(srv.stats().handshakes_completed == 2);
}

TEST_CASE("a sustained spoofed flood of ClientHello fragments, some from the clients' own address, neither blocks "
          "whole nor fragmented ClientHellos, stays within the reassembly limits and draws nothing",
          "[net][fragments][limits]") {
  chain_fixture f;
  auto cfg = f.server();
  cfg.limits.max_hello_reassemblies = 16;
  cfg.limits.max_hello_reassemblies_per_address = 4;
  cfg.limits.max_pending = 8;  // fragments no longer count here
  cfg.limits.max_pending_per_address = 2;
  hybrid_server srv(std::move(cfg), echo_handlers());

  // Spoofers on 16 addresses x 4 ports, and 4 ports on 127.0.0.1, the
  // genuine clients' own address. Each sends, over and over: full-size
  // first fragments with fresh bindings (random "ClientHello randoms"),
  // tiny 20-byte first fragments claiming 16384 bytes, and later fragments
  // that open nothing.
  std::vector<std::unique_ptr<raw_peer>> spoofers;
  for (int a = 1; a <= 16; ++a) {
    const std::string address = "127.0.3." + std::to_string(a);
    for (int p = 0; p < 4; ++p) spoofers.push_back(std::make_unique<raw_peer>(address.c_str()));
  }
  for (int p = 0; p < 4; ++p) spoofers.push_back(std::make_unique<raw_peer>("127.0.0.1"));
  const auto sample = hs::client_handshake<hybrid>::start(f.client());
  const bytes first = sample.client_hello_datagrams()[0], later = sample.client_hello_datagrams()[1];
  bytes tiny(first.begin(), first.begin() + hs::fragment_header_size + 1);
  tiny[13] = 0x40, tiny[14] = 0x00;      // message_length 16384
  tiny[17] = 0x00, tiny[18] = 0x01;      // one byte of fragment_data
  std::atomic<std::size_t> flooded{0}, peak{0};
  // A stop_token, so a failed REQUIRE below (which destroys the thread)
  // still ends the flood.
  std::jthread flood([&](std::stop_token st) {
    std::mt19937 rng(11);
    while (!st.stop_requested()) {
      for (std::size_t i = 0; i < spoofers.size(); ++i) {
        bytes b = first;
        for (std::size_t j = 5; j < 13; ++j) b[j] = static_cast<std::uint8_t>(rng());  // another binding
        spoofers[i]->send(srv.local(), b);
        spoofers[i]->send(srv.local(), tiny);
        spoofers[i]->send(srv.local(), later);
        flooded += 3;
        if (i % 17 == 16) {  // about 50 datagrams a millisecond: a flood, not a socket-buffer overflow test
          peak = std::max<std::size_t>(peak.load(), srv.stats().hello_reassemblies);
          std::this_thread::sleep_for(1ms);
        }
      }
    }
  });
  // Genuine clients connect during the flood: fragmented (1200 B, the
  // default) and whole (a 1500-byte limit), one after another. Their resend
  // timer matches the server's 20 ms, so a datagram lost to the flood is
  // resent before the server's pending handshake expires.
  for (int i = 0; i < 4; ++i) {
    auto hc = f.client();
    if (i % 2) hc.max_datagram_size = 1500;
    hybrid_client::config cc{.handshake = std::move(hc), .server = srv.local()};
    cc.handshake_timeout = 20s;
    cc.resend_interval = 20ms;
    hybrid_client c(cc);
    REQUIRE(c.connect());
    CHECK(echoes(c, ping));
  }
  flood.request_stop();
  flood.join();
  const auto s = srv.stats();
  std::printf("sustained fragment flood: %zu spoofed datagrams; %llu collections evicted, %llu expired, peak %zu of "
              "16; %llu malformed; 4 of 4 genuine clients connected\n",
              flooded.load(), static_cast<unsigned long long>(s.hello_reassemblies_evicted),
              static_cast<unsigned long long>(s.hello_reassemblies_expired), peak.load(),
              static_cast<unsigned long long>(s.malformed));
  CHECK(peak <= 16);
  CHECK(s.hello_reassemblies_evicted > 0);
  CHECK(s.malformed > 0);  // the tiny and the later fragments opened nothing
  CHECK(s.handshakes_completed == 4);
  CHECK(s.refused_pending_full == 0);
  REQUIRE(eventually([&] { return srv.stats().hello_reassemblies == 0; }));
  // Fragments alone never draw a byte.
  for (auto& p : spoofers) CHECK(p->drain(5ms) == 0);
}

TEST_CASE("a spoofed flood of fragmented hybrid ClientHellos and repeated first fragments draws at most 3x",
          "[net][fragments][amplification]") {
  chain_fixture f;
  hybrid_server srv(f.server(), {});
  std::vector<std::unique_ptr<raw_peer>> victims;
  for (int v = 1; v <= 4; ++v) {
    const std::string a = "127.0.4." + std::to_string(v);
    for (int p = 0; p < 4; ++p) victims.push_back(std::make_unique<raw_peer>(a.c_str()));
  }
  for (auto& v : victims) {
    const auto h = hs::client_handshake<hybrid>::start(f.client());
    for (const auto& d : h.client_hello_datagrams()) v->send(srv.local(), d);
    for (int i = 0; i < 5; ++i) v->send(srv.local(), h.client_hello_datagrams()[0]);  // draws the flight, budget permitting
    for (int i = 0; i < 5; ++i) v->send(srv.local(), h.client_hello_datagrams()[1]);  // draws nothing
  }
  REQUIRE(eventually([&] {
    const auto s = srv.stats();
    return s.pending == 0 && s.handshakes_expired >= victims.size();
  }));
  std::size_t sent = 0, received = 0;
  for (auto& v : victims) {
    v->drain(20ms);
    sent += v->sent();
    received += v->received();
    CHECK(v->received() <= hs::amplification_limit * v->sent());
  }
  std::printf("amplification, fragmented hybrid ClientHello + chain: victims got %zu B for %zu B spoofed = %.3f bytes "
              "per byte (%llu ServerHello resends)\n",
              received, sent, double(received) / double(sent),
              static_cast<unsigned long long>(srv.stats().server_hello_resends));
  CHECK(received <= hs::amplification_limit * sent);
  CHECK(srv.stats().server_hello_resends > 0);
  CHECK(srv.stats().sessions == 0);
}
