// A certificate authority (and a TLS identity) owns its private key: lending
// a key by reference, which the CA would keep and sign through after the key
// is gone (finding 12), does not compile. Move it in or share it.
// expect-error: deleted
#include <sepal/pki/authority.hpp>

int main() {
  using key = sepal::private_key<sepal::p256>;
  auto root_key = key::generate();
#ifdef SEPAL_POSITIVE_CONTROL
  auto ca = sepal::pki::certificate_authority<sepal::p256>::create_root(std::move(root_key), {"root"}, 0, 1);
#else
  auto ca = sepal::pki::certificate_authority<sepal::p256>::create_root(root_key, {"root"}, 0, 1);
#endif
  (void)ca;
}
