// sepal-bench: the packet hot path of sepal against raw, reused Botan in the
// same run (and OpenSSL and libsodium when they were found at configure
// time). For each AEAD and packet size it times sealing and opening (median
// of repeated runs) and prints MB/s, ns/packet, TSC cycles/byte, heap
// allocations per packet and the sepal/Botan ratio; then the cost of
// rejecting a forged packet, and the memory a session takes.
//
//   sepal-bench [--json] [--filter SUBSTRING] [--min-time SECONDS] [--runs N]

#include <malloc.h>
#include <unistd.h>

#include <botan/aead.h>
#include <botan/block_cipher.h>
#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/mac.h>
#include <botan/pubkey.h>
#include <botan/secmem.h>
#include <botan/stream_cipher.h>
#include <botan/version.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
  #include <x86intrin.h>
#endif
#if defined(SEPAL_BENCH_OPENSSL)
  #include <openssl/crypto.h>
  #include <openssl/evp.h>
#endif
#if defined(SEPAL_BENCH_OPENSSL_TLS)
  #include <openssl/bio.h>
  #include <openssl/ssl.h>
  #include <openssl/x509.h>
#endif
#if defined(SEPAL_BENCH_SODIUM)
  #include <sodium.h>
#endif

#include <sepal/handshake/protocol.hpp>
#include <sepal/sepal.hpp>

#include "bench_common.hpp"
#include "bench_plot.hpp"
#include "counting_new.hpp"  // allocations per packet

namespace bench {
section bench_pake(const options& opt);
section bench_http(const options& opt);
section bench_kem(const options& opt);
section bench_noise(const options& opt);
section bench_pki(const options& opt, double openssl_mutual_per_s);
}  // namespace bench

