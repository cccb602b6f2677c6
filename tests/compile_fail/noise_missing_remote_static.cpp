// IK's initiator must know the responder's static key in advance (the
// "<- s" pre-message, Noise §7.1): starting it without one does not compile.
// expect-error: needs the peer's static public key in advance
#include <sepal/noise.hpp>

namespace noise = sepal::noise;
using proto = noise::protocol<noise::patterns::IK, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;

int main() {
  auto mine = sepal::private_key<sepal::x25519>::generate();
  const std::uint8_t prologue[1] = {0};
#ifdef SEPAL_POSITIVE_CONTROL
  auto peer = sepal::private_key<sepal::x25519>::generate().public_key();
  auto hs = noise::initiator<proto>(prologue, std::move(mine), peer);
#else
  auto hs = noise::initiator<proto>(prologue, std::move(mine));
#endif
  (void)hs;
}
