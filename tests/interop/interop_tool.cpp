// Test-only CLI that exposes sepal to the interop script (interop.py).
//   gen CURVE DIR                 -> DIR/key.pem DIR/pub.pem DIR/pub.der
//   sign CURVE KEY.pem MSG SIG    -> DER (ECDSA) / RFC 8032 (EdDSA) signature
//   verify CURVE PUB.pem MSG SIG  -> exit 0 when valid, 1 otherwise
//   pub CURVE KEY.pem             -> hex of the raw public key
//   derive KEY.pem PEER.pem       -> hex lines: ECDH secret, HKDF-SHA256 key,
//                                    AES-256-GCM(key, nonce 0^96, "sepal interop") ct||tag
//   http-sign ALG KEYID KEYFILE NOW    stdin: a request (below) -> the request with
//                                       Content-Digest, Signature-Input, Signature
//   http-verify ALG KEYID KEYFILE NOW  stdin: a signed request -> "ok" or the failure; exit 0/1
//   http-sign-components ALG KEYID KEYFILE NOW LABEL COMPONENTS
//                                      stdin: a message (format 2, below) -> the message with a
//                                       signature under LABEL covering COMPONENTS (the inside of an
//                                       RFC 8941 Inner List, e.g. "@method" "@query-param";name="a"),
//                                       created=NOW, expires=NOW+300, keyid, alg; nothing else added
//   http-verify-components ALG KEYID KEYFILE NOW LABEL COMPONENTS
//                                      stdin: a signed message (format 2) -> "ok" or the failure (and
//                                       the component); verify_policy::interop(), label LABEL, the
//                                       components required, content-digest checked when covered
//   pki-make DIR HOST                  a P-256 root, intermediate, server and client leaves, a CSR,
//                                       a revoked leaf and the intermediate's CRL, as PEM files in DIR
//   pki-verify ROOT CHAIN HOST PURPOSE [CRL]  sepal's chain validation -> "ok" or the reason; exit 0/1
//   mtls-server PORTFILE ROOT CHAIN KEY N   serve N mutual-TLS connections on 127.0.0.1: echo one
//                                       message; prints "accepted CN" or "rejected: reason" per connection
//   mtls-client PORT ROOT CHAIN KEY HOST MSG   connect, send MSG, print the reply (the key exchange
//                                              group, whether it is post-quantum and whether the
//                                              server asked for a HelloRetry go to stderr)
//   handshake-echo-server SUITE ROOT_KEY PORTFILE N   sepal's UDP server (net::udp_server,
//                                       docs/protocol.md, docs/net.md) on 127.0.0.1 for suite 7121
//                                       (SecP256r1MLKEM768, ECDSA-P256, AES-256-GCM, SHA-256) or 1121
//                                       (the default), root key ROOT_KEY (P-256 PEM): echoes N
//                                       payloads re-sealed (or up to one that says "bye"), then exits 0 (1 after 20 s idle) and
//                                       prints its handshake and migration counts to stderr;
//                                       datagrams of at most 1200 bytes: longer handshake messages
//                                       go as Fragments both ways (docs/protocol.md §3.4)
// CURVE is p256 or ed25519. ALG is hmac-sha256 (KEYFILE: base64 secret),
// ecdsa-p256-sha256, ecdsa-p384-sha384 or ed25519 (KEYFILE: PEM private key to sign, public to
// verify; http-sign/http-verify take all but p384).
// Request format: METHOD line, target URI line, "name: value" lines, an empty
// line, then the body.
// Format 2: "REQUEST METHOD TARGET-URI" or "RESPONSE STATUS", then "name: value" lines whose
// values escape CR, LF and backslash as \r, \n, \\ (the value is everything after ": "), an
// empty line, then the body. Fields "example-dict" and "example-list" are declared Dictionary
// and List for sf.
#include <sepal/http/signer.hpp>
#include <sepal/pki/authority.hpp>
#include <sepal/pki/validation.hpp>
#include <sepal/tls/tcp.hpp>
#include <sepal/http/verifier.hpp>
#include <sepal/sepal.hpp>
#include <sepal/net.hpp>

