// The responder's first step is reading the initiator's message: writing
// there does not compile (Noise §5.3: messages alternate, initiator first).
// expect-error: it is the peer's turn: call read_message, not write_message
#include <sepal/noise.hpp>

namespace noise = sepal::noise;
using proto = noise::protocol<noise::patterns::NN, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;

int main() {
  const std::uint8_t prologue[1] = {0};
  auto hs = noise::responder<proto>(prologue);
#ifdef SEPAL_POSITIVE_CONTROL
  const std::uint8_t message[32] = {9};
  auto next = std::move(hs).read_message(message);
#else
  auto next = std::move(hs).write_message();
#endif
  (void)next;
}
