// HTTP signing keys hold HMAC secrets or private keys: move-only.
// expect-error: deleted
#include <sepal/http/keys.hpp>

int main() {
  auto key = sepal::http::signing_key::hmac_sha256(sepal::secret_bytes::copy_of(std::vector<std::uint8_t>(32, 1)));
#ifdef SEPAL_POSITIVE_CONTROL
  auto other = std::move(key);
#else
  auto other = key;
#endif
  (void)other;
}
