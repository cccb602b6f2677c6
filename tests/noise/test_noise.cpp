// Noise engine: typestate handshakes and transports, compile-time names and
// pattern checks, tamper rejection without state change, the datagram
// transport's window, nonce exhaustion, rekey, limits, zero allocations.

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sepal/noise.hpp>

#include "counting_new.hpp"
#include "test_support.hpp"

using namespace sepal_test;
namespace noise = sepal::noise;
namespace pat = sepal::noise::patterns;
using sepal::errc;
using sepal::private_key;
using sepal::public_key;

namespace {

template <class P>
using p25519 = noise::protocol<P, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;

const bytes prologue = as_bytes("sepal noise tests");

noise::pre_shared_key make_psk(std::uint8_t fill) { return noise::pre_shared_key::copy_of(bytes(32, fill)); }

}  // namespace

// ---------------------------------------------------------------------------
// Names and patterns at compile time

static_assert(p25519<pat::XX>::name == "Noise_XX_25519_ChaChaPoly_SHA256");
static_assert(noise::protocol<noise::psk<pat::XX, 3>, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>::name ==
              "Noise_XXpsk3_25519_ChaChaPoly_SHA256");
static_assert(noise::protocol<noise::psk<pat::NN, 0, 2>, sepal::x448, sepal::aes256_gcm, sepal::blake2b>::name ==
              "Noise_NNpsk0+psk2_448_AESGCM_BLAKE2b");
static_assert(noise::protocol<pat::IK, sepal::p256, sepal::aes256_gcm, sepal::blake2s>::name ==
              "Noise_IK_P256_AESGCM_BLAKE2s");
static_assert(noise::psk<pat::IK, 2>::def.messages[1].size == 4);  // e, ee, se, psk
static_assert(noise::psk<pat::NN, 0>::def.messages[0].tokens[0] == noise::token::psk);
static_assert(pat::IK::def.needs_remote_static(noise::role::initiator));
static_assert(!pat::IK::def.needs_remote_static(noise::role::responder));
static_assert(pat::IK::def.needs_local_static(noise::role::responder));
static_assert(!pat::NN::def.needs_local_static(noise::role::initiator));
static_assert(pat::KN::def.needs_remote_static(noise::role::responder));
static_assert(pat::X1X1::def.count == 4);
static_assert(pat::N::def.one_way() && !pat::NN::def.one_way());
static_assert(noise::handshake_pattern<pat::I1X1> && noise::handshake_pattern<noise::psk<pat::XX, 0, 1, 2, 3>>);

namespace {
using noise::detail::make_pattern;
using noise::detail::validate;
using pe = noise::pattern_error;
}  // namespace

// §7.3 and §9.3, one broken pattern per rule.
static_assert(validate(make_pattern("t", "", "", {"e, es"})) == pe::key_not_possessed);       // rule 1: no rs
static_assert(validate(make_pattern("t", "", "", {"e", "e, ee", "e"})) == pe::key_sent_twice);  // rule 2
static_assert(validate(make_pattern("t", "s", "", {"s"})) == pe::key_sent_twice);               // rule 2, pre-message
static_assert(validate(make_pattern("t", "", "", {"e", "e, ee, ee"})) == pe::dh_twice);        // rule 3
static_assert(validate(make_pattern("t", "", "s", {"s, ss"})) == pe::unsafe_encrypt);           // rule 4: ss without es
static_assert(validate(make_pattern("t", "", "", {"e", "e, ee", "s, se"})) == pe::valid);
static_assert(validate(make_pattern("t", "", "", {"psk, s"})) == pe::psk_without_e);            // §9.3
static_assert(validate(make_pattern("t", "e", "", {"e"})) == pe::premessage_token);

TEST_CASE("every fundamental, one-way and deferred pattern passes the §7.3 rules", "[noise][patterns]") {
  for (const auto& p : noise::detail::base_patterns) {
    INFO(p.name());
    CHECK(validate(p) == pe::valid);
    for (std::size_t n = 0; n <= p.count; ++n) CHECK(validate(noise::detail::apply_psk(p, {n})) == pe::valid);
  }
  CHECK(noise::detail::base_patterns.size() == 38);  // 3 one-way + 12 interactive + 23 deferred
}

