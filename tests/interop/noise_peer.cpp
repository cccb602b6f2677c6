// sepal's side of the noise-c interop suite (tests/interop/noise_c.mjs): one
// Noise session over stdin/stdout, driven by the run-time name entry point.
//
// usage: sepal-noise-peer NAME initiator|responder S RS PSK PROLOGUE TRANSPORT_COUNT
//   S, RS, PSK, PROLOGUE: hex or '-'. S/RS are passed only where the pattern
//   needs them (a key the pattern does not use is refused); PSK is used for
//   every psk token.
// Protocol (one line each): "msg <hex>" for every message either way; after
// the handshake sepal prints "hash <hex>" and "remote <hex>" (if any); then
// TRANSPORT_COUNT transport messages alternate, initiator first; "done" at
// the end. Handshake payloads are "hs <i> from <side>", transport payloads
// "transport <j> from <side>" followed by j*37 'x' bytes; each received
// payload is checked. Exits 1 with "error ..." on any mismatch.

#include <botan/hex.h>

#include <iostream>
#include <string>
#include <vector>

#include <sepal/noise.hpp>

namespace noise = sepal::noise;
using bytes = std::vector<std::uint8_t>;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::cout << "error " << what << std::endl;
  std::exit(1);
}

bytes payload(const std::string& kind, std::size_t i, const char* side) {
  std::string s = kind + " " + std::to_string(i) + " from " + side;
  if (kind == "transport") s += std::string(i * 37, 'x');
  return bytes(s.begin(), s.end());
}

void send(const bytes& m) { std::cout << "msg " << Botan::hex_encode(m, false) << std::endl; }

bytes receive() {
  std::string line;
  if (!std::getline(std::cin, line)) fail("peer closed");
  if (line.rfind("msg ", 0) != 0) fail("unexpected line: " + line);
  return Botan::hex_decode(line.substr(4));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) fail("usage: sepal-noise-peer NAME initiator|responder S RS PSK PROLOGUE TRANSPORT_COUNT");
  const std::string name = argv[1];
  const bool initiator = std::string(argv[2]) == "initiator";
  const auto me = initiator ? noise::role::initiator : noise::role::responder;
  const char* mine = "sepal";
  const char* theirs = "noise-c";
  auto parts = noise::parse_protocol_name(name);
  if (!parts) fail("unsupported name " + name);
  const auto& p = parts->pattern;
  const auto arg = [&](int i) { return std::string(argv[i]) == "-" ? bytes() : Botan::hex_decode(argv[i]); };
  const bytes prologue = arg(6);
  noise::dynamic_keys keys;
  keys.prologue = prologue;
  if (p.needs_local_static(me)) keys.local_static = sepal::secret_bytes::copy_of(arg(3));
  if (p.needs_remote_static(me)) keys.remote_static = arg(4);
  for (std::size_t i = 0; i < p.psk_count(); ++i) keys.psks.push_back(sepal::secret_bytes::copy_of(arg(5)));
  auto hs = noise::dynamic_handshake::create(name, me, std::move(keys));
  if (!hs) fail("create: " + std::string(sepal::describe(hs.error())));
  for (std::size_t i = 0; !hs->is_complete(); ++i) {
    if (hs->my_turn()) {
      auto m = hs->write_message(payload("hs", i, mine));
      if (!m) fail("write_message: " + std::string(sepal::describe(m.error())));
      send(*m);
    } else {
      auto pl = hs->read_message(receive());
      if (!pl) fail("read_message " + std::to_string(i) + ": " + std::string(sepal::describe(pl.error())));
      if (*pl != payload("hs", i, theirs)) fail("handshake payload " + std::to_string(i) + " differs");
    }
  }
  std::cout << "hash " << Botan::hex_encode(hs->handshake_hash().data(), hs->handshake_hash().size(), false) << std::endl;
  if (auto rs = hs->remote_static()) std::cout << "remote " << Botan::hex_encode(*rs, false) << std::endl;
  auto t = std::move(*hs).into_transport();
  if (!t) fail("split");
  const std::size_t count = std::stoul(argv[7]);
  for (std::size_t j = 0; j < count; ++j) {
    const bool i_send = (j % 2 == 0) == initiator;
    if (i_send) {
      send(t->seal(payload("transport", j, mine)));
    } else {
      auto pl = t->open(receive());
      if (!pl) fail("open " + std::to_string(j) + ": " + std::string(sepal::describe(pl.error())));
      if (*pl != payload("transport", j, theirs)) fail("transport payload " + std::to_string(j) + " differs");
    }
  }
  std::cout << "done" << std::endl;
  return 0;
}
