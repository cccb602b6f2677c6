#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/retry.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace hs = sepal::handshake;
using sepal::errc;

namespace {

constexpr std::uint64_t now = 1'800'000'000;

template <class Suite>
struct parties {
  using sig = typename Suite::sig;
  hs::shared_private_key<sig> root = hs::share(sepal::private_key<sig>::generate());
  hs::server_config<Suite> server{hs::server_identity<Suite>::root(root), {}};
  hs::client_config<Suite> client{root->public_key(), nullptr};
};

/// Runs a whole handshake; returns both ends.
template <class Suite>
std::pair<hs::established<Suite>, hs::established<Suite>> handshake(const hs::client_config<Suite>& cc,
                                                                    const hs::server_config<Suite>& sc) {
  auto client = hs::client_handshake<Suite>::start(cc);
  auto server = hs::server_handshake<Suite>::accept(sc, client.client_hello());
  REQUIRE(server.has_value());
  CHECK(server->server_hello().size() <= client.client_hello().size());  // no amplification
  auto c = client.receive(server->server_hello(), now);
  REQUIRE(c.has_value());
  auto s = server->receive(c->client_finished());
  REQUIRE(s.has_value());
  return {std::move(*c), std::move(*s)};
}

template <class Suite>
void exchange(hs::established<Suite>& a, hs::established<Suite>& b) {
  for (int i = 0; i < 3; ++i) {
    const auto msg = as_bytes("packet " + std::to_string(i));
    bytes wire(msg.size() + 64), got(msg.size() + 64);
    auto p = a.session().seal({}, msg, wire);
    auto r = b.session().open({}, p, got);
    REQUIRE(r.has_value());
    CHECK(copy(*r) == msg);
    auto q = b.session().seal({}, msg, wire);
    REQUIRE(a.session().open({}, q, got).has_value());
  }
}

using suites = std::tuple<hs::default_suite, hs::suite<sepal::x25519, sepal::ed25519, sepal::chacha20_poly1305>,
                          hs::suite<sepal::p384, sepal::p384, sepal::aes256_gcm, sepal::sha384>,
                          hs::suite<sepal::x25519, sepal::p256, sepal::aes128_gcm, sepal::sha256>,
                          hs::suite<sepal::p521, sepal::ed448, sepal::aes256_gcm, sepal::sha512>,
                          hs::suite<sepal::x448, sepal::ed25519, sepal::chacha20_poly1305, sepal::sha512>,
                          hs::suite<sepal::p256, sepal::p521, sepal::aes128_gcm, sepal::sha384>,
                          hs::suite<sepal::x25519, sepal::ed25519, sepal::aes256_gcm_siv, sepal::sha256>>;
// Together these use every key agreement curve, signature scheme, AEAD and
// hash the concepts allow at least once.

}  // namespace

TEMPLATE_LIST_TEST_CASE("a full handshake yields sessions that talk both ways", "[handshake]", suites) {
  parties<TestType> p;
  auto [client, server] = handshake(p.client, p.server);
  exchange(client, server);
  const auto ctx = as_bytes("ctx");
  CHECK(sepal::constant_time_equal(client.export_key("EXPORTER-test", ctx, 32),
                                   server.export_key("EXPORTER-test", ctx, 32)));
  CHECK_FALSE(server.client_identity().has_value());
}

TEST_CASE("the suite id follows docs/protocol.md", "[handshake]") {
  static_assert(hs::default_suite::id == 0x1121);
  static_assert(hs::suite<sepal::x25519, sepal::ed25519, sepal::chacha20_poly1305>::id == 0x4431);
  static_assert(hs::suite<sepal::p256, sepal::p256, sepal::aes128_gcm_siv>::id == 0x1141);
  static_assert(hs::suite<sepal::p256, sepal::p256, sepal::aes256_gcm_siv>::id == 0x1151);
}

TEST_CASE("a wrong pinned root, or a man in the middle with its own key, is rejected", "[handshake][attack]") {
  parties<hs::default_suite> p;
  const auto other_root = sepal::private_key<sepal::p256>::generate();
  hs::client_config<hs::default_suite> pinned_elsewhere{other_root.public_key(), nullptr};
  auto client = hs::client_handshake<hs::default_suite>::start(pinned_elsewhere);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello());
  REQUIRE(server.has_value());
  CHECK(client.receive(server->server_hello(), now).error() == errc::invalid_signature);
}