TEST_CASE("parse_protocol_name: supported names parse, unknown ones are wrong_algorithm, invalid psk placements refused",
          "[noise][names]") {
  auto ok = noise::parse_protocol_name("Noise_XXpsk0+psk3_P256_AESGCM_BLAKE2s");
  REQUIRE(ok.has_value());
  CHECK(ok->pattern.name() == "XXpsk0+psk3");
  CHECK(ok->pattern.psk_count() == 2);
  CHECK(ok->dh == "P256");
  CHECK(noise::parse_protocol_name("Noise_XXfallback_25519_AESGCM_SHA256").error() == errc::wrong_algorithm);
  CHECK(noise::parse_protocol_name("Noise_XXhfs_25519+Kyber1024_AESGCM_SHA256").error() == errc::wrong_algorithm);
  CHECK(noise::parse_protocol_name("Noise_XX_25519_AESGCM_SHA384").error() == errc::wrong_algorithm);
  CHECK(noise::parse_protocol_name("Noise_ZZ_25519_AESGCM_SHA256").error() == errc::wrong_algorithm);
  CHECK(noise::parse_protocol_name("Noise_NNpsk3_25519_AESGCM_SHA256").error() == errc::invalid_argument);
  CHECK(noise::parse_protocol_name("Noise_NNpsk2+psk0_25519_AESGCM_SHA256").error() == errc::invalid_argument);
  CHECK(noise::parse_protocol_name("Noise_NNpsk0+psk0_25519_AESGCM_SHA256").error() == errc::invalid_argument);
  CHECK(noise::parse_protocol_name("Noise_NN_25519_AESGCM").error() == errc::invalid_encoding);
  CHECK(noise::parse_protocol_name("Noise_NN_25519_AESGCM_SHA256_x").error() == errc::invalid_encoding);
  CHECK(noise::parse_protocol_name("Nois_NN_25519_AESGCM_SHA256").error() == errc::invalid_encoding);
  CHECK(noise::parse_protocol_name("").error() == errc::invalid_encoding);
}

// ---------------------------------------------------------------------------
// Typestate handshakes

namespace {

/// XX to completion, then transport both ways; returns both transports.
template <class Proto>
auto complete_xx(private_key<typename Proto::dh> i_static, private_key<typename Proto::dh> r_static) {
  auto i0 = noise::initiator<Proto>(prologue, std::move(i_static));
  auto r0 = noise::responder<Proto>(prologue, std::move(r_static));
  auto m1 = std::move(i0).write_message(as_bytes("hello")).value();
  auto r1 = std::move(r0).read_message(m1.message).value();
  CHECK(r1.payload == as_bytes("hello"));
  auto m2 = std::move(r1.next).write_message(as_bytes("from responder")).value();
  auto i2 = std::move(m1.next).read_message(m2.message).value();
  CHECK(i2.payload == as_bytes("from responder"));
  auto m3 = std::move(i2.next).write_message(as_bytes("done")).value();
  auto r3 = std::move(m2.next).read_message(m3.message).value();
  CHECK(r3.payload == as_bytes("done"));
  return std::pair(std::move(m3.next), std::move(r3.next));
}

}  // namespace

TEMPLATE_TEST_CASE("XX over every DH x cipher x hash: both sides agree on h, learn each other's static key, talk both ways",
                   "[noise][handshake]", (noise::protocol<pat::XX, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>),
                   (noise::protocol<pat::XX, sepal::x448, sepal::aes256_gcm, sepal::blake2b>),
                   (noise::protocol<pat::XX, sepal::p256, sepal::aes256_gcm, sepal::sha512>),
                   (noise::protocol<pat::XX, sepal::p256, sepal::chacha20_poly1305, sepal::blake2s>)) {
  using Dh = typename TestType::dh;
  auto is = private_key<Dh>::generate(), rs = private_key<Dh>::generate();
  const auto is_pub = is.public_key(), rs_pub = rs.public_key();
  auto [ti, tr] = complete_xx<TestType>(std::move(is), std::move(rs));
  CHECK(to_hex(ti.handshake_hash()) == to_hex(tr.handshake_hash()));
  REQUIRE(ti.remote_static());
  REQUIRE(tr.remote_static());
  CHECK(*ti.remote_static() == rs_pub);
  CHECK(*tr.remote_static() == is_pub);
  if constexpr (std::is_same_v<Dh, sepal::p256>) CHECK(ti.remote_static()->to_raw().size() == 65);
  for (int k = 0; k < 3; ++k) {
    auto a = ti.seal(as_bytes("ping"));
    CHECK(tr.open(a).value() == as_bytes("ping"));
    auto b = tr.seal(as_bytes("pong"));
    CHECK(ti.open(b).value() == as_bytes("pong"));
  }
}

