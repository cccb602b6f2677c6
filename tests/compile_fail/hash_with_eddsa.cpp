// Ed25519 signs the message itself (pure EdDSA): naming a hash is an error.
// expect-error: valid_signature_hash
#include <sepal/sign.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  const auto key = sepal::private_key<sepal::p256>::generate();
#else
  const auto key = sepal::private_key<sepal::ed25519>::generate();
#endif
  const std::uint8_t msg[] = {1};
  (void)sepal::sign<sepal::sha256>(key, msg);
}
