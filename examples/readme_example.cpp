// The README's example, compiled and run by CI.
#include <sepal/sepal.hpp>

#include <array>
#include <cassert>
#include <string_view>

int main() {
  // Keys and signatures (P-256 ECDSA with SHA-256, DER signatures).
  const auto key = sepal::private_key<sepal::p256>::generate();
  const std::string_view text = "hello";
  const std::span msg(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  const auto sig = sepal::sign(key, msg);
  assert(sepal::verify(key.public_key(), msg, sig));

  // Parsing a peer's key never throws: it returns a result.
  auto peer = sepal::public_key<sepal::p256>::from_der(key.public_key().to_der());
  if (!peer) return 1;

  // ECDH, then HKDF-SHA256 to an AES-256-GCM key.
  const auto eph = sepal::private_key<sepal::p256>::generate();
  auto shared = sepal::agree(eph, *peer);
  if (!shared) return 1;
  const auto okm = sepal::hkdf<sepal::sha256>::derive(shared->reveal(), {}, {}, 32);
  sepal::aead_key<sepal::aes256_gcm> aead(okm.reveal());
  (void)aead;

  // Sessions: one traffic secret per direction (a handshake provides them).
  // Each side derives its own and the session takes them over (moved in):
  // one secret can never become two sealers.
  auto secret = [&](std::string_view label) { return sepal::hkdf<sepal::sha256>::expand_label(okm.reveal(), label, {}, 32); };
  sepal::session<> client(secret("c ap"), secret("s ap"));  // sends c ap, receives s ap
  sepal::session<> server(secret("s ap"), secret("c ap"));
  const std::array<std::uint8_t, 4> connection_id{1, 2, 3, 4};
  const std::array<std::uint8_t, 5> payload{'h', 'e', 'l', 'l', 'o'};
  std::array<std::uint8_t, 1200 + sepal::session<>::overhead> packet{};
  std::array<std::uint8_t, 1200> buffer{};
  auto wire = client.seal(connection_id, payload, packet);  // never repeats a nonce
  auto got = server.open(connection_id, wire, buffer);       // result: payload or errc
  if (!got || got->size() != payload.size()) return 1;
  if (server.open(connection_id, wire, buffer).error() != sepal::errc::replayed) return 1;

  // A handshake: the pinned root public key authenticates the server.
  namespace hs = sepal::handshake;
  auto root_key = sepal::private_key<sepal::p256>::generate();
  const auto root_public_key = root_key.public_key();
  const std::uint64_t unix_time = 1'800'000'000;
  // The identity owns the key (moved in; share() it to use it twice).
  hs::server_config<hs::default_suite> server_cfg{hs::server_identity<hs::default_suite>::root(std::move(root_key)), {}};
  hs::client_config<hs::default_suite> client_cfg{root_public_key, nullptr};  // pinned root

  auto hs_client = hs::client_handshake<hs::default_suite>::start(client_cfg);  // send client.client_hello()
  const auto client_hello_bytes = hs_client.client_hello();
  auto hs_server = hs::server_handshake<hs::default_suite>::accept(server_cfg, client_hello_bytes);
  if (!hs_server) return 1;
  const auto server_hello_bytes = hs_server->server_hello();
  auto c = hs_client.receive(server_hello_bytes, unix_time);  // verifies signature + Finished
  if (!c) return 1;
  const auto client_finished_bytes = c->client_finished();
  auto s = hs_server->receive(client_finished_bytes);  // both sides now hold c->session(), s->session()
  if (!s) return 1;
  // The server's handshake-done packet confirms the handshake to the client
  // (until then, resend c->on_timer() every 200 ms: docs/protocol.md §7.2).
  const auto done_packet = s->handshake_done();
  if (!c->session().open({}, done_packet, buffer) || !c->confirmed()) return 1;
  auto p2 = c->session().seal({}, payload, packet);
  if (!s->session().open({}, p2, buffer)) return 1;

  // The same handshake with a post-quantum hybrid key share (X25519MLKEM768).
  using pq = hs::suite<sepal::x25519_mlkem768, sepal::ed25519, sepal::chacha20_poly1305>;  // suite id 0x6431
  auto pq_root = hs::share(sepal::private_key<sepal::ed25519>::generate());
  hs::server_config<pq> pq_server_cfg{hs::server_identity<pq>::root(pq_root), {}};
  hs::client_config<pq> pq_client_cfg{pq_root->public_key(), nullptr};
  auto pq_client = hs::client_handshake<pq>::start(pq_client_cfg);
  auto pq_server = hs::server_handshake<pq>::accept(pq_server_cfg, pq_client.client_hello());
  if (!pq_server) return 1;
  auto pc = pq_client.receive(pq_server->server_hello(), unix_time);
  if (!pc || !pq_server->receive(pc->client_finished())) return 1;
  return 0;
}
