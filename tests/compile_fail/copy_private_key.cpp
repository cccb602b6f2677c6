// Private keys are move-only.
// expect-error: deleted
#include <sepal/keys.hpp>

int main() {
  auto a = sepal::private_key<sepal::p256>::generate();
#ifdef SEPAL_POSITIVE_CONTROL
  auto b = std::move(a);
#else
  auto b = a;
#endif
  (void)b;
}