TEST_CASE("IK, NK, KK and IKpsk2 with the keys their pre-messages need; the one-way X transports one way",
          "[noise][handshake]") {
  auto is = private_key<sepal::x25519>::generate(), rs = private_key<sepal::x25519>::generate();
  const auto is_pub = is.public_key(), rs_pub = rs.public_key();
  {
    using P = noise::protocol<noise::psk<pat::IK, 2>, sepal::x25519, sepal::chacha20_poly1305, sepal::blake2s>;
    auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::from_raw(is.to_raw().reveal()).value(), rs_pub,
                                  make_psk(7));
    auto r0 = noise::responder<P>(prologue, make_psk(7), private_key<sepal::x25519>::from_raw(rs.to_raw().reveal()).value());
    auto m1 = std::move(i0).write_message(as_bytes("early data")).value();
    CHECK(m1.message.size() == 32 + 48 + 10 + 16);  // e, encrypted s, payload + tag
    auto r1 = std::move(r0).read_message(m1.message).value();
    CHECK(r1.payload == as_bytes("early data"));
    REQUIRE(r1.next.remote_static());
    CHECK(*r1.next.remote_static() == is_pub);
    auto m2 = std::move(r1.next).write_message().value();
    auto ti = std::move(m1.next).read_message(m2.message).value().next;
    auto tr = std::move(m2.next);
    CHECK(to_hex(ti.handshake_hash()) == to_hex(tr.handshake_hash()));
    CHECK(tr.open(ti.seal(as_bytes("x"))).value() == as_bytes("x"));
  }
  {
    using P = noise::protocol<noise::psk<pat::IK, 2>, sepal::x25519, sepal::chacha20_poly1305, sepal::blake2s>;
    // A different PSK on the responder: psk2 is mixed in at the end of
    // message 2, so message 2 is the one that does not authenticate.
    auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::generate(), rs_pub, make_psk(7));
    auto r0 = noise::responder<P>(prologue, make_psk(8), private_key<sepal::x25519>::from_raw(rs.to_raw().reveal()).value());
    auto m1 = std::move(i0).write_message().value();
    auto r1 = std::move(r0).read_message(m1.message).value();
    auto m2 = std::move(r1.next).write_message().value();
    CHECK(std::move(m1.next).read_message(m2.message).error() == errc::authentication_failed);
  }
  {
    using P = p25519<pat::KK>;
    auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::from_raw(is.to_raw().reveal()).value(), rs_pub);
    auto r0 = noise::responder<P>(prologue, private_key<sepal::x25519>::from_raw(rs.to_raw().reveal()).value(), is_pub);
    auto m1 = std::move(i0).write_message().value();
    auto r1 = std::move(r0).read_message(m1.message).value();
    auto m2 = std::move(r1.next).write_message().value();
    auto ti = std::move(m1.next).read_message(m2.message).value().next;
    CHECK(to_hex(ti.handshake_hash()) == to_hex(m2.next.handshake_hash()));
  }
  {
    using P = p25519<pat::NK>;
    auto i0 = noise::initiator<P>(prologue, rs_pub);
    // A responder with another static key: the initiator's es does not match.
    auto r0 = noise::responder<P>(prologue, private_key<sepal::x25519>::generate());
    auto m1 = std::move(i0).write_message().value();
    CHECK(std::move(r0).read_message(m1.message).error() == errc::authentication_failed);
  }
  {
    using P = p25519<pat::X>;
    auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::generate(), rs_pub);
    auto r0 = noise::responder<P>(prologue, private_key<sepal::x25519>::from_raw(rs.to_raw().reveal()).value());
    auto m1 = std::move(i0).write_message(as_bytes("one way")).value();
    auto tr = std::move(r0).read_message(m1.message).value();
    CHECK(tr.payload == as_bytes("one way"));
    auto ti = std::move(m1.next);
    CHECK(tr.next.open(ti.seal(as_bytes("more"))).value() == as_bytes("more"));
  }
}

