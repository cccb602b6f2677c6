#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <random>

#include <sepal/session.hpp>

#include "test_support.hpp"

using namespace sepal_test;
using sepal::errc;

namespace {

const bytes secret_a = hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
const bytes secret_b = hex("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0");

template <class Sealer>
bytes seal(Sealer& s, std::span<const std::uint8_t> payload, std::span<const std::uint8_t> ad = {}) {
  bytes out(payload.size() + Sealer::overhead);
  return copy(s.seal(ad, payload, out));
}

template <class Opener>
sepal::result<bytes> open(Opener& o, std::span<const std::uint8_t> packet, std::span<const std::uint8_t> ad = {}) {
  bytes out(packet.size());
  auto r = o.open(ad, packet, out);
  if (!r) return r.error();
  return copy(*r);
}

using suites = std::tuple<sepal::cipher_suite<sepal::aes128_gcm, sepal::sha256>,
                          sepal::cipher_suite<sepal::aes256_gcm, sepal::sha256>,
                          sepal::cipher_suite<sepal::chacha20_poly1305, sepal::sha256>,
                          sepal::cipher_suite<sepal::aes256_gcm, sepal::sha384>,
                          sepal::cipher_suite<sepal::aes128_gcm_siv, sepal::sha256>,
                          sepal::cipher_suite<sepal::aes256_gcm_siv, sepal::sha256>>;

constexpr sepal::session_options no_hp{.header_protection = false};

}  // namespace

TEMPLATE_LIST_TEST_CASE("sessions carry packets both ways, in place and out of place", "[session]", suites) {
  sepal::session<TestType> alice(secret(secret_a), secret(secret_b)), bob(secret(secret_b), secret(secret_a));
  const auto ad = as_bytes("connection-id-7");
  for (std::size_t n : {0, 1, 15, 16, 17, 64, 1200, 9000}) {
    bytes payload(n, static_cast<std::uint8_t>(n));
    bytes out(n + decltype(alice)::overhead);
    const auto packet = copy(alice.seal(ad, payload, out));
    CHECK(packet.size() == n + decltype(alice)::overhead);
    bytes got(n);
    auto r = bob.open(ad, packet, got);
    REQUIRE(r.has_value());
    CHECK(copy(*r) == payload);
    // The reverse direction, in place.
    bytes buf(n + decltype(bob)::overhead);
    std::copy(payload.begin(), payload.end(), buf.begin() + 5);
    const auto p2 = bob.seal_in_place(ad, buf, n);
    auto r2 = alice.receiver().open_in_place(ad, p2);
    REQUIRE(r2.has_value());
    CHECK(copy(*r2) == payload);
  }
}

TEMPLATE_LIST_TEST_CASE("in-place sealing equals out-of-place sealing", "[session]", suites) {
  sepal::sealer<TestType> s1(secret(secret_a)), s2(secret(secret_a));
  for (std::size_t n = 0; n < 100; n += 7) {
    bytes payload(n, 0x33);
    const auto a = seal(s1, payload);
    bytes buf(n + s2.overhead);
    std::copy(payload.begin(), payload.end(), buf.begin() + 5);
    CHECK(copy(s2.seal_in_place({}, buf, n)) == a);
  }
}

TEST_CASE("the two directions use different keys", "[session]") {
  sepal::session<> alice(secret(secret_a), secret(secret_b));
  const auto packet = seal(alice, as_bytes("x"));
  CHECK(open(alice.receiver(), packet).error() == errc::authentication_failed);  // own packet reflected back
}

TEST_CASE("header protection hides the packet number and key phase", "[session]") {
  sepal::sealer<> hidden(secret(secret_a));
  sepal::sealer<sepal::default_cipher_suite, no_hp> plain(secret(secret_a));
  bytes first_plain, first_hidden;
  for (int i = 0; i < 4; ++i) {
    const auto p = seal(plain, as_bytes("same"));
    const auto h = seal(hidden, as_bytes("same"));
    CHECK(p[0] == 0x43);
    CHECK(to_hex(std::span(p).subspan(1, 4)) == to_hex(hex("0000000" + std::to_string(i))));
    CHECK(std::equal(p.begin() + 5, p.end(), h.begin() + 5));  // same ciphertext
    CHECK((h[0] & 0xe0) == 0x40);                               // only the low five bits are masked
  }
  plain.update_key();
  CHECK(seal(plain, as_bytes("k"))[0] == 0x47);  // key phase bit on the wire without protection
}