#include <botan/base64.h>

#include <botan/hex.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<std::uint8_t> read(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write(const std::string& path, std::span<const std::uint8_t> b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }
void print_hex(std::span<const std::uint8_t> b) { std::printf("%s\n", Botan::hex_encode(b.data(), b.size(), false).c_str()); }

template <class C>
int run(const std::string& cmd, char** a) {
  if (cmd == "gen") {
    const auto k = sepal::private_key<C>::generate();
    const std::string dir = a[0];
    k.save_pem(dir + "/key.pem");
    k.public_key().save_pem(dir + "/pub.pem");
    write(dir + "/pub.der", k.public_key().to_der());
    return 0;
  }
  if (cmd == "sign") {
    auto k = sepal::private_key<C>::load_pem(a[0]);
    if (!k) return 2;
    write(a[2], sepal::sign(*k, read(a[1])));
    return 0;
  }
  if (cmd == "verify") {
    auto p = sepal::public_key<C>::load_pem(a[0]);
    if (!p) return 2;
    return sepal::verify(*p, read(a[1]), read(a[2])) ? 0 : 1;
  }
  if (cmd == "pub") {
    auto k = sepal::private_key<C>::load_pem(a[0]);
    if (!k) return 2;
    print_hex(k->public_key().to_raw());
    return 0;
  }
  return 3;
}

int derive(char** a) {
  auto mine = sepal::private_key<sepal::p256>::load_pem(a[0]);
  auto peer = sepal::public_key<sepal::p256>::from_pem(text(read(a[1])));
  if (!mine || !peer) return 2;
  auto shared = sepal::agree(*mine, *peer);
  if (!shared) return 1;
  const std::string salt = "sepal-interop-salt", info = "sepal-interop-key", msg = "sepal interop";
  const auto key = sepal::hkdf<sepal::sha256>::derive(
      shared->reveal(), {reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()},
      {reinterpret_cast<const std::uint8_t*>(info.data()), info.size()}, 32);
  sepal::aead_key<sepal::aes256_gcm> aead(key.reveal());
  const std::array<std::uint8_t, 12> nonce{};
  std::vector<std::uint8_t> out(msg.size() + 16);
  const auto ct = aead.seal(nonce, {}, {reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()}, out);
  print_hex(shared->reveal());
  print_hex(key.reveal());
  print_hex(ct);
  return 0;
}

namespace http = sepal::http;

