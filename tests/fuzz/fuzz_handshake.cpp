// libFuzzer harness: every handshake message parser, through the public
// state machines: the server's ClientHello and ClientFinished, the client's
// ServerHello and HelloRetry, delegated credentials, and retry cookies. Invariants: nothing throws; nothing
// an attacker sends completes a handshake without the keys.

#include <cstdint>
#include <cstdlib>
#include <span>

#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/retry.hpp>

namespace {

namespace hs = sepal::handshake;
using suite = hs::default_suite;

void require(bool ok) {
  if (!ok) std::abort();
}

struct fixture {
  hs::shared_private_key<sepal::p256> root = hs::share(sepal::private_key<sepal::p256>::unsafe_test_key());
  hs::server_config<suite> server{hs::server_identity<suite>::root(root), {}};
  hs::client_config<suite> client{root->public_key(), nullptr};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {  // ClientHello at the server
      (void)hs::server_handshake<suite>::accept(f.server, in);
      break;
    }
    case 1: {  // ServerHello at a client that sent a real ClientHello
      auto c = hs::client_handshake<suite>::start(f.client);
      require(!c.receive(in, 0).has_value());  // the client's random is fresh: nothing recorded can pass
      break;
    }
    case 2: {  // ClientFinished at a server that answered a real ClientHello
      auto c = hs::client_handshake<suite>::start(f.client);
      auto s = hs::server_handshake<suite>::accept(f.server, c.client_hello());
      require(s.has_value());
      require(!s->receive(in).has_value());  // needs the client's handshake key
      break;
    }
    case 4: {  // the stateless validator on an arbitrary ClientHello: never accepts without a cookie it made
      static const hs::address_validator<suite> validator;
      const std::uint8_t address[] = {127, 0, 0, 1, 0x11, 0x51};
      const auto decision = validator.check(in, address, 1'800'000'000);
      require(decision.what() != hs::retry_decision::action::accept);  // the fuzzer cannot forge a valid cookie
      // Only a well-formed ClientHello is answered, and by less than it sent.
      if (decision.what() == hs::retry_decision::action::send_retry)
        require(hs::server_handshake<suite>::accept(f.server, in).has_value() &&
                decision.hello_retry().size() < in.size());
      break;
    }
    case 5: {  // a HelloRetry at a client: only one bound to its ClientHello changes anything
      auto c = hs::client_handshake<suite>::start(f.client);
      const auto hello = std::vector<std::uint8_t>(c.client_hello().begin(), c.client_hello().end());
      (void)c.receive(in, 1'800'000'000);
      require(std::ranges::equal(c.client_hello(), hello));  // the fuzzer does not know the client random
      break;
    }
    default: {  // delegated credential
      sepal::detail::wire_reader r(in);
      auto dc = hs::delegated_credential<suite>::decode(r);
      if (dc) require(!dc->verify(f.root->public_key(), 0).has_value());  // no clock: never valid
      break;
    }
  }
  return 0;
}
