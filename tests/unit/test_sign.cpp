#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include "test_support.hpp"

using namespace sepal_test;

TEMPLATE_LIST_TEST_CASE("sign then verify, and a wrong key or message fails", "[sign]", signature_curves) {
  using C = TestType;
  const auto key = sepal::private_key<C>::generate();
  const auto other = sepal::private_key<C>::generate();
  const auto msg = as_bytes("session ephemeral key + transcript");
  for (auto format : {sepal::signature_format::der, sepal::signature_format::p1363}) {
    const auto sig = sepal::sign(key, msg, format);
    CHECK(sepal::verify(key.public_key(), msg, sig, format));
    CHECK_FALSE(sepal::verify(other.public_key(), msg, sig, format));
    CHECK_FALSE(sepal::verify(key.public_key(), as_bytes("other message"), sig, format));
    CHECK_NOTHROW(sepal::verify_or_throw(key.public_key(), msg, sig, format));
    CHECK_THROWS_AS(sepal::verify_or_throw(other.public_key(), msg, sig, format), sepal::invalid_signature);
  }
}

TEMPLATE_LIST_TEST_CASE("every bit flip of a signature fails; truncations and garbage fail without throwing", "[sign]",
                        signature_curves) {
  using C = TestType;
  const auto key = sepal::private_key<C>::generate();
  const auto pub = key.public_key();
  const auto msg = as_bytes("m");
  for (auto format : {sepal::signature_format::der, sepal::signature_format::p1363}) {
    const auto sig = sepal::sign(key, msg, format);
    sepal::verifier<C> v(pub, format);
    for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
      auto bad = sig;
      bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      CHECK_FALSE(v.verify(msg, bad));
      // Botan before 3.11.1 could leave a verifier poisoned by an invalid
      // DER signature (the next valid one failed); sepal reuses verifiers.
      if (bit % 8 == 0) CHECK(v.verify(msg, sig));
    }
    for (std::size_t n = 0; n < sig.size(); ++n) CHECK_FALSE(v.verify(msg, std::span(sig).first(n)));
    auto longer = sig;
    longer.push_back(0);
    CHECK_FALSE(v.verify(msg, longer));
    CHECK(v.verify(msg, sig));  // the verifier is reusable after failures
  }
}

TEST_CASE("ECDSA with a named hash; P1363 sizes", "[sign]") {
  const auto key = sepal::private_key<sepal::p256>::generate();
  const auto msg = as_bytes("abc");
  const auto sig = sepal::sign<sepal::sha384>(key, msg, sepal::signature_format::p1363);
  CHECK(sig.size() == sepal::p256::signature_size);
  CHECK(sepal::verify<sepal::sha384>(key.public_key(), msg, sig, sepal::signature_format::p1363));
  CHECK_FALSE(sepal::verify(key.public_key(), msg, sig, sepal::signature_format::p1363));  // default SHA-256
  const auto der = sepal::sign(key, msg);
  CHECK(der.size() <= sepal::p256::max_der_signature_size);
  CHECK(der[0] == 0x30);
}

TEST_CASE("RFC 6979 A.2.5: P-256, SHA-256, message \"sample\"", "[sign][kat]") {
  const auto key = sepal::private_key<sepal::p256>::unsafe_test_key();
  const auto msg = as_bytes("sample");
  const auto expected = hex(
      "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
      "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
  CHECK(sepal::verify(key.public_key(), msg, expected, sepal::signature_format::p1363));
  // Botan's ECDSA nonces are RFC 6979 deterministic: the signature is the RFC's.
  CHECK(to_hex(sepal::sign(key, msg, sepal::signature_format::p1363)) == to_hex(expected));
  // "test" with SHA-256.
  const auto expected_test = hex(
      "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
      "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083");
  CHECK(sepal::verify(key.public_key(), as_bytes("test"), expected_test, sepal::signature_format::p1363));
}

TEST_CASE("RFC 8032 §7.1: Ed25519 TEST 1 and TEST 2", "[sign][kat]") {
  const auto key = sepal::private_key<sepal::ed25519>::unsafe_test_key();
  const auto sig = sepal::sign(key, {});
  CHECK(to_hex(sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
        "655141438e7a100b");
  const auto key2 = sepal::private_key<sepal::ed25519>::from_raw(
      hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  REQUIRE(key2.has_value());
  CHECK(to_hex(key2->public_key().to_raw()) == "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  CHECK(to_hex(sepal::sign(*key2, hex("72"))) ==
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
        "eeb00d291612bb0c00");
}

TEST_CASE("RFC 8032 §7.4: Ed448 blank message", "[sign][kat]") {
  const auto key = sepal::private_key<sepal::ed448>::unsafe_test_key();
  CHECK(to_hex(key.public_key().to_raw()) ==
        "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180");
  CHECK(to_hex(sepal::sign(key, {})) ==
        "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd39"
        "80ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600");
}
