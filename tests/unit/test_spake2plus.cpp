#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <type_traits>
#include <utility>

#include <sepal/pake/registration.hpp>
#include <sepal/pake/spake2plus.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace pake = sepal::pake;
using sepal::errc;

namespace {

using spake_suites =
    std::tuple<pake::p256_sha256, pake::p256_sha512, pake::p384_sha256, pake::p384_sha512, pake::p521_sha512>;

/// Cheap KDF parameters for tests; the defaults take about 85 ms each (more under sanitizers).
constexpr auto cheap_argon = pake::password_kdf::argon2id(64, 1, 1);
constexpr auto cheap_scrypt = pake::password_kdf::scrypt(16, 1, 1);

const pake::identities ids{"sepal tests", "alice", "server.example"};

template <class Suite>
pake::prover_secrets<Suite> random_secrets() {
  bytes seed(2 * Suite::w_seed_size);
  sepal::system_rng().randomize(seed);
  return pake::prover_secrets<Suite>::from_seed(seed);
}

template <class Suite>
pake::verifier_record<Suite> record_of(const pake::prover_secrets<Suite>& s) {
  return pake::verifier_record<Suite>::create(s, pake::password_kdf::external(), {});
}

/// A whole exchange; returns the errors the verifier and prover saw (or success).
template <class Suite>
struct outcome {
  errc prover = errc::internal_error, verifier = errc::internal_error;
  bool prover_ok = false, verifier_ok = false;
};

template <class Suite>
outcome<Suite> run(const pake::prover_secrets<Suite>& client, const pake::verifier_record<Suite>& server,
                   const pake::identities& client_ids = ids, const pake::identities& server_ids = ids) {
  outcome<Suite> o;
  auto p = pake::prover<Suite>::start(client, client_ids);
  auto v = pake::verifier<Suite>::start(server, server_ids, p.share());
  REQUIRE(v.has_value());
  auto c = p.receive(v->response());
  o.prover_ok = c.has_value();
  if (!c) o.prover = c.error();
  // The verifier sees a confirmation either way: the real one or garbage.
  bytes confirm = c ? copy(c->message) : bytes(Suite::confirm_size, 0);
  auto k = v->finish(confirm);
  o.verifier_ok = k.has_value();
  if (!k) o.verifier = k.error();
  if (c && k) CHECK(sepal::constant_time_equal(c->keys.shared_key(), k->shared_key()));
  return o;
}


/// Records written by sepal's own SPAKE2+ (the code before it moved to
/// Botan's, commit 8119e5f): by `register_password` with "correct horse
/// battery staple", "alice", "server.example" and Argon2id(64, 1, 1), and by
/// `create` from `from_seed` of bytes i * 7 + 1 with the external KDF. They
/// must still parse, serialize to the same bytes, match the secrets derived
/// again, and log in.
struct old_records {
  std::string_view argon, external;
};
template <class Suite>
constexpr old_records records_before_botan{};
template <>
constexpr old_records records_before_botan<pake::p256_sha256>{
    // argon2id(64, 1, 1), random salt
    "01010100000040000000010000000110b51f774f847b6244f6d7fc54bdca0f5b85e8c6a980905358cfeccb2fba0da732bced"
    "e0670099910acd3d9336d82ee7ee04e7b12a3e62291ab45ee4cdec6d646d65b70cdfb5dc95fbf443e27d5d8cefed3c3fde06"
    "6834647f630893f041b3b4c9fd8aa4edb212653596ae47dfd2eee1770b",
    // external, from_seed(i * 7 + 1)
    "01010300000000000000000000000000566472803730292271bdb5484ddf19c38d14a11babe755c28f63c891a2c1324a0469"
    "654a58621e7086fd27f33e83b543c9b6bb82776ac248077244beb4657bcc5fa1646eac3215869307d94f434a8fc827676698"
    "9eec5cfbebfc25eb919aa0fd13"};
template <>
constexpr old_records records_before_botan<pake::p256_sha512>{
    // argon2id(64, 1, 1), random salt
    "0102010000004000000001000000011083f33e9c22cdb57692481abf0e671fff97e429cf58d9eb7322ea5413424c12104f44"
    "4fced3529880a6aef6e0de54516104e238303737b0f51882932f06ac99b70b7f76f14118f66b65d43eb3aca3729a710be1d1"
    "626bf6d836f3dafa137327bfbc4fe1413b6022e9c05f9a146ccd0a11d4",
    // external, from_seed(i * 7 + 1)
    "01020300000000000000000000000000566472803730292271bdb5484ddf19c38d14a11babe755c28f63c891a2c1324a0469"
    "654a58621e7086fd27f33e83b543c9b6bb82776ac248077244beb4657bcc5fa1646eac3215869307d94f434a8fc827676698"
    "9eec5cfbebfc25eb919aa0fd13"};
template <>
constexpr old_records records_before_botan<pake::p384_sha256>{
    // argon2id(64, 1, 1), random salt
    "01030100000040000000010000000110f88ff71e392d6ec6a485cc9338e320b195f72400a22a1f58ab43499d7123cefc1f41"
    "286950a964d3e9f33677eaa494a5494db312dec515fc54b5ff22511cf6a1040be98af2ed4799128115136f2164c49820921f"
    "6d73311922f44a289b458387d14814dc5228ff4ae0934f3426fd51e69093fdbb8555cc53a2005029fce20f818633c5c29afe"
    "34cf8cd7b3b3f4b5e90a94698cf82f14ae1778089c4c0a2392da10",
    // external, from_seed(i * 7 + 1)
    "010303000000000000000000000000003940474e555c636a71787f868d949ba2a9eb1cacea2774481ccd7e620c3fa4ae14ab"
    "6069748f3ae7d1c809d775d0120c04e0a15263ec423ebd813d910ac0098bc6f5a7c9ae8b6b9b583f31c01fbfceda8d92d012"
    "d100649f87e6265e2ea0c5d6e52cb3f16e07c6a583d49a8367c10b87dd10c1b7c84ead7a499f7d8f026b39e4aee33c2526c9"
    "985c6d01949795c29131c8"};
template <>
constexpr old_records records_before_botan<pake::p384_sha512>{
    // argon2id(64, 1, 1), random salt
    "01040100000040000000010000000110d1baf9755355c29ad893b4ce6da811fe16d1c735bec4a1aa9791f6447423563a2cb6"
    "cc7c4e59b83bb649e0ada4c05d5b84380e6fc110d534f4371a17150224da04205b28460e1b68876d55311e0d4ab63a58e330"
    "ec6053db1ac7f9c7cc3732b89681db09be288b3ab5b76f3fb2e414710ff33643e3617ae3c4ac4b6f8a2e4ac1137af6a2bebc"
    "72f11832decd54ec8eaba13ab2577ec11f99f15eb892ed1cb85907",
    // external, from_seed(i * 7 + 1)
    "010403000000000000000000000000003940474e555c636a71787f868d949ba2a9eb1cacea2774481ccd7e620c3fa4ae14ab"
    "6069748f3ae7d1c809d775d0120c04e0a15263ec423ebd813d910ac0098bc6f5a7c9ae8b6b9b583f31c01fbfceda8d92d012"
    "d100649f87e6265e2ea0c5d6e52cb3f16e07c6a583d49a8367c10b87dd10c1b7c84ead7a499f7d8f026b39e4aee33c2526c9"
    "985c6d01949795c29131c8"};
template <>
constexpr old_records records_before_botan<pake::p521_sha512>{
    // argon2id(64, 1, 1), random salt
    "0105010000004000000001000000011058de0f70309699a57680929821c0bd7000472af09493c43e076c69cea07d07fbcc64"
    "acc7bfa9f21c6f7885f71e7faf9d6e190f669dbbf040298a885fd63749d8bfb6c726baff4684ea4c9e96c19bc7de4ce70400"
    "847f67f14c091d6826c88536c4c858f1912870e3029f38b3401c57ccb6f6654f847577ee6cfe7b70903d59026c3b0ffe5f41"
    "4b696068fc930a685518acd5eba17a016a26cc2ae6f2dd0c49255acc072bbe506b75d6a907aa8b579d80661ec4e1f7e67840"
    "b39df2ef11e9caa6b639262105ff8665f902fb2eb870fa393a4c632b4b07fc",
    // external, from_seed(i * 7 + 1)
    "010503000000000000000000000000000140474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1ebde187a8524ef5fd3"
    "be858b5cd9415edb196769aeb2bfcd1a2faa5abe0a4fbd6827342396ff41a7040400218ce229b31a543eb9f7b0e85097813a"
    "c68c70609b0b162bc95fcae84b1cf16db7cf6784cc9c82557df4c847ffd008c515af3dec3f7930fae3576f9f358a94cc7301"
    "c5d317093a0cfa01a55dca5d0e17e231e263e4a7493f032c36ce585db5e8e17257736d44d28f7ffae6a1d0f154c930e6e76a"
    "1e47b5c11d44378d14b8c94ee68a59"};

}  // namespace

