// libFuzzer harness: every handshake message parser, through the public
// state machines: the server's ClientHello and ClientFinished, the client's
// ServerHello and HelloRetry, delegated credentials, and retry cookies; for a
// post-quantum hybrid suite (X25519MLKEM768) the ClientHello and ServerHello,
// and the hybrid key shares and ML-KEM keys and ciphertexts on their own.
// Invariants: nothing throws; nothing an attacker sends completes a
// handshake without the keys.

#include <cstdint>
#include <cstdlib>
#include <span>

#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/retry.hpp>

namespace {

namespace hs = sepal::handshake;
using suite = hs::default_suite;
using hybrid = hs::suite<sepal::x25519_mlkem768, sepal::p256>;

void require(bool ok) {
  if (!ok) std::abort();
}

struct fixture {
  hs::shared_private_key<sepal::p256> root = hs::share(sepal::private_key<sepal::p256>::unsafe_test_key());
  hs::server_config<suite> server{hs::server_identity<suite>::root(root), {}};
  hs::client_config<suite> client{root->public_key(), nullptr};
  hs::server_config<hybrid> hybrid_server{hs::server_identity<hybrid>::root(root), {}};
  hs::client_config<hybrid> hybrid_client{root->public_key(), nullptr};
  sepal::key_share_client<sepal::secp256r1_mlkem768> p256_share =
      sepal::key_share_client<sepal::secp256r1_mlkem768>::generate();
  sepal::decapsulation_key<sepal::ml_kem_768> dk = sepal::decapsulation_key<sepal::ml_kem_768>::generate();
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 10) {
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
    case 6: {  // a hybrid ClientHello at the server
      (void)hs::server_handshake<hybrid>::accept(f.hybrid_server, in);
      break;
    }
    case 7: {  // a hybrid ServerHello at a client that sent a real ClientHello
      auto c = hs::client_handshake<hybrid>::start(f.hybrid_client);
      require(!c.receive(in, 0).has_value());
      break;
    }
    case 8: {  // hybrid client shares at the server's step; ML-KEM keys parsed alone
      auto r = sepal::respond_to_key_share<sepal::secp256r1_mlkem768>(in);
      if (r) require(r->share.size() == sepal::secp256r1_mlkem768::server_share_size);
      (void)sepal::respond_to_key_share<sepal::x25519_mlkem768>(in);
      auto ek = sepal::encapsulation_key<sepal::ml_kem_768>::from_bytes(in);
      if (ek) require(std::ranges::equal(ek->to_bytes(), in));  // one encoding per key
      auto dk = sepal::decapsulation_key<sepal::ml_kem_768>::from_expanded(in);
      if (dk) require(std::ranges::equal(dk->to_expanded().reveal(), in));
      break;
    }
    case 9: {  // a server's hybrid share at the client; a ciphertext at a decapsulation key
      auto s = f.p256_share.finish(in);
      if (s) require(s->size() == sepal::secp256r1_mlkem768::shared_secret_size);
      auto k = f.dk.decapsulate(in);
      require(k.has_value() == (in.size() == sepal::ml_kem_768::ciphertext_size));  // implicit rejection
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
