// A request_verifier must not be built over a temporary key store: it would
// dangle (issue 12, finding 12). Share ownership with a std::shared_ptr.
// expect-error: deleted
#include <memory>

#include <sepal/http/verifier.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  sepal::http::request_verifier v(std::make_shared<sepal::http::memory_key_store>());
#else
  sepal::http::request_verifier v(sepal::http::memory_key_store{});
#endif
  (void)v;
}