TEMPLATE_LIST_TEST_CASE("SPAKE2+ exchanges agree and give sessions that talk", "[spake2plus]", spake_suites) {
  const auto secrets = random_secrets<TestType>();
  const auto record = record_of(secrets);
  auto p = pake::prover<TestType>::start(secrets, ids);
  CHECK(p.share().size() == TestType::point_size);
  auto v = pake::verifier<TestType>::start(record, ids, p.share());
  REQUIRE(v.has_value());
  CHECK(v->response().size() == pake::prover<TestType>::response_size);
  auto c = p.receive(v->response());
  REQUIRE(c.has_value());
  auto k = v->finish(c->message);
  REQUIRE(k.has_value());
  CHECK(sepal::constant_time_equal(c->keys.shared_key(), k->shared_key()));
  CHECK(c->keys.role() == pake::role::prover);
  CHECK(sepal::constant_time_equal(c->keys.export_key("x", {}, 32), k->export_key("x", {}, 32)));
  CHECK_FALSE(sepal::constant_time_equal(c->keys.export_key("x", {}, 32), k->export_key("y", {}, 32)));

  auto a = std::move(c->keys).make_session();
  auto b = std::move(*k).make_session();
  const auto msg = as_bytes("over the password channel");
  bytes wire(msg.size() + 64), got(msg.size() + 64);
  auto sealed = a.seal({}, msg, wire);
  auto opened = b.open({}, sealed, got);
  REQUIRE(opened.has_value());
  CHECK(copy(*opened) == msg);
  sealed = b.seal({}, msg, wire);
  REQUIRE(a.open({}, sealed, got).has_value());
  // Each direction has its own key: a packet does not open on its sender's side.
  sealed = a.seal({}, msg, wire);
  CHECK_FALSE(a.open({}, sealed, got).has_value());

  // Both objects are spent.
  CHECK(p.receive(v->response()).error() == errc::already_finished);
  CHECK(v->finish(c->message).error() == errc::already_finished);
}

