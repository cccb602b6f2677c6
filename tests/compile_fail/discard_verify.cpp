// verify's result must be used ([[nodiscard]]).
// expect-error: ignoring return value
#include <sepal/sign.hpp>

int main() {
  const auto key = sepal::private_key<sepal::p256>::generate();
  const std::uint8_t msg[] = {1};
  const auto sig = sepal::sign(key, msg);
#ifdef SEPAL_POSITIVE_CONTROL
  return sepal::verify(key.public_key(), msg, sig) ? 0 : 1;
#else
  sepal::verify(key.public_key(), msg, sig);
#endif
}
