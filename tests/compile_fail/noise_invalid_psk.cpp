// A psk modifier beyond the pattern's last message (NN has two messages, so
// psk3 has nowhere to go, Noise §9.2) does not compile; psk2 does.
// expect-error: pskN needs N <= the number of messages
#include <sepal/noise.hpp>

namespace noise = sepal::noise;

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  using pattern = noise::psk<noise::patterns::NN, 2>;
#else
  using pattern = noise::psk<noise::patterns::NN, 3>;
#endif
  using proto = noise::protocol<pattern, sepal::x25519, sepal::chacha20_poly1305, sepal::sha256>;
  return static_cast<int>(proto::name.size());
}
