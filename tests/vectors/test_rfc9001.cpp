// RFC 9001 Appendix A (sample packet protection) reproduced with sepal's
// building blocks: hkdf::expand_label, packet_keys with the "quic" prefix,
// aead_key, header_protector and the packet-number nonce. A.3 and A.5 are
// written here as data; A.2 (whose 1162-byte payload is mostly padding) is
// read from $SEPAL_VECTORS_DIR/quic-rfc9001 when present.

#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include <sepal/packet.hpp>

#include "test_support.hpp"

using namespace sepal_test;

namespace {

using quic_aes = sepal::cipher_suite<sepal::aes128_gcm, sepal::sha256>;
using quic_chacha = sepal::cipher_suite<sepal::chacha20_poly1305, sepal::sha256>;

/// Protects one QUIC packet as RFC 9001 §5 describes, from sepal's parts.
template <class Suite>
bytes protect(std::span<const std::uint8_t> secret, bytes header, std::size_t pn_offset, std::size_t pn_len,
              std::uint64_t pn, std::span<const std::uint8_t> payload) {
  using A = typename Suite::aead;
  const auto keys = sepal::packet_keys<Suite>::derive(secret, "quic");
  sepal::aead_key<A> aead(keys.key.reveal());
  std::array<std::uint8_t, A::nonce_size> iv{};
  std::copy_n(keys.iv.reveal().begin(), iv.size(), iv.begin());
  const auto nonce = sepal::detail::packet_nonce(iv, pn);
  bytes body(payload.size() + A::tag_size);
  (void)aead.seal(nonce, header, payload, body);
  sepal::header_protector<A> hp(keys.hp.reveal());
  const std::size_t sample_at = pn_offset + 4 - header.size();
  const auto mask = hp.mask(std::span(body).subspan(sample_at).template first<16>());
  header[0] ^= mask[0] & ((header[0] & 0x80) ? 0x0f : 0x1f);
  for (std::size_t i = 0; i < pn_len; ++i) header[pn_offset + i] ^= mask[1 + i];
  header.insert(header.end(), body.begin(), body.end());
  return header;
}

}  // namespace

TEST_CASE("RFC 9001 A.1: Initial keys", "[rfc9001]") {
  const auto initial_salt = hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
  const auto cid = hex("8394c8f03e515708");
  const auto initial = sepal::hkdf<sepal::sha256>::extract(initial_salt, cid);
  CHECK(to_hex(initial.reveal()) == "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44");
  const auto client = sepal::hkdf<sepal::sha256>::expand_label(initial.reveal(), "client in", {}, 32);
  const auto server = sepal::hkdf<sepal::sha256>::expand_label(initial.reveal(), "server in", {}, 32);
  CHECK(to_hex(client.reveal()) == "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
  CHECK(to_hex(server.reveal()) == "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b");
  const auto sk = sepal::packet_keys<quic_aes>::derive(server.reveal(), "quic");
  CHECK(to_hex(sk.key.reveal()) == "cf3a5331653c364c88f0f379b6067e37");
  CHECK(to_hex(sk.iv.reveal()) == "0ac1493ca1905853b0bba03e");
  CHECK(to_hex(sk.hp.reveal()) == "c206b8d9b9f0f37644430b490eeaa314");
}

TEST_CASE("RFC 9001 A.3: server Initial, AES-128-GCM with header protection", "[rfc9001]") {
  const auto secret = hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b");
  const auto payload = hex(
      "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200"
      "130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
      "020304");
  const auto header = hex("c1000000010008f067a5502a4262b50040750001");
  const auto packet = protect<quic_aes>(secret, header, 18, 2, 1, payload);
  CHECK(to_hex(packet) ==
        "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb38cc5a99f5e"
        "de4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4cdd93795d77d"
        "06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee");
}

TEST_CASE("RFC 9001 A.5: ChaCha20-Poly1305 short header packet", "[rfc9001]") {
  const auto secret = hex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
  const auto keys = sepal::packet_keys<quic_chacha>::derive(secret, "quic");
  CHECK(to_hex(keys.key.reveal()) == "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8");
  CHECK(to_hex(keys.iv.reveal()) == "e0459b3474bdd0e44a41c144");
  CHECK(to_hex(keys.hp.reveal()) == "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4");
  CHECK(to_hex(sepal::packet_keys<quic_chacha>::next_secret(secret, "quic").reveal()) ==
        "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9");
  std::array<std::uint8_t, 12> iv{};
  std::copy_n(keys.iv.reveal().begin(), 12, iv.begin());
  CHECK(to_hex(sepal::detail::packet_nonce(iv, 654360564)) == "e0459b3474bdd0e46d417eb0");
  sepal::header_protector<sepal::chacha20_poly1305> hp(keys.hp.reveal());
  const auto sample = hex("5e5cd55c41f69080575d7999c25a5bfb");
  CHECK(to_hex(hp.mask(std::span(sample).first<16>())) == "aefefe7d03");
  const auto packet = protect<quic_chacha>(secret, hex("4200bff4"), 1, 3, 654360564, hex("01"));
  CHECK(to_hex(packet) == "4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
}

TEST_CASE("RFC 9001 A.2: client Initial (from the vectors directory)", "[rfc9001]") {
  const auto dir = vectors_dir();
  if (!dir) SKIP(vectors_hint << " (RFC 9001 A.2)");
  std::ifstream in(*dir / "quic-rfc9001" / "rfc9001-appendix-A-sample-packet-protection.md");
  if (!in) SKIP("quic-rfc9001/rfc9001-appendix-A-sample-packet-protection.md not found");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  // The code blocks after "## Client Initial": CRYPTO frame, header, ..., protected packet.
  const auto start = text.find("## Client Initial");
  const auto end = text.find("## Server Initial");
  REQUIRE(start != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::string section = text.substr(start, end - start);
  std::vector<std::string> blocks;
  const std::regex block("~~~\\n([\\s\\S]*?)~~~");
  for (std::sregex_iterator it(section.begin(), section.end(), block), stop; it != stop; ++it) {
    std::string hexed;
    for (char c : (*it)[1].str())
      if (std::isxdigit(static_cast<unsigned char>(c))) hexed += c;
    blocks.push_back(hexed);
  }
  REQUIRE(blocks.size() >= 4);
  auto payload = hex(blocks[0]);
  payload.resize(1162, 0);  // PADDING frames
  const auto client = hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
  const auto packet = protect<quic_aes>(client, hex(blocks[1]), 18, 4, 2, payload);
  CHECK(to_hex(packet) == blocks.back());
  CHECK(packet.size() == 1200);
}
