// sepal-bench, post-quantum hybrid handshakes: full sepal handshakes per
// second for each hybrid suite next to its classical twin (same signature
// scheme, AEAD and hash; interleaved rounds of the same run, so the ratio
// is honest on a shared machine), the floor of each hybrid (its ML-KEM and
// EC operations and the signature called directly through Botan), and the
// bytes on the wire per handshake for every suite and credential kind.
// One thread plays both sides.

#include <botan/ec_group.h>
#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/ml_kem.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x25519.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <sepal/handshake/certificates.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/pki/authority.hpp>

#include "bench_common.hpp"

namespace bench {
namespace {

namespace hs = sepal::handshake;
namespace pki = sepal::pki;

using x25519_classical = hs::suite<sepal::x25519, sepal::ed25519, sepal::chacha20_poly1305>;
using x25519_hybrid = hs::suite<sepal::x25519_mlkem768, sepal::ed25519, sepal::chacha20_poly1305>;
using p256_classical = hs::default_suite;
using p256_hybrid = hs::suite<sepal::secp256r1_mlkem768, sepal::p256>;
using p384_classical = hs::suite<sepal::p384, sepal::p384, sepal::aes256_gcm, sepal::sha384>;
using p384_hybrid = hs::suite<sepal::secp384r1_mlkem1024, sepal::p384, sepal::aes256_gcm, sepal::sha384>;

const std::uint64_t now = static_cast<std::uint64_t>(std::time(nullptr));

/// Root-key handshakes of `Suite` as a timed subject.
template <class Suite>
subject handshakes() {
  using sig = typename Suite::sig;
  auto root = hs::share(sepal::private_key<sig>::generate());
  auto sc = std::make_shared<hs::server_config<Suite>>(hs::server_config<Suite>{hs::server_identity<Suite>::root(root), {}});
  auto cc = std::make_shared<hs::client_config<Suite>>(hs::client_config<Suite>{root->public_key(), nullptr});
  return {[sc, cc](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
              auto c = hs::client_handshake<Suite>::start(*cc);
              auto s = hs::server_handshake<Suite>::accept(*sc, c.client_hello());
              auto cd = c.receive(s->server_hello(), now);
              if (!cd || !s->receive(cd->client_finished())) std::abort();
            }
          },
          {}, 64};
}

/// The public-key work of one handshake of a hybrid suite, straight through
/// Botan: ML-KEM key generation, encapsulation and decapsulation, two EC key
/// pairs and agreements, one signature and one verification.
template <class Hybrid, class Sig>
subject botan_floor() {
  auto& rng = Botan::system_rng();
  const Botan::ML_KEM_Mode mode(sepal::detail::algorithm<typename Hybrid::kem>::mode);
  std::shared_ptr<Botan::Private_Key> signer_key;
  std::string padding;
  if constexpr (std::is_same_v<Sig, sepal::ed25519>) {
    signer_key = std::make_shared<Botan::Ed25519_PrivateKey>(rng);
    padding = "Pure";
  } else {
    signer_key = std::make_shared<Botan::ECDSA_PrivateKey>(
        rng, Botan::EC_Group::from_name(sepal::detail::algorithm<Sig>::group));
    padding = std::string(sepal::detail::x509_hash<Sig>);
  }
  return {[mode, signer_key, padding, &rng](std::size_t n) {
            const std::vector<std::uint8_t> msg(130, 0x20);
            for (std::size_t i = 0; i < n; ++i) {
              const Botan::ML_KEM_PrivateKey dk(rng, mode);
              Botan::PK_KEM_Encryptor enc(dk, "Raw");
              const auto e = enc.encrypt(rng);
              Botan::PK_KEM_Decryptor dec(dk, rng, "Raw");
              if (dec.decrypt(e.encapsulated_shared_key()) != e.shared_key()) std::abort();
              if constexpr (std::is_same_v<typename Hybrid::ec, sepal::x25519>) {
                const Botan::X25519_PrivateKey a(rng), b(rng);
                Botan::PK_Key_Agreement ka(a, rng, "Raw"), kb(b, rng, "Raw");
                (void)ka.derive_key(0, b.public_value());
                (void)kb.derive_key(0, a.public_value());
              } else {
                const auto group = Botan::EC_Group::from_name(sepal::detail::algorithm<typename Hybrid::ec>::group);
                const Botan::ECDH_PrivateKey a(rng, group), b(rng, group);
                Botan::PK_Key_Agreement ka(a, rng, "Raw"), kb(b, rng, "Raw");
                (void)ka.derive_key(0, b.public_value());
                (void)kb.derive_key(0, a.public_value());
              }
              Botan::PK_Signer signer(*signer_key, rng, padding);
              const auto sig = signer.sign_message(msg, rng);
              Botan::PK_Verifier verifier(*signer_key, padding);
              if (!verifier.verify_message(msg, sig)) std::abort();
            }
          },
          {}, 64};
}

/// ML-KEM alone: key generation, encapsulation, decapsulation.
template <class Kem>
subject botan_ml_kem() {
  auto& rng = Botan::system_rng();
  const Botan::ML_KEM_Mode mode(sepal::detail::algorithm<Kem>::mode);
  return {[mode, &rng](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
              const Botan::ML_KEM_PrivateKey dk(rng, mode);
              Botan::PK_KEM_Encryptor enc(dk, "Raw");
              const auto e = enc.encrypt(rng);
              Botan::PK_KEM_Decryptor dec(dk, rng, "Raw");
              if (dec.decrypt(e.encapsulated_shared_key()) != e.shared_key()) std::abort();
            }
          },
          {}, 64};
}

