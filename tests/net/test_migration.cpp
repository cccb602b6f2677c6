// Connection ids and address migration (docs/protocol.md §7.1, §7.3; RFC
// 9000 §8.2, §9): the server finds sessions by connection id, moves one to
// a new client address only after that address answered a path challenge,
// and sends an unvalidated address at most 3 times what it received from
// it. The client side is done by hand here (the sans-I/O handshake and
// session on raw sockets), so a test can move it, replay its packets from
// elsewhere and count every byte.

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net_support.hpp"

using namespace net_test;

namespace {

using established = hs::established<suite>;
constexpr std::size_t overhead = established::session_type::overhead;

bytes text(const std::string& s) { return bytes(s.begin(), s.end()); }

/// A handshake by hand from `peer`, confirmed by the handshake-done packet.
established connect_by_hand(raw_peer& peer, const net::endpoint& server, const keys& k) {
  auto h = hs::client_handshake<suite>::start(k.client_config());
  for (int attempt = 0; attempt < 10; ++attempt) {
    peer.send(server, h.client_hello());
    const auto reply = peer.receive(300ms);
    if (!reply) continue;
    auto done = h.receive(*reply);
    REQUIRE(done.has_value());
    peer.send(server, done->client_finished());
    // The handshake-done packet (ServerHello resends may come first).
    const auto end = std::chrono::steady_clock::now() + 1000ms;
    while (!done->confirmed() && std::chrono::steady_clock::now() < end)
      if (auto d = peer.receive(50ms)) (void)done->session().receive_in_place({}, *d);
    REQUIRE(done->confirmed());
    return std::move(*done);
  }
  FAIL("no ServerHello");
  throw;
}

bytes seal(established& e, std::span<const std::uint8_t> payload) {
  bytes out(payload.size() + overhead);
  const auto packet = e.session().seal({}, payload, out);
  return bytes(packet.begin(), packet.end());
}

/// What one side got from the server in `window`: payloads, and the path
/// challenges it answered from `peer` when `answer` is set.
struct heard {
  std::vector<bytes> payloads;
  int challenges = 0;
};
heard listen(raw_peer& peer, established& e, const net::endpoint& server, bool answer,
             std::chrono::milliseconds window = 300ms) {
  heard h;
  const auto end = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < end) {
    auto d = peer.receive(20ms);
    if (!d) continue;
    auto r = e.session().receive_in_place({}, *d);
    if (!r) continue;
    if (!r->control) {
      if (!r->payload.empty()) h.payloads.emplace_back(r->payload.begin(), r->payload.end());
      continue;
    }
    REQUIRE(r->payload.size() == 9);
    REQUIRE(r->payload[0] == 1);  // path_challenge
    ++h.challenges;
    if (!answer) continue;
    bytes response(r->payload.begin(), r->payload.end());
    response[0] = 2;  // path_response, the same data
    bytes out(response.size() + overhead);
    peer.send(server, e.session().seal_control(response, out));
  }
  return h;
}

/// An echo server that records each payload's source port as the session
/// saw it (`connection::remote()`, where it sends).
struct echo_fixture {
  keys k;
  std::mutex m;
  std::vector<std::uint16_t> remotes;
  std::unique_ptr<server> srv;
  /// `echo = false`: a server that receives and never replies.
  explicit echo_fixture(unsigned threads = 1, std::chrono::milliseconds resend_interval = 200ms, bool echo = true) {
    server::config cfg{.handshake = k.server_config(), .threads = threads};
    cfg.limits.resend_interval = resend_interval;
    server::handlers h;
    h.on_payload = [this, echo](server::connection& c, std::span<const std::uint8_t> p) {
      {
        std::lock_guard g(m);
        remotes.push_back(c.remote().port());
      }
      if (echo) c.send(p);
    };
    srv = std::make_unique<server>(std::move(cfg), std::move(h));
  }
  std::uint16_t last_remote() {
    std::lock_guard g(m);
    return remotes.empty() ? 0 : remotes.back();
  }
};

bool has(const heard& h, const bytes& payload) { return std::ranges::find(h.payloads, payload) != h.payloads.end(); }

/// The path challenge in `datagram` as `e`'s side opens it, or nullopt.
std::optional<bytes> challenge_in(established& e, bytes datagram) {
  auto r = e.session().receive_in_place({}, datagram);
  if (!r || !r->control || r->payload.size() != 9 || r->payload[0] != 1) return std::nullopt;
  return bytes(r->payload.begin(), r->payload.end());
}

