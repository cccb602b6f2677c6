// Confirmed establishment (docs/protocol.md §7.2, after RFC 9001 §4.1.2):
// the client's session is provisional until a packet from the server opens;
// ClientFinished is resent on the client's timer, at most 10 times, and then
// the handshake has failed (timed_out), which the application can act on.
#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/protocol.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace hs = sepal::handshake;
using sepal::errc;

namespace {

constexpr std::uint64_t now = 1'800'000'000;
using suite = hs::default_suite;

struct parties {
  hs::shared_private_key<sepal::p256> root = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::server_config<suite> server{hs::server_identity<suite>::root(root), {}};
  hs::client_config<suite> client{root->public_key(), nullptr};
};

/// A client established (ClientFinished made) and the server still pending.
struct half_done {
  parties p;
  hs::client_handshake<suite> client = hs::client_handshake<suite>::start(p.client);
  hs::server_handshake<suite> server = *hs::server_handshake<suite>::accept(p.server, client.client_hello());
  hs::established<suite> c = *client.receive(server.server_hello(), now);
};

bool opens(hs::established<suite>& e, std::span<const std::uint8_t> packet) {
  bytes out(packet.size());
  return e.session().open({}, packet, out).has_value();
}

}  // namespace

TEST_CASE("confirmation #15: the client's session is provisional until the server's handshake-done opens",
          "[handshake][confirmation][issue15]") {
  half_done h;
  CHECK_FALSE(h.c.confirmed());
  auto s = h.server.receive(h.c.client_finished());
  REQUIRE(s.has_value());
  CHECK(s->confirmed());  // the server verified ClientFinished
  const auto done = copy(s->handshake_done());
  // An empty session packet: 29 bytes, less than the ClientFinished that draws it.
  CHECK(done.size() == hs::established<suite>::session_type::overhead);
  CHECK(done.size() < h.c.client_finished().size());
  REQUIRE(opens(h.c, done));
  CHECK(h.c.confirmed());
  auto tick = h.c.on_timer();
  REQUIRE(tick.has_value());
  CHECK(tick->empty());  // confirmed: nothing more to resend
}

TEST_CASE("confirmation #15: a lost ClientFinished is resent on the client's timer and the server confirms",
          "[handshake][confirmation][issue15]") {
  half_done h;  // the first ClientFinished is lost
  auto again = h.c.on_timer();
  REQUIRE(again.has_value());
  CHECK(copy(*again) == copy(h.c.client_finished()));
  auto s = h.server.receive(*again);
  REQUIRE(s.has_value());
  REQUIRE(opens(h.c, s->handshake_done()));
  CHECK(h.c.confirmed());
}

TEST_CASE("confirmation #15: a lost handshake-done draws a fresh one for the resent ClientFinished",
          "[handshake][confirmation][issue15]") {
  half_done h;
  auto s = h.server.receive(h.c.client_finished());
  REQUIRE(s.has_value());
  const auto lost = copy(s->handshake_done());
  auto again = h.c.on_timer();
  REQUIRE(again.has_value());
  REQUIRE(s->is_client_finished_again(*again));
  CHECK_FALSE(s->is_client_finished_again(h.server.server_hello()));
  const auto fresh = copy(s->handshake_done());
  CHECK(fresh != lost);  // the next packet number, not a copy
  REQUIRE(opens(h.c, fresh));
  CHECK(h.c.confirmed());
  CHECK(opens(h.c, lost));  // the lost one, arriving late, opens once (it is a genuine packet)
  CHECK_FALSE(opens(h.c, lost));
}

TEST_CASE("confirmation #15: a replayed ClientFinished draws at most 10 more handshake-done packets",
          "[handshake][confirmation][issue15]") {
  half_done h;
  auto s = h.server.receive(h.c.client_finished());
  REQUIRE(s.has_value());
  std::size_t sent = 0, bytes_out = 0, bytes_in = 0;
  for (int i = 0; i < 1000; ++i) {  // an attacker replaying the captured ClientFinished
    REQUIRE(s->is_client_finished_again(h.c.client_finished()));
    bytes_in += h.c.client_finished().size();
    const auto done = s->handshake_done();
    if (done.empty()) continue;
    ++sent;
    bytes_out += done.size();
  }
  CHECK(sent == 1 + hs::established<suite>::max_finished_resends);  // the first, and what a client can ask for
  CHECK(bytes_out < bytes_in / 100);  // 319 bytes out (11 of 29) for 1000 replays in
  CHECK(s->session().sender().next_packet_number() == sent);  // nothing else was consumed
  CHECK(h.c.handshake_done().empty());  // and a client never makes one
}

TEST_CASE("confirmation #15: with no server answer the client gives up after 10 resends (timed_out)",
          "[handshake][confirmation][issue15]") {
  half_done h;
  for (unsigned i = 0; i < hs::established<suite>::max_finished_resends; ++i) {
    auto again = h.c.on_timer();
    REQUIRE(again.has_value());
    CHECK_FALSE(again->empty());
  }
  CHECK(h.c.on_timer().error() == errc::timed_out);
  CHECK(h.c.on_timer().error() == errc::timed_out);  // and stays failed
  CHECK_FALSE(h.c.confirmed());
}

TEST_CASE("confirmation #15: forged, replayed and foreign packets do not confirm",
          "[handshake][confirmation][issue15]") {
  half_done h, other;
  auto s = h.server.receive(h.c.client_finished());
  auto t = other.server.receive(other.c.client_finished());
  REQUIRE((s && t));
  // Another session's handshake-done, garbage, and a bit-flipped genuine one.
  CHECK_FALSE(opens(h.c, t->handshake_done()));
  CHECK_FALSE(opens(h.c, bytes(40, 0x40)));  // long enough to be tried as a session packet
  auto done = copy(s->handshake_done());
  for (std::size_t i = 0; i < done.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {  // every bit, the key phase and A bits under protection included
      auto flipped = done;
      flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
      CHECK_FALSE(opens(h.c, flipped));
    }
  CHECK_FALSE(h.c.confirmed());
  // A server never confirms on the client's behalf, and nothing else than the
  // verified ClientFinished counts as "again".
  CHECK_FALSE(s->is_server_hello_again(h.server.server_hello()));
  CHECK_FALSE(h.c.is_client_finished_again(h.c.client_finished()));
  REQUIRE(opens(h.c, done));
  CHECK(h.c.confirmed());
  CHECK_FALSE(opens(h.c, done));  // a replay is refused, and changes nothing
  CHECK(h.c.confirmed());
}
