#include <catch2/catch_test_macros.hpp>

#include "test_support.hpp"

using namespace sepal_test;
using H256 = sepal::hkdf<sepal::sha256>;

TEST_CASE("RFC 5869 A.1 and A.3: HKDF-SHA256", "[kdf][kat]") {
  const auto ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const auto prk = H256::extract(hex("000102030405060708090a0b0c"), ikm);
  CHECK(to_hex(prk.reveal()) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  const auto okm = H256::expand(prk.reveal(), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  CHECK(to_hex(okm.reveal()) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // A.3: empty salt and info.
  CHECK(to_hex(H256::derive(ikm, {}, {}, 42).reveal()) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  CHECK(to_hex(H256::extract({}, ikm).reveal()) == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
}

TEST_CASE("HKDF output limits are enforced", "[kdf]") {
  const auto prk = H256::extract({}, as_bytes("ikm"));
  CHECK(H256::expand(prk.reveal(), {}, 255 * 32).size() == 255 * 32);
  CHECK_THROWS_AS(H256::expand(prk.reveal(), {}, 255 * 32 + 1), sepal::error);
  CHECK_THROWS_AS(H256::expand_label(prk.reveal(), std::string(250, 'x'), {}, 16), sepal::error);
  CHECK_THROWS_AS(H256::expand_label(prk.reveal(), "key", bytes(256), 16), sepal::error);
}

TEST_CASE("RFC 8448 §3: TLS 1.3 HKDF-Expand-Label", "[kdf][kat]") {
  // Derive-Secret(early_secret, "derived", "") with the empty transcript hash.
  const auto early = hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
  const auto empty_hash = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(H256::expand_label(early, "derived", empty_hash, 32).reveal()) ==
        "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
  // Server handshake traffic key and IV.
  const auto server_hs = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
  CHECK(to_hex(H256::expand_label(server_hs, "key", {}, 16).reveal()) == "3fce516009c21727d0f2e4e86ee403bc");
  CHECK(to_hex(H256::expand_label(server_hs, "iv", {}, 12).reveal()) == "5d313eb2671276ee13000b30");
}

TEST_CASE("RFC 9001 A.1: QUIC client Initial keys via expand_label", "[kdf][kat]") {
  const auto client_in = hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
  CHECK(to_hex(H256::expand_label(client_in, "quic key", {}, 16).reveal()) == "1f369613dd76d5467730efcbe3b1a22d");
  CHECK(to_hex(H256::expand_label(client_in, "quic iv", {}, 12).reveal()) == "fa044b2f42a3fd3b46fb255c");
  CHECK(to_hex(H256::expand_label(client_in, "quic hp", {}, 16).reveal()) == "9f50449e04a0e810283a1e9933adedd2");
}

TEST_CASE("RFC 4231: HMAC-SHA-2 test cases 1 and 2", "[kdf][kat]") {
  const auto key1 = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const auto msg1 = as_bytes("Hi There");
  CHECK(to_hex(sepal::hmac<sepal::sha256>(key1).mac(msg1)) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(to_hex(sepal::hmac<sepal::sha384>(key1).mac(msg1)) ==
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6");
  CHECK(to_hex(sepal::hmac<sepal::sha512>(key1).mac(msg1)) ==
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f170"
        "2e696c203a126854");
  sepal::hmac<sepal::sha256> h(as_bytes("Jefe"));
  const auto msg2 = as_bytes("what do ya want for nothing?");
  const auto tag2 = hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(to_hex(h.mac(msg2)) == to_hex(tag2));
  CHECK(h.verify(msg2, tag2));
  // Incremental use gives the same tag.
  h.update(std::span(msg2).first(4)).update(std::span(msg2).subspan(4));
  CHECK(to_hex(h.final()) == to_hex(tag2));
}

TEST_CASE("HMAC verify rejects flipped, truncated and extended tags", "[kdf]") {
  sepal::hmac<sepal::sha256> h(as_bytes("key"));
  const auto msg = as_bytes("message");
  const auto tag = h.mac(msg);
  for (std::size_t bit = 0; bit < tag.size() * 8; ++bit) {
    auto bad = tag;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK_FALSE(h.verify(msg, bad));
  }
  CHECK_FALSE(h.verify(msg, std::span(tag).first(16)));
  CHECK_FALSE(h.verify(msg, {}));
  CHECK(h.verify(msg, tag));
}
