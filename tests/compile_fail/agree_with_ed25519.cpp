// Ed25519 keys cannot do key agreement.
// expect-error: key_agreement
#include <sepal/kex.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  using C = sepal::x25519;
#else
  using C = sepal::ed25519;
#endif
  const auto a = sepal::private_key<C>::generate();
  const auto b = sepal::private_key<C>::generate();
  (void)sepal::agree(a, b.public_key());
}
