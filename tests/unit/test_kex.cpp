#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include "test_support.hpp"

using namespace sepal_test;
using sepal::errc;

TEMPLATE_LIST_TEST_CASE("both sides agree on the same secret", "[kex]", agreement_curves) {
  using C = TestType;
  const auto a = sepal::private_key<C>::generate();
  const auto b = sepal::private_key<C>::generate();
  auto ab = sepal::agree(a, b.public_key());
  auto ba = sepal::agree(b, a.public_key().to_raw());
  REQUIRE(ab.has_value());
  REQUIRE(ba.has_value());
  CHECK(ab->size() == C::shared_secret_size);
  CHECK(sepal::constant_time_equal(*ab, *ba));
  const auto c = sepal::private_key<C>::generate();
  CHECK_FALSE(sepal::constant_time_equal(*ab, *sepal::agree(a, c.public_key())));
}

TEST_CASE("RFC 7748 §6.1: X25519 Diffie-Hellman", "[kex][kat]") {
  const auto alice = sepal::private_key<sepal::x25519>::unsafe_test_key();
  const auto bob = sepal::private_key<sepal::x25519>::from_raw(
      hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  REQUIRE(bob.has_value());
  CHECK(to_hex(bob->public_key().to_raw()) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto k = sepal::agree(alice, bob->public_key());
  REQUIRE(k.has_value());
  CHECK(to_hex(k->reveal()) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST_CASE("RFC 7748 §5.2: X25519 and X448 scalar multiplication", "[kex][kat]") {
  auto k = sepal::private_key<sepal::x25519>::from_raw(
      hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
  auto r = sepal::agree(*k, hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
  REQUIRE(r.has_value());
  CHECK(to_hex(r->reveal()) == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

  auto k448 = sepal::private_key<sepal::x448>::from_raw(hex(
      "3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3"));
  auto r448 = sepal::agree(*k448, hex("06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031ddbdc38c19c6da2583fa54"
                                      "29db94ada18aa7a7fb4ef8a086"));
  REQUIRE(r448.has_value());
  CHECK(to_hex(r448->reveal()) ==
        "ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239fe14fbaadeb445fc66a01b0779d98223961111e21766282f73dd96b6f");
}

TEST_CASE("hardening #11: an all-zero X25519/X448 result reports invalid_shared_secret", "[kex][hardening]") {
  const auto mine = sepal::private_key<sepal::x25519>::generate();
  // RFC 7748 §6.1 small-order inputs: u = 0, u = 1, and the order-8 point.
  for (const auto& u : {bytes(32, 0), hex("0100000000000000000000000000000000000000000000000000000000000000"),
                        hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")}) {
    const auto r = sepal::agree(mine, u);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_shared_secret);
  }
  const auto mine448 = sepal::private_key<sepal::x448>::generate();
  const auto r448 = sepal::agree(mine448, bytes(56, 0));
  REQUIRE_FALSE(r448.has_value());
  CHECK(r448.error() == errc::invalid_shared_secret);
}

TEST_CASE("invalid ECDH peer points are rejected without throwing", "[kex]") {
  const auto mine = sepal::private_key<sepal::p256>::generate();
  auto raw = sepal::private_key<sepal::p256>::generate().public_key().to_raw();
  raw[40] ^= 0x10;  // off the curve
  CHECK(sepal::agree(mine, raw).error() == errc::invalid_key);
  CHECK(sepal::agree(mine, hex("00")).error() == errc::invalid_key);
  CHECK(sepal::agree(mine, bytes{}).error() == errc::invalid_key);
  CHECK(sepal::agree(mine, bytes(65, 0x04)).error() == errc::invalid_key);
}