TEST_CASE("deferred X1X1 (four messages) and NNpsk0+psk2 complete through the typestate", "[noise][handshake]") {
  {
    using P = p25519<pat::X1X1>;
    auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::generate());
    auto r0 = noise::responder<P>(prologue, private_key<sepal::x25519>::generate());
    auto m1 = std::move(i0).write_message().value();
    auto r1 = std::move(r0).read_message(m1.message).value();
    auto m2 = std::move(r1.next).write_message().value();
    auto i2 = std::move(m1.next).read_message(m2.message).value();
    auto m3 = std::move(i2.next).write_message().value();
    auto r3 = std::move(m2.next).read_message(m3.message).value();
    auto m4 = std::move(r3.next).write_message(as_bytes("last")).value();
    auto i4 = std::move(m3.next).read_message(m4.message).value();
    CHECK(i4.payload == as_bytes("last"));
    CHECK(to_hex(i4.next.handshake_hash()) == to_hex(m4.next.handshake_hash()));
  }
  {
    using P = noise::protocol<noise::psk<pat::NN, 0, 2>, sepal::x448, sepal::aes256_gcm, sepal::sha512>;
    auto i0 = noise::initiator<P>(prologue, make_psk(1), make_psk(2));
    auto r0 = noise::responder<P>(prologue, make_psk(1), make_psk(2));
    auto m1 = std::move(i0).write_message().value();
    auto r1 = std::move(r0).read_message(m1.message).value();
    auto m2 = std::move(r1.next).write_message().value();
    auto ti = std::move(m1.next).read_message(m2.message).value().next;
    CHECK(to_hex(ti.handshake_hash()) == to_hex(m2.next.handshake_hash()));
  }
}

TEST_CASE("the typestate and the run-time entry point produce the same bytes from the same fixed keys",
          "[noise][handshake][dynamic]") {
  using P = noise::protocol<noise::psk<pat::XX, 3>, sepal::x25519, sepal::aes256_gcm, sepal::blake2b>;
  const bytes ie = hex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
  const bytes re = hex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");
  const bytes is = hex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
  const bytes rs = hex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
  const bytes k = bytes(32, 0x42);
  auto key = [](const bytes& b) { return private_key<sepal::x25519>::from_raw(b).value(); };
  auto i0 = noise::initiator<P>(prologue, key(is), noise::pre_shared_key::copy_of(k),
                                noise::fixed_ephemeral_key_for_testing_only<sepal::x25519>{key(ie)});
  auto r0 = noise::responder<P>(prologue, key(rs), noise::pre_shared_key::copy_of(k),
                                noise::fixed_ephemeral_key_for_testing_only<sepal::x25519>{key(re)});
  noise::dynamic_keys di, dr;
  di.prologue = dr.prologue = prologue;
  di.local_static = secret(is);
  dr.local_static = secret(rs);
  di.fixed_ephemeral_for_testing_only = secret(ie);
  dr.fixed_ephemeral_for_testing_only = secret(re);
  di.psks.push_back(secret(k));
  dr.psks.push_back(secret(k));
  auto d_i = noise::dynamic_handshake::create(P::name, noise::role::initiator, std::move(di)).value();
  auto d_r = noise::dynamic_handshake::create(P::name, noise::role::responder, std::move(dr)).value();
  auto m1 = std::move(i0).write_message(as_bytes("a")).value();
  CHECK(m1.message == d_i.write_message(as_bytes("a")).value());
  CHECK(d_r.read_message(m1.message).value() == as_bytes("a"));
  auto r1 = std::move(r0).read_message(m1.message).value();
  auto m2 = std::move(r1.next).write_message(as_bytes("b")).value();
  CHECK(m2.message == d_r.write_message(as_bytes("b")).value());
  CHECK(d_i.read_message(m2.message).value() == as_bytes("b"));
  auto i2 = std::move(m1.next).read_message(m2.message).value();
  auto m3 = std::move(i2.next).write_message(as_bytes("c")).value();
  CHECK(m3.message == d_i.write_message(as_bytes("c")).value());
  CHECK(d_r.read_message(m3.message).value() == as_bytes("c"));
  CHECK(to_hex(m3.next.handshake_hash()) == to_hex(d_i.handshake_hash()));
  CHECK(d_i.remote_static().value() == key(rs).public_key().to_raw());
}