struct pair_row {
  const char* name;
  spread classical, hybrid, floor, ratio, floor_ratio;
};

/// Per-round rates and ratios of interleaved subjects [classical, hybrid, floor].
pair_row summarize_pair(const char* name, const std::vector<std::vector<timing>>& t) {
  std::vector<double> c, h, f, r, fr;
  for (std::size_t i = 0; i < t[0].size(); ++i) {
    c.push_back(1e9 / t[0][i].ns);
    h.push_back(1e9 / t[1][i].ns);
    f.push_back(1e9 / t[2][i].ns);
    r.push_back(t[0][i].ns / t[1][i].ns);  // hybrid rate / classical rate
    fr.push_back(t[2][i].ns / t[1][i].ns);  // hybrid rate / floor rate
  }
  return {name, summarize(c), summarize(h), summarize(f), summarize(r), summarize(fr)};
}

// ------------------------------------------------------------- bytes on the wire

/// A root, an intermediate and server and client leaves for `Sig`.
template <class Sig>
struct certs {
  using key = sepal::private_key<Sig>;
  std::int64_t t = static_cast<std::int64_t>(now);
  std::shared_ptr<const key> inter_key = std::make_shared<const key>(key::generate());
  hs::shared_private_key<Sig> server_key = hs::share(key::generate()), client_key = hs::share(key::generate());
  pki::certificate_authority<Sig> root =
      pki::certificate_authority<Sig>::create_root(key::generate(), {"bench root"}, t - 86400, t + 86400 * 365);
  pki::certificate inter_cert =
      root.issue_intermediate(pki::certificate_request::create(*inter_key, {"bench inter"}), 0, t - 86400, t + 86400 * 300)
          .value();
  pki::certificate_authority<Sig> inter = pki::certificate_authority<Sig>::from(inter_cert, inter_key).value();
  pki::certificate server_cert =
      inter.issue(pki::certificate_request::create(*server_key, {"bench.example"}, {{"bench.example"}, {}, {}}),
                  pki::usage::server, {.dns = {"bench.example"}}, t - 60, t + 86400)
          .value();
  pki::certificate client_cert = inter.issue(pki::certificate_request::create(*client_key, {"bench-client"}),
                                             pki::usage::client, {.common_names = {"bench-client"}}, t - 60, t + 86400)
                                     .value();
  std::shared_ptr<pki::trust_store> anchors = std::make_shared<pki::trust_store>();
  certs() { anchors->add(root.cert()); }
};

