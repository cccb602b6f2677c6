// The README's example, compiled and run by CI.
#include <sepal/sepal.hpp>

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
  return 0;
}
