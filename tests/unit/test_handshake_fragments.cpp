// Handshake messages larger than one datagram (docs/protocol.md §3.4, after
// RFC 9147 §5.5): hybrid suites with X.509 chains complete through the
// datagram API at 1200 and 256 bytes per datagram, whatever the order,
// duplication or single losses; spoofed and bit-flipped fragments change
// nothing; the limits refuse before allocating; and a flood of ClientHello
// fragments and timer ticks never draws more than 3x what it sent.

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/certificates.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/reassembly.hpp>
#include <sepal/handshake/retry.hpp>
#include <sepal/pki/authority.hpp>

#include <cstdio>
#include <functional>
#include <random>

#include "pki_chain.hpp"
#include "test_support.hpp"

using namespace sepal_test;
namespace hs = sepal::handshake;
namespace pki = sepal::pki;
using sepal::errc;

namespace {

constexpr std::uint64_t now = pki_chain_now;

using flight = std::vector<bytes>;
flight copy_flight(std::span<const std::vector<std::uint8_t>> f) { return flight(f.begin(), f.end()); }
std::size_t flight_size(std::span<const std::vector<std::uint8_t>> f) {
  std::size_t n = 0;
  for (const auto& d : f) n += d.size();
  return n;
}

/// The shared chain (support/pki_chain.hpp), with configs for `S` at a datagram limit.
template <class Sig>
struct pki_fixture : sepal_test::pki_chain<Sig> {
  using base = sepal_test::pki_chain<Sig>;
  using base::anchors, base::client_cert, base::client_key, base::inter_cert, base::server_cert, base::server_key;

  /// Mutual X.509: the server asks for the client's chain.
  template <class S>
  std::pair<hs::client_config<S>, hs::server_config<S>> mutual(std::size_t max_datagram) const {
    auto c = client<S>(max_datagram);
    c.identity = client_key;
    c.certificate_chain = hs::to_der_chain(std::vector<pki::certificate>{client_cert, inter_cert});
    auto sv = server<S>(max_datagram);
    sv.verify_client_chain = hs::x509_verifier<Sig>(anchors, pki::purpose::client);
    return {std::move(c), std::move(sv)};
  }

