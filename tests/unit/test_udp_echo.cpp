// The UDP echo server and client of examples/ over real loopback sockets:
// recovery from a lost ClientFinished, re-handshakes from the same address,
// and forged datagrams that must not disturb an established session.

#include <catch2/catch_test_macros.hpp>

#include <optional>
#include <thread>

#include "udp_echo.hpp"

namespace {

struct running_server {
  demo::hs::shared_private_key<sepal::p256> root = demo::hs::share(sepal::private_key<sepal::p256>::generate());
  demo::hs::server_config<demo::suite> config{demo::hs::server_identity<demo::suite>::root(root), {}};
  demo::hs::client_config<demo::suite> client_config{root->public_key(), nullptr};
  demo::echo_server server{config};
  std::thread thread{[this] { server.run(); }};
  ~running_server() {
    server.stop();
    thread.join();
  }
};

const std::uint8_t payload[] = {'p', 'i', 'n', 'g'};

/// A handshake driven by hand from `peer` up to the client's established
/// state (ClientFinished not sent yet).
demo::hs::established<demo::suite> established_by_hand(running_server& s, demo::udp_socket& peer) {
  auto genuine = demo::hs::client_handshake<demo::suite>::start(s.client_config);
  peer.send_to(demo::loopback(s.server.port()), genuine.client_hello());
  demo::bytes buf(65536);
  sockaddr_in from{};
  const auto n = peer.receive(buf, from, 2000);
  REQUIRE(n.has_value());
  auto done = genuine.receive(std::span(buf).first(*n), demo::unix_now());
  REQUIRE(done.has_value());
  return std::move(*done);
}

}  // namespace

TEST_CASE("a lost ClientFinished is recovered by the server's retransmission", "[udp]") {
  running_server s;
  demo::echo_client client(s.client_config, s.server.port());
  client.connect(10, /*lose_client_finished_for_testing=*/true);
  CHECK(client.echo(payload));  // the server resends ServerHello; the client resends ClientFinished
  CHECK(s.server.completed_handshakes() == 1);
}

TEST_CASE("a peer that handshakes again from the same address gets a new session", "[udp]") {
  running_server s;
  std::uint16_t port = 0;
  {
    demo::udp_socket probe;
    port = probe.port();
  }
  for (int round = 0; round < 3; ++round) {
    demo::echo_client client(s.client_config, s.server.port(), port);
    client.connect();
    CHECK(client.echo(payload));
  }
  CHECK(s.server.completed_handshakes() == 3);
  CHECK(s.server.established_peers() == 1);
}

TEST_CASE("garbage and forged datagrams do not disturb an established session", "[udp]") {
  running_server s;
  demo::echo_client client(s.client_config, s.server.port());
  client.connect();
  demo::udp_socket attacker;
  const auto to = demo::loopback(s.server.port());
  for (int i = 0; i < 200; ++i) {
    demo::bytes junk(static_cast<std::size_t>(1 + i * 7 % 1300), static_cast<std::uint8_t>(i));
    junk[0] = static_cast<std::uint8_t>(i % 5 == 0 ? 0x43 : i % 4);  // session packets and handshake types
    attacker.send_to(to, junk);
  }
  CHECK(client.echo(payload));
}

TEST_CASE("hardening: a second ClientHello from a peer's address does not replace its pending handshake",
          "[udp][hardening]") {
  running_server s;
  demo::udp_socket peer;  // the genuine client's address, which the attacker spoofs
  const auto to = demo::loopback(s.server.port());
  auto done = std::optional(established_by_hand(s, peer));
  demo::bytes buf(65536);
  sockaddr_in from{};
  // The attacker's ClientHello "from" the same address, before ClientFinished arrives.
  auto spoofed = demo::hs::client_handshake<demo::suite>::start(s.client_config);
  peer.send_to(to, spoofed.client_hello());
  peer.send_to(to, done->client_finished());
  // The genuine handshake completes: its session echoes.
  const demo::bytes msg{'o', 'k'};
  demo::bytes packet(msg.size() + demo::session::overhead), out(64);
  bool echoed = false;
  for (int attempt = 0; attempt < 10 && !echoed; ++attempt) {
    peer.send_to(to, done->session().seal({}, msg, packet));
    if (const auto m = peer.receive(buf, from, 300)) {
      auto got = done->session().open({}, std::span(buf).first(*m), out);
      echoed = got && std::ranges::equal(*got, msg);
    }
  }
  CHECK(echoed);
  CHECK(s.server.completed_handshakes() == 1);
}

TEST_CASE("confirmation: a spoofed ClientHello after establishment does not stop the handshake-done answer",
          "[udp][confirmation][issue15]") {
  running_server s;
  demo::udp_socket peer;  // the genuine client's address, which the attacker spoofs
  const auto to = demo::loopback(s.server.port());
  auto done = std::optional(established_by_hand(s, peer));
  demo::bytes buf(65536), out(64);
  sockaddr_in from{};
  peer.send_to(to, done->client_finished());
  // The handshake-done is "lost" (not read); then a spoofed ClientHello from
  // the client's address opens a pending handshake there.
  (void)peer.receive(buf, from, 500);
  auto spoofed = demo::hs::client_handshake<demo::suite>::start(s.client_config);
  peer.send_to(to, spoofed.client_hello());
  (void)peer.receive(buf, from, 500);  // the spoofed handshake's ServerHello
  // The client's resent ClientFinished still draws a handshake-done that confirms.
  for (int attempt = 0; attempt < 5 && !done->confirmed(); ++attempt) {
    peer.send_to(to, done->client_finished());
    if (const auto m = peer.receive(buf, from, 300)) (void)done->session().open({}, std::span(buf).first(*m), out);
  }
  CHECK(done->confirmed());
}
