// Proves the endpoint's steady state allocates nothing per datagram: after
// the handshake and a warm-up, thousands of encrypted round trips through
// udp_server (its worker thread) and udp_client (this thread) with batched
// I/O make zero heap allocations in either. This executable replaces the
// global operator new with a counting one (counting all threads).

#include <catch2/catch_test_macros.hpp>

#include "counting_new.hpp"
#include "net_support.hpp"

using namespace net_test;
using sepal_test::allocations;

namespace {

std::size_t round_trips(client& c, std::span<const std::uint8_t> payload, int bursts, int burst) {
  std::size_t got = 0;
  for (int b = 0; b < bursts; ++b) {
    for (int i = 0; i < burst; ++i) (void)c.send(payload);
    for (int i = 0; i < burst; ++i) got += c.receive(500ms) ? 1 : 0;
  }
  return got;
}

void steady_state_allocates_nothing(const net::io_options& io, unsigned threads) {
  keys k;
  server::config cfg{.handshake = k.server_config(), .threads = threads, .io = io};
  server::handlers h;
  h.on_payload = [](server::connection& c, std::span<const std::uint8_t> p) { c.send(p); };
  server srv(std::move(cfg), std::move(h));
  auto cc = k.client_to(srv.local());
  cc.io = io;
  client c(cc);
  const auto before_handshake = allocations.load();
  REQUIRE(c.connect());
  CHECK(allocations.load() > before_handshake);  // positive control: the counter sees the handshake's allocations
  std::vector<std::uint8_t> payload(1200, 5), small(64, 6);
  REQUIRE(round_trips(c, payload, 20, 32) == 640);  // warm-up: Botan sizes its buffers on first use
  REQUIRE(round_trips(c, small, 20, 32) == 640);

  const auto before = allocations.load();
  const auto got = round_trips(c, payload, 100, 32) + round_trips(c, small, 100, 32);
  const auto allocated = allocations.load() - before;
  CHECK(got == 6400);
  INFO("allocations during 6400 round trips: " << allocated);
  CHECK(allocated == 0);
}

}  // namespace

TEST_CASE("endpoint round trips allocate nothing in steady state (batched, GSO/GRO)", "[net][alloc]") {
  steady_state_allocates_nothing({}, 1);
}

TEST_CASE("endpoint round trips allocate nothing in steady state (two workers)", "[net][alloc]") {
  steady_state_allocates_nothing({}, 2);
}

TEST_CASE("endpoint round trips allocate nothing in steady state (one system call per datagram)", "[net][alloc]") {
  steady_state_allocates_nothing({.batch = false, .offload = false}, 1);
}
