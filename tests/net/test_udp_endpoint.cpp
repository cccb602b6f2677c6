// The UDP endpoint (include/sepal/net/) over real loopback sockets: many
// clients on several workers, payloads both ways, restarts on either side,
// expiring handshakes, every limit reached (new peers refused, existing
// ones unaffected), spoofed and garbage datagrams mixed into real traffic,
// stateless retry, IPv6, key updates, and the unbatched fallback.

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "net_support.hpp"

using namespace net_test;

namespace {

/// An echo server with short timers; counts connects and closes.
struct echo_fixture {
  keys k;
  std::atomic<int> connects{0}, closes{0}, timeouts{0}, replaced{0};
  std::unique_ptr<server> srv;

  using tweak = std::function<void(server::config&)>;
  explicit echo_fixture(const tweak& t = {}, bool with_tick = false) { start(t, with_tick); }
  void start(const tweak& t, bool with_tick = false) {
    server::config cfg{.handshake = k.server_config()};
    cfg.limits.resend_interval = 20ms;
    if (t) t(cfg);
    server::handlers h;
    h.on_connect = [this](server::connection&) { ++connects; };
    h.on_payload = [](server::connection& c, std::span<const std::uint8_t> p) { c.send(p); };
    h.on_close = [this](server::connection&, net::close_reason why) {
      ++closes;
      if (why == net::close_reason::timed_out) ++timeouts;
      if (why == net::close_reason::replaced) ++replaced;
    };
    if (with_tick) {
      cfg.tick_interval = 10ms;
      h.on_tick = [](server::worker& w) {
        w.for_each_connection([](server::connection& c) {
          const std::uint8_t tick[] = {'t', 'i', 'c', 'k'};
          c.send(tick);
        });
      };
    }
    srv = std::make_unique<server>(std::move(cfg), std::move(h));
  }
};

}  // namespace

TEST_CASE("many clients on two workers handshake and echo payloads both ways", "[net]") {
  echo_fixture f([](auto& c) { c.threads = 2; });
  constexpr int clients = 24, rounds = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      client c(f.k.client_to(f.srv->local()));
      if (!c.connect()) return;
      bytes payload(1 + static_cast<std::size_t>(i) * 50, static_cast<std::uint8_t>(i));
      int n = 0;
      for (int r = 0; r < rounds; ++r) {
        payload[0] = static_cast<std::uint8_t>(r);
        n += echoes(c, payload) ? 1 : 0;
      }
      if (n == rounds) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == clients);
  const auto s = f.srv->stats();
  CHECK(s.handshakes_completed == clients);
  CHECK(f.connects == clients);
  CHECK(s.sessions == clients);
  CHECK(s.payloads_received >= static_cast<std::uint64_t>(clients * rounds));
  CHECK(s.rejected_packets == 0);
  CHECK(s.malformed == 0);
  CHECK(s.unknown_peer == 0);
  f.srv->stop();
  CHECK(f.closes == clients);  // every session closed with server_stop
}

TEST_CASE("the server pushes to every peer from on_tick", "[net]") {
  echo_fixture f([](auto& c) { c.threads = 2; }, /*with_tick=*/true);
  std::vector<std::unique_ptr<client>> cs;
  for (int i = 0; i < 6; ++i) {
    cs.push_back(std::make_unique<client>(f.k.client_to(f.srv->local())));
    REQUIRE(cs.back()->connect());
  }
  for (auto& c : cs) {
    int ticks = 0;
    for (int i = 0; i < 50 && ticks < 3; ++i) {
      auto got = c->receive(50ms);
      if (got && std::ranges::equal(*got, std::string_view("tick"))) ++ticks;
    }
    CHECK(ticks == 3);
  }
}

