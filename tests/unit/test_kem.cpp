// ML-KEM typed keys (kem.hpp) and key shares (key_share.hpp): round trips,
// the FIPS 203 input checks, implicit rejection, misuse, and hostile hybrid
// shares. Known answers are in tests/vectors/test_wycheproof.cpp.

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <botan/hash.h>

#include <sepal/kem.hpp>
#include <sepal/key_share.hpp>

#include <type_traits>

#include "test_support.hpp"

using namespace sepal_test;
using sepal::errc;

namespace {

using kems = std::tuple<sepal::ml_kem_768, sepal::ml_kem_1024>;
using hybrids = std::tuple<sepal::x25519_mlkem768, sepal::secp256r1_mlkem768, sepal::secp384r1_mlkem1024>;
using all_shares = std::tuple<sepal::p256, sepal::x25519, sepal::x448, sepal::x25519_mlkem768,
                              sepal::secp256r1_mlkem768, sepal::secp384r1_mlkem1024>;

// Which tags the concepts take.
static_assert(sepal::kem<sepal::ml_kem_768> && sepal::kem<sepal::ml_kem_1024>);
static_assert(!sepal::kem<sepal::p256> && !sepal::kem<sepal::x25519_mlkem768> && !sepal::kem<int>);
static_assert(sepal::key_share<sepal::p256> && sepal::key_share<sepal::x25519> &&
              sepal::key_share<sepal::x25519_mlkem768> && sepal::key_share<sepal::secp256r1_mlkem768> &&
              sepal::key_share<sepal::secp384r1_mlkem1024>);
static_assert(!sepal::key_share<sepal::ed25519> && !sepal::key_share<sepal::ml_kem_768>);
// Secrets are move-only; public keys copy.
static_assert(!std::is_copy_constructible_v<sepal::decapsulation_key<sepal::ml_kem_768>>);
static_assert(std::is_nothrow_move_constructible_v<sepal::decapsulation_key<sepal::ml_kem_768>>);
static_assert(std::is_copy_constructible_v<sepal::encapsulation_key<sepal::ml_kem_768>>);
static_assert(!std::is_copy_constructible_v<sepal::key_share_client<sepal::x25519_mlkem768>>);
// The draft's sizes follow from the parts.
static_assert(sepal::x25519_mlkem768::client_share_size == 1184 + 32);
static_assert(sepal::x25519_mlkem768::server_share_size == 1088 + 32);
static_assert(sepal::secp256r1_mlkem768::client_share_size == 65 + 1184);
static_assert(sepal::secp256r1_mlkem768::server_share_size == 65 + 1088);
static_assert(sepal::secp384r1_mlkem1024::client_share_size == 97 + 1568);
static_assert(sepal::secp384r1_mlkem1024::server_share_size == 97 + 1568);

}  // namespace

TEMPLATE_LIST_TEST_CASE("ML-KEM: encapsulate and decapsulate agree; sizes are FIPS 203's", "[kem]", kems) {
  using K = TestType;
  const auto dk = sepal::decapsulation_key<K>::generate();
  const auto ek = dk.encapsulation_key();
  CHECK(ek.to_bytes().size() == K::encapsulation_key_size);
  const auto e = ek.encapsulate();
  CHECK(e.ciphertext.size() == K::ciphertext_size);
  CHECK(e.shared_secret.size() == K::shared_secret_size);
  auto k = dk.decapsulate(e.ciphertext);
  REQUIRE(k.has_value());
  CHECK(sepal::constant_time_equal(*k, e.shared_secret));
  // Two encapsulations differ (fresh m each time).
  const auto e2 = ek.encapsulate();
  CHECK(e2.ciphertext != e.ciphertext);
  CHECK_FALSE(sepal::constant_time_equal(e2.shared_secret, e.shared_secret));
}

