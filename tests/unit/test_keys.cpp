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