/// Standard input, read line by line (the scripts' message format).
struct stdin_lines {
  std::string in{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::size_t at = 0;
  std::string operator()() {
    const auto eol = in.find('\n', at);
    auto l = in.substr(at, eol - at);
    at = eol == std::string::npos ? in.size() : eol + 1;
    return l;
  }
  /// Everything after the lines read so far.
  [[nodiscard]] std::string rest() const { return in.substr(at); }
};

http::message read_request() {
  stdin_lines line;
  auto method = line();  // two statements: argument evaluation order is unspecified
  auto uri = line();
  auto m = http::message::request(std::move(method), std::move(uri));
  for (auto l = line(); !l.empty(); l = line()) {
    const auto colon = l.find(':');
    m.add(l.substr(0, colon), l.substr(colon + 1));
  }
  m.content = line.rest();
  return m;
}

void write_request(const http::message& m) {
  std::printf("%s\n%s\n", m.method.c_str(), m.target_uri.c_str());
  for (const auto& f : m.fields) std::printf("%s: %s\n", f.name.c_str(), f.value.c_str());
  std::printf("\n%s", m.content.c_str());
}

sepal::secret_bytes load_secret(const std::string& path) {
  return sepal::secret_bytes(Botan::base64_decode(text(read(path.c_str()))));
}

void write_text(const std::string& path, const std::string& t) { std::ofstream(path) << t; }

int pki_make(const std::string& dir, const std::string& host) {
  namespace pki = sepal::pki;
  const std::int64_t now = std::time(nullptr), year = 365 * 86400;
  auto inter_key = sepal::private_key<sepal::p256>::generate();
  const auto root = pki::certificate_authority<sepal::p256>::create_root(sepal::private_key<sepal::p256>::generate(), {"sepal interop root"}, now - 3600, now + 10 * year, 1);
  const auto inter_cert = root.issue_intermediate(pki::certificate_request::create(inter_key, {"sepal interop intermediate"}), 0, now - 3600, now + 5 * year).value();
  auto inter = pki::certificate_authority<sepal::p256>::from(inter_cert, std::move(inter_key)).value();
  write_text(dir + "/root.pem", root.cert().to_pem());
  write_text(dir + "/inter.pem", inter_cert.to_pem());
  const auto leaf = [&](const std::string& name, pki::usage u, const pki::alt_names& alt) {
    const auto key = sepal::private_key<sepal::p256>::generate();
    const auto csr = pki::certificate_request::create(key, {name}, alt);
    write_text(dir + "/" + name + ".csr", csr.to_pem());
    key.save_pem(dir + "/" + name + ".key");
    const pki::name_policy names{.dns = alt.dns, .ip = alt.ip, .uri = alt.uri, .common_names = {name}};
    const auto cert = inter.issue(csr, u, names, now - 3600, now + year).value();
    write_text(dir + "/" + name + ".pem", cert.to_pem());
    write_text(dir + "/" + name + "-chain.pem", cert.to_pem() + inter_cert.to_pem());
    return cert;
  };
  leaf("server", pki::usage::server, {{host}, {"127.0.0.1"}, {}});
  leaf("client", pki::usage::client, {{}, {}, {"spiffe://example.org/client"}});
  inter.revoke(leaf("revoked", pki::usage::server, {{host}, {}, {}}), pki::revocation_reason::KeyCompromise);
  write_text(dir + "/crl.pem", inter.crl(now - 60, now + 86400).to_pem());
  return 0;
}

int pki_verify(char** a, int n) {
  namespace pki = sepal::pki;
  const auto root = pki::certificate::chain_from_pem(text(read(a[0])));
  const auto chain = pki::certificate::chain_from_pem(text(read(a[1])));
  if (!root || !chain) {
    std::printf("unreadable PEM\n");
    return 1;
  }
  pki::trust_store anchors;
  for (const auto& r : *root) anchors.add(r);
  if (n > 4) anchors.add(pki::revocation_list::from_pem(text(read(a[4]))).value());
  const std::string purpose = a[3];
  const auto p = purpose == "server" ? pki::purpose::server : purpose == "client" ? pki::purpose::client : pki::purpose::any;
  if (p == pki::purpose::server && std::string(a[2]).empty()) {
    std::printf("a server needs a host name\n");
    return 1;
  }
  const auto r = pki::verify_chain(*chain, anchors, {0, a[2], p, false});
  std::printf("%s\n", r ? "ok" : std::string(pki::describe(r.error())).c_str());
  return r ? 0 : 1;
}

sepal::tls::config mtls_config(char** a, sepal::private_key<sepal::p256>&& key, std::string host) {
  auto anchors = std::make_shared<sepal::pki::trust_store>();
  const auto roots = sepal::pki::certificate::chain_from_pem(text(read(a[0]))).value();  // not in the for: C++20
  for (const auto& r : roots) anchors->add(r);  // range-for would not extend the temporary's life
  auto chain = sepal::pki::certificate::chain_from_pem(text(read(a[1]))).value();
  return {sepal::tls::identity::from(std::move(key), std::move(chain)), anchors, std::move(host)};
}

int mtls_server(char** a) {
  const auto config = mtls_config(a + 1, sepal::private_key<sepal::p256>::load_pem(a[3]).value(), "");
  sepal::tls::tcp_listener listener;
  write_text(a[0], std::to_string(listener.port()));
  for (int i = std::stoi(a[4]); i > 0; --i) {
    auto conn = listener.accept();
    auto ch = sepal::tls::channel::server(config);
    if (auto h = conn.handshake(ch); !h) {
      std::printf("rejected: %s\n", ch.verify_error() ? std::string(sepal::pki::describe(*ch.verify_error())).c_str()
                                                        : std::string(sepal::describe(h.error())).c_str());
      std::fprintf(stderr, "details: %s\n", ch.failure_details().c_str());
      std::fflush(stdout);
      continue;
    }
    std::printf("accepted %s\n", ch.peer_path().front().subject().common_name.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "group %s pq=%d\n", ch.key_exchange_group().c_str(), ch.post_quantum() ? 1 : 0);
    if (auto msg = conn.receive(ch); msg && !msg->empty()) (void)conn.send(ch, *msg);
    conn.close(ch);
  }
  return 0;
}

int mtls_client(char** a) {
  const auto config = mtls_config(a + 1, sepal::private_key<sepal::p256>::load_pem(a[3]).value(), a[4]);
  auto conn = sepal::tls::tcp_connection::connect("127.0.0.1", static_cast<std::uint16_t>(std::stoi(a[0])));
  auto ch = sepal::tls::channel::client(config);
  if (auto h = conn.handshake(ch); !h) {
    std::printf("rejected: %s\n", ch.verify_error() ? std::string(sepal::pki::describe(*ch.verify_error())).c_str()
                                                      : std::string(sepal::describe(h.error())).c_str());
    return 1;
  }
  std::fprintf(stderr, "group %s pq=%d hrr=%d\n", ch.key_exchange_group().c_str(), ch.post_quantum() ? 1 : 0,
               ch.hello_retried() ? 1 : 0);
  const std::string msg = a[5];
  if (!conn.send(ch, {reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()})) return 1;
  const auto reply = conn.receive(ch);
  if (!reply) return 1;
  std::printf("%s", std::string(reply->begin(), reply->end()).c_str());
  conn.close(ch);
  return 0;
}

std::string unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char c = v[++i];
      out.push_back(c == 'r' ? '\r' : c == 'n' ? '\n' : c);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\\') out += "\\\\";
    else out.push_back(c);
  }
  return out;
}