namespace {

using bench::measure;
using bench::options;
using bench::rate;
using bench::ticks;
using bench::timing;

double allocations_per_op(const std::function<void(std::size_t)>& op, const std::function<void(std::size_t)>& prepare = {}) {
  if (prepare) prepare(64);
  op(4);
  if (prepare) prepare(64);
  const auto before = sepal_test::allocations.load();
  op(64);
  return static_cast<double>(sepal_test::allocations.load() - before) / 64;
}

// ---------------------------------------------------------------- backends

/// One AEAD implementation: seal or open `n` messages of one size.
struct backend {
  std::string name;
  std::function<void(std::size_t)> seal, open;
};

/// Raw Botan used as a careful caller would: one keyed object per direction
/// and one reused secure_vector. Opening reads distinct copies of the sealed
/// message, as sepal opens distinct packets, so both see the same cache
/// behaviour; `prepare` makes the copies, untimed.
template <class A>
std::pair<backend, std::function<void(std::size_t)>> botan_backend(std::span<const std::uint8_t> key,
                                                                    std::size_t size) {
  struct state {
    std::unique_ptr<Botan::AEAD_Mode> enc, dec;
    Botan::secure_vector<std::uint8_t> buf;
    std::vector<std::uint8_t> pt, sealed;
    std::vector<std::vector<std::uint8_t>> copies;
    std::array<std::uint8_t, 12> nonce{};
    std::array<std::uint8_t, 13> ad{};
  };
  auto s = std::make_shared<state>();
  s->enc = Botan::AEAD_Mode::create_or_throw(sepal::detail::algorithm<A>::mode, Botan::Cipher_Dir::Encryption);
  s->dec = Botan::AEAD_Mode::create_or_throw(sepal::detail::algorithm<A>::mode, Botan::Cipher_Dir::Decryption);
  s->enc->set_key(key);
  s->dec->set_key(key);
  s->pt.assign(size, 0x42);
  s->buf.reserve(size + 64);
  auto seal_one = [s] {
    s->buf.assign(s->pt.begin(), s->pt.end());
    s->enc->set_associated_data(s->ad);
    s->enc->start(s->nonce);
    s->enc->finish(s->buf);
  };
  seal_one();
  s->sealed.assign(s->buf.begin(), s->buf.end());
  auto prepare = [s](std::size_t n) { s->copies.assign(n, s->sealed); };
  backend b{"Botan",
            [s, seal_one](std::size_t n) {
              for (std::size_t i = 0; i < n; ++i) seal_one();
            },
            [s](std::size_t n) {
              for (std::size_t i = 0; i < n; ++i) {
                s->buf.assign(s->copies[i].begin(), s->copies[i].end());
                s->dec->set_associated_data(s->ad);
                s->dec->start(s->nonce);
                s->dec->finish(s->buf);
              }
            }};
  return {b, prepare};
}

/// sepal's session: sealer and opener with header protection and the replay
/// window. Opening needs fresh packets (replays are rejected), so packets are
/// sealed ahead and a fresh opener is made, untimed, for each batch.
template <class A, sepal::session_options Opt>
struct sepal_state {
  using suite = sepal::cipher_suite<A>;
  std::array<std::uint8_t, 32> secret{9};
  sepal::sealer<suite, Opt> sealer{sepal::secret_bytes::copy_of(secret)};
  std::unique_ptr<sepal::opener<suite, Opt>> opener;
  std::vector<std::uint8_t> payload, out;
  std::vector<std::vector<std::uint8_t>> packets;
  std::array<std::uint8_t, 8> ad{};
};

template <class A, sepal::session_options Opt = sepal::session_options{}>
std::pair<backend, std::function<void(std::size_t)>> sepal_backend(std::size_t size) {
  using state = sepal_state<A, Opt>;
  auto s = std::make_shared<state>();
  s->payload.assign(size, 0x42);
  s->out.resize(size + sepal::sealer<>::overhead);
  auto prepare = [s](std::size_t n) {
    s->opener = std::make_unique<sepal::opener<typename state::suite, Opt>>(sepal::secret_bytes::copy_of(s->secret));
    sepal::sealer<typename state::suite, Opt> fresh(sepal::secret_bytes::copy_of(s->secret));
    s->packets.resize(n);
    for (auto& p : s->packets) {
      p.resize(s->out.size());
      (void)fresh.seal(s->ad, s->payload, p);
    }
  };
  backend b{"sepal",
            [s](std::size_t n) {
              for (std::size_t i = 0; i < n; ++i) (void)s->sealer.seal(s->ad, s->payload, s->out);
            },
            [s](std::size_t n) {
              for (std::size_t i = 0; i < n; ++i)
                if (!s->opener->open(s->ad, s->packets[i], s->out)) std::abort();
            }};
  return {b, prepare};
}

#if defined(SEPAL_BENCH_OPENSSL)
template <class A>
const EVP_CIPHER* openssl_cipher() {
  if constexpr (std::is_same_v<A, sepal::aes128_gcm>) return EVP_aes_128_gcm();
  if constexpr (std::is_same_v<A, sepal::aes256_gcm>) return EVP_aes_256_gcm();
  if constexpr (std::is_same_v<A, sepal::chacha20_poly1305>) return EVP_chacha20_poly1305();
  return nullptr;
}

template <class A>
std::optional<backend> openssl_streaming_backend(std::span<const std::uint8_t> key, std::size_t size) {
  struct state {
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
    std::vector<std::uint8_t> pt, ct, out;
    std::array<std::uint8_t, 16> tag{};
    std::array<std::uint8_t, 12> nonce{};
    std::array<std::uint8_t, 13> ad{};
    ~state() {
      EVP_CIPHER_CTX_free(enc);
      EVP_CIPHER_CTX_free(dec);
    }
  };
  auto s = std::make_shared<state>();
  EVP_EncryptInit_ex(s->enc, openssl_cipher<A>(), nullptr, key.data(), nullptr);
  EVP_DecryptInit_ex(s->dec, openssl_cipher<A>(), nullptr, key.data(), nullptr);
  s->pt.assign(size, 0x42);
  s->ct.resize(size);
  s->out.resize(size);
  auto seal_one = [s] {
    int len = 0;
    EVP_EncryptInit_ex(s->enc, nullptr, nullptr, nullptr, s->nonce.data());
    EVP_EncryptUpdate(s->enc, nullptr, &len, s->ad.data(), static_cast<int>(s->ad.size()));
    EVP_EncryptUpdate(s->enc, s->ct.data(), &len, s->pt.data(), static_cast<int>(s->pt.size()));
    EVP_EncryptFinal_ex(s->enc, s->ct.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(s->enc, EVP_CTRL_AEAD_GET_TAG, 16, s->tag.data());
  };
  seal_one();
  return backend{"OpenSSL",
                 [s, seal_one](std::size_t n) {
                   for (std::size_t i = 0; i < n; ++i) seal_one();
                 },
                 [s](std::size_t n) {
                   for (std::size_t i = 0; i < n; ++i) {
                     int len = 0;
                     EVP_DecryptInit_ex(s->dec, nullptr, nullptr, nullptr, s->nonce.data());
                     EVP_DecryptUpdate(s->dec, nullptr, &len, s->ad.data(), static_cast<int>(s->ad.size()));
                     EVP_DecryptUpdate(s->dec, s->out.data(), &len, s->ct.data(), static_cast<int>(s->ct.size()));
                     EVP_CIPHER_CTX_ctrl(s->dec, EVP_CTRL_AEAD_SET_TAG, 16, s->tag.data());
                     if (EVP_DecryptFinal_ex(s->dec, s->out.data() + len, &len) <= 0) std::abort();
                   }
                 }};
}

template <class A>
std::optional<backend> openssl_backend(std::span<const std::uint8_t> key, std::size_t size) {
  if constexpr (sepal::detail::whole_message_aead<A>) {
    return std::nullopt;  // OpenSSL 3.0 (Debian 12) has no AES-GCM-SIV
  } else {
    return openssl_streaming_backend<A>(key, size);
  }
}

#endif

#if defined(SEPAL_BENCH_SODIUM)
template <class A>
std::optional<backend> sodium_backend(std::span<const std::uint8_t> key, std::size_t size) {
  if (sodium_init() < 0) return std::nullopt;
  struct state {
    std::vector<std::uint8_t> pt, ct, out;
    std::array<std::uint8_t, 12> nonce{};
    std::array<std::uint8_t, 13> ad{};
    std::vector<std::uint8_t> key;
    crypto_aead_aes256gcm_state* aes = nullptr;
    ~state() { std::free(aes); }
  };
  auto s = std::make_shared<state>();
  s->pt.assign(size, 0x42);
  s->ct.resize(size + 16);
  s->out.resize(size);
  s->key.assign(key.begin(), key.end());
  unsigned long long len = 0;
  if constexpr (std::is_same_v<A, sepal::aes256_gcm>) {
    if (!crypto_aead_aes256gcm_is_available()) return std::nullopt;
    s->aes = static_cast<crypto_aead_aes256gcm_state*>(std::aligned_alloc(16, sizeof(crypto_aead_aes256gcm_state)));
    crypto_aead_aes256gcm_beforenm(s->aes, s->key.data());
    auto seal_one = [s] {
      unsigned long long l = 0;
      crypto_aead_aes256gcm_encrypt_afternm(s->ct.data(), &l, s->pt.data(), s->pt.size(), s->ad.data(), s->ad.size(),
                                            nullptr, s->nonce.data(), s->aes);
    };
    seal_one();
    return backend{"libsodium",
                   [seal_one](std::size_t n) {
                     for (std::size_t i = 0; i < n; ++i) seal_one();
                   },
                   [s](std::size_t n) {
                     for (std::size_t i = 0; i < n; ++i) {
                       unsigned long long l = 0;
                       if (crypto_aead_aes256gcm_decrypt_afternm(s->out.data(), &l, nullptr, s->ct.data(), s->ct.size(),
                                                                 s->ad.data(), s->ad.size(), s->nonce.data(), s->aes) != 0)
                         std::abort();
                     }
                   }};
  } else if constexpr (std::is_same_v<A, sepal::chacha20_poly1305>) {
    crypto_aead_chacha20poly1305_ietf_encrypt(s->ct.data(), &len, s->pt.data(), s->pt.size(), s->ad.data(),
                                              s->ad.size(), nullptr, s->nonce.data(), s->key.data());
    return backend{"libsodium",
                   [s](std::size_t n) {
                     for (std::size_t i = 0; i < n; ++i) {
                       unsigned long long l = 0;
                       crypto_aead_chacha20poly1305_ietf_encrypt(s->ct.data(), &l, s->pt.data(), s->pt.size(),
                                                                 s->ad.data(), s->ad.size(), nullptr, s->nonce.data(),
                                                                 s->key.data());
                     }
                   },
                   [s](std::size_t n) {
                     for (std::size_t i = 0; i < n; ++i) {
                       unsigned long long l = 0;
                       if (crypto_aead_chacha20poly1305_ietf_decrypt(s->out.data(), &l, nullptr, s->ct.data(),
                                                                     s->ct.size(), s->ad.data(), s->ad.size(),
                                                                     s->nonce.data(), s->key.data()) != 0)
                         std::abort();
                     }
                   }};
  } else {
    return std::nullopt;  // libsodium has no AES-128-GCM and no AES-GCM-SIV
  }
}
#endif

// ------------------------------------------------------------------ report

/// One timed subject of a row: the per-round samples, their median and range.
struct cell {
  std::vector<timing> samples;
  bench::spread ns;     ///< ns per packet over the rounds
  bench::spread ratio;  ///< per round: Botan's time / this time (Botan itself: 1)
  double ticks = 0;     ///< TSC ticks per packet, median round
};

cell make_cell(std::vector<timing> samples, const std::vector<timing>& botan) {
  cell c;
  std::vector<double> ns, ratio;
  for (std::size_t r = 0; r < samples.size(); ++r) {
    ns.push_back(samples[r].ns);
    ratio.push_back(botan[r].ns / samples[r].ns);
  }
  c.ns = bench::summarize(ns);
  c.ratio = bench::summarize(ratio);
  auto sorted = samples;
  std::sort(sorted.begin(), sorted.end(), [](const timing& a, const timing& b) { return a.ns < b.ns; });
  c.ticks = sorted[sorted.size() / 2].ticks;
  c.samples = std::move(samples);
  return c;
}

struct row {
  std::string aead, op;
  std::size_t size = 0;
  timing sepal, botan;  ///< medians
  double sepal_allocs = 0;
  double no_hp_ns = 0;  ///< sepal without header protection, median
  std::map<std::string, double> others_ns;  ///< OpenSSL, libsodium: median ns
  cell sepal_cell, botan_cell, no_hp_cell;
  std::map<std::string, cell> others;                ///< OpenSSL, libsodium
  std::map<std::string, std::string> not_available;  ///< backend -> why it has no number
  double mbs(double ns) const { return static_cast<double>(size) / ns * 1e3; }
};

/// Why a backend has no number for an AEAD ("" when it has one).
std::string not_available_reason([[maybe_unused]] const std::string& backend, [[maybe_unused]] const std::string& aead) {
  const bool siv = aead.find("SIV") != std::string::npos;
#if defined(SEPAL_BENCH_OPENSSL)
  if (backend == "OpenSSL" && siv) return "OpenSSL 3.0 has no AES-GCM-SIV (it arrived in 3.2)";
#endif
#if defined(SEPAL_BENCH_SODIUM)
  if (backend == "libsodium") {
    if (siv) return "libsodium has no AES-GCM-SIV";
    if (aead == "AES-128-GCM") return "libsodium has no AES-128-GCM";
    if (aead == "AES-256-GCM" && sodium_init() >= 0 && !crypto_aead_aes256gcm_is_available())
      return "libsodium's AES-256-GCM needs AES-NI and CLMUL, not found on this CPU";
  }
#endif
  (void)siv;
  return "";
}

struct forged_row {
  std::string aead;
  double valid_ns = 0, forged_ns = 0, botan_forged_ns = 0, allocs = 0;
  bench::spread ratio;  ///< per round: forged / valid open
};

template <class A>
forged_row forged_cost(const char* name, const options& opt, std::span<const std::uint8_t> key) {
  // A forged packet: valid header, flipped tag byte. Rejection changes no
  // state, so the same packet can be offered repeatedly.
  using suite = sepal::cipher_suite<A>;
  const std::array<std::uint8_t, 32> secret{9};
  sepal::sealer<suite> s(sepal::secret_bytes::copy_of(secret));
  sepal::opener<suite> o(sepal::secret_bytes::copy_of(secret));
  std::vector<std::uint8_t> payload(1200, 0x42), packet(1200 + sepal::sealer<suite>::overhead), out(1200);
  const std::array<std::uint8_t, 8> ad{};
  (void)s.seal(ad, payload, packet);
  packet.back() ^= 1;
  bench::op_fn sepal_forged = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (o.open(ad, packet, out)) std::abort();
  };
  // Raw Botan rejecting a forgery, for reference: its cost is the same
  // exception sepal catches.
  bench::op_fn botan_forged = [&](std::size_t n) {
    auto e = Botan::AEAD_Mode::create_or_throw(sepal::detail::algorithm<A>::mode, Botan::Cipher_Dir::Decryption);
    e->set_key(key);
    Botan::secure_vector<std::uint8_t> buf;
    buf.reserve(1300);
    for (std::size_t i = 0; i < n; ++i) {
      buf.assign(packet.begin() + 5, packet.end());
      e->start(std::array<std::uint8_t, 12>{});
      try {
        e->finish(buf);
        std::abort();
      } catch (const Botan::Invalid_Authentication_Tag&) {
      }
    }
  };
  // The valid open it is compared with, in the same rounds.
  auto [valid, valid_prepare] = sepal_backend<A>(1200);
  const auto t = bench::interleaved({{sepal_forged, {}}, {botan_forged, {}}, {valid.open, valid_prepare}}, opt);
  std::vector<double> f, b, v, ratio;
  for (std::size_t r = 0; r < t[0].size(); ++r) {
    f.push_back(t[0][r].ns);
    b.push_back(t[1][r].ns);
    v.push_back(t[2][r].ns);
    ratio.push_back(t[0][r].ns / t[2][r].ns);
  }
  forged_row r{name, bench::summarize(v).median, bench::summarize(f).median, bench::summarize(b).median,
               allocations_per_op(sepal_forged), bench::summarize(ratio)};
  return r;
}

const std::vector<std::size_t>& packet_sizes(const options& opt) {
  static const std::vector<std::size_t> defaults = {64, 256, 1200, 16384, 1048576};
  return opt.sizes.empty() ? defaults : opt.sizes;
}

template <class A>
void bench_aead(const char* name, const options& opt, std::vector<row>& rows, std::vector<forged_row>& forged) {
  const auto key = sepal::random_bytes<A::key_size>();
  for (std::size_t size : packet_sizes(opt)) {
    const std::string label = std::string(name) + "/" + std::to_string(size);
    if (!opt.filter.empty() && label.find(opt.filter) == std::string::npos) continue;
    std::fprintf(stderr, "  %s\n", label.c_str());
    auto [sp, prepare] = sepal_backend<A>(size);
    auto [plain, plain_prepare] = sepal_backend<A, sepal::session_options{.header_protection = false}>(size);
    auto [rb, rb_prepare] = botan_backend<A>(key, size);
    // Opening uses one buffer per packet of a batch: keep a batch under 64 MiB.
    const std::size_t max_batch = std::clamp<std::size_t>((std::size_t{64} << 20) / size, 1, 1024);
    std::vector<backend> others;
#if defined(SEPAL_BENCH_OPENSSL)
    if (auto b = openssl_backend<A>(key, size)) others.push_back(*b);
#endif
#if defined(SEPAL_BENCH_SODIUM)
    if (auto b = sodium_backend<A>(key, size)) others.push_back(*b);
#endif
    row seal, open;
    seal.aead = open.aead = name;
    seal.op = "seal";
    open.op = "open";
    seal.size = open.size = size;
    // Every subject of a row runs once per round, in turn: sepal, Botan,
    // sepal without header protection, then OpenSSL and libsodium.
    std::vector<bench::subject> seal_subjects{{sp.seal, {}}, {rb.seal, {}}, {plain.seal, {}}};
    std::vector<bench::subject> open_subjects{
        {sp.open, prepare, max_batch}, {rb.open, rb_prepare, max_batch}, {plain.open, plain_prepare, max_batch}};
    for (const auto& b : others) {
      seal_subjects.push_back({b.seal, {}});
      open_subjects.push_back({b.open, {}});
    }
    for (auto* r : {&seal, &open}) {
      const auto t = bench::interleaved(r == &seal ? seal_subjects : open_subjects, opt);
      r->sepal_cell = make_cell(t[0], t[1]);
      r->botan_cell = make_cell(t[1], t[1]);
      r->no_hp_cell = make_cell(t[2], t[1]);
      for (std::size_t i = 0; i < others.size(); ++i) {
        r->others[others[i].name] = make_cell(t[3 + i], t[1]);
        r->others_ns[others[i].name] = r->others[others[i].name].ns.median;
      }
      r->sepal = {r->sepal_cell.ns.median, r->sepal_cell.ticks};
      r->botan = {r->botan_cell.ns.median, r->botan_cell.ticks};
      r->no_hp_ns = r->no_hp_cell.ns.median;
      for (const char* b : {"OpenSSL", "libsodium"}) {
        const auto why = not_available_reason(b, name);
        if (!why.empty()) r->not_available[b] = why;
      }
    }
    seal.sepal_allocs = allocations_per_op(sp.seal);
    open.sepal_allocs = allocations_per_op(sp.open, prepare);
    rows.push_back(seal);
    rows.push_back(open);

    if (size == 1200) forged.push_back(forged_cost<A>(name, opt, key));
  }
}

// ----------------------------------------------------------------- threads

/// Aggregate throughput of `threads` threads, each with its own session
/// (sealer, or opener with its own fresh packets), running at the same time
/// for min_time: the sum over threads of bytes / that thread's timed work
/// (packet preparation is untimed, as on one thread).
struct thread_row {
  std::string aead, op;
  std::size_t size = 0;
  int threads = 0;
  double single_mbs = 0, aggregate_mbs = 0;
  bench::spread efficiency;  ///< aggregate / (threads x single), per round
};

template <class A>
double aggregate_mbs(std::size_t size, bool seal, int threads, double min_time) {
  using pair = decltype(sepal_backend<A>(size));
  std::vector<pair> sessions;
  for (int i = 0; i < threads; ++i) sessions.push_back(sepal_backend<A>(size));
  const std::size_t max_batch = std::clamp<std::size_t>((std::size_t{16} << 20) / size, 1, 256);
  std::vector<double> bytes_per_ns(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      auto& [b, prepare] = sessions[static_cast<std::size_t>(i)];
      const auto& op = seal ? b.seal : b.open;
      const bench::op_fn prep = seal ? bench::op_fn{} : prepare;
      bench::warm_up(op, prep, max_batch);
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      using clock = std::chrono::steady_clock;
      const std::size_t batch = std::min<std::size_t>(64, max_batch);
      double ns = 0;
      std::size_t done = 0;
      while (!stop.load() || done == 0) {
        if (prep) prep(batch);
        const auto t0 = clock::now();
        op(batch);
        ns += std::chrono::duration<double, std::nano>(clock::now() - t0).count();
        done += batch;
      }
      bytes_per_ns[static_cast<std::size_t>(i)] = static_cast<double>(done * size) / ns;
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(min_time));
  stop.store(true);
  for (auto& t : pool) t.join();
  double sum = 0;
  for (double v : bytes_per_ns) sum += v;
  return sum * 1e3;
}

template <class A>
void bench_threads(const char* name, const options& opt, std::vector<thread_row>& out) {
  for (std::size_t size : {std::size_t{1200}, std::size_t{16384}}) {
    const std::string label = std::string(name) + "/" + std::to_string(size);
    if (!opt.filter.empty() && label.find(opt.filter) == std::string::npos) continue;
    std::fprintf(stderr, "  %s on 1 and %d threads\n", label.c_str(), opt.threads);
    for (bool seal : {true, false}) {
      std::vector<double> one, many, eff;
      for (int r = 0; r < opt.runs; ++r) {
        one.push_back(aggregate_mbs<A>(size, seal, 1, opt.min_time));
        many.push_back(aggregate_mbs<A>(size, seal, opt.threads, opt.min_time));
        eff.push_back(many.back() / (opt.threads * one.back()));
      }
      out.push_back({name, seal ? "seal" : "open", size, opt.threads, bench::summarize(one).median,
                     bench::summarize(many).median, bench::summarize(eff)});
    }
  }
}

// -------------------------------------------------------------- handshakes

struct handshake_report {
  double sepal_per_s = 0, floor_per_s = 0, openssl_per_s = 0, mutual_per_s = 0;
};

/// One thread plays both sides of full sepal handshakes (default suite).
double sepal_handshakes(const options& opt, bool mutual) {
  namespace hs = sepal::handshake;
  const auto root = hs::share(sepal::private_key<sepal::p256>::generate());
  const auto client_key = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::fingerprint_allowlist<sepal::p256> allowed;
  allowed.allow(client_key->public_key());
  hs::server_config<hs::default_suite> sc{hs::server_identity<hs::default_suite>::root(root), {}};
  if (mutual) sc.allow_client = allowed;
  hs::client_config<hs::default_suite> cc{root->public_key(), mutual ? client_key : nullptr};
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          auto c = hs::client_handshake<hs::default_suite>::start(cc);
          auto s = hs::server_handshake<hs::default_suite>::accept(sc, c.client_hello());
          auto cd = c.receive(s->server_hello(), 0);
          if (!cd || !s->receive(cd->client_finished())) std::abort();
        }
      },
      opt);
}

