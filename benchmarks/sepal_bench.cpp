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
#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/secmem.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
  #include <x86intrin.h>
#endif
#if defined(SEPAL_BENCH_OPENSSL)
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
#include "counting_new.hpp"  // allocations per packet

namespace bench {
section bench_pake(const options& opt);
section bench_http(const options& opt);
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

struct row {
  std::string aead, op;
  std::size_t size = 0;
  timing sepal, botan;
  double sepal_allocs = 0;
  double no_hp_ns = 0;  ///< sepal without header protection
  std::map<std::string, double> others_ns;  ///< OpenSSL, libsodium
};

struct forged_row {
  std::string aead;
  double valid_ns = 0, forged_ns = 0, botan_forged_ns = 0, allocs = 0;
};

template <class A>
forged_row forged_cost(const char* name, double valid_ns, const options& opt, std::span<const std::uint8_t> key) {
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
  auto sepal_forged = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (o.open(ad, packet, out)) std::abort();
  };
  // Raw Botan rejecting a forgery, for reference: its cost is the same
  // exception sepal catches.
  auto botan_forged = [&](std::size_t n) {
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
  forged_row r{name, valid_ns, measure(sepal_forged, opt).ns, measure(botan_forged, opt).ns,
               allocations_per_op(sepal_forged)};
  return r;
}

template <class A>
void bench_aead(const char* name, const options& opt, std::vector<row>& rows, std::vector<forged_row>& forged) {
  const std::size_t sizes[] = {64, 256, 1200, 16384, 1048576};
  const auto key = sepal::random_bytes<A::key_size>();
  for (std::size_t size : sizes) {
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
    row seal{name, "seal", size, measure(sp.seal, opt), measure(rb.seal, opt), allocations_per_op(sp.seal), 0, {}};
    row open{name, "open", size, measure(sp.open, opt, prepare, max_batch), measure(rb.open, opt, rb_prepare, max_batch),
             allocations_per_op(sp.open, prepare), 0, {}};
    seal.no_hp_ns = measure(plain.seal, opt).ns;
    open.no_hp_ns = measure(plain.open, opt, plain_prepare, max_batch).ns;
    for (const auto& b : others) {
      seal.others_ns[b.name] = measure(b.seal, opt).ns;
      open.others_ns[b.name] = measure(b.open, opt).ns;
    }
    rows.push_back(seal);
    rows.push_back(open);

    if (size == 1200) forged.push_back(forged_cost<A>(name, open.sepal.ns, opt, key));
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

// ------------------------------------------------------------------ output

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

void print_table(const std::vector<row>& rows, const std::vector<forged_row>& forged, const memory_report& mem,
                 const handshake_report& hsr, const std::vector<bench::section>& sections) {
  std::vector<std::string> other_names;
  for (const auto& r : rows)
    for (const auto& [k, v] : r.others_ns)
      if (std::find(other_names.begin(), other_names.end(), k) == other_names.end()) other_names.push_back(k);

  std::printf("%-18s %-5s %8s | %9s %9s %7s %6s | %9s %9s | %6s %6s", "AEAD", "op", "bytes", "sepal", "ns/pkt",
              "cyc/B", "allocs", "Botan", "ns/pkt", "ratio", "no-HP");
  for (const auto& n : other_names) std::printf(" | %9s", n.c_str());
  std::printf("\n%-18s %-5s %8s | %9s %9s %7s %6s | %9s %9s | %6s %6s", "", "", "", "MB/s", "", "", "", "MB/s", "",
              "", "ratio");
  for (std::size_t i = 0; i < other_names.size(); ++i) std::printf(" | %9s", "MB/s");
  std::printf("\n");
  for (const auto& r : rows) {
    const auto mbs = [&](double ns) { return static_cast<double>(r.size) / ns * 1e3; };
    std::printf("%-18s %-5s %8zu | %9.1f %9.0f %7.2f %6.2f | %9.1f %9.0f | %6.3f %6.3f", r.aead.c_str(),
                r.op.c_str(), r.size, mbs(r.sepal.ns), r.sepal.ns, r.sepal.ticks / static_cast<double>(r.size),
                r.sepal_allocs, mbs(r.botan.ns), r.botan.ns, r.botan.ns / r.sepal.ns, r.botan.ns / r.no_hp_ns);
    for (const auto& n : other_names) {
      const auto it = r.others_ns.find(n);
      if (it == r.others_ns.end()) {
        std::printf(" | %9s", "n/a");
      } else {
        std::printf(" | %9.1f", mbs(it->second));
      }
    }
    std::printf("\n");
  }
  std::printf(
      "sepal = session sealer/opener (5-byte header, RFC 9001 header protection, replay window); Botan = raw\n"
      "AEAD_Mode, reused; ratio = Botan time / sepal time (>= 1: sepal as fast); no-HP ratio = the same with\n"
      "header protection off (the wrapper's own cost). cyc/B are TSC ticks per byte.\n\n");
  for (const auto& f : forged) {
    std::printf("%s: rejecting a forged 1200-byte packet: %.0f ns = %.2fx a valid open (raw Botan: %.0f ns), %.1f allocs\n",
                f.aead.c_str(), f.forged_ns, f.forged_ns / f.valid_ns, f.botan_forged_ns, f.allocs);
  }
  std::printf("\nhandshakes/s (one thread, both sides, P-256 / ECDSA-P256 / AES-256-GCM / SHA-256): sepal %.0f, "
              "mutual %.0f; Botan primitive floor %.0f (sepal/floor %.2f)",
              hsr.sepal_per_s, hsr.mutual_per_s, hsr.floor_per_s, hsr.sepal_per_s / hsr.floor_per_s);
  if (hsr.openssl_per_s > 0)
    std::printf("; OpenSSL TLS 1.3 %.0f (sepal/OpenSSL %.2f)", hsr.openssl_per_s, hsr.sepal_per_s / hsr.openssl_per_s);
  std::printf("\n");
  std::printf("\nmemory: a session (sealer + opener, AES-256-GCM) is %zu bytes of object and %zu bytes of heap; "
              "%zu sessions took %.2f KiB RSS each\n",
              mem.object_bytes, mem.heap_bytes_per_session, mem.sessions, mem.rss_kib_per_session);
  for (const auto& s : sections) std::printf("%s", s.text.c_str());
}

void print_json(const std::vector<row>& rows, const std::vector<forged_row>& forged, const memory_report& mem,
                const handshake_report& hsr, const std::vector<bench::section>& sections) {
  std::printf("{\n  \"aead\": [\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::printf("    {\"aead\": \"%s\", \"op\": \"%s\", \"bytes\": %zu, \"sepal_ns\": %.1f, \"botan_ns\": %.1f, "
                "\"sepal_ticks_per_byte\": %.3f, \"sepal_allocs\": %.2f, \"ratio\": %.4f, "
                "\"no_hp_ns\": %.1f, \"no_hp_ratio\": %.4f",
                r.aead.c_str(), r.op.c_str(), r.size, r.sepal.ns, r.botan.ns,
                r.sepal.ticks / static_cast<double>(r.size), r.sepal_allocs, r.botan.ns / r.sepal.ns, r.no_hp_ns,
                r.botan.ns / r.no_hp_ns);
    for (const auto& [k, v] : r.others_ns) std::printf(", \"%s_ns\": %.1f", k.c_str(), v);
    std::printf("}%s\n", i + 1 < rows.size() ? "," : "");
  }
  std::printf("  ],\n  \"forged\": [\n");
  for (std::size_t i = 0; i < forged.size(); ++i) {
    const auto& f = forged[i];
    std::printf("    {\"aead\": \"%s\", \"valid_open_ns\": %.1f, \"forged_ns\": %.1f, \"botan_forged_ns\": %.1f, "
                "\"ratio\": %.3f, \"allocs\": %.2f}%s\n",
                f.aead.c_str(), f.valid_ns, f.forged_ns, f.botan_forged_ns, f.forged_ns / f.valid_ns, f.allocs,
                i + 1 < forged.size() ? "," : "");
  }
  std::printf("  ],\n  \"handshakes_per_s\": {\"sepal\": %.1f, \"sepal_mutual\": %.1f, \"botan_floor\": %.1f, "
              "\"openssl_tls13\": %.1f},\n",
              hsr.sepal_per_s, hsr.mutual_per_s, hsr.floor_per_s, hsr.openssl_per_s);
  std::printf("  \"memory\": {\"object_bytes\": %zu, \"heap_bytes_per_session\": %zu, \"sessions\": %zu, "
              "\"rss_kib_per_session\": %.3f}",
              mem.object_bytes, mem.heap_bytes_per_session, mem.sessions, mem.rss_kib_per_session);
  for (const auto& s : sections) std::printf(",\n  \"%s\": %s", s.json_key.c_str(), s.json_value.c_str());
  std::printf("\n}\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Measure real heap use: keep Botan's secure memory out of its mlock pool.
  ::setenv("BOTAN_MLOCK_POOL_SIZE", "0", 1);
  options opt;
  std::size_t sessions = 100000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--filter" && i + 1 < argc) {
      opt.filter = argv[++i];
    } else if (a == "--min-time" && i + 1 < argc) {
      opt.min_time = std::atof(argv[++i]);
    } else if (a == "--runs" && i + 1 < argc) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sessions" && i + 1 < argc) {
      sessions = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--json] [--filter SUBSTRING] [--min-time SECONDS] [--runs N] [--sessions N]\n",
                   argv[0]);
      return 2;
    }
  }
  std::fprintf(stderr, "sepal-bench %s: packet seal/open, sepal vs raw reused Botan\n", sepal::version_string);
  std::vector<row> rows;
  std::vector<forged_row> forged;
  bench_aead<sepal::aes128_gcm>("AES-128-GCM", opt, rows, forged);
  bench_aead<sepal::aes256_gcm>("AES-256-GCM", opt, rows, forged);
  bench_aead<sepal::chacha20_poly1305>("ChaCha20-Poly1305", opt, rows, forged);
  bench_aead<sepal::aes128_gcm_siv>("AES-128-GCM-SIV", opt, rows, forged);
  bench_aead<sepal::aes256_gcm_siv>("AES-256-GCM-SIV", opt, rows, forged);
  std::fprintf(stderr, "  memory for %zu sessions\n", sessions);
  const auto mem = measure_memory(sessions);
  const auto hsr = bench_handshakes(opt);
  std::vector<bench::section> sections;
  const auto wanted = [&](std::string_view area) { return opt.filter.empty() || area.find(opt.filter) != std::string_view::npos; };
  if (wanted("aes-gcm fixed per-message cost botan ctr")) sections.push_back(gcm_fixed_cost(opt));
  if (wanted("spake2plus password login")) sections.push_back(bench::bench_pake(opt));
  if (wanted("rfc9421 request signing hmac ecdsa ed25519")) sections.push_back(bench::bench_http(opt));
  if (wanted("x509 certificates mtls tls13")) {
    double openssl_mutual = 0;
#if defined(SEPAL_BENCH_OPENSSL_TLS)
    openssl_mutual = openssl_tls13(opt, true);
#endif
    sections.push_back(bench::bench_pki(opt, openssl_mutual));
  }
  if (opt.json) {
    print_json(rows, forged, mem, hsr, sections);
  } else {
    print_table(rows, forged, mem, hsr, sections);
  }
  return 0;
}