/// The path_response to `challenge`, sealed by `e`.
bytes response_to(established& e, bytes challenge) {
  challenge[0] = 2;
  bytes out(challenge.size() + overhead);
  const auto packet = e.session().seal_control(challenge, out);
  return bytes(packet.begin(), packet.end());
}

/// `n` raw peers, each at an address of its own.
std::vector<std::unique_ptr<raw_peer>> peers(int n) {
  std::vector<std::unique_ptr<raw_peer>> v;
  for (int i = 0; i < n; ++i) v.push_back(std::make_unique<raw_peer>());
  return v;
}

/// Each racer gets a copy of a fresh packet of `e` to the server first;
/// `genuine` sends it after (a replay by then).
void race(std::vector<std::unique_ptr<raw_peer>>& racers, established& e, raw_peer& genuine, const net::endpoint& to) {
  for (auto& r : racers) {
    const auto packet = seal(e, text("copy"));
    r->send(to, packet);
    genuine.send(to, packet);
  }
}

/// The next path challenge `peer` receives within `timeout`.
std::optional<bytes> next_challenge(raw_peer& peer, established& e, std::chrono::milliseconds timeout = 300ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto d = peer.receive(20ms);
    if (!d) continue;
    if (auto c = challenge_in(e, *d)) return c;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("migration: a rebinding mid-stream moves the session only once the new address answered its challenge",
          "[net][migration]") {
  echo_fixture f;
  const auto to = f.srv->local();
  raw_peer before;
  auto e = connect_by_hand(before, to, f.k);
  before.send(to, seal(e, text("one")));
  CHECK(has(listen(before, e, to, false), text("one")));

  // The NAT gives the client a new port: its packets come from `after`.
  raw_peer after;
  after.send(to, seal(e, text("two")));
  // "two" is authenticated and delivered, but the session has not moved:
  // its echo goes to the old address, the challenge to the new one.
  const auto at_new = listen(after, e, to, false, 300ms);
  CHECK(at_new.challenges == 1);
  CHECK(at_new.payloads.empty());
  CHECK(has(listen(before, e, to, false, 100ms), text("two")));
  CHECK(f.last_remote() == before.local().port());
  CHECK(f.srv->stats().migrations == 0);

  // The next packet from the new address draws another challenge (a
  // resend interval later); this time the client answers it.
  std::this_thread::sleep_for(220ms);
  after.send(to, seal(e, text("three")));
  const auto answered = listen(after, e, to, true, 300ms);
  CHECK(answered.challenges == 1);
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));
  const auto heard_before = before.drain(100ms);  // the echo of "three" went there (not validated yet)
  // Now the session is there: echoes go to the new address, none to the old.
  after.send(to, seal(e, text("four")));
  CHECK(has(listen(after, e, to, true), text("four")));
  CHECK(f.last_remote() == after.local().port());
  CHECK(before.drain(100ms) == heard_before);  // nothing more for the old address
  const auto s = f.srv->stats();
  CHECK(s.path_challenges_sent == 2);
  CHECK(s.sessions == 1);
  CHECK(s.rejected_packets == 0);
}

