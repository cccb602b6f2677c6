// docs/protocol.md Appendix A, reproduced. A real handshake runs with fixed
// inputs (deterministic random number generators; ECDSA is RFC 6979
// deterministic), and every message, packet and derived secret is checked
// against the hex in the appendix. The secrets are recomputed independently
// of protocol.hpp from the document's own formulas (§5, §6, §7.1), with the
// key schedule building blocks and the public AEAD API.
//
//   sepal-protocol-appendix docs/protocol.md          check
//   sepal-protocol-appendix docs/protocol.md --print  print the appendix
//                                                     text (to update it)
#include <botan/hex.h>
#include <botan/hmac_drbg.h>
#include <botan/mac.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sepal/aead.hpp>
#include <sepal/handshake/key_schedule.hpp>
#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/transcript.hpp>
#include <sepal/key_share.hpp>
#include <sepal/kex.hpp>
#include <sepal/sign.hpp>

namespace hs = sepal::handshake;
using bytes = std::vector<std::uint8_t>;

namespace {

/// Fixed "randomness": HMAC_DRBG(SHA-256) from a fixed seed (test only).
std::unique_ptr<Botan::HMAC_DRBG> fixed_rng(std::string_view seed) {
  auto rng = std::make_unique<Botan::HMAC_DRBG>(Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)"));
  // At least the DRBG's 256-bit security level of seed material.
  const std::string material = std::string(seed) + std::string(32, '.');
  rng->initialize_with(reinterpret_cast<const std::uint8_t*>(material.data()), material.size());
  return rng;
}

bytes copy(std::span<const std::uint8_t> s) { return bytes(s.begin(), s.end()); }
bytes cat(std::initializer_list<std::span<const std::uint8_t>> parts) {
  bytes out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// Named values in the appendix's order.
struct values {
  std::vector<std::pair<std::string, bytes>> list;
  void add(std::string name, std::span<const std::uint8_t> v) { list.emplace_back(std::move(name), copy(v)); }
};

template <class Suite>
struct flight_cipher {
  using hkdf = sepal::hkdf<typename Suite::hash>;
  sepal::aead_key<typename Suite::aead> key;
  bytes iv;
  explicit flight_cipher(std::span<const std::uint8_t> secret)
      : key(hkdf::expand_label(secret, "key", {}, Suite::aead::key_size).reveal()),
        iv(copy(hkdf::expand_label(secret, "iv", {}, Suite::aead::nonce_size).reveal())) {}
  bytes open(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> sealed) {
    bytes out(sealed.size());
    auto r = key.open(std::span<const std::uint8_t, Suite::aead::nonce_size>(iv.data(), iv.size()), ad, sealed, out);
    if (!r) throw std::runtime_error("flight does not open");
    return copy(*r);
  }
};

/// One appendix section: a root-key handshake with fixed inputs, then the
/// handshake-done packet and one packet each way.
template <class Suite>
values run(std::string_view label) {
  using kex = typename Suite::kex;
  using sig = typename Suite::sig;
  using hash = typename Suite::hash;
  using hkdf = sepal::hkdf<hash>;
  values v;

  // Inputs. The root key is a fixed scalar; the ephemerals and randoms come
  // from each side's fixed generator, drawn in the order start/accept draw
  // them (the key, then the random): a mirror generator recovers them.
  auto root = *sepal::private_key<sig>::from_raw(Botan::hex_decode(
      "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"));  // RFC 6979 A.2.5's P-256 key (an Ed25519 seed in A.2)
  auto crng = fixed_rng(std::string(label) + " client"), srng = fixed_rng(std::string(label) + " server");
  auto cmirror = fixed_rng(std::string(label) + " client"), smirror = fixed_rng(std::string(label) + " server");
  // The client's key share as start() makes it (and, for a curve, the key
  // itself, to list its private scalar and the server's).
  const auto c_share_mirror = sepal::key_share_client<kex>::generate(*cmirror);
  v.add("root_private", root.to_raw().reveal());
  v.add("root_public", root.public_key().to_raw());
  if constexpr (sepal::key_agreement<kex>) {
    auto again = fixed_rng(std::string(label) + " client");
    v.add("client_ephemeral_private", sepal::private_key<kex>::generate(*again).to_raw().reveal());
    v.add("server_ephemeral_private", sepal::private_key<kex>::generate(*smirror).to_raw().reveal());
  }

  // The handshake, as an application runs it.
  const auto root_public = root.public_key();
  hs::server_config<Suite> sc{hs::server_identity<Suite>::root(std::move(root)), {}};
  hs::client_config<Suite> cc{root_public, nullptr};
  auto client = hs::client_handshake<Suite>::start(cc, *crng);
  auto server = hs::server_handshake<Suite>::accept(sc, client.client_hello(), *srng);
  if (!server) throw std::runtime_error("accept failed");
  auto c = client.receive(server->server_hello(), 1'800'000'000);
  if (!c) throw std::runtime_error("client receive failed");
  const auto ch = copy(client.client_hello()), sh = copy(server->server_hello()), cf = copy(c->client_finished());
  auto s = server->receive(cf);
  if (!s) throw std::runtime_error("server receive failed");
  v.add("ClientHello", ch);
  v.add("ServerHello", sh);
  v.add("ClientFinished", cf);

  // Recomputed from the document. ClientHello: header(4) random(32)
  // connection_id(8) share<2>; ServerHello the same up to the share.
  const std::size_t c_share_len = std::size_t{ch[44]} << 8 | ch[45];
  const auto c_share = std::span(ch).subspan(46, c_share_len);
  const std::size_t s_share_len = std::size_t{sh[44]} << 8 | sh[45];
  const auto s_share = std::span(sh).subspan(46, s_share_len);
  if (copy(c_share) != copy(c_share_mirror.share()))
    throw std::runtime_error("the mirrored key share is not the one the handshake used");
  v.add("client_random", std::span(ch).subspan(4, 32));
  v.add("server_random", std::span(sh).subspan(4, 32));
  hs::connection_id client_id{}, server_id{};
  std::copy_n(ch.begin() + 36, client_id.size(), client_id.begin());
  std::copy_n(sh.begin() + 36, server_id.size(), server_id.begin());
  v.add("client_connection_id", client_id);
  v.add("server_connection_id", server_id);
  const auto sh_clear = std::span(sh).first(46 + s_share_len);
  const auto sealed_auth = std::span(sh).subspan(46 + s_share_len + 2);
  const auto ecdhe = *c_share_mirror.finish(s_share);
  v.add("ecdhe", ecdhe.reveal());

  auto handshake = hs::early_secret<hash>::start().next(ecdhe.reveal());
  hs::transcript<hash> t;
  t.update(ch);
  t.update(sh_clear);
  const auto c_hs = handshake.client_traffic(t.current());
  const auto s_hs = handshake.server_traffic(t.current());
  v.add("handshake_secret", handshake.reveal());
  v.add("c_hs", c_hs.reveal());
  v.add("s_hs", s_hs.reveal());

  // ServerAuth: kind 0, client_auth 0, signature<2>, finished.
  const auto auth = flight_cipher<Suite>(s_hs.reveal()).open(sh_clear, sealed_auth);
  v.add("ServerAuth", auth);
  const std::size_t sig_len = std::size_t{auth[2]} << 8 | auth[3];
  auto t1 = t;
  t1.update(std::span(auth).first(2));
  const auto h1 = t1.current();
  const auto signature = std::span(auth).subspan(4, sig_len);
  const std::string_view context = "sepal v1 server signature";
  bytes signed_content(64, 0x20);
  signed_content.insert(signed_content.end(), context.begin(), context.end());
  signed_content.push_back(0);
  signed_content.insert(signed_content.end(), h1.begin(), h1.end());
  if (!sepal::verify(root_public, signed_content, signature, sepal::signature_format::p1363))
    throw std::runtime_error("the server signature does not verify as §6 says");
  auto t2 = t1;
  t2.update(std::span(auth).subspan(2, 2 + sig_len));
  const auto server_finished = hs::finished_mac<hash>(s_hs.reveal(), t2.current());
  if (copy(server_finished) != copy(std::span(auth).last(hash::digest_size)))
    throw std::runtime_error("server Finished differs from §6");
  t.update(auth);
  auto master = std::move(handshake).next();
  const auto c_ap = master.client_traffic(t.current());
  const auto s_ap = master.server_traffic(t.current());
  v.add("master_secret", master.reveal());
  v.add("c_ap", c_ap.reveal());
  v.add("s_ap", s_ap.reveal());
  v.add("exporter_master", master.exporter_master(t.current()).reveal());

  // ClientFinished: header(4) encrypted<2>; ClientAuth = has_identity 0, finished.
  const auto client_auth = flight_cipher<Suite>(c_hs.reveal()).open(std::span(cf).first(4), std::span(cf).subspan(6));
  v.add("ClientAuth", client_auth);
  t.update(std::span(client_auth).first(1));
  if (copy(hs::finished_mac<hash>(c_hs.reveal(), t.current())) != copy(std::span(client_auth).subspan(1)))
    throw std::runtime_error("client Finished differs from §6");

  // Sessions (§7.1): keys per direction, then real packets.
  using keys = sepal::packet_keys<typename Suite::symmetric>;
  for (auto [name, secret] : {std::pair{"c_ap", &c_ap}, std::pair{"s_ap", &s_ap}}) {
    const auto k = keys::derive(secret->reveal());
    v.add(std::string(name) + " sepal key", k.key.reveal());
    v.add(std::string(name) + " sepal iv", k.iv.reveal());
    v.add(std::string(name) + " sepal hp", k.hp.reveal());
    v.add(std::string(name) + " sepal ku", keys::next_secret(secret->reveal()).reveal());
  }
  const auto done = copy(s->handshake_done());
  const std::string_view hello = "hello";
  const std::span payload(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size());
  bytes out(64);
  const auto c_packet = copy(c->session().seal({}, payload, out));
  const auto s_packet = copy(s->session().seal({}, payload, out));
  v.add("server handshake-done (packet 0)", done);
  v.add("client packet 0, \"hello\"", c_packet);
  v.add("server packet 1, \"hello\"", s_packet);
  // Sessions built from the recomputed secrets open the real packets.
  // Each side's packets carry the peer's connection id (§7.1).
  using view = sepal::session<typename Suite::symmetric, hs::session_packet_options>;
  view client_view(sepal::secret_bytes::copy_of(c_ap.reveal()), sepal::secret_bytes::copy_of(s_ap.reveal()), client_id,
                   server_id);
  view server_view(sepal::secret_bytes::copy_of(s_ap.reveal()), sepal::secret_bytes::copy_of(c_ap.reveal()), server_id,
                   client_id);
  if (!client_view.open({}, done, out) || !client_view.open({}, s_packet, out) || !server_view.open({}, c_packet, out))
    throw std::runtime_error("the recomputed traffic secrets do not open the handshake's packets");
  // A key update (§7.1): the client moves to generation 1 (K = 1, A = 0:
  // its receiver is at 0); the server follows and mirrors (K = 1, A = 1).
  c->session().update_key();
  const auto c_updated = copy(c->session().seal({}, payload, out));
  bytes got(64);
  if (!s->session().open({}, c_updated, got)) throw std::runtime_error("the server does not follow the update");
  const auto s_mirrored = copy(s->session().seal({}, payload, out));
  v.add("client packet 1, \"hello\", after its key update", c_updated);
  v.add("server packet 2, \"hello\", mirroring it", s_mirrored);
  if (!server_view.open({}, c_updated, got) || !client_view.open({}, s_mirrored, got))
    throw std::runtime_error("the recomputed secrets do not follow the key update");
  // Path validation (§7.3): a challenge (control packet, C = 1) and its response.
  const bytes challenge{1, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  auto s_challenge = copy(s->session().seal_control(challenge, out));
  bytes response = challenge;
  response[0] = 2;
  auto c_response = copy(c->session().seal_control(response, out));
  v.add("server packet 3, path_challenge 0001020304050607", s_challenge);
  v.add("client packet 2, its path_response", c_response);
  const auto opened = client_view.receive_in_place({}, s_challenge);
  const auto answered = server_view.receive_in_place({}, c_response);
  if (!opened || !opened->control || copy(opened->payload) != challenge || !answered || !answered->control ||
      copy(answered->payload) != response)
    throw std::runtime_error("the recomputed secrets do not open the path validation packets");
  return v;
}

/// The appendix text of one section: `name =` then 64-hex-digit lines.
std::string format(const values& v) {
  std::ostringstream os;
  os << "```\n";
  for (const auto& [name, value] : v.list) {
    os << name << " =\n";
    const auto h = Botan::hex_encode(value.data(), value.size(), false);
    for (std::size_t i = 0; i < h.size(); i += 64) os << "  " << h.substr(i, 64) << "\n";
  }
  os << "```\n";
  return os.str();
}

/// Reads back what `format` wrote, from the section after `heading`.
std::map<std::string, std::string> parse(const std::string& doc, const std::string& heading) {
  std::map<std::string, std::string> out;
  const auto at = doc.find(heading);
  if (at == std::string::npos) return out;
  std::istringstream in(doc.substr(at + heading.size()));
  std::string line, name;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      if (in_block) break;
      in_block = true;
      continue;
    }
    if (!in_block) continue;
    if (line.size() > 2 && line.rfind("  ", 0) == 0) {
      out[name] += line.substr(2);
    } else if (line.size() > 2 && line.substr(line.size() - 2) == " =") {
      name = line.substr(0, line.size() - 2);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s docs/protocol.md [--print]\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[1]);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  const bool print = argc > 2 && std::string(argv[2]) == "--print";
  const std::vector<std::pair<std::string, values>> sections = {
      {"### A.1 Default suite (0x1121)", run<hs::default_suite>("sepal appendix A.1")},
      {"### A.2 X25519MLKEM768 hybrid suite (0x6431)",
       run<hs::suite<sepal::x25519_mlkem768, sepal::ed25519, sepal::chacha20_poly1305>>("sepal appendix A.2")},
  };
  int failed = 0, checked = 0;
  for (const auto& [heading, v] : sections) {
    if (print) {
      std::printf("%s\n%s\n", heading.c_str(), format(v).c_str());
      continue;
    }
    const auto expected = parse(doc, heading);
    for (const auto& [name, value] : v.list) {
      const auto hex = Botan::hex_encode(value.data(), value.size(), false);
      const auto it = expected.find(name);
      ++checked;
      if (it == expected.end() || it->second != hex) {
        ++failed;
        std::printf("FAIL %s%s: docs say %s\n  computed %s\n", heading.c_str(), name.c_str(),
                    it == expected.end() ? "(missing)" : it->second.c_str(), hex.c_str());
      }
    }
  }
  if (!print) std::printf("%d of %d appendix values reproduced\n", checked - failed, checked);
  return failed == 0 ? 0 : 1;
}