TEST_CASE("run-time handshakes report turn, completion and missing keys as errors", "[noise][dynamic]") {
  noise::dynamic_keys k;
  auto nn = noise::dynamic_handshake::create("Noise_NN_25519_ChaChaPoly_SHA256", noise::role::responder, {}).value();
  CHECK(nn.write_message({}).error() == errc::out_of_order);
  auto nn_i = noise::dynamic_handshake::create("Noise_NN_25519_ChaChaPoly_SHA256", noise::role::initiator, {}).value();
  CHECK(nn_i.read_message(bytes(32)).error() == errc::out_of_order);
  auto m1 = nn_i.write_message({}).value();
  REQUIRE(nn.read_message(m1).has_value());
  auto m2 = nn.write_message({}).value();
  REQUIRE(nn_i.read_message(m2).has_value());
  CHECK(nn_i.is_complete());
  CHECK(nn_i.write_message({}).error() == errc::already_finished);
  CHECK(nn_i.read_message(m2).error() == errc::already_finished);
  // IK's initiator needs the responder's static key and its own.
  CHECK(noise::dynamic_handshake::create("Noise_IK_25519_ChaChaPoly_SHA256", noise::role::initiator, {}).error() ==
        errc::missing_credential);
  // A PSK pattern without its PSK, or a PSK of the wrong size.
  CHECK(noise::dynamic_handshake::create("Noise_NNpsk0_25519_ChaChaPoly_SHA256", noise::role::initiator, {}).error() ==
        errc::missing_credential);
  noise::dynamic_keys short_psk;
  short_psk.psks.push_back(secret(bytes(31)));
  CHECK(noise::dynamic_handshake::create("Noise_NNpsk0_25519_ChaChaPoly_SHA256", noise::role::initiator,
                                         std::move(short_psk))
            .error() == errc::invalid_argument);
  // An NN handshake given a static key it would ignore.
  noise::dynamic_keys extra;
  extra.local_static = private_key<sepal::x25519>::generate().to_raw();
  CHECK(noise::dynamic_handshake::create("Noise_NN_25519_ChaChaPoly_SHA256", noise::role::initiator, std::move(extra))
            .error() == errc::missing_credential);
  CHECK(noise::dynamic_handshake::create("Noise_NN_25519_ChaChaPoly_SHA384", noise::role::initiator, {}).error() ==
        errc::wrong_algorithm);
  CHECK_THROWS_AS(noise::pre_shared_key::copy_of(bytes(16)), sepal::error);
  // One-way (§7.4): the responder's transport cannot send, the initiator's cannot receive.
  noise::dynamic_keys ik, rk;
  auto r_static = private_key<sepal::x25519>::generate();
  ik.remote_static = r_static.public_key().to_raw();
  rk.local_static = r_static.to_raw();
  auto n_i = noise::dynamic_handshake::create("Noise_N_25519_ChaChaPoly_SHA256", noise::role::initiator, std::move(ik)).value();
  auto n_r = noise::dynamic_handshake::create("Noise_N_25519_ChaChaPoly_SHA256", noise::role::responder, std::move(rk)).value();
  REQUIRE(n_r.read_message(n_i.write_message({}).value()).has_value());
  auto t_i = std::move(n_i).into_transport().value();
  auto t_r = std::move(n_r).into_transport().value();
  const auto m = t_i.seal(as_bytes("one way"));
  CHECK(t_r.open(m).value() == as_bytes("one way"));
  CHECK_THROWS_AS(t_r.seal(as_bytes("back")), sepal::error);
  CHECK(t_i.open(m).error() == errc::invalid_argument);
}

TEST_CASE("a prologue mismatch fails the first authenticated message", "[noise][handshake]") {
  using P = p25519<pat::NN>;
  auto i0 = noise::initiator<P>(as_bytes("one"));
  auto r0 = noise::responder<P>(as_bytes("two"));
  auto m1 = std::move(i0).write_message().value();
  auto r1 = std::move(r0).read_message(m1.message).value();  // "e": no tag yet
  auto m2 = std::move(r1.next).write_message().value();
  CHECK(std::move(m1.next).read_message(m2.message).error() == errc::authentication_failed);
}

// ---------------------------------------------------------------------------
// Tampering

