// libFuzzer harness: Noise handshake message reading and the datagram
// transport, the parsers that see an attacker's bytes. The first byte picks:
//   0: an IKpsk2 responder (25519, ChaChaPoly, SHA256) reads message 1 and,
//      if it authenticates, writes message 2;
//   1: an XX initiator (P256, AESGCM, BLAKE2s) that sent message 1 reads
//      message 2;
//   2: a datagram transport opens a sequence of datagrams (2-byte big-endian
//      length prefixes);
//   3: the run-time entry point parses the rest as a protocol name.
// Keys are fixed (and the ephemerals too, through the test-only path) so
// the committed seeds are genuine messages the fuzzer can mutate.
// Invariants: nothing throws or crashes; a rejected handshake message leaves
// the handshake hash unchanged; a rejected datagram returns no plaintext;
// an accepted datagram is refused when replayed.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <sepal/noise.hpp>

namespace {

namespace noise = sepal::noise;
namespace pat = sepal::noise::patterns;

void require(bool ok) {
  if (!ok) std::abort();
}

using ik = noise::protocol<noise::psk<pat::IK, 2>, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;
using xx = noise::protocol<pat::XX, sepal::p256, sepal::aes256_gcm, sepal::blake2s>;
using nn = noise::protocol<pat::NN, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;

const std::array<std::uint8_t, 3> prologue{'f', 'u', 'z'};

template <class Curve>
sepal::private_key<Curve> fixed_key(std::uint8_t fill) {
  std::array<std::uint8_t, Curve::private_key_size> raw{};
  raw.fill(fill);
  return sepal::private_key<Curve>::from_raw(raw).value();
}

noise::pre_shared_key fixed_psk() {
  std::array<std::uint8_t, 32> k{};
  k.fill(0x50);
  return noise::pre_shared_key::copy_of(k);
}

template <class Curve>
noise::fixed_ephemeral_key_for_testing_only<Curve> fixed_ephemeral(std::uint8_t fill) {
  return {fixed_key<Curve>(fill)};
}

[[maybe_unused]] auto ik_initiator() {  // the seeds were made with it
  return noise::initiator<ik>(prologue, fixed_key<sepal::x25519>(0x11), fixed_key<sepal::x25519>(0x22).public_key(),
                              fixed_psk(), fixed_ephemeral<sepal::x25519>(0x33));
}
auto ik_responder() {
  return noise::responder<ik>(prologue, fixed_key<sepal::x25519>(0x22), fixed_psk(),
                              fixed_ephemeral<sepal::x25519>(0x44));
}
auto xx_initiator() {
  return noise::initiator<xx>(prologue, fixed_key<sepal::p256>(0x11), fixed_ephemeral<sepal::p256>(0x33));
}
[[maybe_unused]] auto xx_responder() {
  return noise::responder<xx>(prologue, fixed_key<sepal::p256>(0x22), fixed_ephemeral<sepal::p256>(0x44));
}

/// An NN handshake with fixed ephemerals, as datagram transports.
auto datagram_pair() {
  auto i = noise::initiator<nn>(prologue, fixed_ephemeral<sepal::x25519>(0x33));
  auto r = noise::responder<nn>(prologue, fixed_ephemeral<sepal::x25519>(0x44));
  auto m1 = std::move(i).write_message().value();
  auto r1 = std::move(r).read_message(m1.message).value();
  auto m2 = std::move(r1.next).write_message().value();
  auto i2 = std::move(m1.next).read_message(m2.message).value();
  return std::pair(std::move(i2.next).into_datagram(), std::move(m2.next).into_datagram());
}

template <class Handshake>
void read_checked(Handshake& hs, std::span<const std::uint8_t> in) {
  const auto h = hs.handshake_hash();
  const std::vector<std::uint8_t> before(h.begin(), h.end());
  auto r = std::move(hs).read_message(in);
  if (!r) {
    const auto after = hs.handshake_hash();
    require(std::equal(before.begin(), before.end(), after.begin(), after.end()));
    return;
  }
  if constexpr (requires { std::move(r->next).write_message(); }) {
    auto reply = std::move(r->next).write_message();
    require(reply.has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto r = ik_responder();
      read_checked(r, in);
      break;
    }
    case 1: {
      auto i = xx_initiator();
      auto m1 = std::move(i).write_message().value();
      read_checked(m1.next, in);
      break;
    }
    case 2: {
      auto [di, dr] = datagram_pair();
      std::array<std::uint8_t, 2048> out{};
      std::span<const std::uint8_t> rest = in;
      while (rest.size() >= 2) {
        const std::size_t len = std::min<std::size_t>((std::size_t{rest[0]} << 8) | rest[1], rest.size() - 2);
        const auto dg = rest.subspan(2, len);
        rest = rest.subspan(2 + len);
        out.fill(0xA5);
        auto r = dr.open(dg, out);
        if (r) {
          require(dr.open(dg, out).error() == sepal::errc::replayed);
        } else if (r.error() == sepal::errc::authentication_failed) {
          for (std::size_t k = 0; k + 24 < dg.size() && k < out.size(); ++k) require(out[k] == 0);
        } else {
          for (std::size_t k = 0; k < out.size(); ++k) require(out[k] == 0xA5);
        }
      }
      (void)di;
      break;
    }
    default: {
      const std::string_view name(reinterpret_cast<const char*>(in.data()), in.size());
      auto parts = noise::parse_protocol_name(name);
      auto hs = noise::dynamic_handshake::create(name, noise::role::initiator, {});
      if (hs) require(parts.has_value());
      break;
    }
  }
  return 0;
}
