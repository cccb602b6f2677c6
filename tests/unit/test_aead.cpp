#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <array>

#include "test_support.hpp"

using namespace sepal_test;
using sepal::errc;

namespace {

template <class A>
void check_kat(std::string_view key, std::string_view iv, std::string_view ad, std::string_view pt,
               std::string_view ct, std::string_view tag) {
  sepal::aead_key<A> k(hex(key));
  const auto nonce_bytes = hex(iv);
  REQUIRE(nonce_bytes.size() == A::nonce_size);
  const auto nonce = std::span<const std::uint8_t, A::nonce_size>(nonce_bytes.data(), A::nonce_size);
  const auto plain = hex(pt);
  bytes out(plain.size() + A::tag_size);
  const auto sealed = k.seal(nonce, hex(ad), plain, out);
  CHECK(to_hex(sealed) == std::string(ct) + std::string(tag));
  bytes back(plain.size());
  const auto opened = k.open(nonce, hex(ad), sealed, back);
  REQUIRE(opened.has_value());
  CHECK(to_hex(*opened) == pt);
}

}  // namespace

TEST_CASE("GCM specification test cases 2, 4 (AES-128) and 14, 16 (AES-256)", "[aead][kat]") {
  check_kat<sepal::aes128_gcm>("00000000000000000000000000000000", "000000000000000000000000", "",
                               "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
                               "ab6e47d42cec13bdf53a67b21257bddf");
  check_kat<sepal::aes128_gcm>(
      "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba"
      "637b39",
      "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d"
      "58e091",
      "5bc94fbc3221a5db94fae95ae7121a47");
  check_kat<sepal::aes256_gcm>("0000000000000000000000000000000000000000000000000000000000000000",
                               "000000000000000000000000", "", "00000000000000000000000000000000",
                               "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919");
  check_kat<sepal::aes256_gcm>(
      "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
      "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba"
      "637b39",
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0ab"
      "cc9f662",
      "76fc6ece0f4e1768cddf8853bb2d551b");
}

TEST_CASE("RFC 8439 §2.8.2: ChaCha20-Poly1305", "[aead][kat]") {
  const auto pt = to_hex(as_bytes(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be "
      "it."));
  check_kat<sepal::chacha20_poly1305>(
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
      "50515253c0c1c2c3c4c5c6c7", pt,
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b29"
      "05d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b"
      "6116",
      "1ae10b594f09e26a7e902ecbd0600691");
}

TEST_CASE("RFC 8452 Appendix C.1 and C.2: AES-128-GCM-SIV and AES-256-GCM-SIV", "[aead][kat][gcm-siv]") {
  // Key 01 00.., nonce 03 00..: the first two vectors of each appendix.
  check_kat<sepal::aes128_gcm_siv>("01000000000000000000000000000000", "030000000000000000000000", "", "", "",
                                   "dc20e2d83f25705bb49e439eca56de25");
  check_kat<sepal::aes128_gcm_siv>("01000000000000000000000000000000", "030000000000000000000000", "",
                                   "0100000000000000", "b5d839330ac7b786", "578782fff6013b815b287c22493a364c");
  check_kat<sepal::aes256_gcm_siv>("0100000000000000000000000000000000000000000000000000000000000000",
                                   "030000000000000000000000", "", "", "", "07f5f4169bbf55a8400cd47ea6fd400f");
  check_kat<sepal::aes256_gcm_siv>("0100000000000000000000000000000000000000000000000000000000000000",
                                   "030000000000000000000000", "", "0100000000000000", "c2ef328e5c71c83b",
                                   "843122130f7364b761e0b97427e3df28");
}

TEST_CASE("GCM-SIV: a repeated nonce reveals only message equality", "[aead][gcm-siv]") {
  // The point of the mode (RFC 8452 §1): with GCM the same nonce twice gives
  // the XOR of the plaintexts; with GCM-SIV distinct messages under one
  // nonce are unrelated ciphertexts, and equal ones are equal.
  auto key = sepal::aead_key<sepal::aes256_gcm_siv>::generate();
  const std::array<std::uint8_t, 12> nonce{7};
  const auto a = as_bytes("attack at dawn!!"), b = as_bytes("attack at dusk!!");
  bytes ca(a.size() + 16), cb(b.size() + 16), ca2(a.size() + 16);
  const auto sa = copy(key.seal(nonce, {}, a, ca)), sb = copy(key.seal(nonce, {}, b, cb)),
             sa2 = copy(key.seal(nonce, {}, a, ca2));
  CHECK(sa == sa2);
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += (sa[i] ^ sb[i]) == (a[i] ^ b[i]) ? 1 : 0;
  CHECK(same < a.size());  // GCM would give all 16
}

TEMPLATE_LIST_TEST_CASE("open rejects short input, wrong nonce, key and AD without throwing", "[aead]", all_aeads) {
  using A = TestType;
  auto k = sepal::aead_key<A>::generate();
  std::array<std::uint8_t, A::nonce_size> nonce{};
  const auto ad = as_bytes("header");
  const auto pt = as_bytes("payload bytes");
  bytes ct(pt.size() + A::tag_size);
  (void)k.seal(nonce, ad, pt, ct);
  bytes out(ct.size());

  for (std::size_t n = 0; n < A::tag_size; ++n) {
    CHECK(k.open(nonce, ad, std::span(ct).first(n), out).error() == errc::authentication_failed);
  }
  auto other_nonce = nonce;
  other_nonce[0] = 1;
  CHECK(k.open(other_nonce, ad, ct, out).error() == errc::authentication_failed);
  CHECK(k.open(nonce, as_bytes("Header"), ct, out).error() == errc::authentication_failed);
  CHECK(sepal::aead_key<A>::generate().open(nonce, ad, ct, out).error() == errc::authentication_failed);
  bytes tiny(2);
  CHECK(k.open(nonce, ad, ct, tiny).error() == errc::invalid_argument);
  CHECK(k.open(nonce, ad, ct, out).has_value());  // still usable after failures
}

TEMPLATE_LIST_TEST_CASE("seal refuses misuse of the output buffer", "[aead]", all_aeads) {
  using A = TestType;
  auto k = sepal::aead_key<A>::generate();
  std::array<std::uint8_t, A::nonce_size> nonce{};
  bytes buf(64);
  CHECK_THROWS_AS(k.seal(nonce, {}, std::span(buf).first(40), std::span(buf).first(40 + A::tag_size - 1)),
                  sepal::error);
  // Partial overlap: plaintext starts one byte into the output.
  CHECK_THROWS_AS(k.seal(nonce, {}, std::span(buf).subspan(1, 20), buf), sepal::error);
  CHECK_THROWS_AS(sepal::aead_key<A>(bytes(A::key_size - 1)), sepal::error);
}