TEST_CASE("every bit flip of every XX handshake message is rejected without changing the reader; the genuine one then works",
          "[noise][props]") {
  using P = noise::protocol<pat::XX, sepal::x25519, sepal::aes256_gcm, sepal::sha256>;
  auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::generate());
  auto r0 = noise::responder<P>(prologue, private_key<sepal::x25519>::generate());
  auto m1 = std::move(i0).write_message(as_bytes("p1")).value();
  // Message 1 is "e" + a plaintext payload (no key yet): any change of e
  // changes h, which message 2's tag then rejects. Flip message 1 and check
  // the responder's reply fails at the initiator.
  {
    auto flipped = m1.message;
    flipped[0] ^= 1;
    auto r_bad = noise::responder<P>(prologue, private_key<sepal::x25519>::generate());
    auto rb = std::move(r_bad).read_message(flipped);
    if (rb) {
      auto reply = std::move(rb->next).write_message().value();
      // The genuine initiator rejects a reply bound to the flipped e.
      CHECK(!std::move(m1.next).read_message(reply.message).has_value());
    }
  }
  auto r1 = std::move(r0).read_message(m1.message).value();
  auto m2 = std::move(r1.next).write_message(as_bytes("p2")).value();
  auto& reader = m1.next;
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < m2.message.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      auto flipped = m2.message;
      flipped[i] ^= static_cast<std::uint8_t>(1u << b);
      const auto h_before = to_hex(reader.handshake_hash());
      auto r = std::move(reader).read_message(flipped);
      REQUIRE_FALSE(r.has_value());
      REQUIRE(to_hex(reader.handshake_hash()) == h_before);
      ++rejected;
    }
  }
  CHECK(rejected == m2.message.size() * 8);
  // Truncations and extensions too.
  for (std::size_t len = 0; len < m2.message.size(); len += 7)
    CHECK_FALSE(std::move(reader).read_message(std::span(m2.message).first(len)).has_value());
  auto longer = m2.message;
  longer.push_back(0);
  CHECK_FALSE(std::move(reader).read_message(longer).has_value());
  auto i2 = std::move(reader).read_message(m2.message);
  REQUIRE(i2.has_value());
  CHECK(i2->payload == as_bytes("p2"));
  auto m3 = std::move(i2->next).write_message(as_bytes("p3")).value();
  auto& r_reader = m2.next;
  for (std::size_t i = 0; i < m3.message.size(); ++i) {
    auto flipped = m3.message;
    flipped[i] ^= 0x80;
    REQUIRE_FALSE(std::move(r_reader).read_message(flipped).has_value());
  }
  auto r3 = std::move(r_reader).read_message(m3.message);
  REQUIRE(r3.has_value());
  CHECK(r3->payload == as_bytes("p3"));
  // Transport: every bit flip is rejected and the receive nonce stays put.
  auto ti = std::move(m3.next);
  auto tr = std::move(r3->next);
  const auto msg = ti.seal(as_bytes("transport payload"));
  for (std::size_t i = 0; i < msg.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      auto flipped = msg;
      flipped[i] ^= static_cast<std::uint8_t>(1u << b);
      REQUIRE(tr.open(flipped).error() == errc::authentication_failed);
      REQUIRE(tr.receive_nonce() == 0);
    }
  }
  CHECK(tr.open(msg).value() == as_bytes("transport payload"));
  CHECK(tr.receive_nonce() == 1);
  CHECK(tr.open(msg).error() == errc::authentication_failed);  // a replay uses the next nonce: rejected
}

TEST_CASE("hostile handshake messages: wrong lengths, off-curve P-256 points, oversized input", "[noise][props]") {
  {
    using P = noise::protocol<pat::NN, sepal::p256, sepal::aes256_gcm, sepal::sha256>;
    auto r0 = noise::responder<P>(prologue);
    bytes bad(65, 0x04);  // not on the curve
    CHECK(std::move(r0).read_message(bad).error() == errc::invalid_key);
    bytes compressed = private_key<sepal::p256>::generate().public_key().to_raw(sepal::point_format::compressed);
    compressed.resize(65, 0);
    CHECK_FALSE(std::move(r0).read_message(compressed).has_value());
    CHECK(std::move(r0).read_message(bytes(10)).error() == errc::invalid_encoding);
    CHECK(std::move(r0).read_message(bytes(70000)).error() == errc::invalid_encoding);
    auto good = noise::initiator<P>(prologue);
    auto m1 = std::move(good).write_message().value();
    CHECK(m1.message.size() == 65);
    CHECK(std::move(r0).read_message(m1.message).has_value());
  }
  {
    // An all-zero X25519 ephemeral makes the responder's ee all zero: refused.
    using P = p25519<pat::NN>;
    auto r0 = noise::responder<P>(prologue);
    auto r1 = std::move(r0).read_message(bytes(32, 0)).value();
    CHECK(std::move(r1.next).write_message().error() == errc::invalid_shared_secret);
  }
}

// ---------------------------------------------------------------------------
// Transport: limits, in place, rekey, nonces, allocations