TEST_CASE("replays, old packets and reordering inside the window", "[session]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  std::vector<bytes> packets;
  for (int i = 0; i < 3000; ++i) packets.push_back(seal(s, as_bytes(std::to_string(i))));
  // Deliver 2999 first, then a shuffled window's worth of the others.
  REQUIRE(open(o, packets[2999]).has_value());
  std::vector<int> order(2047);
  std::iota(order.begin(), order.end(), 2999 - 2047);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (int i : order) REQUIRE(open(o, packets[static_cast<std::size_t>(i)]).has_value());
  for (int i : order) REQUIRE(open(o, packets[static_cast<std::size_t>(i)]).error() == errc::replayed);
  CHECK(open(o, packets[2999]).error() == errc::replayed);
  // The original server's flaw: a packet replayed 300 packets later.
  CHECK(open(o, packets[2999 - 300]).error() == errc::replayed);
  CHECK(open(o, packets[0]).error() == errc::replayed);  // older than the window
  CHECK(open(o, packets[2999 - 2048]).error() == errc::replayed);
}

TEST_CASE("every bit flip of every packet byte is rejected and changes nothing", "[session][props]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  (void)open(o, seal(s, as_bytes("warm up")));
  const auto packet = seal(s, as_bytes("the real packet, 32 bytes long.."));
  for (std::size_t bit = 0; bit < packet.size() * 8; ++bit) {
    auto bad = packet;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    bytes out(packet.size(), 0xEE);
    auto r = o.open({}, bad, out);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0 || b == 0xEE; }));
  }
  // Forgeries moved nothing: the genuine packet still opens, once.
  CHECK(open(o, packet).has_value());
  CHECK(open(o, packet).error() == errc::replayed);
}

TEST_CASE("garbage, short and truncated packets fail without throwing", "[session]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  const auto packet = seal(s, as_bytes("abc"));
  for (std::size_t n = 0; n < packet.size(); ++n) CHECK_FALSE(open(o, std::span(packet).first(n)).has_value());
  CHECK(open(o, bytes{}).error() == errc::invalid_encoding);
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    bytes junk(static_cast<std::size_t>(rng() % 80));
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    CHECK_FALSE(open(o, junk).has_value());
  }
  bytes small(2);
  CHECK(o.open({}, packet, small).error() == errc::invalid_argument);
  CHECK(open(o, packet).has_value());
}

TEST_CASE("associated data must match", "[session]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  const auto p = seal(s, as_bytes("abc"), as_bytes("conn-1"));
  CHECK(open(o, p, as_bytes("conn-2")).error() == errc::authentication_failed);
  CHECK(open(o, p, as_bytes("conn-1")).has_value());
}

TEST_CASE("key updates are followed across reordering; old keys expire", "[session][keyupdate]") {
  constexpr sepal::session_options opts{.replay_window = 256, .previous_key_lifetime = 64};
  sepal::sealer<sepal::default_cipher_suite, opts> s(secret(secret_a));
  sepal::opener<sepal::default_cipher_suite, opts> o(secret(secret_a));
  std::vector<bytes> packets;
  for (int gen = 0; gen < 4; ++gen) {
    for (int i = 0; i < 20; ++i) packets.push_back(seal(s, as_bytes(std::to_string(gen))));
    s.update_key();
  }
  // Swap neighbours around each update so old-phase packets arrive late.
  std::vector<std::size_t> order(packets.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = 18; i + 3 < order.size(); i += 20) std::swap(order[i + 1], order[i + 3]);
  for (auto i : order) REQUIRE(open(o, packets[i]).has_value());
  CHECK(o.key_generation() == 3);

  // The previous keys live for previous_key_lifetime packets accepted under
  // the new ones (RFC 9001 §6.5), counting the packet that promoted them.
  for (int accepted : {63, 64}) {
    sepal::sealer<sepal::default_cipher_suite, opts> s2(secret(secret_b));
    sepal::opener<sepal::default_cipher_suite, opts> o2(secret(secret_b));
    const auto late = seal(s2, as_bytes("generation 0, delivered late"));
    s2.update_key();
    for (int i = 0; i < accepted; ++i) REQUIRE(open(o2, seal(s2, as_bytes("generation 1"))).has_value());
    if (accepted < 64) {
      CHECK(open(o2, late).has_value());
    } else {
      CHECK(open(o2, late).error() == errc::authentication_failed);
      CHECK(o2.forged_packets() == 0);  // no keys applied: nothing was decrypted, not a forgery
    }
  }
}

