// Secrets have no operator==: comparison must be constant_time_equal.
// expect-error: operator==
#include <sepal/secret.hpp>

int main() {
  const std::uint8_t raw[] = {1, 2};
  const auto a = sepal::secret_bytes::copy_of(raw);
  const auto b = sepal::secret_bytes::copy_of(raw);
#ifdef SEPAL_POSITIVE_CONTROL
  return sepal::constant_time_equal(a, b) ? 0 : 1;
#else
  return a == b ? 0 : 1;
#endif
}
