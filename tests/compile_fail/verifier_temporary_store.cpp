// A request_verifier must not be built over a key store passed by
// reference: it would keep a pointer to the caller's object (a temporary
// dangles at once; issue 12, finding 12). Share ownership with a
// std::shared_ptr. (The temporary case: a static_assert in
// tests/unit/test_request_auth.cpp.)
// expect-error: deleted
#include <memory>

#include <sepal/http/verifier.hpp>

int main() {
#ifdef SEPAL_POSITIVE_CONTROL
  auto store = std::make_shared<sepal::http::memory_key_store>();
  sepal::http::request_verifier v(store);
#else
  sepal::http::memory_key_store store;
  sepal::http::request_verifier v(store);
#endif
  (void)v;
}
