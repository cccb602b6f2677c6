// A tag whose Botan module is missing from the linked build stops the build
// with sepal's message, not a run-time Algorithm_Not_Found. The "missing"
// module is simulated by hiding its BOTAN_HAS_* macro.
// expect-error: needs a module that the linked Botan build lacks
#include <botan/build.h>
#ifndef SEPAL_POSITIVE_CONTROL
  #undef BOTAN_HAS_AEAD_CHACHA20_POLY1305
#endif
#include <sepal/aead.hpp>

int main() {
  auto k = sepal::aead_key<sepal::chacha20_poly1305>::generate();
  (void)k;
}
