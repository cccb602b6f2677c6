// X25519 keys cannot sign.
// expect-error: signature_scheme
#include <sepal/sign.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  const auto key = sepal::private_key<sepal::ed25519>::generate();
#else
  const auto key = sepal::private_key<sepal::x25519>::generate();
#endif
  const std::uint8_t msg[] = {1};
  (void)sepal::sign(key, msg);
}
