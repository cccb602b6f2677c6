// Proves the packet hot path allocates nothing after warm-up: this executable
// replaces the global operator new with a counting one.

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sepal/aead.hpp>
#include <sepal/session.hpp>

#include "counting_new.hpp"

using sepal_test::allocations;

using suites = std::tuple<sepal::cipher_suite<sepal::aes128_gcm>, sepal::cipher_suite<sepal::aes256_gcm>,
                          sepal::cipher_suite<sepal::chacha20_poly1305>>;

TEMPLATE_LIST_TEST_CASE("seal and open allocate nothing after warm-up", "[alloc]", suites) {
  const std::array<std::uint8_t, 32> a{1}, b{2};
  auto secret = [](const auto& b) { return sepal::secret_bytes::copy_of(b); };
  sepal::session<TestType> alice(secret(a), secret(b)), bob(secret(b), secret(a));
  std::array<std::uint8_t, 1200 + 21> packet{};
  std::array<std::uint8_t, 1200> payload{}, out{};
  const std::array<std::uint8_t, 8> ad{1, 2, 3};
  for (int i = 0; i < 8; ++i) {  // warm-up: first use sizes Botan's buffers
    auto p = alice.seal(ad, payload, packet);
    REQUIRE(bob.open(ad, p, out).has_value());
  }
  auto forged_src = alice.seal(ad, payload, packet);
  std::array<std::uint8_t, 1200 + 21> forged{};
  std::copy(forged_src.begin(), forged_src.end(), forged.begin());
  forged[30] ^= 1;

  const auto before = allocations.load();
  for (int i = 0; i < 1000; ++i) {
    auto p = alice.seal(ad, payload, packet);
    auto r = bob.open(ad, p, out);
    if (!r) FAIL("open failed");
    if (bob.open(ad, p, out).error() != sepal::errc::replayed) FAIL("replay accepted");
    if (bob.open(ad, std::span(packet).first(10), out)) FAIL("short packet accepted");
    auto in_place = bob.seal_in_place(ad, packet, 100);
    if (!alice.receiver().open_in_place(ad, in_place)) FAIL("open in place failed");
  }
  CHECK(allocations.load() - before == 0);

  // A forgery reaches Botan's tag check, which throws internally: its
  // exception allocates a little and frees it before open returns.
  const auto before_forged = allocations.load();
  for (int i = 0; i < 1000; ++i) {
    if (bob.open(ad, forged, out)) FAIL("forgery accepted");
  }
  const auto per_forgery = static_cast<double>(allocations.load() - before_forged) / 1000;
  INFO("allocations per rejected forgery: " << per_forgery);
  CHECK(per_forgery <= 2.0);
}

TEMPLATE_LIST_TEST_CASE("aead_key seal and open allocate nothing after warm-up", "[alloc]", suites) {
  using A = typename TestType::aead;
  auto k = sepal::aead_key<A>::generate();
  std::array<std::uint8_t, A::nonce_size> nonce{};
  std::array<std::uint8_t, 256> buf{};
  for (int i = 0; i < 4; ++i) (void)k.open_in_place(nonce, {}, k.seal_in_place(nonce, {}, buf, 200));
  const auto before = allocations.load();
  for (int i = 0; i < 1000; ++i) {
    auto ct = k.seal_in_place(nonce, {}, buf, 200);
    if (!k.open_in_place(nonce, {}, ct)) FAIL("open failed");
  }
  CHECK(allocations.load() - before == 0);
}