TEST_CASE("transport: in place equals out of place; the payload limit is 65519 bytes", "[noise][transport]") {
  auto [ti, tr] = complete_xx<p25519<pat::XX>>(private_key<sepal::x25519>::generate(),
                                                private_key<sepal::x25519>::generate());
  bytes payload(1200);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  bytes out(payload.size() + 16);
  auto sealed = ti.seal(payload, out);
  bytes again = tr.open(sealed).value();
  CHECK(again == payload);
  // In place both ways.
  bytes buf(payload.size() + 16);
  std::copy(payload.begin(), payload.end(), buf.begin());
  auto in_place = ti.seal(std::span(buf).first(payload.size()), buf);
  CHECK(in_place.size() == payload.size() + 16);
  auto opened = tr.open(buf, buf);
  REQUIRE(opened.has_value());
  CHECK(copy(*opened) == payload);
  CHECK(decltype(ti)::max_payload == 65519);
  CHECK(tr.open(ti.seal(bytes(65519))).value().size() == 65519);
  CHECK_THROWS_AS(ti.seal(bytes(65520)), sepal::error);
  CHECK(tr.open(bytes(65536)).error() == errc::invalid_encoding);
  CHECK(tr.open(bytes(15)).error() == errc::authentication_failed);
}

TEST_CASE("rekey interoperates: both sides rekey at the same message; a side that does not cannot open", "[noise][transport]") {
  auto [ti, tr] = complete_xx<noise::protocol<pat::XX, sepal::x25519, sepal::aes256_gcm, sepal::blake2s>>(
      private_key<sepal::x25519>::generate(), private_key<sepal::x25519>::generate());
  CHECK(tr.open(ti.seal(as_bytes("before"))).value() == as_bytes("before"));
  ti.rekey_send();
  const auto after = ti.seal(as_bytes("after"));
  {
    // Without rekey_receive the new key does not open it (and nothing advances).
    CHECK(tr.open(after).error() == errc::authentication_failed);
  }
  tr.rekey_receive();
  CHECK(tr.open(after).value() == as_bytes("after"));
  CHECK(ti.send_nonce() == 2);  // rekey keeps the nonce (§11.3)
  tr.rekey_send();
  ti.rekey_receive();
  CHECK(ti.open(tr.seal(as_bytes("back"))).value() == as_bytes("back"));
}

TEST_CASE("cipher_state refuses nonce 2^64-1 (exhaustion) for both directions", "[noise][transport]") {
  noise::cipher_state<sepal::chacha20_poly1305> enc, dec;
  enc.initialize_key(bytes(32, 9));
  dec.initialize_key(bytes(32, 9));
  enc.set_nonce(noise::max_nonce - 1);
  dec.set_nonce(noise::max_nonce - 1);
  bytes ct(16 + 3);
  const auto n = enc.encrypt_with_ad({}, as_bytes("abc"), ct);
  CHECK(n == 19);
  bytes pt(19);
  CHECK(dec.decrypt_with_ad({}, ct, pt).value() == 3);
  CHECK(enc.nonce() == noise::max_nonce);
  try {
    (void)enc.encrypt_with_ad({}, as_bytes("abc"), ct);
    FAIL("encrypt at 2^64-1 must throw");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::limit_reached);
  }
  CHECK(dec.decrypt_with_ad({}, ct, pt).error() == errc::limit_reached);
  // A moved-from cipher state never passes data through.
  auto moved = std::move(enc);
  CHECK_THROWS_AS(enc.encrypt_with_ad({}, as_bytes("abc"), ct), sepal::error);
  CHECK(enc.decrypt_with_ad({}, ct, pt).error() == errc::moved_from);
}