TEST_CASE("migration: a spoofed source replaying or racing authenticated packets never redirects the session, and "
          "gets at most 3x what it sent",
          "[net][migration][attack]") {
  echo_fixture f;
  const auto to = f.srv->local();
  raw_peer genuine, spoofer;  // the spoofer sends copies of the genuine client's packets from its own address
  auto e = connect_by_hand(genuine, to, f.k);

  // A captured packet, replayed from elsewhere after the genuine one arrived: a replay, nothing at all.
  const auto captured = seal(e, text("captured"));
  genuine.send(to, captured);
  CHECK(has(listen(genuine, e, to, false, 200ms), text("captured")));
  for (int i = 0; i < 100; ++i) spoofer.send(to, captured);
  CHECK(spoofer.drain(200ms) == 0);
  CHECK(eventually([&] { return f.srv->stats().rejected_packets == 100; }));

  // Racing: each fresh packet reaches the server first from the spoofed
  // address (an attacker closer to the server), then from the genuine one.
  constexpr int raced = 60;
  for (int i = 0; i < raced; ++i) {
    const auto packet = seal(e, text("raced " + std::to_string(i)));
    spoofer.send(to, packet);
    genuine.send(to, packet);
    std::this_thread::sleep_for(10ms);  // 600 ms in all: about 3 resend intervals
  }
  const auto got = listen(genuine, e, to, false, 300ms);
  spoofer.drain(100ms);
  // Every payload was delivered once (from whichever copy came first) and
  // echoed to the genuine address: the session never moved.
  CHECK(got.payloads.size() == raced);
  CHECK(f.last_remote() == genuine.local().port());
  const auto s = f.srv->stats();
  CHECK(s.migrations == 0);
  CHECK(s.rejected_packets == 100 + raced);  // each second copy is a replay
  // The spoofed address got only challenges: at most one per resend
  // interval, at most 5 per probe, never over 3x what it sent.
  INFO("spoofer sent " << spoofer.sent() << " bytes, received " << spoofer.received());
  CHECK(spoofer.received() > 0);
  CHECK(spoofer.received() <= 3 * spoofer.sent());
  CHECK(s.path_challenges_sent >= 1);
  CHECK(s.path_challenges_sent <= 5);
  CHECK(spoofer.received() == s.path_challenges_sent * (9 + overhead));
  // The genuine client's session still works both ways.
  genuine.send(to, seal(e, text("after")));
  CHECK(has(listen(genuine, e, to, false, 300ms), text("after")));
}

TEST_CASE("migration: a tiny packet from a new address draws a challenge only within 3x of what that address sent",
          "[net][migration][attack]") {
  echo_fixture f;
  const auto to = f.srv->local();
  raw_peer genuine, moved;
  auto e = connect_by_hand(genuine, to, f.k);
  // The smallest authenticated packet (an empty payload, 29 bytes): a 38-byte challenge is within 3x.
  moved.send(to, seal(e, {}));
  CHECK(listen(moved, e, to, false, 200ms).challenges == 1);
  CHECK(moved.received() <= 3 * moved.sent());
  CHECK(f.srv->stats().path_challenges_refused == 0);
}

TEST_CASE("migration: two sessions behind one NAT address move independently, even onto a port the other left",
          "[net][migration]") {
  echo_fixture f;
  const auto to = f.srv->local();
  auto a1 = std::make_unique<raw_peer>();
  raw_peer b1;
  auto a = connect_by_hand(*a1, to, f.k);
  auto b = connect_by_hand(b1, to, f.k);
  a1->send(to, seal(a, text("a")));
  b1.send(to, seal(b, text("b")));
  CHECK(has(listen(*a1, a, to, false, 200ms), text("a")));
  CHECK(has(listen(b1, b, to, false, 200ms), text("b")));

  // A moves to a new port; B stays.
  raw_peer a2;
  a2.send(to, seal(a, text("a moved")));
  (void)listen(a2, a, to, true, 200ms);  // answers the challenge
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));
  // B then gets the port A left (the NAT reuses it).
  const auto old_port = a1->local().port();
  a1.reset();
  raw_peer b2("127.0.0.1", old_port);
  b2.send(to, seal(b, text("b moved")));
  (void)listen(b2, b, to, true, 200ms);
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 2; }));
  const auto heard_b1 = b1.drain(100ms);  // the echo of "b moved" went there (not validated yet)

  // Each session's echoes reach only its own new address.
  for (int i = 0; i < 20; ++i) {
    a2.send(to, seal(a, text("a" + std::to_string(i))));
    b2.send(to, seal(b, text("b" + std::to_string(i))));
  }
  const auto at_a = listen(a2, a, to, true, 300ms);
  const auto at_b = listen(b2, b, to, true, 300ms);
  CHECK(at_a.payloads.size() == 20);
  CHECK(at_b.payloads.size() == 20);
  for (int i = 0; i < 20; ++i) {
    CHECK(has(at_a, text("a" + std::to_string(i))));
    CHECK(has(at_b, text("b" + std::to_string(i))));
  }
  CHECK(b1.drain(100ms) == heard_b1);  // B's old address hears nothing more
  CHECK(f.srv->stats().sessions == 2);
}

