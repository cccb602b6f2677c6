// Only sepal's curve tags make keys; a hash tag is not a curve.
// expect-error: (constraints not satisfied|curve)
#include <sepal/keys.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  auto k = sepal::private_key<sepal::p256>::generate();
#else
  auto k = sepal::private_key<sepal::sha256>::generate();
#endif
  (void)k;
}