  template <class S>
  hs::server_config<S> server(std::size_t max_datagram) const {
    hs::server_config<S> c{hs::certified_identity<S>(server_key, std::vector<pki::certificate>{server_cert, inter_cert})};
    c.max_datagram_size = max_datagram;
    return c;
  }
  template <class S>
  hs::client_config<S> client(std::size_t max_datagram) const {
    hs::client_config<S> c{std::nullopt, nullptr, hs::x509_verifier<Sig>(anchors, pki::purpose::server, "pq.example.com")};
    c.max_datagram_size = max_datagram;
    return c;
  }
};

/// What the network does to a flight: direction 0 client to server, 1 back;
/// `round` counts the client's sends (0 the first).
using network = std::function<flight(flight, int direction, int round)>;

struct traffic {
  std::size_t datagrams[2] = {0, 0}, bytes[2] = {0, 0}, largest = 0;
  std::size_t client_hello_datagrams = 0, server_hello_datagrams = 0, client_finished_datagrams = 0;
  int rounds = 0;
  void count(const flight& f, int direction) {
    for (const auto& d : f) {
      ++datagrams[direction];
      bytes[direction] += d.size();
      largest = std::max(largest, d.size());
    }
  }
};

/// A handshake through the datagram API only, over `net`, with the resend
/// timers of both sides: true when both sides established.
template <class S>
bool run_datagrams(const hs::client_config<S>& cc, const hs::server_config<S>& sc, const network& net, traffic& t,
                   int max_rounds = 6) {
  auto client = hs::client_handshake<S>::start(cc);
  t.client_hello_datagrams = client.client_hello_datagrams().size();
  hs::client_hello_collector<S> collector;
  std::optional<hs::server_handshake<S>> server;
  std::optional<hs::established<S>> client_done, server_done;

  const auto to_client = [&](flight f, int round) {
    f = net(std::move(f), 1, round);
    t.count(f, 1);
    flight replies;
    for (const auto& d : f) {
      if (!client_done) {
        auto r = client.on_datagram(d, now);
        if (r && r->has_value()) {
          client_done.emplace(std::move(**r));
          const auto cf = copy_flight(client_done->client_finished_datagrams());
          t.client_finished_datagrams = cf.size();
          replies.insert(replies.end(), cf.begin(), cf.end());
        }
      } else if (client_done->is_server_hello_again(d)) {
        const auto cf = copy_flight(client_done->client_finished_datagrams());
        replies.insert(replies.end(), cf.begin(), cf.end());
      }
    }
    return replies;
  };
  const auto to_server = [&](flight f, int round) {
    f = net(std::move(f), 0, round);
    t.count(f, 0);
    flight replies;
    for (const auto& d : f) {
      if (server_done) continue;
      if (!server) {
        (void)collector.add(d);
        if (collector.complete()) {
          auto s = hs::server_handshake<S>::accept(sc, collector, hs::address_status::unvalidated);
          REQUIRE(s.has_value());
          server.emplace(std::move(*s));
          const auto sh = copy_flight(server->server_hello_datagrams());
          t.server_hello_datagrams = sh.size();
          replies.insert(replies.end(), sh.begin(), sh.end());
        }
      } else if (hs::carried_type(d) == 3) {
        auto r = server->receive_datagram(d, now);
        if (r && r->has_value()) server_done.emplace(std::move(**r));
      } else if (auto again = server->on_datagram_flight(d)) {
        replies.insert(replies.end(), again->begin(), again->end());
      }
    }
    return replies;
  };

  flight from_client = copy_flight(client.client_hello_datagrams());
  for (int round = 0; round < max_rounds && !(client_done && server_done); ++round) {
    t.rounds = round + 1;
    // The client's flight, the server's answer, the client's answer to that, ...
    for (int hops = 0; hops < 4 && !from_client.empty(); ++hops) {
      auto from_server = to_server(std::move(from_client), round);
      from_client = to_client(std::move(from_server), round);
    }
    if (client_done && server_done) break;
    // Timers: the server's resend, then the client's.
    if (server && !server_done) {
      if (auto again = server->on_timer_flight()) {
        from_client = to_client(copy_flight(*again), round);
        if (!from_client.empty()) continue;
      }
    }
    if (!client_done) {
      from_client = copy_flight(client.on_timer());
    } else {
      auto again = client_done->on_timer_datagrams();
      REQUIRE(again.has_value());
      from_client = copy_flight(*again);
    }
  }
  if (client_done && server_done) {  // the sessions work
    const auto msg = as_bytes("after a fragmented handshake");
    bytes wire(msg.size() + 64), got(msg.size() + 64);
    auto opened = server_done->session().open({}, client_done->session().seal({}, msg, wire), got);
    REQUIRE(opened.has_value());
    CHECK(copy(*opened) == msg);
    return true;
  }
  return false;
}

flight as_sent(flight f, int, int) { return f; }

}  // namespace

TEMPLATE_LIST_TEST_CASE("fragments: a hybrid X.509 handshake completes at 1200 and 256 bytes per datagram, "
                        "every datagram within the limit",
                        "[handshake][fragments]", hybrid_suites) {
  using S = TestType;
  pki_fixture<typename S::sig> f;
  for (const std::size_t limit : {std::size_t{1200}, std::size_t{256}}) {
    CAPTURE(limit);
    traffic t;
    REQUIRE(run_datagrams<S>(f.template client<S>(limit), f.template server<S>(limit), as_sent, t));
    CHECK(t.rounds == 1);
    CHECK(t.largest <= limit);
    CHECK(t.client_hello_datagrams > 1);  // a hybrid ClientHello does not fit either limit
    CHECK(t.server_hello_datagrams > 1);
    CHECK(t.bytes[1] <= hs::amplification_limit * t.bytes[0]);
    std::printf("suite %04x at %4zu: ClientHello %zu datagrams, ServerHello %zu, ClientFinished %zu; "
                "client sent %zu datagrams / %zu bytes, server %zu / %zu (ratio %.2f)\n",
                S::id, limit, t.client_hello_datagrams, t.server_hello_datagrams, t.client_finished_datagrams,
                t.datagrams[0], t.bytes[0], t.datagrams[1], t.bytes[1], double(t.bytes[1]) / double(t.bytes[0]));
  }
}

