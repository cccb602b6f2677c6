// sepal-bench, Noise: full handshakes per second (one thread plays both
// sides) for XX and IK over 25519 and P-256 (ChaChaPoly, SHA256), next to a
// floor of the same DH operations called directly through Botan (the
// ephemeral key generations and DHs of both sides: XX 2 + 6, IK 2 + 8), and
// transport seal/open per message at 64/1200/16384 bytes next to a raw
// reused Botan AEAD (one keyed object per direction, nonce built per
// message, no checks). Ratios are sepal/floor rates of the same round
// (interleaved), medians over the rounds.

#include <botan/aead.h>
#include <botan/ec_group.h>
#include <botan/ecdh.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x25519.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <sepal/noise.hpp>

#include "bench_common.hpp"

namespace bench {
namespace {

namespace noise = sepal::noise;
namespace pat = sepal::noise::patterns;
using bytes = std::vector<std::uint8_t>;

template <class Pattern, class Dh>
using proto = noise::protocol<Pattern, Dh, sepal::chacha20_poly1305, sepal::sha256>;

void require(bool ok) {
  if (!ok) std::abort();
}

/// One XX handshake, both sides.
template <class Dh>
using shared_key = std::shared_ptr<const sepal::private_key<Dh>>;

template <class Dh>
void xx_once(const shared_key<Dh>& is, const shared_key<Dh>& rs) {
  using P = proto<pat::XX, Dh>;
  auto i0 = noise::initiator<P>({}, is);
  auto r0 = noise::responder<P>({}, rs);
  auto m1 = std::move(i0).write_message().value();
  auto r1 = std::move(r0).read_message(m1.message).value();
  auto m2 = std::move(r1.next).write_message().value();
  auto i2 = std::move(m1.next).read_message(m2.message).value();
  auto m3 = std::move(i2.next).write_message().value();
  auto r3 = std::move(m2.next).read_message(m3.message);
  require(r3.has_value());
}

/// One IK handshake, both sides.
template <class Dh>
void ik_once(const shared_key<Dh>& is, const shared_key<Dh>& rs, const sepal::public_key<Dh>& rs_pub) {
  using P = proto<pat::IK, Dh>;
  auto i0 = noise::initiator<P>({}, is, rs_pub);
  auto r0 = noise::responder<P>({}, rs);
  auto m1 = std::move(i0).write_message().value();
  auto r1 = std::move(r0).read_message(m1.message).value();
  auto m2 = std::move(r1.next).write_message().value();
  auto i2 = std::move(m1.next).read_message(m2.message);
  require(i2.has_value());
}

/// The floor: `keygens` ephemeral key generations (with their public
/// encodings) and `dhs` raw DHs through Botan.
template <class Dh>
void floor_once(std::size_t keygens, std::size_t dhs) {
  auto& rng = Botan::system_rng();
  if constexpr (std::is_same_v<Dh, sepal::x25519>) {
    Botan::X25519_PrivateKey a(rng), b(rng);
    for (std::size_t k = 2; k < keygens; ++k) Botan::X25519_PrivateKey extra(rng);
    const auto pa = a.public_value(), pb = b.public_value();
    for (std::size_t k = 0; k < dhs; ++k) {
      Botan::PK_Key_Agreement ka(k % 2 ? a : b, rng, "Raw");
      require(ka.derive_key(0, k % 2 ? pb : pa).size() == 32);
    }
  } else {
    static const auto group = Botan::EC_Group::from_name("secp256r1");
    Botan::ECDH_PrivateKey a(rng, group), b(rng, group);
    for (std::size_t k = 2; k < keygens; ++k) Botan::ECDH_PrivateKey extra(rng, group);
    const auto pa = a.public_value(), pb = b.public_value();
    for (std::size_t k = 0; k < dhs; ++k) {
      Botan::PK_Key_Agreement ka(k % 2 ? a : b, rng, "Raw");
      require(ka.derive_key(0, k % 2 ? pb : pa).size() == 32);
    }
  }
}

struct hs_row {
  std::string name;
  double per_s = 0, floor_per_s = 0, ratio = 0;
};

template <class Dh>
std::vector<hs_row> handshakes(const char* dh, const options& opt) {
  const shared_key<Dh> is = std::make_shared<const sepal::private_key<Dh>>(sepal::private_key<Dh>::generate());
  const shared_key<Dh> rs = std::make_shared<const sepal::private_key<Dh>>(sepal::private_key<Dh>::generate());
  const auto rs_pub = rs->public_key();
  std::vector<hs_row> rows;
  for (int pattern = 0; pattern < 2; ++pattern) {
    const bool xx = pattern == 0;
    std::vector<subject> subjects{
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) xx ? xx_once(is, rs) : ik_once(is, rs, rs_pub);
         },
         {}, 64},
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) floor_once<Dh>(2, xx ? 6 : 8);
         },
         {}, 64}};
    const auto samples = interleaved(subjects, opt);
    std::vector<double> a, b, r;
    for (std::size_t k = 0; k < samples[0].size(); ++k) {
      a.push_back(1e9 / samples[0][k].ns);
      b.push_back(1e9 / samples[1][k].ns);
      r.push_back(samples[1][k].ns / samples[0][k].ns);
    }
    rows.push_back({std::string(xx ? "XX " : "IK ") + dh, summarize(a).median, summarize(b).median, summarize(r).median});
  }
  return rows;
}