TEMPLATE_LIST_TEST_CASE("ML-KEM: seed and expanded encodings round-trip to the same key", "[kem]", kems) {
  using K = TestType;
  const auto dk = sepal::decapsulation_key<K>::generate();
  CHECK(dk.has_seed());
  const auto seed = dk.to_seed();
  CHECK(seed.size() == K::seed_size);
  const auto expanded = dk.to_expanded();
  CHECK(expanded.size() == K::decapsulation_key_size);

  auto from_seed = sepal::decapsulation_key<K>::from_seed(seed.reveal());
  REQUIRE(from_seed.has_value());
  CHECK(from_seed->encapsulation_key() == dk.encapsulation_key());
  auto from_expanded = sepal::decapsulation_key<K>::from_expanded(expanded.reveal());
  REQUIRE(from_expanded.has_value());
  CHECK_FALSE(from_expanded->has_seed());
  CHECK(from_expanded->encapsulation_key() == dk.encapsulation_key());
  // The seed cannot be recovered from the expanded form: local misuse throws.
  CHECK_THROWS_AS(from_expanded->to_seed(), sepal::error);

  const auto e = dk.encapsulation_key().encapsulate();
  CHECK(sepal::constant_time_equal(*from_expanded->decapsulate(e.ciphertext), e.shared_secret));
  auto ek = sepal::encapsulation_key<K>::from_bytes(dk.encapsulation_key().to_bytes());
  REQUIRE(ek.has_value());
  CHECK(*ek == dk.encapsulation_key());
}

TEMPLATE_LIST_TEST_CASE("ML-KEM: hostile encodings return errors and never throw", "[kem]", kems) {
  using K = TestType;
  const auto dk = sepal::decapsulation_key<K>::generate();
  const auto ek = dk.encapsulation_key().to_bytes();

  // FIPS 203 §7.2: the exact length ...
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, K::encapsulation_key_size - 1, K::encapsulation_key_size + 1}) {
    bytes b(ek.begin(), ek.end());
    b.resize(n);
    CHECK(sepal::encapsulation_key<K>::from_bytes(b).error() == errc::invalid_encoding);
  }
  // ... and every coefficient below q: c0 = 0xFFF, c0 = q (3329 = 0xD01), the last coefficient = q.
  {
    bytes b = ek;
    b[0] = 0xFF;
    b[1] |= 0x0F;
    CHECK(sepal::encapsulation_key<K>::from_bytes(b).error() == errc::invalid_key);
    b = ek;
    b[0] = 0x01;
    b[1] = static_cast<std::uint8_t>((b[1] & 0xF0) | 0x0D);
    CHECK(sepal::encapsulation_key<K>::from_bytes(b).error() == errc::invalid_key);
    b = ek;
    const std::size_t last = K::encapsulation_key_size - 32 - 3;  // the last 3-byte pair of coefficients
    b[last + 1] = static_cast<std::uint8_t>((b[last + 1] & 0x0F) | 0x10);
    b[last + 2] = 0xD0;  // c1 = 0xD01 = q
    CHECK(sepal::encapsulation_key<K>::from_bytes(b).error() == errc::invalid_key);
    // ρ (the last 32 bytes) is any bytes: still a valid key.
    b = ek;
    b.back() ^= 0xFF;
    CHECK(sepal::encapsulation_key<K>::from_bytes(b).has_value());
  }

  // Seeds and expanded keys of the wrong length; an expanded key whose
  // H(ek) does not match (FIPS 203 §7.3's hash check), or whose embedded ek
  // was changed.
  CHECK(sepal::decapsulation_key<K>::from_seed(bytes(K::seed_size - 1)).error() == errc::invalid_encoding);
  CHECK(sepal::decapsulation_key<K>::from_seed(bytes(K::seed_size + 1)).error() == errc::invalid_encoding);
  const auto expanded = copy(dk.to_expanded().reveal());
  CHECK(sepal::decapsulation_key<K>::from_expanded(std::span(expanded).first(expanded.size() - 1)).error() ==
        errc::invalid_encoding);
  {
    bytes b = expanded;
    b[K::decapsulation_key_size - 64] ^= 0x01;  // H(ek)
    CHECK(sepal::decapsulation_key<K>::from_expanded(b).error() == errc::invalid_key);
    b = expanded;
    b[K::decapsulation_key_size - K::encapsulation_key_size - 64 + 5] ^= 0x01;  // inside ek
    CHECK(sepal::decapsulation_key<K>::from_expanded(b).error() == errc::invalid_key);
    b = expanded;
    b.back() ^= 0x01;  // z: any bytes, still a key (it only changes implicit rejection)
    CHECK(sepal::decapsulation_key<K>::from_expanded(b).has_value());
  }

  // Ciphertexts of the wrong length are errors (§7.3's type check).
  for (std::size_t n : {std::size_t{0}, K::ciphertext_size - 1, K::ciphertext_size + 1}) {
    CHECK(dk.decapsulate(bytes(n)).error() == errc::invalid_encoding);
  }
}

