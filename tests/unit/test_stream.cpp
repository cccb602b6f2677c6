// Stream records (stream.hpp): chunking, and hardening finding 1 (records
// could be dropped, reordered and truncated without detection): record n must
// be packet n, and only an authenticated close record ends a stream cleanly.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <vector>

#include <sepal/session.hpp>
#include <sepal/stream.hpp>

#include "test_support.hpp"

using namespace sepal_test;
using sepal::errc;

namespace {

const bytes secret_a = hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

using writer = sepal::record_writer<sepal::sealer<>>;
using reader = sepal::record_reader<sepal::opener<>>;

writer make_writer() { return writer(sepal::sealer<>(secret(secret_a))); }
reader make_reader() { return reader(sepal::opener<>(secret(secret_a))); }

/// Three data records and the close record, each as its own byte string.
std::vector<bytes> records(writer& w, std::size_t count = 3) {
  std::vector<bytes> out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto payload = as_bytes("record " + std::to_string(i));
    bytes buf(payload.size() + writer::overhead);
    out.push_back(copy(w.seal({}, payload, buf)));
  }
  bytes buf(writer::overhead);
  out.push_back(copy(w.close({}, buf)));
  return out;
}

struct outcome {
  std::vector<std::string> payloads;
  errc error = errc::internal_error;  ///< the first error `open` reported (end_of_stream for a clean close)
  sepal::result<void> finished;
};

/// Feeds `wire` in pieces of `chunk` bytes, then reports the end of input.
outcome read_all(std::span<const std::uint8_t> wire, std::size_t chunk = 5) {
  auto r = make_reader();
  outcome o;
  bool stopped = false;
  std::size_t pos = 0;
  while (pos < wire.size() && !stopped) {
    auto piece = wire.subspan(pos, std::min(chunk, wire.size() - pos));
    const auto used = r.feed(piece);
    pos += used;
    if (r.ready() || r.failed()) {
      auto p = r.open({});
      if (p) {
        o.payloads.emplace_back(p->begin(), p->end());
      } else {
        o.error = p.error();
        stopped = true;
      }
    } else if (used == 0) {
      break;
    }
  }
  o.finished = r.finish();
  return o;
}

bytes concat(const std::vector<bytes>& parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("stream records survive arbitrary chunking", "[stream]") {
  auto w = make_writer();
  bytes wire;
  std::vector<bytes> sent;
  for (std::size_t n : {0, 1, 100, 5000, 16384}) {
    bytes payload(n, static_cast<std::uint8_t>(n & 0xff));
    bytes out(n + writer::overhead);
    const auto rec = w.seal({}, payload, out);
    wire.insert(wire.end(), rec.begin(), rec.end());
    sent.push_back(payload);
  }
  bytes close_buf(writer::overhead);
  const auto close = w.close({}, close_buf);
  wire.insert(wire.end(), close.begin(), close.end());
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, wire.size()}) {
    auto r = make_reader();
    std::size_t next = 0, pos = 0;
    while (pos < wire.size()) {
      auto piece = std::span(wire).subspan(pos, std::min(chunk, wire.size() - pos));
      while (!piece.empty()) {
        const auto used = r.feed(piece);
        piece = piece.subspan(used);
        pos += used;
        if (r.ready()) {
          auto got = r.open({});
          if (next < sent.size()) {
            REQUIRE(got.has_value());
            CHECK(copy(*got) == sent[next++]);
          } else {
            CHECK(got.error() == errc::end_of_stream);
          }
        }
      }
    }
    CHECK(next == sent.size());
    CHECK(r.ended());
    CHECK(r.finish().has_value());
  }
  bytes big(16385);
  bytes out(big.size() + writer::overhead);
  CHECK_THROWS_AS(w.seal({}, big, out), sepal::error);
}

TEST_CASE("hardening #1: a clean close is reported, and nothing is accepted after it", "[stream][hardening]") {
  auto w = make_writer();
  const auto recs = records(w);
  const auto o = read_all(concat(recs));
  CHECK(o.payloads == std::vector<std::string>{"record 0", "record 1", "record 2"});
  CHECK(o.error == errc::end_of_stream);
  CHECK(o.finished.has_value());
  bytes buf(writer::overhead + 1);
  CHECK_THROWS_AS(w.seal({}, as_bytes("x"), buf), sepal::error);  // the writer is closed too
}

