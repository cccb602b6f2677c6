// In a one-way pattern (Noise §7.4, here N) the responder only receives:
// its transport cannot seal a reply.
// expect-error: in a one-way pattern the responder only receives
#include <sepal/noise.hpp>

namespace noise = sepal::noise;
using proto = noise::protocol<noise::patterns::N, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;

int main() {
  const std::uint8_t prologue[1] = {0};
  auto hs = noise::responder<proto>(prologue, sepal::private_key<sepal::x25519>::generate());
  const std::uint8_t message[48] = {9};
  auto r = std::move(hs).read_message(message);
  const std::uint8_t payload[4] = {1, 2, 3, 4};
  std::uint8_t out[64];
#ifdef SEPAL_POSITIVE_CONTROL
  (void)r.value().next.open(std::span<const std::uint8_t>(out, 20), out);
#else
  (void)r.value().next.seal(payload, out);
#endif
  (void)payload;
}
