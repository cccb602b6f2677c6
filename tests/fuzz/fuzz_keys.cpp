// libFuzzer harness: key parsing (DER, PEM, raw), peer keys in key agreement
// and DER signatures, through sepal's public API. The first byte picks the
// parser. Invariants: nothing throws out of the non-throwing API, and every
// key that parses re-encodes to a key that parses to the same key.
//
// Built with -Dfuzz=true (clang, -fsanitize=fuzzer); under gcc it links with
// replay.cpp and replays the committed corpus as an ordinary test.

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include <sepal/kex.hpp>
#include <sepal/keys.hpp>
#include <sepal/sign.hpp>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

template <class C>
void public_round_trip(const sepal::result<sepal::public_key<C>>& k) {
  if (!k) return;
  require(*sepal::public_key<C>::from_der(k->to_der()) == *k);
  require(*sepal::public_key<C>::from_raw(k->to_raw()) == *k);
}

template <class C>
void private_round_trip(const sepal::result<sepal::private_key<C>>& k) {
  if (!k) return;
  const auto back = sepal::private_key<C>::from_der(k->to_der().reveal());
  require(back.has_value() && back->public_key() == k->public_key());
}

std::string_view text(std::span<const std::uint8_t> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 12) {
    case 0: public_round_trip(sepal::public_key<sepal::p256>::from_der(in)); break;
    case 1: public_round_trip(sepal::public_key<sepal::p256>::from_pem(text(in))); break;
    case 2: public_round_trip(sepal::public_key<sepal::p256>::from_raw(in)); break;
    case 3: public_round_trip(sepal::public_key<sepal::x25519>::from_raw(in)); break;
    case 4: public_round_trip(sepal::public_key<sepal::ed25519>::from_der(in)); break;
    case 5: public_round_trip(sepal::public_key<sepal::p384>::from_der(in)); break;
    case 6: private_round_trip(sepal::private_key<sepal::p256>::from_der(in)); break;
    case 7: private_round_trip(sepal::private_key<sepal::p256>::from_pem(text(in))); break;
    case 8: private_round_trip(sepal::private_key<sepal::ed25519>::from_der(in)); break;
    case 9: {
      static const auto mine = sepal::private_key<sepal::p256>::unsafe_test_key();
      (void)sepal::agree(mine, in);
      break;
    }
    case 10: {
      static const auto mine = sepal::private_key<sepal::x25519>::unsafe_test_key();
      (void)sepal::agree(mine, in);
      break;
    }
    default: {
      static const auto pub = sepal::private_key<sepal::p256>::unsafe_test_key().public_key();
      static const std::uint8_t msg[] = {'s', 'a', 'm', 'p', 'l', 'e'};
      (void)sepal::verify(pub, msg, in);
      break;
    }
  }
  return 0;
}