/// The floor: the public-key operations a handshake needs, called directly
/// through Botan (two ECDH key pairs and agreements, one ECDSA signature and
/// one verification on P-256), with the same system RNG.
double botan_floor(const options& opt) {
  auto& rng = Botan::system_rng();
  const auto group = Botan::EC_Group::from_name("secp256r1");
  const Botan::ECDSA_PrivateKey root(rng, group);
  const std::vector<std::uint8_t> msg(130, 0x20);
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          const Botan::ECDH_PrivateKey a(rng, group), b(rng, group);
          Botan::PK_Key_Agreement ka(a, rng, "Raw"), kb(b, rng, "Raw");
          (void)ka.derive_key(0, b.public_value());
          (void)kb.derive_key(0, a.public_value());
          Botan::PK_Signer signer(root, rng, "SHA-256");
          const auto sig = signer.sign_message(msg, rng);
          Botan::PK_Verifier verifier(root, "SHA-256");
          if (!verifier.verify_message(msg, sig)) std::abort();
        }
      },
      opt);
}

#if defined(SEPAL_BENCH_OPENSSL_TLS)
/// OpenSSL TLS 1.3 full handshakes in memory: P-256 key share and a
/// self-signed P-256 certificate, no session tickets or resumption.
double openssl_tls13(const options& opt, bool mutual) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, pkey);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bench"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, pkey, EVP_sha256());
  auto make_ctx = [&](const SSL_METHOD* m) {
    SSL_CTX* ctx = SSL_CTX_new(m);
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set1_groups_list(ctx, "P-256");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, pkey);
    return ctx;
  };
  SSL_CTX* sctx = make_ctx(TLS_server_method());
  SSL_CTX_set_num_tickets(sctx, 0);
  SSL_CTX* cctx = make_ctx(TLS_client_method());
  X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cert);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
  if (mutual) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx), cert);
    SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  const double r = rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          SSL* s = SSL_new(sctx);
          SSL* c = SSL_new(cctx);
          BIO *cb = nullptr, *sb = nullptr;
          BIO_new_bio_pair(&cb, 0, &sb, 0);
          SSL_set_bio(c, cb, cb);
          SSL_set_bio(s, sb, sb);
          SSL_set_connect_state(c);
          SSL_set_accept_state(s);
          bool c_done = false, s_done = false;
          for (int round = 0; round < 20 && !(c_done && s_done); ++round) {
            if (!c_done) c_done = SSL_do_handshake(c) == 1;
            if (!s_done) s_done = SSL_do_handshake(s) == 1;
          }
          if (!c_done || !s_done) std::abort();
          SSL_free(c);
          SSL_free(s);
        }
      },
      opt);
  SSL_CTX_free(sctx);
  SSL_CTX_free(cctx);
  X509_free(cert);
  EVP_PKEY_free(pkey);
  return r;
}
#endif