TEST_CASE("a substituted key share is detected", "[handshake][attack]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  // The attacker replaces the client's share with its own in the ClientHello.
  auto hello = copy(client.client_hello());
  const auto attacker = sepal::private_key<sepal::p256>::generate().public_key().to_raw();
  std::copy(attacker.begin(), attacker.end(), hello.begin() + 4 + 32 + 8 + 2);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, hello);
  REQUIRE(server.has_value());  // the server cannot tell...
  // ...but the client derives other keys and a different transcript.
  CHECK(client.receive(server->server_hello(), now).error() == errc::authentication_failed);
}

TEST_CASE("a ServerHello replayed from an earlier connection is rejected", "[handshake][attack]") {
  parties<hs::default_suite> p;
  auto first = hs::client_handshake<hs::default_suite>::start(p.client);
  auto old_server = hs::server_handshake<hs::default_suite>::accept(p.server, first.client_hello());
  REQUIRE(old_server.has_value());
  const auto recorded = copy(old_server->server_hello());
  auto second = hs::client_handshake<hs::default_suite>::start(p.client);
  CHECK_FALSE(second.receive(recorded, now).has_value());
  // The genuine reply to the second hello still completes: the failure changed nothing.
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, second.client_hello());
  CHECK(second.receive(server->server_hello(), now).has_value());
}

TEST_CASE("every byte flip of every message fails, and the genuine message still works", "[handshake][attack]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  const auto hello = copy(client.client_hello());
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, hello);
  REQUIRE(server.has_value());

  // ClientHello: the server rejects it, or the client rejects the answer.
  for (std::size_t i = 0; i < 4 + 32 + 8 + 2 + 65 + 2; ++i) {
    auto bad = hello;
    bad[i] ^= 0x01;
    auto s = hs::server_handshake<hs::default_suite>::accept(p.server, bad);
    if (s) CHECK_FALSE(client.receive(s->server_hello(), now).has_value());
  }
  auto padded = hello;
  padded.back() = 1;  // non-zero padding
  CHECK(hs::server_handshake<hs::default_suite>::accept(p.server, padded).error() == errc::invalid_encoding);

  // ServerHello.
  const auto reply = copy(server->server_hello());
  for (std::size_t i = 0; i < reply.size(); ++i) {
    auto bad = reply;
    bad[i] ^= 0x01;
    REQUIRE_FALSE(client.receive(bad, now).has_value());
  }
  auto done = client.receive(reply, now);
  REQUIRE(done.has_value());

  // ClientFinished.
  const auto fin = copy(done->client_finished());
  for (std::size_t i = 0; i < fin.size(); ++i) {
    auto bad = fin;
    bad[i] ^= 0x01;
    REQUIRE_FALSE(server->receive(bad).has_value());
  }
  auto established = server->receive(fin);
  REQUIRE(established.has_value());
  exchange(*done, *established);
  CHECK(server->receive(fin).error() == errc::already_finished);  // spent
  CHECK(client.receive(reply, now).error() == errc::already_finished);
}

TEST_CASE("a suite or version mismatch fails cleanly: no downgrade", "[handshake][attack]") {
  using weaker = hs::suite<sepal::p256, sepal::p256, sepal::aes128_gcm, sepal::sha256>;
  parties<hs::default_suite> p;
  hs::server_config<weaker> weak_server{hs::server_identity<weaker>::root(sepal::private_key<sepal::p256>::generate()), {}};
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  CHECK(hs::server_handshake<weaker>::accept(weak_server, client.client_hello()).error() == errc::wrong_algorithm);
  auto hello = copy(client.client_hello());
  hello[1] = 1;  // version 1, before the HelloRetry tag
  CHECK(hs::server_handshake<hs::default_suite>::accept(p.server, hello).error() == errc::wrong_algorithm);
}

TEST_CASE("short or oversized ClientHellos are ignored (anti-amplification)", "[handshake]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  CHECK(client.client_hello().size() >= hs::min_client_hello_size);
  CHECK(hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello().first(1199)).error() ==
        errc::invalid_encoding);
  CHECK(hs::server_handshake<hs::default_suite>::accept(p.server, bytes(5000)).error() == errc::invalid_encoding);
  CHECK_FALSE(hs::server_handshake<hs::default_suite>::accept(p.server, bytes(1200)).has_value());
}

