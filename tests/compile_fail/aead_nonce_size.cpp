// AEAD nonces have a fixed size, checked at compile time.
// expect-error: (no matching function|cannot convert|could not convert)
#include <array>
#include <sepal/aead.hpp>

int main() {
  auto k = sepal::aead_key<sepal::aes256_gcm>::generate();
#ifdef SEPAL_POSITIVE_CONTROL
  std::array<std::uint8_t, 12> nonce{};
#else
  std::array<std::uint8_t, 8> nonce{};
#endif
  std::array<std::uint8_t, 32> buf{};
  (void)k.seal(nonce, {}, std::span(buf).first(16), buf);
}