handshake_report bench_handshakes(const options& opt) {
  std::fprintf(stderr, "  handshakes\n");
  handshake_report h;
  h.sepal_per_s = sepal_handshakes(opt, false);
  h.mutual_per_s = sepal_handshakes(opt, true);
  h.floor_per_s = botan_floor(opt);
#if defined(SEPAL_BENCH_OPENSSL_TLS)
  h.openssl_per_s = openssl_tls13(opt, false);
#endif
  return h;
}

// ------------------------------------------------------------------ memory

struct memory_report {
  std::size_t heap_bytes_per_session = 0;  ///< sealer + opener, including Botan's objects
  std::size_t object_bytes = 0;            ///< sizeof(session)
  double rss_kib_per_session = 0;          ///< measured over many sessions
  std::size_t sessions = 0;
};

std::size_t heap_in_use() { return mallinfo2().uordblks; }

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

memory_report measure_memory(std::size_t count) {
  using S = sepal::session<>;
  const std::array<std::uint8_t, 32> a{1}, b{2};
  memory_report m;
  m.object_bytes = sizeof(S);
  m.sessions = count;
  const auto secret = [](const auto& s) { return sepal::secret_bytes::copy_of(s); };
  { S warm(secret(a), secret(b)); }  // Botan's one-time initialisation is not per-session memory
  {
    const auto before = heap_in_use();  // the secrets a session keeps count as its memory
    auto one = std::make_unique<S>(secret(a), secret(b));
    m.heap_bytes_per_session = heap_in_use() - before;
  }
  std::vector<std::unique_ptr<S>> many;
  many.reserve(count);
  const auto rss0 = rss_bytes();
  for (std::size_t i = 0; i < count; ++i) many.push_back(std::make_unique<S>(secret(a), secret(b)));
  m.rss_kib_per_session = static_cast<double>(rss_bytes() - rss0) / 1024.0 / static_cast<double>(count);
  return m;
}

// ----------------------------------------------------------------- machine

struct machine_info {
  std::string cpu = "unknown", cpu_flags, botan_version, botan_uses, botan_detected, others;
  unsigned cores = 0;
  double load_start = -1, load_end = -1;
};

double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

/// The CPU model and flags the kernel reports, and what Botan chose: Botan 3
/// keeps CPUID internal (no installed cpuid.h), so the detected features are
/// read back from the implementation each algorithm object reports through
/// the public provider(): "avx2_aes" is VAES, "aesni" AES-NI, "clmul"
/// PCLMULQDQ, "avx2"/"avx512" the vector ChaCha20 and Poly1305.
machine_info describe_machine() {
  machine_info m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    const auto value = [&] { return line.substr(line.find(':') + 2); };
    if (line.rfind("model name", 0) == 0 && m.cpu == "unknown") m.cpu = value();
    if (line.rfind("flags", 0) == 0 && m.cpu_flags.empty()) {
      const std::string flags = " " + value() + " ";
      for (const char* f : {"aes", "pclmulqdq", "avx2", "vaes", "vpclmulqdq", "avx512f"})
        if (flags.find(std::string(" ") + f + " ") != std::string::npos) m.cpu_flags += std::string(m.cpu_flags.empty() ? "" : " ") + f;
    }
  }
  m.cores = std::thread::hardware_concurrency();
  m.botan_version = Botan::short_version_string();
  const auto aes = Botan::BlockCipher::create_or_throw("AES-128")->provider();
  const auto ghash = Botan::AEAD_Mode::create_or_throw("AES-128/GCM", Botan::Cipher_Dir::Encryption)->provider();
  const auto polyval =
      Botan::AEAD_Mode::create_or_throw(sepal::detail::algorithm<sepal::aes128_gcm_siv>::mode, Botan::Cipher_Dir::Encryption)
          ->provider();
  const auto chacha = Botan::StreamCipher::create_or_throw("ChaCha(20)")->provider();
  const auto poly1305 = Botan::MessageAuthenticationCode::create_or_throw("Poly1305")->provider();
  m.botan_uses = "AES " + aes + ", GHASH " + ghash + ", POLYVAL " + polyval + ", ChaCha20 " + chacha + ", Poly1305 " + poly1305;
  const auto yes = [](bool b) { return b ? "yes" : "no"; };
  const bool vaes = aes == "avx2_aes" || aes == "avx512_aes";
  const bool aesni = vaes || aes == "aesni";
  const bool clmul = ghash.find("clmul") != std::string::npos || polyval.find("clmul") != std::string::npos;
  const bool avx2 = vaes || chacha == "avx2" || chacha == "avx512" || poly1305 == "avx2" || poly1305 == "avx512";
  m.botan_detected = std::string("AES-NI ") + yes(aesni) + ", CLMUL " + yes(clmul) + ", AVX2 " + yes(avx2) + ", VAES " +
                     yes(vaes) + (std::getenv("BOTAN_CLEAR_CPUID") ? " (BOTAN_CLEAR_CPUID is set)" : "");