TEST_CASE("delegated credentials: valid, expired, or signed by another root", "[handshake][delegation]") {
  parties<hs::default_suite> p;
  const auto online = hs::share(sepal::private_key<sepal::p256>::generate());
  auto dc = hs::delegated_credential<hs::default_suite>::issue(*p.root, online->public_key(), now + 3600);
  hs::server_config<hs::default_suite> delegated{hs::server_identity<hs::default_suite>::delegated(online, dc), {}};
  auto [client, server] = handshake(p.client, delegated);
  exchange(client, server);

  auto late = hs::client_handshake<hs::default_suite>::start(p.client);
  auto s = hs::server_handshake<hs::default_suite>::accept(delegated, late.client_hello());
  CHECK(late.receive(s->server_hello(), now + 3601).error() == errc::limit_reached);

  const auto rogue_root = sepal::private_key<sepal::p256>::generate();
  auto rogue_dc = hs::delegated_credential<hs::default_suite>::issue(rogue_root, online->public_key(), now + 3600);
  hs::server_config<hs::default_suite> rogue{hs::server_identity<hs::default_suite>::delegated(online, rogue_dc), {}};
  auto c = hs::client_handshake<hs::default_suite>::start(p.client);
  auto rs = hs::server_handshake<hs::default_suite>::accept(rogue, c.client_hello());
  CHECK(c.receive(rs->server_hello(), now).error() == errc::invalid_signature);

  CHECK_THROWS_AS(hs::server_identity<hs::default_suite>::delegated(sepal::private_key<sepal::p256>::generate(), dc),
                  sepal::error);
}

TEST_CASE("mutual authentication: allowed, unknown and missing client keys", "[handshake][mutual]") {
  parties<hs::default_suite> p;
  const auto alice = hs::share(sepal::private_key<sepal::p256>::generate());
  const auto mallory = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::fingerprint_allowlist<sepal::p256> allowed;
  allowed.allow(alice->public_key());
  hs::server_config<hs::default_suite> strict{hs::server_identity<hs::default_suite>::root(p.root), allowed};

  hs::client_config<hs::default_suite> as_alice{p.root->public_key(), alice};
  auto [client, server] = handshake(as_alice, strict);
  REQUIRE(server.client_identity().has_value());
  CHECK(*server.client_identity() == alice->public_key());
  exchange(client, server);

  hs::client_config<hs::default_suite> as_mallory{p.root->public_key(), mallory};
  auto m = hs::client_handshake<hs::default_suite>::start(as_mallory);
  auto ms = hs::server_handshake<hs::default_suite>::accept(strict, m.client_hello());
  auto mc = m.receive(ms->server_hello(), now);
  REQUIRE(mc.has_value());
  CHECK(ms->receive(mc->client_finished()).error() == errc::unknown_identity);  // proved a key nobody allowed

  auto anon = hs::client_handshake<hs::default_suite>::start(p.client);  // no identity
  auto as = hs::server_handshake<hs::default_suite>::accept(strict, anon.client_hello());
  CHECK(anon.receive(as->server_hello(), now).error() == errc::missing_credential);
}

TEST_CASE("retransmissions are recognised; a new ClientHello leaves a session alone", "[handshake][datagram]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello());
  REQUIRE(server.has_value());
  CHECK(server->is_client_hello_again(client.client_hello()));  // resend the same ServerHello, no new state
  auto c = client.receive(server->server_hello(), now);
  REQUIRE(c.has_value());
  CHECK(c->is_server_hello_again(server->server_hello()));  // resend ClientFinished
  auto s = server->receive(c->client_finished());
  REQUIRE(s.has_value());

  // An unauthenticated ClientHello for the same peer starts a separate
  // handshake object; the established session keeps working.
  auto intruder = hs::client_handshake<hs::default_suite>::start(p.client);
  auto pending = hs::server_handshake<hs::default_suite>::accept(p.server, intruder.client_hello());
  CHECK(pending.has_value());
  exchange(*c, *s);
}