std::optional<http::message> read_message2() {
  stdin_lines line;
  const auto start = line();
  http::message m;
  if (start.starts_with("REQUEST ")) {
    const auto sp = start.find(' ', 8);
    if (sp == std::string::npos) return std::nullopt;
    m = http::message::request(start.substr(8, sp - 8), start.substr(sp + 1));
  } else if (start.starts_with("RESPONSE ")) {
    m = http::message::response(std::stoi(start.substr(9)));
  } else {
    return std::nullopt;
  }
  for (auto l = line(); !l.empty(); l = line()) {
    const auto colon = l.find(": ");
    if (colon == std::string::npos) return std::nullopt;
    m.add(l.substr(0, colon), unescape(std::string_view(l).substr(colon + 2)));
  }
  m.content = line.rest();
  return m;
}

void write_message2(const http::message& m) {
  if (m.status != 0)
    std::printf("RESPONSE %d\n", m.status);
  else
    std::printf("REQUEST %s %s\n", m.method.c_str(), m.target_uri.c_str());
  for (const auto& f : m.fields) std::printf("%s: %s\n", f.name.c_str(), escape(f.value).c_str());
  std::printf("\n");
  std::fwrite(m.content.data(), 1, m.content.size(), stdout);
}

constexpr std::pair<std::string_view, http::field_type> example_types[] = {
    {"example-dict", http::field_type::dictionary}, {"example-list", http::field_type::list}};