TEMPLATE_LIST_TEST_CASE("fragments: a mutual X.509 handshake at 256 bytes fragments the ClientFinished too; "
                        "the server reassembles it, in any order",
                        "[handshake][fragments]", hybrid_suites) {
  using S = TestType;
  pki_fixture<typename S::sig> f;
  const auto [cc, sc] = f.template mutual<S>(256);
  for (const bool reversed : {false, true}) {
    traffic t;
    const network net = [reversed](flight x, int, int) {
      if (reversed) std::reverse(x.begin(), x.end());
      return x;
    };
    REQUIRE(run_datagrams<S>(cc, sc, net, t));
    CHECK(t.client_finished_datagrams > 1);
    CHECK(t.largest <= 256);
    std::printf("suite %04x mutual X.509 at 256: ClientFinished %zu datagrams\n", S::id, t.client_finished_datagrams);
  }
}

TEMPLATE_LIST_TEST_CASE("fragments: reversed, shuffled and duplicated flights complete in one round",
                        "[handshake][fragments]", hybrid_suites) {
  using S = TestType;
  pki_fixture<typename S::sig> f;
  std::mt19937 rng(7);
  const std::vector<std::pair<const char*, network>> networks{
      {"reversed", [](flight x, int, int) { std::reverse(x.begin(), x.end()); return x; }},
      {"shuffled", [&rng](flight x, int, int) { std::shuffle(x.begin(), x.end(), rng); return x; }},
      {"duplicated", [](flight x, int, int) {
         flight out;
         for (auto& d : x) out.insert(out.end(), {d, d});
         return out;
       }},
      {"duplicated and reversed", [](flight x, int, int) {
         flight out(x.rbegin(), x.rend());
         out.insert(out.end(), x.begin(), x.end());
         return out;
       }},
  };
  for (const std::size_t limit : {std::size_t{1200}, std::size_t{256}}) {
    for (const auto& [name, net] : networks) {
      CAPTURE(limit, name);
      traffic t;
      REQUIRE(run_datagrams<S>(f.template client<S>(limit), f.template server<S>(limit), net, t));
      CHECK(t.rounds == 1);
      CHECK(t.largest <= limit);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("fragments: any single fragment lost once, either way, is made up by the resends",
                        "[handshake][fragments]", hybrid_suites) {
  using S = TestType;
  pki_fixture<typename S::sig> f;
  const std::size_t limit = 1200;
  traffic probe;
  REQUIRE(run_datagrams<S>(f.template client<S>(limit), f.template server<S>(limit), as_sent, probe));
  const std::size_t counts[2] = {probe.client_hello_datagrams, probe.server_hello_datagrams};
  for (int direction = 0; direction < 2; ++direction) {
    for (std::size_t lost = 0; lost < counts[direction]; ++lost) {
      CAPTURE(direction, lost);
      bool dropped = false;
      const network net = [&](flight x, int dir, int) {
        if (dir == direction && !dropped && lost < x.size()) {
          x.erase(x.begin() + static_cast<std::ptrdiff_t>(lost));
          dropped = true;
        }
        return x;
      };
      traffic t;
      REQUIRE(run_datagrams<S>(f.template client<S>(limit), f.template server<S>(limit), net, t));
      CHECK(dropped);
      CHECK(t.rounds >= 2);  // it took a resend
      CHECK(t.bytes[1] <= hs::amplification_limit * t.bytes[0]);
    }
  }
}

TEST_CASE("fragments: spoofed fragments (wrong binding, type, length, differing overlap, garbage) change nothing; "
          "the genuine handshake completes",
          "[handshake][fragments][attack]") {
  using S = x25519_hybrid;
  pki_fixture<sepal::ed25519> f;
  const auto cc = f.client<S>(1200);
  const auto sc = f.server<S>(1200);
  auto client = hs::client_handshake<S>::start(cc);
  hs::client_hello_collector<S> collector;
  for (const auto& d : client.client_hello_datagrams()) REQUIRE(collector.add(d).has_value());
  REQUIRE(collector.complete());
  auto server = hs::server_handshake<S>::accept(sc, collector, hs::address_status::unvalidated);
  REQUIRE(server.has_value());
  const auto sh = copy_flight(server->server_hello_datagrams());
  REQUIRE(sh.size() >= 2);

  // Binding at bytes 5..13, message_length 13..15, offset 15..17, data 19...
  const auto spoof = [](bytes d, std::size_t at, std::uint8_t x) {
    d[at] ^= x;
    return d;
  };
  // An off-path attacker does not know the client's random: any binding is wrong.
  CHECK(client.on_datagram(spoof(sh[0], 5, 1), now).error() == errc::authentication_failed);
  CHECK(client.reassembly_memory() == 0);  // nothing allocated for it
  // The wrong message type for the state (a ClientHello fragment at the client).
  CHECK(client.on_datagram(spoof(sh[1], 4, 2 ^ 1), now).error() == errc::invalid_encoding);
  // Garbage: short, unknown, truncated.
  for (const auto& g : {bytes{5}, bytes{5, 4}, bytes(sh[0].begin(), sh[0].begin() + 18), bytes(40, 5), bytes(3, 0xff)})
    CHECK(!client.on_datagram(g, now).has_value());
  CHECK(client.reassembly_memory() == 0);

  // The genuine first fragment; then a second first fragment whose bytes differ.
  auto first = client.on_datagram(sh[0], now);
  REQUIRE(first.has_value());
  CHECK(!first->has_value());
  const auto memory = client.reassembly_memory();
  CHECK(memory == server->server_hello().size());
  CHECK(client.on_datagram(spoof(sh[0], 40, 0x80), now).error() == errc::invalid_encoding);
  // A different message_length than the first fragment's.
  CHECK(client.on_datagram(spoof(sh[1], 14, 1), now).error() == errc::invalid_encoding);
  // An offset that makes the data overlap what was kept, differently.
  CHECK(client.on_datagram(spoof(sh[1], 16, 0x10), now).error() == errc::invalid_encoding);  // 16 bytes earlier
  CHECK(client.reassembly_memory() == memory);

  // The server: ClientFinished fragments with another binding; a ClientHello
  // collector fed fragments of two bindings keeps the first.
  hs::client_hello_collector<S> other;
  const auto ch = copy_flight(client.client_hello_datagrams());
  REQUIRE(ch.size() >= 2);
  REQUIRE(other.add(ch[0]).has_value());
  CHECK(other.add(spoof(ch[1], 5, 1)).error() == errc::authentication_failed);
  CHECK(!other.complete());
  REQUIRE(other.add(ch[1]).has_value());
  CHECK(other.complete());

  // The rest of the genuine flight completes the handshake.
  std::optional<hs::established<S>> done;
  for (std::size_t i = 1; i < sh.size(); ++i) {
    auto r = client.on_datagram(sh[i], now);
    REQUIRE(r.has_value());
    if (r->has_value()) done.emplace(std::move(**r));
  }
  REQUIRE(done.has_value());
  // The ServerHello again: its offset-0 fragment is; any other fragment, or a changed one, is not.
  CHECK(done->is_server_hello_again(sh[0]));
  CHECK(!done->is_server_hello_again(sh[1]));
  CHECK(!done->is_server_hello_again(spoof(sh[0], 30, 1)));

  for (const auto& d : done->client_finished_datagrams()) {
    CHECK(server->receive_datagram(spoof(d, d[0] == hs::fragment_type ? 5 : 10, 1), now).has_value() == false);
  }
  std::optional<hs::established<S>> server_done;
  for (const auto& d : done->client_finished_datagrams()) {
    auto r = server->receive_datagram(d, now);
    REQUIRE(r.has_value());
    if (r->has_value()) server_done.emplace(std::move(**r));
  }
  REQUIRE(server_done.has_value());
}

TEST_CASE("fragments: every bit flip of a ServerHello fragment is dropped or fails verification; "
          "the genuine resend still completes",
          "[handshake][fragments][attack]") {
  using S = x25519_hybrid;  // root key: cheap to verify, three fragments at 512 bytes
  const auto root = hs::share(sepal::private_key<sepal::ed25519>::generate());
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  hs::client_config<S> cc{root->public_key(), nullptr};
  sc.max_datagram_size = cc.max_datagram_size = 512;
  auto client = hs::client_handshake<S>::start(cc);
  hs::client_hello_collector<S> collector;
  for (const auto& d : client.client_hello_datagrams()) (void)collector.add(d);
  auto server = hs::server_handshake<S>::accept(sc, collector, hs::address_status::unvalidated);
  REQUIRE(server.has_value());
  const auto sh = copy_flight(server->server_hello_datagrams());
  REQUIRE(sh.size() == 3);

  std::size_t flips = 0, dropped = 0;
  for (std::size_t i = 0; i < sh.size(); ++i) {
    for (std::size_t at = 0; at < sh[i].size(); at += at < hs::fragment_header_size + 8 ? 1 : 41) {
      for (int bit = 0; bit < 8; ++bit) {
        bytes bad = sh[i];
        bad[at] ^= static_cast<std::uint8_t>(1 << bit);
        ++flips;
        // The flipped fragment first, then the other genuine ones: the
        // message cannot complete genuinely without fragment i.
        auto r = client.on_datagram(bad, now);
        REQUIRE(!(r && r->has_value()));
        if (!r) ++dropped;
        for (std::size_t j = 0; j < sh.size(); ++j) {
          if (j == i) continue;
          auto g = client.on_datagram(sh[j], now);
          REQUIRE(!(g && g->has_value()));
        }
        // The client's resend timer: an incomplete reassembly goes at its second tick.
        (void)client.on_timer();
        (void)client.on_timer();
        CHECK(client.reassembly_memory() == 0);
      }
    }
  }
  std::printf("ServerHello fragment bit flips: %zu (%zu dropped at once)\n", flips, dropped);
  CHECK(flips > 500);
  std::optional<hs::established<S>> done;
  for (const auto& d : sh) {
    auto r = client.on_datagram(d, now);
    REQUIRE(r.has_value());
    if (r->has_value()) done.emplace(std::move(**r));
  }
  REQUIRE(done.has_value());
}

TEST_CASE("fragments: limits refuse before allocating: message_length over the maximum, more fragments than "
          "allowed, a datagram size outside the allowed range",
          "[handshake][fragments][limits]") {
  using S = hs::default_suite;
  const hs::fragment_binding binding{1, 2, 3, 4, 5, 6, 7, 8};
  const auto make = [&](std::uint8_t type, std::size_t length, std::size_t offset, std::size_t n) {
    bytes d{hs::fragment_type, hs::protocol_version, S::id >> 8, S::id & 0xff, type};
    d.insert(d.end(), binding.begin(), binding.end());
    for (const auto v : {length, offset, n}) {
      d.push_back(static_cast<std::uint8_t>(v >> 8));
      d.push_back(static_cast<std::uint8_t>(v));
    }
    d.resize(d.size() + n, 0);
    return d;
  };
  // message_length over max_message_size: refused by the parser, nothing allocated.
  hs::reassembly r(S::id, 2, binding);
  CHECK(r.add(make(2, hs::max_message_size + 1, 0, 100)).error() == errc::limit_reached);
  CHECK(r.add(make(2, 0xffff, 0, 100)).error() == errc::limit_reached);
  CHECK(r.memory() == 0);
  // Data past message_length, empty data, a ClientHello under 1200 bytes, trailing bytes.
  CHECK(r.add(make(2, 100, 50, 51)).error() == errc::invalid_encoding);
  CHECK(r.add(make(2, 100, 0, 0)).error() == errc::invalid_encoding);
  CHECK(hs::parse_fragment(make(1, 1199, 0, 100), S::id).error() == errc::invalid_encoding);
  auto trailing = make(2, 100, 0, 10);
  trailing.push_back(0);
  CHECK(r.add(trailing).error() == errc::invalid_encoding);
  CHECK(hs::parse_fragment(make(2, 100, 0, 10), S::id + 1).error() == errc::wrong_algorithm);
  CHECK(r.memory() == 0);

  // max_fragments distinct fragments are accepted, the next is not; memory
  // is exactly the message's length, allocated once.
  const std::size_t length = 4000;
  REQUIRE(r.add(make(2, length, 0, 10)).has_value());
  CHECK(r.memory() == length);
  for (std::size_t i = 1; i < hs::max_fragments; ++i) REQUIRE(r.add(make(2, length, 10 * i, 10)).has_value());
  CHECK(r.fragments() == hs::max_fragments);
  CHECK(r.add(make(2, length, 10 * hs::max_fragments, 10)).error() == errc::limit_reached);
  CHECK(r.add(make(2, length, 0, 10)).value() == hs::reassembly::status::incomplete);  // a duplicate is still fine
  CHECK(r.memory() == length);
  CHECK(!r.complete());

  // The sender's side of the same limits.
  const bytes big(8000, 0);
  CHECK(hs::fragment_message(big, 2, binding, S::id, 256).error() == errc::limit_reached);  // 34 fragments
  CHECK(hs::fragment_message(big, 2, binding, S::id, 1200).value().size() == 7);
  CHECK(hs::fragment_message(big, 2, binding, S::id, hs::min_datagram_size - 1).error() == errc::invalid_argument);
  CHECK(hs::fragment_message(bytes(hs::max_message_size + 1), 2, binding, S::id, 1200).error() == errc::limit_reached);

  // A config with a datagram size outside min_datagram_size .. max_message_size.
  const auto root = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::client_config<S> cc{root->public_key(), nullptr};
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  for (const std::size_t bad : {std::size_t{0}, hs::min_datagram_size - 1, hs::max_message_size + 1}) {
    cc.max_datagram_size = bad;
    sc.max_datagram_size = bad;
    try {
      (void)hs::client_handshake<S>::start(cc);
      FAIL("start accepted max_datagram_size " << bad);
    } catch (const sepal::error& e) {
      CHECK(e.code() == errc::invalid_argument);
    }
    cc.max_datagram_size = 1200;
    auto c = hs::client_handshake<S>::start(cc);
    CHECK(hs::server_handshake<S>::accept(sc, c.client_hello()).error() == errc::invalid_argument);
  }
  // An incomplete collector is not accepted.
  sc.max_datagram_size = 1200;
  hs::client_hello_collector<S> empty;
  CHECK(hs::server_handshake<S>::accept(sc, empty, hs::address_status::unvalidated).error() == errc::invalid_argument);
}

TEST_CASE("fragments: a flood of ClientHello fragments and timer ticks from an unvalidated address draws at most "
          "3x the bytes it sent, counting the whole flood",
          "[handshake][fragments][amplification]") {
  using S = p256_hybrid;
  pki_fixture<sepal::p256> f;
  const auto sc = f.server<S>(1200);
  auto client = hs::client_handshake<S>::start(f.client<S>(1200));
  const auto ch = copy_flight(client.client_hello_datagrams());
  REQUIRE(ch.size() >= 2);

  std::size_t received = 0, sent = 0, flights = 0;
  hs::client_hello_collector<S> collector;
  for (const auto& d : ch) {
    received += d.size();
    (void)collector.add(d);
  }
  auto server = hs::server_handshake<S>::accept(sc, collector, hs::address_status::unvalidated);
  REQUIRE(server.has_value());
  const auto count = [&](std::span<const std::vector<std::uint8_t>> fl) {
    for (const auto& d : fl) {
      CHECK(d.size() <= 1200);
      sent += d.size();
    }
    ++flights;
  };
  count(server->server_hello_datagrams());
  REQUIRE(server->server_hello_datagrams().size() >= 2);
  CHECK(sent <= 3 * received);

  // The attacker repeats the ClientHello's fragments (offset 0 most: that
  // is the one that draws the flight), duplicates and ticks the timer.
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const auto pick = rng() % 4;
    if (pick == 3) {
      if (auto again = server->on_timer_flight()) count(*again);
    } else {
      const auto& d = ch[pick == 0 ? 0 : rng() % ch.size()];
      received += d.size();
      if (auto again = server->on_datagram_flight(d)) count(*again);
    }
    REQUIRE(sent <= 3 * received);
  }
  CHECK(server->bytes_sent() == sent);
  CHECK(server->bytes_received() == received);
  std::printf("ClientHello fragment flood: received %zu bytes, sent %zu in %zu flights (ratio %.3f)\n", received, sent,
              flights, double(sent) / double(received));
  CHECK(flights <= 1 + hs::max_server_hello_resends);

  // Ticks alone, after the flood, draw nothing over the budget either.
  for (int i = 0; i < 20; ++i)
    if (auto again = server->on_timer_flight()) count(*again);
  CHECK(sent <= 3 * received);
}

TEST_CASE("fragments: a ClientHello flight of only a fragment at offset 0 and small repeats cannot draw a "
          "ServerHello flight over the budget",
          "[handshake][fragments][amplification]") {
  using S = p256_hybrid;
  pki_fixture<sepal::p256> f;
  const auto sc = f.server<S>(256);  // many small fragments: the most header bytes per ServerHello
  auto client = hs::client_handshake<S>::start(f.client<S>(256));
  const auto ch = copy_flight(client.client_hello_datagrams());
  hs::client_hello_collector<S> collector;
  std::size_t received = 0;
  for (const auto& d : ch) {
    received += d.size();
    (void)collector.add(d);
  }
  auto server = hs::server_handshake<S>::accept(sc, collector, hs::address_status::unvalidated);
  REQUIRE(server.has_value());
  std::size_t sent = flight_size(server->server_hello_datagrams());
  CHECK(sent <= 3 * received);
  // The last fragment (the shortest) repeated: it never draws anything.
  for (int i = 0; i < 100; ++i) {
    received += ch.back().size();
    CHECK(!server->on_datagram_flight(ch.back()).has_value());
  }
  for (int i = 0; i < 20; ++i)
    if (auto again = server->on_timer_flight()) sent += flight_size(*again);
  CHECK(sent <= 3 * received);
  CHECK(server->bytes_sent() == sent);
}

TEST_CASE("version 5: version 4 messages and Fragments are refused as wrong_algorithm, the handshake goes on",
          "[handshake][fragments][version]") {
  using S = hs::default_suite;
  static_assert(hs::protocol_version == 5);
  const auto root = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  hs::client_config<S> cc{root->public_key(), nullptr};
  auto client = hs::client_handshake<S>::start(cc);
  bytes old_hello = copy(client.client_hello());
  old_hello[1] = 4;
  CHECK(hs::server_handshake<S>::accept(sc, old_hello).error() == errc::wrong_algorithm);
  hs::client_hello_collector<S> collector;
  CHECK(collector.add(old_hello).error() == errc::wrong_algorithm);
  auto server = hs::server_handshake<S>::accept(sc, client.client_hello());
  REQUIRE(server.has_value());
  bytes old_reply = copy(server->server_hello());
  old_reply[1] = 4;
  CHECK(client.receive(old_reply, now).error() == errc::wrong_algorithm);
  // A Fragment of version 4 (or 3, 2) is refused before anything else.
  const auto fragments =
      hs::fragment_message(server->server_hello(), 2, hs::detail::binding_of(client.client_hello().subspan(4, 8)), S::id,
                           hs::min_datagram_size)
          .value();
  REQUIRE(fragments.size() == 1);  // 229 bytes: fits even the smallest limit
  bytes fragment = hs::fragment_message(bytes(600, 7), 2, {}, S::id, hs::min_datagram_size).value()[0];
  for (const std::uint8_t v : {std::uint8_t{2}, std::uint8_t{3}, std::uint8_t{4}}) {
    fragment[1] = v;
    CHECK(hs::parse_fragment(fragment, S::id).error() == errc::wrong_algorithm);
    CHECK(client.on_datagram(fragment, now).error() == errc::wrong_algorithm);
  }
  auto done = client.on_datagram(server->server_hello(), now);
  REQUIRE(done.has_value());
  REQUIRE(done->has_value());
  auto s = server->receive_datagram((*done)->client_finished_datagrams()[0], now);
  REQUIRE(s.has_value());
  CHECK(s->has_value());
}

TEST_CASE("fragments: a 4-certificate chain with the largest hybrid share (SecP384r1MLKEM1024) fits max_message_size "
          "and completes at 1200 bytes per datagram",
          "[handshake][fragments][x509]") {
  using S = p384_hybrid;
  using key = sepal::private_key<sepal::p384>;
  auto root = pki::certificate_authority<sepal::p384>::create_root(key::generate(), {"deep root"}, now - 86400,
                                                                    now + 10 * year);
  std::vector<pki::certificate> intermediates;
  std::optional<pki::certificate_authority<sepal::p384>> issuer;
  for (std::size_t depth = 0; depth < 3; ++depth) {
    auto k = std::make_shared<const key>(key::generate());
    const std::string name = "deep intermediate " + std::to_string(depth);
    auto req = pki::certificate_request::create(*k, {name});
    const std::size_t below = 2 - depth;  // path length: intermediates that may follow
    auto cert = (issuer ? issuer->issue_intermediate(req, below, now - 86400, now + year)
                        : root.issue_intermediate(req, below, now - 86400, now + year))
                    .value();
    intermediates.push_back(cert);
    issuer.emplace(pki::certificate_authority<sepal::p384>::from(cert, k).value());
  }
  const auto leaf_key = hs::share(key::generate());
  auto leaf = issuer
                  ->issue(pki::certificate_request::create(*leaf_key, {"deep.example.com"}, {{"deep.example.com"}, {}, {}}),
                          pki::usage::server, {.dns = {"deep.example.com"}}, now - 86400, now + year)
                  .value();
  const std::vector<pki::certificate> chain{leaf, intermediates[2], intermediates[1], intermediates[0]};
  auto anchors = std::make_shared<pki::trust_store>();
  anchors->add(root.cert());
  hs::server_config<S> sc{hs::certified_identity<S>(leaf_key, chain)};
  hs::client_config<S> cc{std::nullopt, nullptr,
                          hs::x509_verifier<sepal::p384>(anchors, pki::purpose::server, "deep.example.com")};
  traffic t;
  REQUIRE(run_datagrams<S>(cc, sc, as_sent, t));
  CHECK(t.largest <= 1200);
  CHECK(t.bytes[1] <= hs::max_message_size + t.server_hello_datagrams * hs::fragment_header_size);
  CHECK(t.bytes[1] <= hs::amplification_limit * t.bytes[0]);
  std::printf("suite %04x, 4-certificate chain at 1200: ServerHello %zu datagrams, %zu bytes on the wire\n", S::id,
              t.server_hello_datagrams, t.bytes[1]);
}

TEST_CASE("fragments: every bit flip of a ClientHello Fragment's header is dropped or held at most two ticks; "
          "the genuine flight then completes the collection",
          "[handshake][fragments][attack]") {
  using S = x25519_hybrid;
  const auto root = hs::share(sepal::private_key<sepal::ed25519>::generate());
  hs::client_config<S> cc{root->public_key(), nullptr};
  cc.max_datagram_size = 512;
  auto client = hs::client_handshake<S>::start(cc);
  const auto ch = copy_flight(client.client_hello_datagrams());
  REQUIRE(ch.size() == 3);
  std::size_t flips = 0, dropped = 0;
  for (std::size_t i = 0; i < ch.size(); ++i) {
    for (std::size_t at = 0; at < hs::fragment_header_size; ++at) {
      for (int bit = 0; bit < 8; ++bit) {
        bytes bad = ch[i];
        bad[at] ^= static_cast<std::uint8_t>(1 << bit);
        ++flips;
        hs::client_hello_collector<S> collector;
        if (!collector.add(bad)) ++dropped;
        for (const auto& d : ch) (void)collector.add(d);
        if (!collector.complete()) {  // the flipped fragment set a wrong length or offset, or another binding
          (void)collector.on_timer();
          (void)collector.on_timer();
          CHECK(collector.memory() == 0);
          for (const auto& d : ch) (void)collector.add(d);  // the client's resend
        }
        REQUIRE(collector.complete());
        CHECK(std::ranges::equal(collector.message(), client.client_hello()));
      }
    }
  }
  std::printf("ClientHello fragment header bit flips: %zu (%zu dropped at once)\n", flips, dropped);
}

TEST_CASE("fragments: a reassembled message whose type byte is not the fragments' message_type is discarded "
          "(a HelloRetry cannot arrive as ServerHello fragments); the genuine ServerHello then completes",
          "[handshake][fragments][spoofing]") {
  using S = hs::default_suite;
  const auto root = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::server_config<S> sc{hs::server_identity<S>::root(root), {}};
  hs::client_config<S> cc{root->public_key(), nullptr};
  auto client = hs::client_handshake<S>::start(cc);
  const auto binding = hs::detail::binding_of(client.client_hello().subspan(4, 8));
  // A 600-byte "ServerHello" whose first byte says HelloRetry (type 4), in
  // Fragments with the right binding (an on-path forger's best case).
  bytes forged(600, 0);
  forged[0] = 4, forged[1] = hs::protocol_version, forged[2] = S::id >> 8, forged[3] = S::id & 0xff;
  const auto fragments = hs::fragment_message(forged, 2, binding, S::id, hs::min_datagram_size).value();
  REQUIRE(fragments.size() == 3);
  hs::reassembly r(S::id, 2, binding);
  CHECK(r.add(fragments[0]).value() == hs::reassembly::status::incomplete);
  CHECK(r.add(fragments[1]).value() == hs::reassembly::status::incomplete);
  CHECK(r.add(fragments[2]).error() == errc::invalid_encoding);
  CHECK_FALSE(r.started());  // discarded, memory released
  CHECK(r.memory() == 0);
  for (const auto& f : fragments) {  // through the client: nothing established, nothing changed
    const auto got = client.on_datagram(f, now);
    CHECK_FALSE((got.has_value() && got->has_value()));
  }
  auto server = hs::server_handshake<S>::accept(sc, client.client_hello());
  REQUIRE(server.has_value());
  auto done = client.on_datagram(server->server_hello(), now);
  REQUIRE(done.has_value());
  CHECK(done->has_value());
}