TEST_CASE("stateless retry: only a client at the address completes", "[handshake][retry]") {
  using action = hs::retry_decision::action;
  parties<hs::default_suite> p;
  const hs::address_validator<hs::default_suite> validator;
  const auto here = as_bytes("127.0.0.1:4433");
  const auto elsewhere = as_bytes("10.9.9.9:4433");

  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  auto retry = validator.check(client.client_hello(), here, now);
  REQUIRE(retry.what() == action::send_retry);
  CHECK(retry.hello_retry().size() < client.client_hello().size() / 10);  // tiny: no amplification
  CHECK(client.receive(retry.hello_retry(), now).error() == errc::retry_requested);
  CHECK(validator.check(client.client_hello(), here, now + 5).what() == action::accept);  // cookie accepted
  CHECK(validator.check(client.client_hello(), elsewhere, now + 5).what() == action::send_retry);  // another address
  CHECK(validator.check(client.client_hello(), here, now + 31).what() == action::send_retry);      // expired
  CHECK(validator.check(client.client_hello(), here, now - 1).what() == action::send_retry);       // from the future
  auto forged = copy(client.client_hello());
  forged[4 + 32 + 8 + 2 + 65 + 2 + 10] ^= 1;  // a byte of the cookie's MAC
  CHECK(validator.check(forged, here, now).what() == action::send_retry);

  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello(),
                                                                hs::address_status::validated);
  REQUIRE(server.has_value());
  auto done = client.receive(server->server_hello(), now);
  REQUIRE(done.has_value());
  REQUIRE(server->receive(done->client_finished()).has_value());

  // A client follows at most max_hello_retries HelloRetries (no retry loops).
  auto again = hs::client_handshake<hs::default_suite>::start(p.client);
  for (unsigned i = 0; i < hs::max_hello_retries; ++i) {  // each cookie expired by the next try
    const auto r = validator.check(again.client_hello(), elsewhere, now + 40 * i);
    REQUIRE(r.what() == action::send_retry);
    CHECK(again.receive(r.hello_retry(), now).error() == errc::retry_requested);
  }
  const auto one_more = validator.check(again.client_hello(), elsewhere, now + 40 * hs::max_hello_retries);
  REQUIRE(one_more.what() == action::send_retry);
  CHECK(again.receive(one_more.hello_retry(), now).error() == errc::limit_reached);
}

namespace {

/// The byte totals of a spoofed flood against one pending handshake: a
/// ClientHello "from" the victim, then `small` 1-byte datagrams, `again`
/// copies of the ClientHello and `timer` resend ticks.
struct flood_totals {
  std::size_t in = 0, out = 0;
};

template <class Suite>
flood_totals spoofed_flood(const hs::server_config<Suite>& config, int small, int again, int timer) {
  auto victim = hs::client_handshake<Suite>::start(hs::client_config<Suite>{});
  const auto hello = copy(victim.client_hello());
  auto server = hs::server_handshake<Suite>::accept(config, hello);
  REQUIRE(server.has_value());
  flood_totals t{hello.size(), server->server_hello().size()};
  const bytes one{0x40};
  for (int i = 0; i < small; ++i) {
    t.in += one.size();
    if (auto r = server->on_datagram(one)) t.out += r->size();
  }
  for (int i = 0; i < again; ++i) {
    t.in += hello.size();
    if (auto r = server->on_datagram(hello)) t.out += r->size();
  }
  for (int i = 0; i < timer; ++i) {
    if (auto r = server->on_timer()) t.out += r->size();
  }
  CHECK(server->bytes_received() == t.in);
  CHECK(server->bytes_sent() == t.out);
  return t;
}

}  // namespace

TEST_CASE("hardening #4: a spoofed flood draws at most 3x the bytes it sent, resends included",
          "[handshake][datagram][hardening]") {
  parties<hs::default_suite> p;
  const auto online = hs::share(sepal::private_key<sepal::p256>::generate());
  const auto dc = hs::delegated_credential<hs::default_suite>::issue(*p.root, online->public_key(), now + 3600);
  const hs::server_config<hs::default_suite> delegated{hs::server_identity<hs::default_suite>::delegated(online, dc), {}};
  for (const auto* config : std::array<const hs::server_config<hs::default_suite>*, 2>{&p.server, &delegated}) {
    // The measured attack: 1816 one-byte datagrams drew 1762 ServerHellos.
    const auto t = spoofed_flood(*config, 1816, 0, 0);
    CHECK(t.out <= hs::amplification_limit * t.in);
    const auto timers = spoofed_flood(*config, 0, 0, 1000);  // the timer alone: 10 resends at most, within budget
    CHECK(timers.out <= hs::amplification_limit * timers.in);
    const auto mixed = spoofed_flood(*config, 500, 50, 50);
    CHECK(mixed.out <= hs::amplification_limit * mixed.in);
  }
}