int http_components(const std::string& cmd, char** a) {
  const std::string alg = a[0], keyid = a[1], keyfile = a[2], label = a[4];
  const std::int64_t now = std::stoll(a[3]);
  const auto list = http::sf::parse_list("(" + std::string(a[5]) + ")");
  const auto* inner = list && list->size() == 1 ? std::get_if<http::sf::inner_list>(&(*list)[0]) : nullptr;
  auto m = read_message2();
  if (inner == nullptr || !m) {
    std::printf("bad arguments or message\n");
    return 2;
  }
  if (cmd == "http-sign-components") {
    const auto key = [&] {
      if (alg == "hmac-sha256") return http::signing_key::hmac_sha256_or_throw(load_secret(keyfile));
      if (alg == "ed25519") return http::signing_key::ed25519(sepal::private_key<sepal::ed25519>::load_pem(keyfile).value());
      if (alg == "ecdsa-p384-sha384")
        return http::signing_key::ecdsa_p384_sha384(sepal::private_key<sepal::p384>::load_pem(keyfile).value());
      return http::signing_key::ecdsa_p256_sha256(sepal::private_key<sepal::p256>::load_pem(keyfile).value());
    }();
    http::signature_params params;
    for (const auto& c : inner->items) params.cover(std::get<std::string>(c.value), c.params);
    params.created(now).expires(now + 300).keyid(keyid).alg(std::string(http::algorithm_name(key.alg())));
    const auto fields = http::sign(*m, label, params, key, example_types);
    if (!fields) {
      const auto& why = fields.error().base;
      std::printf("sign failed: %s %s\n", why ? std::string(http::describe(why->code)).c_str() : "label",
                  why ? why->component.c_str() : "");
      return 1;
    }
    http::attach(*m, *fields);
    write_message2(*m);
    return 0;
  }
  auto keys = std::make_shared<http::memory_key_store>();
  if (alg == "hmac-sha256")
    keys->add(keyid, "1", http::verification_key::hmac_sha256_or_throw(load_secret(keyfile)));
  else if (alg == "ed25519")
    keys->add(keyid, "1", http::verification_key::ed25519(sepal::public_key<sepal::ed25519>::load_pem(keyfile).value()));
  else if (alg == "ecdsa-p384-sha384")
    keys->add(keyid, "1", http::verification_key::ecdsa_p384_sha384(sepal::public_key<sepal::p384>::load_pem(keyfile).value()));
  else
    keys->add(keyid, "1", http::verification_key::ecdsa_p256_sha256(sepal::public_key<sepal::p256>::load_pem(keyfile).value()));
  auto policy = http::verify_policy::interop();
  policy.label = label;
  policy.required_components.clear();
  bool digest = false;
  for (const auto& c : inner->items) {
    const auto& name = std::get<std::string>(c.value);
    if (name == "content-digest") digest = true;
    if (name == "@status" || name == "@method" || name == "@target-uri" || !name.starts_with("@"))
      policy.required_components.push_back(name);
  }
  policy.require_content_digest = digest;
  for (const auto& [n, t] : example_types) policy.field_types.emplace_back(std::string(n), t);
  http::request_verifier v(keys, policy);
  const auto r = v.verify(*m, now);
  if (r) {
    std::printf("ok\n");
    return 0;
  }
  std::printf("%s%s%s\n", std::string(http::describe(r.failure())).c_str(), r.component_failure() ? ": " : "",
              r.component_failure() ? r.component_failure()->component.c_str() : "");
  return 1;
}