TEST_CASE("migration with several workers: the kernel steers each session's packets to its worker by connection id",
          "[net][migration][threads]") {
  echo_fixture f(2);
  REQUIRE(f.srv->steered());  // SO_ATTACH_REUSEPORT_CBPF on the group
  const auto to = f.srv->local();
  constexpr int clients = 12;
  auto before = peers(clients), after = peers(clients);
  std::vector<established> sessions;
  for (int i = 0; i < clients; ++i) sessions.push_back(connect_by_hand(*before[i], to, f.k));
  // Each moves to a new port (the kernel's address hash would pick either
  // worker for it); every one is found, challenged and moved.
  for (int i = 0; i < clients; ++i) after[i]->send(to, seal(sessions[i], text("moved")));
  for (int i = 0; i < clients; ++i) CHECK(listen(*after[i], sessions[i], to, true, 150ms).challenges == 1);
  REQUIRE(eventually([&] { return f.srv->stats().migrations == clients; }));
  for (int i = 0; i < clients; ++i) {
    after[i]->send(to, seal(sessions[i], text("echo")));
    CHECK(has(listen(*after[i], sessions[i], to, true, 200ms), text("echo")));
  }
  CHECK(f.srv->stats().unknown_peer == 0);
}

TEST_CASE("migration: a response from another address or with other data moves nothing; one to the challenge "
          "before the last still counts",
          "[net][migration][attack]") {
  echo_fixture f;
  const auto to = f.srv->local();
  raw_peer genuine, moved, elsewhere;
  auto e = connect_by_hand(genuine, to, f.k);
  moved.send(to, seal(e, text("from the new port")));
  const auto first = next_challenge(moved, e);
  REQUIRE(first.has_value());
  // Wrong data, from the challenged address; the right data from another one.
  auto wrong = *first;
  wrong[5] ^= 1;
  moved.send(to, response_to(e, wrong));
  elsewhere.send(to, response_to(e, *first));
  genuine.send(to, response_to(e, *first));
  std::this_thread::sleep_for(100ms);
  CHECK(f.srv->stats().migrations == 0);
  // A second challenge a resend interval later; the answer to the first still moves it.
  std::this_thread::sleep_for(150ms);
  moved.send(to, seal(e, text("again")));
  REQUIRE(next_challenge(moved, e).has_value());
  moved.send(to, response_to(e, *first));
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));
  moved.send(to, seal(e, text("there")));
  CHECK(has(listen(moved, e, to, true), text("there")));
}

TEST_CASE("migration: an attacker who races the client's packets and its answer can move the session, cannot end it "
          "with a handshake of its own, and the client's next packet takes it back",
          "[net][migration][attack]") {
  echo_fixture f;
  const auto to = f.srv->local();
  raw_peer genuine, attacker;
  auto e = connect_by_hand(genuine, to, f.k);
  // The attacker sees the client's packet and gets its copy there first.
  const auto packet = seal(e, text("raced"));
  attacker.send(to, packet);
  genuine.send(to, packet);
  const auto challenge = next_challenge(attacker, e);  // it cannot open it, but it can carry it to the client
  REQUIRE(challenge.has_value());
  const auto answer = response_to(e, *challenge);       // the client answers what reached it
  attacker.send(to, answer);                            // and the attacker races that too
  genuine.send(to, answer);
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));  // as in QUIC (RFC 9000 §9.3.3)
  // Its own handshake from that address does not replace the moved session.
  auto mine = connect_by_hand(attacker, to, f.k);
  REQUIRE(eventually([&] { return f.srv->stats().handshakes_completed == 2; }));
  CHECK(f.srv->stats().sessions == 2);
  CHECK(f.srv->stats().sessions_replaced == 0);
  // The attacker stops racing: the client's next packet from its address
  // draws a challenge there, and its answer moves the session back.
  genuine.send(to, seal(e, text("still here")));
  CHECK(listen(genuine, e, to, true, 300ms).challenges == 1);
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 2; }));
  genuine.send(to, seal(e, text("home")));
  CHECK(has(listen(genuine, e, to, true), text("home")));
  CHECK(f.last_remote() == genuine.local().port());
  // Back at the address it handshook from, a client restart there replaces it again.
  auto restarted = connect_by_hand(genuine, to, f.k);
  REQUIRE(eventually([&] { return f.srv->stats().sessions_replaced == 1; }));
  CHECK(f.srv->stats().sessions == 2);  // the restarted client's and the attacker's
  (void)mine;
  (void)restarted;
}