TEST_CASE("hardening #1: a dropped record ends the stream", "[stream][hardening]") {
  auto w = make_writer();
  const auto recs = records(w);
  for (std::size_t drop = 0; drop < recs.size(); ++drop) {
    auto parts = recs;
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(drop));
    const auto o = read_all(concat(parts));
    CHECK(o.payloads.size() == drop);  // everything before the gap, nothing after
    if (drop < recs.size() - 1) CHECK(o.error == errc::out_of_order);
    CHECK_FALSE(o.finished.has_value());
  }
}

TEST_CASE("hardening #1: swapped and duplicated records end the stream", "[stream][hardening]") {
  auto w = make_writer();
  const auto recs = records(w);
  for (std::size_t i = 0; i + 1 < recs.size(); ++i) {
    auto swapped = recs;
    std::swap(swapped[i], swapped[i + 1]);
    const auto o = read_all(concat(swapped));
    CHECK(o.payloads.size() == i);
    CHECK(o.error == errc::out_of_order);
    CHECK_FALSE(o.finished.has_value());

    auto duplicated = recs;
    duplicated.insert(duplicated.begin() + static_cast<std::ptrdiff_t>(i + 1), recs[i]);
    const auto d = read_all(concat(duplicated));
    CHECK(d.payloads.size() == i + 1);
    CHECK(d.error == errc::out_of_order);
    CHECK_FALSE(d.finished.has_value());
  }
  // The first packet's classic attack: the third record delivered first.
  const auto o = read_all(concat({recs[2], recs[0], recs[1]}));
  CHECK(o.payloads.empty());
  CHECK(o.error == errc::out_of_order);
}

TEST_CASE("hardening #1: truncation at every record boundary and mid-record is reported", "[stream][hardening]") {
  auto w = make_writer();
  const auto wire = concat(records(w));
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    const auto o = read_all(std::span(wire).first(cut), 3);
    REQUIRE_FALSE(o.finished.has_value());
    CHECK(o.finished.error() == errc::truncated);
    CHECK(o.error != errc::end_of_stream);
  }
  CHECK(read_all(wire, 3).finished.has_value());
}

TEST_CASE("hardening #1: a forged close record or content type ends the stream", "[stream][hardening]") {
  auto w = make_writer();
  auto recs = records(w, 1);
  recs[1].back() ^= 1;  // the close record's tag
  const auto o = read_all(concat(recs));
  CHECK(o.payloads.size() == 1);
  CHECK(o.error == errc::authentication_failed);
  CHECK_FALSE(o.finished.has_value());
}

TEST_CASE("a bad record length or a forged record ends the stream", "[stream]") {
  auto r = make_reader();
  const std::uint8_t too_long[] = {0xff, 0xff, 0, 0};
  CHECK(r.feed(too_long) == 2);
  CHECK(r.failed());
  CHECK(r.open({}).error() == errc::invalid_encoding);
  CHECK(r.open({}).error() == errc::closed);

  auto w = make_writer();
  auto r2 = make_reader();
  bytes out(3 + writer::overhead);
  auto rec = copy(w.seal({}, as_bytes("abc"), out));
  rec.back() ^= 1;
  r2.feed(rec);
  REQUIRE(r2.ready());
  CHECK(r2.open({}).error() == errc::authentication_failed);
  CHECK(r2.failed());
  CHECK(r2.feed(rec) == 0);
}

TEST_CASE("a session splits into a stream writer and reader", "[stream]") {
  sepal::session<> alice(secret(secret_a), secret(hex("aa"))), bob(secret(hex("aa")), secret(secret_a));
  auto alice_directions = std::move(alice).split();
  writer w(std::move(alice_directions.first));
  auto bob_directions = std::move(bob).split();
  reader r(std::move(bob_directions.second));
  bytes out(2 + writer::overhead);
  CHECK(r.feed(w.seal({}, as_bytes("hi"), out)) > 0);
  REQUIRE(r.ready());
  auto got = r.open({});
  REQUIRE(got.has_value());
  CHECK(copy(*got) == as_bytes("hi"));
  // The split session is moved-from: it fails safely.
  bytes buf(64);
  CHECK_THROWS_AS(alice.seal({}, as_bytes("x"), buf), sepal::error);
  CHECK(alice.open({}, buf, buf).error() == errc::moved_from);
}