int http_command(const std::string& cmd, char** a) {
  const std::string alg = a[0], keyid = a[1], keyfile = a[2];
  const std::int64_t now = std::stoll(a[3]);
  auto m = read_request();
  if (cmd == "http-sign") {
    const auto key = [&] {
      if (alg == "hmac-sha256") return http::signing_key::hmac_sha256_or_throw(load_secret(keyfile));
      if (alg == "ed25519") return http::signing_key::ed25519(sepal::private_key<sepal::ed25519>::load_pem(keyfile).value());
      return http::signing_key::ecdsa_p256_sha256(sepal::private_key<sepal::p256>::load_pem(keyfile).value());
    }();
    if (!http::sign_request(m, keyid, key, now)) return 1;
    write_request(m);
    return 0;
  }
  auto keys = std::make_shared<http::memory_key_store>();  // the verifier shares ownership
  if (alg == "hmac-sha256")
    keys->add(keyid, "1", http::verification_key::hmac_sha256_or_throw(load_secret(keyfile)));
  else if (alg == "ed25519")
    keys->add(keyid, "1", http::verification_key::ed25519(sepal::public_key<sepal::ed25519>::load_pem(keyfile).value()));
  else
    keys->add(keyid, "1", http::verification_key::ecdsa_p256_sha256(sepal::public_key<sepal::p256>::load_pem(keyfile).value()));
  http::request_verifier v(keys);
  const auto r = v.verify(m, now);
  std::printf("%s\n", r ? "ok" : std::string(http::describe(r.failure())).c_str());
  return r ? 0 : 1;
}

/// One handshake of `Suite` over UDP, then N echoes (see the usage above).
template <class Suite>
int handshake_echo_server(char** a) {
  namespace hs = sepal::handshake;
  namespace net = sepal::net;
  auto root = sepal::private_key<sepal::p256>::load_pem(a[0]);
  if (!root) return 1;
  using server = net::udp_server<Suite>;
  typename server::config cfg{.handshake = {hs::server_identity<Suite>::root(std::move(*root)), {}}};
  std::atomic<int> left{std::stoi(a[2])};
  std::atomic<std::int64_t> last{0};
  const auto now = [] { return std::chrono::steady_clock::now().time_since_epoch().count(); };
  typename server::handlers h;
  h.on_connect = [](typename server::connection&) { std::fprintf(stderr, "established, suite %04x\n", Suite::id); };
  h.on_payload = [&](typename server::connection& c, std::span<const std::uint8_t> p) {
    c.send(p);  // re-sealed, to where the session is (docs/protocol.md §7.3)
    --left;
    if (std::string_view(reinterpret_cast<const char*>(p.data()), p.size()) == "bye") left = 0;
    last = now();
  };
  server srv(std::move(cfg), std::move(h));
  write_text(a[1], std::to_string(srv.local().port()));
  last = now();
  const auto idle = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(20)).count();
  while (left > 0 && now() - last < idle) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last echo leaves
  srv.stop();
  const auto st = srv.stats();
  std::fprintf(stderr, "handshakes completed %llu, failed %llu; migrations %llu, path challenges %llu\n",
               static_cast<unsigned long long>(st.handshakes_completed),
               static_cast<unsigned long long>(st.handshakes_failed), static_cast<unsigned long long>(st.migrations),
               static_cast<unsigned long long>(st.path_challenges_sent));
  return left > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 3;
  const std::string cmd = argv[1];
  if (cmd == "derive") return derive(argv + 2);
  if ((cmd == "http-sign" || cmd == "http-verify") && argc == 6) return http_command(cmd, argv + 2);
  if ((cmd == "http-sign-components" || cmd == "http-verify-components") && argc == 8)
    return http_components(cmd, argv + 2);
  if (cmd == "pki-make" && argc == 4) return pki_make(argv[2], argv[3]);
  if (cmd == "pki-verify" && argc >= 6) return pki_verify(argv + 2, argc - 2);
  if (cmd == "mtls-server" && argc == 7) return mtls_server(argv + 2);
  if (cmd == "mtls-client" && argc == 8) return mtls_client(argv + 2);
  if (cmd == "handshake-echo-server" && argc == 6) {
    const std::string suite = argv[2];
    if (suite == "7121") return handshake_echo_server<sepal::handshake::suite<sepal::secp256r1_mlkem768, sepal::p256>>(argv + 3);
    if (suite == "1121") return handshake_echo_server<sepal::handshake::default_suite>(argv + 3);
    return 3;
  }
  const std::string curve = argv[2];
  if (curve == "p256") return run<sepal::p256>(cmd, argv + 3);
  if (curve == "ed25519") return run<sepal::ed25519>(cmd, argv + 3);
  return 3;
}