struct wire_row {
  std::uint16_t id = 0;
  std::string suite, credential;
  std::size_t client_hello = 0, server_hello = 0, client_finished = 0;
};

template <class Suite>
wire_row one_handshake(const char* suite, const char* credential, const hs::client_config<Suite>& cc,
                       const hs::server_config<Suite>& sc) {
  auto c = hs::client_handshake<Suite>::start(cc);
  auto s = hs::server_handshake<Suite>::accept(sc, c.client_hello());
  if (!s) std::abort();
  auto cd = c.receive(s->server_hello(), now);
  if (!cd || !s->receive(cd->client_finished(), now)) std::abort();
  return {Suite::id, suite, credential, c.client_hello().size(), s->server_hello().size(),
          cd->client_finished().size()};
}

/// One handshake per credential kind: root key, delegated credential, root
/// key with a raw client key, X.509 server chain (leaf and intermediate),
/// X.509 on both sides.
template <class Suite>
void wire_rows(const char* name, std::vector<wire_row>& out) {
  using sig = typename Suite::sig;
  const auto root = hs::share(sepal::private_key<sig>::generate());
  const hs::client_config<Suite> anon{root->public_key(), nullptr};
  out.push_back(one_handshake<Suite>(name, "root key", anon, {hs::server_identity<Suite>::root(root), {}}));
  const auto online = hs::share(sepal::private_key<sig>::generate());
  const auto dc = hs::delegated_credential<Suite>::issue(*root, online->public_key(), now + 3600);
  out.push_back(one_handshake<Suite>(name, "delegated", anon, {hs::server_identity<Suite>::delegated(online, dc), {}}));
  const auto client = hs::share(sepal::private_key<sig>::generate());
  hs::fingerprint_allowlist<sig> allowed;
  allowed.allow(client->public_key());
  out.push_back(one_handshake<Suite>(name, "root + raw client key", {root->public_key(), client},
                                     {hs::server_identity<Suite>::root(root), allowed}));
  const certs<sig> f;
  const std::vector<pki::certificate> chain{f.server_cert, f.inter_cert};
  const hs::server_config<Suite> x509_server{hs::certified_identity<Suite>(f.server_key, chain)};
  out.push_back(one_handshake<Suite>(
      name, "X.509 server",
      {std::nullopt, nullptr, hs::x509_verifier<sig>(f.anchors, pki::purpose::server, "bench.example")}, x509_server));
  const hs::server_config<Suite> x509_mutual{hs::certified_identity<Suite>(f.server_key, chain), {},
                                             hs::x509_verifier<sig>(f.anchors, pki::purpose::client)};
  out.push_back(one_handshake<Suite>(
      name, "X.509 both sides",
      {std::nullopt, f.client_key, hs::x509_verifier<sig>(f.anchors, pki::purpose::server, "bench.example"),
       hs::to_der_chain(std::vector<pki::certificate>{f.client_cert, f.inter_cert})},
      x509_mutual));
}

}  // namespace

