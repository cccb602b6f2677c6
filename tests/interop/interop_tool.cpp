// Test-only CLI that exposes sepal to the interop script (interop.py).
//   gen CURVE DIR                 -> DIR/key.pem DIR/pub.pem DIR/pub.der
//   sign CURVE KEY.pem MSG SIG    -> DER (ECDSA) / RFC 8032 (EdDSA) signature
//   verify CURVE PUB.pem MSG SIG  -> exit 0 when valid, 1 otherwise
//   pub CURVE KEY.pem             -> hex of the raw public key
//   derive KEY.pem PEER.pem       -> hex lines: ECDH secret, HKDF-SHA256 key,
//                                    AES-256-GCM(key, nonce 0^96, "sepal interop") ct||tag
// CURVE is p256 or ed25519.
#include <sepal/sepal.hpp>

#include <botan/hex.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::vector<std::uint8_t> read(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write(const std::string& path, std::span<const std::uint8_t> b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }
void print_hex(std::span<const std::uint8_t> b) { std::printf("%s\n", Botan::hex_encode(b.data(), b.size(), false).c_str()); }

template <class C>
int run(const std::string& cmd, char** a) {
  if (cmd == "gen") {
    const auto k = sepal::private_key<C>::generate();
    const std::string dir = a[0];
    k.save_pem(dir + "/key.pem");
    k.public_key().save_pem(dir + "/pub.pem");
    write(dir + "/pub.der", k.public_key().to_der());
    return 0;
  }
  if (cmd == "sign") {
    auto k = sepal::private_key<C>::load_pem(a[0]);
    if (!k) return 2;
    write(a[2], sepal::sign(*k, read(a[1])));
    return 0;
  }
  if (cmd == "verify") {
    auto p = sepal::public_key<C>::load_pem(a[0]);
    if (!p) return 2;
    return sepal::verify(*p, read(a[1]), read(a[2])) ? 0 : 1;
  }
  if (cmd == "pub") {
    auto k = sepal::private_key<C>::load_pem(a[0]);
    if (!k) return 2;
    print_hex(k->public_key().to_raw());
    return 0;
  }
  return 3;
}

int derive(char** a) {
  auto mine = sepal::private_key<sepal::p256>::load_pem(a[0]);
  auto peer = sepal::public_key<sepal::p256>::from_pem(text(read(a[1])));
  if (!mine || !peer) return 2;
  auto shared = sepal::agree(*mine, *peer);
  if (!shared) return 1;
  const std::string salt = "sepal-interop-salt", info = "sepal-interop-key", msg = "sepal interop";
  const auto key = sepal::hkdf<sepal::sha256>::derive(
      shared->reveal(), {reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()},
      {reinterpret_cast<const std::uint8_t*>(info.data()), info.size()}, 32);
  sepal::aead_key<sepal::aes256_gcm> aead(key.reveal());
  const std::array<std::uint8_t, 12> nonce{};
  std::vector<std::uint8_t> out(msg.size() + 16);
  const auto ct = aead.seal(nonce, {}, {reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()}, out);
  print_hex(shared->reveal());
  print_hex(key.reveal());
  print_hex(ct);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 3;
  const std::string cmd = argv[1];
  if (cmd == "derive") return derive(argv + 2);
  const std::string curve = argv[2];
  if (curve == "p256") return run<sepal::p256>(cmd, argv + 3);
  if (curve == "ed25519") return run<sepal::ed25519>(cmd, argv + 3);
  return 3;
}
