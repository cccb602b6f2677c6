// ML-KEM decapsulation keys (and a client's hybrid key share, which holds
// one) are move-only.
// expect-error: deleted
#include <sepal/key_share.hpp>

int main() {
  auto a = sepal::decapsulation_key<sepal::ml_kem_768>::generate();
  auto s = sepal::key_share_client<sepal::x25519_mlkem768>::generate();
#ifdef SEPAL_POSITIVE_CONTROL
  auto b = std::move(a);
  auto t = std::move(s);
#else
  auto b = a;
  auto t = s;
#endif
  (void)b;
  (void)t;
}
