// An exchange gives one session: make_session() consumes the traffic keys,
// so it is callable only on an rvalue (`std::move(keys).make_session()`).
// On an lvalue it must not compile (issue 12, finding 2: two sessions from
// one exchange would seal under the same key and nonces).
// expect-error: deleted
#include <sepal/pake/spake2plus.hpp>

template <class Keys>
auto session_of(Keys& keys) {
#ifdef SEPAL_POSITIVE_CONTROL
  return std::move(keys).make_session();
#else
  return keys.make_session();
#endif
}

// Instantiated only through a reference: exchange_keys has no public
// constructor, which is the point (only a finished exchange makes one).
using keys_t = sepal::pake::exchange_keys<sepal::pake::p256_sha256>;
template auto session_of<keys_t>(keys_t&);

int main() {}