TEST_CASE("the sealer updates keys itself at the confidentiality limit", "[session][limits]") {
  constexpr sepal::session_options opts{.confidentiality_limit = 5};
  sepal::sealer<sepal::default_cipher_suite, opts> s(secret(secret_a));
  sepal::opener<sepal::default_cipher_suite, opts> o(secret(secret_a));
  for (int i = 0; i < 23; ++i) REQUIRE(open(o, seal(s, as_bytes("x"))).has_value());
  CHECK(s.key_generation() == 4);  // updated before packets 5, 10, 15, 20
  CHECK(o.key_generation() == 4);
  static_assert(decltype(s)::confidentiality_limit == 5);
  static_assert(sepal::sealer<>::confidentiality_limit == sepal::aes256_gcm::confidentiality_limit);
}

TEST_CASE("the opener closes at the integrity limit", "[session][limits]") {
  constexpr sepal::session_options opts{.integrity_limit = 3};
  sepal::sealer<sepal::default_cipher_suite, opts> s(secret(secret_a));
  sepal::opener<sepal::default_cipher_suite, opts> o(secret(secret_a));
  auto forged = seal(s, as_bytes("x"));
  forged.back() ^= 1;
  const auto good = seal(s, as_bytes("y"));
  for (int i = 0; i < 3; ++i) CHECK(open(o, forged).error() == errc::authentication_failed);
  CHECK(o.closed());
  CHECK(open(o, good).error() == errc::closed);
}

TEST_CASE("the sealer refuses to exhaust the packet number space", "[session][limits]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::detail::sealer_testing::skip_packet_numbers(s, (std::uint64_t{1} << 62) - 2);
  CHECK_NOTHROW(seal(s, as_bytes("2^62-2")));
  CHECK_NOTHROW(seal(s, as_bytes("2^62-1")));
  try {
    (void)seal(s, as_bytes("would repeat a nonce eventually"));
    FAIL("sealing past 2^62 - 1 must throw");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::limit_reached);
  }
}

TEST_CASE("packet numbers decode across the 32-bit truncation boundary", "[session]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  sepal::detail::sealer_testing::skip_packet_numbers(s, (std::uint64_t{1} << 32) - 10);
  std::vector<bytes> packets;
  for (int i = 0; i < 20; ++i) packets.push_back(seal(s, as_bytes("w")));
  std::swap(packets[8], packets[12]);  // reorder across the wrap
  for (const auto& p : packets) REQUIRE(open(o, p).has_value());
  CHECK(sepal::detail::decode_packet_number(0xa82f30ea, 0x9b32, 16) == 0xa82f9b32);  // RFC 9000 §A.3 example
}

