#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>

#include <botan/hash.h>

#include <fstream>

#include "test_support.hpp"

using namespace sepal_test;
using sepal::errc;

TEMPLATE_LIST_TEST_CASE("keys round-trip through DER, PEM and raw", "[keys]", all_curves) {
  using C = TestType;
  const auto key = sepal::private_key<C>::generate();
  const auto pub = key.public_key();

  SECTION("private DER") {
    auto back = sepal::private_key<C>::from_der(key.to_der().reveal());
    REQUIRE(back.has_value());
    CHECK(sepal::constant_time_equal(back->to_raw(), key.to_raw()));
  }
  SECTION("private PEM") {
    const auto pem = key.to_pem();
    CHECK(pem.reveal_text().starts_with("-----BEGIN PRIVATE KEY-----"));
    auto back = sepal::private_key<C>::from_pem(pem.reveal_text());
    REQUIRE(back.has_value());
    CHECK(back->public_key() == pub);
  }
  SECTION("private raw") {
    const auto raw = key.to_raw();
    CHECK(raw.size() == C::private_key_size);
    auto back = sepal::private_key<C>::from_raw(raw.reveal());
    REQUIRE(back.has_value());
    CHECK(back->public_key() == pub);
  }
  SECTION("public DER, PEM, raw") {
    CHECK(*sepal::public_key<C>::from_der(pub.to_der()) == pub);
    CHECK(*sepal::public_key<C>::from_pem(pub.to_pem()) == pub);
    const auto raw = pub.to_raw();
    CHECK(raw.size() == C::public_key_size);
    CHECK(*sepal::public_key<C>::from_raw(raw) == pub);
  }
  SECTION("fingerprint is SHA-256 of the SubjectPublicKeyInfo") {
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    const auto expected = h->process(pub.to_der());
    CHECK(to_hex(pub.fingerprint()) == to_hex(expected));
  }
}

TEMPLATE_LIST_TEST_CASE("NIST public keys round-trip compressed", "[keys]", nist_curves) {
  using C = TestType;
  const auto pub = sepal::private_key<C>::generate().public_key();
  const auto compressed = pub.to_raw(sepal::point_format::compressed);
  CHECK(compressed.size() == C::compressed_public_key_size);
  CHECK(*sepal::public_key<C>::from_raw(compressed) == pub);
}