TEST_CASE("migration: copies raced from three other addresses in turn do not wipe the probe of a genuine new address",
          "[net][migration][attack]") {
  echo_fixture f(1, 1000ms);  // a 1 s resend interval: every probe here stays young, however slow the host
  const auto to = f.srv->local();
  raw_peer genuine, moved;
  auto racers = peers(3);
  auto e = connect_by_hand(genuine, to, f.k);
  moved.send(to, seal(e, text("moved")));
  const auto challenge = next_challenge(moved, e);  // the client's answer is on its way...
  REQUIRE(challenge.has_value());
  race(racers, e, moved, to);  // ...while each racer's copy of a fresh packet gets there first
  REQUIRE(eventually([&] { return f.srv->stats().path_challenges_sent == 4; }));
  // A fifth address finds every slot busy with a younger probe: no challenge for it.
  raw_peer fifth;
  const auto packet = seal(e, text("copy"));
  fifth.send(to, packet);
  moved.send(to, packet);
  REQUIRE(eventually([&] { return f.srv->stats().path_challenges_refused == 1; }));
  CHECK(fifth.drain(100ms) == 0);
  moved.send(to, response_to(e, *challenge));
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));
  CHECK(f.srv->stats().path_challenges_sent == 4);
  moved.send(to, seal(e, text("there")));
  CHECK(has(listen(moved, e, to, true), text("there")));
}

TEST_CASE("migration: a probe sends at most 5 challenges; a packet 10 resend ticks after the last starts a fresh one",
          "[net][migration]") {
  echo_fixture f(1, 50ms);  // resend ticks of 50 ms: 10 ticks are 500 ms
  const auto to = f.srv->local();
  raw_peer genuine, moved;
  auto e = connect_by_hand(genuine, to, f.k);
  int challenges = 0;
  for (int i = 0; i < 7; ++i) {  // 7 packets 100 ms apart (2 ticks), none answered: the last 2 draw none
    moved.send(to, seal(e, text("unanswered")));
    challenges += listen(moved, e, to, false, 100ms).challenges;
  }
  CHECK(challenges == 5);
  std::this_thread::sleep_for(600ms);
  moved.send(to, seal(e, text("later")));
  CHECK(listen(moved, e, to, true, 100ms).challenges == 1);  // a fresh probe; answered this time
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));
  CHECK(f.srv->stats().path_challenges_sent == 6);
}

TEST_CASE("migration: when the first challenge is lost, the probe's second challenge is as safe from racers as the first",
          "[net][migration][attack]") {
  echo_fixture f;
  const auto to = f.srv->local();
  raw_peer genuine, moved;
  auto racers = peers(4);
  auto e = connect_by_hand(genuine, to, f.k);
  moved.send(to, seal(e, text("moved")));
  REQUIRE(next_challenge(moved, e).has_value());  // lost: never answered
  std::this_thread::sleep_for(250ms);             // past a resend interval: the probe is not new any more
  moved.send(to, seal(e, text("again")));
  const auto second = next_challenge(moved, e);
  REQUIRE(second.has_value());
  race(racers, e, moved, to);  // four racers: three free slots, and the probe whose challenge was just sent
  REQUIRE(eventually([&] { return f.srv->stats().path_challenges_refused == 1; }));
  moved.send(to, response_to(e, *second));
  REQUIRE(eventually([&] { return f.srv->stats().migrations == 1; }));
}

TEST_CASE("migration: a key update first seen from a new address is acknowledged to the session's address, not in the "
          "challenge",
          "[net][migration][keyupdate]") {
  echo_fixture f(1, 200ms, false);  // a server that never replies: only its own acknowledgment goes back
  const auto to = f.srv->local();
  raw_peer genuine, spoofer;
  auto e = connect_by_hand(genuine, to, f.k);
  e.session().update_key();  // generation 1, at once (the server holds generation 0)
  CHECK_FALSE(e.session().key_update_pending());
  // The first packet under the new keys reaches the server from a spoofed
  // address first: the server's receiver moves to generation 1 there.
  const auto packet = seal(e, text("first under the new keys"));
  spoofer.send(to, packet);
  genuine.send(to, packet);
  CHECK(spoofer.drain(200ms) == 9 + overhead);  // the challenge (with A = 1) went to the spoofer, never to the client
  (void)listen(genuine, e, to, false, 200ms);  // the empty acknowledgment came here
  // The server's receiver holds generation 1 and said so where the session
  // is: the client may start generation 2 at once.
  e.session().update_key();
  CHECK_FALSE(e.session().key_update_pending());
  CHECK(e.session().sender().key_generation() == 2);
}