TEST_CASE("on_connect sees the client's authenticated key; unknown keys are refused", "[net]") {
  keys k;
  auto alice = hs::share(sepal::private_key<sepal::p256>::generate());
  auto mallory = hs::share(sepal::private_key<sepal::p256>::generate());
  const auto alice_pub = alice->public_key();
  server::config cfg{.handshake = k.server_config()};
  cfg.handshake.allow_client = [alice_pub](const sepal::public_key<sepal::p256>& p) { return p == alice_pub; };
  cfg.limits.resend_interval = 20ms;
  std::mutex m;
  std::vector<sepal::public_key<sepal::p256>> seen;
  server::handlers h;
  h.on_connect = [&](server::connection& c) {
    std::lock_guard lock(m);
    if (c.client_identity()) seen.push_back(*c.client_identity());
  };
  h.on_payload = [](server::connection& c, std::span<const std::uint8_t> p) { c.send(p); };
  server srv(std::move(cfg), std::move(h));

  auto cc = k.client_to(srv.local());
  cc.handshake.identity = alice;
  client a(cc);
  REQUIRE(a.connect());
  CHECK(echoes(a, ping));
  cc.handshake.identity = mallory;
  client b(cc);
  // The server drops its ClientFinished and never confirms: the client
  // knows (docs/protocol.md §7.2) and has no session.
  CHECK(b.connect().error() == sepal::errc::timed_out);
  CHECK_FALSE(b.connected());
  CHECK(b.stats().handshakes_failed == 1);
  std::lock_guard lock(m);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == alice_pub);
  CHECK(srv.stats().handshakes_failed >= 1);
  CHECK(srv.stats().sessions == 1);
}

TEST_CASE("a client restarting from the same address replaces its session", "[net]") {
  echo_fixture f;
  const auto port = raw_peer().local().port();  // a free port, released again
  for (int round = 0; round < 3; ++round) {
    auto cc = f.k.client_to(f.srv->local());
    cc.bind = net::endpoint::loopback_v4(port);
    client c(cc);
    REQUIRE(c.connect());
    CHECK(echoes(c, ping));
  }
  const auto s = f.srv->stats();
  CHECK(s.handshakes_completed == 3);
  CHECK(s.sessions == 1);
  CHECK(s.sessions_replaced == 2);
  CHECK(f.replaced == 2);
}

TEST_CASE("after a server restart the client times out and reconnects", "[net]") {
  echo_fixture f;
  const auto port = f.srv->local().port();
  auto cc = f.k.client_to(f.srv->local());
  cc.idle_timeout = 300ms;
  client c(cc);
  REQUIRE(c.connect());
  CHECK(echoes(c, ping));
  f.srv.reset();  // the server goes away, its sessions with it
  f.start([port](auto& c) { c.bind = net::endpoint::loopback_v4(port); });
  // The new server knows nothing of the old session: the packets draw
  // nothing, and the client's idle timeout says so.
  for (int i = 0; i < 20 && c.connected(); ++i) {
    (void)c.send(ping);
    (void)c.receive(50ms);
  }
  CHECK_FALSE(c.connected());
  CHECK(f.srv->stats().unknown_peer >= 1);
  REQUIRE(c.connect());
  CHECK(echoes(c, ping));
}

TEST_CASE("an unfinished handshake expires after its resend ticks, within its budget", "[net]") {
  echo_fixture f;
  keys& k = f.k;
  raw_peer peer;
  auto h = hs::client_handshake<suite>::start(k.client_config());
  peer.send(f.srv->local(), h.client_hello());
  REQUIRE(eventually([&] { return f.srv->stats().handshakes_expired == 1; }));
  const auto got = peer.drain(50ms);
  const auto s = f.srv->stats();
  CHECK(s.pending == 0);
  CHECK(s.sessions == 0);
  CHECK(s.handshakes_started == 1);
  CHECK(got <= hs::amplification_limit * peer.sent());
  CHECK(s.server_hello_resends >= 1);  // the timer resent while the budget allowed
}

TEST_CASE("a lost ClientFinished is recovered by the server's resend", "[net]") {
  echo_fixture f;
  auto cc = f.k.client_to(f.srv->local());
  cc.drop_client_finished_for_testing = true;
  client c(cc);
  REQUIRE(c.connect());
  CHECK(echoes(c, ping));
  CHECK(c.stats().client_finished_resends >= 1);
  CHECK(f.srv->stats().handshakes_completed == 1);
}

TEST_CASE("max_sessions reached: new peers are refused, existing ones unaffected", "[net][limits]") {
  echo_fixture f([](auto& c) { c.limits.max_sessions = 3; });
  std::vector<std::unique_ptr<client>> in;
  for (int i = 0; i < 3; ++i) {
    in.push_back(std::make_unique<client>(f.k.client_to(f.srv->local())));
    REQUIRE(in.back()->connect());
  }
  REQUIRE(eventually([&] { return f.srv->stats().sessions == 3; }));
  auto cc = f.k.client_to(f.srv->local());
  cc.handshake_timeout = 300ms;
  client late(cc);
  CHECK(late.connect().error() == sepal::errc::limit_reached);
  CHECK(f.srv->stats().refused_sessions_full >= 1);
  for (auto& c : in) CHECK(echoes(*c, ping));
}