#if defined(SEPAL_BENCH_OPENSSL)
  m.others += OpenSSL_version(OPENSSL_VERSION);
#endif
#if defined(SEPAL_BENCH_SODIUM)
  m.others += std::string(m.others.empty() ? "" : ", ") + "libsodium " + sodium_version_string();
#endif
  m.load_start = load_average();
  return m;
}

// ------------------------------------------------------------------ output

/// Print `text`, breaking lines longer than `width` after ", " or "; " (or a
/// space) with a 4-space continuation indent; width 0 prints it as is.
void print_wrapped(const std::string& text, std::size_t width) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    bool first = true;
    while (width > 0 && line.size() > width) {
      std::size_t cut = std::string::npos;
      for (const char* sep : {"; ", ", ", ": ", " "}) {
        const auto at = line.rfind(sep, width - std::strlen(sep));
        if (at != std::string::npos && at > 8) {
          cut = at + std::strlen(sep) - 1;
          break;
        }
      }
      if (cut == std::string::npos) break;
      std::printf("%s\n", line.substr(0, cut).c_str());
      line = "    " + line.substr(cut + 1);
      first = false;
    }
    (void)first;
    std::printf("%s%s", line.c_str(), end < text.size() ? "\n" : "");
    start = end + 1;
  }
}

[[gnu::format(printf, 1, 2)]] std::string fmt(const char* f, ...) {
  std::va_list a;
  va_start(a, f);
  std::string out(static_cast<std::size_t>(std::max(0, std::vsnprintf(nullptr, 0, f, a))), '\0');
  va_end(a);
  va_start(a, f);
  std::vsnprintf(out.data(), out.size() + 1, f, a);
  va_end(a);
  return out;
}

bool noisy(const bench::spread& s, const options& opt) { return s.relative() > opt.max_spread; }

/// "0.93 [0.91-0.95]", or "noisy [0.70-1.20]" when the range exceeds the
/// threshold, or "0.93" for one round.
std::string ratio_text(const bench::spread& s, const options& opt) {
  if (opt.runs == 1) return fmt("%.2f", s.median);
  if (noisy(s, opt)) return fmt("noisy [%.2f-%.2f]", s.min, s.max);
  return fmt("%.2f [%.2f-%.2f]", s.median, s.min, s.max);
}

/// MB/s with a "?" when that subject's own rounds spread over the threshold.
std::string mbs_text(const row& r, const cell& c, const options& opt) {
  return fmt("%.1f%s", r.mbs(c.ns.median), noisy(c.ns, opt) ? "?" : "");
}

const std::vector<std::string>& other_backends(const std::vector<row>& rows) {
  static std::vector<std::string> names;
  names.clear();
  for (const char* n : {"OpenSSL", "libsodium"})
    for (const auto& r : rows)
      if (r.others.count(n) || r.not_available.count(n)) {
        names.push_back(n);
        break;
      }
  return names;
}

std::string other_cell(const row& r, const std::string& n, const options& opt) {
  const auto it = r.others.find(n);
  return it == r.others.end() ? "n/a" : mbs_text(r, it->second, opt);
}

double geomean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return v.empty() ? 0 : std::exp(s / static_cast<double>(v.size()));
}

struct size_class {
  std::string name;
  std::size_t lo, hi;
};

std::vector<size_class> size_classes() {
  return {{"game packets", 64, 1200}, {"bulk", 1201, SIZE_MAX}};
}

struct class_summary {
  std::string label;  ///< "game packets (64-1200 B)"
  std::size_t cells = 0;
  std::vector<std::pair<std::string, double>> sepal_ranking;  ///< AEAD -> geometric-mean MB/s through sepal
  std::string fastest_aead, fastest_backend;
  double fastest_mbs = 0;
  bench::spread cost_percent, cost_ns;  ///< sepal over raw Botan, across the cells
};

class_summary summarize_class(const std::vector<row>& rows, const size_class& c) {
  class_summary s;
  std::map<std::pair<std::string, std::string>, std::vector<double>> mbs;
  std::vector<double> cost_pct, cost_ns;
  std::size_t lo = SIZE_MAX, hi = 0, cells_per_pair = 0;
  std::map<std::string, std::size_t> per_aead;
  for (const auto& r : rows) {
    if (r.size < c.lo || r.size > c.hi) continue;
    lo = std::min(lo, r.size);
    hi = std::max(hi, r.size);
    ++s.cells;
    cells_per_pair = std::max(cells_per_pair, ++per_aead[r.aead]);
    mbs[{r.aead, "sepal"}].push_back(r.mbs(r.sepal_cell.ns.median));
    mbs[{r.aead, "Botan"}].push_back(r.mbs(r.botan_cell.ns.median));
    for (const auto& [n, cl] : r.others) mbs[{r.aead, n}].push_back(r.mbs(cl.ns.median));
    cost_pct.push_back((1 / r.sepal_cell.ratio.median - 1) * 100);
    cost_ns.push_back(r.sepal_cell.ns.median - r.botan_cell.ns.median);
  }
  if (s.cells == 0) return s;
  s.label = c.name + " (" + bench::size_label(static_cast<double>(lo)) +
            (lo == hi ? "" : "-" + bench::size_label(static_cast<double>(hi))) + ")";
  for (const auto& [k, v] : mbs) {
    if (v.size() < cells_per_pair) continue;  // a backend missing some sizes is not compared
    const double g = geomean(v);
    if (k.second == "sepal") s.sepal_ranking.push_back({k.first, g});
    if (g > s.fastest_mbs) {
      s.fastest_mbs = g;
      s.fastest_aead = k.first;
      s.fastest_backend = k.second;
    }
  }
  std::sort(s.sepal_ranking.begin(), s.sepal_ranking.end(), [](auto& a, auto& b) { return a.second > b.second; });
  s.cost_percent = bench::summarize(cost_pct);
  s.cost_ns = bench::summarize(cost_ns);
  return s;
}

struct report {
  machine_info machine;
  std::vector<row> rows;
  std::vector<forged_row> forged;
  std::vector<thread_row> threads;
  memory_report mem;
  handshake_report hs;
  std::vector<bench::section> sections;
};

std::size_t noisy_cells(const report& rep, const options& opt) {
  std::size_t n = 0;
  for (const auto& r : rep.rows) n += noisy(r.sepal_cell.ratio, opt);
  return n;
}

void print_summary(const report& rep, const options& opt) {
  const auto& m = rep.machine;
  std::string t;
  t += "machine: " + m.cpu + ", " + std::to_string(m.cores) + " logical CPUs" +
       fmt(", load average %.2f at start, %.2f at end", m.load_start, m.load_end) + "\n";
  t += "  CPU flags (kernel): " + (m.cpu_flags.empty() ? std::string("none of aes pclmulqdq avx2 vaes") : m.cpu_flags) + "\n";
  t += "  Botan " + m.botan_version + " detected: " + m.botan_detected + "\n";
  t += "  Botan uses: " + m.botan_uses + "\n";
  if (!m.others.empty()) t += "  also measured: " + m.others + "\n";
  if (opt.runs == 1) {
    t += fmt("  1 round of >= %g s per subject: no spread to judge, every number is a single sample\n",
             opt.min_time);
  } else {
    t += fmt("  %d interleaved rounds of >= %g s per subject; ranges are min-max over the rounds; "
             "cells spreading over %.0f%% are marked noisy\n",
             opt.runs, opt.min_time, opt.max_spread * 100);
  }
  t += "\nsummary\n";
  for (const auto& c : size_classes()) {
    const auto s = summarize_class(rep.rows, c);
    if (s.cells == 0) continue;
    t += "  " + s.label + ", seal and open, geometric mean:\n";
    t += fmt("    fastest on this machine: %s through %s, %.0f MB/s\n", s.fastest_aead.c_str(),
             s.fastest_backend.c_str(), s.fastest_mbs);
    std::string rank = "    through sepal: ";
    for (std::size_t i = 0; i < s.sepal_ranking.size(); ++i)
      rank += fmt("%s%s %.0f", i ? ", " : "", s.sepal_ranking[i].first.c_str(), s.sepal_ranking[i].second);
    t += rank + " MB/s\n";
    t += fmt("    sepal over raw Botan: %+.0f%% time, %+.0f ns per packet (median of %zu cells; "
             "range %+.0f%%..%+.0f%%)\n",
             s.cost_percent.median, s.cost_ns.median, s.cells, s.cost_percent.min, s.cost_percent.max);
  }
  if (!rep.forged.empty()) {
    std::vector<double> x;
    for (const auto& f : rep.forged) x.push_back(f.forged_ns / f.valid_ns);
    const auto s = bench::summarize(x);
    t += fmt("  a forged 1200 B packet costs %.2fx a valid open (%.2f-%.2fx over %zu AEADs)\n", s.median, s.min, s.max,
             rep.forged.size());
  }
  t += fmt("  memory per session (AES-256-GCM): %zu B object + %zu B heap; %.2f KiB RSS each over %zu\n",
           rep.mem.object_bytes, rep.mem.heap_bytes_per_session, rep.mem.rss_kib_per_session, rep.mem.sessions);
  t += fmt("  handshakes/s, one thread: sepal %.0f, mutual %.0f (Botan floor %.0f", rep.hs.sepal_per_s,
           rep.hs.mutual_per_s, rep.hs.floor_per_s);
  t += rep.hs.openssl_per_s > 0 ? fmt(", OpenSSL TLS 1.3 %.0f)\n", rep.hs.openssl_per_s) : ")\n";
  if (!rep.threads.empty()) {
    std::vector<double> eff;
    const thread_row* best = nullptr;
    for (const auto& r : rep.threads) {
      eff.push_back(r.efficiency.median * 100);
      if (!best || r.aggregate_mbs > best->aggregate_mbs) best = &r;
    }
    const auto e = bench::summarize(eff);
    t += fmt("  %d threads, one session each: scaling efficiency %.0f%% (%.0f-%.0f%% over %zu cells); "
             "best aggregate %s %s %zu B %.0f MB/s\n",
             opt.threads, e.median, e.min, e.max, eff.size(), best->aead.c_str(), best->op.c_str(), best->size,
             best->aggregate_mbs);
  }
  if (const auto n = noisy_cells(rep, opt); n > 0)
    t += fmt("  ** %zu of %zu sepal/Botan ratios spread over %.0f%%: marked noisy; the machine is busy, rerun "
             "with more --runs or --min-time **\n",
             n, rep.rows.size(), opt.max_spread * 100);
  print_wrapped(t, opt.wide ? 0 : 100);
}

