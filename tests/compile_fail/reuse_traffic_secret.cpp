// A sealer consumes its traffic secret (hardening #2): building one from a
// secret the caller keeps, so that a second sealer could reuse its key and
// nonces, does not compile; moving the secret in does.
// expect-error: deleted (function|constructor).*secret_bytes
#include <sepal/session.hpp>

int main() {
  auto secret = sepal::secret_bytes::copy_of(std::array<std::uint8_t, 32>{1});
#ifdef SEPAL_POSITIVE_CONTROL
  sepal::sealer<> first(std::move(secret));
#else
  sepal::sealer<> first(secret);
#endif
  (void)first;
}