TEMPLATE_LIST_TEST_CASE("encrypted PKCS#8 needs the right password", "[keys]", encrypted_pem_curves) {
  using C = TestType;
  const auto key = sepal::private_key<C>::generate();
  const auto pem = key.to_pem("correct horse");
  CHECK(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  auto back = sepal::private_key<C>::from_pem(pem, "correct horse");
  REQUIRE(back.has_value());
  CHECK(back->public_key() == key.public_key());
  CHECK(sepal::private_key<C>::from_pem(pem, "wrong").error() == errc::invalid_encoding);
  CHECK_FALSE(sepal::private_key<C>::from_pem(pem).has_value());  // not an unencrypted block
}

TEST_CASE("save_pem writes private keys with mode 0600 and they load back", "[keys]") {
  temp_dir dir;
  const auto key = sepal::private_key<sepal::p256>::generate();
  const auto priv_path = dir.path() / "root.key.pem";
  const auto pub_path = dir.path() / "root.pub.pem";
  ::umask(0);  // even with a permissive umask
  key.save_pem(priv_path);
  key.public_key().save_pem(pub_path);
  struct ::stat st {};
  REQUIRE(::stat(priv_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(pub_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  ::umask(022);

  auto loaded = sepal::private_key<sepal::p256>::load_pem(priv_path);
  REQUIRE(loaded.has_value());
  CHECK(loaded->public_key() == key.public_key());
  CHECK(*sepal::public_key<sepal::p256>::load_pem(pub_path) == key.public_key());

  key.save_pem(priv_path, "pw");  // overwrite, encrypted
  CHECK(sepal::private_key<sepal::p256>::load_pem(priv_path, "pw").has_value());
  CHECK(sepal::private_key<sepal::p256>::load_pem(dir.path() / "missing.pem").error() == errc::io_error);
  CHECK_THROWS_AS(key.save_pem(dir.path() / "no" / "such" / "dir.pem"), sepal::error);
}

TEST_CASE("parsing a key of another curve or algorithm is rejected", "[keys]") {
  const auto p256 = sepal::private_key<sepal::p256>::generate();
  const auto ed = sepal::private_key<sepal::ed25519>::generate();
  const auto x = sepal::private_key<sepal::x25519>::generate();

  CHECK(sepal::public_key<sepal::p384>::from_der(p256.public_key().to_der()).error() == errc::wrong_algorithm);
  CHECK(sepal::public_key<sepal::x25519>::from_der(ed.public_key().to_der()).error() == errc::wrong_algorithm);
  CHECK(sepal::public_key<sepal::ed25519>::from_der(x.public_key().to_der()).error() == errc::wrong_algorithm);
  CHECK(sepal::public_key<sepal::p256>::from_der(ed.public_key().to_der()).error() == errc::wrong_algorithm);
  CHECK(sepal::private_key<sepal::p384>::from_der(p256.to_der().reveal()).error() == errc::wrong_algorithm);
  CHECK(sepal::private_key<sepal::x25519>::from_der(ed.to_der().reveal()).error() == errc::wrong_algorithm);
  CHECK(sepal::private_key<sepal::ed25519>::from_der(p256.to_der().reveal()).error() == errc::wrong_algorithm);
  // A private key is not a public key and vice versa.
  CHECK_FALSE(sepal::public_key<sepal::p256>::from_der(p256.to_der().reveal()).has_value());
  CHECK_FALSE(sepal::private_key<sepal::p256>::from_der(p256.public_key().to_der()).has_value());
  CHECK_FALSE(sepal::public_key<sepal::p256>::from_pem(p256.to_pem().reveal_text()).has_value());
}

TEST_CASE("garbage, truncated, off-curve and identity keys are rejected without throwing", "[keys]") {
  using P = sepal::public_key<sepal::p256>;
  const auto good = sepal::private_key<sepal::p256>::generate().public_key();
  const auto der = good.to_der();
  for (std::size_t n = 0; n < der.size(); ++n) {
    CHECK_FALSE(P::from_der(std::span(der).first(n)).has_value());
  }
  CHECK(P::from_der(as_bytes("not a key")).error() == errc::invalid_encoding);
  CHECK(P::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").error() == errc::invalid_encoding);
  CHECK(P::from_raw(hex("00")).error() == errc::invalid_key);  // the identity
  auto raw = good.to_raw();
  raw.back() ^= 1;  // (x, y+1) is not on the curve
  CHECK(P::from_raw(raw).error() == errc::invalid_key);
  auto bad_der = der;
  bad_der.back() ^= 1;  // the same, inside a SubjectPublicKeyInfo
  CHECK_FALSE(P::from_der(bad_der).has_value());
  CHECK(P::from_raw(std::span(raw).first(64)).error() == errc::invalid_key);

  using K = sepal::private_key<sepal::p256>;
  CHECK(K::from_raw(bytes(32, 0)).error() == errc::invalid_key);     // zero scalar
  CHECK(K::from_raw(bytes(32, 0xFF)).error() == errc::invalid_key);  // >= group order
  CHECK(K::from_raw(bytes(31, 1)).error() == errc::invalid_key);
  CHECK(sepal::private_key<sepal::x25519>::from_raw(bytes(31, 1)).error() == errc::invalid_key);
  CHECK(sepal::public_key<sepal::ed25519>::from_raw(bytes(33, 1)).error() == errc::invalid_key);
}

TEST_CASE("unsafe_test_key is the published RFC key", "[keys]") {
  // RFC 7748 §6.1: Alice's public key.
  CHECK(to_hex(sepal::private_key<sepal::x25519>::unsafe_test_key().public_key().to_raw()) ==
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  // RFC 8032 §7.1 TEST 1: PUBLIC KEY.
  CHECK(to_hex(sepal::private_key<sepal::ed25519>::unsafe_test_key().public_key().to_raw()) ==
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  // RFC 6979 §A.2.5: Ux, Uy.
  CHECK(to_hex(sepal::private_key<sepal::p256>::unsafe_test_key().public_key().to_raw()) ==
        "04"
        "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
        "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
  // RFC 7748 §6.2: Alice's public key.
  CHECK(to_hex(sepal::private_key<sepal::x448>::unsafe_test_key().public_key().to_raw()) ==
        "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0");
}

TEST_CASE("a DER key whose bytes contain a PEM header still parses as DER", "[keys][regression]") {
  // Found by fuzzing: Botan's X509::load_key sniffs for "-----BEGIN" anywhere
  // in its input and then parses it as PEM. Any 32 bytes are an X25519 key.
  auto raw = as_bytes("xx-----BEGIN X#yyyyyyyyyyyyyyyyy");
  REQUIRE(raw.size() == 32);
  const auto key = sepal::public_key<sepal::x25519>::from_raw(raw);
  REQUIRE(key.has_value());
  const auto back = sepal::public_key<sepal::x25519>::from_der(key->to_der());
  REQUIRE(back.has_value());
  CHECK(*back == *key);
}

TEMPLATE_LIST_TEST_CASE("hardening #10: raw and DER parsing apply the same key checks", "[keys][hardening]",
                        all_curves) {
  using C = TestType;
  const auto key = sepal::private_key<C>::generate().public_key();
  CHECK(sepal::public_key<C>::from_raw(key.to_raw()).has_value());
  CHECK(sepal::public_key<C>::from_der(key.to_der()).has_value());
}

TEST_CASE("hardening #10: Ed25519/Ed448 raw keys of small order are rejected", "[keys][hardening]") {
  // The identity point (y = 1): (R = identity, S = 0) would verify any message.
  auto identity25519 = bytes(32, 0);
  identity25519[0] = 1;
  CHECK(sepal::public_key<sepal::ed25519>::from_raw(identity25519).error() == errc::invalid_key);
  auto identity448 = bytes(57, 0);
  identity448[0] = 1;
  CHECK(sepal::public_key<sepal::ed448>::from_raw(identity448).error() == errc::invalid_key);
  // Ed448's other small-order points, (0, -1) of order 2 and (±1, 0) of order
  // 4: Botan 3.13's check_key accepts them, sepal's own check does not.
  for (const char* h : {"fefffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffffffffffffffffffffffff00",
                        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080",
                        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}) {
    CHECK(sepal::public_key<sepal::ed448>::from_raw(hex(h)).error() == errc::invalid_key);
  }
}

TEMPLATE_LIST_TEST_CASE("hardening #8: a public key has exactly one DER encoding", "[keys][hardening]", all_curves) {
  using C = TestType;
  using P = sepal::public_key<C>;
  const auto der = sepal::private_key<C>::generate().public_key().to_der();
  REQUIRE(P::from_der(der).has_value());
  // Trailing bytes after the SEQUENCE.
  auto trailing = der;
  trailing.push_back(0);
  CHECK(P::from_der(trailing).error() == errc::invalid_encoding);
  // The outer length one octet longer than needed (0x81 nn for a short
  // length, 0x82 00 nn for a one-octet long form): BER, not DER.
  const std::size_t header = der[1] < 0x80 ? 2 : 3;
  bytes long_form{0x30, static_cast<std::uint8_t>(header == 2 ? 0x81 : 0x82)};
  if (header == 3) long_form.push_back(0x00);
  long_form.push_back(der[header - 1]);
  long_form.insert(long_form.end(), der.begin() + static_cast<std::ptrdiff_t>(header), der.end());
  CHECK(P::from_der(long_form).error() == errc::invalid_encoding);
  // Indefinite length (0x80 ... 00 00).
  bytes indefinite{0x30, 0x80};
  indefinite.insert(indefinite.end(), der.begin() + static_cast<std::ptrdiff_t>(header), der.end());
  indefinite.insert(indefinite.end(), {0, 0});
  CHECK_FALSE(P::from_der(indefinite).has_value());
  // Non-zero unused bits in the BIT STRING's last octet.
  auto unused = der;
  const auto bit_string = der.size() - P::from_der(der)->to_raw().size() - 1;  // the unused-bits octet
  REQUIRE(unused[bit_string] == 0);
  unused[bit_string] = 1;
  CHECK_FALSE(P::from_der(unused).has_value());
}

TEST_CASE("hardening #8: a compressed-point SubjectPublicKeyInfo is not a second encoding", "[keys][hardening]") {
  using P = sepal::public_key<sepal::p256>;
  const auto key = sepal::private_key<sepal::p256>::generate().public_key();
  // SPKI with the 33-byte compressed point: the same prefix, a shorter BIT STRING.
  const auto der = key.to_der();
  const auto compressed = key.to_raw(sepal::point_format::compressed);
  bytes spki{0x30, static_cast<std::uint8_t>(der[1] - 32)};
  const std::size_t prefix = der.size() - 65 - 3;  // up to the BIT STRING header
  spki.insert(spki.end(), der.begin() + 2, der.begin() + static_cast<std::ptrdiff_t>(prefix));
  spki.insert(spki.end(), {0x03, static_cast<std::uint8_t>(compressed.size() + 1), 0x00});
  spki.insert(spki.end(), compressed.begin(), compressed.end());
  CHECK(P::from_der(spki).error() == errc::invalid_encoding);
  CHECK(P::from_raw(compressed).has_value());  // raw compressed points stay accepted (SEC1)
}

TEST_CASE("hardening #13: moved-from keys report an error instead of crashing", "[keys][hardening]") {
  auto key = sepal::private_key<sepal::p256>::generate();
  auto moved = std::move(key);
  try {
    (void)key.public_key();  // NOLINT(bugprone-use-after-move): the point of the test
    FAIL("public_key() on a moved-from key must throw");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::moved_from);
  }
  CHECK_THROWS_AS(key.to_der(), sepal::error);                      // NOLINT(bugprone-use-after-move)
  CHECK_THROWS_AS(sepal::sign(key, as_bytes("m")), sepal::error);   // NOLINT(bugprone-use-after-move)
  CHECK_THROWS_AS(sepal::agree(key, moved.public_key()).value(), sepal::error);  // NOLINT(bugprone-use-after-move)
  auto pub = moved.public_key();
  auto pub2 = std::move(pub);
  CHECK_THROWS_AS(pub.to_raw(), sepal::error);                      // NOLINT(bugprone-use-after-move)
  CHECK_FALSE(sepal::verify(pub, as_bytes("m"), sepal::sign(moved, as_bytes("m"))));  // NOLINT(bugprone-use-after-move)
  CHECK(sepal::verify(pub2, as_bytes("m"), sepal::sign(moved, as_bytes("m"))));
}