TEMPLATE_LIST_TEST_CASE("Finding 2: an exchange gives one session; a second make_session throws already_finished",
                        "[spake2plus][finding2]", spake_suites) {
  using keys_t = pake::exchange_keys<TestType>;
  // On an lvalue, make_session does not compile (tests/compile_fail/pake_make_session_lvalue.cpp).
  static_assert(!requires(keys_t& k) { k.make_session(); });
  static_assert(!requires(const keys_t& k) { k.make_session(); });
  static_assert(requires(keys_t&& k) { std::move(k).make_session(); });
  static_assert(!std::is_copy_constructible_v<keys_t>);

  const auto secrets = random_secrets<TestType>();
  auto p = pake::prover<TestType>::start(secrets, ids);
  auto v = pake::verifier<TestType>::start(record_of(secrets), ids, p.share());
  REQUIRE(v.has_value());
  auto c = p.receive(v->response());
  REQUIRE(c.has_value());
  auto k = v->finish(c->message);
  REQUIRE(k.has_value());
  auto& client = c->keys;
  auto& server = *k;
  const auto exported = client.export_key("label", {}, 32);
  CHECK(client.can_make_session());

  auto a = std::move(client).make_session();
  auto b = std::move(server).make_session();
  // The traffic keys are gone: no second session at packet number 0.
  CHECK_FALSE(client.can_make_session());
  try {
    (void)std::move(client).make_session();
    FAIL("a second make_session succeeded");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::already_finished);
  }
  CHECK_THROWS_AS((void)client.shared_key(), sepal::error);
  // The exporter is another secret: still usable, and still agrees.
  CHECK(sepal::constant_time_equal(client.export_key("label", {}, 32), exported));
  CHECK(sepal::constant_time_equal(server.export_key("label", {}, 32), exported));
  // The one session works.
  const auto msg = as_bytes("one session per exchange");
  bytes wire(msg.size() + 64), got(msg.size() + 64);
  REQUIRE(b.open({}, a.seal({}, msg, wire), got).has_value());

  // A moved-from object holds nothing: make_session says already_finished,
  // the exporter moved_from.
  auto p2 = pake::prover<TestType>::start(secrets, ids);
  auto v2 = pake::verifier<TestType>::start(record_of(secrets), ids, p2.share());
  auto c2 = p2.receive(v2->response());
  REQUIRE(c2.has_value());
  keys_t moved = std::move(c2->keys);
  CHECK(moved.can_make_session());
  try {
    (void)std::move(c2->keys).make_session();
    FAIL("make_session on a moved-from exchange_keys succeeded");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::already_finished);
  }
  try {
    (void)c2->keys.export_key("label", {}, 32);
    FAIL("export_key on a moved-from exchange_keys succeeded");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::moved_from);
  }
  CHECK_NOTHROW((void)std::move(moved).make_session());
}