void print_not_available(const std::vector<row>& rows) {
  std::vector<std::string> notes;
  for (const auto& r : rows)
    for (const auto& [b, why] : r.not_available)
      if (std::find(notes.begin(), notes.end(), why) == notes.end()) notes.push_back(why);
  for (const auto& n : notes) std::printf("n/a: %s\n", n.c_str());
#if !defined(SEPAL_BENCH_OPENSSL)
  std::printf("no OpenSSL column: libcrypto's development files were not found at configure time\n");
#endif
#if !defined(SEPAL_BENCH_SODIUM)
  std::printf("no libsodium column: libsodium's development files were not found at configure time\n");
#endif
}

void print_aead_tables(const report& rep, const options& opt) {
  const auto& rows = rep.rows;
  if (rows.empty()) return;
  const auto& others = other_backends(rows);
  const char* head = "%-17s %-4s %7s";
  if (opt.wide) {
    std::printf("\n");
    std::printf(head, "AEAD", "op", "bytes");
    std::printf(" | %9s %9s %7s %6s %6s | %9s %9s %6s | %-20s %-20s", "sepal", "ns/pkt", "cyc/B", "allocs", "sprd%",
                "Botan", "ns/pkt", "sprd%", "ratio [range]", "no-HP ratio [range]");
    for (const auto& n : others) std::printf(" | %9s %6s", n.c_str(), "ratio");
    std::printf("\n");
    std::printf(head, "", "", "");
    std::printf(" | %9s %9s %7s %6s %6s | %9s %9s %6s | %-20s %-20s", "MB/s", "", "", "", "", "MB/s", "", "", "", "");
    for (std::size_t i = 0; i < others.size(); ++i) std::printf(" | %9s %6s", "MB/s", "");
    std::printf("\n");
    for (const auto& r : rows) {
      std::printf(head, r.aead.c_str(), r.op.c_str(), std::to_string(r.size).c_str());
      std::printf(" | %9s %9.0f %7.2f %6.2f %6.1f | %9s %9.0f %6.1f | %-20s %-20s", mbs_text(r, r.sepal_cell, opt).c_str(),
                  r.sepal_cell.ns.median, r.sepal_cell.ticks / static_cast<double>(r.size), r.sepal_allocs,
                  r.sepal_cell.ns.relative() * 100, mbs_text(r, r.botan_cell, opt).c_str(), r.botan_cell.ns.median,
                  r.botan_cell.ns.relative() * 100, ratio_text(r.sepal_cell.ratio, opt).c_str(),
                  ratio_text(r.no_hp_cell.ratio, opt).c_str());
      for (const auto& n : others) {
        const auto it = r.others.find(n);
        std::printf(" | %9s %6s", other_cell(r, n, opt).c_str(),
                    it == r.others.end() ? "" : fmt("%.2f", it->second.ratio.median).c_str());
      }
      std::printf("\n");
    }
  } else {
    std::printf("\nthroughput, MB/s (median of the rounds); ratio = Botan's time / sepal's time per round\n");
    std::printf(head, "AEAD", "op", "bytes");
    std::printf(" | %8s %8s %-18s %5s", "sepal", "Botan", "ratio [range]", "no-HP");
    if (!others.empty()) std::printf(" |");
    for (const auto& n : others) std::printf(" %9s", n.c_str());
    std::printf("\n");
    for (const auto& r : rows) {
      std::printf(head, r.aead.c_str(), r.op.c_str(), std::to_string(r.size).c_str());
      std::printf(" | %8s %8s %-18s %5.2f", mbs_text(r, r.sepal_cell, opt).c_str(), mbs_text(r, r.botan_cell, opt).c_str(),
                  ratio_text(r.sepal_cell.ratio, opt).c_str(), r.no_hp_cell.ratio.median);
      if (!others.empty()) std::printf(" |");
      for (const auto& n : others) std::printf(" %9s", other_cell(r, n, opt).c_str());
      std::printf("\n");
    }
    std::printf("\nper packet (median), and each subject's own spread over the rounds\n");
    std::printf(head, "AEAD", "op", "bytes");
    std::printf(" | %9s %9s %8s | %6s %6s | %8s %8s\n", "sepal ns", "Botan ns", "+ns", "cyc/B", "allocs", "sepal +-",
                "Botan +-");
    for (const auto& r : rows) {
      std::printf(head, r.aead.c_str(), r.op.c_str(), std::to_string(r.size).c_str());
      std::printf(" | %9.0f %9.0f %+8.0f | %6.2f %6.2f | %7.1f%% %7.1f%%\n", r.sepal_cell.ns.median,
                  r.botan_cell.ns.median, r.sepal_cell.ns.median - r.botan_cell.ns.median,
                  r.sepal_cell.ticks / static_cast<double>(r.size), r.sepal_allocs,
                  r.sepal_cell.ns.relative() * 50, r.botan_cell.ns.relative() * 50);
    }
  }
  std::printf(
      "sepal = session sealer/opener (5-byte header, RFC 9001 header protection, replay window); Botan =\n"
      "raw AEAD_Mode, reused; ratio >= 1: sepal as fast; no-HP = the same ratio with header protection\n"
      "off (the wrapper's own cost); +ns = sepal's time - Botan's; cyc/B = TSC ticks per byte; +-\n"
      "= half the min-max range over the rounds, in %% of the median; '?' = that number spread over %.0f%%.\n",
      opt.max_spread * 100);
  print_not_available(rows);
}

