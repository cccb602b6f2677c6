// A WireGuard-shaped Noise handshake over UDP on 127.0.0.1: IKpsk2 with
// X25519, ChaChaPoly and BLAKE2s (WireGuard's choice), then the datagram
// transport (explicit counters, replay window). The responder runs in a
// thread; the initiator knows its static key in advance (IK) and both share
// a PSK. See docs/noise.md.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>
#include <thread>
#include <vector>

#include <sepal/noise.hpp>

namespace noise = sepal::noise;
using wg = noise::protocol<noise::psk<noise::patterns::IK, 2>, sepal::x25519, sepal::chacha20_poly1305, sepal::blake2s>;
static_assert(wg::name == "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
using bytes = std::vector<std::uint8_t>;

// Minimal UDP on loopback: a bound socket, send to a port, receive one datagram.
struct udp {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{AF_INET, 0, {htonl(INADDR_LOOPBACK)}, {}};
  udp() {
    socklen_t n = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), n);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &n);
    const timeval five_seconds{5, 0};  // a lost datagram ends the example instead of hanging it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  }
  ~udp() { ::close(fd); }
  void send(std::span<const std::uint8_t> b, const sockaddr_in& to) const {
    ::sendto(fd, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  bytes receive(sockaddr_in* from = nullptr) const {
    bytes b(65535);
    socklen_t n = sizeof(sockaddr_in);
    const auto got = ::recvfrom(fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(from), from ? &n : nullptr);
    b.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    return b;
  }
};

static std::span<const std::uint8_t> text(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

int main() {
  auto server_key = sepal::private_key<sepal::x25519>::generate();
  const auto server_public = server_key.public_key();
  const bytes psk(32, 0x2a);  // in WireGuard: the optional per-peer preshared key
  const auto prologue = text("example.org wg v1");
  udp server, client;

  std::thread responder([&] {  // its static key and the PSK
    sockaddr_in peer{};
    auto hs = noise::responder<wg>(prologue, std::move(server_key), noise::pre_shared_key::copy_of(psk));
    auto first = std::move(hs).read_message(server.receive(&peer));  // -> e, es, s, ss
    if (!first) return;
    auto reply = std::move(first->next).write_message().value();    // <- e, ee, se, psk
    server.send(reply.message, peer);
    auto link = std::move(reply.next).into_datagram();               // explicit counters, replay window
    for (int i = 0; i < 3; ++i) {
      auto got = link.open(server.receive(&peer));
      if (got) server.send(link.seal(*got), peer);  // echo
    }
  });

  // The initiator: its static key, the server's public key (IK) and the PSK.
  auto hs = noise::initiator<wg>(prologue, sepal::private_key<sepal::x25519>::generate(), server_public,
                                 noise::pre_shared_key::copy_of(psk));
  auto hello = std::move(hs).write_message(text("timestamp")).value();
  client.send(hello.message, server.addr);
  auto done = std::move(hello.next).read_message(client.receive());
  if (!done) return std::fprintf(stderr, "handshake failed: %s\n", sepal::describe(done.error()).data()), 1;
  auto link = std::move(done->next).into_datagram();
  int echoed = 0;
  for (std::string_view m : {"one", "two", "three"}) {
    client.send(link.seal(text(m)), server.addr);
    auto back = link.open(client.receive());
    echoed += back && bytes(back->begin(), back->end()) == bytes(m.begin(), m.end());
  }
  responder.join();
  std::printf("IKpsk2 over UDP: %d/3 datagrams echoed, handshake hash %02x%02x...\n", echoed,
              link.handshake_hash()[0], link.handshake_hash()[1]);
  return echoed == 3 ? 0 : 1;
}