TEST_CASE("max_pending and max_pending_per_address refuse floods; real clients still get in", "[net][limits]") {
  echo_fixture f([](auto& c) {
    c.limits.max_pending = 6;
    c.limits.max_pending_per_address = 2;
    c.limits.resend_interval = 500ms;  // the flood stays pending while we look
  });
  keys& k = f.k;
  // Five ports on 127.0.0.2: two pending, three refused per address.
  std::vector<std::unique_ptr<raw_peer>> flood;
  for (int i = 0; i < 5; ++i) {
    flood.push_back(std::make_unique<raw_peer>("127.0.0.2"));
    flood.back()->send(f.srv->local(), hs::client_handshake<suite>::start(k.client_config()).client_hello());
  }
  REQUIRE(eventually([&] { return f.srv->stats().refused_pending_per_address == 3; }));
  CHECK(f.srv->stats().pending == 2);
  // Five more addresses: the total bound (6) refuses the last.
  for (int i = 3; i <= 7; ++i) {
    const std::string a = "127.0.0." + std::to_string(i);
    flood.push_back(std::make_unique<raw_peer>(a.c_str()));
    flood.back()->send(f.srv->local(), hs::client_handshake<suite>::start(k.client_config()).client_hello());
  }
  REQUIRE(eventually([&] { return f.srv->stats().refused_pending_full == 1; }));
  CHECK(f.srv->stats().pending == 6);
  // A genuine client gets in once the flood's handshakes expire.
  auto cc = k.client_to(f.srv->local());
  cc.handshake_timeout = 10s;
  client c(cc);
  REQUIRE(c.connect());
  CHECK(echoes(c, ping));
}

TEST_CASE("max_handshakes_per_second refuses the excess and counts it", "[net][limits]") {
  echo_fixture f([](auto& c) { c.limits.max_handshakes_per_second = 2; });
  std::vector<std::unique_ptr<raw_peer>> flood;
  for (int i = 0; i < 8; ++i) {
    const std::string a = "127.0.1." + std::to_string(i + 1);
    flood.push_back(std::make_unique<raw_peer>(a.c_str()));
    flood.back()->send(f.srv->local(), hs::client_handshake<suite>::start(f.k.client_config()).client_hello());
  }
  REQUIRE(eventually([&] { return f.srv->stats().refused_rate + f.srv->stats().handshakes_started == 8; }));
  CHECK(f.srv->stats().handshakes_started <= 3);
  CHECK(f.srv->stats().refused_rate >= 5);
}

TEST_CASE("spoofed and garbage datagrams mixed into real traffic: nothing accepted, counted", "[net][hostile]") {
  echo_fixture f([](auto& c) { c.threads = 2; });
  std::vector<std::unique_ptr<client>> cs;
  for (int i = 0; i < 4; ++i) {
    cs.push_back(std::make_unique<client>(f.k.client_to(f.srv->local())));
    REQUIRE(cs.back()->connect());
  }
  REQUIRE(eventually([&] { return f.srv->stats().sessions == 4; }));
  std::atomic<bool> done{false};
  std::atomic<int> sent_garbage{0};
  std::thread attacker([&] {
    raw_peer a("127.0.0.9"), b("127.0.0.1");
    const auto to = f.srv->local();
    const auto h = hs::client_handshake<suite>::start(f.k.client_config());
    const auto hello = h.client_hello();
    for (int i = 0; !done; ++i) {
      bytes junk(static_cast<std::size_t>(i * 37 % 1400), static_cast<std::uint8_t>(i));
      if (!junk.empty()) junk[0] = static_cast<std::uint8_t>(i % 3 == 0 ? 0x43 : i % 6);
      (i % 2 ? a : b).send(to, junk);
      if (i % 50 == 0) {  // a ClientHello with one flipped bit, and a truncated one
        bytes bad(hello.begin(), hello.end());
        bad[static_cast<std::size_t>(i) % bad.size()] ^= 1;
        a.send(to, bad);
        b.send(to, std::span(hello).first(600));
      }
      ++sent_garbage;
      if (i % 16 == 0) std::this_thread::sleep_for(1ms);
    }
  });
  REQUIRE(eventually([&] { return sent_garbage > 50; }));
  // Real traffic meanwhile, and garbage from each real client's own address.
  int ok = 0, rounds = 0;
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  for (int r = 0; r < 30 || (sent_garbage < 2000 && std::chrono::steady_clock::now() < give_up); ++r, ++rounds) {  // until the flood has run a while
    for (auto& c : cs) {
      bytes forged(40, static_cast<std::uint8_t>(r));
      forged[0] = 0x43;
      // The session's own connection id: routed to it, then refused by the AEAD.
      const auto& id = c->established().session().peer_connection_id();
      std::copy(id.begin(), id.end(), forged.begin() + 1);
      (void)c->socket().send_to(f.srv->local(), forged);
      ok += echoes(*c, ping) ? 1 : 0;
    }
  }
  done = true;
  attacker.join();
  CHECK(ok == rounds * 4);
  const auto s = f.srv->stats();
  CHECK(s.sessions == 4);
  CHECK(s.handshakes_completed == 4);
  CHECK(s.rejected_packets >= static_cast<std::uint64_t>(rounds) * 4);  // the forged packets from the clients' own addresses
  CHECK(s.unknown_peer + s.malformed + s.handshakes_failed + s.handshakes_started > 0);
  CHECK(s.payloads_received >= static_cast<std::uint64_t>(rounds) * 4);
  INFO("garbage datagrams sent: " << sent_garbage.load() << " during " << rounds << " rounds");
  CHECK(sent_garbage >= 2000);
}

