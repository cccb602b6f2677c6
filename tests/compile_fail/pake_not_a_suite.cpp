// SPAKE2+ runs only on RFC 9383 ciphersuites: a curve is not a suite, and the
// constraint says so instead of failing deep inside the group code.
// expect-error: spake2plus_suite
#include <sepal/pake/spake2plus.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  using suite = sepal::pake::p384_sha512;
#else
  using suite = sepal::p384;
#endif
  sepal::pake::prover<suite>* p = nullptr;
  (void)p;
}