TEST_CASE("hardening #6: an unauthenticated next-phase packet evicts no keys", "[session][keyupdate][hardening]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  std::vector<bytes> late;
  for (int i = 0; i < 10; ++i) late.push_back(seal(s, as_bytes("generation 0")));
  s.update_key();
  REQUIRE(open(o, seal(s, as_bytes("generation 1"))).has_value());  // the opener follows
  REQUIRE(o.key_generation() == 1);
  // Off-path garbage: random bytes with the fixed bit, both phase bits
  // (header protection makes the phase random), fresh packet numbers.
  std::mt19937 rng(20);
  for (int i = 0; i < 200; ++i) {
    bytes junk(64);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    junk[0] = static_cast<std::uint8_t>((junk[0] & 0x1f) | 0x40);
    CHECK_FALSE(open(o, junk).has_value());
  }
  // A forged packet of the next generation, at a fresh packet number.
  sepal::sealer<> ahead(secret(secret_a));
  sepal::detail::sealer_testing::skip_packet_numbers(ahead, 100);
  ahead.update_key();
  ahead.update_key();
  auto forged = seal(ahead, as_bytes("generation 2, tampered"));
  forged.back() ^= 1;
  CHECK(open(o, forged).error() == errc::authentication_failed);
  // Every genuine late packet of the previous generation still opens, and
  // so does the current generation.
  for (const auto& p : late) CHECK(open(o, p).has_value());
  CHECK(open(o, seal(s, as_bytes("generation 1 again"))).has_value());
  CHECK(o.key_generation() == 1);
  // The genuine next update is still followed.
  s.update_key();
  CHECK(open(o, seal(s, as_bytes("generation 2"))).has_value());
  CHECK(o.key_generation() == 2);
}

TEST_CASE("hardening #13: moved-from sealers, openers and sessions fail safely", "[session][hardening]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::opener<> o(secret(secret_a));
  const auto packet = seal(s, as_bytes("before the move"));
  auto s2 = std::move(s);
  auto o2 = std::move(o);
  bytes out(64);
  try {
    (void)s.seal({}, as_bytes("x"), out);  // NOLINT(bugprone-use-after-move): the point of the test
    FAIL("seal on a moved-from sealer must throw");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::moved_from);
  }
  CHECK_THROWS_AS(s.update_key(), sepal::error);                     // NOLINT(bugprone-use-after-move)
  CHECK(o.open({}, packet, out).error() == errc::moved_from);        // NOLINT(bugprone-use-after-move)
  bytes in_place = packet;
  CHECK(o.open_in_place({}, in_place).error() == errc::moved_from);  // NOLINT(bugprone-use-after-move)
  CHECK(open(o2, packet).has_value());                               // the moved-to objects work
  CHECK(open(o2, seal(s2, as_bytes("after"))).has_value());

  sepal::session<> alice(secret(secret_a), secret(secret_b));
  auto moved = std::move(alice);
  CHECK_THROWS_AS(alice.seal({}, as_bytes("x"), out), sepal::error);  // NOLINT(bugprone-use-after-move)
  CHECK(alice.open({}, packet, out).error() == errc::moved_from);     // NOLINT(bugprone-use-after-move)
  CHECK_THROWS_AS(sepal::sealer<>(sepal::secret_bytes{}), sepal::error);  // an empty (spent) secret
}

TEST_CASE("hardening #2: the packet number can only be skipped forward in tests", "[session][hardening]") {
  sepal::sealer<> s(secret(secret_a));
  sepal::detail::sealer_testing::skip_packet_numbers(s, 10);
  CHECK_THROWS_AS(sepal::detail::sealer_testing::skip_packet_numbers(s, 9), sepal::error);
  CHECK(s.next_packet_number() == 10);
}

TEST_CASE("hardening: usage limits count large packets by their size", "[session][limits][hardening]") {
  // RFC 9001 §6.6's limits assume packets of at most 2^11 blocks (2^15
  // bytes): a 100 KiB packet counts as 4 of them.
  static_assert(sepal::detail::usage_units(0) == 1);
  static_assert(sepal::detail::usage_units(32767) == 1);
  static_assert(sepal::detail::usage_units(32768) == 2);
  static_assert(sepal::detail::usage_units(100 * 1024) == 4);
  constexpr sepal::session_options opts{.confidentiality_limit = 8, .integrity_limit = 8};
  sepal::sealer<sepal::default_cipher_suite, opts> s(secret(secret_a));
  sepal::opener<sepal::default_cipher_suite, opts> o(secret(secret_a));
  const bytes big(100 * 1024, 0x5a);
  REQUIRE(open(o, seal(s, big)).has_value());  // 4 units
  REQUIRE(open(o, seal(s, big)).has_value());  // 8 units: the limit
  CHECK(s.key_generation() == 0);
  REQUIRE(open(o, seal(s, big)).has_value());  // would pass it: updates first
  CHECK(s.key_generation() == 1);
  auto forged = seal(s, big);
  forged.back() ^= 1;
  CHECK(open(o, forged).error() == errc::authentication_failed);
  CHECK_FALSE(o.closed());  // 4 of 8
  CHECK(open(o, forged).error() == errc::authentication_failed);
  CHECK(o.closed());  // a forged 100 KiB packet counts 4 toward the integrity limit
}