TEST_CASE("stateless retry: clients echo the cookie, spoofed hellos keep no state", "[net][retry]") {
  echo_fixture f([](auto& c) { c.address_validation = true; });
  client c(f.k.client_to(f.srv->local()));
  REQUIRE(c.connect());
  CHECK(c.stats().retries_followed == 1);
  CHECK(echoes(c, ping));
  raw_peer victim("127.0.0.5");
  for (int i = 0; i < 20; ++i)
    victim.send(f.srv->local(), hs::client_handshake<suite>::start(f.k.client_config()).client_hello());
  REQUIRE(eventually([&] { return f.srv->stats().retries_sent == 21; }));
  const auto got = victim.drain(50ms);
  CHECK(f.srv->stats().pending == 0);
  CHECK(got * 20 < victim.sent());  // a 46-byte HelloRetry per 1200-byte hello
}

TEST_CASE("IPv6 loopback works end to end", "[net][ipv6]") {
  std::unique_ptr<echo_fixture> f;
  try {
    f = std::make_unique<echo_fixture>([](auto& c) { c.bind = net::endpoint::loopback_v6(); });
  } catch (const sepal::error&) {
    SKIP("no IPv6 loopback on this machine");
  }
  CHECK(f->srv->local().family() == AF_INET6);
  client c(f->k.client_to(f->srv->local()));
  REQUIRE(c.connect());
  CHECK(echoes(c, ping));
  CHECK(c.local().to_string().rfind("[::1]:", 0) == 0);
}

TEST_CASE("key updates in both directions keep the session going", "[net]") {
  std::atomic<bool> update_next{false};
  keys k;
  server::config cfg{.handshake = k.server_config()};
  server::handlers h;
  h.on_payload = [&](server::connection& c, std::span<const std::uint8_t> p) {
    if (update_next.exchange(false)) c.update_key();
    c.send(p);
  };
  server srv(std::move(cfg), std::move(h));
  client c(k.client_to(srv.local()));
  REQUIRE(c.connect());
  for (int i = 0; i < 6; ++i) {
    if (i % 2 == 0) c.update_key();
    else update_next = true;
    CHECK(echoes(c, ping));
  }
  CHECK(srv.stats().rejected_packets == 0);
}

TEST_CASE("the fallbacks (one system call per datagram; batched without GSO/GRO) behave alike", "[net]") {
  // batch = false with offload left on: the sockets are then opened without GRO.
  for (const net::io_options io : {net::io_options{.batch = false}, net::io_options{.offload = false}}) {
    echo_fixture f([&](auto& c) { c.io = io; });
    auto cc = f.k.client_to(f.srv->local());
    cc.io = io;
    client c(cc);
    REQUIRE(c.connect());
    int n = 0;
    bytes big(1200, 7);
    for (int i = 0; i < 20; ++i) {
      for (int j = 0; j < 8; ++j) (void)c.send(big);
      for (int j = 0; j < 8; ++j) n += c.receive(500ms) ? 1 : 0;
    }
    CHECK(n == 160);
    const auto s = f.srv->stats();
    CHECK_FALSE(f.srv->gro());
    CHECK(s.io.gso_sends == 0);
    CHECK(s.io.gro_receives == 0);
    if (!io.batch) CHECK(s.io.send_calls >= s.io.datagrams_sent);  // one per datagram
    if (io.batch) CHECK(s.io.send_calls < s.io.datagrams_sent);
  }
}

