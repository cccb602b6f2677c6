#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <random>

#include <sepal/session.hpp>
#include <sepal/stream.hpp>

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
                          sepal::cipher_suite<sepal::aes256_gcm, sepal::sha384>>;

constexpr sepal::session_options no_hp{.header_protection = false};

}  // namespace

TEMPLATE_LIST_TEST_CASE("sessions carry packets both ways, in place and out of place", "[session]", suites) {
  sepal::session<TestType> alice(secret_a, secret_b), bob(secret_b, secret_a);
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
    const auto p2 = bob.sender().seal_in_place(ad, buf, n);
    auto r2 = alice.receiver().open_in_place(ad, p2);
    REQUIRE(r2.has_value());
    CHECK(copy(*r2) == payload);
  }
}

TEMPLATE_LIST_TEST_CASE("in-place sealing equals out-of-place sealing", "[session]", suites) {
  sepal::sealer<TestType> s1(secret_a), s2(secret_a);
  for (std::size_t n = 0; n < 100; n += 7) {
    bytes payload(n, 0x33);
    const auto a = seal(s1, payload);
    bytes buf(n + s2.overhead);
    std::copy(payload.begin(), payload.end(), buf.begin() + 5);
    CHECK(copy(s2.seal_in_place({}, buf, n)) == a);
  }
}

TEST_CASE("the two directions use different keys", "[session]") {
  sepal::session<> alice(secret_a, secret_b);
  const auto packet = seal(alice.sender(), as_bytes("x"));
  CHECK(open(alice.receiver(), packet).error() == errc::authentication_failed);  // own packet reflected back
}

TEST_CASE("header protection hides the packet number and key phase", "[session]") {
  sepal::sealer<> hidden(secret_a);
  sepal::sealer<sepal::default_suite, no_hp> plain(secret_a);
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
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
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
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
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
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
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
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
  const auto p = seal(s, as_bytes("abc"), as_bytes("conn-1"));
  CHECK(open(o, p, as_bytes("conn-2")).error() == errc::authentication_failed);
  CHECK(open(o, p, as_bytes("conn-1")).has_value());
}

TEST_CASE("key updates are followed across reordering; old keys expire", "[session][keyupdate]") {
  constexpr sepal::session_options opts{.replay_window = 256, .previous_key_lifetime = 64};
  sepal::sealer<sepal::default_suite, opts> s(secret_a);
  sepal::opener<sepal::default_suite, opts> o(secret_a);
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
    sepal::sealer<sepal::default_suite, opts> s2(secret_b);
    sepal::opener<sepal::default_suite, opts> o2(secret_b);
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
  sepal::sealer<sepal::default_suite, opts> s(secret_a);
  sepal::opener<sepal::default_suite, opts> o(secret_a);
  for (int i = 0; i < 23; ++i) REQUIRE(open(o, seal(s, as_bytes("x"))).has_value());
  CHECK(s.key_generation() == 4);  // updated before packets 5, 10, 15, 20
  CHECK(o.key_generation() == 4);
  static_assert(decltype(s)::confidentiality_limit == 5);
  static_assert(sepal::sealer<>::confidentiality_limit == sepal::aes256_gcm::confidentiality_limit);
}

TEST_CASE("the opener closes at the integrity limit", "[session][limits]") {
  constexpr sepal::session_options opts{.integrity_limit = 3};
  sepal::sealer<sepal::default_suite, opts> s(secret_a);
  sepal::opener<sepal::default_suite, opts> o(secret_a);
  auto forged = seal(s, as_bytes("x"));
  forged.back() ^= 1;
  const auto good = seal(s, as_bytes("y"));
  for (int i = 0; i < 3; ++i) CHECK(open(o, forged).error() == errc::authentication_failed);
  CHECK(o.closed());
  CHECK(open(o, good).error() == errc::closed);
}

TEST_CASE("the sealer refuses to exhaust the packet number space", "[session][limits]") {
  sepal::sealer<> s(secret_a);
  s.skip_packet_numbers_for_testing((std::uint64_t{1} << 62) - 2);
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
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
  s.skip_packet_numbers_for_testing((std::uint64_t{1} << 32) - 10);
  std::vector<bytes> packets;
  for (int i = 0; i < 20; ++i) packets.push_back(seal(s, as_bytes("w")));
  std::swap(packets[8], packets[12]);  // reorder across the wrap
  for (const auto& p : packets) REQUIRE(open(o, p).has_value());
  CHECK(sepal::detail::decode_packet_number(0xa82f30ea, 0x9b32, 16) == 0xa82f9b32);  // RFC 9000 §A.3 example
}

TEST_CASE("stream records survive arbitrary chunking", "[stream]") {
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
  bytes wire;
  std::vector<bytes> sent;
  for (std::size_t n : {0, 1, 100, 5000, 16384}) {
    bytes payload(n, static_cast<std::uint8_t>(n & 0xff));
    bytes out(2 + n + s.overhead);
    const auto rec = sepal::seal_record(s, {}, payload, out);
    wire.insert(wire.end(), rec.begin(), rec.end());
    sent.push_back(payload);
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, wire.size()}) {
    sepal::opener<> fresh(secret_a);
    sepal::record_reader<sepal::opener<>> reader(fresh);
    std::size_t next = 0, pos = 0;
    while (pos < wire.size()) {
      auto piece = std::span(wire).subspan(pos, std::min(chunk, wire.size() - pos));
      while (!piece.empty()) {
        const auto used = reader.feed(piece);
        piece = piece.subspan(used);
        pos += used;
        if (reader.ready()) {
          auto r = reader.open({});
          REQUIRE(r.has_value());
          CHECK(copy(*r) == sent[next++]);
        }
      }
    }
    CHECK(next == sent.size());
  }
  bytes big(16385);
  bytes out(2 + big.size() + s.overhead);
  CHECK_THROWS_AS(sepal::seal_record(s, {}, big, out), sepal::error);
}

TEST_CASE("a bad record length or a forged record ends the stream", "[stream]") {
  sepal::sealer<> s(secret_a);
  sepal::opener<> o(secret_a);
  sepal::record_reader<sepal::opener<>> reader(o);
  const std::uint8_t too_long[] = {0xff, 0xff, 0, 0};
  CHECK(reader.feed(too_long) == 2);
  CHECK(reader.failed());
  CHECK(reader.open({}).error() == errc::invalid_encoding);
  CHECK(reader.open({}).error() == errc::closed);

  sepal::opener<> o2(secret_a);
  sepal::record_reader<sepal::opener<>> reader2(o2);
  bytes out(2 + 3 + s.overhead);
  auto rec = copy(sepal::seal_record(s, {}, as_bytes("abc"), out));
  rec.back() ^= 1;
  reader2.feed(rec);
  REQUIRE(reader2.ready());
  CHECK(reader2.open({}).error() == errc::authentication_failed);
  CHECK(reader2.failed());
  CHECK(reader2.feed(rec) == 0);
}