struct transport_row {
  std::size_t size = 0;
  double seal_ns = 0, open_ns = 0, raw_seal_ns = 0, raw_open_ns = 0, seal_ratio = 0, open_ratio = 0;
};

/// A raw reused Botan AEAD per direction, with the Noise nonce layout (ChaChaPoly: 0^32 || LE64(n)).
struct raw_direction {
  std::unique_ptr<Botan::AEAD_Mode> mode;
  std::uint64_t n = 0;
  raw_direction(Botan::Cipher_Dir dir, const bytes& key)
      : mode(Botan::AEAD_Mode::create_or_throw("ChaCha20Poly1305", dir)) {
    mode->set_key(key);
  }
  std::array<std::uint8_t, 12> nonce() {
    std::array<std::uint8_t, 12> out{};
    for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    ++n;
    return out;
  }
};

auto transport_pair() {
  using P = proto<pat::NN, sepal::x25519>;
  auto i0 = noise::initiator<P>({});
  auto r0 = noise::responder<P>({});
  auto m1 = std::move(i0).write_message().value();
  auto r1 = std::move(r0).read_message(m1.message).value();
  auto m2 = std::move(r1.next).write_message().value();
  auto ti = std::move(m1.next).read_message(m2.message).value().next;
  return std::pair(std::move(ti), std::move(m2.next));
}