TEMPLATE_LIST_TEST_CASE("Finding 7: malformed messages spend neither prover nor verifier", "[spake2plus][finding7]",
                        spake_suites) {
  const auto secrets = random_secrets<TestType>();
  const auto record = record_of(secrets);
  auto p = pake::prover<TestType>::start(secrets, ids);
  auto v = pake::verifier<TestType>::start(record, ids, p.share());
  REQUIRE(v.has_value());
  const bytes response = copy(v->response());

  // The prover's one input: shareV || confirmV. Its shape is public.
  bytes not_a_point = response;
  std::fill(not_a_point.begin() + 1, not_a_point.begin() + TestType::point_size, 0xff);  // x >= p
  const bytes longer = [&] { auto b = response; b.push_back(0); return b; }();
  for (const auto& bad : {bytes{0x04}, bytes{}, bytes(response.begin(), response.end() - 1), longer, not_a_point}) {
    CHECK(p.receive(bad).error() == errc::invalid_encoding);
  }
  auto c = p.receive(response);
  REQUIRE(c.has_value());

  // The verifier's input after start: confirmP.
  const bytes confirm = copy(c->message);
  const bytes longer_confirm = [&] { auto b = confirm; b.push_back(0); return b; }();
  for (const auto& bad : {bytes{0x00}, bytes{}, bytes(confirm.begin(), confirm.end() - 1), longer_confirm}) {
    CHECK(v->finish(bad).error() == errc::invalid_encoding);
    CHECK_FALSE(v->finished());
  }
  REQUIRE(v->finish(confirm).has_value());
  CHECK(v->finished());

  // A well-formed wrong confirmation still spends (one guess per exchange).
  auto p2 = pake::prover<TestType>::start(secrets, ids);
  auto v2 = pake::verifier<TestType>::start(record, ids, p2.share());
  CHECK(v2->finish(bytes(TestType::confirm_size, 0)).error() == errc::authentication_failed);
  auto c2 = p2.receive(v2->response());
  REQUIRE(c2.has_value());
  CHECK(v2->finish(c2->message).error() == errc::already_finished);
}

TEST_CASE("Finding 14: a spent exchange reports already_finished, named so", "[spake2plus][finding14]") {
  using S = pake::p256_sha256;
  const auto secrets = random_secrets<S>();
  auto p = pake::prover<S>::start(secrets, ids);
  auto v = pake::verifier<S>::start(record_of(secrets), ids, p.share());
  auto c = p.receive(v->response());
  REQUIRE(c.has_value());
  REQUIRE(v->finish(c->message).has_value());
  const auto e1 = p.receive(v->response()).error();
  const auto e2 = v->finish(c->message).error();
  CHECK(e1 == errc::already_finished);
  CHECK(e2 == errc::already_finished);
  CHECK(sepal::describe(e1) == "already finished");
  CHECK(sepal::describe(e1) != sepal::describe(errc::closed));
}

TEMPLATE_LIST_TEST_CASE("wrong password and swapped identities fail at confirmation", "[spake2plus]", spake_suites) {
  const auto right = random_secrets<TestType>();
  const auto record = record_of(right);
  SECTION("wrong password") {
    const auto o = run(random_secrets<TestType>(), record);
    CHECK_FALSE(o.prover_ok);
    CHECK(o.prover == errc::authentication_failed);
    CHECK(o.verifier == errc::authentication_failed);
  }
  SECTION("w0 right, w1 wrong (a stolen record is not enough to log in)") {
    auto thief = pake::prover_secrets<TestType>::from_scalars(right.w0().reveal(),
                                                              random_secrets<TestType>().w1().reveal());
    REQUIRE(thief.has_value());
    const auto o = run(*thief, record);
    CHECK(o.prover == errc::authentication_failed);
    CHECK(o.verifier == errc::authentication_failed);
  }
  SECTION("swapped identities") {
    const pake::identities swapped{ids.context, ids.verifier, ids.prover};
    const auto o = run(right, record, swapped, ids);
    CHECK(o.prover == errc::authentication_failed);
    CHECK(o.verifier == errc::authentication_failed);
  }
  SECTION("another context") {
    const pake::identities other{"other protocol", ids.prover, ids.verifier};
    const auto o = run(right, record, ids, other);
    CHECK(o.prover == errc::authentication_failed);
    CHECK(o.verifier == errc::authentication_failed);
  }
  SECTION("control: the right password") {
    const auto o = run(right, record);
    CHECK(o.prover_ok);
    CHECK(o.verifier_ok);
  }
}