TEMPLATE_LIST_TEST_CASE("ML-KEM: a tampered or foreign ciphertext is rejected implicitly, not with an error", "[kem]",
                        kems) {
  using K = TestType;
  const auto dk = sepal::decapsulation_key<K>::generate();
  const auto e = dk.encapsulation_key().encapsulate();
  for (std::size_t i : {std::size_t{0}, K::ciphertext_size / 2, K::ciphertext_size - 1}) {
    bytes bad = e.ciphertext;
    bad[i] ^= 0x01;
    auto k1 = dk.decapsulate(bad);
    auto k2 = dk.decapsulate(bad);
    REQUIRE(k1.has_value());
    CHECK_FALSE(sepal::constant_time_equal(*k1, e.shared_secret));
    CHECK(sepal::constant_time_equal(*k1, *k2));  // J(z || c): deterministic per key and ciphertext
  }
  // A ciphertext for another key decapsulates to something unrelated.
  const auto other = sepal::decapsulation_key<K>::generate();
  auto k = other.decapsulate(e.ciphertext);
  REQUIRE(k.has_value());
  CHECK_FALSE(sepal::constant_time_equal(*k, e.shared_secret));
}

TEST_CASE("ML-KEM: moved-from keys and a failing RNG fail safely", "[kem][hardening]") {
  using K = sepal::ml_kem_768;
  auto dk = sepal::decapsulation_key<K>::generate();
  auto ek = dk.encapsulation_key();
  const auto e = ek.encapsulate();
  auto moved = std::move(dk);
  CHECK(dk.decapsulate(e.ciphertext).error() == errc::moved_from);  // NOLINT(bugprone-use-after-move)
  CHECK_THROWS_AS(dk.encapsulation_key(), sepal::error);
  CHECK(moved.decapsulate(e.ciphertext).has_value());
  auto ek2 = std::move(ek);
  try {
    (void)ek.encapsulate();  // NOLINT(bugprone-use-after-move)
    FAIL("no throw");
  } catch (const sepal::error& err) {
    CHECK(err.code() == errc::moved_from);
  }
  fixed_output_rng empty({});
  try {
    (void)ek2.encapsulate(empty);
    FAIL("no throw");
  } catch (const sepal::error& err) {
    CHECK(err.code() == errc::rng_failure);
  }
  CHECK(sepal::respond_to_key_share<sepal::x25519_mlkem768>(
            sepal::key_share_client<sepal::x25519_mlkem768>::generate().share(), empty)
            .error() == errc::rng_failure);
}

