// Game clients for game_server: `game_client ROOT.pub.pem PORT CLIENTS SECONDS`.
// Each client thread has its own key, pins the server's root key, sends its
// position 60 times a second and reads the world snapshots; exits 0 when
// every client saw itself in the world.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <sepal/net.hpp>

int main(int argc, char** argv) {
  if (argc < 5) return std::fprintf(stderr, "usage: %s ROOT.pub.pem PORT CLIENTS SECONDS\n", argv[0]), 2;
  auto root = sepal::public_key<sepal::p256>::load_pem(argv[1]);
  if (!root) return std::fprintf(stderr, "cannot load %s\n", argv[1]), 1;
  const auto server = sepal::net::endpoint::loopback_v4(static_cast<std::uint16_t>(std::atoi(argv[2])));
  const int clients = std::atoi(argv[3]), seconds = std::atoi(argv[4]);
  std::atomic<int> saw_self{0}, snapshots{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto me = sepal::handshake::share(sepal::private_key<sepal::p256>::generate());
      std::uint64_t id = 0;
      std::memcpy(&id, me->public_key().fingerprint().data(), sizeof id);
      sepal::net::udp_client<> c({.handshake = {*root, me}, .server = server});
      if (!c.connect()) return;
      bool seen = false;
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
      for (auto next = std::chrono::steady_clock::now(); next < end; next += std::chrono::microseconds(16667)) {
        const std::uint32_t pos[2] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(next.time_since_epoch().count())};
        (void)c.send(std::span(reinterpret_cast<const std::uint8_t*>(pos), sizeof pos));  // 60 Hz
        while (auto snap = c.receive(std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now()))) {
          ++snapshots;
          for (std::size_t off = 0; off + 16 <= snap->size(); off += 16) seen |= std::memcmp(snap->data() + off, &id, 8) == 0;
        }
      }
      saw_self += seen ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  std::printf("%d of %d clients saw themselves in the world; %d snapshots received\n", saw_self.load(), clients, snapshots.load());
  return saw_self == clients ? 0 : 1;
}