namespace {
constexpr sepal::session_options with_ids{.connection_id_size = 8};
using id_session = sepal::session<sepal::default_cipher_suite, with_ids>;
const sepal::connection_id<8> id_a{0xa0, 1, 2, 3, 4, 5, 6, 7}, id_b{0xb0, 1, 2, 3, 4, 5, 6, 7};
}  // namespace

TEST_CASE("connection ids: each packet carries the receiver's id in the clear, under the AEAD; a packet for another "
          "id is refused before decryption; every byte flip fails",
          "[session][migration]") {
  id_session alice(secret(secret_a), secret(secret_b), id_a, id_b), bob(secret(secret_b), secret(secret_a), id_b, id_a);
  STATIC_REQUIRE(id_session::overhead == 1 + 8 + 4 + 16);
  const auto packet = seal(alice, as_bytes("to bob"));
  REQUIRE(packet.size() == 6 + id_session::overhead);
  CHECK(std::equal(id_b.begin(), id_b.end(), packet.begin() + 1));  // bob's id, unmasked
  // Alice cannot open her own packet: it names bob's id, not hers.
  CHECK(open(alice.receiver(), packet).error() == errc::invalid_encoding);
  CHECK(alice.receiver().forged_packets() == 0);  // refused before any decryption
  for (std::size_t i = 0; i < packet.size(); ++i) {
    auto bad = packet;
    bad[i] ^= 0x01;
    CHECK_FALSE(open(bob.receiver(), bad).has_value());
  }
  CHECK(open(bob.receiver(), packet).value() == as_bytes("to bob"));
}

TEST_CASE("control packets are told apart from data, never opened as data, and do not acknowledge a key update",
          "[session][migration][keyupdate]") {
  id_session alice(secret(secret_a), secret(secret_b), id_a, id_b), bob(secret(secret_b), secret(secret_a), id_b, id_a);
  const bytes frame{1, 9, 9, 9, 9, 9, 9, 9, 9};
  bytes out(frame.size() + id_session::overhead);
  auto control = copy(alice.seal_control(frame, out));
  // The plain open refuses it (after authentication, wiping what it opened).
  bytes plain(control.size(), 0xEE);
  CHECK(bob.receiver().open({}, control, plain).error() == errc::invalid_encoding);
  CHECK(std::all_of(plain.begin(), plain.end(), [](std::uint8_t b) { return b == 0xEE || b == 0; }));
  // receive_in_place says what it is.
  auto again = copy(alice.seal_control(frame, out));
  auto got = bob.receive_in_place({}, again);
  REQUIRE(got.has_value());
  CHECK(got->control);
  CHECK(copy(got->payload) == frame);
  auto data = seal(alice, as_bytes("data"));
  auto d = bob.receive_in_place({}, data);
  REQUIRE(d.has_value());
  CHECK_FALSE(d->control);

  // Bob's receiver follows alice's update; his control packet does not
  // acknowledge it (it may go to an address that is not alice's), a data packet does.
  alice.update_key();
  auto updated = seal(alice, as_bytes("new keys"));
  REQUIRE(bob.receive_in_place({}, updated).has_value());
  CHECK(bob.ack_wanted());
  (void)bob.seal_control(frame, out);
  CHECK(bob.ack_wanted());
  bytes ack(id_session::overhead);
  (void)bob.seal({}, {}, ack);
  CHECK_FALSE(bob.ack_wanted());
}