TEST_CASE("hardening #4: a lost ServerHello is still recovered within the budget", "[handshake][datagram][hardening]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello());
  REQUIRE(server.has_value());
  // The first ServerHello is lost; the client's retransmitted ClientHello gets it again.
  auto again = server->on_datagram(client.client_hello());
  REQUIRE(again.has_value());
  auto c = client.receive(*again, now);
  REQUIRE(c.has_value());
  // The ClientFinished is lost; the timer resends the ServerHello, and the
  // client recognises it.
  auto timer = server->on_timer();
  REQUIRE(timer.has_value());
  CHECK(c->is_server_hello_again(*timer));
  REQUIRE(server->receive(c->client_finished()).has_value());
  CHECK_FALSE(server->on_timer().has_value());  // established: nothing more to send
  // A validated address may be answered beyond 3x (up to the resend cap).
  auto v = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello(), hs::address_status::validated);
  unsigned sent = 0;
  while (v->on_timer()) ++sent;
  CHECK(sent == hs::max_server_hello_resends);
  CHECK(v->exhausted());
}

TEST_CASE("hardening #5: a forged HelloRetry cannot end or redirect the handshake", "[handshake][retry][hardening]") {
  using action = hs::retry_decision::action;
  parties<hs::default_suite> p;
  const hs::address_validator<hs::default_suite> validator;
  const auto here = as_bytes("127.0.0.1:4433");
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  const auto original = copy(client.client_hello());

  // An off-path attacker knows the address and the format, not the client random.
  auto other = hs::client_handshake<hs::default_suite>::start(p.client);
  const auto attacker_retry = validator.check(other.client_hello(), here, now);  // a validly formed, foreign HelloRetry
  REQUIRE(attacker_retry.what() == action::send_retry);
  CHECK(client.receive(attacker_retry.hello_retry(), now).error() == errc::authentication_failed);
  CHECK(std::ranges::equal(client.client_hello(), original));  // nothing changed
  for (std::size_t i = 0; i < attacker_retry.hello_retry().size(); ++i) {  // nor any bit-flipped genuine one
    const auto genuine = validator.check(client.client_hello(), here, now);
    auto bad = copy(genuine.hello_retry());
    bad[i] ^= 0x01;
    CHECK_FALSE(client.receive(bad, now).has_value());
    CHECK(std::ranges::equal(client.client_hello(), original));
  }
  // The genuine HelloRetry still works afterwards, and the handshake completes.
  const auto genuine = validator.check(client.client_hello(), here, now);
  CHECK(client.receive(genuine.hello_retry(), now).error() == errc::retry_requested);
  REQUIRE(validator.check(client.client_hello(), here, now).what() == action::accept);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello(),
                                                                hs::address_status::validated);
  REQUIRE(server.has_value());
  CHECK(client.receive(server->server_hello(), now).has_value());
}

TEST_CASE("hardening #5: the validator answers only a well-formed ClientHello", "[handshake][retry][hardening]") {
  using action = hs::retry_decision::action;
  parties<hs::default_suite> p;
  const hs::address_validator<hs::default_suite> validator;
  const auto here = as_bytes("127.0.0.1:4433");
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  const auto hello = copy(client.client_hello());
  REQUIRE(validator.check(hello, here, now).what() == action::send_retry);
  const auto drop = [&](std::span<const std::uint8_t> d) { return validator.check(d, here, now).what() == action::drop; };
  CHECK(drop(bytes{}));
  CHECK(drop(bytes{1}));
  CHECK(drop(std::span(hello).first(4)));     // a bare header
  CHECK(drop(std::span(hello).first(1199)));  // short
  CHECK(drop(bytes(1200, 0)));
  auto padding = hello;
  padding.back() = 1;  // non-zero padding
  CHECK(drop(padding));
  auto version = hello;
  version[1] = 1;  // another version
  CHECK(drop(version));
  auto suite = hello;
  suite[3] ^= 1;  // another suite
  CHECK(drop(suite));
  auto type = hello;
  type[0] = 3;
  CHECK(drop(type));
}

TEST_CASE("hardening #12: identities own their key, so a temporary key is safe", "[handshake][hardening]") {
  // The natural one-liner that used to leave a dangling pointer: the key is
  // a temporary, moved into the identity.
  auto root_public = sepal::public_key<sepal::p256>::from_raw(
      sepal::private_key<sepal::p256>::unsafe_test_key().public_key().to_raw());
  REQUIRE(root_public.has_value());
  const hs::server_config<hs::default_suite> server{
      hs::server_identity<hs::default_suite>::root(sepal::private_key<sepal::p256>::unsafe_test_key()), {}};
  const hs::client_config<hs::default_suite> client{*root_public, hs::share(sepal::private_key<sepal::p256>::generate())};
  auto copy_of_server = server;  // configs copy: they share the key
  hs::fingerprint_allowlist<sepal::p256> allowed;
  allowed.allow(client.identity->public_key());
  copy_of_server.allow_client = allowed;
  auto [c, s] = handshake(client, copy_of_server);
  exchange(c, s);
  CHECK(s.client_identity().has_value());
}