TEMPLATE_LIST_TEST_CASE("tampered, invalid and replayed messages are rejected without throwing", "[spake2plus]",
                        spake_suites) {
  const auto secrets = random_secrets<TestType>();
  const auto record = record_of(secrets);
  auto p = pake::prover<TestType>::start(secrets, ids);
  const bytes share(p.share().begin(), p.share().end());

  SECTION("every bit flip of shareP fails, at start or at finish") {
    for (std::size_t bit = 0; bit < share.size() * 8; bit += 7) {
      auto bad = share;
      bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      auto v = pake::verifier<TestType>::start(record, ids, bad);
      if (!v) {
        CHECK(v.error() == errc::invalid_encoding);  // off the curve or not uncompressed
        continue;
      }
      // On the curve: the honest prover cannot confirm against it.
      auto fresh = pake::prover<TestType>::start(secrets, ids);
      CHECK(fresh.receive(v->response()).error() == errc::authentication_failed);
      CHECK(v->finish(bytes(TestType::confirm_size, 0)).error() == errc::authentication_failed);
    }
  }
  SECTION("the identity, off-curve points and wrong sizes are invalid_encoding") {
    const bytes identity{0x00};
    bytes zeros(TestType::point_size, 0);
    zeros[0] = 0x04;
    bytes off = share;
    off.back() ^= 1;  // same x, wrong y
    bytes compressed(1 + (TestType::point_size - 1) / 2, 0x02);
    std::copy(share.begin() + 1, share.begin() + 1 + (TestType::point_size - 1) / 2, compressed.begin() + 1);
    for (const auto& bad : {identity, zeros, off, compressed, bytes{}, bytes(TestType::point_size + 1, 4)}) {
      auto v = pake::verifier<TestType>::start(record, ids, bad);
      REQUIRE_FALSE(v.has_value());
      CHECK(v.error() == errc::invalid_encoding);
      // As shareV: invalid_encoding, and the prover is not spent by it.
      bytes response = bad;
      response.resize(TestType::point_size + TestType::confirm_size, 0);
      if (bad.size() == TestType::point_size) CHECK(p.receive(response).error() == errc::invalid_encoding);
    }
    auto v = pake::verifier<TestType>::start(record, ids, share);
    REQUIRE(v.has_value());
    CHECK(p.receive(v->response()).has_value());
  }
  SECTION("X = w0*M, which makes Z the identity, fails at finish like a wrong password") {
    // Only someone who knows w0 can send it. Botan aborts on it; sepal must
    // answer as for a wrong guess, or the abort would confirm a guess of w0
    // without spending a confirmation.
    const auto& params = pake::detail::parameters<TestType>();
    const auto w0 = *pake::detail::scalar<TestType>(secrets.w0().reveal());
    const auto x = params.spake2p_m().mul(w0, sepal::system_rng()).serialize_uncompressed();
    auto v = pake::verifier<TestType>::start(record, ids, x);
    REQUIRE(v.has_value());
    // The answer has the shape of any other: a point and a confirmation.
    REQUIRE(v->response().size() == pake::prover<TestType>::response_size);
    CHECK(pake::detail::is_share<TestType>(v->response().first(TestType::point_size)));
    auto v2 = pake::verifier<TestType>::start(record, ids, x);
    REQUIRE(v2.has_value());
    CHECK(copy(v->response()) != copy(v2->response()));  // fresh each time, like y
    // A malformed confirm still spends nothing; a well-formed one fails.
    CHECK(v->finish(bytes(TestType::confirm_size + 1, 0)).error() == errc::invalid_encoding);
    CHECK_FALSE(v->finished());
    CHECK(v->finish(bytes(TestType::confirm_size, 0)).error() == errc::authentication_failed);
    CHECK(v->finished());
    CHECK(v->finish(bytes(TestType::confirm_size, 0)).error() == errc::already_finished);
    // The honest prover rejects the decoy answer like any wrong one.
    CHECK(p.receive(v2->response()).error() == errc::authentication_failed);
  }
  SECTION("shareV = w0*N, which makes Z and V the identity, fails at the prover and spends it") {
    const auto& params = pake::detail::parameters<TestType>();
    const auto w0 = *pake::detail::scalar<TestType>(secrets.w0().reveal());
    auto response = params.spake2p_n().mul(w0, sepal::system_rng()).serialize_uncompressed();
    response.resize(pake::prover<TestType>::response_size, 0);
    CHECK(p.receive(response).error() == errc::authentication_failed);
    auto v = pake::verifier<TestType>::start(record, ids, share);
    REQUIRE(v.has_value());
    CHECK(p.receive(v->response()).error() == errc::already_finished);
  }
  SECTION("every bit flip of shareV || confirmV fails at the prover") {
    auto v = pake::verifier<TestType>::start(record, ids, share);
    REQUIRE(v.has_value());
    const bytes response(v->response().begin(), v->response().end());
    for (std::size_t bit = 0; bit < response.size() * 8; bit += 5) {
      auto bad = response;
      bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      auto q = pake::prover<TestType>::start(secrets, ids);
      auto vv = pake::verifier<TestType>::start(record, ids, q.share());
      REQUIRE(vv.has_value());
      bytes r2(vv->response().begin(), vv->response().end());
      r2[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      const auto e = q.receive(r2).error();
      CHECK((e == errc::authentication_failed || e == errc::invalid_encoding));
    }
  }
  SECTION("every bit flip of confirmP fails at the verifier") {
    auto v = pake::verifier<TestType>::start(record, ids, share);
    REQUIRE(v.has_value());
    auto c = p.receive(v->response());
    REQUIRE(c.has_value());
    for (std::size_t bit = 0; bit < TestType::confirm_size * 8; ++bit) {
      auto q = pake::prover<TestType>::start(secrets, ids);
      auto vv = pake::verifier<TestType>::start(record, ids, q.share());
      auto cc = q.receive(vv->response());
      REQUIRE(cc.has_value());
      bytes bad(cc->message.begin(), cc->message.end());
      bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      CHECK(vv->finish(bad).error() == errc::authentication_failed);
    }
  }
  SECTION("replays: an old shareP or confirmP does not make a new exchange succeed") {
    auto v1 = pake::verifier<TestType>::start(record, ids, share);
    auto c1 = p.receive(v1->response());
    REQUIRE(c1.has_value());
    REQUIRE(v1->finish(c1->message).has_value());
    // An eavesdropper replays shareP, then confirmP, to a new verifier.
    auto v2 = pake::verifier<TestType>::start(record, ids, share);
    REQUIRE(v2.has_value());
    CHECK(v2->finish(c1->message).error() == errc::authentication_failed);
    // Or replays the old response to a new prover.
    auto q = pake::prover<TestType>::start(secrets, ids);
    CHECK(q.receive(v1->response()).error() == errc::authentication_failed);
  }
}

TEMPLATE_LIST_TEST_CASE("registration derives the same secrets again; records hold no w1", "[spake2plus][registration]",
                        spake_suites) {
  for (const auto kdf : {cheap_argon, cheap_scrypt}) {
    auto record = pake::register_password<TestType>("correct horse", "alice", "server.example", kdf);
    CHECK(record.kdf() == kdf);
    CHECK(record.salt().size() == pake::prover_secrets<TestType>::salt_size);
    const auto again = pake::prover_secrets<TestType>::derive("correct horse", "alice", "server.example", kdf,
                                                              record.salt());
    CHECK(sepal::constant_time_equal(again.w0(), record.w0()));
    CHECK(copy(again.verifier_point()) == copy(record.verifier_point()));
    // Nothing in the record is w1.
    const auto stored = record.serialize();
    const auto w1 = copy(again.w1().reveal());
    CHECK(std::search(stored.reveal().begin(), stored.reveal().end(), w1.begin(), w1.end()) ==
          stored.reveal().end());
    // Any change of password, identities or salt changes the secrets.
    CHECK_FALSE(sepal::constant_time_equal(
        pake::prover_secrets<TestType>::derive("correct horsE", "alice", "server.example", kdf, record.salt()).w0(),
        record.w0()));
    CHECK_FALSE(sepal::constant_time_equal(
        pake::prover_secrets<TestType>::derive("correct horse", "alicf", "server.example", kdf, record.salt()).w0(),
        record.w0()));
    // Length prefixes keep ("ab", "c") apart from ("a", "bc").
    CHECK_FALSE(sepal::constant_time_equal(
        pake::prover_secrets<TestType>::derive("correct horsea", "lice", "server.example", kdf, record.salt()).w0(),
        record.w0()));
    // A second registration of the same password draws another salt.
    auto other = pake::register_password<TestType>("correct horse", "alice", "server.example", kdf);
    CHECK(copy(other.salt()) != copy(record.salt()));
    CHECK(copy(other.verifier_point()) != copy(record.verifier_point()));
    // And the exchange works.
    CHECK(run(again, record).verifier_ok);
  }
}

TEMPLATE_LIST_TEST_CASE("records round-trip and malformed records are rejected", "[spake2plus][registration]",
                        spake_suites) {
  auto record = pake::register_password<TestType>("pw", "alice", "server.example", cheap_argon);
  const auto good = copy(record.serialize().reveal());
  auto parsed = pake::verifier_record<TestType>::parse(good);
  REQUIRE(parsed.has_value());
  CHECK(copy(parsed->serialize().reveal()) == good);
  CHECK(parsed->kdf() == record.kdf());

  const std::size_t salt_at = 2 + 13;  // version, suite, KDF
  const std::size_t w0_at = salt_at + 1 + record.salt().size();
  const std::size_t l_at = w0_at + TestType::scalar_size;
  REQUIRE(l_at + TestType::point_size == good.size());
  std::vector<bytes> bad;
  for (std::size_t n = 0; n < good.size(); ++n) bad.emplace_back(good.begin(), good.begin() + static_cast<long>(n));
  auto with = [&](std::size_t at, std::uint8_t v) {
    auto b = good;
    b[at] = v;
    return b;
  };
  bad.push_back(with(0, 2));                                  // another version
  bad.push_back(with(1, static_cast<std::uint8_t>(TestType::id % 5 + 1)));  // another suite
  bad.push_back(with(2, 9));                                  // unknown KDF
  bad.push_back(with(2, 3));                                  // external, but with parameters and a salt
  bad.push_back(with(3, 0xff));                               // 4 GiB of memory: over the limits
  bad.push_back(with(salt_at, 15));                           // salt length disagrees with the rest
  auto long_tail = good;
  long_tail.push_back(0);
  bad.push_back(long_tail);                                   // trailing byte
  auto big_w0 = good;
  std::fill(big_w0.begin() + static_cast<long>(w0_at), big_w0.begin() + static_cast<long>(l_at), 0xff);
  bad.push_back(big_w0);                                      // w0 >= order
  bad.push_back(with(l_at, 0x02));                            // L not uncompressed
  bad.push_back(with(good.size() - 1, good.back() ^ 1));      // L off the curve
  for (const auto& b : bad) {
    auto r = pake::verifier_record<TestType>::parse(b);
    CHECK_FALSE(r.has_value());
    if (!r) CHECK(r.error() == errc::invalid_encoding);
  }
  // Limits are the parser's too.
  pake::password_kdf_limits tight;
  tight.max_memory_kib = 32;
  CHECK(pake::verifier_record<TestType>::parse(good, tight).error() == errc::invalid_encoding);
  // A record from prehashed secrets has no salt and an external KDF.
  auto ext = record_of(random_secrets<TestType>());
  auto ext_parsed = pake::verifier_record<TestType>::parse(ext.serialize().reveal());
  REQUIRE(ext_parsed.has_value());
  CHECK(ext_parsed->kdf() == pake::password_kdf::external());
}

TEST_CASE("prehashed and scalar entry points check their input", "[spake2plus][registration]") {
  using S = pake::p256_sha256;
  CHECK_THROWS_AS(pake::prover_secrets<S>::from_seed(bytes(2 * S::w_seed_size - 2, 1)), sepal::error);
  CHECK_THROWS_AS(pake::prover_secrets<S>::from_seed(bytes(2 * S::w_seed_size + 1, 1)), sepal::error);
  CHECK_THROWS_AS(pake::prover_secrets<S>::from_seed(bytes(4 * S::scalar_size + 2, 1)), sepal::error);
  CHECK_NOTHROW(pake::prover_secrets<S>::from_seed(bytes(4 * S::scalar_size, 1)));
  // from_seed reduces mod p: w0s = p + 1 gives w0 = 1.
  const auto order = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  bytes seed(2 * S::w_seed_size, 0);
  std::copy(order.begin(), order.end(), seed.begin() + (S::w_seed_size - order.size()));
  seed[S::w_seed_size - 1] += 1;
  seed.back() = 7;
  const auto s = pake::prover_secrets<S>::from_seed(seed);
  CHECK(to_hex(s.w0().reveal()) == std::string(62, '0') + "01");
  CHECK(to_hex(s.w1().reveal()) == std::string(62, '0') + "07");
  // from_scalars wants canonical scalars and a nonzero w1.
  CHECK(pake::prover_secrets<S>::from_scalars(order, bytes(32, 1)).error() == errc::invalid_encoding);
  CHECK(pake::prover_secrets<S>::from_scalars(bytes(32, 1), bytes(32, 0)).error() == errc::invalid_encoding);
  CHECK(pake::prover_secrets<S>::from_scalars(bytes(31, 1), bytes(32, 1)).error() == errc::invalid_encoding);
  CHECK(pake::prover_secrets<S>::from_scalars(bytes(32, 1), bytes(32, 1)).has_value());
  // derive refuses the external marker; records want a salt exactly when the KDF has one.
  CHECK_THROWS_AS(pake::prover_secrets<S>::derive("pw", "a", "b", pake::password_kdf::external(), {}), sepal::error);
  const auto secrets = pake::prover_secrets<S>::from_seed(bytes(2 * S::w_seed_size, 3));
  CHECK_THROWS_AS(pake::verifier_record<S>::create(secrets, cheap_argon, {}), sepal::error);
  CHECK_THROWS_AS(pake::verifier_record<S>::create(secrets, pake::password_kdf::external(), bytes(16, 0)),
                  sepal::error);
}

TEST_CASE("KDF limits bound what a client will run", "[spake2plus][registration]") {
  const pake::password_kdf_limits limits;
  CHECK(limits.allow(pake::password_kdf::argon2id()));
  CHECK(limits.allow(pake::password_kdf::scrypt()));
  CHECK(limits.allow(pake::password_kdf::scrypt(1u << 15, 8, 2)));           // the same work
  CHECK_FALSE(limits.allow(pake::password_kdf::scrypt(1u << 16, 8, 2)));     // twice the default's time
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(2u << 20, 3, 4)));  // 2 GiB
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(65536, 0, 4)));     // t = 0
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(65536, 100, 4)));   // too slow
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(16, 1, 4)));        // m < 8p
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(65536, 3, 0)));
  CHECK_FALSE(limits.allow(pake::password_kdf::scrypt(1000, 8, 1)));        // not a power of two
  CHECK_FALSE(limits.allow(pake::password_kdf::scrypt(1u << 24, 8, 1)));    // 16 GiB
  CHECK_FALSE(limits.allow(pake::password_kdf::external()));
  CHECK(pake::password_kdf::scrypt().memory_kib() == 65536);
}

