// A server identity owns its key (hardening #12): lending it one by
// reference, which would leave a dangling signer behind a temporary, does
// not compile; moving or sharing it does.
// expect-error: deleted
#include <sepal/handshake/credentials.hpp>

int main() {
  namespace hs = sepal::handshake;
  auto key = sepal::private_key<sepal::p256>::generate();
#ifdef SEPAL_POSITIVE_CONTROL
  auto id = hs::server_identity<hs::default_suite>::root(std::move(key));
#else
  auto id = hs::server_identity<hs::default_suite>::root(key);
#endif
  (void)id;
}