void print_table(const report& rep, const options& opt) {
  print_summary(rep, opt);
  print_aead_tables(rep, opt);
  if (!rep.forged.empty()) {
    std::printf("\nrejecting a forged 1200-byte packet (valid header, flipped tag byte)\n");
    std::printf("%-17s | %9s %-20s | %12s | %6s\n", "AEAD", "forged ns", "x valid open [range]", "raw Botan ns",
                "allocs");
    for (const auto& f : rep.forged)
      std::printf("%-17s | %9.0f %-20s | %12.0f | %6.1f\n", f.aead.c_str(), f.forged_ns,
                  ratio_text(f.ratio, opt).c_str(), f.botan_forged_ns, f.allocs);
  }
  if (!rep.threads.empty()) {
    std::printf("\n--threads %d: aggregate throughput, one independent session per thread (median of rounds)\n",
                opt.threads);
    std::printf("%-17s %-4s %7s | %13s | %13s | %s\n", "AEAD", "op", "bytes", "1 thread MB/s",
                fmt("%d threads MB/s", opt.threads).c_str(), "efficiency [range]");
    for (const auto& r : rep.threads)
      std::printf("%-17s %-4s %7zu | %13.1f | %13.1f | %s\n", r.aead.c_str(), r.op.c_str(), r.size, r.single_mbs,
                  r.aggregate_mbs, ratio_text(r.efficiency, opt).c_str());
    std::printf("efficiency = aggregate / (threads x one thread); %u logical CPUs here%s\n", rep.machine.cores,
                static_cast<unsigned>(opt.threads) > rep.machine.cores ? ": more threads than CPUs cannot scale" : "");
  }
  std::string t;
  t += fmt("\nhandshakes/s (one thread, both sides, P-256 / ECDSA-P256 / AES-256-GCM / SHA-256): sepal %.0f, "
           "mutual %.0f; Botan primitive floor %.0f (sepal/floor %.2f)",
           rep.hs.sepal_per_s, rep.hs.mutual_per_s, rep.hs.floor_per_s, rep.hs.sepal_per_s / rep.hs.floor_per_s);
  if (rep.hs.openssl_per_s > 0)
    t += fmt("; OpenSSL TLS 1.3 %.0f (sepal/OpenSSL %.2f)", rep.hs.openssl_per_s, rep.hs.sepal_per_s / rep.hs.openssl_per_s);
  t += "\n";
  t += fmt("\nmemory: a session (sealer + opener, AES-256-GCM) is %zu bytes of object and %zu bytes of heap; "
           "%zu sessions took %.2f KiB RSS each\n",
           rep.mem.object_bytes, rep.mem.heap_bytes_per_session, rep.mem.sessions, rep.mem.rss_kib_per_session);
  for (const auto& s : rep.sections) t += s.text;
  print_wrapped(t, opt.wide ? 0 : 100);
}

std::string json_spread(const char* key, const bench::spread& s) {
  return fmt(", \"%s_min\": %.4f, \"%s_max\": %.4f", key, s.min, key, s.max);
}

void print_json(const report& rep, const options& opt) {
  const auto& rows = rep.rows;
  std::printf("{\n  \"aead\": [\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::printf("    {\"aead\": \"%s\", \"op\": \"%s\", \"bytes\": %zu, \"sepal_ns\": %.1f, \"botan_ns\": %.1f, "
                "\"sepal_ticks_per_byte\": %.3f, \"sepal_allocs\": %.2f, \"ratio\": %.4f, "
                "\"no_hp_ns\": %.1f, \"no_hp_ratio\": %.4f",
                r.aead.c_str(), r.op.c_str(), r.size, r.sepal.ns, r.botan.ns,
                r.sepal.ticks / static_cast<double>(r.size), r.sepal_allocs, r.sepal_cell.ratio.median, r.no_hp_ns,
                r.no_hp_cell.ratio.median);
    for (const auto& [k, v] : r.others_ns) std::printf(", \"%s_ns\": %.1f", k.c_str(), v);
    std::printf("%s%s%s%s", json_spread("ratio", r.sepal_cell.ratio).c_str(),
                json_spread("no_hp_ratio", r.no_hp_cell.ratio).c_str(), json_spread("sepal_ns", r.sepal_cell.ns).c_str(),
                json_spread("botan_ns", r.botan_cell.ns).c_str());
    for (const auto& [k, v] : r.others) std::printf("%s", json_spread((k + "_ns").c_str(), v.ns).c_str());
    std::printf(", \"runs\": %d, \"noisy\": %s", opt.runs, noisy(r.sepal_cell.ratio, opt) ? "true" : "false");
    if (!r.not_available.empty()) {
      std::printf(", \"not_available\": {");
      bool first = true;
      for (const auto& [k, v] : r.not_available) {
        std::printf("%s\"%s\": \"%s\"", first ? "" : ", ", k.c_str(), v.c_str());
        first = false;
      }
      std::printf("}");
    }
    std::printf("}%s\n", i + 1 < rows.size() ? "," : "");
  }
  std::printf("  ],\n  \"forged\": [\n");
  for (std::size_t i = 0; i < rep.forged.size(); ++i) {
    const auto& f = rep.forged[i];
    std::printf("    {\"aead\": \"%s\", \"valid_open_ns\": %.1f, \"forged_ns\": %.1f, \"botan_forged_ns\": %.1f, "
                "\"ratio\": %.3f, \"allocs\": %.2f%s}%s\n",
                f.aead.c_str(), f.valid_ns, f.forged_ns, f.botan_forged_ns, f.forged_ns / f.valid_ns, f.allocs,
                json_spread("ratio", f.ratio).c_str(), i + 1 < rep.forged.size() ? "," : "");
  }
  std::printf("  ],\n  \"handshakes_per_s\": {\"sepal\": %.1f, \"sepal_mutual\": %.1f, \"botan_floor\": %.1f, "
              "\"openssl_tls13\": %.1f},\n",
              rep.hs.sepal_per_s, rep.hs.mutual_per_s, rep.hs.floor_per_s, rep.hs.openssl_per_s);
  std::printf("  \"memory\": {\"object_bytes\": %zu, \"heap_bytes_per_session\": %zu, \"sessions\": %zu, "
              "\"rss_kib_per_session\": %.3f}",
              rep.mem.object_bytes, rep.mem.heap_bytes_per_session, rep.mem.sessions, rep.mem.rss_kib_per_session);
  for (const auto& s : rep.sections) std::printf(",\n  \"%s\": %s", s.json_key.c_str(), s.json_value.c_str());
  const auto& m = rep.machine;
  std::printf(",\n  \"machine\": {\"cpu\": \"%s\", \"logical_cpus\": %u, \"cpu_flags\": \"%s\", \"botan\": \"%s\", "
              "\"botan_detected\": \"%s\", \"botan_uses\": \"%s\", \"others\": \"%s\", \"load_start\": %.2f, "
              "\"load_end\": %.2f, \"runs\": %d, \"min_time_s\": %g, \"max_spread\": %.3f}",
              m.cpu.c_str(), m.cores, m.cpu_flags.c_str(), m.botan_version.c_str(), m.botan_detected.c_str(),
              m.botan_uses.c_str(), m.others.c_str(), m.load_start, m.load_end, opt.runs, opt.min_time, opt.max_spread);
  std::printf(",\n  \"summary\": [");
  bool first = true;
  for (const auto& c : size_classes()) {
    const auto s = summarize_class(rows, c);
    if (s.cells == 0) continue;
    std::printf("%s\n    {\"class\": \"%s\", \"fastest_aead\": \"%s\", \"fastest_backend\": \"%s\", "
                "\"fastest_mb_per_s\": %.1f, \"sepal_cost_percent\": %.2f, \"sepal_cost_ns\": %.1f}",
                first ? "" : ",", s.label.c_str(), s.fastest_aead.c_str(), s.fastest_backend.c_str(), s.fastest_mbs,
                s.cost_percent.median, s.cost_ns.median);
    first = false;
  }
  std::printf("\n  ],\n  \"threads\": [");
  for (std::size_t i = 0; i < rep.threads.size(); ++i) {
    const auto& r = rep.threads[i];
    std::printf("%s\n    {\"aead\": \"%s\", \"op\": \"%s\", \"bytes\": %zu, \"threads\": %d, \"single_mb_per_s\": %.1f, "
                "\"aggregate_mb_per_s\": %.1f, \"efficiency\": %.4f%s}",
                i ? "," : "", r.aead.c_str(), r.op.c_str(), r.size, r.threads, r.single_mbs, r.aggregate_mbs,
                r.efficiency.median, json_spread("efficiency", r.efficiency).c_str());
  }
  std::printf("\n  ]\n}\n");
}

/// One line per AEAD, operation, size and backend (long format).
void print_csv(const report& rep) {
  std::printf("aead,op,bytes,backend,median_ns,min_ns,max_ns,mb_per_s,botan_over_backend,"
              "botan_over_backend_min,botan_over_backend_max,allocs\n");
  for (const auto& r : rep.rows) {
    const auto line = [&](const std::string& backend, const cell& c, const std::string& allocs) {
      std::printf("%s,%s,%zu,%s,%.1f,%.1f,%.1f,%.2f,%.4f,%.4f,%.4f,%s\n", r.aead.c_str(), r.op.c_str(), r.size,
                  backend.c_str(), c.ns.median, c.ns.min, c.ns.max, r.mbs(c.ns.median), c.ratio.median, c.ratio.min,
                  c.ratio.max, allocs.c_str());
    };
    line("sepal", r.sepal_cell, fmt("%.2f", r.sepal_allocs));
    line("sepal-no-HP", r.no_hp_cell, "");
    line("Botan", r.botan_cell, "");
    for (const auto& [n, c] : r.others) line(n, c, "");
  }
}