TEST_CASE("hardening #14: each handshake failure has its own code", "[handshake][hardening]") {
  CHECK(sepal::describe(errc::unknown_identity) != sepal::describe(errc::closed));
  CHECK(sepal::describe(errc::already_finished) != sepal::describe(errc::closed));
  CHECK(sepal::describe(errc::missing_credential) != sepal::describe(errc::closed));
  // The codes themselves are checked where they arise: unknown client
  // (unknown_identity), a spent handshake (already_finished), a client
  // asked for a key it lacks (missing_credential), in the tests above.
}

TEST_CASE("hardening: delegated credentials are capped at 7 days and need a clock", "[handshake][delegation][hardening]") {
  parties<hs::default_suite> p;
  const auto online = sepal::private_key<sepal::p256>::generate();
  const auto week = hs::delegated_credential<hs::default_suite>::issue(*p.root, online.public_key(),
                                                                       now + hs::max_delegation_lifetime);
  CHECK(week.verify(p.root->public_key(), now).has_value());
  const auto too_long = hs::delegated_credential<hs::default_suite>::issue(*p.root, online.public_key(),
                                                                           now + hs::max_delegation_lifetime + 1);
  CHECK(too_long.verify(p.root->public_key(), now).error() == errc::limit_reached);
  CHECK(too_long.verify(p.root->public_key(), now + 1).has_value());
  CHECK(week.verify(p.root->public_key(), 0).error() == errc::invalid_argument);
}

TEST_CASE("hardening: a spent server handshake keeps no secrets and answers nothing", "[handshake][hardening]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello());
  auto c = client.receive(server->server_hello(), now);
  REQUIRE(c.has_value());
  REQUIRE(server->receive(c->client_finished()).has_value());
  CHECK(server->receive(c->client_finished()).error() == errc::already_finished);
  CHECK_FALSE(server->on_datagram(client.client_hello()).has_value());
}

TEST_CASE("hardening #4: a pending handshake lives for its timer ticks, then is exhausted", "[handshake][datagram][hardening]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  auto server = hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello());
  REQUIRE(server.has_value());
  CHECK_FALSE(server->exhausted());
  unsigned resent = 0;
  for (unsigned tick = 0; tick < hs::max_server_hello_resends; ++tick) resent += server->on_timer().has_value() ? 1 : 0;
  CHECK(server->exhausted());
  CHECK_FALSE(server->on_timer().has_value());
  CHECK(resent > 0);
  CHECK(server->bytes_sent() <= hs::amplification_limit * server->bytes_received());
}

TEST_CASE("hardening #13: moved-from identities, configs and key schedule stages fail safely", "[handshake][hardening]") {
  parties<hs::default_suite> p;
  auto client = hs::client_handshake<hs::default_suite>::start(p.client);
  auto moved = std::move(p.server);
  CHECK(hs::server_handshake<hs::default_suite>::accept(p.server, client.client_hello()).error() ==  // NOLINT
        errc::moved_from);
  CHECK(hs::server_handshake<hs::default_suite>::accept(moved, client.client_hello()).has_value());
  CHECK_THROWS_AS(p.server.identity.key(), sepal::error);  // NOLINT(bugprone-use-after-move)

  using H = sepal::sha256;
  const auto h = hs::transcript<H>::empty();
  auto stage = hs::early_secret<H>::start().next(as_bytes("dh"));
  auto next = std::move(stage);
  try {
    (void)stage.client_traffic(h);  // NOLINT(bugprone-use-after-move): would be HKDF of an empty, public key
    FAIL("a moved-from stage must not derive");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::moved_from);
  }
  CHECK_THROWS_AS(std::move(stage).next(), sepal::error);  // NOLINT(bugprone-use-after-move)
  auto master = std::move(next).next();
  auto master2 = std::move(master);
  CHECK_THROWS_AS(master.server_traffic(h), sepal::error);  // NOLINT(bugprone-use-after-move)
  CHECK_THROWS_AS(master.exporter_master(h), sepal::error);  // NOLINT(bugprone-use-after-move)
  CHECK_NOTHROW(master2.server_traffic(h));
}