TEST_CASE("transport and datagram seal/open allocate nothing in steady state", "[noise][transport][alloc]") {
  auto [ti, tr] = complete_xx<noise::protocol<pat::XX, sepal::x25519, sepal::aes256_gcm, sepal::sha256>>(
      private_key<sepal::x25519>::generate(), private_key<sepal::x25519>::generate());
  bytes buf(16384 + 24), out(16384 + 24);
  // Each direction makes its Botan AEAD object on its first message.
  for (int warm = 0; warm < 2; ++warm) {
    auto s = ti.seal(std::span(buf).first(1200), out);
    REQUIRE(tr.open(s, buf).has_value());
    auto b = tr.seal(std::span(buf).first(1200), out);
    REQUIRE(ti.open(b, buf).has_value());
  }
  const auto before = sepal_test::allocations.load();
  for (std::size_t size : {64u, 1200u, 16384u}) {
    for (int k = 0; k < 10; ++k) {
      auto s = ti.seal(std::span(buf).first(size), out);
      auto o = tr.open(s, buf);
      REQUIRE(o.has_value());
      auto back = tr.seal(std::span(buf).first(size), out);
      REQUIRE(ti.open(back, buf).has_value());
    }
  }
  CHECK(sepal_test::allocations.load() == before);
  auto di = std::move(ti).into_datagram();
  auto dr = std::move(tr).into_datagram();
  auto s0 = di.seal(std::span(buf).first(100), out);
  REQUIRE(dr.open(s0, buf).has_value());
  const auto before_dgram = sepal_test::allocations.load();
  for (int k = 0; k < 20; ++k) {
    auto s = di.seal(std::span(buf).first(1200), out);
    REQUIRE(dr.open(s, buf).has_value());
  }
  CHECK(sepal_test::allocations.load() == before_dgram);
}

TEST_CASE("datagram transport: out of order accepted once within the window, replays and old counters refused, "
          "forgeries move nothing",
          "[noise][datagram][props]") {
  auto [ti, tr] = complete_xx<p25519<pat::XX>>(private_key<sepal::x25519>::generate(),
                                                private_key<sepal::x25519>::generate());
  auto di = std::move(ti).into_datagram();
  auto dr = std::move(tr).into_datagram();
  std::vector<bytes> sent;
  for (int k = 0; k < 10; ++k) sent.push_back(di.seal(as_bytes("datagram " + std::to_string(k))));
  CHECK(sent[3][0] == 3);  // LE64 counter on the wire
  CHECK(sent[3].size() == 8 + 10 + 16);
  for (int k : {5, 2, 9, 0, 1, 3, 4, 8, 6, 7}) {
    INFO(k);
    CHECK(dr.open(sent[k]).value() == as_bytes("datagram " + std::to_string(k)));
    CHECK(dr.open(sent[k]).error() == errc::replayed);
  }
  // Bit flips are rejected and do not move the window.
  const auto next = di.seal(as_bytes("next"));
  for (std::size_t i = 0; i < next.size(); ++i) {
    auto flipped = next;
    flipped[i] ^= 0x01;
    auto r = dr.open(flipped);
    REQUIRE_FALSE(r.has_value());
  }
  CHECK(dr.open(next).value() == as_bytes("next"));
  // A counter far ahead (authenticated) slides the window: old ones are refused.
  for (std::size_t k = 0; k < decltype(di)::window_size + 64; ++k) (void)di.seal(as_bytes("skip"));
  const auto far = di.seal(as_bytes("far"));
  CHECK(dr.open(far).value() == as_bytes("far"));
  auto late = sent[0];
  CHECK(dr.open(late).error() == errc::replayed);
  CHECK(dr.open(bytes(23)).error() == errc::invalid_encoding);
  // In place.
  auto in_place = di.seal(as_bytes("in place"));
  auto opened = dr.open_in_place(in_place);
  REQUIRE(opened.has_value());
  CHECK(copy(*opened) == as_bytes("in place"));
  CHECK(opened->data() == in_place.data() + 8);
}

TEST_CASE("every bit flip of an IKpsk2 first message (e, encrypted s, payload) is rejected without changing the responder",
          "[noise][props]") {
  using P = noise::protocol<noise::psk<pat::IK, 2>, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;
  auto rs = std::make_shared<const private_key<sepal::x25519>>(private_key<sepal::x25519>::generate());
  auto i0 = noise::initiator<P>(prologue, private_key<sepal::x25519>::generate(), rs->public_key(), make_psk(3));
  auto reader = noise::responder<P>(prologue, rs, make_psk(3));
  const auto m1 = std::move(i0).write_message(as_bytes("early")).value();
  for (std::size_t i = 0; i < m1.message.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      auto flipped = m1.message;
      flipped[i] ^= static_cast<std::uint8_t>(1u << b);
      const auto h_before = to_hex(reader.handshake_hash());
      REQUIRE_FALSE(std::move(reader).read_message(flipped).has_value());
      REQUIRE(to_hex(reader.handshake_hash()) == h_before);
      REQUIRE_FALSE(reader.remote_static().has_value());  // a rejected "s" is not kept
    }
  }
  auto ok = std::move(reader).read_message(m1.message);
  REQUIRE(ok.has_value());
  CHECK(ok->payload == as_bytes("early"));
}
