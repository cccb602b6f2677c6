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
  const auto client_to_server_secret = sepal::hkdf<sepal::sha256>::expand_label(okm.reveal(), "c ap", {}, 32);
  const auto server_to_client_secret = sepal::hkdf<sepal::sha256>::expand_label(okm.reveal(), "s ap", {}, 32);
  sepal::session<> client(client_to_server_secret.reveal(), server_to_client_secret.reveal());
  sepal::session<> server(server_to_client_secret.reveal(), client_to_server_secret.reveal());
  const std::array<std::uint8_t, 4> connection_id{1, 2, 3, 4};
  const std::array<std::uint8_t, 5> payload{'h', 'e', 'l', 'l', 'o'};
  std::array<std::uint8_t, 1200 + sepal::session<>::overhead> packet{};
  std::array<std::uint8_t, 1200> buffer{};
  auto wire = client.seal(connection_id, payload, packet);  // never repeats a nonce
  auto got = server.open(connection_id, wire, buffer);       // result: payload or errc
  if (!got || got->size() != payload.size()) return 1;
  if (server.open(connection_id, wire, buffer).error() != sepal::errc::replayed) return 1;
  return 0;
}
