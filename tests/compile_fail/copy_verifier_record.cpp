// Verifier records hold w0 (and prover secrets w0 and w1): move-only, so no
// stray copies of password-derived secrets are left unwiped.
// expect-error: deleted
#include <sepal/pake/registration.hpp>

int main() {
  auto secrets = sepal::pake::prover_secrets<>::from_seed(std::vector<std::uint8_t>(80, 1));
  auto record = sepal::pake::verifier_record<>::create(secrets, sepal::pake::password_kdf::external(), {});
#ifdef SEPAL_POSITIVE_CONTROL
  auto copy = std::move(record);
#else
  auto copy = record;
#endif
  (void)copy;
}