TEST_CASE("KDF limits default to exactly the registration defaults", "[spake2plus][registration][kdf_limits]") {
  const pake::password_kdf_limits limits;
  CHECK(limits.max_memory_kib == 65536);
  CHECK(limits.max_iterations == 3);
  CHECK(limits.max_parallelism == 4);
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(65536 + 8, 3, 4)));  // a little more memory
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(65536, 4, 4)));      // one more pass
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(65536, 3, 5)));      // one more lane
  CHECK_FALSE(limits.allow(pake::password_kdf::argon2id(1u << 20, 16, 16))); // the old 1 GiB, t = 16 default
  CHECK_FALSE(limits.allow(pake::password_kdf::scrypt(1u << 17, 8, 1)));
  // A record asking for more than the defaults does not parse with them,
  // before any KDF work (2^20 KiB and t = 16 would take seconds).
  using S = pake::p256_sha256;
  const auto secrets = random_secrets<S>();
  const auto big = pake::verifier_record<S>::create(secrets, pake::password_kdf::argon2id(1u << 20, 16, 4), bytes(16, 1));
  CHECK(pake::verifier_record<S>::parse(big.serialize().reveal()).error() == errc::invalid_encoding);
  pake::password_kdf_limits generous;
  generous.max_memory_kib = 1u << 20;
  generous.max_iterations = 16;
  CHECK(pake::verifier_record<S>::parse(big.serialize().reveal(), generous).has_value());
}

