// Properties over every AEAD: in place == out of place, every bit flip of the
// sealed message fails and leaves no plaintext behind, round trips at many sizes.

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <array>

#include "test_support.hpp"

using namespace sepal_test;

TEMPLATE_LIST_TEST_CASE("in place equals out of place, at every size up to 300 bytes", "[aead][props]", all_aeads) {
  using A = TestType;
  auto k = sepal::aead_key<A>::generate();
  const auto ad = as_bytes("associated");
  for (std::size_t n = 0; n <= 300; n += (n < 40 ? 1 : 37)) {
    auto nonce = sepal::random_bytes<A::nonce_size>();
    bytes pt(n);
    sepal::system_rng().randomize(pt);
    bytes out(n + A::tag_size);
    const auto a = copy(k.seal(nonce, ad, pt, out));
    bytes inplace = pt;
    inplace.resize(n + A::tag_size);
    const auto b = copy(k.seal_in_place(nonce, ad, inplace, n));
    REQUIRE(a == b);

    bytes back(n);
    auto opened = k.open(nonce, ad, a, back);
    REQUIRE(opened.has_value());
    CHECK(copy(*opened) == pt);
    auto opened_in_place = k.open_in_place(nonce, ad, inplace);
    REQUIRE(opened_in_place.has_value());
    CHECK(copy(*opened_in_place) == pt);
  }
}

TEMPLATE_LIST_TEST_CASE("every bit flip is rejected and the output holds no plaintext", "[aead][props]", all_aeads) {
  using A = TestType;
  auto k = sepal::aead_key<A>::generate();
  const auto nonce = sepal::random_bytes<A::nonce_size>();
  const auto ad = as_bytes("ad");
  const bytes pt(48, 0x5A);
  bytes sealed(pt.size() + A::tag_size);
  (void)k.seal(nonce, ad, pt, sealed);

  for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    auto bad = sealed;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    bytes out(pt.size(), 0xEE);
    REQUIRE(k.open(nonce, ad, bad, out).error() == sepal::errc::authentication_failed);
    // Botan decrypted into `out` before the tag check failed: it must be wiped.
    REQUIRE(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; }));
    // In place too.
    REQUIRE_FALSE(k.open_in_place(nonce, ad, bad).has_value());
    REQUIRE(std::all_of(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(pt.size()),
                        [](std::uint8_t b) { return b == 0; }));
  }
  for (std::size_t bit = 0; bit < ad.size() * 8; ++bit) {
    auto bad_ad = ad;
    bad_ad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    bytes out(pt.size());
    REQUIRE_FALSE(k.open(nonce, bad_ad, sealed, out).has_value());
  }
}

TEMPLATE_LIST_TEST_CASE("sign/verify and agree round-trip over many keys", "[props]", signature_curves) {
  using C = TestType;
  for (int i = 0; i < 8; ++i) {
    const auto key = sepal::private_key<C>::generate();
    const auto msg = sepal::random_bytes<33>();
    CHECK(sepal::verify(*sepal::public_key<C>::from_der(key.public_key().to_der()), msg, sepal::sign(key, msg)));
  }
}