section bench_kem(const options& opt) {
  std::fprintf(stderr, "  post-quantum hybrid handshakes\n");
  const pair_row rows[] = {
      summarize_pair("X25519MLKEM768 vs X25519",
                     interleaved({handshakes<x25519_classical>(), handshakes<x25519_hybrid>(),
                                  botan_floor<sepal::x25519_mlkem768, sepal::ed25519>()},
                                 opt)),
      summarize_pair("SecP256r1MLKEM768 vs P-256",
                     interleaved({handshakes<p256_classical>(), handshakes<p256_hybrid>(),
                                  botan_floor<sepal::secp256r1_mlkem768, sepal::p256>()},
                                 opt)),
      summarize_pair("SecP384r1MLKEM1024 vs P-384",
                     interleaved({handshakes<p384_classical>(), handshakes<p384_hybrid>(),
                                  botan_floor<sepal::secp384r1_mlkem1024, sepal::p384>()},
                                 opt)),
  };
  const auto kem = interleaved({botan_ml_kem<sepal::ml_kem_768>(), botan_ml_kem<sepal::ml_kem_1024>()}, opt);
  std::vector<double> k768, k1024;
  for (std::size_t i = 0; i < kem[0].size(); ++i) {
    k768.push_back(1e9 / kem[0][i].ns);
    k1024.push_back(1e9 / kem[1][i].ns);
  }
  const auto ml_kem_768 = summarize(k768), ml_kem_1024 = summarize(k1024);

  std::vector<wire_row> wire;
  wire_rows<x25519_classical>("X25519/Ed25519", wire);
  wire_rows<x25519_hybrid>("X25519MLKEM768/Ed25519", wire);
  wire_rows<p256_classical>("P-256/ECDSA-P256 (default)", wire);
  wire_rows<p256_hybrid>("SecP256r1MLKEM768/P-256", wire);
  wire_rows<p384_classical>("P-384/ECDSA-P384", wire);
  wire_rows<p384_hybrid>("SecP384r1MLKEM1024/P-384", wire);

  section s;
  char line[512];
  s.text = "\npost-quantum hybrid handshakes/s (one thread, both sides, root key; signatures Ed25519,\n"
           "ECDSA-P256, ECDSA-P384), each next to its classical twin in interleaved rounds\n"
           "(ratio = hybrid/classical, range over the rounds):\n";
  s.json_key = "hybrid_handshakes";
  s.json_value = "{\"handshakes_per_s\": {";
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line,
                  "  %-28s classical %5.0f  hybrid %5.0f  ratio %.2f (%.2f-%.2f)%s\n"
                  "  %-28s Botan ML-KEM + EC + signature floor %5.0f (hybrid/floor %.2f)\n",
                  r.name, r.classical.median, r.hybrid.median, r.ratio.median, r.ratio.min, r.ratio.max,
                  r.ratio.relative() > opt.max_spread ? " [noisy]" : "", "", r.floor.median, r.floor_ratio.median);
    s.text += line;
    std::snprintf(line, sizeof line,
                  "%s\"%s\": {\"classical\": %.1f, \"hybrid\": %.1f, \"hybrid_over_classical\": %.3f, "
                  "\"botan_floor\": %.1f, \"hybrid_over_floor\": %.3f}",
                  &r == rows ? "" : ", ", r.name, r.classical.median, r.hybrid.median, r.ratio.median,
                  r.floor.median, r.floor_ratio.median);
    s.json_value += line;
  }
  std::snprintf(line, sizeof line,
                "  Botan ML-KEM alone (keygen + encaps + decaps)/s: ML-KEM-768 %.0f, ML-KEM-1024 %.0f\n",
                ml_kem_768.median, ml_kem_1024.median);
  s.text += line;
  std::snprintf(line, sizeof line, "}, \"botan_ml_kem_per_s\": {\"ml_kem_768\": %.1f, \"ml_kem_1024\": %.1f}, \"wire_bytes\": [",
                ml_kem_768.median, ml_kem_1024.median);
  s.json_value += line;

  s.text += "bytes on the wire per handshake (ClientHello + ServerHello + ClientFinished; no cookie):\n";
  for (const auto& w : wire) {
    std::snprintf(line, sizeof line, "  %04x %-26s %-21s %4zu + %4zu + %4zu = %4zu  SH/CH %.2f\n", w.id,
                  w.suite.c_str(), w.credential.c_str(), w.client_hello, w.server_hello, w.client_finished,
                  w.client_hello + w.server_hello + w.client_finished,
                  static_cast<double>(w.server_hello) / static_cast<double>(w.client_hello));
    s.text += line;
    std::snprintf(line, sizeof line,
                  "%s{\"suite\": \"%s\", \"credential\": \"%s\", \"client_hello\": %zu, \"server_hello\": %zu, "
                  "\"client_finished\": %zu}",
                  &w == wire.data() ? "" : ", ", w.suite.c_str(), w.credential.c_str(), w.client_hello, w.server_hello,
                  w.client_finished);
    s.json_value += line;
  }
  s.json_value += "]}";
  return s;
}

}  // namespace bench