TEMPLATE_LIST_TEST_CASE("key shares: client and server agree; sizes as draft-ietf-tls-ecdhe-mlkem fixes them",
                        "[kem][key_share]", all_shares) {
  using K = TestType;
  const auto client = sepal::key_share_client<K>::generate();
  auto server = sepal::respond_to_key_share<K>(client.share());
  REQUIRE(server.has_value());
  auto secret = client.finish(server->share);
  REQUIRE(secret.has_value());
  CHECK(sepal::constant_time_equal(*secret, server->shared_secret));
  if constexpr (sepal::hybrid_key_share<K>) {
    CHECK(client.share().size() == K::client_share_size);
    CHECK(server->share.size() == K::server_share_size);
    CHECK(secret->size() == K::shared_secret_size);
  }
}

TEST_CASE("key shares: the hybrid secret is the two secrets concatenated in the draft's order", "[kem][key_share]") {
  // X25519MLKEM768: ML-KEM first in the shares and the secret.
  {
    using H = sepal::x25519_mlkem768;
    // A client share built by hand from known parts: ek || X25519 public value.
    const auto dk = sepal::decapsulation_key<sepal::ml_kem_768>::generate();
    const auto ec = sepal::private_key<sepal::x25519>::generate();
    bytes share = dk.encapsulation_key().to_bytes();
    const auto pub = ec.public_key().to_raw();
    share.insert(share.end(), pub.begin(), pub.end());
    auto r = sepal::respond_to_key_share<H>(share);
    REQUIRE(r.has_value());
    const std::span<const std::uint8_t> s(r->share);
    auto kem_secret = dk.decapsulate(s.first(1088));
    auto ec_secret = sepal::agree(ec, s.subspan(1088));
    REQUIRE(kem_secret.has_value());
    REQUIRE(ec_secret.has_value());
    bytes expected = copy(kem_secret->reveal());
    const auto e = ec_secret->reveal();
    expected.insert(expected.end(), e.begin(), e.end());
    CHECK(to_hex(r->shared_secret.reveal()) == to_hex(expected));
  }
  // SecP256r1MLKEM768: the EC part first.
  {
    using H = sepal::secp256r1_mlkem768;
    const auto dk = sepal::decapsulation_key<sepal::ml_kem_768>::generate();
    const auto ec = sepal::private_key<sepal::p256>::generate();
    bytes share = ec.public_key().to_raw();
    REQUIRE(share.size() == 65);
    CHECK(share[0] == 0x04);  // SEC1 uncompressed
    const auto ek = dk.encapsulation_key().to_bytes();
    share.insert(share.end(), ek.begin(), ek.end());
    auto r = sepal::respond_to_key_share<H>(share);
    REQUIRE(r.has_value());
    const std::span<const std::uint8_t> s(r->share);
    auto ec_secret = sepal::agree(ec, s.first(65));
    auto kem_secret = dk.decapsulate(s.subspan(65));
    REQUIRE(kem_secret.has_value());
    REQUIRE(ec_secret.has_value());
    bytes expected = copy(ec_secret->reveal());
    const auto k = kem_secret->reveal();
    expected.insert(expected.end(), k.begin(), k.end());
    CHECK(to_hex(r->shared_secret.reveal()) == to_hex(expected));
  }
}