TEMPLATE_LIST_TEST_CASE("records written before the move to Botan's SPAKE2+ still verify", "[spake2plus][registration]",
                        spake_suites) {
  const auto& old = records_before_botan<TestType>;
  REQUIRE_FALSE(old.argon.empty());
  const auto check_record = [](const bytes& stored, const pake::prover_secrets<TestType>& secrets) {
    auto record = pake::verifier_record<TestType>::parse(stored);
    REQUIRE(record.has_value());
    CHECK(copy(record->serialize().reveal()) == stored);
    CHECK(sepal::constant_time_equal(secrets.w0(), record->w0()));
    CHECK(copy(secrets.verifier_point()) == copy(record->verifier_point()));
    const auto o = run(secrets, *record);
    CHECK(o.prover_ok);
    CHECK(o.verifier_ok);
    const auto wrong = run(random_secrets<TestType>(), *record);
    CHECK(wrong.prover == errc::authentication_failed);
    CHECK(wrong.verifier == errc::authentication_failed);
  };
  SECTION("registered with a password") {
    const auto stored = hex(std::string(old.argon));
    const auto record = pake::verifier_record<TestType>::parse(stored);
    REQUIRE(record.has_value());
    CHECK(record->kdf() == cheap_argon);
    check_record(stored, pake::prover_secrets<TestType>::derive("correct horse battery staple", "alice",
                                                                  "server.example", record->kdf(), record->salt()));
  }
  SECTION("prehashed") {
    bytes seed(2 * TestType::w_seed_size);
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
    check_record(hex(std::string(old.external)), pake::prover_secrets<TestType>::from_seed(seed));
  }
}