std::vector<transport_row> transport_costs(const options& all) {
  // Half the time per subject: a message costs under 10 us, so that still
  // times thousands, and README command 1 stays under its 3 minutes.
  options opt = all;
  opt.min_time = all.min_time / 2;
  // Sealing and opening on separate sessions: the opener must see every
  // message the sealer made, in order.
  auto [ti, unused] = transport_pair();
  auto [ti_open, tr] = transport_pair();
  (void)unused;
  const bytes key(32, 0x42);
  raw_direction raw_enc(Botan::Cipher_Dir::Encryption, key), raw_dec(Botan::Cipher_Dir::Decryption, key);
  std::vector<transport_row> rows;
  const std::size_t max_batch = 128;
  for (std::size_t size : {std::size_t{64}, std::size_t{1200}, std::size_t{16384}}) {
    bytes payload(size, 0x5a), out(size + 16);
    // Open needs messages sealed in order: prepare() seals a batch (untimed).
    std::vector<bytes> sealed_s(max_batch, bytes(size + 16)), sealed_r(max_batch, bytes(size + 16));
    Botan::secure_vector<std::uint8_t> raw_buf;
    raw_buf.reserve(size + 32);
    std::vector<subject> subjects{
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) (void)ti.seal(payload, out);
         },
         {}, 1024},
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) {
             const auto nonce = raw_enc.nonce();
             raw_buf.assign(payload.begin(), payload.end());
             raw_enc.mode->start(nonce);
             raw_enc.mode->finish(raw_buf);
           }
         },
         {}, 1024},
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) require(tr.open(sealed_s[i], out).has_value());
         },
         [&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) (void)ti_open.seal(payload, sealed_s[i]);
         },
         max_batch},
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) {
             const auto nonce = raw_dec.nonce();
             raw_buf.assign(sealed_r[i].begin(), sealed_r[i].end());
             raw_dec.mode->start(nonce);
             raw_dec.mode->finish(raw_buf);
           }
         },
         [&](std::size_t n) {
           raw_enc.n = raw_dec.n;
           for (std::size_t i = 0; i < n; ++i) {
             const auto nonce = raw_enc.nonce();
             raw_buf.assign(payload.begin(), payload.end());
             raw_enc.mode->start(nonce);
             raw_enc.mode->finish(raw_buf);
             std::copy(raw_buf.begin(), raw_buf.end(), sealed_r[i].begin());
           }
         },
         max_batch}};
    const auto samples = interleaved(subjects, opt);
    std::vector<double> s, rs, o, ro, sr, orr;
    for (std::size_t k = 0; k < samples[0].size(); ++k) {
      s.push_back(samples[0][k].ns);
      rs.push_back(samples[1][k].ns);
      o.push_back(samples[2][k].ns);
      ro.push_back(samples[3][k].ns);
      sr.push_back(samples[1][k].ns / samples[0][k].ns);
      orr.push_back(samples[3][k].ns / samples[2][k].ns);
    }
    rows.push_back({size, summarize(s).median, summarize(o).median, summarize(rs).median, summarize(ro).median,
                    summarize(sr).median, summarize(orr).median});
  }
  return rows;
}

}  // namespace

section bench_noise(const options& opt) {
  std::fprintf(stderr, "  Noise handshakes and transport\n");
  auto rows = handshakes<sepal::x25519>("25519", opt);
  for (auto& r : handshakes<sepal::p256>("P256", opt)) rows.push_back(r);
  const auto transport = transport_costs(opt);
  section s;
  s.text = "\nNoise (ChaChaPoly, SHA256), handshakes/s, both sides in one thread (floor = the same ephemeral key "
           "generations and DHs straight through Botan):\n";
  s.json_key = "noise";
  s.json_value = "{\"handshakes\": {";
  char line[320];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "  %-10s %9.0f/s (floor %9.0f/s, %.2f)\n", r.name.c_str(), r.per_s, r.floor_per_s,
                  r.ratio);
    s.text += line;
    std::snprintf(line, sizeof line, "%s\"%s\": {\"per_s\": %.1f, \"floor_per_s\": %.1f, \"ratio\": %.3f}",
                  &r == rows.data() ? "" : ", ", r.name.c_str(), r.per_s, r.floor_per_s, r.ratio);
    s.json_value += line;
  }
  s.json_value += "}, \"transport\": {";
  s.text += "Noise transport (ChaChaPoly), ns per message (raw = a reused Botan AEAD, nonce per message):\n";
  for (const auto& t : transport) {
    std::snprintf(line, sizeof line, "  %5zu B  seal %8.0f (raw %8.0f, %.2f)  open %8.0f (raw %8.0f, %.2f)\n", t.size,
                  t.seal_ns, t.raw_seal_ns, t.seal_ratio, t.open_ns, t.raw_open_ns, t.open_ratio);
    s.text += line;
    std::snprintf(line, sizeof line,
                  "%s\"%zu\": {\"seal_ns\": %.1f, \"raw_seal_ns\": %.1f, \"seal_ratio\": %.3f, \"open_ns\": %.1f, "
                  "\"raw_open_ns\": %.1f, \"open_ratio\": %.3f}",
                  &t == transport.data() ? "" : ", ", t.size, t.seal_ns, t.raw_seal_ns, t.seal_ratio, t.open_ns,
                  t.raw_open_ns, t.open_ratio);
    s.json_value += line;
  }
  s.json_value += "}}";
  return s;
}

}  // namespace bench