TEMPLATE_LIST_TEST_CASE("key shares: hostile hybrid shares return errors, never throw", "[kem][key_share][attack]",
                        hybrids) {
  using H = TestType;
  using K = typename H::kem;
  const auto client = sepal::key_share_client<H>::generate();
  const bytes good(client.share().begin(), client.share().end());
  const std::size_t ec_at = H::kem_first ? K::encapsulation_key_size : 0;
  const std::size_t kem_at = H::kem_first ? 0 : H::ec_share_size;

  // Wrong lengths: truncated by one byte, one byte too many, empty, the
  // plain ML-KEM key alone.
  for (std::size_t n : {std::size_t{0}, good.size() - 1, good.size() + 1, K::encapsulation_key_size}) {
    bytes b = good;
    b.resize(n);
    CHECK(sepal::respond_to_key_share<H>(b).error() == errc::invalid_encoding);
  }
  // An invalid EC share: all zero bytes (not a point on P-256/P-384; for
  // X25519 the all-zero output of a small-order point).
  {
    bytes b = good;
    std::fill_n(b.begin() + static_cast<std::ptrdiff_t>(ec_at), H::ec_share_size, 0);
    const auto want = std::is_same_v<typename H::ec, sepal::x25519> ? errc::invalid_shared_secret : errc::invalid_key;
    CHECK(sepal::respond_to_key_share<H>(b).error() == want);
  }
  if constexpr (!std::is_same_v<typename H::ec, sepal::x25519>) {
    bytes b = good;
    b[ec_at] = 0x02;  // a compressed-point prefix on a 65/97-byte share: not a SEC1 encoding
    CHECK(sepal::respond_to_key_share<H>(b).error() == errc::invalid_key);
    b = good;
    b[ec_at + H::ec_share_size - 1] ^= 0x01;  // y changed: off the curve
    CHECK(sepal::respond_to_key_share<H>(b).error() == errc::invalid_key);
  }
  // An ML-KEM key with an unreduced coefficient (FIPS 203 §7.2).
  {
    bytes b = good;
    b[kem_at] = 0xFF;
    b[kem_at + 1] |= 0x0F;
    CHECK(sepal::respond_to_key_share<H>(b).error() == errc::invalid_key);
  }

  // The client's side: the server's share.
  auto r = sepal::respond_to_key_share<H>(good);
  REQUIRE(r.has_value());
  const bytes reply = r->share;
  const std::size_t sec_at = H::kem_first ? K::ciphertext_size : 0;
  for (std::size_t n : {std::size_t{0}, reply.size() - 1, reply.size() + 1}) {
    bytes b = reply;
    b.resize(n);
    CHECK(client.finish(b).error() == errc::invalid_encoding);
  }
  {
    bytes b = reply;
    std::fill_n(b.begin() + static_cast<std::ptrdiff_t>(sec_at), H::ec_share_size, 0);
    const auto want = std::is_same_v<typename H::ec, sepal::x25519> ? errc::invalid_shared_secret : errc::invalid_key;
    CHECK(client.finish(b).error() == want);
  }
  {
    // A tampered ciphertext: implicit rejection gives another secret, so the
    // handshake's key confirmation fails later.
    bytes b = reply;
    b[H::kem_first ? 0 : H::ec_share_size] ^= 0x80;
    auto other = client.finish(b);
    REQUIRE(other.has_value());
    CHECK_FALSE(sepal::constant_time_equal(*other, r->shared_secret));
  }
  auto ok = client.finish(reply);  // and the genuine share still works
  REQUIRE(ok.has_value());
  CHECK(sepal::constant_time_equal(*ok, r->shared_secret));
}

namespace {

std::string sha256_hex(std::span<const std::uint8_t> b) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(b);
  return to_hex(h->final_stdvec());
}