bool write_plot(const report& rep, const options& opt) {
  std::vector<bench::plot_series> series;
  const auto add = [&](const row& r, const std::string& backend, const cell& c) {
    auto it = std::find_if(series.begin(), series.end(), [&](const bench::plot_series& s) {
      return s.aead == r.aead && s.backend == backend && s.op == r.op;
    });
    if (it == series.end()) {
      series.push_back({r.aead, backend, r.op, {}});
      it = series.end() - 1;
    }
    it->points.push_back({static_cast<double>(r.size), r.mbs(c.ns.median)});
  };
  for (const auto& r : rep.rows) {
    add(r, "sepal", r.sepal_cell);
    add(r, "Botan", r.botan_cell);
    for (const auto& [n, c] : r.others) add(r, n, c);
  }
  for (auto& s : series) std::sort(s.points.begin(), s.points.end());
  const auto& m = rep.machine;
  const std::string subtitle = m.cpu + ", Botan " + m.botan_version + " (" + m.botan_uses + ")" +
                               (m.others.empty() ? "" : ", " + m.others) +
                               fmt(", %d round%s", opt.runs, opt.runs == 1 ? "" : "s");
  std::ofstream f(opt.plot, std::ios::binary);
  f << bench::svg_plot(series, subtitle);
  return static_cast<bool>(f);
}

/// Raw Botan AES-128-GCM's fixed cost per message (start() + finish() of an
/// empty message), and how many bytes of bulk sealing that is worth. This
/// row catches the CTR_BE::seek regression of an unpatched Botan 3.13
/// (docs/botan.md): there the fixed cost is about 3200 bytes' worth; with
/// tools/botan-patches it is about 1200.
bench::section gcm_fixed_cost(const options& opt) {
  auto enc = Botan::AEAD_Mode::create_or_throw("AES-128/GCM", Botan::Cipher_Dir::Encryption);
  enc->set_key(std::array<std::uint8_t, 16>{});
  Botan::secure_vector<std::uint8_t> buf;
  buf.reserve(4096 + 16);
  const std::array<std::uint8_t, 12> nonce{};
  const auto seal = [&](std::size_t size) {
    return measure(
        [&](std::size_t n) {
          for (std::size_t i = 0; i < n; ++i) {
            buf.assign(size, 0x42);
            enc->start(nonce);
            enc->finish(buf);
          }
        },
        opt).ns;
  };
  const double empty = seal(0), bulk = seal(4096);
  const double per_byte = std::max(1e-3, (bulk - empty) / 4096.0);
  const double worth = empty / per_byte;
  bench::section s;
  char line[400];
  std::snprintf(line, sizeof line,
                "\nBotan AES-128-GCM fixed cost per message: %.0f ns = %.0f bytes of bulk sealing%s\n", empty, worth,
                worth > 2048 ? "  ** SLOW: the CTR seek regression? see docs/botan.md **" : "");
  s.text = line;
  s.json_key = "botan_gcm_fixed_cost";
  std::snprintf(line, sizeof line, "{\"empty_message_ns\": %.1f, \"bulk_bytes_equivalent\": %.1f}", empty, worth);
  s.json_value = line;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  // Measure real heap use: keep Botan's secure memory out of its mlock pool.
  ::setenv("BOTAN_MLOCK_POOL_SIZE", "0", 1);
  options opt;
  std::size_t sessions = 100000;
  const auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s [--json | --csv] [--wide] [--plot FILE.svg] [--filter SUBSTRING] [--min-time SECONDS]\n"
                 "       [--runs N] [--sessions N] [--threads N] [--sizes BYTES,BYTES,...] [--max-spread FRACTION]\n",
                 argv[0]);
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--csv") {
      opt.csv = true;
    } else if (a == "--wide") {
      opt.wide = true;
    } else if (a == "--plot" && has_value) {
      opt.plot = argv[++i];
    } else if (a == "--filter" && has_value) {
      opt.filter = argv[++i];
    } else if (a == "--min-time" && has_value) {
      opt.min_time = std::atof(argv[++i]);
    } else if (a == "--runs" && has_value) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sessions" && has_value) {
      sessions = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--threads" && has_value) {
      opt.threads = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--max-spread" && has_value) {
      opt.max_spread = std::atof(argv[++i]);
    } else if (a == "--sizes" && has_value) {
      std::string list = argv[++i];
      for (std::size_t at = 0; at <= list.size();) {
        const auto comma = std::min(list.find(',', at), list.size());
        const long v = std::atol(list.substr(at, comma - at).c_str());
        if (v <= 0 || v > (1L << 26)) return usage();
        opt.sizes.push_back(static_cast<std::size_t>(v));
        at = comma + 1;
      }
      std::sort(opt.sizes.begin(), opt.sizes.end());
    } else {
      return usage();
    }
  }
  if (opt.json && opt.csv) return usage();
  std::fprintf(stderr, "sepal-bench %s: packet seal/open, sepal vs raw reused Botan\n", sepal::version_string);
  report rep;
  rep.machine = describe_machine();
  bench_aead<sepal::aes128_gcm>("AES-128-GCM", opt, rep.rows, rep.forged);
  bench_aead<sepal::aes256_gcm>("AES-256-GCM", opt, rep.rows, rep.forged);
  bench_aead<sepal::chacha20_poly1305>("ChaCha20-Poly1305", opt, rep.rows, rep.forged);
  bench_aead<sepal::aes128_gcm_siv>("AES-128-GCM-SIV", opt, rep.rows, rep.forged);
  bench_aead<sepal::aes256_gcm_siv>("AES-256-GCM-SIV", opt, rep.rows, rep.forged);
  if (opt.threads > 0) {
    bench_threads<sepal::aes128_gcm>("AES-128-GCM", opt, rep.threads);
    bench_threads<sepal::aes256_gcm>("AES-256-GCM", opt, rep.threads);
    bench_threads<sepal::chacha20_poly1305>("ChaCha20-Poly1305", opt, rep.threads);
    bench_threads<sepal::aes128_gcm_siv>("AES-128-GCM-SIV", opt, rep.threads);
    bench_threads<sepal::aes256_gcm_siv>("AES-256-GCM-SIV", opt, rep.threads);
  }
  std::fprintf(stderr, "  memory for %zu sessions\n", sessions);
  rep.mem = measure_memory(sessions);
  rep.hs = bench_handshakes(opt);
  const auto wanted = [&](std::string_view area) { return opt.filter.empty() || area.find(opt.filter) != std::string_view::npos; };
  if (wanted("aes-gcm fixed per-message cost botan ctr")) rep.sections.push_back(gcm_fixed_cost(opt));
  if (wanted("spake2plus password login")) rep.sections.push_back(bench::bench_pake(opt));
  if (wanted("rfc9421 request signing hmac ecdsa ed25519")) rep.sections.push_back(bench::bench_http(opt));
  if (wanted("post-quantum hybrid ml-kem mlkem handshakes")) rep.sections.push_back(bench::bench_kem(opt));
  if (wanted("noise handshakes transport xx ik 25519 p256")) rep.sections.push_back(bench::bench_noise(opt));
  if (wanted("x509 certificates mtls tls13")) {
    double openssl_mutual = 0;
#if defined(SEPAL_BENCH_OPENSSL_TLS)
    openssl_mutual = openssl_tls13(opt, true);
#endif
    rep.sections.push_back(bench::bench_pki(opt, openssl_mutual));
  }
  rep.machine.load_end = load_average();
  if (opt.json) {
    print_json(rep, opt);
  } else if (opt.csv) {
    print_csv(rep);
  } else {
    print_table(rep, opt);
  }
  if (!opt.plot.empty()) {
    if (!write_plot(rep, opt)) {
      std::fprintf(stderr, "sepal-bench: cannot write %s\n", opt.plot.c_str());
      return 1;
    }
    std::fprintf(stderr, "  plot written to %s\n", opt.plot.c_str());
  }
  return 0;
}