TEMPLATE_LIST_TEST_CASE("moved-from provers, verifiers, secrets and records fail safely", "[spake2plus]", spake_suites) {
  auto secrets = random_secrets<TestType>();
  auto record = record_of(secrets);
  auto p = pake::prover<TestType>::start(secrets, ids);
  auto v = pake::verifier<TestType>::start(record, ids, p.share());
  REQUIRE(v.has_value());
  auto p2 = std::move(p);
  auto v2 = std::move(*v);
  CHECK(p.receive(v2.response()).error() == errc::moved_from);
  CHECK(v->finish(bytes(TestType::confirm_size, 0)).error() == errc::moved_from);
  auto c = p2.receive(v2.response());
  REQUIRE(c.has_value());
  REQUIRE(v2.finish(c->message).has_value());

  auto moved_secrets = std::move(secrets);
  auto moved_record = std::move(record);
  try {
    (void)pake::prover<TestType>::start(secrets, ids);
    FAIL("start with moved-from secrets succeeded");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::moved_from);
  }
  auto q = pake::prover<TestType>::start(moved_secrets, ids);
  CHECK(pake::verifier<TestType>::start(record, ids, q.share()).error() == errc::moved_from);
  CHECK(pake::verifier<TestType>::start(moved_record, ids, q.share()).has_value());
}