bytes cat(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST_CASE("protocol.md appendix: the hybrid key share vectors", "[kem][key_share][kat]") {
  bytes seed(64), m(32);
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(0x40 + i);
  const bytes client_priv(32, 0x11), server_priv(32, 0x22);
  const std::string K = "9cddd089ffe70e3996e76f7c8d06746df34d07e8657bc0fcf2bb0e1c3084aea1";

  const auto dk = sepal::decapsulation_key<sepal::ml_kem_768>::from_seed(seed).value();
  const auto ek = dk.encapsulation_key().to_bytes();
  CHECK(sha256_hex(ek) == "0b7934c83125c788995e2ba6bd761e33046b3e40571be53e023309a29f398cc9");
  fixed_output_rng m_rng(m);
  const auto e = dk.encapsulation_key().encapsulate(m_rng);
  CHECK(sha256_hex(e.ciphertext) == "dbf4e9aa48b078ad46ec1c9c47bda8c2d2fec9d0e7a21bd48d2238a2abedb856");
  CHECK(to_hex(e.shared_secret.reveal()) == K);
  CHECK(to_hex(dk.decapsulate(e.ciphertext)->reveal()) == K);

  SECTION("X25519MLKEM768") {
    const auto c = sepal::private_key<sepal::x25519>::from_raw(client_priv).value();
    const auto s = sepal::private_key<sepal::x25519>::from_raw(server_priv).value();
    const auto cp = c.public_key().to_raw(), sp = s.public_key().to_raw();
    CHECK(to_hex(cp) == "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13");
    CHECK(to_hex(sp) == "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20");
    const auto ec = sepal::agree(c, sp).value();
    CHECK(to_hex(ec.reveal()) == "9e004098efc091d4ec2663b4e9f5cfd4d7064571690b4bea97ab146ab9f35056");
    const auto client_share = cat(ek, cp);
    const auto server_share = cat(e.ciphertext, sp);
    CHECK(sha256_hex(client_share) == "0b2ac0363dc991a425661aa219e3a4176866eb9896bdf467040425b4d9b3b90a");
    CHECK(sha256_hex(server_share) == "b1dc782e52312372e71bcc2e2ff7386c6ee815e05f6226d16a800b66ceec62cb");
    const std::string ecdhe = K + "9e004098efc091d4ec2663b4e9f5cfd4d7064571690b4bea97ab146ab9f35056";
    // sepal's server step, with the server's X25519 key and m as its only
    // randomness (X25519 key generation takes exactly 32 bytes, then m).
    fixed_output_rng rng(cat(server_priv, m));
    auto r = sepal::respond_to_key_share<sepal::x25519_mlkem768>(client_share, rng);
    REQUIRE(r.has_value());
    CHECK(rng.remaining() == 0);
    CHECK(r->share == server_share);
    CHECK(to_hex(r->shared_secret.reveal()) == ecdhe);
  }
  SECTION("SecP256r1MLKEM768") {
    const auto c = sepal::private_key<sepal::p256>::from_raw(client_priv).value();
    const auto s = sepal::private_key<sepal::p256>::from_raw(server_priv).value();
    const auto cp = c.public_key().to_raw(), sp = s.public_key().to_raw();
    CHECK(to_hex(cp) ==
          "040217e617f0b6443928278f96999e69a23a4f2c152bdf6d6cdf66e5b80282d4ed194a7debcb97712d2dda3ca85aa8765a56f45fc"
          "758599652f2897c65306e5794");
    CHECK(to_hex(sp) ==
          "04d65a93977caa3d1b081852ff57a79e465f1660577304baead505dd3a48589cf350185e895372df6221ea3a137557e473fddb675"
          "5f05bd507c3c533fce9c91285");
    const auto ec = sepal::agree(c, sp).value();
    CHECK(to_hex(ec.reveal()) == "ccfc261f58193c98ca4ad4a53bbac6f0ee29bc4d48438090446908622ca79af6");
    CHECK(sha256_hex(cat(cp, ek)) == "cae95aeaa7123b8c903b2e6574790b48e50e0f406fa4175549adab9725254fe3");
    CHECK(sha256_hex(cat(sp, e.ciphertext)) == "2c61636724f88b2754acbc8bb839fe39db7d357ac15456dc986dfb0021d3e355");
    // The server step through sepal (its P-256 key is random here): the
    // client's share of the vector is accepted and the secret is the ECDH
    // x-coordinate followed by the ML-KEM secret.
    auto r = sepal::respond_to_key_share<sepal::secp256r1_mlkem768>(cat(cp, ek));
    REQUIRE(r.has_value());
    const std::span<const std::uint8_t> share(r->share), secret(r->shared_secret.reveal());
    CHECK(to_hex(secret.first(32)) == to_hex(sepal::agree(c, share.first(65))->reveal()));
    CHECK(to_hex(secret.subspan(32)) == to_hex(dk.decapsulate(share.subspan(65))->reveal()));
  }
}
