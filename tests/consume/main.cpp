// A downstream program: uses sepal the way an application would.
#include <sepal/sepal.hpp>

#include <cstdio>

int main() {
  const auto key = sepal::private_key<sepal::p256>::generate();
  const std::uint8_t msg[] = {'o', 'k'};
  const bool ok = sepal::verify(key.public_key(), msg, sepal::sign(key, msg));
  std::printf("consumer: sepal %s, signature %s\n", sepal::version_string, ok ? "verified" : "FAILED");
  return ok ? 0 : 1;
}