TEST_CASE("batched I/O merges a burst into few system calls when the kernel offers GSO/GRO", "[net]") {
  echo_fixture f;
  client c(f.k.client_to(f.srv->local()));
  REQUIRE(c.connect());
  bytes big(1200, 9);
  int n = 0;
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 32; ++j) (void)c.send(big);
    for (int j = 0; j < 32; ++j) n += c.receive(500ms) ? 1 : 0;
  }
  CHECK(n == 640);
  const auto s = f.srv->stats();
  INFO("server: " << s.io.receive_calls << " receive calls, " << s.io.send_calls << " send calls for "
                  << s.io.datagrams_received << " datagrams in; GSO " << f.srv->gso() << ", GRO " << f.srv->gro());
  CHECK(s.io.send_calls * 4 < s.io.datagrams_sent);
  if (f.srv->gro()) CHECK(s.io.gro_receives > 0);
  if (f.srv->gso()) CHECK(s.io.gso_sends > 0);
}

TEST_CASE("sessions idle past idle_timeout are closed and counted", "[net]") {
  echo_fixture f([](auto& c) { c.limits.idle_timeout = 100ms; });
  client c(f.k.client_to(f.srv->local()));
  REQUIRE(c.connect());
  REQUIRE(eventually([&] { return f.srv->stats().sessions_timed_out == 1; }));
  CHECK(f.timeouts == 1);
  CHECK(eventually([&] { return f.srv->stats().sessions == 0; }));  // the counters are separate atomics
}

TEST_CASE("connection::close ends a session from a handler, and stop is prompt", "[net]") {
  keys k;
  std::atomic<int> closed{0};
  server::config cfg{.handshake = k.server_config()};
  server::handlers h;
  h.on_payload = [](server::connection& c, std::span<const std::uint8_t>) { c.close(); };
  h.on_close = [&](server::connection&, net::close_reason why) { closed += why == net::close_reason::closed; };
  auto srv = std::make_unique<server>(std::move(cfg), std::move(h));
  client c(k.client_to(srv->local()));
  REQUIRE(c.connect());
  (void)c.send(ping);
  c.flush();
  REQUIRE(eventually([&] { return closed == 1; }));
  CHECK(srv->stats().sessions == 0);
  const auto t0 = std::chrono::steady_clock::now();
  srv.reset();
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}

TEST_CASE("hardening: a second ClientHello from a pending peer's address does not replace its handshake",
          "[net][hardening]") {
  echo_fixture f;
  raw_peer peer;  // the genuine client's address, which the attacker spoofs
  auto genuine = hs::client_handshake<suite>::start(f.k.client_config());
  peer.send(f.srv->local(), genuine.client_hello());
  const auto reply = peer.receive(2000ms);
  REQUIRE(reply.has_value());
  auto done = genuine.receive(*reply);
  REQUIRE(done.has_value());
  // The attacker's ClientHello "from" the same address, before ClientFinished arrives.
  auto spoofed = hs::client_handshake<suite>::start(f.k.client_config());
  peer.send(f.srv->local(), spoofed.client_hello());
  peer.send(f.srv->local(), done->client_finished());
  REQUIRE(eventually([&] { return f.srv->stats().handshakes_completed == 1; }));
  // The genuine handshake completed: its session echoes.
  const bytes msg{'o', 'k'};
  bytes packet(msg.size() + hs::established<suite>::session_type::overhead), out(64);
  bool echoed = false;
  for (int attempt = 0; attempt < 10 && !echoed; ++attempt) {
    peer.send(f.srv->local(), done->session().seal({}, msg, packet));
    while (auto m = peer.receive(300ms)) {
      auto got = done->session().open({}, *m, out);
      if (got && std::ranges::equal(*got, msg)) {
        echoed = true;
        break;
      }
    }
  }
  CHECK(echoed);
  CHECK(f.srv->stats().sessions == 1);
  CHECK(f.srv->stats().handshakes_started == 1);  // the spoofed hello drew no ServerHello of its own
}
