#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include <sepal/replay.hpp>

TEST_CASE("every in-window permutation is accepted exactly once", "[replay]") {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 50; ++round) {
    sepal::replay_window<256> w;
    std::vector<std::uint64_t> pns(256);
    std::iota(pns.begin(), pns.end(), std::uint64_t{1000} * static_cast<std::uint64_t>(round));
    std::shuffle(pns.begin(), pns.end(), rng);
    // Deliver the largest first so every other number is inside the window.
    std::iter_swap(pns.begin(), std::max_element(pns.begin(), pns.end()));
    for (auto pn : pns) {
      REQUIRE(w.fresh(pn));
      w.accept(pn);
      REQUIRE_FALSE(w.fresh(pn));  // duplicate
    }
    for (auto pn : pns) REQUIRE_FALSE(w.fresh(pn));
  }
}

TEST_CASE("packets older than the window are rejected; the edge is exact", "[replay]") {
  sepal::replay_window<128> w;
  w.accept(1000);
  CHECK(w.fresh(1000 - 127));       // the oldest remembered number
  CHECK_FALSE(w.fresh(1000 - 128));  // one older: too old to tell
  CHECK_FALSE(w.fresh(0));
  CHECK(w.fresh(1001));
  CHECK(w.fresh(5000));
}

TEST_CASE("the window slides correctly across 2^k and block boundaries", "[replay]") {
  for (std::uint64_t base : {std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{127}, std::uint64_t{1} << 32,
                             (std::uint64_t{1} << 32) - 1, (std::uint64_t{1} << 62) - 300}) {
    sepal::replay_window<2048> w;
    for (std::uint64_t pn = base; pn < base + 300; pn += 2) w.accept(pn);  // even offsets only
    for (std::uint64_t pn = base; pn < base + 300; ++pn) {
      INFO("base " << base << " pn " << pn);
      CHECK(w.fresh(pn) == ((pn - base) % 2 == 1));
    }
    // Jumps of exactly one window, more than one, and within one block.
    const std::uint64_t top = w.largest();
    w.accept(top + 2048);
    CHECK_FALSE(w.fresh(top));  // now exactly out of the window
    CHECK(w.fresh(top + 1));
    w.accept(top + 100000);
    for (std::uint64_t pn = top + 100000 - 2047; pn < top + 100000; pn += 97) CHECK(w.fresh(pn));
  }
}

TEST_CASE("checking does not change the window", "[replay]") {
  sepal::replay_window<64> w;
  w.accept(10);
  for (int i = 0; i < 1000; ++i) (void)w.fresh(static_cast<std::uint64_t>(i));
  CHECK(w.largest() == 10);
  CHECK(w.fresh(9));
  CHECK_FALSE(w.fresh(10));
}
