// A bare KEM is not a handshake key share: the hybrids pair ML-KEM with an
// elliptic-curve share (draft-ietf-tls-ecdhe-mlkem), and a handshake suite
// takes a curve or a hybrid only.
// expect-error: (constraints not satisfied|key_share)
#include <sepal/handshake/protocol.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  using suite = sepal::handshake::suite<sepal::x25519_mlkem768, sepal::ed25519>;
#else
  using suite = sepal::handshake::suite<sepal::ml_kem_768, sepal::ed25519>;
#endif
  return suite::id == 0 ? 1 : 0;
}
